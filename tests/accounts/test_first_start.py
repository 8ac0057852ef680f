"""First start of a multi-worker deployment with ADMIN_EMAIL / ADMIN_PASSWORD set
(docs/design.md "Accounts and roles": the first admin comes from the environment
when the service starts and no admin exists).

Four gunicorn workers boot at once against a freshly migrated, empty database (a new
SQLite file; a new PostgreSQL database): every worker must come up and keep serving
(none fails to boot, so gunicorn's master does not halt) and exactly one admin exists.
"""

import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import create_engine, text

from config import normalise_database_url
from tests import ROOT
from tests.conftest import TEST_DB_URL
from tests.live import _server_env, started_gunicorn

WORKERS = 4
BOOT_TIMEOUT = 180.0  # seconds; four create_app() at once on a loaded 2-core box
ADMIN_EMAIL = "first-admin@easytravels.test"
ADMIN_PASSWORD = "first-admin-password-123"


def _migrate(url: str) -> None:
    """`flask db upgrade` on the empty database at `url` (the documented deploy
    step)."""
    env = _server_env({"TEST_DATABASE_URL": url})
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _live_workers(master_pid: int) -> list[int]:
    """Pids of the gunicorn master's live child processes."""
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True
    ).stdout
    return [int(pid) for pid in out.split()]


def _wait_all_booted(process: subprocess.Popen, log_path: Path) -> str:
    """Wait until every worker logged the end of its admin bootstrap (one
    "admin bootstrap:" line per create_app), or the master exited, or
    BOOT_TIMEOUT passed; return the server log."""
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        log_text = log_path.read_text()
        if log_text.count("admin bootstrap:") >= WORKERS:
            time.sleep(1)  # a worker that would fail after its line has done so
            return log_path.read_text()
        time.sleep(0.2)
    return log_path.read_text()


def _start_and_check(url: str) -> None:
    """Boot WORKERS workers with the admin bootstrap on `url`; assert they all serve
    and that exactly one admin exists."""
    _migrate(url)
    env = _server_env(
        {
            "TEST_DATABASE_URL": url,
            "ADMIN_EMAIL": ADMIN_EMAIL,
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
    )
    with started_gunicorn(env, workers=WORKERS, threads=None) as (
        process,
        base_url,
        log_path,
    ):
        log_text = _wait_all_booted(process, log_path)
        assert process.poll() is None, log_text
        assert "failed to boot" not in log_text.lower(), log_text
        assert len(_live_workers(process.pid)) == WORKERS, log_text
        answers = [
            requests.get(f"{base_url}/health", timeout=5).status_code for _ in range(40)
        ]
        assert set(answers) == {200}
        login = requests.post(
            f"{base_url}/api/v1/auth/login",
            json={
                "email": ADMIN_EMAIL,
                "password": ADMIN_PASSWORD,
                "account": "employee",
            },
            timeout=10,
        )
        assert login.status_code == 200, login.text
    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            admins = (
                conn.execute(text("SELECT email FROM employees WHERE role = 'admin'"))
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert admins == [ADMIN_EMAIL]


def test_first_start_four_workers_sqlite_one_admin_all_serve():
    """An empty SQLite file: 4 workers boot, all serve, one admin."""
    with tempfile.TemporaryDirectory() as tmp:
        _start_and_check(f"sqlite:///{tmp}/first-start.db")


@pytest.mark.postgres
def test_first_start_four_workers_postgres_one_admin_all_serve():
    """An empty PostgreSQL database (created for this test): 4 workers boot, all
    serve, one admin."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(TEST_DB_URL.replace("postgresql+psycopg://", "postgresql://"))
    name = parts.path.lstrip("/") + "_first_start"
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        _start_and_check(parts._replace(path=f"/{name}").geturl())
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )
