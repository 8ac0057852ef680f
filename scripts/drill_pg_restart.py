#!/usr/bin/env python3
"""PostgreSQL restart drill: restart the database twice under a
steady load of bookings, payments and reads through a 2-worker gunicorn, and check
that nothing broke.

It never touches the machine's own PostgreSQL: it builds a private cluster with
`initdb` in a temporary directory (as the `postgres` OS user when run as root), on a
free port with its socket in that directory, runs `flask db upgrade` against it
with APP_CONFIG=production, serves it with `gunicorn -c gunicorn.conf.py`, and
removes everything at the end.

Timeline: load for --warmup s; `pg_ctl restart -m fast` (a clean restart); load for
--between s; `pg_ctl stop -m immediate` (a crash: WAL recovery on start), --down s
with no database, `pg_ctl start`; load for --after s; stop.

Client threads each play one customer: POST /bookings; a finance employee records
the deposit and sometimes the balance as card-terminal payments (POST
/bookings/<id>/payments); GET the booking, list the packages. Every write carries an
Idempotency-Key and is retried with it on 503, a connection error or 409
idempotency-in-flight, for up to --retry-window s.

Checks (each failure is listed in the report; exit status 1 when any):
- every answer is 2xx, 409 or 503: no 500, no other status, no connection error,
  none slower than --max-latency s;
- every 503 is `application/problem+json` with status 503 and a Retry-After header;
- the crash outage produced 503s (a fast restart may pass unnoticed), and the
  service answered 2xx again after each outage without a gunicorn restart;
- every booking and payment answered 201 exists in the database with its amount;
- every booking's amount_paid = the sum of its payments, has exactly one invoice,
  and no `held` booking holds money; every departure's seats_taken = the seats of
  its held and confirmed bookings; every payment has its audit entry.

    .venv/bin/python scripts/drill_pg_restart.py [--json report.json] [--clients 6]
"""

import argparse
import contextlib
import glob
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.live import free_port, stop_server  # noqa: E402

BIN = ROOT / ".venv" / "bin"
API = "/api/v1"
OK_STATUSES = {200, 201, 409, 503}
DATABASE = "easytravels_drill"
CAPACITIES = (100_000, 100_000, 100_000, 40)  # the last one fills up: 409s too
DEPOSIT_PERCENT = 30


# --- the private PostgreSQL cluster -------------------------------------------------


def postgres_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb (or PG_BINDIR)."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    return Path(found[-1]).parent if found else None


def can_run_cluster() -> str | None:
    """Why a private cluster cannot run here, or None when it can."""
    if postgres_bindir() is None:
        return "no PostgreSQL server binaries (initdb) found; set PG_BINDIR"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to drop to the postgres user"
    return None


