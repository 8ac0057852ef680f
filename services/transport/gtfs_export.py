"""GTFS export (docs/transport.md "GTFS export"; https://gtfs.org/schedule/reference/):
one company's network and timetable as a GTFS Schedule feed (a ZIP archive of
agency, stops, routes, trips, stop_times, calendar, calendar_dates and feed_info,
and translations with the stations' translated names when any has one).

What is written is what the company runs:
- each Schedule is one GTFS trip with its calendar (weekdays, start/end) and
  calendar_dates (the dates its pattern adds or removes); its stop times are the
  pattern converted to the agency (company) timezone on the schedule's start
  date, GTFS-style (hours past 24 for a trip past midnight);
- each Trip a schedule does not describe exactly (made by hand, edited, or whose
  times differ from the pattern on its date, e.g. across a clock change between
  two zones) is a GTFS trip of its own on a calendar_dates-only service of its
  date (`D<YYYYMMDD>`), and its date is removed from its schedule's service;
  cancelled trips are left out (their dates removed as well).
Every GTFS time is in the agency timezone (the company's), counted from its
service day; a trip that would start before that day's start moves to the
previous service date (GTFS has no negative times).

Stations used by the exported trips are stops (`stop_timezone` when their zone
differs from the company's), with their parent stations. Rows are streamed from
the database; the archive is built in a spooled temporary file.
"""

import csv
import io
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby

from sqlalchemy import select

from core.errors import NotFound, ValidationFailed
from core.extensions import db
from models import Schedule, Station, StopTime, TransportCompany, TransportRoute, Trip
from models.base import utcnow
from services.transport import timetable
from services.transport.access import company_scope, require_manager
from services.transport.gtfs_translations import translation_rows

# GTFS route_type of each vehicle mode (basic types; plane: extended 1100).
ROUTE_TYPES = {"train": 2, "bus": 3, "ferry": 4, "plane": 1100}
# Bytes of the archive kept in memory before it spills to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
ROWS_PER_FETCH = 5000


@dataclass
class _ScheduleTrip:
    """A schedule as one GTFS trip: `calls` are `(station_id, arrival,
    departure)` in agency-zone seconds of GTFS service date (our date - shift)."""

    schedule: Schedule
    trip_id: str
    calls: list
    shift: int
    dates: set
    removed: set = field(default_factory=set)


