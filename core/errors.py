"""One error shape for the whole API: RFC 9457 problem details.

Every error leaves as `application/problem+json` with `type`, `title`, `status`,
`detail` and, for validation errors, `errors` keyed by field. `title`, `detail`
and the `errors` messages are in the caller's language (docs/i18n.md "What is
translated"); `type` (the `code`) never changes: clients key on it.
"""

import logging
import re

from flask import current_app, jsonify
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import InternalServerError

from core.i18n import _, _l


def N_(text: str) -> str:  # noqa: N802 - the gettext marker name
    """Mark `text` for the message catalogue without translating it now: problem()
    looks every plain-string `detail` and `errors` message up in the catalogue
    when it answers, so a constant marked N_ is answered in the caller's
    language."""
    return text


class ProblemSchema(Schema):
    """RFC 9457 problem details, the shape of every error response. Extension
    members (e.g. `seats_left`, `current_status`, `allowed`) may follow the standard
    ones (RFC 9457 section 3.2), so other properties are allowed."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(
        required=True, metadata={"example": "/problems/validation-error"}
    )
    title = fields.String(required=True, metadata={"example": "Unprocessable Content"})
    status = fields.Integer(required=True, metadata={"example": 422})
    detail = fields.String(
        required=True, metadata={"example": "The request is not valid; see `errors`."}
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=False,
        metadata={"example": {"seats": ["Must be greater than or equal to 1."]}},
    )


log = logging.getLogger(__name__)

PROBLEM_MIME = "application/problem+json"
# RFC 9457 section 3.1 members; `extra` may not overwrite them.
PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})


class APIError(Exception):
    """A business-rule error raised by services and turned into a problem response.

    `status` is the HTTP status, `detail` a human sentence, `code` a stable slug used
    as the problem `type` (`/problems/<code>`), `extra` members merged into the body
    (e.g. `seats_left`), `headers` added to the response (e.g. `Retry-After`).
    """

    def __init__(self, status, detail, *, code=None, extra=None, headers=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.extra = extra or {}
        self.headers = headers or {}


class NotFound(APIError):
    """404: the resource does not exist, or is not the caller's to see."""

    def __init__(self, what="Resource"):
        super().__init__(
            404,
            _("%(what)s not found.", what=_resource_name(what)),
            code="not-found",
        )


class Conflict(APIError):
    """409: the request conflicts with the resource's current state."""

    def __init__(self, detail, *, code="conflict", extra=None):
        super().__init__(409, detail, code=code, extra=extra)


class Forbidden(APIError):
    """403: authenticated, but this role or rule does not allow the action."""

    def __init__(self, detail=None, *, code="forbidden"):
        super().__init__(403, detail or _("You are not allowed to do this."), code=code)


class ValidationFailed(APIError):
    """422 from a service for a rule a schema cannot express; `errors` per field."""

    def __init__(self, errors, detail=None):
        super().__init__(
            422,
            detail or _("The request body is not valid."),
            code="validation-error",
            extra={"errors": errors},
        )


