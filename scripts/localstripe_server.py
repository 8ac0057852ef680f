"""Run `localstripe` (a local, stateful server speaking Stripe's API) beside the
service, and register the service's webhook with it.

    python scripts/localstripe_server.py --port 0 --webhook-url URL --secret S \
        --env-file PATH

starts localstripe (with the refund and dispute events of
scripts/localstripe_events.py) on a free port (or --port), waits until it answers,
registers the webhook (localstripe's `POST /_config/webhooks/<id>` with `url` and
`secret`), writes `STRIPE_API_BASE=...` to --env-file when given, then stays in the
foreground until interrupted (stopping localstripe). Tests import `LocalStripe`
directly.

localstripe saves its state to the fixed file /tmp/localstripe.pickle after every
write; `--from-scratch` only skips reading it back, so every instance started here
begins empty.
"""

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 20.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _command() -> list[str]:
    """localstripe with the refund and dispute events it lacks
    (scripts/localstripe_events.py), run by this interpreter (the project's
    .venv)."""
    return [sys.executable, str(ROOT / "scripts" / "localstripe_events.py")]


class LocalStripe:
    """One localstripe process on 127.0.0.1:`port` (a free one by default)."""

    def __init__(self, port: int = 0, log_path: str | None = None):
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or os.devnull
        self.process = None

    def start(self) -> "LocalStripe":
        """Start the process and wait until its API answers; raises RuntimeError."""
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child)
        self.process = subprocess.Popen(
            [*_command(), "--port", str(self.port), "--from-scratch"],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited early (log: {self.log_path})")
            with contextlib.suppress(requests.RequestException):
                answer = requests.get(
                    f"{self.base_url}/v1/customers",
                    timeout=1,
                    auth=("sk_test_local", ""),
                )
                if answer.status_code < 500:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"localstripe did not answer within {START_TIMEOUT} s")

    def register_webhook(self, url: str, secret: str, webhook_id: str = "easytravels"):
        """Deliver every event to `url`, signed with `secret` (Stripe's scheme)."""
        answer = requests.post(
            f"{self.base_url}/_config/webhooks/{webhook_id}",
            data={"url": url, "secret": secret},
            timeout=5,
        )
        answer.raise_for_status()

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL after 5 s."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def main(argv=None) -> int:
    """Run localstripe with the webhook registered until a signal; 1 if it dies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--env-file", help="write STRIPE_API_BASE=... here once ready")
    parser.add_argument("--log", help="localstripe's own log file")
    args = parser.parse_args(argv)
    server = LocalStripe(args.port, args.log).start()
    stop = lambda *_: (server.stop(), sys.exit(0))  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.register_webhook(args.webhook_url, args.secret)
    print(f"localstripe: {server.base_url}, webhook -> {args.webhook_url}", flush=True)
    if args.env_file:
        Path(args.env_file).write_text(f"STRIPE_API_BASE={server.base_url}\n")
    while server.process.poll() is None:
        time.sleep(0.5)
    return 1


if __name__ == "__main__":
    sys.exit(main())
