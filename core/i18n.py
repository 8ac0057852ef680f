"""Languages: the caller's locale, translated texts and locale-aware formats
(docs/i18n.md).

Flask-Babel with message catalogues under `translations/` (`make translations`
extracts and compiles them). The locale of a request is the signed-in account's
`locale`, else the best match of `Accept-Language` among LANGUAGES, else
BABEL_DEFAULT_LOCALE; every answer says it in `Content-Language`. Work done for
someone other than the caller (a mail to a customer, a document) runs inside
`in_locale(...)` with that person's locale.
"""

from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

from babel import numbers
from flask import Flask, current_app, has_request_context, request
from flask_babel import (
    Babel,
    force_locale,
    format_date,
    format_datetime,
    get_locale,
    ngettext,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import get_current_user
from sqlalchemy.exc import SQLAlchemyError

__all__ = [
    "_",
    "_l",
    "current_locale",
    "date_text",
    "format_date",
    "format_datetime",
    "in_locale",
    "init_i18n",
    "localized",
    "money",
    "ngettext",
    "supported_locale",
]

babel = Babel()


def supported_locale(value: str | None) -> str | None:
    """`value` (`de`, `de-AT`, `DE_at`) as one of LANGUAGES (`de`), or None when it
    names no supported language."""
    if not value:
        return None
    language = value.replace("_", "-").split("-", 1)[0].lower()
    return language if language in current_app.config["LANGUAGES"] else None


def select_locale() -> str:
    """Flask-Babel's locale selector: the signed-in account's `locale`, else the
    best `Accept-Language` match (RFC 9110 section 12.5.4 q-values), else the
    default."""
    if has_request_context():
        try:
            account = get_current_user()
        except RuntimeError:  # no verified token in this request
            account = None
        try:
            chosen = supported_locale(getattr(account, "locale", None))
        except SQLAlchemyError:
            # The account's row was expired by a rollback and the database is
            # gone (an error answer being built): the header decides.
            chosen = None
        if chosen:
            return chosen
        match = request.accept_languages.best_match(current_app.config["LANGUAGES"])
        if match:
            return match
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    """The language in force now (`en`, `de` or `es`)."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


@contextmanager
def in_locale(locale: str | None):
    """Run the block in `locale` (one of LANGUAGES; None or unsupported: the
    default), e.g. to render a customer's mail in their language from a staff
    request or a worker."""
    chosen = supported_locale(locale) or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(chosen):
        yield chosen


def money(amount: Decimal | int | float, currency: str) -> str:
    """`amount` of `currency` (ISO 4217) formatted for the current locale, e.g.
    `€1,234.50` (en), `1.234,50 €` (de, es)."""
    return numbers.format_currency(amount, currency, locale=current_locale())


def localized(value, field: str, translations: dict | None) -> str:
    """A catalogue text in the current language: `translations[locale][field]`
    when given and non-empty, else `value` (the original)."""
    if translations:
        text = (translations.get(current_locale()) or {}).get(field)
        if text:
            return text
    return value


def date_text(value: date | datetime, form: str = "medium") -> str:
    """A date (or the date of a datetime) in the current locale's `form`."""
    if isinstance(value, datetime):
        return format_datetime(value, form)
    return format_date(value, form)


def init_i18n(app: Flask) -> None:
    """Install Flask-Babel (gettext in Jinja templates too) and the
    `Content-Language` header on every answer."""
    babel.init_app(app, locale_selector=select_locale)

    @app.after_request
    def _content_language(response):
        response.headers.setdefault("Content-Language", current_locale())
        vary = response.headers.get("Vary", "")
        if "Accept-Language" not in vary:
            response.headers["Vary"] = ", ".join(
                part for part in (vary, "Accept-Language") if part
            )
        return response
