"""Real Celery worker processes for the tests: `celery -A worker.celery_app worker
-B` (worker plus embedded beat) started against the test database, the session's
SMTP server and a local broker (Redis or RabbitMQ), killed by process group."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDIS_BROKER = os.environ.get("TEST_CELERY_REDIS_URL", "redis://127.0.0.1:6379/5")
# A vhost of its own when it exists (rabbitmqctl add_vhost easytravels_i13), else the
# default vhost (see rabbit_broker).
RABBIT_BROKER = os.environ.get(
    "TEST_CELERY_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/easytravels_i13"
)
RABBIT_DEFAULT_VHOST = "amqp://guest:guest@127.0.0.1:5672//"


def broker_reachable(url: str) -> bool:
    """True when the broker answers a connection within 3 s."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def rabbit_broker() -> str:
    """RABBIT_BROKER when reachable, else the local RabbitMQ's default vhost."""
    if broker_reachable(RABBIT_BROKER) or "TEST_CELERY_AMQP_URL" in os.environ:
        return RABBIT_BROKER
    return RABBIT_DEFAULT_VHOST


def purge(url: str) -> None:
    """Drop messages left in the broker's default queue by an earlier run."""
    from kombu import Connection

    with Connection(url, connect_timeout=3) as conn:
        channel = conn.channel()
        with contextlib.suppress(Exception):  # no queue yet: nothing to purge
            channel.queue_purge("celery")


class CeleryWorker:
    """One `celery -A worker.celery_app worker -B` process in its own session."""

    def __init__(self, app, broker: str, log_path: Path, **env):
        self.log_path = log_path
        self.env = {
            **os.environ,
            "APP_CONFIG": "testing",
            "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(app.extensions["mail"].port),
            "MAIL_USE_TLS": "false",
            "MAIL_USE_SSL": "false",
            "CELERY_BROKER_URL": broker,
            "OUTBOX_RELAY_INTERVAL_SECONDS": "0.5",
            "ADMIN_EMAIL": "",
            "ADMIN_PASSWORD": "",
            "LOG_LEVEL": "INFO",
            **{k: str(v) for k, v in env.items()},
        }
        self.process = None

    def start(self) -> "CeleryWorker":
        """Start the worker; output goes to `log_path`."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - the worker process keeps it
        beat_file = self.log_path.with_suffix(".beat")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker.celery_app",
                "worker",
                "-B",
                "-s",
                str(beat_file),
                "--pool",
                "threads",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (a crash, no clean shutdown)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (warm shutdown), SIGKILL after 10 s."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )


def wait_for(
    predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"
):
    """Poll `predicate` until it returns a truthy value; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def committed_outbox(app) -> list[tuple]:
    """`(id, state, attempts)` of every outbox row, oldest first, read in a fresh
    session and transaction (its own app context, plain columns, no identity map):
    what the worker has committed by now."""
    from sqlalchemy import select

    from core.extensions import db
    from models import OutboxMessage

    with app.app_context():
        rows = db.session.execute(
            select(
                OutboxMessage.id, OutboxMessage.state, OutboxMessage.attempts
            ).order_by(OutboxMessage.id)
        ).all()
    return [tuple(row) for row in rows]
