"""Booking latency while the SMTP server hangs (docs/outbox.md:
booking creation no longer waits for SMTP).

Starts, on a fresh SQLite database with the demo data, `flask run` in the embedded
default (EMBEDDED_WORKER: the outbox relay runs in a thread of the server) with
MAIL_SERVER pointing at either a server that accepts TCP and then never answers
(`--smtp hang`) or a working local SMTP sink (`--smtp ok`), then times N rounds of
`POST /bookings` (each booking is cancelled again so the demo customer's seat limit
never bites) and prints p50 / p95 / max of the POST. Before the outbox, a booking
sent its mail inside the request and waited MAIL_TIMEOUT_SECONDS (10 s) for a
hanging server.

    .venv/bin/python bench/outbox_latency.py                  # both modes, 30 rounds
    .venv/bin/python bench/outbox_latency.py --smtp hang --rounds 100
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
API = "/api/v1"
CUSTOMER = ("customer@easytravels.test", "demo-password-1")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HangingSmtp:
    """Accepts connections and never says anything (not even the greeting)."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(conn)

    def stop(self):
        """Stop accepting connections."""
        self.listener.close()


class Sink:
    """aiosmtpd handler that accepts every message and keeps none."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        """Accept the message (250)."""
        return "250 OK"


def start_server(tmp: Path, smtp_port: int) -> tuple[subprocess.Popen, str]:
    """Migrate, seed and serve a fresh SQLite database; returns (process, base URL)."""
    env = {
        **os.environ,
        "APP_CONFIG": "development",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "MAIL_TIMEOUT_SECONDS": "10",
        "ADMIN_EMAIL": "",
        "ADMIN_PASSWORD": "",
        "CELERY_BROKER_URL": "",
        "ACCESS_LOG": "false",
        "RATELIMIT_ENABLED": "false",
    }
    flask = [str(BIN / "flask"), "--app", "app"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(
            flask + command,
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    port = free_port()
    # The child gets its own copy of the descriptor; ours can close at once.
    with open(tmp / "server.log", "wb") as log:
        process = subprocess.Popen(
            [*flask, "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    sys.exit("the server did not start; see " + str(tmp / "server.log"))


def bookable_departure(base: str, headers: dict) -> int:
    """The first scheduled departure of a published package with free seats."""
    packages = requests.get(f"{base}{API}/packages", headers=headers, timeout=10).json()
    for package in packages["items"]:
        deps = requests.get(
            f"{base}{API}/packages/{package['id']}/departures",
            headers=headers,
            timeout=10,
        ).json()
        for dep in deps.get("items", []):
            if dep["status"] == "scheduled" and dep["seats_left"] >= 2:
                return dep["id"]
    sys.exit("no bookable departure in the demo data")


def measure(mode: str, rounds: int) -> dict:
    """Serve with the given SMTP mode and time `rounds` POST /bookings."""
    hang = HangingSmtp() if mode == "hang" else None
    sink = None
    if hang is None:
        sink = Controller(Sink(), hostname="127.0.0.1", port=free_port())
        sink.start()
    smtp_port = hang.port if hang else sink.port
    with tempfile.TemporaryDirectory(prefix="easytravels-outbox-bench.") as tmp:
        process, base = start_server(Path(tmp), smtp_port)
        try:
            token = requests.post(
                f"{base}{API}/auth/login",
                json={
                    "email": CUSTOMER[0],
                    "password": CUSTOMER[1],
                    "account": "customer",
                },
                timeout=10,
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            departure = bookable_departure(base, headers)
            timings, statuses = [], []
            for _ in range(rounds):
                started = time.perf_counter()
                answer = requests.post(
                    f"{base}{API}/bookings",
                    headers=headers,
                    timeout=30,
                    json={"departure_id": departure, "seats": 1},
                )
                timings.append((time.perf_counter() - started) * 1000)
                statuses.append(answer.status_code)
                if answer.status_code == 201:
                    requests.post(
                        f"{base}{API}/bookings/{answer.json()['id']}/cancel",
                        headers=headers,
                        json={"refund_to": "wallet"},
                        timeout=30,
                    )
            ready = requests.get(f"{base}/health/ready", timeout=10).json()
            drained = None
            if mode == "ok":  # the embedded worker catches up once the load stops
                done_at = time.monotonic()
                while time.monotonic() - done_at < 120:
                    depth = requests.get(f"{base}/health/ready", timeout=10).json()[
                        "outbox"
                    ]
                    if depth["pending"] == 0:
                        drained = time.monotonic() - done_at
                        break
                    time.sleep(0.5)
        finally:
            process.terminate()
            process.wait(timeout=10)
    if hang:
        hang.stop()
    if sink:
        sink.stop()
    timings.sort()
    return {
        "mode": mode,
        "rounds": rounds,
        "created": statuses.count(201),
        "p50_ms": statistics.median(timings),
        "p95_ms": timings[max(int(len(timings) * 0.95) - 1, 0)],
        "max_ms": timings[-1],
        "outbox": ready.get("outbox"),
        "drained_s": drained,
    }


def main(argv=None) -> None:
    """Measure each SMTP mode and print one row per mode."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smtp", choices=("hang", "ok", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    modes = ("ok", "hang") if args.smtp == "both" else (args.smtp,)
    print(
        f"{'smtp':<6} {'rounds':>6} {'201':>5} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'max ms':>8}  "
        "outbox right after the last POST; seconds until drained (ok mode)"
    )
    for mode in modes:
        r = measure(mode, args.rounds)
        print(
            f"{r['mode']:<6} {r['rounds']:>6} {r['created']:>5} {r['p50_ms']:>8.1f} "
            f"{r['p95_ms']:>8.1f} {r['max_ms']:>8.1f}  {r['outbox']}; drained: "
            f"{'n/a' if r['drained_s'] is None else round(r['drained_s'], 1)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
