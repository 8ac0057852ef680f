"""Load and scale bench: the service under gunicorn on PostgreSQL next to a BARE
Flask app (bench/bare_app.py) that answers the same requests with one SQL statement,
measured side by side in one run, at two table sizes, against the performance goals.

Scenarios (the bare app's equivalents in bench/bare_app.py):

    package list     GET /api/v1/packages                  (anonymous, published)
    package search   GET /api/v1/packages?q=volcanic safari (full text, ~1 % of rows)
    customer list    GET /api/v1/customers                 (staff bearer token)
    booking list     GET /api/v1/bookings                  (staff: every booking)
    package get      GET /api/v1/packages/<id>             (anonymous, 100 ids in turn)
    booking get      GET /api/v1/bookings/<id>             (staff, 100 ids in turn)
    booking create   POST /api/v1/bookings                 (1,000 customer tokens in
                                                            turn, 1 seat on a departure
                                                            with 10M seats; the bare
                                                            app books a twin departure)
    package deep page GET /api/v1/packages?cursor=...      (1M rows only, and only when
                                                            the service's page meta has
                                                            `next_cursor`: the cursor
                                                            after --deep-pages pages of
                                                            100; bare: the same page by
                                                            keyset)

The small database has `--small-rows` (1k) packages, customers and bookings and runs
every scenario but the deep page; the big one has `--big-rows` (1M) of each and runs
the four lists (and the deep page). Both are dropped and recreated (schema by
`flask db upgrade`, rows by INSERT ... SELECT generate_series, the GIN search index
built after the load with the DDL of models/package.py, then VACUUM ANALYZE). The
bulk bookings are `expired` holds of one seat on the bench departure, one per
customer in turn (no seats taken, no payment, no invoice or travellers: all of it
allowed by the schema's constraints, see BOOKINGS_BULK).

Each scenario is measured `--repeats` (3) times per app, alternating service and
bare, each window a warm-up then a fixed measured time; the table shows the median
of the runs and the spread of the service's req/s. The goals (GOALS): the lists
and search at 1k rows >= 0.6x the bare app's req/s, get-by-id >= 0.7x, booking
creation >= 0.3x, and each list's p50 at 1M rows <= 1.5x its p50 at 1k rows.

The service runs with APP_CONFIG=production (JSON logs with an access line per
request, security headers, rate limiter with memory storage, no SMTP: the
booking-held mail is skipped with a log line); both apps run under the same gunicorn
command line (`-w 4`, sync workers) and the same gunicorn config file when there is
one (`--gunicorn-config`, default ./gunicorn.conf.py if present).

The load comes from client PROCESSES (to keep the client's GIL out of the way),
each with a few threads, one request in flight per thread (closed loop); gunicorn
sync workers close the connection after each response, so every request opens a
new loopback TCP connection, for both apps alike. The client sends no conditional
headers (no If-None-Match): every answer is a full response. req/s counts requests
started in the measured window; p50/p99 are over those requests. Client, server and
PostgreSQL share this machine's cores: the numbers are a comparison, not a capacity
figure.

Run from the project root (about 10 minutes at the defaults on a 2-core machine:
66 windows of 6 s, 72 with the deep page, and seeding 3M rows; --quick is a 2.5
minute smoke run with 100k rows in the big database and short windows):

    .venv/bin/python bench/load.py                 # prints the tables
    .venv/bin/python bench/load.py --write-readme  # and docs/benchmarks.md gets them
    .venv/bin/python bench/load.py --quick
    make bench-load                                # --write-readme, BENCH_LOAD_ARGS

`--write-readme` replaces what is between README_START and README_END in
docs/benchmarks.md with the tables and a line naming the machine (CPU, cores, RAM,
PostgreSQL version, date, commit); a --quick run never writes it.

Everything stays on this machine: database URLs must name a loopback host and the
servers bind 127.0.0.1. Exit status 1 when a scenario had errors.
"""

import argparse
import contextlib
import http.client
import ipaddress
import json
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.live import started_gunicorn, wait_healthy  # noqa: E402 - after path set-up

