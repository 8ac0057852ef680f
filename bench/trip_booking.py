"""Trip search and trip booking at 1k and at 1M sold tickets (docs/transport.md
"Search" and "Tickets"), next to a bare Flask app answering each with one SQL
statement.

For every size of --sold (default 1000 and 1000000) the script builds a fresh
PostgreSQL database with the migrations (loopback only, dropped at the end unless
--keep-database), seeds one coach line of 6 stops (5 segments) whose vehicle has
one `economy` section of 80 seats, TRIPS trips over the coming days (TRIPS_PER_DAY
a day, the measured day SEARCH_DAYS ahead), and the sold tickets with set-based SQL
(`INSERT ... SELECT generate_series`, a progress line per chunk): each ticket is a
confirmed one-passenger booking of one segment with its traveller, seat-segment row
and `valid` ticket, spread round robin over every trip and its 5 segments, so at
1M every trip (the measured ones too) is half full (200 of 400 seat-segments) and
at 1k nearly empty. Then it serves the database twice, the service
(`app:create_app()`, production config) and the bare app below (`bench.trip_booking
:bare_app`, one autocommit psycopg connection per worker, no auth, validation,
invoice, outbox or headers), both by gunicorn with --workers workers, and measures
with --clients client threads in a closed loop, --rounds rounds alternating
service and bare (each round a few warm-up requests, then --requests timed ones):

    search   GET /api/v1/transport/search?from=<first stop>&to=<last stop>&date=<day>
             (anonymous; TRIPS_PER_DAY offers, seats left per section)
             bare: one SELECT of the day's trips with their fare and seats left
    book     POST /api/v1/bookings, one adult on one segment of a trip of that day
             (customers in turn, their own token; seats assigned)
             bare: one statement locking the trip, choosing the first free seat and
             inserting booking, traveller and seat-segment rows

and prints one Markdown table: req/s, p50 and p99 per app (medians over the rounds),
the ratios service / bare, and the p50 at each size over the p50 at the first.
Nothing is asserted on time. Latencies are under load (--clients in flight on
--workers workers, client and servers sharing the machine's cores): read the ratios
within one run. `--explain` prints EXPLAIN ANALYZE of the seat queries at each size.

    .venv/bin/python bench/trip_booking.py                      # 1k and 1M
    .venv/bin/python bench/trip_booking.py --sold 1000 --sold 100000
"""

import argparse
import os
import secrets
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from bench.bare_app import connection  # noqa: E402 - after the path set-up
from bench.load import (  # noqa: E402
    app_env,
    build_schema,
    drop_database,
    libpq_url,
    machine,
    percentile,
    recreate_database,
)
from tests.live import serve  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/easytravels_bench_trips"
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
STOPS = 6
SEGMENTS = STOPS - 1
ROWS, LETTERS = 20, "ABCD"
SEATS = ROWS * len(LETTERS)  # 80
TRIPS = 5000
TRIPS_PER_DAY = 8
SEARCH_DAYS = 30  # the measured day: today + SEARCH_DAYS
CUSTOMERS = 1000
TOKENS = 200  # customers who book during the bench, in turn
CHUNK = 100_000
SEAT_LABELS = [f"{r}{c}" for r in range(1, ROWS + 1) for c in LETTERS]


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help=f"PostgreSQL URL of the bench database, recreated (default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--sold",
        type=int,
        action="append",
        help="sold tickets, once per size (default 1000 and 1000000)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--clients", type=int, default=8, help="client threads (8)")
    parser.add_argument(
        "--requests", type=int, default=120, help="timed requests per round (120)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per app (3)")
    parser.add_argument("--explain", action="store_true", help="print query plans")
    parser.add_argument(
        "--keep-database", action="store_true", help="keep the last database"
    )
    args = parser.parse_args(argv)
    args.sold = args.sold or [1000, 1_000_000]
    if max(args.sold) > TRIPS * SEATS * SEGMENTS // 2:
        parser.error(f"--sold at most {TRIPS * SEATS * SEGMENTS // 2}")
    return args


