"""Request ids, structured logs and secret redaction.

- Every request has an id: a sane client `X-Request-ID` is kept, anything else is
  replaced by a fresh uuid4 hex; the response echoes it.
- Every log record, from any logger, carries `request_id` ("-" outside a request)
  and has secrets masked before any handler sees it: JWTs, bearer credentials,
  password / token / secret / cookie values, one-time codes after "code" or "otp".
- Logs are one JSON object per line in production (`LOG_FORMAT=json`), plain text
  otherwise, and one access line per request (`ACCESS_LOG`).

The record factory does the work, not a handler filter, so handlers added by
anyone (gunicorn, pytest's caplog) get the id and never an unmasked secret.
"""

import json
import logging
import re
import sys
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Loggers whose messages are deliberately kept verbatim: the development mail and SMS
# sinks (services/messaging/mail.py when MAIL_SERVER is empty, sms.py with
# SMS_PROVIDER=log; neither in production).
UNREDACTED_LOGGERS = frozenset({"easytravels.mail.outbox", "easytravels.sms.outbox"})
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "remote_addr")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
MASK = "[REDACTED]"

_SECRET_KEYS = (
    r"(?:new_|current_|old_)?password|passwd|passphrase|secret(?:_key)?|"
    r"(?:access_|refresh_|id_|api_)?token|api[_-]?key|authorization|(?:set-)?cookie"
)
REDACTIONS = (
    # JSON Web Tokens (header "eyJ..." . payload . signature).
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    # HTTP credentials: "Bearer <token>", "Basic <base64>".
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    # key=value, key: value, "key": "value" for secret-looking keys.
    (
        re.compile(
            rf"(?i)(\b(?:{_SECRET_KEYS})\b[\"']?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,;&}]+)"
        ),
        r"\1" + MASK,
    ),
    # One-time codes: 4-8 digits right after "code" / "otp" (with : = or "is").
    (
        re.compile(
            r"(?i)(\b(?:code|otp)\b[\"']?\s*(?:[:=]|\bis\b)?\s*[\"']?)\d{4,8}\b"
        ),
        r"\1" + MASK,
    ),
)

_previous_factory = None


def redact(text: str) -> str:
    """`text` with every secret pattern of REDACTIONS replaced by "[REDACTED]"."""
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


ENVIRON_KEY = "easytravels.request_id"


# The id of the request that caused the outbox row a worker is delivering.
_TASK_REQUEST_ID: ContextVar[str] = ContextVar(
    "easytravels_task_request_id", default="-"
)


@contextmanager
def task_request_id(rid: str | None):
    """Within the block, log lines outside a request carry `rid` (the request that
    caused a worker's task) instead of "-"."""
    token = _TASK_REQUEST_ID.set(rid or "-")
    try:
        yield
    finally:
        _TASK_REQUEST_ID.reset(token)


def request_id() -> str:
    """This request's id (kept from a sane `X-Request-ID`, else a uuid4 hex);
    outside a request the id a worker task carries (task_request_id), else "-"."""
    if not has_request_context():
        return _TASK_REQUEST_ID.get()
    # Kept in the WSGI environ, which belongs to this request alone: `g` lives on
    # the app context, which requests share when one is already pushed (tests,
    # scripts), so an id kept there would leak into the next request.
    rid = request.environ.get(ENVIRON_KEY)
    if rid is None:
        supplied = request.headers.get(REQUEST_ID_HEADER, "")
        rid = supplied if SANE_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        request.environ[ENVIRON_KEY] = rid
        g.request_id = rid
    return rid


def _record_factory(*args, **kwargs) -> logging.LogRecord:
    """Build a LogRecord with `request_id` and its message already redacted."""
    record = _previous_factory(*args, **kwargs)
    record.request_id = request_id()
    if record.name not in UNREDACTED_LOGGERS:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it
            return record
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
    return record


def install_record_factory() -> None:
    """Install the request-id + redaction record factory once per process."""
    global _previous_factory
    if _previous_factory is None:
        _previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_record_factory)


class TextFormatter(logging.Formatter):
    """Plain lines with the request id; tracebacks redacted too (development)."""

    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def formatException(self, ei) -> str:  # noqa: N802 - logging.Formatter API
        """The traceback, with secrets masked."""
        return redact(super().formatException(ei))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (ISO 8601 UTC), level, logger, message,
    request_id, the access fields when present, exc (traceback) when any."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise `record` as one line of JSON."""
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                data[field] = getattr(record, field)
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            data["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(data, default=str)


def configure_logging(app: Flask) -> None:
    """Install the record factory; when nothing configured logging yet (gunicorn,
    `flask run`), send the root logger to stderr as LOG_FORMAT text or json at
    LOG_LEVEL."""
    install_record_factory()
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    json_logs = app.config.get("LOG_FORMAT") == "json"
    handler.setFormatter(JsonFormatter() if json_logs else TextFormatter())
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))


def init_request_ids(app: Flask) -> None:
    """Fix the request id first thing, echo it on every response and write the
    access line (`easytravels.access`, INFO) when ACCESS_LOG is on. Register
    before other hooks so the access line sees the final response."""
    access_log = logging.getLogger("easytravels.access")

    @app.before_request
    def _start_request():
        g.request_started = time.perf_counter()
        request_id()

    @app.after_request
    def _finish_request(response):
        response.headers[REQUEST_ID_HEADER] = request_id()
        if app.config.get("ACCESS_LOG"):
            started = g.get("request_started", time.perf_counter())
            fields = {
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "remote_addr": request.remote_addr,
            }
            access_log.info(
                "%(method)s %(path)s %(status)s %(duration_ms)sms %(remote_addr)s",
                fields,
                extra=fields,
            )
        return response


def gunicorn_logconfig(json_logs: bool) -> dict:
    """A gunicorn `logconfig_dict` (logging.config.dictConfig schema) that writes
    gunicorn's own lines (`gunicorn.error` to stderr, `gunicorn.access` to stdout)
    and the app's root logger with the app's formatter: JSON objects when
    `json_logs`, text lines otherwise. For gunicorn.conf.py:
    `logconfig_dict = gunicorn_logconfig(os.environ.get("LOG_FORMAT", ...) == "json")`.
    """
    # The class itself, not a dotted name: dictConfig calls a "()" callable, and
    # the config stays right wherever this module lives.
    formatter = JsonFormatter if json_logs else TextFormatter

    def handler(stream: str) -> dict:
        return {"class": "logging.StreamHandler", "formatter": "app", "stream": stream}

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"app": {"()": formatter}},
        "handlers": {
            "console": handler("ext://sys.stdout"),
            "error_console": handler("ext://sys.stderr"),
        },
        "root": {"level": "INFO", "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {
                "level": "INFO",
                "handlers": ["error_console"],
                "propagate": False,
                "qualname": "gunicorn.error",
            },
            "gunicorn.access": {
                "level": "INFO",
                "handlers": ["console"],
                "propagate": False,
                "qualname": "gunicorn.access",
            },
        },
    }
