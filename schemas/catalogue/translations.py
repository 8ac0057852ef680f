"""Catalogue texts in several languages and tax rates (docs/i18n.md "Catalogue
translations"; docs/documents.md "Tax").

- `Translations`: the `translations` input of packages, itinerary days and stations,
  an object keyed by language code (every one of LANGUAGES but the original,
  BABEL_DEFAULT_LOCALE: `de`, `es`), each value an object of the translated fields.
- `Localized`: a text field that answers the text in the caller's language
  (core.i18n.localized: the non-empty translation, else the original).
- `TaxRate`: a VAT rate in percent as a decimal string (`"13.50"`), 0-100, at most
  two places; `null` (and a missing rate) means DEFAULT_TAX_RATE, which is what
  answers show then.
"""

from decimal import Decimal

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate

from core.i18n import _, localized
from schemas.common import NO_NUL, NOT_BLANK, require_decimal_string

TRANSLATED_TITLE = [validate.Length(min=1, max=200), NOT_BLANK]
TRANSLATED_TEXT = [validate.Length(max=10_000), NO_NUL]
TRANSLATED_NAME = [validate.Length(min=1, max=160), NOT_BLANK]
LANGUAGE_EXAMPLE = {
    "de": {"title": "Lissabon und Sintra im Frühling"},
    "es": {"title": "Lisboa y Sintra en primavera"},
}


def translated_languages() -> tuple[str, ...]:
    """The language codes a translation may carry: LANGUAGES without the original
    language of catalogue texts (BABEL_DEFAULT_LOCALE)."""
    config = current_app.config
    return tuple(
        code for code in config["LANGUAGES"] if code != config["BABEL_DEFAULT_LOCALE"]
    )


def _check_language(code: str) -> None:
    """ValidationError unless `code` is one of translated_languages()."""
    allowed = translated_languages()
    if code not in allowed:
        raise ValidationError(
            _(
                "Must be one of: %(languages)s (the original text is English).",
                languages=", ".join(allowed),
            )
        )


class TextTranslationSchema(Schema):
    """The translated title and description of a package or an itinerary day."""

    title = fields.String(
        validate=TRANSLATED_TITLE, metadata={"example": "Ankunft in Lissabon"}
    )
    description = fields.String(
        validate=TRANSLATED_TEXT,
        metadata={"example": "Transfer zum Hotel, Abendspaziergang durch die Alfama."},
    )


class NameTranslationSchema(Schema):
    """The translated name of a station or a city."""

    name = fields.String(
        validate=TRANSLATED_NAME, metadata={"example": "Dublin Busbahnhof"}
    )


def Translations(values: type[Schema], **kwargs) -> fields.Dict:  # noqa: N802
    """A `translations` field: `{"de": {...}, "es": {...}}` with `values` as the
    schema of each language's object (unknown fields refused); `null` clears the
    translations. Languages other than translated_languages() are a 422."""
    metadata = {
        "description": "Texts in other languages, keyed by language code (de, "
        "es); answers show the text in the caller's language with a fallback to "
        "the original (docs/i18n.md).",
    }
    metadata.update(kwargs.pop("metadata", {}))
    return fields.Dict(
        keys=fields.String(validate=_check_language),
        values=fields.Nested(values),
        allow_none=True,
        metadata=metadata,
        **kwargs,
    )


def _lookup(obj, path: str):
    """`path` (dotted) read from `obj`, through mappings and attributes; None when
    any step is missing."""
    for part in path.split("."):
        if obj is None:
            return None
        obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
    return obj


class Localized(fields.String):
    """A catalogue text in the caller's language: `translations[locale][key]` of
    the object when non-empty, else the original value. `translations` is the
    (dotted) path of the translations from the dumped object (default
    `translations`, e.g. `station.translations` for a `station.name`); `key` the
    field inside each language (default: the schema field's name)."""

    def __init__(self, *, translations: str = "translations", key=None, **kwargs):
        super().__init__(**kwargs)
        self.translations_path = translations
        self.translation_key = key

    def _serialize(self, value, attr, obj, **kwargs):
        """The translated text for the current locale, else `value`."""
        text = localized(
            value,
            self.translation_key or attr,
            _lookup(obj, self.translations_path),
        )
        return super()._serialize(text, attr, obj, **kwargs)


class TaxRate(fields.Decimal):
    """A VAT rate in percent, a decimal string 0-100 with at most two places
    (`"13.50"`); `null` means DEFAULT_TAX_RATE. Answers show the effective rate:
    the stored one, else DEFAULT_TAX_RATE (docs/documents.md "Tax"); answer
    schemas pass `allow_none=False`, so the spec says they are never null."""

    def __init__(self, **kwargs):
        metadata = {
            "example": "13.50",
            "pattern": r"^\d{1,3}(\.\d{1,2})?$",
            "description": "VAT in percent included in the prices (0-100); null "
            "means the default rate (DEFAULT_TAX_RATE), which answers then show.",
        }
        metadata.update(kwargs.pop("metadata", {}))
        kwargs.setdefault("allow_none", True)
        super().__init__(
            places=2, as_string=True, allow_nan=False, metadata=metadata, **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        """Parse a decimal string 0-100 with at most two places."""
        require_decimal_string(value)
        rate = super()._deserialize(value, attr, data, **kwargs)
        if not Decimal(0) <= rate <= Decimal(100):
            raise ValidationError(_("Must be between 0 and 100."))
        if "." in value and len(value.split(".")[1]) > 2:
            raise ValidationError(_("At most 2 decimal places."))
        return rate

    def _serialize(self, value, attr, obj, **kwargs):
        """The stored rate, else DEFAULT_TAX_RATE, with two places."""
        if value is None:
            value = Decimal(current_app.config["DEFAULT_TAX_RATE"])
        return super()._serialize(value, attr, obj, **kwargs)
