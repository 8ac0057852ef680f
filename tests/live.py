"""A real gunicorn server for tests that need several worker processes (seat
inventory under concurrency, rate limits shared through Redis, ...).

The server runs `app:create_app()` with APP_CONFIG=testing against the test
database (`TEST_DATABASE_URL`), the same one the `app` fixture uses, so accounts made
by `actors` and rows inserted by the test are visible to it, and their tokens work
(both read the same JWT secret from config). A file-based SQLite URL works too when
passed as `env={"TEST_DATABASE_URL": ...}`; `sqlite:///:memory:` does not.

    with gunicorn_server(workers=2) as base_url:
        requests.post(f"{base_url}/api/v1/bookings", json=..., headers=...)
"""

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
# Never bootstrap an admin into the shared test database from the developer's env.
DROPPED_ENV = ("ADMIN_EMAIL", "ADMIN_PASSWORD", "DATABASE_URL")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(extra: dict | None) -> dict:
    """The child's environment: ours, testing config, the test database, `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env["APP_CONFIG"] = "testing"
    env["TEST_DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL", "")
    env.update(extra or {})
    if not env["TEST_DATABASE_URL"] or ":memory:" in env["TEST_DATABASE_URL"]:
        raise RuntimeError(
            "gunicorn_server needs TEST_DATABASE_URL (a shared database)"
        )
    return env


def _wait_healthy(process: subprocess.Popen, base_url: str, log_path: Path) -> None:
    """Poll GET /health until it answers 200; raise (with the server log) when the
    process dies or START_TIMEOUT passes."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{log_path.read_text()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(
        f"gunicorn not healthy after {START_TIMEOUT}s:\n{log_path.read_text()}"
    )


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group, SIGKILL it after STOP_TIMEOUT."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def gunicorn_server(workers: int = 2, env: dict | None = None, threads: int = 1):
    """Run gunicorn with `workers` processes (and `threads` per worker) on a free
    127.0.0.1 port; yield its base URL (`http://127.0.0.1:<port>`); stop it on exit.

    `env` adds or overrides environment variables of the server. Raises
    RuntimeError when no shared test database is configured or the server does not
    become healthy within START_TIMEOUT seconds (the message carries its log).
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        str(GUNICORN),
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "5",
        "app:create_app()",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=_server_env(env),
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group, stopped as a whole
            )
        try:
            _wait_healthy(process, base_url, log_path)
            yield base_url
        finally:
            stop_server(process)
