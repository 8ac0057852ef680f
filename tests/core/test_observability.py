"""Request ids, structured logs and secret redaction."""

import io
import json
import logging
import re

import pytest

from app import create_app
from core.extensions import db
from core.observability import JsonFormatter, redact
from tests.conftest import PASSWORD

AUTH = "/api/v1/auth"
HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_app(app):
    """A second app on the session database with a view that logs through several
    loggers (ours, Flask's, a library's)."""
    application = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    )

    @application.get("/log-something")
    def log_something():
        logging.getLogger("easytravels.test").debug("debug line")
        application.logger.warning("flask app logger line")
        logging.getLogger("somelibrary.internal").error("library line")
        return {"ok": True}

    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def json_lines():
    """Everything logged (DEBUG and up) while the test runs, as JsonFormatter lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_response_carries_a_generated_request_id(client):
    response = client.get("/health")
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])
    assert (
        client.get("/health").headers["X-Request-ID"]
        != response.headers["X-Request-ID"]
    )


@pytest.mark.parametrize(
    "supplied",
    ["abc-123", "0f8e4a2c-7c1b-4f51-9d59-3a8e1e3f2a10", "trace.1:span_2", "x" * 128],
)
def test_sane_request_id_passed_through(client, supplied):
    response = client.get("/health", headers={"X-Request-ID": supplied})
    assert response.headers["X-Request-ID"] == supplied


@pytest.mark.parametrize(
    "supplied",
    ["has space", "x" * 129, "<script>", "a\tb", "-leading-dash", "ünïcode", ";"],
)
def test_unsafe_request_id_replaced(client, supplied):
    response = client.get("/health", headers={"X-Request-ID": supplied})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("get", "/api/v1/nothing-here", 404),
        ("get", f"{AUTH}/me", 401),
        ("delete", f"{AUTH}/login", 405),
        ("post", f"{AUTH}/login", 422),
    ],
)
def test_error_responses_echo_the_request_id(client, method, path, status):
    response = getattr(client, method)(path, json={}, headers={"X-Request-ID": "err-1"})
    assert response.status_code == status
    assert response.headers["X-Request-ID"] == "err-1"


def test_every_log_record_of_a_request_carries_its_id(log_app, caplog):
    with caplog.at_level(logging.DEBUG):
        response = log_app.test_client().get(
            "/log-something", headers={"X-Request-ID": "rid-42"}
        )
    assert response.status_code == 200
    names = {r.name for r in caplog.records}
    assert {
        "easytravels.test",
        "app",
        "somelibrary.internal",
        "easytravels.access",
    } <= names
    assert all(r.request_id == "rid-42" for r in caplog.records)
    caplog.clear()
    logging.getLogger("easytravels.test").warning("outside any request")
    assert caplog.records[0].request_id == "-"


def test_access_line_and_json_format(log_app, json_lines):
    log_app.test_client().get("/log-something?q=1", headers={"X-Request-ID": "rid-7"})
    lines = json_lines()
    assert lines, "something was logged"
    for line in lines:
        assert {"ts", "level", "logger", "message", "request_id"} <= set(line)
        assert line["request_id"] == "rid-7"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["ts"])
    access = [line for line in lines if line["logger"] == "easytravels.access"]
    assert len(access) == 1
    assert access[0]["level"] == "INFO"
    assert access[0]["method"] == "GET"
    assert access[0]["path"] == "/log-something"
    assert access[0]["status"] == 200
    assert access[0]["remote_addr"] == "127.0.0.1"
    assert isinstance(access[0]["duration_ms"], float)


def test_json_formatter_keeps_exceptions_on_one_line_and_redacted():
    logger = logging.getLogger("easytravels.test")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("password=hunter2-secret")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    data = json.loads(line)
    assert data["level"] == "ERROR" and data["message"] == "failed"
    assert "ValueError" in data["exc"] and "hunter2" not in data["exc"]


@pytest.mark.parametrize(
    "text, secret",
    [
        (
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "eyJhbGciOiJIUzI1NiJ9",
        ),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("{'email': 'a@b.c', 'password': 'hunter2 horse'}", "hunter2"),
        ('{"new_password": "s3cret-pass", "code": "123456"}', "s3cret-pass"),
        ('{"new_password": "s3cret-pass", "code": "123456"}', "123456"),
        ("login password=hunter2&user=x", "hunter2"),
        ("Set-Cookie: session=abcdef; Path=/", "abcdef"),
        ("refresh_token=r3fr3sh", "r3fr3sh"),
        ("Your code is 654321", "654321"),
        ("otp: 111222", "111222"),
    ],
)
def test_redact_masks_secrets(text, secret):
    assert secret not in redact(text)
    assert "[REDACTED]" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/v1/auth/password/reset 204",
        "booking 42 paid 100.00",
        "token_type Bearer",
    ],
)
def test_redact_leaves_ordinary_text(text):
    assert redact(text) == text


def test_login_and_otp_flow_logs_no_secret(client, actors, mailbox, caplog, json_lines):
    """Every log line of a whole login / reset / code-login flow, at DEBUG, holds no
    password, code or token; a secret logged on purpose comes out masked."""
    customer, other = actors.customer(), actors.customer()
    account = {"email": customer["email"], "account": "customer"}
    other_account = {"email": other["email"], "account": "customer"}
    secrets = [PASSWORD, "brand-new-password-9", "wrong-password-1"]
    with caplog.at_level(logging.DEBUG):
        login = client.post(f"{AUTH}/login", json={**account, "password": PASSWORD})
        secrets += [login.get_json()["access_token"], login.get_json()["refresh_token"]]
        client.post(f"{AUTH}/login", json={**account, "password": "wrong-password-1"})
        assert client.post(f"{AUTH}/password/forgot", json=account).status_code == 202
        code = mailbox.last_code(customer["email"])
        secrets.append(code)
        reset = client.post(
            f"{AUTH}/password/reset",
            json={**account, "otp": code, "new_password": "brand-new-password-9"},
        )
        assert reset.status_code == 204
        assert client.post(f"{AUTH}/login/otp", json=other_account).status_code == 202
        code = mailbox.last_code(other["email"])
        secrets.append(code)
        verify = client.post(
            f"{AUTH}/login/otp/verify", json={**other_account, "otp": code}
        )
        token = verify.get_json()["access_token"]
        secrets.append(token)
        me = client.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        logging.getLogger("easytravels.test").info(
            "careless: Authorization: Bearer %s password=%s", token, PASSWORD
        )
    texts = [r.getMessage() for r in caplog.records] + [
        json.dumps(x) for x in json_lines()
    ]
    assert len(caplog.records) >= 7, "the flow was logged (access lines at least)"
    for secret in secrets:
        assert not [t for t in texts if secret in t], (
            f"{secret[:12]}... leaked to the log"
        )
    assert any("careless: Authorization: [REDACTED]" in t for t in texts)


def test_production_never_logs_mail_and_refuses_without_smtp(app, actors, caplog):
    employee = actors.employee("sales")
    production = create_app(
        "production",
        {
            "SECRET_KEY": app.config["SECRET_KEY"] + "x" * 40,
            "JWT_SECRET_KEY": app.config["JWT_SECRET_KEY"] + "x" * 40,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAIL_SERVER": "",
        },
    )
    try:
        with caplog.at_level(logging.DEBUG):
            response = production.test_client().post(
                f"{AUTH}/password/forgot",
                json={"email": employee["email"], "account": "employee"},
            )
    finally:
        with production.app_context():
            db.session.remove()
            db.engine.dispose()
    # The anonymous request answers 202 whatever happens (no account enumeration);
    # the mail is refused, not logged.
    assert response.status_code == 202
    assert not any("code is" in r.getMessage() for r in caplog.records)
    assert any(
        "MAIL_SERVER is not configured" in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize(
    "name, formatter",
    [("production", "JsonFormatter"), ("development", "TextFormatter")],
)
def test_unconfigured_process_logs_json_in_production_text_otherwise(
    monkeypatch, name, formatter
):
    """Under gunicorn or `flask run` nothing configured logging: create_app adds one
    stderr handler, JSON in production and text in development."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    secrets = {"SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40}
    application = create_app(name, {**secrets, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    (handler,) = root.handlers
    assert type(handler.formatter).__name__ == formatter
    assert application.config["MAIL_TO_LOG"] is (name != "production")


def test_requests_sharing_an_app_context_get_their_own_ids(app):
    """Inside one pushed app context (scripts, benches, tests) `g` is shared by the
    requests; each must still get its own id (kept per request in the environ)."""
    client = app.test_client()
    with app.app_context():
        first = client.get("/health").headers["X-Request-ID"]
        second = client.get("/health").headers["X-Request-ID"]
        passed = client.get("/health", headers={"X-Request-ID": "abc-123"}).headers[
            "X-Request-ID"
        ]
    assert first != second
    assert passed == "abc-123"


@pytest.mark.parametrize("json_logs", [True, False])
def test_gunicorn_logconfig_is_accepted_by_dictconfig(json_logs):
    """gunicorn hands logconfig_dict to logging.config.dictConfig: every formatter
    it names must resolve (a stale dotted path stops gunicorn at start)."""
    import logging
    import logging.config

    from core.observability import JsonFormatter, TextFormatter, gunicorn_logconfig

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    config = gunicorn_logconfig(json_logs)
    try:
        logging.config.dictConfig(config)
        formatter = logging.getLogger("gunicorn.error").handlers[0].formatter
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name in config.get("loggers", {}):
            logging.getLogger(name).handlers.clear()
    assert isinstance(formatter, JsonFormatter if json_logs else TextFormatter)