DEFAULT_SMALL_URL = "postgresql://postgres@127.0.0.1:5432/easytravels_bench_load_small"
DEFAULT_BIG_URL = "postgresql://postgres@127.0.0.1:5432/easytravels_bench_load_big"
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
SEARCH_QUERY = "volcanic safari"
DEPARTURE_SEATS = 10_000_000
SAMPLE_IDS = 100  # ids the get-by-id scenarios request in turn
DEEP_WALK_SECONDS = 60.0  # the deep page follows cursors at most this long
README = ROOT / "docs" / "benchmarks.md"
README_START = "<!-- bench-load:start -->"
README_END = "<!-- bench-load:end -->"
LISTS = ("package list", "package search", "customer list", "booking list")
# The performance goals: (kind, scenario, target). "rps": service req/s / bare
# req/s at the small size >= target; "scale": the service's p50 at the big size /
# its p50 at the small size <= target; "info": shown, no target.
GOALS = (
    *(("rps", name, 0.6) for name in LISTS),
    ("rps", "package get", 0.7),
    ("rps", "booking get", 0.7),
    *(("scale", name, 1.5) for name in LISTS),
    ("rps", "booking create", 0.3),
    ("info", "package deep page", None),
)
# Words of the seeded packages: the title and description carry ADJECTIVES[(n // 10)
# % 10] and NOUNS[(n // 100) % 10], so SEARCH_QUERY matches 1 % of the rows; one in
# ten packages (n % 10 == 0) is a draft, the rest are published.
ADJECTIVES = [
    "coastal",
    "alpine",
    "historic",
    "culinary",
    "wild",
    "romantic",
    "desert",
    "volcanic",
    "arctic",
    "tropical",
]
NOUNS = [
    "adventure",
    "retreat",
    "escape",
    "safari",
    "cruise",
    "trek",
    "getaway",
    "expedition",
    "discovery",
    "journey",
]
DESTINATIONS = [
    "Lisbon",
    "Reykjavik",
    "Nairobi",
    "Kyoto",
    "Cusco",
    "Marrakesh",
    "Hobart",
    "Tromso",
    "Zanzibar",
    "Bali",
    "Santorini",
    "Patagonia",
    "Banff",
    "Hanoi",
    "Cape Town",
    "Queenstown",
    "Petra",
    "Havana",
    "Tbilisi",
    "Madeira",
]


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--small-database-url",
        default=DEFAULT_SMALL_URL,
        help=f"database for the small tables (default {DEFAULT_SMALL_URL})",
    )
    parser.add_argument(
        "--big-database-url",
        default=DEFAULT_BIG_URL,
        help=f"database for the big tables (default {DEFAULT_BIG_URL})",
    )
    parser.add_argument(
        "--small-rows",
        type=int,
        default=1_000,
        help="packages, customers and bookings in the small database (1000)",
    )
    parser.add_argument(
        "--big-rows",
        type=int,
        default=1_000_000,
        help="packages, customers and bookings in the big database (1000000)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1)")
    parser.add_argument(
        "--gunicorn-config",
        default=None,
        help="gunicorn config file for both apps (default: ./gunicorn.conf.py "
        "when it exists, else none)",
    )
    parser.add_argument(
        "--client-processes", type=int, default=2, help="load generator processes (2)"
    )
    parser.add_argument(
        "--client-threads",
        type=int,
        default=4,
        help="threads per client process, one request in flight each (4)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of load before each measured window (1)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=5.0,
        help="seconds measured per window (5)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="windows per scenario and app, alternating service and bare; the "
        "median is reported (3)",
    )
    parser.add_argument(
        "--deep-pages",
        type=int,
        default=100,
        help="pages of 100 the deep-page scenario follows by cursor before the "
        "measured page (100, i.e. 10,000 rows deep)",
    )
    parser.add_argument(
        "--booking-customers",
        type=int,
        default=1_000,
        help="customers whose tokens make the bookings, in turn (1000: each holds at "
        "most MAX_HELD_SEATS_PER_CUSTOMER seats per departure)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: --big-rows 100000 --warmup 0.3 --duration 1 --deep-pages 10; "
        "never writes docs/benchmarks.md",
    )
    parser.add_argument(
        "--write-readme",
        action=argparse.BooleanOptionalAction,
        default=False,
        help=f"replace the block between {README_START} and {README_END} in "
        "docs/benchmarks.md with this run's tables and machine (not with --quick)",
    )
    parser.add_argument(
        "--show-sql",
        action="store_true",
        help="print the SQL the service runs for one request of each scenario",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="do not drop the two bench databases at the end",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.big_rows = min(args.big_rows, 100_000)
        args.warmup, args.duration = 0.3, 1.0
        args.deep_pages = min(args.deep_pages, 10)
    if args.gunicorn_config is None and (ROOT / "gunicorn.conf.py").exists():
        args.gunicorn_config = str(ROOT / "gunicorn.conf.py")
    if args.booking_customers > min(args.small_rows, args.big_rows):
        parser.error("--booking-customers must not exceed the rows of either database")
    if min(args.repeats, args.small_rows, args.big_rows, args.deep_pages) < 1:
        parser.error(
            "--repeats, --small-rows, --big-rows and --deep-pages must be at least 1"
        )
    return args


def progress(message: str) -> None:
    """One progress line on stderr (the table goes to stdout)."""
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- safety and databases -----------------------------------------------------------


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
        sys.exit("the bench needs PostgreSQL URLs (postgresql://...)")
    require_loopback(parts.hostname)
    name = parts.path.lstrip("/")
    if not name or name in (
        "postgres",
        "template0",
        "template1",
        "test",
        "root",
        "easytravels_test",
        "easytravels_ci",
    ):
        sys.exit(
            f"refusing to recreate database {name!r}; name a dedicated bench database"
        )
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres")), name


def libpq_url(url: str) -> str:
    """The URL without a SQLAlchemy driver suffix (psycopg.connect wants libpq's)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def admin_execute(url: str, *statements) -> None:
    """Run `statements` (psycopg.sql objects) on the server's maintenance database."""
    import psycopg

    admin_url, _ = server_and_name(url)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        for statement in statements:
            conn.execute(statement)


def recreate_database(url: str, template: str | None = None) -> None:
    """DROP (if it exists) and CREATE the database, as a copy of `template` if given."""
    from psycopg import sql

    _, name = server_and_name(url)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    admin_execute(
        url,
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
        create,
    )


def drop_database(url: str) -> None:
    """DROP the database."""
    from psycopg import sql

    _, name = server_and_name(url)
    admin_execute(
        url,
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
    )


def app_env(url: str, secret: str) -> dict:
    """Environment of the service and the bare app: the database, production config
    with a random secret, no SMTP, no admin bootstrap, rate limits in memory."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "ADMIN_EMAIL",
            "ADMIN_PASSWORD",
            "TEST_DATABASE_URL",
            "MAIL_SERVER",
            "RATELIMIT_STORAGE_URI",
            "LOG_LEVEL",
            "ACCESS_LOG",
            "LOG_FORMAT",
        )
    }
    env.update(
        {
            "DATABASE_URL": url,
            "APP_CONFIG": "production",
            "SECRET_KEY": secret,
            "JWT_SECRET_KEY": secret,
            "MAIL_SERVER": "",
        }
    )
    return env


def build_schema(env: dict) -> None:
    """`flask db upgrade` on env's DATABASE_URL (exits with its output on failure)."""
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
        timeout=300,
    )
    if done.returncode != 0:
        sys.exit(f"flask db upgrade failed:\n{done.stderr[-3000:]}")


