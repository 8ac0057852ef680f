"""Report latency over a large PostgreSQL data set, next to the raw SQL each
report runs.

For every report under /api/v1/reports this script times:

- `api`: the whole request through the Flask app in-process (auth, argument
  validation, the query, shaping every row and streaming the JSON body until the
  last byte), median of --repeat runs after one warm-up;
- `sql`: the same SQL statement (compiled from the services.reporting modules, same
  parameters) executed on a raw psycopg connection with every row fetched;

and prints their ratio (api / sql): the price of the Python layer on top of the
aggregation the database does anyway.

The database must already hold the data (it is never modified), e.g.:

    createdb -h 127.0.0.1 -U postgres easytravels_reports
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/easytravels_reports \\
        .venv/bin/flask --app app db upgrade
    DATABASE_URL=... .venv/bin/flask --app app seed-demo --scale 1000000
    .venv/bin/python bench/reports.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/easytravels_reports

`--explain` prints each statement's EXPLAIN (ANALYZE, BUFFERS) plan summary, which
is how the indexes in the migrations were chosen.
"""

import argparse
import logging
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/easytravels_reports"


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs per report (5)"
    )
    parser.add_argument(
        "--only", default="", help="run reports whose path contains this"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print EXPLAIN ANALYZE summaries"
    )
    return parser.parse_args(argv)


def cases(today: date) -> list[tuple[str, dict, callable]]:
    """(path, query, builder) for every report: the API path and query string, and
    a function building the same services.reporting.report_base.Report."""
    from services.reporting import (
        bookings,
        catalogue,
        customers,
        invoices,
        pipeline,
        revenue,
    )
    from services.reporting.report_base import Window

    year = Window(today - timedelta(days=364), today)
    quarter = Window(today - timedelta(days=90), today)
    y = {"date_from": year.date_from.isoformat(), "date_to": year.date_to.isoformat()}
    q = {
        "date_from": quarter.date_from.isoformat(),
        "date_to": quarter.date_to.isoformat(),
    }
    out = []
    for dim, path in (
        ("month", "monthly"),
        ("customer", "by-customer"),
        ("destination", "by-destination"),
        ("package", "by-package"),
    ):
        for basis in ("cash", "booking"):
            limit = {"limit": 100} if dim == "customer" else {}
            out.append(
                (
                    f"revenue/{path}",
                    {"basis": basis, **limit},
                    lambda d=dim, b=basis, lim=limit: revenue.revenue(
                        d, basis=b, limit=lim.get("limit")
                    ),
                )
            )
    out.append(
        (
            "revenue/monthly",
            {"basis": "cash", **y},
            lambda: revenue.revenue("month", basis="cash", window=year),
        )
    )
    out += [
        (
            "invoices/summary",
            {"include_ids": "false"},
            lambda: invoices.invoice_summary(include_ids=False),
        ),
        ("invoices/summary", {}, lambda: invoices.invoice_summary()),
        (
            "invoices/unpaid",
            {"overdue_only": "true", "limit": 1000},
            lambda: invoices.unpaid_invoices(overdue_only=True, limit=1000),
        ),
        ("packages/popular", {}, lambda: catalogue.popular("package")),
        (
            "destinations/popular",
            q,
            lambda: catalogue.popular("destination", window=quarter),
        ),
        (
            "customers/active",
            {**q, "limit": 100},
            lambda: customers.active_customers(window=quarter, limit=100),
        ),
        (
            "bookings/trends",
            {"interval": "week"},
            lambda: bookings.booking_trends(interval="week"),
        ),
        (
            "bookings/trends",
            {"interval": "day", **q},
            lambda: bookings.booking_trends(interval="day", window=quarter),
        ),
        ("cancellations", {"interval": "month"}, lambda: bookings.cancellations()),
        ("wallets/liability", y, lambda: customers.wallet_liability(window=year)),
        ("enquiries/funnel", {}, lambda: pipeline.enquiry_funnel()),
    ]
    return out


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median seconds of `repeat` calls of `fn` after one warm-up; and its result."""
    result = fn()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), result


def main(argv=None) -> int:
    """Run every case and print a Markdown table; exit 1 when a request fails."""
    args = parse_args(argv)
    host = urlsplit(args.database_url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("the bench database must be on this machine (loopback)")
    from sqlalchemy import select

    from app import create_app
    from auth.tokens import issue_tokens
    from config import normalise_database_url
    from core.extensions import db
    from models import Employee
    from models.base import utcnow

    url = normalise_database_url(args.database_url)
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "ADMIN_EMAIL": ""})
    client = app.test_client()
    logging.getLogger().setLevel(logging.WARNING)  # no access log line per request
    failures = 0
    with app.app_context():
        counts = db.session.execute(
            db.text(
                "SELECT (SELECT count(*) FROM bookings), "
                "(SELECT count(*) FROM payments),"
                " (SELECT count(*) FROM invoices), (SELECT count(*) FROM customers)"
            )
        ).one()
        print(
            f"data: {counts[0]:,} bookings, {counts[1]:,} payments, "
            f"{counts[2]:,} invoices, "
            f"{counts[3]:,} customers; repeat {args.repeat} (median)",
            flush=True,
        )
        staff = db.session.scalar(
            select(Employee)
            .where(Employee.role.in_(("finance", "admin")), Employee.active)
            .order_by(Employee.id)
        )
        if staff is None:
            sys.exit("no active finance or admin employee: seed the database first")
        headers = {"Authorization": f"Bearer {issue_tokens(staff)['access_token']}"}
        raw = db.engine.raw_connection()
        print("| report | query | rows | api ms | sql ms | api/sql |")
        print("|---|---|---:|---:|---:|---:|")
        for path, query, build in cases(utcnow().date()):
            if args.only and args.only not in path:
                continue
            compiled = build().statement.compile(
                dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}
            )
            sql, params = str(compiled), compiled.params

            def run_sql(sql=sql, params=params):
                cursor = raw.cursor()
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                cursor.close()
                raw.rollback()
                return rows

            def run_api(path=path, query=query):
                response = client.get(
                    f"/api/v1/reports/{path}", headers=headers, query_string=query
                )
                body = response.get_data()
                return response.status_code, len(body)

            sql_s, rows = timed(run_sql, args.repeat)
            api_s, (status, _size) = timed(run_api, args.repeat)
            if status != 200:
                failures += 1
            label = "&".join(f"{k}={v}" for k, v in query.items()) or "-"
            print(
                f"| {path} | {label} | {len(rows):,} | {api_s * 1000:.1f} | "
                f"{sql_s * 1000:.1f} | {api_s / sql_s:.2f} |",
                flush=True,
            )
            if args.explain:
                cursor = raw.cursor()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = [line[0] for line in cursor.fetchall()]
                cursor.close()
                raw.rollback()
                for line in plan:
                    if any(
                        word in line
                        for word in ("Scan", "Join", "Aggregate", "Execution")
                    ):
                        print("    " + line.strip()[:150])
        raw.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