class PrivateCluster:
    """A throwaway PostgreSQL cluster in `workdir` on a free 127.0.0.1 port, trust
    auth, unix socket in `workdir`; run as the `postgres` OS user when we are root
    (the server refuses to run as root)."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.bindir = postgres_bindir()
        self.data = workdir / "data"
        self.log = workdir / "postgres.log"
        self.port = free_port()
        self.options = (
            f"-p {self.port} -k {workdir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=60"
        )

    @property
    def url(self) -> str:
        """URL of the drill database (user postgres, trust auth)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        with open(self.workdir / "pg_ctl.out", "ab") as out:
            # pg_ctl's postmaster would keep a pipe open: write to a file instead.
            subprocess.run(
                command,
                check=True,
                stdout=out,
                stderr=out,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )

    def create(self) -> None:
        """initdb, start, CREATE DATABASE."""
        if os.geteuid() == 0:
            shutil.chown(self.workdir, user="postgres", group="postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        self.start()
        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            self.options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (pg_ctl shutdown `mode`) and wait."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        """Restart the server (pg_ctl shutdown `mode`) and wait."""
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            self.options,
            "-m",
            mode,
            "-w",
            "-t",
            "60",
            "restart",
        )

    def destroy(self) -> None:
        """Stop the server (if up) and delete the directory."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)


# --- the application under test -----------------------------------------------------


def server_env(
    cluster: PrivateCluster, port: int, secret: str, workers: int, threads: int
) -> dict:
    """Production configuration against the private cluster (no admin bootstrap,
    no mail server: booking mails fail and are skipped, as in production)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADMIN_", "MAIL_", "TEST_DATABASE", "GUNICORN_"))
    }
    env.update(
        {
            "APP_CONFIG": "production",
            "DATABASE_URL": cluster.url,
            "SECRET_KEY": secret,
            "JWT_SECRET_KEY": secret,
            "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": str(threads),
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOG_LEVEL": "WARNING",
            "ACCESS_LOG": "1",
        }
    )
    return env


def migrate(env: dict) -> None:
    """`flask db upgrade`, as a release step does (docs/operations.md "Deploying")."""
    subprocess.run(
        [str(BIN / "flask"), "--app", "app", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def seed(
    cluster: PrivateCluster, secret: str, clients: int
) -> tuple[list[int], list[dict]]:
    """Published packages with departures of CAPACITIES seats, and one customer per
    client thread; returns (departure ids, [{"id", "headers"}])."""
    from datetime import UTC, datetime, timedelta

    from app import create_app
    from auth.passwords import hash_password
    from auth.tokens import issue_tokens
    from config import normalise_database_url
    from core.extensions import db
    from models import Customer, Departure, Employee, Package

    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(cluster.url),
            "SECRET_KEY": secret,
            "JWT_SECRET_KEY": secret,
            "JWT_ACCESS_TOKEN_EXPIRES": timedelta(hours=2),
        },
    )
    start = datetime.now(UTC).date() + timedelta(days=90)
    with app.app_context():
        departures = []
        for n, capacity in enumerate(CAPACITIES):
            package = Package(
                title=f"Drill tour {n}",
                destination="Norway",
                duration_days=5,
                base_price=Decimal("500.00"),
                currency="EUR",
                status="published",
                deposit_percent=DEPOSIT_PERCENT,
            )
            departure = Departure(
                package=package,
                start_date=start,
                end_date=start + timedelta(days=4),
                capacity=capacity,
                price=Decimal("500.00"),
                currency="EUR",
            )
            db.session.add_all([package, departure])
            departures.append(departure)
        password = hash_password(secrets.token_urlsafe(16))
        customers = [
            Customer(
                name=f"Drill {n}",
                email=f"drill{n}@example.test",
                password_hash=password,
            )
            for n in range(clients)
        ]
        # Card money from customers only enters through the payment provider, so a
        # finance employee records each payment as a card-terminal payment.
        cashier = Employee(
            name="Drill cashier",
            email="cashier@staff.test",
            role="finance",
            password_hash=password,
        )
        db.session.add_all([*customers, cashier])
        db.session.commit()
        till = {"Authorization": f"Bearer {issue_tokens(cashier)['access_token']}"}
        people = [
            {
                "id": c.id,
                "headers": {
                    "Authorization": f"Bearer {issue_tokens(c)['access_token']}"
                },
                "cashier": till,
            }
            for c in customers
        ]
        ids = [d.id for d in departures]
        db.session.remove()
        db.engine.dispose()
    return ids, people


@contextlib.contextmanager
def gunicorn(env: dict, port: int, log_path: Path):
    """`gunicorn -c gunicorn.conf.py` (its own process group); yields the Popen."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if (
                    requests.get(
                        f"http://127.0.0.1:{port}/health/ready", timeout=2
                    ).status_code
                    == 200
                ):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn not ready:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.2)
        yield process
    finally:
        stop_server(process)


# --- the load ------------------------------------------------------------------------


@dataclass
class Call:
    """One HTTP exchange as the client saw it (times: seconds since the drill start)."""

    op: str
    started: float
    ended: float
    status: int  # 0: connection error or client timeout
    problem_ok: bool = True  # a 503 in the problem shape with Retry-After
    problem_type: str = ""  # `type` of a problem answer
    error: str = ""


