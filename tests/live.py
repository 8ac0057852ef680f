"""A real gunicorn server for tests that need several worker processes (seat
inventory under concurrency, rate limits shared through Redis, ...).

The server runs `app:create_app()` with APP_CONFIG=testing against the test
database (`TEST_DATABASE_URL`), the same one the `app` fixture uses, so accounts made
by `actors` and rows inserted by the test are visible to it, and their tokens work
(both read the same JWT secret from config). A file-based SQLite URL works too when
passed as `env={"TEST_DATABASE_URL": ...}`; `sqlite:///:memory:` does not.

    with gunicorn_server(workers=2) as base_url:
        requests.post(f"{base_url}/api/v1/bookings", json=..., headers=...)

`post_together(base_url, calls)` POSTs many requests at once (one thread each,
released by one barrier) for the concurrency tests.

`serve(env, ...)` runs the same server with an environment of the caller's own
(the benches), `started_gunicorn` without waiting for health (the first-start test
watches its workers boot).
"""

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests import ROOT

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
# Never bootstrap an admin into the shared test database from the developer's env.
DROPPED_ENV = ("ADMIN_EMAIL", "ADMIN_PASSWORD", "DATABASE_URL")
APP_TARGET = "app:create_app()"


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


def wait_healthy(
    process: subprocess.Popen,
    base_url: str,
    log_path: Path,
    timeout: float = START_TIMEOUT,
) -> None:
    """Poll GET /health until it answers 200; raise RuntimeError (with the server
    log) when the process dies or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{log_path.read_text()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(
        f"gunicorn not healthy after {timeout}s:\n{log_path.read_text()}"
    )


def gunicorn_command(
    port: int,
    *,
    workers: int,
    threads: int | None = 1,
    extra_args: tuple[str, ...] = (),
    target: str = APP_TARGET,
) -> list[str]:
    """The gunicorn command line serving `target` with `workers` processes of
    `threads` threads (None: as gunicorn.conf.py says) on 127.0.0.1:`port`;
    `extra_args` go before the target (e.g. `("--log-level", "warning")`).
    gunicorn.conf.py applies too; flags win."""
    return [
        str(GUNICORN) if GUNICORN.exists() else "gunicorn",
        "-w",
        str(workers),
        *(("--threads", str(threads)) if threads is not None else ()),
        "-b",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "5",
        *extra_args,
        target,
    ]


@contextlib.contextmanager
def started_gunicorn(env: dict, **command):
    """Start gunicorn (`gunicorn_command` options in `command`) on a free 127.0.0.1
    port with exactly the environment `env`, in its own process group, its output
    to a temporary log file; yield `(process, base_url, log_path)` at once (no
    health check); stop it on exit (`stop_server`)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                gunicorn_command(port, **command),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group, stopped as a whole
            )
        try:
            yield process, f"http://127.0.0.1:{port}", log_path
        finally:
            stop_server(process)


@contextlib.contextmanager
def serve(env: dict, *, timeout: float = START_TIMEOUT, **command):
    """`started_gunicorn` that waits until GET /health answers 200, then yields the
    base URL (`http://127.0.0.1:<port>`); used by the tests (`gunicorn_server`) and
    bench/booking_contention.py (bench/load.py uses `started_gunicorn`). Raises
    RuntimeError (with the server log) when it does not become healthy within
    `timeout` seconds."""
    with started_gunicorn(env, **command) as (process, base_url, log_path):
        wait_healthy(process, base_url, log_path, timeout)
        yield base_url


@contextlib.contextmanager
def gunicorn_server(workers: int = 2, env: dict | None = None, threads: int = 1):
    """Run gunicorn with `workers` processes (and `threads` per worker) on a free
    127.0.0.1 port; yield its base URL (`http://127.0.0.1:<port>`); stop it on exit.

    `env` adds or overrides environment variables of the server. Raises
    RuntimeError when no shared test database is configured or the server does not
    become healthy within START_TIMEOUT seconds (the message carries its log).
    """
    with serve(_server_env(env), workers=workers, threads=threads) as base_url:
        yield base_url


def post_together(base_url: str, calls: list[tuple[str, dict | None, dict]]) -> list:
    """POST every `(path under /api/v1, json body, headers)` from its own thread,
    all released by one barrier; returns `(status, json, headers)` in the same
    order."""
    barrier = threading.Barrier(len(calls))

    def post(call):
        path, body, headers = call
        with requests.Session() as session:
            barrier.wait(timeout=30)
            resp = session.post(
                f"{base_url}/api/v1{path}", json=body, headers=headers, timeout=60
            )
            return resp.status_code, resp.json(), resp.headers

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(post, calls))
