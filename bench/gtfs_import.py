"""GTFS import of a large synthetic feed (docs/transport.md "GTFS import"; the
issue's bar: a feed of 100,000 stop times imports in under a minute).

The script writes a feed into a temporary folder and zips it: --stops stops (one
in ten in Europe/London, the rest in the agency's Europe/Paris, so both ways of
computing local times run), --routes routes of --stops-per-trip stops each, and
--trips trips spread over the routes and the day (weekday and weekend services),
i.e. trips x stops-per-trip rows of stop_times.txt (default 5,000 x 20 = 100,000).
It then imports the zip through services.transport.gtfs_import.import_feed (the
code behind POST /transport/gtfs and `flask transport import-gtfs`) into a fresh
database, materialising the trips of --days service dates (default 1: one trip
per feed trip, 100,000 StopTime rows), and prints the seconds of each phase.

    .venv/bin/python bench/gtfs_import.py                  # fresh SQLite file
    .venv/bin/python bench/gtfs_import.py --days 7         # a week of trips
    .venv/bin/python bench/gtfs_import.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/gtfs_bench

A PostgreSQL database given with --database-url (or TEST_DATABASE_URL) is
EMPTIED first (its public schema is dropped): use a scratch database.
"""

import argparse
import csv
import os
import sys
import tempfile
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENCY_ZONE = "Europe/Paris"


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stops", type=int, default=200)
    parser.add_argument("--routes", type=int, default=20)
    parser.add_argument("--trips", type=int, default=5000)
    parser.add_argument("--stops-per-trip", type=int, default=20)
    parser.add_argument(
        "--days", type=int, default=1, help="service dates materialised (1)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL", ""),
        help="PostgreSQL scratch database (emptied!); default a temp SQLite file",
    )
    return parser.parse_args(argv)


def _write(folder: Path, name: str, rows) -> None:
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def write_feed(folder: Path, args, first: date) -> int:
    """Write the synthetic feed's files into `folder`; returns its stop times."""
    _write(
        folder,
        "agency.txt",
        [
            ("agency_id", "agency_name", "agency_url", "agency_timezone"),
            ("BENCH", "Bench Lines", "https://www.example.com", AGENCY_ZONE),
        ],
    )
    stops = [("stop_id", "stop_name", "stop_lat", "stop_lon", "stop_timezone")]
    for n in range(args.stops):
        zone = "Europe/London" if n % 10 == 0 else ""
        stops.append(
            (f"S{n:05d}", f"Stop {n}", f"{45 + n * 0.01:.6f}", f"{n * 0.01:.6f}", zone)
        )
    _write(folder, "stops.txt", stops)
    _write(
        folder,
        "routes.txt",
        [("route_id", "route_long_name", "route_type")]
        + [(f"R{r:03d}", f"Route {r}", "3") for r in range(args.routes)],
    )
    last = first + timedelta(days=365)
    _write(
        folder,
        "calendar.txt",
        [
            (
                "service_id",
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
                "start_date",
                "end_date",
            ),
            ("WD", 1, 1, 1, 1, 1, 0, 0, f"{first:%Y%m%d}", f"{last:%Y%m%d}"),
            ("WE", 0, 0, 0, 0, 0, 1, 1, f"{first:%Y%m%d}", f"{last:%Y%m%d}"),
        ],
    )
    trips = [("route_id", "service_id", "trip_id")]
    times = [("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence")]
    for t in range(args.trips):
        route = t % args.routes
        trip_id = f"T{t:06d}"
        trips.append((f"R{route:03d}", "WD" if t % 7 else "WE", trip_id))
        start = 5 * 3600 + (t // args.routes) * 60  # one departure a minute
        for k in range(args.stops_per_trip):
            stop = (route * 7 + k) % args.stops
            arrival = start + k * 300
            departure = arrival + 60 if k else arrival
            times.append(
                (trip_id, _clock(arrival), _clock(departure), f"S{stop:05d}", k + 1)
            )
    _write(folder, "trips.txt", trips)
    _write(folder, "stop_times.txt", times)
    return len(times) - 1


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class PhaseTimer:
    """A progress factory (the shape of cli.progress_bar) that records how long
    each labelled phase took and prints one updating line on stderr."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def __call__(self, length: int, label: str):
        timer = self

        class Phase:
            """One timed phase (a context manager with `update`)."""

            def __enter__(self):
                self.started, self.done = time.perf_counter(), 0
                return self

            def update(self, n, current_item=None):
                """Count `n` more steps and redraw the line."""
                self.done += n
                if length:
                    sys.stderr.write(f"\r{label}: {100 * self.done // length:3d}%")

            def __exit__(self, *exc):
                timer.seconds[label] = time.perf_counter() - self.started
                sys.stderr.write(f"\r{label}: done in {timer.seconds[label]:.1f}s\n")

        return Phase()


def run(args) -> None:
    """Write the feed, import it into a fresh database, print the timings."""
    from app import create_app
    from config import normalise_database_url
    from core.extensions import db
    from services.transport.gtfs_import import import_feed
    from tests.factories import fresh_schema

    first = date.today()
    with tempfile.TemporaryDirectory(prefix="gtfs-bench-") as work:
        folder = Path(work) / "feed"
        folder.mkdir()
        rows = write_feed(folder, args, first)
        archive = Path(work) / "feed.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as feed:
            for path in sorted(folder.iterdir()):
                feed.write(path, path.name)
        size = archive.stat().st_size
        print(f"feed: {rows} stop times, zip {size / 1024 / 1024:.2f} MiB")
        url = args.database_url or f"sqlite:///{Path(work) / 'bench.db'}"
        app = create_app(
            "testing", {"SQLALCHEMY_DATABASE_URI": normalise_database_url(url)}
        )
        with app.app_context():
            fresh_schema()
            timer = PhaseTimer()
            started = time.perf_counter()
            summary = import_feed(
                str(archive),
                first_date=first,
                last_date=first + timedelta(days=args.days - 1),
                progress=timer,
            )
            total = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
    counts = summary["counts"]
    print(f"database: {url.split('://')[0]}, window {args.days} day(s)")
    print(
        f"created {counts['stations']} stations, {counts['routes']} routes, "
        f"{counts['schedules']} schedules, {counts['trips']} trips, "
        f"{counts['stop_times']} stop times"
    )
    reading = timer.seconds.get("Reading feed", 0.0)
    writing = timer.seconds.get("Writing trips", 0.0)
    print(
        f"seconds: total {total:.1f} (reading and checking {reading:.1f}, "
        f"trips and stop times {writing:.1f}, the rest {total - reading - writing:.1f})"
    )


if __name__ == "__main__":
    run(parse_args())