@dataclass
class Ledger:
    """What the clients were told, shared by all threads."""

    calls: list = field(default_factory=list)
    bookings: dict = field(default_factory=dict)  # id -> reference (201 seen)
    payments: dict = field(default_factory=dict)  # id -> (booking id, amount)
    abandoned: list = field(default_factory=list)  # writes given up after retries
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client(threading.Thread):
    """One customer's steady traffic until `stop` is set."""

    def __init__(self, base, person, departures, ledger, stop, t0, opts, seed):
        super().__init__(daemon=True)
        self.base, self.person, self.departures = base, person, departures
        self.ledger, self.stop, self.t0, self.opts = ledger, stop, t0, opts
        self.random = random.Random(seed)
        self.session = requests.Session()

    def call(self, op, method, path, body=None, key=None):
        """One request, recorded in the ledger; the response, or None on a connection
        error."""
        headers = dict(self.person["cashier" if op == "pay" else "headers"])
        if key:
            headers["Idempotency-Key"] = key
        started = time.monotonic() - self.t0
        try:
            resp = self.session.request(
                method,
                f"{self.base}{API}{path}",
                json=body,
                headers=headers,
                timeout=self.opts.client_timeout,
            )
        except requests.RequestException as exc:
            ended = time.monotonic() - self.t0
            self._record(Call(op, started, ended, 0, error=exc.__class__.__name__))
            self.session = requests.Session()
            return None
        ended = time.monotonic() - self.t0
        record = Call(op, started, ended, resp.status_code)
        problem = resp.headers.get("Content-Type", "").startswith(
            "application/problem+json"
        )
        if problem:
            record.problem_type = resp.json().get("type", "")
        if resp.status_code == 503:
            body_ok = problem and resp.json().get("status") == 503
            record.problem_ok = body_ok and bool(resp.headers.get("Retry-After"))
        self._record(record)
        return resp

    def _record(self, record):
        with self.ledger.lock:
            self.ledger.calls.append(record)

    def write(self, op, path, body):
        """POST with an Idempotency-Key, retried on 503 / connection error / 409
        in-flight for up to retry_window s; the final response or None."""
        key = uuid.uuid4().hex
        deadline = time.monotonic() + self.opts.retry_window
        while not self.stop.is_set() or time.monotonic() < deadline:
            resp = self.call(op, "POST", path, body, key)
            retry = (
                resp is None
                or resp.status_code == 503
                or (
                    resp.status_code == 409
                    and resp.json().get("type") == "/problems/idempotency-in-flight"
                )
            )
            if not retry:
                return resp
            if time.monotonic() >= deadline:
                break
            time.sleep(0.25)
        with self.ledger.lock:
            self.ledger.abandoned.append(
                {
                    "op": op,
                    "path": path,
                    "key": key,
                    "last": 0 if resp is None else resp.status_code,
                }
            )
        return None

    def run(self):
        """Book, pay and read until told to stop (the thread's body)."""
        while not self.stop.is_set():
            departure = self.random.choice(self.departures)
            seats = self.random.randint(1, 3)
            resp = self.write(
                "book", "/bookings", {"departure_id": departure, "seats": seats}
            )
            if resp is None or resp.status_code != 201:
                time.sleep(0.05)
                continue
            booking = resp.json()
            with self.ledger.lock:
                self.ledger.bookings[booking["id"]] = booking["reference"]
            amounts = [Decimal(booking["deposit_amount"])]
            if self.random.random() < 0.5:
                amounts.append(Decimal(booking["total_amount"]) - amounts[0])
            for amount in amounts:
                paid = self.write(
                    "pay",
                    f"/bookings/{booking['id']}/payments",
                    {
                        "amount": f"{amount:.2f}",
                        "method": "card",
                        "reference": f"pi_drill_{uuid.uuid4().hex[:12]}",
                    },
                )
                if paid is None or paid.status_code != 201:
                    break
                with self.ledger.lock:
                    self.ledger.payments[paid.json()["id"]] = (booking["id"], amount)
            self.call("read", "GET", f"/bookings/{booking['id']}")
            if self.random.random() < 0.3:
                self.call("list", "GET", "/packages?per_page=5")


# --- checks ---------------------------------------------------------------------------


