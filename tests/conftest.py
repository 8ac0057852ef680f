"""Shared fixtures: one app per test session on SQLite (a temp file) or on
PostgreSQL (`TEST_DATABASE_URL`), tables emptied after every test, a real local SMTP
server (aiosmtpd) that collects mail, and `actors` that create accounts and tokens.

Helpers beside them that tests of several domains use: PASSWORD, TEST_DB_URL and
ON_POSTGRES; `empty_tables` (the purge behind `_clean`); `relay_outbox`;
`StallingSmtp`, a TCP server that never answers (mail and database faults);
`flask_cli`, the `flask` command on a database of its own (migrations, audit).
Each domain's own fixtures and helpers are in tests/<domain>/conftest.py.
"""

import contextlib
import os
import socket
import subprocess
import sys
import threading
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event, text

from app import create_app
from auth.passwords import hash_password
from auth.tokens import issue_tokens
from core.extensions import db
from models import Customer, Employee
from tests import ROOT
from tests.factories import fresh_schema
from tests.live import free_port

PASSWORD = "correct-horse-battery"
TEST_DB_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DB_URL.startswith("postgres")


class Mailbox:
    """Messages the local SMTP server received, parsed as email.message objects.

    Mail leaves through the outbox (services/messaging/outbox.py): before it is
    read, the mailbox relays every due outbox row inline (`drain`, set by the
    `mailbox` fixture), so a test reads what a worker would have delivered to this
    server."""

    def __init__(self):
        self._messages = []
        self.lock = threading.Lock()
        self.drain = None

    @property
    def messages(self) -> list:
        """Every message received so far (after relaying the outbox)."""
        if self.drain is not None:
            self.drain()
        with self.lock:
            return list(self._messages)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self._messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        """Messages addressed to `address` (case-insensitive), oldest first."""
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def last_code(self, address: str) -> str:
        """The 6-digit code in the newest message to `address`."""
        import re

        body = self.to(address)[-1].get_body(("plain",)).get_content()
        return re.search(r"\b(\d{6})\b", body).group(1)

    def clear(self):
        with self.lock:
            self._messages.clear()


# Tests that share a server-wide resource beyond their own database: the broker's
# `celery` queue and worker name, Redis keys and rate-limit budgets. Under
# pytest-xdist (`make test` runs two workers with --dist loadgroup) they all go to
# one worker, one after another; every other test may run beside any other.
SHARED_SERVICE_MODULES = (
    "tests/jobs/test_celery_worker.py",
    "tests/messaging/test_outbox_drill.py",
    "tests/core/test_rate_limits.py",
)


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests on SQLite; keep the tests of shared services on
    one xdist worker (`xdist_group`, honoured with --dist loadgroup)."""
    shared = pytest.mark.xdist_group("shared-services")
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TEST_DATABASE_URL)")
    for item in items:
        path = item.path.relative_to(ROOT).as_posix()
        if path in SHARED_SERVICE_MODULES or "redis" in item.keywords:
            item.add_marker(shared)
        if not ON_POSTGRES and "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def smtp():
    """A real SMTP server on 127.0.0.1 for the whole session."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture(scope="session")
