"""One error shape for the whole API: RFC 9457 problem details.

Every error leaves as `application/problem+json` with `type`, `title`, `status`,
`detail` and, for validation errors, `errors` keyed by field.
"""

import logging

from flask import jsonify
from flask_smorest import Api
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import InternalServerError

log = logging.getLogger(__name__)

PROBLEM_MIME = "application/problem+json"


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
    """422 raised by a service for a rule a schema cannot express; `errors` per field."""

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
    `about:blank` per RFC 9457 section 4.2.1); `extra` dict merged into the body.
    """
    body = {
        "type": f"/problems/{code}" if code else "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update(extra or {})
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
    for location, fields in messages.items():
        for field, msgs in _flatten(fields).items():
            key = field if location in ("json", "files", "form") else f"{location}.{field}"
            errors[key] = msgs
    return errors


class ProblemApi(Api):
    """flask-smorest Api whose HTTP errors are problem details and keep their headers
    (`Allow` on 405, `Retry-After` on 429) - see ENGINEERING.md "Traps"."""

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


def register_error_handlers(app):
    """Map service errors, integrity errors and unexpected exceptions to problems."""

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
        from extensions import db

        db.session.rollback()
        log.info("integrity error: %s", error.orig)
        return problem(
            409,
            "The change conflicts with existing data (a duplicate or a record in use).",
            code="integrity-conflict",
        )

    @app.errorhandler(Exception)
    def handle_unexpected(error):
        # HTTPExceptions never get here: Flask picks the most specific handler.
        log.exception("unhandled error")
        from extensions import db

        db.session.rollback()
        return problem(
            500,
            InternalServerError.description,
            code="internal-error",
        )