def seed_fixtures(url: str) -> dict:
    """The rows every scenario needs, before the bulk rows: an admin (staff token for
    the lists) and a published package with two departures of DEPARTURE_SEATS seats
    and their `adult` category: one the service books, one the bare app books (so
    the bare app's holds never count against a customer's held-seat limit on the
    service's departure, services/booking/booking_limits.py). Returns their ids."""
    import psycopg

    with psycopg.connect(libpq_url(url)) as conn:
        admin_id = conn.execute(
            "INSERT INTO employees (role, name, email, active, created_at, updated_at) "
            "VALUES ('admin', 'Load Admin', 'admin@load.test', true, now(), now()) "
            "RETURNING id"
        ).fetchone()[0]
        text = "Bench Tour\nThe departure the load bench books.\nLoopback"
        package_id = conn.execute(
            "INSERT INTO packages (title, description, destination, transport_mode, "
            "duration_days, base_price, currency, deposit_percent, status, "
            "search_document, "
            "created_at, updated_at) VALUES ('Bench Tour', "
            "'The departure the load bench "
            "books.', 'Loopback', 'none', 3, 1000, 'EUR', 100, 'published', %s, "
            "now() - interval '10 years', now()) RETURNING id",
            (text,),
        ).fetchone()[0]
        departures = []
        for _ in range(2):
            departure_id = conn.execute(
                "INSERT INTO departures (package_id, start_date, end_date, capacity, "
                "seats_taken, price, currency, status, min_party_size, created_at, "
                "updated_at) VALUES (%s, current_date + 90, current_date + 92, %s, 0, "
                "1000, 'EUR', 'scheduled', 1, now(), now()) RETURNING id",
                (package_id, DEPARTURE_SEATS),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO departure_categories (departure_id, category, price, "
                "seats_taken) VALUES (%s, 'adult', 1000, 0)",
                (departure_id,),
            )
            departures.append(departure_id)
    return {
        "admin_id": admin_id,
        "package_id": package_id,
        "departure_id": departures[0],
        "bare_departure_id": departures[1],
    }


PACKAGES_BULK = """
INSERT INTO packages (title, description, destination, transport_mode, duration_days,
                      base_price, currency, deposit_percent, status, search_document,
                      created_at, updated_at)
SELECT title, description, destination, 'none', days, 400 + n %% 3000, 'EUR', 100,
       CASE WHEN n %% 10 = 0 THEN 'draft' ELSE 'published' END,
       title || E'\\n' || description || E'\\n' || destination,
       now() - n * interval '1 second', now() - n * interval '1 second'
FROM (
    SELECT n, 3 + n %% 12 AS days,
           (%(destinations)s::text[])[1 + n %% 20] AS destination,
           initcap((%(adjectives)s::text[])[1 + (n / 10) %% 10]) || ' '
               || initcap((%(nouns)s::text[])[1 + (n / 100) %% 10]) || ' ' || n
               AS title,
           'A ' || (%(adjectives)s::text[])[1 + (n / 10) %% 10] || ' '
               || (%(nouns)s::text[])[1 + (n / 100) %% 10] || ' of ' || (3 + n %% 12)
               || ' days in ' || (%(destinations)s::text[])[1 + n %% 20]
               || ': guided visits, local food and free afternoons.' AS description
    FROM generate_series(1, %(rows)s) AS n
) AS generated
"""
CUSTOMERS_BULK = """
INSERT INTO customers
    (name, email, phone, active, wallet_balance, created_at, updated_at)
SELECT 'Customer ' || n, 'customer' || n || '@load.test',
       '+44 20 ' || lpad(n::text, 8, '0'),
       true, 0, now() - n * interval '1 second', now() - n * interval '1 second'
FROM generate_series(1, %(rows)s) AS n
"""


# One-seat holds of the bench departure that lapsed unpaid (`expired`, as the hold
# sweep leaves them): they take no seats (departures.seats_taken stays as it is),
# have no payment, and like bookings made before invoices no invoice; customers
# take turns (1, 2, ... `customers`, 1, ...); created one second apart, an hour
# before now and older, so the bookings the bench creates are the newest.
BOOKINGS_BULK = """
INSERT INTO bookings (reference, customer_id, departure_id, seats, status, currency,
                      unit_price, total_amount, amount_paid, amount_refunded,
                      deposit_amount, price_snapshot, hold_expires_at, expired_at,
                      created_at, updated_at)
SELECT 'LD-' || n, %(first_customer)s + (n - 1) %% %(customers)s, %(departure_id)s,
       1, 'expired', 'EUR', 1000, 1000, 0, 0, 1000, '{"adult": "1000.00"}'::json,
       created + interval '15 minutes', created + interval '15 minutes',
       created, created + interval '15 minutes'
FROM (
    SELECT n, now() - interval '1 hour' - n * interval '1 second' AS created
    FROM generate_series(1, %(rows)s) AS n
) AS generated
"""


def seed_bulk(url: str, rows: int, departure_id: int) -> dict:
    """`rows` packages, `rows` customers and `rows` bookings (see ADJECTIVES and
    BOOKINGS_BULK), the GIN search index rebuilt after the load with the DDL of
    models/package.py, VACUUM ANALYZE; packages are filled over one connection
    while customers then bookings are over another, with a progress line per step.
    Returns the table sizes, how many published packages match SEARCH_QUERY,
    SAMPLE_IDS ids of published packages and of bookings (pseudo-random, the same
    for the same rows) and the seconds it took."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    from models.package import POSTGRES_FTS_DDL

    _, name = server_and_name(url)

    def step(label: str, conn, statement, params=None) -> None:
        began = time.monotonic()
        conn.execute(statement, params)
        progress(f"  {name}: {label} in {time.monotonic() - began:.1f} s")

    def packages() -> None:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute("DROP INDEX IF EXISTS ix_packages_search_fts")
            params = {
                "rows": rows,
                "adjectives": ADJECTIVES,
                "nouns": NOUNS,
                "destinations": DESTINATIONS,
            }
            step(f"{rows:,} packages", conn, PACKAGES_BULK, params)
            conn.execute("SET maintenance_work_mem = '256MB'")
            began = time.monotonic()
            for statement in POSTGRES_FTS_DDL:
                conn.execute(statement)
            progress(f"  {name}: search index in {time.monotonic() - began:.1f} s")
            step("VACUUM ANALYZE packages", conn, "VACUUM ANALYZE packages")

    def customers_and_bookings() -> None:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            step(f"{rows:,} customers", conn, CUSTOMERS_BULK, {"rows": rows})
            first = conn.execute("SELECT min(id) FROM customers").fetchone()[0]
            params = {
                "rows": rows,
                "first_customer": first,
                "customers": rows,
                "departure_id": departure_id,
            }
            step(f"{rows:,} bookings", conn, BOOKINGS_BULK, params)
            step(
                "VACUUM ANALYZE customers, bookings",
                conn,
                "VACUUM ANALYZE customers, bookings",
            )

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for job in [pool.submit(packages), pool.submit(customers_and_bookings)]:
            job.result()
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:

        def sample(table: str, where: str = "true") -> list[int]:
            return [
                row[0]
                for row in conn.execute(
                    f"SELECT id FROM {table} WHERE {where} "
                    f"ORDER BY md5(id::text) LIMIT {SAMPLE_IDS}"
                )
            ]

        def count(table: str) -> int:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

        return {
            "packages": count("packages"),
            "customers": count("customers"),
            "bookings": count("bookings"),
            "search_hits": conn.execute(
                "SELECT count(*) FROM packages WHERE status = 'published' AND "
                "to_tsvector('english', search_document) "
                "@@ plainto_tsquery('english', %s)",
                (SEARCH_QUERY,),
            ).fetchone()[0],
            "package_ids": sample("packages", "status = 'published'")
            if rows <= 100_000
            else [],
            "booking_ids": sample("bookings") if rows <= 100_000 else [],
            "seconds": time.monotonic() - started,
        }


def in_process_checks(
    env: dict, fixtures: dict, customers: int, plans, show_sql: bool = False
) -> tuple:
    """Bearer tokens for the load, and the SQL statements the service runs per
    request, from one in-process app (production config) on env's database.

    Returns (staff access token of the admin, [(customer id, access token)] for
    customers 1..`customers`, {scenario: (statements, status)}). Tokens are signed
    with env's JWT secret like auth.tokens.issue_tokens; the bulk customers have
    the same ids in both databases, so they work on both. `plans` is a callable
    (staff, people) -> {scenario name: request plan}; each scenario's first request
    runs twice through the test client and the second is counted (and printed
    to stderr with `show_sql`).
    """
    from types import SimpleNamespace

    from sqlalchemy import event

    from app import create_app
    from auth.tokens import issue_tokens
    from core.extensions import db

    uri = env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app(
        "production",
        overrides={
            "SQLALCHEMY_DATABASE_URI": uri,
            "ACCESS_LOG": False,
            "LOG_LEVEL": "CRITICAL",
        },
    )
    counts = {}
    with app.app_context():
        admin = SimpleNamespace(
            account_type="employee",
            role="admin",
            identity=f"employee:{fixtures['admin_id']}",
        )
        staff = issue_tokens(admin)["access_token"]
        people = []
        for customer_id in range(1, customers + 1):
            person = SimpleNamespace(
                account_type="customer",
                role="customer",
                identity=f"customer:{customer_id}",
            )
            people.append((customer_id, issue_tokens(person)["access_token"]))
        engine = db.engine
    statements = []
    event.listen(
        engine, "before_cursor_execute", lambda *a, **k: statements.append(a[2])
    )
    # No app context is held here, so each request gets its own session (and
    # identity map), as in a server: nothing is served from an earlier request.
    client = app.test_client()
    for name, plan in plans(staff, people).items():
        method, path, body, headers = plan[0]
        for _ in range(2):
            statements.clear()
            answer = client.open(path, method=method, data=body, headers=headers)
        counts[name] = (len(statements), answer.status_code)
        if show_sql:
            progress(f"{name}: {answer.status_code}, {len(statements)} statements")
            for number, text in enumerate(statements, 1):
                print(
                    f"    {number:2}. {' '.join(text.split())[:400]}", file=sys.stderr
                )
    engine.dispose()
    return staff, people, counts


# --- servers --------------------------------------------------------------------------


@dataclass
class Server:
    """A running gunicorn: its port, process and log file."""

    port: int
    process: subprocess.Popen
    log_path: Path


def start_gunicorn(stack: contextlib.ExitStack, target: str, env: dict, args) -> Server:
    """Start gunicorn serving `target` on a free 127.0.0.1 port with the bench's
    worker settings (and config file) through the test suite's live-server helper
    (tests/live.py `started_gunicorn`, stopped when `stack` closes); waits for
    /health; exits with its log when it does not come up."""
    extra = ("-c", args.gunicorn_config) if args.gunicorn_config else ()
    process, base_url, log_path = stack.enter_context(
        started_gunicorn(
            env,
            workers=args.workers,
            threads=args.threads,
            extra_args=extra,
            target=target,
        )
    )
    try:
        wait_healthy(process, base_url, log_path, START_TIMEOUT)
    except RuntimeError as exc:
        sys.exit(f"gunicorn {target} did not start:\n{str(exc)[-3000:]}")
    return Server(
        port=int(base_url.rsplit(":", 1)[1]), process=process, log_path=log_path
    )


def server_log_tail(server: Server, lines: int = 20) -> str:
    """The last `lines` lines the server wrote."""
    text = server.log_path.read_bytes().decode(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


# --- load generator -------------------------------------------------------------------


def client_process(job: dict) -> dict:
    """One load-generator process: `job["threads"]` threads, each a closed loop of
    requests from `job["plan"]` (round robin, each thread from its own offset) until
    the window ends. Returns {"latencies": [ms...], "statuses": {status: n}} for the
    requests started inside the measured window (status 0: no answer)."""
    plan, port, threads = job["plan"], job["port"], job["threads"]
    measure_from, until = job["measure_from"], job["until"]
    per_thread: list[list[tuple[int, float]]] = [[] for _ in range(threads)]

    def loop(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        out = per_thread[index]
        step = job["stride"]
        cursor = job["offset"] + index
        while True:
            now = time.time()
            if now >= until:
                break
            method, path, body, headers = plan[cursor % len(plan)]
            cursor += step
            begin = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
            elapsed = (time.perf_counter() - begin) * 1000
            if now >= measure_from:
                out.append((status, elapsed))
        conn.close()

    delay = job["start_at"] - time.time()
    if delay > 0:
        time.sleep(delay)
    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    statuses: dict[int, int] = {}
    latencies = []
    for rows in per_thread:
        for status, elapsed in rows:
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(elapsed)
    return {"latencies": latencies, "statuses": statuses}


@dataclass
class Measure:
    """What one scenario did against one app in the measured window."""

    requests: int = 0
    errors: int = 0
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    statuses: dict = field(default_factory=dict)


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank) of `values`, 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def run_load(pool, port: int, plan: list, expect: int, args) -> Measure:
    """Drive `plan` against 127.0.0.1:`port` for warm-up + duration from every client
    process; a Measure of the window (errors: any status but `expect`)."""
    processes = args.client_processes
    start_at = time.time() + 0.3
    jobs = [
        {
            "plan": plan,
            "port": port,
            "threads": args.client_threads,
            "offset": p * args.client_threads,
            "stride": processes * args.client_threads,
            "start_at": start_at,
            "measure_from": start_at + args.warmup,
            "until": start_at + args.warmup + args.duration,
        }
        for p in range(processes)
    ]
    results = pool.map(client_process, jobs)
    latencies = [ms for result in results for ms in result["latencies"]]
    statuses: dict[int, int] = {}
    for result in results:
        for status, n in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    total = sum(statuses.values())
    return Measure(
        requests=total,
        errors=total - statuses.get(expect, 0),
        rps=total / args.duration,
        p50=statistics.median(latencies) if latencies else 0.0,
        p99=percentile(latencies, 0.99),
        statuses=statuses,
    )


# --- scenarios ------------------------------------------------------------------------


@dataclass
class Scenario:
    """One row of the table: a request plan for the service and one for the bare
    app, on the small or the big database (`size`)."""

    name: str
    rows: str
    ours: list
    bare: list
    expect: int
    size: str = "small"


def json_post(path: str, body: dict, token: str | None = None) -> tuple:
    """A (method, path, body, headers) POST of JSON."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return ("POST", path, json.dumps(body).encode(), headers)


def get(path: str, headers: dict | None = None) -> tuple:
    """A (method, path, body, headers) GET."""
    return ("GET", path, None, headers or {})


def scenarios(
    sizes: dict, size: str, staff: str, people: list, fixtures: dict
) -> list[Scenario]:
    """The scenarios of one database (`sizes`: its seed_bulk result; `size`:
    "small" runs every scenario, "big" the four lists)."""
    q = quote(SEARCH_QUERY)
    auth = {"Authorization": f"Bearer {staff}"}
    rows_p = f"{sizes['packages']:,}"
    found = [
        Scenario(
            "package list",
            f"{rows_p} packages",
            [get("/api/v1/packages")],
            [get("/bare/packages")],
            200,
            size,
        ),
        Scenario(
            "package search",
            f"{rows_p} ({sizes['search_hits']:,} hits)",
            [get(f"/api/v1/packages?q={q}")],
            [get(f"/bare/search?q={q}")],
            200,
            size,
        ),
        Scenario(
            "customer list",
            f"{sizes['customers']:,} customers",
            [get("/api/v1/customers", auth)],
            [get("/bare/customers")],
            200,
            size,
        ),
        Scenario(
            "booking list",
            f"{sizes['bookings']:,} bookings",
            [get("/api/v1/bookings", auth)],
            [get("/bare/bookings")],
            200,
            size,
        ),
    ]
    if size != "small":
        return found
    packages, bookings = sizes["package_ids"], sizes["booking_ids"]
    departure, bare_departure = fixtures["departure_id"], fixtures["bare_departure_id"]
    found += [
        Scenario(
            "package get",
            f"{rows_p} packages, {len(packages)} ids",
            [get(f"/api/v1/packages/{ident}") for ident in packages],
            [get(f"/bare/packages/{ident}") for ident in packages],
            200,
            size,
        ),
        Scenario(
            "booking get",
            f"{sizes['bookings']:,} bookings, {len(bookings)} ids",
            [get(f"/api/v1/bookings/{ident}", auth) for ident in bookings],
            [get(f"/bare/bookings/{ident}") for ident in bookings],
            200,
            size,
        ),
        # Last: it adds bookings, which the booking list would count.
        Scenario(
            "booking create",
            f"1 departure each, {len(people):,} customers",
            [
                json_post(
                    "/api/v1/bookings", {"departure_id": departure, "seats": 1}, token
                )
                for _, token in people
            ],
            [
                json_post(
                    "/bare/book",
                    {"departure_id": bare_departure, "customer_id": cid, "seats": 1},
                )
                for cid, _ in people
            ],
            201,
            size,
        ),
    ]
    return found


def deep_page_scenario(port: int, url: str, sizes: dict, args) -> Scenario | None:
    """The deep-page scenario on the big database, or None (with a progress line)
    when the service's package list has no `meta.next_cursor` (keyset pagination
    absent) or a page fails: follow `next_cursor` through `args.deep_pages` pages
    of 100 (or as many as DEEP_WALK_SECONDS allow) from the running service on
    `port`, then request the page after them by cursor (default page size;
    per_page=100 if the cursor asks for it); the bare app reads the same page by
    keyset after the last package seen."""
    import psycopg
    import requests

    base = f"http://127.0.0.1:{port}/api/v1/packages"
    cursor, last_id, depth = None, None, 0
    began = time.monotonic()
    for number in range(args.deep_pages):
        if time.monotonic() - began > DEEP_WALK_SECONDS:
            progress(f"deep page: stopped following cursors after {number} pages")
            break
        params = {"per_page": 100}
        if cursor is not None:
            params["cursor"] = cursor
        answer = requests.get(base, params=params, timeout=REQUEST_TIMEOUT)
        if answer.status_code != 200:
            progress(
                f"deep page skipped: page {number + 1} answered {answer.status_code}"
            )
            return None
        body = answer.json()
        cursor = (body.get("meta") or {}).get("next_cursor")
        if not cursor or not body.get("items"):
            progress(
                "deep page skipped: the package list has no meta.next_cursor"
                if number == 0
                else f"deep page skipped: no next_cursor after page {number + 1}"
            )
            return None
        last_id, depth = body["items"][-1]["id"], depth + len(body["items"])
    for per_page in (None, 100):
        query = f"cursor={quote(cursor)}" + (
            f"&per_page={per_page}" if per_page else ""
        )
        answer = requests.get(f"{base}?{query}", timeout=REQUEST_TIMEOUT)
        if answer.status_code == 200:
            break
    else:
        progress(f"deep page skipped: the cursor page answered {answer.status_code}")
        return None
    with psycopg.connect(libpq_url(url)) as conn:
        created = conn.execute(
            "SELECT created_at FROM packages WHERE id = %s", (last_id,)
        ).fetchone()[0]
    progress(
        f"deep page: cursor after {depth:,} packages found in "
        f"{time.monotonic() - began:.1f} s"
    )
    bare = (
        f"/bare/packages?after_created_at={quote(created.isoformat())}"
        f"&after_id={last_id}&per_page={per_page or 20}"
    )
    return Scenario(
        "package deep page",
        f"{sizes['packages']:,} packages, {depth:,} deep",
        [get(f"/api/v1/packages?{query}")],
        [get(bare)],
        200,
        "big",
    )


@dataclass
class Result:
    """The runs of one scenario: a Measure per window for each app."""

    scenario: Scenario
    service: list = field(default_factory=list)
    bare: list = field(default_factory=list)

    def median(self, app: str, what: str) -> float:
        """The median over the runs of `app` ("service" or "bare") of a Measure
        attribute (`rps`, `p50`, `p99`)."""
        return statistics.median(getattr(m, what) for m in getattr(self, app))

    def errors(self, app: str) -> int:
        """Requests of `app` that did not answer the expected status, all runs."""
        return sum(m.errors for m in getattr(self, app))

    def spread(self, app: str) -> float:
        """(max - min) / median of `app`'s req/s over the runs, 0 for one run."""
        values = [m.rps for m in getattr(self, app)]
        middle = statistics.median(values)
        return (max(values) - min(values)) / middle if middle else 0.0


class Clock:
    """Counts measured windows for the progress lines (done / total, time left)."""

    def __init__(self, total: int, window: float):
        self.total, self.done, self.window = total, 0, window

    def tick(self) -> str:
        """Count one window; "[done/total, ~N s left]"."""
        self.done += 1
        left = max(0, self.total - self.done) * self.window
        return f"[{self.done}/{self.total}, ~{left:.0f} s of windows left]"


def measure_database(
    pool, url: str, env: dict, items: list, args, clock: Clock, deep=None
) -> list:
    """Start the service and the bare app on `url`; when `deep` (sizes of the big
    database) is given, add the deep-page scenario if the service offers cursors;
    run each scenario `args.repeats` times, service then bare each time; stop both
    servers. Returns [Result] in the order of `items`."""
    results = []
    with contextlib.ExitStack() as stack:
        ours = start_gunicorn(stack, "app:create_app()", env, args)
        bare = start_gunicorn(stack, "bench.bare_app:app", env, args)
        items = list(items)
        if deep is not None:
            found = deep_page_scenario(ours.port, url, deep, args)
            if found is None:
                clock.total -= 2 * args.repeats
            else:
                items.append(found)
        for scenario in items:
            result = Result(scenario)
            for run in range(1, args.repeats + 1):
                for label, server, plan, runs in (
                    ("service", ours, scenario.ours, result.service),
                    ("bare", bare, scenario.bare, result.bare),
                ):
                    measure = run_load(pool, server.port, plan, scenario.expect, args)
                    runs.append(measure)
                    progress(
                        f"{clock.tick()} {scenario.name} [{scenario.rows}] {label} "
                        f"run {run}/{args.repeats}: {measure.rps:.1f} req/s "
                        f"p50 {measure.p50:.1f} ms p99 {measure.p99:.1f} ms "
                        f"statuses {measure.statuses}"
                    )
                    if measure.errors:
                        print(
                            f"--- {label} log tail ---\n{server_log_tail(server)}",
                            file=sys.stderr,
                        )
            results.append(result)
    return results


# --- report ---------------------------------------------------------------------------


def compact(rows: int) -> str:
    """1000 -> "1k", 1000000 -> "1M", 1500 -> "1,500"."""
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return f"{rows:,}"


def machine(url: str) -> str:
    """One line naming where the bench ran: CPU model (/proc/cpuinfo), cores, RAM
    (/proc/meminfo), PostgreSQL server version, UTC date, git commit."""
    import platform

    import psycopg

    cpu = platform.processor() or platform.machine()
    ram = "? GiB"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = " ".join(line.split(":", 1)[1].split())
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    admin_url, _ = server_and_name(url)
    try:
        with psycopg.connect(admin_url, connect_timeout=5) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    except psycopg.Error:
        version = "?"
    commit = "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if dirty:
            commit += " + uncommitted changes"
    return (
        f"{cpu}, {os.cpu_count() or 1} cores, {ram} RAM, PostgreSQL {version}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}"
    )


def goal_rows(args, results: list) -> list[str]:
    """The Markdown rows of the goals table (GOALS), from the medians."""
    found = {(r.scenario.size, r.scenario.name): r for r in results}
    small, big = compact(args.small_rows), compact(args.big_rows)
    rows = []
    for kind, name, target in GOALS:
        if kind == "scale":
            low, high = found.get(("small", name)), found.get(("big", name))
            if low is None or high is None:
                continue
            ours = (low.median("service", "p50"), high.median("service", "p50"))
            bare = (low.median("bare", "p50"), high.median("bare", "p50"))
            ratio = ours[1] / ours[0] if ours[0] else 0.0
            met = ratio <= target
            errors = low.errors("service") + high.errors("service")
            measure = f"p50 ms, {small} → {big} rows"
            cells = [f"{ours[0]:.1f} → {ours[1]:.1f}", f"{bare[0]:.1f} → {bare[1]:.1f}"]
            goal = f"≤ {target:.2f}"
        else:
            result = found.get(("big" if kind == "info" else "small", name))
            if result is None:
                continue
            ours, bare = result.median("service", "rps"), result.median("bare", "rps")
            ratio = ours / bare if bare else 0.0
            met = target is None or ratio >= target
            errors = result.errors("service")
            measure = f"req/s at {big if kind == 'info' else small} rows"
            cells = [f"{ours:.1f}", f"{bare:.1f}"]
            goal = "—" if target is None else f"≥ {target:.2f}"
        verdict = "—" if target is None else ("yes" if met else "no")
        if errors:
            verdict += f" ({errors} errors)"
        rows.append(
            f"| {name} | {measure} | {cells[0]} | {cells[1]} | {ratio:.2f} | {goal} "
            f"| {verdict} |"
        )
    return rows


def tables(args, results: list, queries: dict, timings: dict, where: str) -> str:
    """The Markdown block of this run: set-up, the goals table, every scenario's
    medians, and the machine line."""
    cores = os.cpu_count() or 1
    small, big = compact(args.small_rows), compact(args.big_rows)
    lines = [
        f"Service vs bare Flask+psycopg, gunicorn -w {args.workers} (sync, "
        f"{args.threads} thread), PostgreSQL on loopback, {small} and {big} rows per "
        f"table. Clients: {args.client_processes} processes x {args.client_threads} "
        f"threads = {args.client_processes * args.client_threads} requests in flight; "
        f"each scenario {args.repeats} x ({args.warmup:g} s warm-up + "
        f"{args.duration:g} s measured) per app, alternating service and bare; "
        f"medians of the {args.repeats} runs. Client, both servers and PostgreSQL "
        f"share the machine's {cores} cores. gunicorn config: "
        f"{Path(args.gunicorn_config).name if args.gunicorn_config else 'none'}.",
        "",
        "| goal: scenario | measure | service | bare | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
        *goal_rows(args, results),
        "",
        "| scenario | rows in table | SQL/req | req/s | p50 ms | p99 ms | errors "
        "| bare req/s | bare p50 ms | bare p99 ms | ratio req/s | ratio p50 "
        "| spread req/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        name = result.scenario.name
        ours = {w: result.median("service", w) for w in ("rps", "p50", "p99")}
        bare = {w: result.median("bare", w) for w in ("rps", "p50", "p99")}
        statements = queries.get(name, ("?", None))[0]
        errors = f"{result.errors('service')}"
        if result.errors("bare"):
            errors += f" (bare {result.errors('bare')})"
        lines.append(
            f"| {name} | {result.scenario.rows} | {statements} | {ours['rps']:.1f} "
            f"| {ours['p50']:.1f} | {ours['p99']:.1f} | {errors} | {bare['rps']:.1f} "
            f"| {bare['p50']:.1f} | {bare['p99']:.1f} "
            f"| {ours['rps'] / bare['rps'] if bare['rps'] else 0:.2f} "
            f"| {ours['p50'] / bare['p50'] if bare['p50'] else 0:.2f} "
            f"| {result.spread('service'):.0%} / {result.spread('bare'):.0%} |"
        )
    lines += [
        "",
        f"Machine: {where}. Set-up and run: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
        + ".",
    ]
    return "\n".join(lines)


def write_readme(block: str) -> None:
    """Replace the text between README_START and README_END in docs/benchmarks.md with
    `block` (exits when the markers are missing)."""
    text = README.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        sys.exit(f"docs/benchmarks.md has no {README_START} ... {README_END} block")
    start += len(README_START)
    README.write_text(f"{text[:start]}\n{block}\n{text[end:]}")


def main(argv=None) -> int:
    """Run the bench end to end; exit status 1 when a scenario had errors."""
    args = parse_args(argv)
    server_and_name(args.small_database_url)
    server_and_name(args.big_database_url)
    if urlsplit(args.small_database_url).path == urlsplit(args.big_database_url).path:
        sys.exit("the small and big databases must differ")
    if args.write_readme and args.quick:
        progress("--quick: docs/benchmarks.md is not written")
        args.write_readme = False
    if args.write_readme:
        text = README.read_text()
        if README_START not in text or README_END not in text:
            sys.exit(f"docs/benchmarks.md has no {README_START} ... {README_END} block")
    secret = secrets.token_urlsafe(48)
    small_env = app_env(args.small_database_url, secret)
    big_env = app_env(args.big_database_url, secret)
    for name in ("ADMIN_EMAIL", "ADMIN_PASSWORD", "MAIL_SERVER"):
        os.environ.pop(name, None)
    os.environ.update(
        {"SECRET_KEY": secret, "JWT_SECRET_KEY": secret, "APP_CONFIG": "production"}
    )
    timings: dict[str, float] = {}
    run_started = time.monotonic()
    where = machine(args.small_database_url)
    load = os.getloadavg()[0]
    create_app = __import__(
        "app"
    ).create_app  # fail fast on a broken tree, before seeding
    create_app("production", overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    pool = multiprocessing.get_context("spawn").Pool(args.client_processes)
    try:
        begin = time.monotonic()
        progress(
            f"schema and fixtures in {server_and_name(args.small_database_url)[1]}"
        )
        recreate_database(args.small_database_url)
        build_schema(small_env)
        fixtures = seed_fixtures(args.small_database_url)
        recreate_database(
            args.big_database_url, template=server_and_name(args.small_database_url)[1]
        )
        timings["schema"] = time.monotonic() - begin
        departure = fixtures["departure_id"]
        progress(f"{args.small_rows:,} rows per table in the small database")
        small = seed_bulk(args.small_database_url, args.small_rows, departure)
        timings[f"seed {compact(args.small_rows)}"] = small["seconds"]
        progress(f"{args.big_rows:,} rows per table in the big database")
        big = seed_bulk(args.big_database_url, args.big_rows, departure)
        timings[f"seed {compact(args.big_rows)}"] = big["seconds"]
        progress(
            f"seeded in {big['seconds']:.1f} s; search '{SEARCH_QUERY}' matches "
            f"{big['search_hits']:,} published packages"
        )
        staff, people, queries = in_process_checks(
            small_env,
            fixtures,
            args.booking_customers,
            lambda staff, people: {
                s.name: s.ours
                for s in scenarios(small, "small", staff, people, fixtures)
            },
            args.show_sql,
        )
        small_items = scenarios(small, "small", staff, people, fixtures)
        big_items = scenarios(big, "big", staff, people, fixtures)
        progress(f"SQL statements per request: {queries}")
        windows = (len(small_items) + len(big_items) + 1) * 2 * args.repeats
        clock = Clock(windows, args.warmup + args.duration + 0.3)
        measuring = time.monotonic()
        results = measure_database(
            pool, args.small_database_url, small_env, small_items, args, clock
        )
        results += measure_database(
            pool, args.big_database_url, big_env, big_items, args, clock, deep=big
        )
        timings["measuring"] = time.monotonic() - measuring
        timings["whole run"] = time.monotonic() - run_started
        block = tables(
            args,
            results,
            queries,
            timings,
            f"{where}, load average {load:.2f} at start",
        )
        print(f"\n{block}\n")
        print(
            "ratio req/s = service req/s / bare req/s (1.00 = no overhead); ratio p50 "
            "= service p50 / bare p50; spread = (max - min) / median req/s over the "
            "runs. SQL/req: statements the service runs per request (bare: 1)."
        )
        if args.write_readme:
            write_readme(block)
            progress(f"wrote the tables into {README}")
        failed = sum(r.errors("service") + r.errors("bare") for r in results)
        return 1 if failed else 0
    finally:
        pool.terminate()
        pool.join()
        if not args.keep_database:
            for url in (args.small_database_url, args.big_database_url):
                with contextlib.suppress(Exception):
                    drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
