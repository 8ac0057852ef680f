"""In-process profile of the hot paths: milliseconds and SQL statements per request
for the list, get-by-id and booking endpoints, through the Flask test client.

It rebuilds the schema of the given PostgreSQL (or SQLite) database (DROP SCHEMA
public CASCADE, then create_all: use a scratch database), seeds `--rows` packages
(each with a 3-day itinerary and one departure) and customers with the bulk SQL of
bench/load.py, books `--bookings` seats through the API, then times `--requests`
requests per endpoint after a warm-up (in 5 rounds: the best and median
round's wall ms per request, and the best round's CPU ms of this process), counting
statements with a `before_cursor_execute` listener. Production configuration, access log
off (the log line's cost is measured by bench/load.py), no SMTP. `--cprofile NAME`
prints the top functions of one endpoint (stdlib cProfile).

    .venv/bin/python bench/profile_hot_paths.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/scratch_db

Numbers are for comparing two versions of the code on one machine, not capacity.
"""

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROUNDS = 5  # ms/request is the best and the median round
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args(argv=None) -> argparse.Namespace:
    """Command line: database, sizes, repetitions, the endpoint to cProfile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--cprofile", default=None, help="endpoint name to profile")
    parser.add_argument("--show-sql", action="store_true")
    return parser.parse_args(argv)


def build(url: str):
    """The production app on `url` with a fresh schema (create_all)."""
    import secrets

    from app import create_app
    from config import normalise_database_url
    from tests.factories import fresh_schema

    app = create_app(
        "production",
        overrides={
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
            "ACCESS_LOG": False,
            "LOG_LEVEL": "CRITICAL",
            "MAIL_SERVER": "",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "RATELIMIT_STORAGE_URI": "memory://",
        },
    )
    with app.app_context():
        fresh_schema()
    return app


def seed(app, rows: int) -> dict:
    """Fixtures and bulk rows of bench/load.py, plus itineraries and departures."""
    from sqlalchemy import text

    from bench import load
    from core.extensions import db

    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    fixtures = load.seed_fixtures(url)
    load.seed_bulk(url, rows, fixtures["departure_id"])
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO itinerary_days (package_id, day_number, title, "
                "description, location) SELECT p.id, d, 'Day ' || d, "
                "'Walks, food and a museum.', 'Town' FROM packages p "
                "CROSS JOIN generate_series(1, 3) AS d"
            )
        )
        conn.execute(
            text(
                "INSERT INTO departures (package_id, start_date, end_date, capacity, "
                "seats_taken, price, currency, status, min_party_size, created_at, "
                "updated_at) SELECT id, current_date + 30 + id % 60, current_date + "
                "35 + id % 60, 40, 0, base_price, 'EUR', 'scheduled', 1, now(), now() "
                "FROM packages WHERE status = 'published'"
            )
        )
    return fixtures


def tokens(app, fixtures: dict, customers: int) -> tuple:
    """A staff (admin) bearer header and customer bearer headers."""
    from auth.tokens import issue_tokens

    def bearer(kind, role, ident):
        account = SimpleNamespace(
            account_type=kind, role=role, identity=f"{kind}:{ident}"
        )
        return {"Authorization": f"Bearer {issue_tokens(account)['access_token']}"}

    with app.app_context():
        staff = bearer("employee", "admin", fixtures["admin_id"])
        people = [bearer("customer", "customer", n) for n in range(1, customers + 1)]
    return staff, people


def endpoints(fixtures: dict, staff: dict, people: list) -> dict:
    """{name: callable(client, i) -> response} of the measured requests."""
    departure = fixtures["departure_id"]
    package = fixtures["package_id"]

    def book(client, i):
        return client.post(
            "/api/v1/bookings",
            json={"departure_id": departure, "seats": 1},
            headers=people[i % len(people)],
        )

    def get(path, headers=None):
        return lambda client, i: client.get(path, headers=headers or {})

    return {
        "packages list": get("/api/v1/packages"),
        "packages search": get("/api/v1/packages?q=volcanic%20safari"),
        "packages list staff": get("/api/v1/packages", staff),
        "package by id": get(f"/api/v1/packages/{package + 1}"),
        "departures list": get(f"/api/v1/packages/{package + 1}/departures"),
        "customers list": get("/api/v1/customers", staff),
        "customer by id": get("/api/v1/customers/5", staff),
        "bookings list": get("/api/v1/bookings", staff),
        "booking by id": get("/api/v1/bookings/1", staff),
        "booking create": book,
    }


def measure(app, plan: dict, repeat: int, show_sql: bool, profile: str | None):
    """Print ms/request and statements/request of each endpoint in `plan`."""
    from sqlalchemy import event

    from core.extensions import db

    with app.app_context():
        engine = db.engine
    statements = []
    event.listen(
        engine, "before_cursor_execute", lambda *a, **k: statements.append(a[2])
    )
    client = app.test_client()
    print(
        f"{'endpoint':<22} {'status':>6} {'SQL/req':>8} {'best ms':>8} "
        f"{'med ms':>8} {'cpu ms':>8}"
    )
    for name, call in plan.items():
        for i in range(5):
            call(client, 1000 + i)
        statements.clear()
        answer = call(client, 2000)
        count = len(statements)
        if show_sql:
            for number, sql in enumerate(statements, 1):
                print(f"    {number:2}. {' '.join(sql.split())[:300]}")
        profiler = cProfile.Profile() if name == profile else None
        if profiler:
            profiler.enable()
        wall, cpu = [], []
        for round_ in range(ROUNDS):
            started, started_cpu = time.perf_counter(), time.process_time()
            for i in range(repeat // ROUNDS):
                call(client, round_ * repeat + i)
            wall.append((time.perf_counter() - started) * 1000 / (repeat // ROUNDS))
            cpu.append((time.process_time() - started_cpu) * 1000 / (repeat // ROUNDS))
        if profiler:
            profiler.disable()
        print(
            f"{name:<22} {answer.status_code:>6} {count:>8} {min(wall):>8.2f} "
            f"{statistics.median(wall):>8.2f} {min(cpu):>8.2f}"
        )
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
            print(out.getvalue())
        if answer.status_code >= 400:
            print(json.dumps(answer.get_json())[:500])


def main(argv=None) -> int:
    """Build, seed, measure."""
    args = parse_args(argv)
    app = build(args.database_url)
    fixtures = seed(app, args.rows)
    staff, people = tokens(app, fixtures, min(args.rows, 300))
    plan = endpoints(fixtures, staff, people)
    client = app.test_client()
    for i in range(args.bookings):
        plan["booking create"](client, i)
    measure(app, plan, args.requests, args.show_sql, args.cprofile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