def check_database(url: str, ledger: Ledger) -> tuple[dict, list[str]]:
    """Compare what the clients were told with what the database holds."""
    failures = []
    with psycopg.connect(url, connect_timeout=10) as conn:
        rows = dict(conn.execute("SELECT id, reference FROM bookings").fetchall())
        missing = {i: r for i, r in ledger.bookings.items() if rows.get(i) != r}
        if missing:
            failures.append(
                f"{len(missing)} bookings answered 201 are missing: {missing}"
            )
        pays = {
            i: (b, a)
            for i, b, a in conn.execute(
                "SELECT id, booking_id, amount FROM payments"
            ).fetchall()
        }
        lost = {i: v for i, v in ledger.payments.items() if pays.get(i) != v}
        if lost:
            failures.append(f"{len(lost)} payments answered 201 are missing: {lost}")
        queries = {
            "bookings whose amount_paid != sum(payments)": """
                SELECT b.id FROM bookings b LEFT JOIN payments p ON p.booking_id = b.id
                GROUP BY b.id, b.amount_paid
                HAVING b.amount_paid <> COALESCE(SUM(p.amount), 0)""",
            "bookings without exactly one invoice": """
                SELECT b.id FROM bookings b LEFT JOIN invoices i ON i.booking_id = b.id
                GROUP BY b.id HAVING COUNT(i.id) <> 1""",
            "held bookings holding money": """
                SELECT id FROM bookings WHERE status = 'held' AND amount_paid > 0""",
            "departures whose seats_taken != seats of live bookings": """
                SELECT d.id FROM departures d LEFT JOIN bookings b
                  ON b.departure_id = d.id AND b.status IN ('held', 'confirmed')
                GROUP BY d.id, d.seats_taken
                HAVING d.seats_taken <> COALESCE(SUM(b.seats), 0)""",
        }
        has_audit = conn.execute("SELECT to_regclass('audit_entries')").fetchone()[0]
        if has_audit:
            queries["payments without their audit entry"] = """
                SELECT p.id FROM payments p WHERE NOT EXISTS (
                  SELECT 1 FROM audit_entries a WHERE a.action = 'payment.recorded'
                  AND a.entity_type = 'payment' AND a.entity_id = p.id)"""
        for label, sql in queries.items():
            bad = [row[0] for row in conn.execute(sql).fetchall()]
            if bad:
                failures.append(f"{len(bad)} {label}: {bad[:20]}")
        stuck = conn.execute(
            "SELECT COUNT(*) FROM idempotency_keys WHERE state = 'in_flight'"
        ).fetchone()[0]
        facts = {
            "bookings_in_db": len(rows),
            "payments_in_db": len(pays),
            "bookings_committed_unseen": len(set(rows) - set(ledger.bookings)),
            "payments_committed_unseen": len(set(pays) - set(ledger.payments)),
            "idempotency_keys_left_in_flight": stuck,
            "audit_checked": bool(has_audit),
        }
    return facts, failures


