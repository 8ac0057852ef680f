"""Database faults become 503, never 500 or a hang (docs/design.md "API
conventions"): a database that refuses connections, one that accepts TCP and never
answers (bounded by DB_CONNECT_TIMEOUT), lost connections and pool timeouts answer
503 in the problem shape with Retry-After; other driver errors stay 500. The restart
under load is scripts/drill_pg_restart.py (`make drill`)."""

import time

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app import create_app
from config import engine_options, normalise_database_url
from core.extensions import db
from tests.conftest import TEST_DB_URL, StallingSmtp
from tests.core.conftest import assert_problem
from tests.live import free_port

PACKAGES = "/api/v1/packages"


def app_raising(error):
    """A fresh app whose GET /boom raises `error`."""
    application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @application.get("/boom")
    def boom():
        raise error

    return application


def app_on(url: str, **overrides):
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, **overrides})


def assert_unavailable(response):
    body = assert_problem(response, 503)
    assert body["type"] == "/problems/database-unavailable"
    assert response.headers["Retry-After"] == "5"
    assert "SELECT" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        OperationalError(
            "SELECT 1", {}, Exception("canceling statement due to statement timeout")
        ),
        PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),
    ],
    ids=["connection-lost", "statement-timeout", "pool-timeout"],
)
def test_database_unavailable_errors_503_with_retry_after(error):
    assert_unavailable(app_raising(error).test_client().get("/boom"))


def test_other_driver_error_stays_500():
    error = DataError("SELECT 1", {}, Exception("numeric field overflow"))
    body = assert_problem(app_raising(error).test_client().get("/boom"), 500)
    assert body["type"] == "/problems/internal-error"


def test_postgres_refusing_connections_503_fast():
    application = app_on(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    started = time.monotonic()
    response = application.test_client().get(PACKAGES)
    assert_unavailable(response)
    assert time.monotonic() - started < 3


def test_postgres_silent_server_503_within_connect_timeout():
    with StallingSmtp() as server:  # accepts TCP, never speaks
        application = app_on(
            f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/none",
            DB_CONNECT_TIMEOUT=1,
        )
        started = time.monotonic()
        response = application.test_client().get(PACKAGES)
        took = time.monotonic() - started
    assert_unavailable(response)
    assert 0.9 <= took < 5


def test_ready_probe_503_when_database_down():
    application = app_on(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    body = assert_problem(application.test_client().get("/health/ready"), 503)
    assert body["type"] == "/problems/not-ready"


def test_engine_options_bound_postgres_only():
    config = {
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "DB_POOL_TIMEOUT": 10,
        "DB_CONNECT_TIMEOUT": 5,
        "DB_STATEMENT_TIMEOUT_MS": 15000,
    }
    sqlite = engine_options({**config, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert sqlite == {"pool_pre_ping": True}
    pg = engine_options(
        {**config, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y"}
    )
    assert pg == {
        "pool_pre_ping": True,
        "pool_timeout": 10,
        "connect_args": {"connect_timeout": 5, "options": "-c statement_timeout=15000"},
    }
    no_limit = engine_options(
        {
            **config,
            "DB_STATEMENT_TIMEOUT_MS": 0,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y",
        }
    )
    assert "options" not in no_limit["connect_args"]
    explicit = engine_options(
        {
            **config,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x/y",
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_timeout": 2,
                "connect_args": {"connect_timeout": 1},
            },
        }
    )
    assert (
        explicit["pool_timeout"] == 2
        and explicit["connect_args"]["connect_timeout"] == 1
    )


def test_connection_lost_after_last_query_keeps_the_response():
    application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @application.get("/late")
    def late():
        session = db.session()
        session.execute(text("SELECT 1"))
        close = session.close

        def broken_close():  # what closing a connection the server dropped does
            session.close = close
            raise OperationalError(
                "ROLLBACK", {}, Exception("server closed the connection")
            )

        session.close = broken_close
        return {"ok": True}

    response = application.test_client().get("/late")
    assert response.status_code == 200 and response.get_json() == {"ok": True}


@pytest.mark.postgres
def test_postgres_backend_killed_after_last_query_keeps_the_response():
    url = normalise_database_url(TEST_DB_URL)
    application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})

    @application.get("/killed")
    def killed():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.2)
        return {"pid": pid}

    client = application.test_client()
    assert client.get("/killed").status_code == 200
    ready = client.get("/health/ready")  # the pool recovers (pre-ping)
    assert ready.status_code == 200
