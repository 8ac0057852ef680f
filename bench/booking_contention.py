"""Booking throughput and oversell check under contention (docs/design.md
"Rules with numbers": seats).

Creates a fresh PostgreSQL database on a loopback server, builds the schema
(`flask --app app db upgrade`, falling back to create_all), seeds one published
departure with N seats and M customers, starts gunicorn with W workers on
127.0.0.1 (tests/live.py `serve`, the test suite's live-server helper), fires booking
attempts (1-3 seats each) from T client threads until every attempt was made or the time
cap passed, then prints what happened:

    attempts, 201s, 409s, 5xx/other, elapsed, bookings/s, p50/p99 latency,
    seats_taken vs capacity, oversell count (must be 0).

Run from the project root:

    .venv/bin/python bench/booking_contention.py                # defaults
    .venv/bin/python bench/booking_contention.py --workers 2 --seats 100 --attempts 500

Everything stays on this machine: the database URL and the server must be on a
loopback address. The bench database is dropped and recreated on every run (never
point it at a database you care about); `--keep-database` leaves it afterwards.
"""

import argparse
import ipaddress
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.live import serve  # noqa: E402 - after the path set-up

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/easytravels_bench"
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 15.0


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help=f"PostgreSQL URL of the bench database (default {DEFAULT_URL})",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1)")
    parser.add_argument(
        "--seats", type=int, default=500, help="departure capacity (500)"
    )
    parser.add_argument("--customers", type=int, default=200, help="customers (200)")
    parser.add_argument(
        "--attempts", type=int, default=2000, help="booking attempts (2000)"
    )
    parser.add_argument("--clients", type=int, default=32, help="client threads (32)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=60.0,
        help="stop firing after this many seconds (60)",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="random seed for party sizes"
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="do not drop the bench database at the end",
    )
    return parser.parse_args(argv)


# --- safety and database -----------------------------------------------------------


def require_loopback(host: str | None) -> None:
    """Refuse anything but a loopback host (localhost, 127.0.0.0/8, ::1)."""
    if host in (None, "", "localhost"):
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    sys.exit(
        f"refusing non-loopback database host {host!r}: "
        "this bench stays on this machine"
    )


def server_and_name(url: str) -> tuple[str, str]:
    """(URL of the server's `postgres` maintenance database, bench database name)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("the bench needs a PostgreSQL URL (postgresql://...)")
    require_loopback(parts.hostname)
    name = parts.path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1", "test"):
        sys.exit(
            f"refusing to recreate database {name!r}; name a dedicated bench database"
        )
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(url: str) -> None:
    """DROP (if it exists) and CREATE the bench database."""
    import psycopg
    from psycopg import sql

    admin_url, name = server_and_name(url)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    """DROP the bench database."""
    import psycopg
    from psycopg import sql

    admin_url, name = server_and_name(url)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


def app_env(url: str, secret: str) -> dict:
    """Environment of the app processes: the bench database, shared secrets, mail
    to the log (no SMTP), no admin bootstrap."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("ADMIN_EMAIL", "ADMIN_PASSWORD", "TEST_DATABASE_URL", "MAIL_SERVER")
    }
    env.update(
        {
            "DATABASE_URL": url,
            "APP_CONFIG": "development",
            "SECRET_KEY": secret,
            "JWT_SECRET_KEY": secret,
            "MAIL_SERVER": "",
        }
    )
    return env


def build_schema(env: dict) -> str:
    """`flask db upgrade`; create_all when the migrations cannot run. Returns how."""
    flask = ROOT / ".venv" / "bin" / "flask"
    command = [
        str(flask) if flask.exists() else "flask",
        "--app",
        "app",
        "db",
        "upgrade",
    ]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode == 0:
        return "flask db upgrade"
    print(
        f"flask db upgrade failed, using create_all:\n{done.stderr[-2000:]}",
        file=sys.stderr,
    )
    from app import create_app
    from core.extensions import db

    app = create_app()
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return "create_all"


def seed(seats: int, customers: int) -> tuple[int, list[str]]:
    """One published package with a departure of `seats` seats (adult 1000.00) and
    `customers` customers; returns (departure id, bearer tokens)."""
    from app import create_app
    from auth.passwords import hash_password
    from auth.tokens import issue_tokens
    from core.extensions import db
    from models import Customer, Departure, DepartureCategory, Package

    app = create_app()
    with app.app_context():
        package = Package(
            title="Bench Tour",
            destination="Loopback",
            duration_days=3,
            base_price=Decimal("1000.00"),
            currency="EUR",
            status="published",
            deposit_percent=100,
        )
        start = date.today() + timedelta(days=90)
        departure = Departure(
            package=package,
            start_date=start,
            end_date=start + timedelta(2),
            capacity=seats,
            seats_taken=0,
            price=Decimal("1000.00"),
            currency="EUR",
            status="scheduled",
        )
        departure.categories.append(
            DepartureCategory(category="adult", price=Decimal("1000.00"), seats_taken=0)
        )
        password = hash_password(secrets.token_urlsafe(16))
        people = [
            Customer(
                name=f"Bench {n}", email=f"bench{n}@bench.test", password_hash=password
            )
            for n in range(customers)
        ]
        db.session.add_all([package, departure, *people])
        db.session.commit()
        tokens = [issue_tokens(person)["access_token"] for person in people]
        departure_id = departure.id
        db.session.remove()
        db.engine.dispose()
    return departure_id, tokens