def gtfs_time(seconds: int) -> str:
    """`HH:MM:SS` (hours may pass 24) for seconds after the service day's start."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def schedule_dates(schedule: Schedule) -> set[date]:
    """The dates a schedule runs on: from start_date to end_date, the days of its
    weekdays plus added_dates, minus removed_dates (GTFS calendar +
    calendar_dates; docs/transport.md "Schedules")."""
    added = {date.fromisoformat(text) for text in schedule.added_dates or ()}
    removed = {date.fromisoformat(text) for text in schedule.removed_dates or ()}
    dates, day = set(), schedule.start_date
    while day <= schedule.end_date:
        if (schedule.weekdays[day.weekday()] == "1" or day in added) and (
            day not in removed
        ):
            dates.add(day)
        day += timedelta(days=1)
    return dates


def _company(actor, company_id: int | None) -> TransportCompany:
    """The company to export for `actor`: an operator's own (another is 404);
    admin and operation name one (422 without)."""
    require_manager(actor)
    scope = company_scope(actor)
    if scope is not None:
        if company_id not in (None, scope):
            raise NotFound("Company")
        company_id = scope
    if company_id is None:
        raise ValidationFailed({"company_id": ["Missing data for required field."]})
    company = db.session.get(TransportCompany, company_id)
    if company is None:
        raise NotFound("Company")
    return company


def export_feed(*, actor, company_id: int | None, site_url: str) -> tuple:
    """The GTFS feed of company `company_id` (an operator: its own) as
    `(binary file object at offset 0, file name)`.

    `site_url` is the agency_url when the company has no website. Raises
    Forbidden (403) for a role that manages no transport data, NotFound (404) for
    an unknown or another company, ValidationFailed (422) when admin or operation
    name no company.
    """
    company = _company(actor, company_id)
    # Handed to the caller open (the response streams and closes it).
    archive = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as feed:
            _Exporter(company, feed, site_url).run()
    except Exception:
        archive.close()
        raise
    archive.seek(0)
    name = f"gtfs-{company.code}-{utcnow().date():%Y%m%d}.zip"
    return archive, name


class _Exporter:
    """Writes one company's feed into an open ZipFile (see the module
    docstring)."""

    def __init__(self, company: TransportCompany, feed: zipfile.ZipFile, url: str):
        self.company, self.feed, self.url = company, feed, url
        self.zone = company.timezone
        self.routes = {
            route.id: route
            for route in db.session.scalars(
                select(TransportRoute).where(TransportRoute.company_id == company.id)
            )
        }
        self.zones: dict[int, str] = {}
        self.codes: dict[int, str] = {}
        self.used_stations: set[int] = set()
        self.trip_ids: set[str] = set()
        self.one_offs: list = []
        self.schedule_trips: dict[int, _ScheduleTrip] = {}
        self._starts: dict = {}

    def run(self) -> None:
        """Write every file of the feed (stop_times first, streamed)."""
        self.load_schedules()
        with self.writer(
            "stop_times.txt",
            ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
        ) as write:
            self.write_schedule_stop_times(write)
            self.write_trips_not_covered(write)
        self.write_agency()
        self.write_stops()
        self.write_routes()
        self.write_trips_and_services()
        self.write_feed_info()

    # -- helpers
    def writer(self, name: str, header: tuple):
        """A context manager giving `write(row)` for CSV file `name` of the
        archive, its header written."""
        return _CsvMember(self.feed, name, header)

    def _start(self, day: date) -> datetime:
        start = self._starts.get(day)
        if start is None:
            start = self._starts[day] = timetable.day_start(day, self.zone)
        return start

    def _seconds(self, instant: datetime, day: date) -> int:
        return round((instant - self._start(day)).total_seconds())

    def _unique(self, wanted: str | None, fallback: str) -> str:
        """A trip_id not used yet in this feed: `wanted`, else `fallback`."""
        return _free(wanted or "", fallback, self.trip_ids)

    # -- schedules
    def load_schedules(self) -> None:
        """Each schedule with a date as a GTFS trip in agency-zone seconds."""
        schedules = list(
            db.session.scalars(
                select(Schedule)
                .where(Schedule.route_id.in_(list(self.routes)))
                .order_by(Schedule.id)
            )
        )
        station_ids = {
            call["station_id"] for s in schedules for call in s.stop_times or ()
        }
        self._load_zones(station_ids)
        for schedule in schedules:
            dates = schedule_dates(schedule)
            if not dates or len(schedule.stop_times or ()) < 2:
                continue
            calls, shift = self._agency_calls(schedule)
            trip_id = self._unique(schedule.gtfs_trip_id, f"S{schedule.id}")
            self.schedule_trips[schedule.id] = _ScheduleTrip(
                schedule, trip_id, calls, shift, dates
            )

    def _load_zones(self, station_ids) -> None:
        missing = sorted(set(station_ids) - set(self.zones))
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            for row in db.session.execute(
                select(Station.id, Station.timezone, Station.code).where(
                    Station.id.in_(chunk)
                )
            ):
                self.zones[row.id] = row.timezone
                self.codes[row.id] = row.code

    def _agency_calls(self, schedule: Schedule) -> tuple[list, int]:
        """The pattern's `(station_id, arrival, departure)` in agency-zone seconds
        of the start date's GTFS service day, and that day's shift back (0-2
        days) so no time is negative."""
        reference = schedule.start_date
        instants = []
        for call in schedule.stop_times:
            zone_name = self.zones[call["station_id"]]
            arrival = call.get("arrival") or call.get("departure")
            departure = call.get("departure") or arrival
            instants.append(
                (
                    call["station_id"],
                    timetable.to_utc(reference, arrival, zone_name),
                    timetable.to_utc(reference, departure, zone_name),
                )
            )
        return self._relative(instants, reference)

    def _relative(self, instants: list, day: date) -> tuple[list, int]:
        """`(station_id, arrival_at, departure_at)` as seconds of the GTFS service
        day `day - shift`, shift the smallest of 0, 1, 2 making them all >= 0."""
        first = min(arrival for _, arrival, _ in instants)
        shift = 0
        while shift < 2 and first < self._start(day - timedelta(days=shift)):
            shift += 1
        service_day = day - timedelta(days=shift)
        calls = [
            (
                station_id,
                self._seconds(arrival, service_day),
                self._seconds(departure, service_day),
            )
            for station_id, arrival, departure in instants
        ]
        return calls, shift

    def write_schedule_stop_times(self, write) -> None:
        """The stop times of each schedule's GTFS trip."""
        for item in self.schedule_trips.values():
            self._write_calls(write, item.trip_id, item.calls)

    def _write_calls(self, write, trip_id: str, calls: list) -> None:
        for sequence, (station_id, arrival, departure) in enumerate(calls):
            self.used_stations.add(station_id)
            write(
                (
                    trip_id,
                    gtfs_time(arrival),
                    gtfs_time(departure),
                    self.codes[station_id],
                    sequence,
                )
            )

    # -- trips
    def write_trips_not_covered(self, write) -> None:
        """Stream every trip with its stop times: one a schedule describes is
        left to the schedule's calendar, any other is written as its own trip."""
        rows = db.session.execute(
            select(
                Trip.id,
                Trip.schedule_id,
                Trip.service_date,
                Trip.route_id,
                Trip.status,
                Trip.headsign,
                Trip.gtfs_trip_id,
                StopTime.station_id,
                StopTime.arrival_at,
                StopTime.departure_at,
                Station.code,
            )
            .join(StopTime, StopTime.trip_id == Trip.id)
            .join(Station, Station.id == StopTime.station_id)
            .where(Trip.route_id.in_(list(self.routes)))
            .order_by(Trip.id, StopTime.sequence)
            .execution_options(yield_per=ROWS_PER_FETCH)
        )
        for _, group in groupby(rows, key=lambda row: row.id):
            calls = list(group)
            self._trip(write, calls[0], calls)

    def _trip(self, write, trip, calls: list) -> None:
        item = self.schedule_trips.get(trip.schedule_id)
        day = trip.service_date
        scheduled = item is not None and day in item.dates
        if trip.status == "cancelled":
            if scheduled:
                item.removed.add(day)
            return
        if scheduled and self._as_scheduled(item, day, calls):
            return
        if scheduled:
            item.removed.add(day)
        instants = [(c.station_id, c.arrival_at, c.departure_at) for c in calls]
        self.codes.update((c.station_id, c.code) for c in calls)
        agency_calls, shift = self._relative(instants, day)
        service_day = day - timedelta(days=shift)
        base = trip.gtfs_trip_id or f"T{trip.id}"
        trip_id = self._unique(f"{base}@{service_day:%Y%m%d}"[:64], f"T{trip.id}")
        self._write_calls(write, trip_id, agency_calls)
        self.one_offs.append((trip_id, trip.route_id, service_day, trip.headsign))

    def _as_scheduled(self, item: _ScheduleTrip, day: date, calls: list) -> bool:
        """True when the trip's stations and UTC times are those the schedule's
        GTFS trip gives on `day`."""
        if len(calls) != len(item.calls):
            return False
        start = self._start(day - timedelta(days=item.shift))
        for call, (station_id, arrival, departure) in zip(
            calls, item.calls, strict=True
        ):
            if (
                call.station_id != station_id
                or call.arrival_at != start + timedelta(seconds=arrival)
                or call.departure_at != start + timedelta(seconds=departure)
            ):
                return False
        return True

    # -- the other files
    def write_agency(self) -> None:
        """agency.txt: the company, in its own timezone."""
        company = self.company
        with self.writer(
            "agency.txt",
            (
                "agency_id",
                "agency_name",
                "agency_url",
                "agency_timezone",
                "agency_phone",
                "agency_email",
            ),
        ) as write:
            write(
                (
                    company.code,
                    company.name,
                    company.website or self.url,
                    self.zone,
                    company.phone or "",
                    company.email or "",
                )
            )

    def write_stops(self) -> None:
        """stops.txt: the stations used, with their parent stations; and
        translations.txt with their translated names when any has one
        (services/transport/gtfs_translations.py)."""
        stations = self._stations()
        parents = {s.parent_id for s in stations.values() if s.parent_id}
        with self.writer(
            "stops.txt",
            (
                "stop_id",
                "stop_name",
                "stop_lat",
                "stop_lon",
                "location_type",
                "parent_station",
                "stop_timezone",
            ),
        ) as write:
            for station in sorted(stations.values(), key=lambda s: s.code):
                write(self._stop_row(station, stations, parents))
        translations = translation_rows(stations.values())
        if translations:
            columns = tuple(translations[0])
            with self.writer("translations.txt", columns) as write:
                for row in translations:
                    write(tuple(row.values()))

    def _stations(self) -> dict:
        """The stations used by the exported trips and their parents, by id."""
        stations = {}
        wanted = sorted(self.used_stations)
        while wanted:
            chunk, wanted = wanted[:500], wanted[500:]
            for station in db.session.scalars(
                select(Station).where(Station.id.in_(chunk))
            ):
                stations[station.id] = station
            if not wanted:
                wanted = sorted(
                    {s.parent_id for s in stations.values() if s.parent_id}
                    - set(stations)
                )
        return stations

    def _stop_row(self, station: Station, stations: dict, parents: set) -> tuple:
        """One stops.txt row: a station only some stations hang under (and no trip
        calls at) is a GTFS station (location_type 1); a parent in another zone,
        or one trips call at, is left out of parent_station."""
        is_station = station.id in parents and station.id not in self.used_stations
        parent = stations.get(station.parent_id)
        parent_ok = (
            parent is not None
            and parent.id not in self.used_stations
            and parent.timezone == station.timezone
        )
        return (
            station.code,
            station.name,
            "" if station.latitude is None else str(station.latitude),
            "" if station.longitude is None else str(station.longitude),
            1 if is_station else 0,
            parent.code if parent_ok else "",
            "" if station.timezone == self.zone else station.timezone,
        )

    def write_routes(self) -> None:
        """routes.txt: the routes with a trip in the feed."""
        used = {item.schedule.route_id for item in self.schedule_trips.values()}
        used |= {route_id for _, route_id, _, _ in self.one_offs}
        with self.writer(
            "routes.txt",
            ("route_id", "agency_id", "route_long_name", "route_type"),
        ) as write:
            for route_id in sorted(used):
                route = self.routes[route_id]
                mode = ROUTE_TYPES[route.mode]
                write((route.code, self.company.code, route.name, mode))

    def write_trips_and_services(self) -> None:
        """trips.txt, calendar.txt and calendar_dates.txt."""
        services = self._services()
        with self.writer(
            "trips.txt", ("route_id", "service_id", "trip_id", "trip_headsign")
        ) as write:
            for item in self.schedule_trips.values():
                schedule = item.schedule
                write(
                    (
                        self.routes[schedule.route_id].code,
                        services[item.schedule.id],
                        item.trip_id,
                        schedule.headsign or "",
                    )
                )
            for trip_id, route_id, day, headsign in self.one_offs:
                write(
                    (
                        self.routes[route_id].code,
                        services[day],
                        trip_id,
                        headsign or "",
                    )
                )

    def _services(self) -> dict:
        """Write calendar.txt and calendar_dates.txt; answer schedule id or
        one-off date -> service_id."""
        calendars: dict[tuple, list] = {}
        days = {day for _, _, day, _ in self.one_offs}
        for item in self.schedule_trips.values():
            key = _calendar_key(item)
            calendars.setdefault(key, []).append(item)
            back = timedelta(days=item.shift)
            running = item.dates - item.removed
            days |= {min(running) - back, max(running) - back} if running else set()
        self.span = (min(days), max(days)) if days else None
        names, used, changes = {}, set(), []
        header = ("service_id", *WEEKDAY_COLUMNS, "start_date", "end_date")
        with self.writer("calendar.txt", header) as write:
            for (weekdays, start, end, exceptions), items in calendars.items():
                wanted = items[0].schedule.gtfs_service_id or ""
                service_id = _free(wanted, f"SVC{items[0].schedule.id}", used)
                write((service_id, *weekdays, f"{start:%Y%m%d}", f"{end:%Y%m%d}"))
                changes += [(service_id, day, kind) for day, kind in exceptions]
                for item in items:
                    names[item.schedule.id] = service_id
        for day in sorted({day for _, _, day, _ in self.one_offs}):
            service_id = _free(f"D{day:%Y%m%d}", f"D{day:%Y%m%d}~1", used)
            changes.append((service_id, day, 1))
            names[day] = service_id
        header = ("service_id", "date", "exception_type")
        with self.writer("calendar_dates.txt", header) as write:
            for service_id, day, kind in changes:
                write((service_id, f"{day:%Y%m%d}", kind))
        return names

    def write_feed_info(self) -> None:
        """feed_info.txt: publisher, languages, dates covered, version."""
        with self.writer(
            "feed_info.txt",
            (
                "feed_publisher_name",
                "feed_publisher_url",
                "feed_lang",
                "feed_start_date",
                "feed_end_date",
                "feed_version",
                "feed_contact_email",
                "feed_contact_url",
            ),
        ) as write:
            first, last = self.span or (None, None)
            write(
                (
                    self.company.name,
                    self.company.website or self.url,
                    "mul",
                    f"{first:%Y%m%d}" if first else "",
                    f"{last:%Y%m%d}" if last else "",
                    utcnow().strftime("%Y%m%dT%H%M%SZ"),
                    self.company.email or "",
                    self.company.website or self.url,
                )
            )


