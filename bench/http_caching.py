"""What HTTP caching of catalogue reads costs and saves (docs/api.md "HTTP caching").

In-process (Flask test client, no network, one thread), against a fresh schema in
BENCH_DATABASE_URL (default: a SQLite file in a temp directory; a PostgreSQL URL is
wiped: DROP SCHEMA public CASCADE). Seeds PACKAGES published packages with 3
itinerary days each and one package with 100 departures, then times, per request
(mean and p50 over ROUNDS requests, after 20 warm-up requests):

- the anonymous package list (per_page 20 and 100): a 200, a 304 on If-None-Match
  (answered from the catalogue version before the list is read) and, when
  BENCH_CACHE_URL names a Redis, a 200 served from the server-side cache;
- a package's 100 departures (live seats, body-digest ETag): a 200 and a 304;
- the pieces: reading the catalogue version, SHA-256 of the departures body.

    .venv/bin/python -m bench.http_caching
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/db BENCH_CACHE_URL=\
redis://127.0.0.1:6379/12 .venv/bin/python -m bench.http_caching
"""

import hashlib
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal

from app import create_app
from config import normalise_database_url
from core.extensions import db
from models import Departure, ItineraryDay, Package
from services.catalogue import catalogue
from tests.factories import fresh_schema

PACKAGES = int(os.environ.get("BENCH_PACKAGES", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
WARM_UP = 20


def build_app():
    """The app on a fresh schema in BENCH_DATABASE_URL (or a temp SQLite file)."""
    url = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    )
    overrides = {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
        "CATALOGUE_CACHE_URL": "",
        "RATELIMIT_ENABLED": False,
    }
    app = create_app("testing", overrides)
    with app.app_context():
        fresh_schema()
    return app


def seed(app) -> int:
    """PACKAGES published packages and 100 departures of the first; its id."""
    with app.app_context():
        packages = [
            Package(
                title=f"Package {n}",
                description="Sun, sea and a guided walk.",
                destination=f"Island {n % 50}",
                duration_days=3,
                base_price=Decimal("850.00"),
                currency="EUR",
                status="published",
                search_document=f"package {n} island sun sea walk",
                itinerary=[
                    ItineraryDay(day_number=day, title=f"Day {day}")
                    for day in (1, 2, 3)
                ],
            )
            for n in range(PACKAGES)
        ]
        db.session.add_all(packages)
        db.session.flush()
        first = packages[0].id
        start = date.today() + timedelta(days=30)
        db.session.add_all(
            Departure(
                package_id=first,
                start_date=start + timedelta(days=n),
                end_date=start + timedelta(days=n + 2),
                capacity=20,
                price=Decimal("850.00"),
                currency="EUR",
            )
            for n in range(100)
        )
        catalogue.bump_version()
        db.session.commit()
        return first


def timed(*calls, rounds: int = ROUNDS) -> list[tuple[float, float]]:
    """Mean and p50 in milliseconds of each of `calls`, run in turns (so load from
    other processes on the machine falls on all of them alike)."""
    for _ in range(WARM_UP):
        for call in calls:
            call()
    samples = [[] for _ in calls]
    for _ in range(rounds):
        for call, into in zip(calls, samples):
            began = time.perf_counter()
            call()
            into.append((time.perf_counter() - began) * 1000)
    return [(statistics.fmean(s), statistics.median(s)) for s in samples]


def request(client, path: str, status: int, headers=None):
    """A GET that must answer `status`."""

    def call():
        response = client.get(path, headers=headers or {})
        assert response.status_code == status, (path, response.status_code)
        return response

    return call


def _with_cache(app, url: str, call):
    """`call` with the server-side cache on (CATALOGUE_CACHE_URL = `url`)."""

    def cached():
        app.config["CATALOGUE_CACHE_URL"] = url
        try:
            return call()
        finally:
            app.config["CATALOGUE_CACHE_URL"] = ""

    return cached


def main() -> None:
    """Seed, time every case, print one Markdown table."""
    logging.disable(logging.INFO)  # no access-log line per request
    app = build_app()
    first = seed(app)
    client = app.test_client()
    cache_url = os.environ.get("BENCH_CACHE_URL")
    rows = []
    for per_page in (20, 100):
        path = f"/api/v1/packages?per_page={per_page}"
        tag = client.get(path).headers["ETag"]
        names = [f"package list {per_page}/page: 200", "... 304 If-None-Match"]
        calls = [
            request(client, path, 200),
            request(client, path, 304, {"If-None-Match": tag}),
        ]
        if cache_url:
            names.append("... 200 from Redis")
            calls.append(_with_cache(app, cache_url, request(client, path, 200)))
        rows.extend(zip(names, timed(*calls)))
    path = f"/api/v1/packages/{first}/departures?per_page=100"
    body = client.get(path)
    rows.extend(
        zip(
            ["100 departures: 200", "... 304 If-None-Match"],
            timed(
                request(client, path, 200),
                request(client, path, 304, {"If-None-Match": body.headers["ETag"]}),
            ),
        )
    )
    with app.app_context():
        rows.append(("catalogue version read", timed(catalogue.current_version)[0]))
    data = body.get_data()
    digest = timed(lambda: hashlib.sha256(data).hexdigest(), rounds=2000)[0]
    rows.append((f"SHA-256 of the departures body ({len(data)} bytes)", digest))
    dialect = app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
    print(f"{dialect}, {PACKAGES} packages, {ROUNDS} requests each", file=sys.stderr)
    print("| case | mean ms | p50 ms |\n|---|---|---|")
    for name, (mean, p50) in rows:
        print(f"| {name} | {mean:.2f} | {p50:.2f} |")


if __name__ == "__main__":
    main()