def final_state(departure_id: int) -> dict:
    """seats_taken, capacity and seats of live bookings, read back from the database."""
    from sqlalchemy import func, select

    from app import create_app
    from core.extensions import db
    from models import Booking, Departure

    app = create_app()
    with app.app_context():
        departure = db.session.get(Departure, departure_id)
        live = db.session.scalar(
            select(func.coalesce(func.sum(Booking.seats), 0)).where(
                Booking.departure_id == departure_id,
                Booking.status.in_(("held", "confirmed")),
            )
        )
        state = {
            "capacity": departure.capacity,
            "seats_taken": departure.seats_taken,
            "live_seats": int(live),
        }
        db.session.remove()
        db.engine.dispose()
    return state


# --- load -----------------------------------------------------------------------------


def fire(base_url: str, departure_id: int, tokens: list[str], args) -> dict:
    """Make up to `args.attempts` booking attempts from `args.clients` threads until
    done or `args.max_seconds` passed; returns status counts, latencies, elapsed."""
    import requests

    rng = random.Random(args.seed)
    plan = [(rng.randint(1, 3), rng.choice(tokens)) for _ in range(args.attempts)]
    lock = threading.Lock()
    cursor = iter(plan)
    results: list[tuple[int, float]] = []
    finished_201: list[float] = []
    local = threading.local()
    started = time.perf_counter()
    deadline = started + args.max_seconds

    def worker():
        local.session = requests.Session()
        while time.perf_counter() < deadline:
            with lock:
                item = next(cursor, None)
            if item is None:
                return
            seats, token = item
            begin = time.perf_counter()
            try:
                status = local.session.post(
                    f"{base_url}/api/v1/bookings",
                    json={"departure_id": departure_id, "seats": seats},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=REQUEST_TIMEOUT,
                ).status_code
            except requests.RequestException:
                status = 0
            end = time.perf_counter()
            with lock:
                results.append((status, end - begin))
                if status == 201:
                    finished_201.append(end - started)

    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        for _ in range(args.clients):
            pool.submit(worker)
    elapsed = time.perf_counter() - started
    return {
        "results": results,
        "elapsed": elapsed,
        "last_201": max(finished_201, default=0.0),
    }


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank) of `values`, 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def report(args, schema: str, run: dict, state: dict) -> int:
    """Print the numbers; returns the exit status (1 when anything oversold)."""
    statuses = [status for status, _ in run["results"]]
    latencies = [seconds * 1000 for _, seconds in run["results"]]
    created, refused = statuses.count(201), statuses.count(409)
    errors = sum(1 for s in statuses if s >= 500 or s == 0)
    other = len(statuses) - created - refused - errors
    oversell = max(
        0,
        state["live_seats"] - state["capacity"],
        state["seats_taken"] - state["capacity"],
    )
    lines = [
        f"schema             {schema}",
        f"workers x threads  {args.workers} x {args.threads}, "
        f"client threads {args.clients}",
        f"attempts           {len(statuses)} of {args.attempts} planned",
        f"201 created        {created}",
        f"409 refused        {refused}",
        f"5xx / no answer    {errors}"
        + (f"  (other statuses: {other})" if other else ""),
        f"elapsed            {run['elapsed']:.2f} s",
        f"attempts/s         {len(statuses) / run['elapsed']:.1f}",
        f"bookings/s         {created / run['elapsed']:.1f} over the run; "
        f"{created / run['last_201'] if run['last_201'] else 0:.1f} until the last 201 "
        f"({run['last_201']:.2f} s)",
        f"latency p50 / p99  {statistics.median(latencies) if latencies else 0:.1f} "
        "ms / "
        f"{percentile(latencies, 0.99):.1f} ms",
        f"seats_taken        {state['seats_taken']} of capacity {state['capacity']} "
        f"(live bookings hold {state['live_seats']})",
        f"oversell           {oversell}",
    ]
    print("\n".join(lines))
    consistent = state["seats_taken"] == state["live_seats"]
    if not consistent:
        print("MISMATCH: seats_taken differs from the seats of live bookings")
    return 0 if oversell == 0 and consistent and errors == 0 else 1


def main(argv=None) -> int:
    """Run the bench end to end; exit status 1 on oversell, mismatch or 5xx."""
    args = parse_args(argv)
    secret = secrets.token_urlsafe(48)
    env = app_env(args.database_url, secret)
    recreate_database(args.database_url)
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DATABASE_URL",
                "APP_CONFIG",
                "SECRET_KEY",
                "JWT_SECRET_KEY",
                "MAIL_SERVER",
            )
        }
    )
    for name in ("ADMIN_EMAIL", "ADMIN_PASSWORD"):
        os.environ.pop(name, None)
    try:
        schema = build_schema(env)
        departure_id, tokens = seed(args.seats, args.customers)
        with serve(
            env,
            timeout=START_TIMEOUT,
            workers=args.workers,
            threads=args.threads,
            extra_args=("--log-level", "warning"),
        ) as base_url:
            run = fire(base_url, departure_id, tokens, args)
        return report(args, schema, run, final_state(departure_id))
    finally:
        if not args.keep_database:
            drop_database(args.database_url)


if __name__ == "__main__":
    sys.exit(main())