def provider():
    """A real localstripe process (free port) with a webhook receiver, for the
    whole session (tests/stripe_support.py)."""
    from tests.stripe_support import Provider

    running = Provider()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def app(smtp, provider, tmp_path_factory):
    """The application, with a fresh schema built by create_all."""
    url = TEST_DB_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    from config import normalise_database_url

    application = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "MAIL_SUPPRESS_SEND": False,
            **provider.config(),
        },
    )
    with application.app_context():
        if ON_POSTGRES:
            event.listen(db.engine, "connect", _no_commit_flush)
            db.engine.dispose()
        fresh_schema()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _no_commit_flush(dbapi_connection, _record):
    """The test session's PostgreSQL connections do not wait for the WAL flush at
    commit (`synchronous_commit = off`): a test database need not survive a crash,
    and the suite commits thousands of times. Visibility, isolation and locking are
    unchanged; servers and workers a test starts use their own connections."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    dbapi_connection.commit()


def empty_tables(application):
    """Delete every row. The append-only audit table lets this purge through: on
    PostgreSQL its trigger honours `SET LOCAL easytravels.audit_purge = 'on'`; on
    SQLite its triggers are dropped and re-created in the same transaction."""
    from models.audit import (
        PURGE_SETTING,
        SQLITE_APPEND_ONLY_DDL,
        SQLITE_APPEND_ONLY_DROP,
    )

    with application.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if ON_POSTGRES:
                conn.execute(text(f"SET LOCAL {PURGE_SETTING} = 'on'"))
                conn.execute(
                    text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
                )
            else:
                for statement in SQLITE_APPEND_ONLY_DROP:
                    conn.execute(text(statement))
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))
                for statement in SQLITE_APPEND_ONLY_DDL:
                    conn.execute(text(statement))


@pytest.fixture(autouse=True)
def _clean(request):
    """Empty every table after each test that used the app."""
    yield
    if "app" in request.fixturenames:
        empty_tables(request.getfixturevalue("app"))


@pytest.fixture(scope="module")
def spec(app):
    """The OpenAPI document the app serves, read once per test module."""
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


def relay_outbox(application) -> int:
    """Deliver every due outbox row inline, as a worker would; returns how many."""
    from services.messaging import outbox

    with application.app_context():
        return outbox.drain()


@pytest.fixture
def mailbox(smtp, app):
    """The SMTP server's mailbox, emptied before the test; reading it relays the
    outbox first."""
    smtp.handler.clear()
    smtp.handler.drain = lambda: relay_outbox(app)
    yield smtp.handler
    smtp.handler.drain = None


class StallingSmtp:
    """A TCP server on 127.0.0.1 that accepts connections and then says nothing
    (`greeting=None`) or only the 220 greeting, never answering a command (an SMTP
    server, or a database, that hangs)."""

    def __init__(self, greeting: bytes | None = None):
        self.greeting = greeting
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        self.listener.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            if self.greeting:
                conn.sendall(self.greeting)
            self.accepted.append(conn)  # held open, never read or answered

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=2)
        for conn in self.accepted:
            with contextlib.suppress(OSError):
                conn.close()
        self.listener.close()


def flask_cli(*args, url):
    """Run `flask --app app ARGS` in a subprocess in the development configuration
    on the database at `url` (no admin bootstrap); the CompletedProcess."""
    env = {
        **os.environ,
        "APP_CONFIG": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": "s" * 40,
        "JWT_SECRET_KEY": "j" * 40,
    }
    env.pop("ADMIN_EMAIL", None)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def password_hash():
    """One scrypt hash of PASSWORD, reused so tests do not pay for hashing."""
    return hash_password(PASSWORD)


class Actors:
    """Creates accounts straight in the database and hands out bearer headers.

    `headers("sales")` returns headers of a (cached) sales employee; `employee(role)`
    and `customer()` create new accounts; every account's password is PASSWORD.
    """

    def __init__(self, app, password_hash):
        self.app = app
        self.password_hash = password_hash
        self._by_role = {}
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def employee(self, role: str, **fields) -> dict:
        """Create an employee; returns `{"id", "email", "headers"}`."""
        n = self._next()
        with self.app.app_context():
            emp = Employee(
                name=fields.pop("name", f"{role.title()} {n}"),
                email=fields.pop("email", f"{role}{n}@staff.test"),
                role=role,
                password_hash=self.password_hash,
                **fields,
            )
            db.session.add(emp)
            db.session.commit()
            token = issue_tokens(emp)["access_token"]
            return {
                "id": emp.id,
                "email": emp.email,
                "headers": {"Authorization": f"Bearer {token}"},
            }

    def customer(self, **fields) -> dict:
        """Create a customer; returns `{"id", "email", "headers"}`."""
        n = self._next()
        with self.app.app_context():
            cust = Customer(
                name=fields.pop("name", f"Customer {n}"),
                email=fields.pop("email", f"customer{n}@example.test"),
                password_hash=self.password_hash,
                **fields,
            )
            db.session.add(cust)
            db.session.commit()
            token = issue_tokens(cust)["access_token"]
            return {
                "id": cust.id,
                "email": cust.email,
                "headers": {"Authorization": f"Bearer {token}"},
            }

    def headers(self, role: str) -> dict:
        """Bearer headers for `role` ("customer" or a staff role); None for
        "anonymous". The same account is reused within a test."""
        if role == "anonymous":
            return {}
        if role not in self._by_role:
            self._by_role[role] = (
                self.customer() if role == "customer" else self.employee(role)
            )
        return self._by_role[role]["headers"]

    def account(self, role: str) -> dict:
        """The cached account behind `headers(role)`."""
        self.headers(role)
        return self._by_role[role]


@pytest.fixture
def actors(app, password_hash):
    """Account and token factory for one test."""
    return Actors(app, password_hash)


@pytest.fixture(scope="session")
def twilio_server():
    """A local server speaking Twilio's Messages API (tests/twilio_support.py) for
    the whole session."""
    from tests.twilio_support import SmsServer

    server = SmsServer().start()
    yield server
    server.stop()


@pytest.fixture
def sms_server(twilio_server, app):
    """The local Twilio server, emptied, with the app sending SMS to it for this
    test (SMS_PROVIDER=twilio and the TWILIO_* settings; restored after)."""
    twilio_server.reset()
    settings = twilio_server.config()
    saved = {name: app.config.get(name) for name in settings}
    app.config.update(settings)
    yield twilio_server
    app.config.update(saved)
    twilio_server.reset()