def summarise(ledger: Ledger, outages: list[dict], opts) -> tuple[dict, list[str]]:
    """Numbers per status and per outage, and the failures among the calls."""
    calls = sorted(ledger.calls, key=lambda c: c.started)
    failures = []
    by_status: dict[str, int] = {}
    for c in calls:
        by_status[str(c.status)] = by_status.get(str(c.status), 0) + 1
    bad = [c for c in calls if c.status not in OK_STATUSES]
    if bad:
        failures.append(
            f"{len(bad)} answers outside 2xx/409/503: {[asdict(c) for c in bad[:10]]}"
        )
    shapeless = [c for c in calls if c.status == 503 and not c.problem_ok]
    if shapeless:
        failures.append(f"{len(shapeless)} 503s without problem shape / Retry-After")
    slow = [c for c in calls if c.ended - c.started > opts.max_latency]
    if slow:
        failures.append(f"{len(slow)} calls slower than {opts.max_latency}s")
    types: dict[str, int] = {}
    for c in calls:
        if c.problem_type:
            label = f"{c.status} {c.problem_type}"
            types[label] = types.get(label, 0) + 1
    for n, outage in enumerate(outages):
        until = outages[n + 1]["down_at"] if n + 1 < len(outages) else float("inf")
        during = [
            c
            for c in calls
            if c.status == 503 and outage["down_at"] - 0.5 <= c.ended < until
        ]
        outage["answers_503"] = len(during)
        if during:
            outage["last_503_after_up_s"] = round(during[-1].ended - outage["up_at"], 3)
        if not during and outage["expect_503"]:
            failures.append(f"{outage['kind']}: no 503 seen during the outage")
        back = [
            c for c in calls if 200 <= c.status < 300 and c.started >= outage["up_at"]
        ]
        if back:
            outage["first_2xx_after_up_s"] = round(back[0].ended - outage["up_at"], 3)
        else:
            failures.append(f"{outage['kind']}: no 2xx after the database came back")
        if during:
            outage["503_window_s"] = round(during[-1].ended - during[0].started, 3)
    latencies = sorted(c.ended - c.started for c in calls)
    stats = {
        "requests": len(calls),
        "by_status": dict(sorted(by_status.items())),
        "answers_2xx": sum(1 for c in calls if 200 <= c.status < 300),
        "answers_500": sum(1 for c in calls if c.status == 500),
        "problem_types": dict(sorted(types.items())),
        "connection_errors": by_status.get("0", 0),
        "latency_p50_s": round(latencies[len(latencies) // 2], 4)
        if latencies
        else None,
        "latency_p99_s": round(latencies[int(len(latencies) * 0.99)], 4)
        if latencies
        else None,
        "latency_max_s": round(latencies[-1], 4) if latencies else None,
        "writes_abandoned": len(ledger.abandoned),
        "bookings_201": len(ledger.bookings),
        "payments_201": len(ledger.payments),
    }
    return stats, failures


# --- the drill ------------------------------------------------------------------------


def run_drill(opts) -> dict:
    """Run the whole drill; returns the report (`failures` empty when it passed)."""
    workdir = Path(tempfile.mkdtemp(prefix="et-drill-"))
    cluster = PrivateCluster(workdir)
    report: dict = {"options": vars(opts).copy(), "outages": []}
    try:
        steps, mark = {}, time.monotonic()

        def step(name):
            nonlocal mark
            steps[name] = round(time.monotonic() - mark, 2)
            mark = time.monotonic()

        cluster.create()
        step("initdb_start_s")
        port, secret = free_port(), secrets.token_urlsafe(48)
        env = server_env(cluster, port, secret, opts.workers, opts.threads)
        migrate(env)
        step("migrate_s")
        departures, people = seed(cluster, secret, opts.clients)
        step("seed_s")
        report["setup"] = steps
        server_log = workdir / "gunicorn.log"
        ledger, stop = Ledger(), threading.Event()
        with gunicorn(env, port, server_log) as server:
            step("gunicorn_ready_s")
            t0 = time.monotonic()
            clients = [
                Client(
                    f"http://127.0.0.1:{port}",
                    person,
                    departures,
                    ledger,
                    stop,
                    t0,
                    opts,
                    seed=n,
                )
                for n, person in enumerate(people)
            ]
            for client in clients:
                client.start()
            time.sleep(opts.warmup)
            down = time.monotonic() - t0
            cluster.restart("fast")
            # A fast restart may be over before a request notices (pre-ping then
            # reconnects): its 503s are counted, not required.
            report["outages"].append(
                {
                    "kind": "restart -m fast",
                    "down_at": round(down, 3),
                    "up_at": round(time.monotonic() - t0, 3),
                    "expect_503": False,
                }
            )
            time.sleep(opts.between)
            down = time.monotonic() - t0
            cluster.stop("immediate")
            time.sleep(opts.down)
            cluster.start()
            report["outages"].append(
                {
                    "kind": "stop -m immediate + start",
                    "down_at": round(down, 3),
                    "up_at": round(time.monotonic() - t0, 3),
                    "expect_503": True,
                }
            )
            time.sleep(opts.after)
            stop.set()
            for client in clients:
                client.join(timeout=opts.retry_window + opts.client_timeout + 5)
            report["load_s"] = round(time.monotonic() - t0, 2)
            report["gunicorn_restarted"] = server.poll() is not None
            ready = requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=5)
            report["ready_after"] = ready.status_code
        for outage in report["outages"]:
            outage["outage_s"] = round(outage["up_at"] - outage["down_at"], 3)
        stats, failures = summarise(ledger, report["outages"], opts)
        facts, db_failures = check_database(cluster.url, ledger)
        log_text = server_log.read_text(errors="replace")
        report.update(stats)
        report["database"] = facts
        report["server_log_tracebacks"] = log_text.count("Traceback")
        report["server_log_errors"] = [
            line[:3000] for line in log_text.splitlines() if "Traceback" in line
        ][:5]
        report["server_log_worker_timeouts"] = log_text.count("WORKER TIMEOUT")
        report["abandoned"] = ledger.abandoned[:20]
        failures += db_failures
        if report["ready_after"] != 200:
            failures.append(
                f"/health/ready answered {report['ready_after']} at the end"
            )
        if report["gunicorn_restarted"]:
            failures.append("gunicorn exited during the drill")
        if report["server_log_worker_timeouts"]:
            failures.append("gunicorn killed a worker for a timeout (a request hung)")
        report["failures"] = failures
        if failures:
            report["server_log_tail"] = log_text[-4000:]
        return report
    finally:
        cluster.destroy()


def parse_args(argv=None):
    """Command-line options (seconds unless said otherwise)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=6, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--between", type=float, default=8.0)
    parser.add_argument("--down", type=float, default=3.0)
    parser.add_argument("--after", type=float, default=8.0)
    parser.add_argument("--retry-window", type=float, default=8.0)
    parser.add_argument("--client-timeout", type=float, default=30.0)
    parser.add_argument(
        "--max-latency", type=float, default=10.0, help="fail when any call took longer"
    )
    parser.add_argument("--json", help="also write the report to this file")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the drill, print the report as JSON; 0 when every check passed."""
    opts = parse_args(argv)
    reason = can_run_cluster()
    if reason:
        print(f"drill: cannot run: {reason}", file=sys.stderr)
        return 2
    report = run_drill(opts)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if opts.json:
        Path(opts.json).write_text(text + "\n")
    if report["failures"]:
        print(f"drill: FAILED ({len(report['failures'])} checks)", file=sys.stderr)
        return 1
    print("drill: passed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