def progress(message: str) -> None:
    """One progress line on stderr (the table goes to stdout)."""
    print(f"[trips {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- seeding ----------------------------------------------------------------------


def seed_line(url: str) -> dict:
    """Company, stations, vehicle, route, fares and customers through the models;
    returns `{stations: [id], codes: [code], route_id, vehicle_id, customers: [id],
    tokens: [bearer token of the first TOKENS customers]}`."""
    from decimal import Decimal

    from app import create_app
    from auth.tokens import issue_tokens
    from config import normalise_database_url
    from core.extensions import db
    from models import (
        City,
        Customer,
        Fare,
        RouteStop,
        Station,
        TransportCompany,
        TransportRoute,
        Vehicle,
        VehicleSection,
    )

    app = create_app(
        "production",
        {"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "ADMIN_EMAIL": ""},
    )
    with app.app_context():
        company = TransportCompany(
            name="Bench Coaches", code="BENCH", country="IE", timezone="UTC"
        )
        city = City(name="Bench City", country="IE", timezone="UTC")
        db.session.add_all([company, city])
        db.session.flush()
        stations = [
            Station(code=f"BS{n}", name=f"Bench {n}", city_id=city.id, timezone="UTC")
            for n in range(STOPS)
        ]
        rows = [
            [f"{r}{c}" for c in LETTERS[:2]] + [None] + [f"{r}{c}" for c in LETTERS[2:]]
            for r in range(1, ROWS + 1)
        ]
        vehicle = Vehicle(
            company_id=company.id, mode="bus", name="Bench", registration="BENCH-1"
        )
        vehicle.sections.append(
            VehicleSection(
                code="economy",
                name="Economy",
                seat_map={"rows": rows},
                capacity=SEATS,
                position=0,
            )
        )
        route = TransportRoute(
            company_id=company.id, mode="bus", code="B1", name="Bench line"
        )
        db.session.add_all([*stations, vehicle, route])
        db.session.flush()
        for position, station in enumerate(stations):
            route.stops.append(RouteStop(station_id=station.id, position=position))
        for i in range(STOPS):
            for j in range(i + 1, STOPS):
                db.session.add(
                    Fare(
                        route_id=route.id,
                        from_station_id=stations[i].id,
                        to_station_id=stations[j].id,
                        section_code="economy",
                        currency="EUR",
                        price=Decimal(10 * (j - i)),
                    )
                )
        people = [
            Customer(name=f"Rider {n}", email=f"rider{n}@bench.test")
            for n in range(CUSTOMERS)
        ]
        db.session.add_all(people)
        db.session.commit()
        line = {
            "stations": [s.id for s in stations],
            "codes": [s.code for s in stations],
            "route_id": route.id,
            "vehicle_id": vehicle.id,
            "customers": [p.id for p in people],
            "tokens": [issue_tokens(p)["access_token"] for p in people[:TOKENS]],
        }
        db.session.remove()
        db.engine.dispose()
    return line


TRIPS_SQL = """
INSERT INTO transport_trips (route_id, vehicle_id, service_date, status, departure_at,
                             arrival_at, created_at, updated_at)
SELECT %(route_id)s, %(vehicle_id)s, current_date + 1 + n / %(per_day)s, 'scheduled',
       (current_date + 1 + n / %(per_day)s)
           + make_interval(hours => 6 + 2 * (n %% %(per_day)s)),
       (current_date + 1 + n / %(per_day)s)
           + make_interval(hours => 6 + 2 * (n %% %(per_day)s) + %(segments)s),
       now(), now()
FROM generate_series(0, %(trips)s - 1) AS n
"""
STOP_TIMES_SQL = """
INSERT INTO transport_stop_times (trip_id, station_id, sequence, arrival_local,
                                  departure_local, arrival_at, departure_at)
SELECT t.id, (%(stations)s::int[])[s + 1], s,
       to_char(t.departure_at + make_interval(hours => s), 'HH24:MI'),
       to_char(t.departure_at + make_interval(hours => s, mins => 5), 'HH24:MI'),
       t.departure_at + make_interval(hours => s),
       t.departure_at
           + make_interval(hours => s, mins => CASE WHEN s = 0 THEN 0 ELSE 5 END)
FROM transport_trips t CROSS JOIN generate_series(0, %(stops)s - 1) AS s
"""
# Ticket k: trip k mod TRIPS, then slot k / TRIPS: segment slot mod 5, seat slot / 5.
SOLD_SQL = [
    """
INSERT INTO bookings (id, kind, reference, customer_id, trip_id, from_station_id,
                      to_station_id, from_sequence, to_sequence, section_code, seats,
                      status, currency, unit_price, total_amount, amount_paid,
                      amount_refunded, deposit_amount, disputed, created_at, updated_at)
SELECT %(base)s + k, 'trip', 'BT' || k,
       (%(customers)s::int[])[1 + k %% %(n_customers)s], t.id,
       (%(stations)s::int[])[1 + (k / %(trips)s) %% 5],
       (%(stations)s::int[])[2 + (k / %(trips)s) %% 5],
       (k / %(trips)s) %% 5, (k / %(trips)s) %% 5 + 1, 'economy', 1, 'confirmed', 'EUR',
       10, 10, 10, 0, 10, false, now() - interval '1 day', now() - interval '1 day'
FROM generate_series(%(lo)s, %(hi)s - 1) AS k
JOIN bench_trips t ON t.n = k %% %(trips)s
""",
    """
INSERT INTO booking_travellers (id, booking_id, name, birth_date, category, unit_price,
                                seat_label)
SELECT %(base)s + k, %(base)s + k, 'Passenger ' || k, date '1990-01-01', 'adult', 10,
       (%(labels)s::text[])[1 + (k / %(trips)s) / 5]
FROM generate_series(%(lo)s, %(hi)s - 1) AS k
""",
    """
INSERT INTO transport_seat_segments (trip_id, section_code, seat_label, segment,
                                     booking_id)
SELECT t.id, 'economy', (%(labels)s::text[])[1 + (k / %(trips)s) / 5],
       (k / %(trips)s) %% 5, %(base)s + k
FROM generate_series(%(lo)s, %(hi)s - 1) AS k
JOIN bench_trips t ON t.n = k %% %(trips)s
""",
    """
INSERT INTO transport_tickets (number, booking_id, traveller_id, trip_id, status,
                               created_at, updated_at)
SELECT 'TB' || k, %(base)s + k, %(base)s + k, t.id, 'valid', now(), now()
FROM generate_series(%(lo)s, %(hi)s - 1) AS k
JOIN bench_trips t ON t.n = k %% %(trips)s
""",
]


def seed_sold(url: str, line: dict, sold: int) -> dict:
    """TRIPS trips with their stop times and `sold` tickets (see the module
    docstring), in chunks of CHUNK with a progress line each; then ANALYZE.
    Returns `{day: the measured date, trips: [ids of that day's trips]}`."""
    import psycopg

    params = {
        "route_id": line["route_id"],
        "vehicle_id": line["vehicle_id"],
        "stations": line["stations"],
        "customers": line["customers"],
        "n_customers": len(line["customers"]),
        "labels": SEAT_LABELS,
        "trips": TRIPS,
        "per_day": TRIPS_PER_DAY,
        "segments": SEGMENTS,
        "stops": STOPS,
        "base": 1,
    }
    started = time.perf_counter()
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute(TRIPS_SQL, params)
        conn.execute(STOP_TIMES_SQL, params)
        conn.execute(
            "CREATE UNLOGGED TABLE bench_trips AS SELECT (row_number() OVER "
            "(ORDER BY id) - 1)::int AS n, id FROM transport_trips"
        )
        conn.execute("CREATE UNIQUE INDEX ON bench_trips (n)")
        conn.commit()
        progress(f"{TRIPS:,} trips, {TRIPS * STOPS:,} stop times")
        for lo in range(0, sold, CHUNK):
            chunk = {**params, "lo": lo, "hi": min(sold, lo + CHUNK)}
            for statement in SOLD_SQL:
                conn.execute(statement, chunk)
            conn.commit()
            progress(
                f"sold {chunk['hi']:,} / {sold:,} tickets "
                f"({time.perf_counter() - started:.0f} s)"
            )
        for table in ("bookings", "booking_travellers"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.execute("DROP TABLE bench_trips")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        day = date.today() + timedelta(days=SEARCH_DAYS)
        trips = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM transport_trips WHERE service_date = %s ORDER BY id",
                (day,),
            )
        ]
    progress(f"seeded {sold:,} sold tickets in {time.perf_counter() - started:.0f} s")
    return {"day": day, "trips": trips}


# --- the bare app -------------------------------------------------------------------

try:  # the bare app is served by gunicorn; the bench itself only needs the names
    from flask import Flask, jsonify, request

    bare_app = Flask("trip_bare")
except ImportError:  # pragma: no cover
    bare_app = None

LIVE = (
    "b.status IN ('held', 'confirmed', 'completed') "
    "AND NOT (b.status = 'held' AND b.hold_expires_at <= now())"
)
BARE_SEARCH_SQL = f"""
SELECT t.id AS trip_id, o.departure_at, d.arrival_at, f.section_code, f.price,
       f.currency, vs.capacity - (
           SELECT count(DISTINCT s.seat_label) FROM transport_seat_segments s
           JOIN bookings b ON b.id = s.booking_id
           WHERE s.trip_id = t.id AND s.section_code = f.section_code
             AND s.segment >= o.sequence AND s.segment < d.sequence AND {LIVE}
       ) AS seats_left
FROM transport_stop_times o
JOIN transport_stop_times d ON d.trip_id = o.trip_id AND d.sequence > o.sequence
JOIN transport_trips t ON t.id = o.trip_id
JOIN transport_fares f ON f.route_id = t.route_id AND f.from_station_id = o.station_id
     AND f.to_station_id = d.station_id
JOIN transport_vehicle_sections vs
     ON vs.vehicle_id = t.vehicle_id AND vs.code = f.section_code
JOIN transport_stations so ON so.id = o.station_id
JOIN transport_stations sd ON sd.id = d.station_id
WHERE so.code = %(origin)s AND sd.code = %(destination)s AND t.status = 'scheduled'
  AND o.departure_at >= %(day)s::date AND o.departure_at < %(day)s::date + 1
  AND o.departure_at > now()
ORDER BY o.departure_at, t.id
"""
BARE_BOOK_SQL = f"""
WITH trip AS (
    SELECT id FROM transport_trips WHERE id = %(trip_id)s AND status = 'scheduled'
    FOR UPDATE
), seat AS (
    SELECT l.label
    FROM trip, unnest(%(labels)s::text[]) WITH ORDINALITY AS l(label, pos)
    WHERE NOT EXISTS (
        SELECT 1 FROM transport_seat_segments s JOIN bookings b ON b.id = s.booking_id
        WHERE s.trip_id = trip.id AND s.section_code = 'economy'
          AND s.seat_label = l.label AND s.segment >= %(from_seq)s
          AND s.segment < %(to_seq)s AND {LIVE}
    )
    ORDER BY l.pos LIMIT 1
), booking AS (
    INSERT INTO bookings (kind, reference, customer_id, trip_id, from_station_id,
                          to_station_id, from_sequence, to_sequence, section_code,
                          seats, status, currency, unit_price, total_amount,
                          amount_paid, amount_refunded, deposit_amount, disputed,
                          hold_expires_at, created_at, updated_at)
    SELECT 'trip', %(reference)s, %(customer_id)s, trip.id, %(from_station_id)s,
           %(to_station_id)s, %(from_seq)s, %(to_seq)s, 'economy', 1, 'held', 'EUR',
           10, 10, 0, 0, 10, false, now() + interval '15 minutes', now(), now()
    FROM trip, seat
    RETURNING id, reference, status, trip_id, from_sequence, to_sequence
), traveller AS (
    INSERT INTO booking_travellers (booking_id, name, birth_date, category,
                                    unit_price, seat_label)
    SELECT booking.id, 'Bare Rider', date '1990-01-01', 'adult', 10, seat.label
    FROM booking, seat
), segments AS (
    INSERT INTO transport_seat_segments (trip_id, section_code, seat_label, segment,
                                         booking_id)
    SELECT booking.trip_id, 'economy', seat.label, g, booking.id
    FROM booking, seat, generate_series(%(from_seq)s, %(to_seq)s - 1) AS g
)
SELECT booking.*, seat.label AS seat_label FROM booking, seat
"""


def _plain(row: dict) -> dict:
    """JSON-ready: ISO 8601 times, money as strings."""
    return {
        k: v.isoformat() if hasattr(v, "isoformat") else (str(v) if k == "price" else v)
        for k, v in row.items()
    }


if bare_app is not None:

    @bare_app.get("/bare/trip-search")
    def bare_search():
        """The day's trips from station code `from` to `to` with fare and seats
        left, one statement."""
        params = {
            "origin": request.args["from"],
            "destination": request.args["to"],
            "day": request.args["date"],
        }
        rows = connection().execute(BARE_SEARCH_SQL, params).fetchall()
        return jsonify({"items": [_plain(row) for row in rows]})

    @bare_app.post("/bare/trip-book")
    def bare_book():
        """Hold the first free seat of a ride for a customer: 201, or 409 when
        none is free (or another request took it first)."""
        import psycopg

        body = request.get_json(force=True)
        params = {
            **body,
            "labels": SEAT_LABELS,
            "reference": "BR-" + secrets.token_hex(5).upper(),
        }
        try:
            row = connection().execute(BARE_BOOK_SQL, params).fetchone()
        except psycopg.errors.UniqueViolation:
            row = None
        if row is None:
            return jsonify({"status": 409, "detail": "Seat taken."}), 409
        return jsonify(_plain(row)), 201

    @bare_app.get("/health")
    def bare_health():
        """Liveness, for the start-up wait."""
        return jsonify({"status": "ok"})


# --- load -----------------------------------------------------------------------------


def closed_loop(requests_: list, clients: int) -> tuple[list, float]:
    """Send `requests_` (callables returning a status) from `clients` threads, each
    taking the next one until none is left; returns ([(status, seconds)], elapsed)."""
    lock = threading.Lock()
    cursor = iter(requests_)
    results = []

    def worker():
        import requests

        with requests.Session() as session:
            while True:
                with lock:
                    item = next(cursor, None)
                if item is None:
                    return
                begin = time.perf_counter()
                try:
                    status = item(session)
                except requests.RequestException:
                    status = 0
                seconds = time.perf_counter() - begin
                with lock:
                    results.append((status, seconds))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    return results, time.perf_counter() - started


def plans(base: str, bare: bool, line: dict, day: dict, counter: list) -> dict:
    """{scenario: factory(n) -> list of n request callables} for one server."""
    codes = line["codes"]
    tokens = line["tokens"]
    trips = day["trips"]

    def search(n):
        path = "/bare/trip-search" if bare else "/api/v1/transport/search"
        url = base + path
        query = {"from": codes[0], "to": codes[-1], "date": day["day"].isoformat()}
        return [
            lambda s: s.get(url, params=query, timeout=REQUEST_TIMEOUT).status_code
        ] * n

    def book(n):
        out = []
        for _ in range(n):
            k = counter[0]
            counter[0] += 1
            trip_id = trips[k % len(trips)]
            segment = (k // len(trips)) % SEGMENTS
            rider = k % len(tokens)
            if bare:
                url = f"{base}/bare/trip-book"
                body = {
                    "trip_id": trip_id,
                    "customer_id": line["customers"][rider],
                    "from_station_id": line["stations"][segment],
                    "to_station_id": line["stations"][segment + 1],
                    "from_seq": segment,
                    "to_seq": segment + 1,
                }
                headers = {}
            else:
                url = f"{base}/api/v1/bookings"
                body = {
                    "trip_id": trip_id,
                    "from_station_id": line["stations"][segment],
                    "to_station_id": line["stations"][segment + 1],
                    "section_code": "economy",
                    "passengers": [
                        {
                            "name": f"Rider {k}",
                            "birth_date": "1990-01-01",
                            "category": "adult",
                        }
                    ],
                }
                headers = {"Authorization": f"Bearer {tokens[rider]}"}
            out.append(
                lambda s, url=url, body=body, headers=headers: (
                    s.post(
                        url, json=body, headers=headers, timeout=REQUEST_TIMEOUT
                    ).status_code
                )
            )
        return out

    return {"search": search, "book": book}


EXPECTED = {"search": 200, "book": 201}


def measure(env: dict, args, line: dict, day: dict) -> dict:
    """{(scenario, app): {rps, p50, p99, errors}} (medians over the rounds)."""
    from contextlib import ExitStack

    counters = {"service": [0], "bare": [0]}
    runs: dict = {}
    with ExitStack() as stack:
        bases = {
            name: stack.enter_context(
                serve(
                    env,
                    timeout=START_TIMEOUT,
                    workers=args.workers,
                    threads=1,
                    extra_args=("--log-level", "warning"),
                    target=target,
                )
            )
            for name, target in (
                ("service", "app:create_app()"),
                ("bare", "bench.trip_booking:bare_app"),
            )
        }
        for scenario in ("search", "book"):
            for round_ in range(args.rounds):
                for name in ("service", "bare"):
                    factory = plans(
                        bases[name], name == "bare", line, day, counters[name]
                    )[scenario]
                    closed_loop(factory(args.clients * 2), args.clients)  # warm-up
                    results, elapsed = closed_loop(factory(args.requests), args.clients)
                    ms = [seconds * 1000 for _, seconds in results]
                    errors = sum(1 for s, _ in results if s != EXPECTED[scenario])
                    runs.setdefault((scenario, name), []).append(
                        {
                            "rps": len(results) / elapsed,
                            "p50": statistics.median(ms),
                            "p99": percentile(ms, 0.99),
                            "errors": errors,
                        }
                    )
                    progress(
                        f"{scenario} {name} round {round_ + 1}: "
                        f"{len(results) / elapsed:.1f} req/s, p50 "
                        f"{statistics.median(ms):.1f} ms, {errors} not "
                        f"{EXPECTED[scenario]}"
                    )
    return {
        key: {
            "rps": statistics.median(r["rps"] for r in rounds),
            "p50": statistics.median(r["p50"] for r in rounds),
            "p99": statistics.median(r["p99"] for r in rounds),
            "errors": sum(r["errors"] for r in rounds),
        }
        for key, rounds in runs.items()
    }


EXPLAINED = {
    "taken seats of a ride (search, booking)": (
        "SELECT DISTINCT s.seat_label FROM transport_seat_segments s "
        "JOIN bookings b ON b.id = s.booking_id WHERE s.trip_id = %(trip)s "
        "AND s.section_code = 'economy' AND s.segment >= 1 AND s.segment < 3 "
        f"AND {LIVE}"
    ),
    "lapsed holds of the trip (booking)": (
        "SELECT id FROM bookings WHERE status = 'held' AND hold_expires_at <= now() "
        "AND trip_id = %(trip)s"
    ),
    "customer's held seats on the trip (booking)": (
        "SELECT coalesce(sum(seats), 0) FROM bookings WHERE customer_id = %(customer)s "
        "AND trip_id = %(trip)s AND status = 'held' AND hold_expires_at > now()"
    ),
}


def explain(url: str, line: dict, day: dict) -> None:
    """Print the plan summary and time of the per-booking seat queries."""
    import psycopg

    params = {"trip": day["trips"][0], "customer": line["customers"][0]}
    with psycopg.connect(libpq_url(url)) as conn:
        for label, sql in EXPLAINED.items():
            plan = [
                row[0]
                for row in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            ]
            print(f"    {label}:")
            for text in plan:
                if any(w in text for w in ("Scan", "Join", "Execution", "Nested")):
                    print("      " + text.strip()[:140])


def table(sizes: list, results: dict) -> str:
    """The Markdown table of the run."""
    first = sizes[0]
    lines = [
        "| scenario | sold tickets | req/s | p50 ms | p99 ms | errors | bare req/s "
        "| bare p50 ms | ratio req/s | ratio p50 | p50 / p50 at "
        f"{first:,} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in ("search", "book"):
        for sold in sizes:
            svc = results[sold][(scenario, "service")]
            bare = results[sold][(scenario, "bare")]
            base = results[first][(scenario, "service")]["p50"]
            lines.append(
                f"| {scenario} | {sold:,} | {svc['rps']:.1f} | {svc['p50']:.1f} | "
                f"{svc['p99']:.1f} | {svc['errors']} | {bare['rps']:.1f} | "
                f"{bare['p50']:.1f} | {svc['rps'] / bare['rps']:.2f} | "
                f"{svc['p50'] / bare['p50']:.2f} | {svc['p50'] / base:.2f} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    """Seed, serve and measure every size; print the table. Exit status 1 when a
    request answered something else than expected (never on time)."""
    args = parse_args(argv)
    secret = secrets.token_urlsafe(48)
    env = app_env(args.database_url, secret)
    env["PYTHONPATH"] = ROOT
    os.environ.update({k: env[k] for k in ("SECRET_KEY", "JWT_SECRET_KEY")})
    results = {}
    where = machine(args.database_url)
    try:
        for sold in args.sold:
            recreate_database(args.database_url)
            build_schema(env)
            line = seed_line(args.database_url)
            day = seed_sold(args.database_url, line, sold)
            if args.explain:
                print(f"plans at {sold:,} sold tickets:")
                explain(args.database_url, line, day)
            results[sold] = measure(env, args, line, day)
    finally:
        if not args.keep_database:
            drop_database(args.database_url)
    print(
        f"gunicorn -w {args.workers} (sync), {args.clients} client threads, "
        f"{args.rounds} rounds x {args.requests} requests per app (medians); "
        f"{TRIPS:,} trips of {STOPS} stops, {SEATS} seats; {where}"
    )
    print(table(args.sold, results))
    errors = sum(r["errors"] for size in results.values() for r in size.values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