# Lazy: each answer resolves them in the caller's language.
TITLES = {
    400: _l("Bad Request"),
    401: _l("Unauthorized"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    409: _l("Conflict"),
    413: _l("Content Too Large"),
    415: _l("Unsupported Media Type"),
    422: _l("Unprocessable Content"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
    503: _l("Service Unavailable"),
}
ERROR_TITLE = _l("Error")

# What NotFound(what) names, in the caller's language (other names stay as given).
RESOURCE_NAMES = {
    "Activity": _l("Activity"),
    "Amenity": _l("Amenity"),
    "Booking": _l("Booking"),
    "City": _l("City"),
    "Company": _l("Company"),
    "Credit note": _l("Credit note"),
    "Customer": _l("Customer"),
    "Delivery": _l("Delivery"),
    "Departure": _l("Departure"),
    "Employee": _l("Employee"),
    "Enquiry": _l("Enquiry"),
    "Invoice": _l("Invoice"),
    "Lost reason": _l("Lost reason"),
    "Merge request": _l("Merge request"),
    "Outbox message": _l("Outbox message"),
    "Package": _l("Package"),
    "Payment intent": _l("Payment intent"),
    "Quote": _l("Quote"),
    "Refund": _l("Refund"),
    "Resource": _l("Resource"),
    "Route": _l("Route"),
    "Schedule": _l("Schedule"),
    "Station": _l("Station"),
    "Ticket": _l("Ticket"),
    "Trip": _l("Trip"),
    "Vehicle": _l("Vehicle"),
    "Webhook endpoint": _l("Webhook endpoint"),
}

# Werkzeug's default descriptions (English kept verbatim) and other framework texts,
# marked for the catalogue; problem() translates them when it answers.
FRAMEWORK_DETAILS = (
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_(
        "The server could not verify that you are authorized to access the URL "
        "requested. You either supplied the wrong credentials (e.g. a bad "
        "password), or your browser doesn't understand how to supply the "
        "credentials required."
    ),
    N_(
        "You don't have the permission to access the requested resource. It is "
        "either read-protected or not readable by the server."
    ),
    N_(
        "The requested URL was not found on the server. If you entered the URL "
        "manually please check your spelling and try again."
    ),
    N_("The method is not allowed for the requested URL."),
    N_("The data value transmitted exceeds the capacity limit."),
    N_("The server does not support the media type transmitted in the request."),
    N_("This user has exceeded an allotted request count. Try again later."),
    N_(
        "The server encountered an internal error and was unable to complete your "
        "request. Either the server is overloaded or there is an error in the "
        "application."
    ),
)

# marshmallow's and webargs' default messages without parameters (and the
# project's own constant schema messages), looked up as they are.
VALIDATION_MESSAGES = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Unknown field."),
    N_("Invalid input type."),
    N_("Invalid type."),
    N_("Invalid input."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid decimal."),
    N_("Not a valid boolean."),
    N_("Not a valid datetime."),
    N_("Not a valid date."),
    N_("Not a valid time."),
    N_("Not a valid period of time."),
    N_("Not a valid list."),
    N_("Not a valid tuple."),
    N_("Not a valid mapping type."),
    N_("Not a valid email address."),
    N_("Not a valid URL."),
    N_("Not a valid UUID."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_("String does not match expected pattern."),
    N_("Not a valid IP address."),
    N_("Must not contain NUL characters."),
    N_("Must not be blank."),
    N_("Use digits, spaces, + ( ) -."),
    N_("Use 2 to 20 letters and digits, e.g. DE123456789."),
    N_("The code has 6 digits."),
)

# Default messages with parameters: marshmallow's template (`{name}`) and the
# msgid that replaces it (`%(name)s`).
_TEMPLATES = (
    ("Must be one of: {choices}.", N_("Must be one of: %(choices)s.")),
    (
        "Length must be between {min} and {max}.",
        N_("Length must be between %(min)s and %(max)s."),
    ),
    ("Shorter than minimum length {min}.", N_("Shorter than minimum length %(min)s.")),
    ("Longer than maximum length {max}.", N_("Longer than maximum length %(max)s.")),
    ("Length must be {equal}.", N_("Length must be %(equal)s.")),
    (
        "Must be greater than or equal to {min} and less than or equal to {max}.",
        N_(
            "Must be greater than or equal to %(min)s and less than or equal to "
            "%(max)s."
        ),
    ),
    (
        "Must be greater than {min} and less than {max}.",
        N_("Must be greater than %(min)s and less than %(max)s."),
    ),
    (
        "Must be greater than or equal to {min}.",
        N_("Must be greater than or equal to %(min)s."),
    ),
    ("Must be greater than {min}.", N_("Must be greater than %(min)s.")),
    (
        "Must be less than or equal to {max}.",
        N_("Must be less than or equal to %(max)s."),
    ),
    ("Must be less than {max}.", N_("Must be less than %(max)s.")),
    ("Must be equal to {other}.", N_("Must be equal to %(other)s.")),
    (
        "One or more of the choices you made was not in: {choices}.",
        N_("One or more of the choices you made was not in: %(choices)s."),
    ),
    (
        "The request body is larger than {limit} bytes.",
        N_("The request body is larger than %(limit)s bytes."),
    ),
)


def _pattern(template: str) -> re.Pattern:
    """A regex matching `template` with each `{name}` as a named group."""
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
        for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$", re.DOTALL)


PARAMETRISED = tuple((_pattern(english), msgid) for english, msgid in _TEMPLATES)


def _resource_name(what) -> str:
    """`what` of NotFound in the current language when it is a known name."""
    name = RESOURCE_NAMES.get(what) if isinstance(what, str) else None
    return str(name) if name is not None else str(what)


def translate_text(text) -> str:
    """A problem text in the current language: a lazy string resolved, a plain
    string looked up in the catalogue, a known parametrised default message
    (e.g. `Must be one of: a, b.`) rebuilt from its msgid; anything else as it
    is (already translated, or not in the catalogue)."""
    if not isinstance(text, str):
        return str(text)
    if not text:
        return text
    translated = _(text)
    if translated != text:
        return translated
    for pattern, msgid in PARAMETRISED:
        match = pattern.match(text)
        if match:
            return _(msgid, **match.groupdict())
    return text


def _translated_errors(errors):
    """`errors` (field -> messages, a list or a bare string) with every message
    translated (translate_text); other shapes are passed through."""
    if not isinstance(errors, dict):
        return errors
    out = {}
    for field, messages in errors.items():
        if isinstance(messages, (list, tuple)):
            out[field] = [
                translate_text(m) if isinstance(m, str) else m for m in messages
            ]
        elif isinstance(messages, str):
            out[field] = [translate_text(messages)]
        else:
            out[field] = messages
    return out


def problem(status, detail, *, code=None, extra=None, headers=None):
    """Build a problem-details response.

    `status` int HTTP status; `detail` str; `code` slug for `type` (defaults to
    `about:blank` per RFC 9457 section 4.2.1); `extra` dict merged into the body,
    except keys named like the RFC 9457 members (type, title, status, detail, instance),
    which are dropped so an extension member can never overwrite them (RFC 9457
    section 3.2: extensions must not change the members' meaning). The title,
    `detail` and the messages of an `errors` member are answered in the current
    language (translate_text; docs/i18n.md).
    """
    body = {
        "type": f"/problems/{code}" if code else "about:blank",
        "title": str(TITLES.get(status, ERROR_TITLE)),
        "status": status,
        "detail": translate_text(detail),
    }
    body.update(
        (key, _translated_errors(value) if key == "errors" else value)
        for key, value in (extra or {}).items()
        if key not in PROBLEM_MEMBERS
    )
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIME
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _flatten(messages, prefix=""):
    """Flatten marshmallow's nested error dict into `{"field.sub": ["msg", ...]}`."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema" and not prefix:
                name = "_schema"
            flat.update(_flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = messages
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(_flatten(value, f"{prefix}.{index}"))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def _validation_errors(error):
    """Per-field errors from a webargs abort, merged over locations (json, query...)."""
    messages = getattr(error, "data", {}).get("messages", {}) or {}
    errors = {}
    for location, by_field in messages.items():
        for field, msgs in _flatten(by_field).items():
            key = (
                field
                if location in ("json", "files", "form")
                else f"{location}.{field}"
            )
            errors[key] = msgs
    return errors


class ProblemApi(Api):
    """flask-smorest Api whose HTTP errors are problem details and keep their headers
    (`Allow` on 405, `Retry-After` on 429) - see docs/architecture.md "Stack notes".

    The spec documents errors with ProblemSchema, and no catch-all `default`
    response: core/openapi_doc.py lists each operation's error statuses."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        """Render any werkzeug HTTPException (including webargs aborts) as a problem."""
        status = error.code or 500
        headers = dict(error.get_headers())
        headers.pop("Content-Type", None)
        extra = {}
        detail = error.description or TITLES.get(status, ERROR_TITLE)
        code = None
        if status == 422:
            extra["errors"] = _validation_errors(error)
            detail = _("The request is not valid; see `errors`.")
            code = "validation-error"
        elif status == 400 and getattr(error, "data", None):
            detail = _("The request body is not valid JSON.")
            code = "malformed-json"
        return problem(status, detail, code=code, extra=extra, headers=headers)


def database_unavailable(error: Exception) -> bool:
    """True when `error` means the database cannot serve now (down, restarting,
    unreachable, connection lost, statement or pool timeout), so a retry may work:
    OperationalError, InterfaceError, a DBAPIError that invalidated its connection,
    or the pool's TimeoutError."""
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _db():
    """The app's Flask-SQLAlchemy instance, looked up on the app (core/errors.py is
    imported by core/extensions.py, so it does not import it back)."""
    return current_app.extensions["sqlalchemy"]


def _rollback_quietly() -> None:
    """Roll the session back; a dead connection may fail that too, which is fine."""
    db = _db()

    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.debug("rollback after a database error failed", exc_info=True)


def database_unavailable_problem(error: Exception):
    """503 problem `database-unavailable` with `Retry-After: DB_RETRY_AFTER`
    seconds (RFC 9110 section 10.2.3); logs the driver error class, no SQL."""
    _rollback_quietly()
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [""])[0]
    log.warning("database unavailable: %s: %s", type(cause).__name__, first_line)
    return problem(
        503,
        _("The database is unavailable at the moment; try again shortly."),
        code="database-unavailable",
        headers={"Retry-After": str(current_app.config.get("DB_RETRY_AFTER", 5))},
    )


def _internal_error():
    """500 problem without a traceback in the body (the log has it)."""
    log.exception("unhandled error")
    _rollback_quietly()
    return problem(500, InternalServerError.description, code="internal-error")


def end_session_quietly(_exc=None) -> None:
    """Close the request's database session, tolerating a connection that died
    after the last query (database restarted): closing it then raises, and an error
    in Flask-SQLAlchemy's app-context teardown would replace the finished response
    with a bare 500. Registered after db.init_app, so it runs first (Flask runs
    app-context teardowns in reverse order); that one's own close then succeeds."""
    db = _db()

    try:
        db.session.remove()
    except SQLAlchemyError as exc:
        log.warning(
            "database connection lost at the end of a request: %s",
            type(getattr(exc, "orig", None) or exc).__name__,
        )


def register_error_handlers(app):
    """Map service errors, integrity errors, database outages (503) and
    unexpected exceptions (500) to problems; end each request's session quietly."""

    app.teardown_appcontext(end_session_quietly)

    @app.errorhandler(APIError)
    def handle_api_error(error):
        return problem(
            error.status,
            error.detail,
            code=error.code,
            extra=error.extra,
            headers=error.headers,
        )

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error):
        db = _db()

        db.session.rollback()
        log.info("integrity error: %s", error.orig)
        return problem(
            409,
            _(
                "The change conflicts with existing data (a duplicate or a record "
                "in use)."
            ),
            code="integrity-conflict",
        )

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def handle_database_error(error):
        # IntegrityError keeps its own (more specific) handler above.
        if database_unavailable(error):
            return database_unavailable_problem(error)
        return _internal_error()

    @app.errorhandler(Exception)
    def handle_unexpected(error):
        # HTTPExceptions never get here: Flask picks the most specific handler.
        return _internal_error()