WEEKDAY_COLUMNS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


def _calendar_key(item: _ScheduleTrip) -> tuple:
    """`(weekday digits, start, end, ((date, exception_type), ...))` of a
    schedule's GTFS service: its dates (less the removed ones) moved back by its
    shift, as weekdays over start..end plus the exceptions that make them exact."""
    schedule, shift = item.schedule, item.shift
    back = timedelta(days=shift)
    dates = {day - back for day in item.dates - item.removed}
    weekdays = tuple(schedule.weekdays[(column + shift) % 7] for column in range(7))
    start, end = schedule.start_date - back, schedule.end_date - back
    changes, day = [], start
    while day <= end:
        by_weekday = weekdays[day.weekday()] == "1"
        runs = day in dates
        if runs != by_weekday:
            changes.append((day, 1 if runs else 2))
        day += timedelta(days=1)
    return weekdays, start, end, tuple(changes)


def _free(wanted: str, fallback: str, used: set) -> str:
    """`wanted` when free in `used`, else `fallback` (with `~` added until it is
    free); the name is added to `used`."""
    name = wanted if wanted and wanted not in used else fallback
    while name in used:
        name += "~"
    used.add(name)
    return name


class _CsvMember:
    """A CSV file written into the archive: `with _CsvMember(zip, name, header)
    as write: write(row)`."""

    def __init__(self, feed: zipfile.ZipFile, name: str, header: tuple):
        self.feed, self.name, self.header = feed, name, header

    def __enter__(self):
        self.text = io.TextIOWrapper(
            self.feed.open(self.name, "w"), encoding="utf-8", newline=""
        )
        writer = csv.writer(self.text, lineterminator="\n")
        writer.writerow(self.header)
        return writer.writerow

    def __exit__(self, *exc) -> None:
        self.text.close()
