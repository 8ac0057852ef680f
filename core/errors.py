"""One error shape for the whole API: RFC 9457 problem details.

Every error leaves as `application/problem+json` with `type`, `title`, `status`,
`detail` and, for validation errors, `errors` keyed by field.
"""

import logging

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
        super().__init__(404, f"{what} not found.", code="not-found")


class Conflict(APIError):
    """409: the request conflicts with the resource's current state."""

    def __init__(self, detail, *, code="conflict", extra=None):
        super().__init__(409, detail, code=code, extra=extra)


class Forbidden(APIError):
    """403: authenticated, but this role or rule does not allow the action."""

    def __init__(self, detail="You are not allowed to do this.", *, code="forbidden"):
        super().__init__(403, detail, code=code)


class ValidationFailed(APIError):
    """422 from a service for a rule a schema cannot express; `errors` per field."""

    def __init__(self, errors, detail="The request body is not valid."):
        super().__init__(422, detail, code="validation-error", extra={"errors": errors})


TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem(status, detail, *, code=None, extra=None, headers=None):
    """Build a problem-details response.

    `status` int HTTP status; `detail` str; `code` slug for `type` (defaults to
    `about:blank` per RFC 9457 section 4.2.1); `extra` dict merged into the body,
    except keys named like the RFC 9457 members (type, title, status, detail, instance),
    which are dropped so an extension member can never overwrite them (RFC 9457
    section 3.2: extensions must not change the members' meaning).
    """
    body = {
        "type": f"/problems/{code}" if code else "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update(
        (key, value)
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
        detail = error.description or TITLES.get(status, "Error")
        code = None
        if status == 422:
            extra["errors"] = _validation_errors(error)
            detail = "The request is not valid; see `errors`."
            code = "validation-error"
        elif status == 400 and getattr(error, "data", None):
            detail = "The request body is not valid JSON."
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
        "The database is unavailable at the moment; try again shortly.",
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
            "The change conflicts with existing data (a duplicate or a record in use).",
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
