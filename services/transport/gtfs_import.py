"""GTFS import (docs/transport.md "GTFS import"; https://gtfs.org/schedule/reference/):
a feed becomes companies, cities, stations, routes, schedules and the trips of a
window of service dates, all or nothing, in one transaction.

Mapping:
- agency -> TransportCompany, matched by code (agency_id, or a slug of the name
  when the feed's only agency has none) and updated (name, url, phone, email,
  timezone); a new one takes `country` (else the country of the agency timezone
  in zone.tab). An operator's import, or one given a `company_id`, maps every
  agency of the feed to that company and leaves the company record alone.
- stops (location_type 0 and 1) -> Station, code = stop_id, matched by code and
  then kept as they are (stations are shared between companies); new ones take
  stop_timezone (else the parent's, else the agency's) and their parent station.
  GTFS has no city: a new station's City is the one named after its top-level
  station (the parent's name, else its own), in that station's timezone and the
  country of that timezone (else the company's); an existing city of that name
  and country is reused. Entrances, nodes and boarding areas are not imported.
  translations.txt stop names become `Station.translations` (and a new city's,
  from its top-level station) in the languages of LANGUAGES; an existing station
  only gains the languages it has no name in (gtfs_translations).
- routes -> TransportRoute matched by (company, route_id); mode from route_type
  (gtfs_feed.route_mode); its stops are those of its longest trip.
- each trip (each departure of a frequencies.txt window) -> one Schedule matched
  by (company, gtfs_trip_id): its calendar (weekdays, start/end, added and removed
  dates from calendar_dates; added dates may lie outside start/end) and its
  stop-time pattern in each station's local time of the schedule's first date.
- the schedule's Trips for the service dates in [first_date, last_date] (default
  today and DEFAULT_DAYS days), with their StopTimes. GTFS times are local to the
  AGENCY timezone: UTC = timetable.to_utc(service_date, time, agency_tz); each
  stop time keeps its local text in its station's own zone (timetable.to_local).
  A trip that already exists for (schedule, date) is kept unchanged.

A re-import of the same feed therefore creates nothing new; a changed feed updates
companies, routes and schedules and adds the trips of new dates. Rows are
streamed from the archive and inserted in batches (CHUNK trips at a time).
"""

from datetime import date, timedelta

from sqlalchemy import delete, insert, select, update

from core.errors import APIError, NotFound, ValidationFailed
from core.extensions import db
from models import (
    City,
    RouteStop,
    Schedule,
    Station,
    TransportCompany,
    TransportRoute,
    Trip,
)
from models.base import utcnow
from services.audit import audit
from services.transport import timetable
from services.transport.access import company_scope, require_manager
from services.transport.bulk import insert_returning_ids, insert_stop_times
from services.transport.gtfs_feed import feed_size, read_feed
from services.transport.gtfs_files import Feed, FeedTrip, timezone_country
from services.transport.gtfs_translations import (
    add_translations,
    city_translations,
    station_translations,
)

# Service dates materialised as trips when the caller names no window.
DEFAULT_DAYS = 28
MAX_DAYS = 366
# Trips per insert batch (their stop times go in the same batch).
CHUNK = 1000
# Ids per IN (...) list when matching existing rows.
LOOKUP_CHUNK = 500
# StopTime.arrival_local / departure_local hold at most this many characters.
LOCAL_TEXT_LENGTH = 8


class GtfsInvalid(APIError):
    """422 `gtfs-invalid`: the feed breaks GTFS rules; `errors: [{file, row,
    field, reason}]` (and the `warnings` found so far); nothing was imported."""

    def __init__(self, errors: list, warnings: list):
        super().__init__(
            422,
            "The GTFS feed is not valid; see `errors`. Nothing was imported.",
            code="gtfs-invalid",
            extra={"errors": errors, "warnings": warnings},
        )


class _NoProgress:
    """The progress reporter used when the caller shows none."""

    def __init__(self, length: int = 0, label: str = ""):
        self.length, self.label = length, label

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n_steps: int, current_item=None) -> None:
        """Count `n_steps` more steps done (ignored)."""


def service_window(first: date | None, last: date | None, today: date) -> tuple:
    """The service dates to materialise: `first` (default `today`) to `last`
    (default DEFAULT_DAYS days on); ValidationFailed (422) when `last` is before
    `first` or the window is longer than MAX_DAYS."""
    first = first or today
    last = last or first + timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise ValidationFailed({"until": ["Must not be before `from`."]})
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed({"until": [f"At most {MAX_DAYS} days after `from`."]})
    return first, last


def _target_company(actor, company_id: int | None) -> TransportCompany | None:
    """The company every agency maps to: an operator's own (naming another is
    404), the `company_id` given (404 when unknown), else None (by agency code)."""
    if actor is not None:
        require_manager(actor)
        scope = company_scope(actor)
        if scope is not None:
            if company_id not in (None, scope):
                raise NotFound("Company")
            company_id = scope
    if company_id is None:
        return None
    company = db.session.get(TransportCompany, company_id)
    if company is None:
        raise NotFound("Company")
    return company


def _country(country: str | None) -> str | None:
    """`country` upper-cased, ValidationFailed unless two ASCII letters."""
    if country is None:
        return None
    text = country.strip().upper()
    if len(text) != 2 or not text.isascii() or not text.isalpha():
        raise ValidationFailed({"country": ["An ISO 3166-1 alpha-2 code."]})
    return text


def import_feed(
    source,
    *,
    actor=None,
    company_id: int | None = None,
    country: str | None = None,
    first_date: date | None = None,
    last_date: date | None = None,
    facts=None,
    progress=_NoProgress,
    max_bytes: int | None = None,
) -> dict:
    """Import the GTFS feed in `source` (a ZIP path or binary file object, or a
    folder) for `actor` (None: the CLI, every company), all or nothing.

    `company_id`: map every agency to that company (an operator: always its own);
    `country`: ISO 3166-1 alpha-2 of new companies (default: the agency
    timezone's); `first_date`/`last_date`: the service dates whose trips are
    created (service_window); `progress(length, label)`: a progress reporter
    factory (cli.py progress_bar); `max_bytes`: refuse archives holding more
    uncompressed bytes (ValidationFailed 422 on `file`).

    Answers `{company_ids, window, counts, matched, warnings}` (counts of rows
    created, of existing rows matched). Raises GtfsInvalid (422, `errors`) for a
    faulty feed, NotFound (404) for another company, Forbidden (403) for a role
    that manages no transport data; nothing is written then.
    """
    target = _target_company(actor, company_id)
    country = _country(country)
    first, last = service_window(first_date, last_date, utcnow().date())
    size = feed_size(source)
    if max_bytes and size > max_bytes:
        raise ValidationFailed(
            {"file": [f"The feed holds more than {max_bytes} uncompressed bytes."]}
        )
    with progress(size, "Reading feed") as bar:
        feed = read_feed(source, tick=bar.update)
    if feed.problems.errors:
        raise GtfsInvalid(feed.problems.all_errors(), feed.problems.all_warnings())
    importer = _Importer(feed, target, country, (first, last), progress)
    try:
        summary = importer.run()
        audit.record(
            "transport.gtfs_imported",
            entity_type="transport_company",
            entity_id=summary["company_ids"][0] if summary["company_ids"] else None,
            facts=facts,
            details={
                "counts": summary["counts"],
                "matched": summary["matched"],
                "window": summary["window"],
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return summary


def _chunks(items: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Importer:
    """Writes one checked Feed (see the module docstring); `run()` answers the
    summary. Raises GtfsInvalid for a problem only the database shows (a new
    company without a country)."""

    def __init__(self, feed: Feed, target, country, window, progress):
        self.feed, self.target, self.country = feed, target, country
        self.first, self.last = window
        self.progress = progress
        self.problems = feed.problems
        self.zone = feed.timezone
        self.counts = dict.fromkeys(
            (
                "companies",
                "cities",
                "stations",
                "routes",
                "schedules",
                "trips",
                "stop_times",
            ),
            0,
        )
        self.matched = dict.fromkeys(
            ("companies", "stations", "routes", "schedules", "trips"), 0
        )
        self.companies: dict[str, int] = {}  # agency key -> company id
        self.company_country: dict[int, str] = {}
        self.stations: dict[str, tuple] = {}  # stop_id -> (station id, timezone)
        self.routes: dict[str, int] = {}  # route_id -> route id
        self.schedules: dict[str, int] = {}  # gtfs trip id -> schedule id
        self.old_schedules: set[int] = set()
        self._starts: dict = {}
        self._calendars: dict = {}
        self._templates: dict = {}

    def run(self) -> dict:
        """Write everything in order; answers the summary (import_feed)."""
        self.import_companies()
        self.import_stations()
        self.import_routes()
        self.import_schedules()
        self.import_trips()
        return {
            "company_ids": sorted(set(self.companies.values())),
            "window": {"from": self.first, "until": self.last},
            "counts": self.counts,
            "matched": self.matched,
            "warnings": self.problems.all_warnings(),
        }

    # -- companies
    def import_companies(self) -> None:
        """Agencies -> companies (matched by code, or all to the target
        company)."""
        if self.target is not None:
            self._map_to_target()
            return
        agencies = self.feed.agencies.values()
        codes = [agency.code for agency in agencies]
        existing = {
            company.code: company
            for company in db.session.scalars(
                select(TransportCompany).where(TransportCompany.code.in_(codes))
            )
        }
        for agency in agencies:
            company = existing.get(agency.code)
            if company is None:
                company = self._new_company(agency)
            else:
                self.matched["companies"] += 1
            _describe_company(company, agency)
            self.companies[agency.key] = company
        db.session.flush()
        for key, company in list(self.companies.items()):
            self.companies[key] = company.id
            self.company_country[company.id] = company.country

    def _map_to_target(self) -> None:
        company = self.target
        for key in self.feed.agencies:
            self.companies[key] = company.id
        self.company_country[company.id] = company.country
        self.matched["companies"] += 1
        if company.timezone != self.zone:
            self.problems.warn(
                "agency_timezone_differs",
                "agency.txt",
                None,
                "agency_timezone",
                f"The feed's times are read in {self.zone}; company "
                f"{company.code} keeps its timezone {company.timezone}.",
            )

    def _new_company(self, agency) -> TransportCompany:
        country = self.country or timezone_country(agency.timezone)
        if country is None:
            raise GtfsInvalid(
                [
                    {
                        "file": "agency.txt",
                        "row": agency.row,
                        "field": "agency_timezone",
                        "reason": "No country is known for this timezone; send "
                        "`country` (ISO 3166-1 alpha-2) with the feed.",
                    }
                ],
                self.problems.all_warnings(),
            )
        company = TransportCompany(code=agency.code, country=country, active=True)
        db.session.add(company)
        self.counts["companies"] += 1
        return company

    # -- stations and their cities
    def import_stations(self) -> None:
        """Stops and stations -> Station rows, existing codes kept as they
        are; new ones with their cities and parents."""
        stops = [
            stop for stop in self.feed.stops.values() if stop.location_type in (0, 1)
        ]
        existing = {}
        for codes in _chunks([stop.stop_id for stop in stops]):
            existing.update(
                (row.code, row)
                for row in db.session.execute(
                    select(
                        Station.id,
                        Station.code,
                        Station.timezone,
                        Station.translations,
                    ).where(Station.code.in_(codes))
                )
            )
        new = []
        for stop in stops:
            row = existing.get(stop.stop_id)
            if row is None:
                new.append(stop)
                continue
            self.stations[stop.stop_id] = (row.id, row.timezone)
            self.matched["stations"] += 1
            add_translations(row, stop)
            if row.timezone != stop.timezone:
                self.problems.warn(
                    "station_kept",
                    "stops.txt",
                    stop.row,
                    "stop_timezone",
                    f"Station {stop.stop_id!r} exists in {row.timezone}; kept as "
                    f"it is (local times are shown in its zone).",
                )
        if new:
            self._insert_stations(new)

    def _insert_stations(self, stops: list) -> None:
        cities = self._cities(stops)
        rows = [
            {
                "code": stop.stop_id,
                "name": stop.name[:160],
                "city_id": cities[self._city_key(stop)],
                "latitude": stop.latitude,
                "longitude": stop.longitude,
                "timezone": stop.timezone,
                "translations": station_translations(stop.translations),
            }
            for stop in stops
        ]
        table = Station.__table__
        ids = db.session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        ).scalars()
        for stop, station_id in zip(stops, ids, strict=True):
            self.stations[stop.stop_id] = (station_id, stop.timezone)
        self.counts["stations"] += len(stops)
        parents = [
            {"id": self.stations[stop.stop_id][0], "parent_id": self.stations[p][0]}
            for stop in stops
            if (p := stop.parent) and p in self.stations
        ]
        if parents:
            db.session.execute(update(Station), parents)

    def _city_key(self, stop) -> tuple:
        """(name, country, timezone) of the city a new station belongs to."""
        top = self.feed.stops.get(stop.parent) if stop.parent else None
        top = top or stop
        fallback = next(iter(self.company_country.values()), "US")
        country = timezone_country(stop.timezone) or fallback
        return top.name[:120], country, stop.timezone

    def _cities(self, stops: list) -> dict:
        """(name, country, timezone) -> city id, creating missing cities (an
        existing city of that name and country is reused whatever its zone)."""
        keys = {self._city_key(stop) for stop in stops}
        names = sorted({name for name, _, _ in keys})
        translated = city_translations(self.feed.stops, stops)
        found = {}
        for chunk in _chunks(names):
            found.update(
                ((row.name, row.country), row.id)
                for row in db.session.execute(
                    select(City.id, City.name, City.country).where(City.name.in_(chunk))
                )
            )
        missing = sorted({(n, c): z for n, c, z in keys if (n, c) not in found}.items())
        if missing:
            table = City.__table__
            ids = db.session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [
                    {
                        "name": name,
                        "country": country,
                        "timezone": zone_name,
                        "translations": translated.get(name),
                    }
                    for (name, country), zone_name in missing
                ],
            ).scalars()
            for ((name, country), _), city_id in zip(missing, ids, strict=True):
                found[(name, country)] = city_id
            self.counts["cities"] += len(missing)
        return {key: found[key[:2]] for key in keys}

    # -- routes
    def import_routes(self) -> None:
        """Route variants -> routes (matched by company and code), their
        stops replaced by the variant's."""
        variants = list(self.feed.variants.values())
        company_of = {
            variant.code: self.companies[self.feed.routes[variant.route_id].agency_key]
            for variant in variants
        }
        company_ids = sorted(set(self.companies.values()))
        existing = {}
        for codes in _chunks([variant.code for variant in variants]):
            existing.update(
                ((row.company_id, row.code), row)
                for row in db.session.scalars(
                    select(TransportRoute).where(
                        TransportRoute.company_id.in_(company_ids),
                        TransportRoute.code.in_(codes),
                    )
                )
            )
        records, matched = {}, []
        for variant in variants:
            company_id = company_of[variant.code]
            record = existing.get((company_id, variant.code))
            if record is None:
                record = TransportRoute(
                    company_id=company_id, code=variant.code, active=True
                )
                db.session.add(record)
                self.counts["routes"] += 1
            else:
                matched.append(record.id)
                self.matched["routes"] += 1
            record.mode = self.feed.routes[variant.route_id].mode
            record.name = variant.name[:160]
            records[variant.code] = record
        if matched:
            db.session.execute(delete(RouteStop).where(RouteStop.route_id.in_(matched)))
        db.session.flush()
        stops = []
        for variant in variants:
            route_id = self.routes[variant.code] = records[variant.code].id
            stops += [
                {
                    "route_id": route_id,
                    "station_id": self.stations[stop_id][0],
                    "position": position,
                }
                for position, stop_id in enumerate(variant.stop_ids)
            ]
        if stops:
            db.session.execute(insert(RouteStop.__table__), stops)

    # -- schedules
    def import_schedules(self) -> None:
        """Feed trips -> schedules (matched by company and gtfs_trip_id),
        inserted or updated in bulk."""
        trips = [trip for trip in self.feed.trips if trip.route_code in self.routes]
        existing = self._existing_schedules([trip.trip_id for trip in trips])
        new, changed, idle = [], [], 0
        for trip in trips:
            values = self._schedule_values(trip)
            if values is None:
                idle += 1
                continue
            schedule_id = existing.get(trip.trip_id)
            if schedule_id is None:
                new.append((trip.trip_id, values))
            else:
                changed.append({"id": schedule_id, **values})
                self.schedules[trip.trip_id] = schedule_id
                self.old_schedules.add(schedule_id)
        if idle:
            self.problems.warn(
                "service_outside_horizon",
                "trips.txt",
                None,
                "service_id",
                f"{idle} trip(s) run on no date between {self.first} and "
                f"{self._horizon()}; not imported as schedules.",
            )
        if changed:
            db.session.execute(update(Schedule), changed)
            self.matched["schedules"] += len(changed)
        if new:
            table = Schedule.__table__
            ids = db.session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [values for _, values in new],
            ).scalars()
            for (trip_id, _), schedule_id in zip(new, ids, strict=True):
                self.schedules[trip_id] = schedule_id
            self.counts["schedules"] += len(new)

    def _horizon(self) -> date:
        """The last date a schedule's calendar may reach: MAX_DAYS days from the
        window's first date (docs/transport.md "Schedules")."""
        return self.first + timedelta(days=MAX_DAYS - 1)

    def _existing_schedules(self, trip_ids: list) -> dict:
        """gtfs trip id -> id of the schedule of one of our companies with it."""
        company_ids = sorted(set(self.companies.values()))
        found = {}
        for chunk in _chunks(trip_ids):
            found.update(
                db.session.execute(
                    select(Schedule.gtfs_trip_id, Schedule.id)
                    .join(TransportRoute, TransportRoute.id == Schedule.route_id)
                    .where(
                        TransportRoute.company_id.in_(company_ids),
                        Schedule.gtfs_trip_id.in_(chunk),
                    )
                ).all()
            )
        return found

    def _schedule_values(self, trip: FeedTrip) -> dict | None:
        """The Schedule columns of one feed trip, or None when its service runs on
        no date between the window's start and the horizon."""
        calendar = self._calendars.get(trip.service_id)
        if calendar is None:
            service = self.feed.services[trip.service_id]
            calendar = self._calendars[trip.service_id] = clipped_calendar(
                service, self.first, self._horizon()
            )
        if calendar is False:
            return None
        return {
            "route_id": self.routes[trip.route_code],
            "stop_times": self._pattern(trip, calendar["start_date"]),
            **calendar,
            "headsign": (trip.headsign or "")[:160] or None,
            "gtfs_service_id": trip.service_id,
            "gtfs_trip_id": trip.trip_id,
        }

    def _pattern(self, trip: FeedTrip, reference: date) -> list:
        """`[{station_id, arrival, departure}]` in each station's local time on
        the `reference` date (exact on every date when station and agency share a
        zone)."""
        pattern = []
        for stop_id, arrival, departure in trip.calls:
            station_id, zone_name = self.stations[stop_id]
            pattern.append(
                {
                    "station_id": station_id,
                    "arrival": self._local(reference, arrival, zone_name),
                    "departure": self._local(reference, departure, zone_name),
                }
            )
        return pattern

    def _start(self, day: date, zone_name: str):
        key = (day, zone_name)
        start = self._starts.get(key)
        if start is None:
            start = self._starts[key] = timetable.day_start(day, zone_name)
        return start

    def _local(self, day: date, seconds: int, zone_name: str) -> str:
        """Agency-zone GTFS seconds of `day` as local text of zone `zone_name`."""
        if zone_name == self.zone:
            return timetable.format_time(seconds)
        instant = self._start(day, self.zone) + timedelta(seconds=seconds)
        local = instant - self._start(day, zone_name)
        text = timetable.format_time(round(local.total_seconds()))
        if len(text) > LOCAL_TEXT_LENGTH:
            raise GtfsInvalid(
                [
                    {
                        "file": "stop_times.txt",
                        "row": None,
                        "field": "arrival_time",
                        "reason": f"{timetable.format_time(seconds)} in "
                        f"{self.zone} is {text} in {zone_name}: too far from "
                        f"the service day to store.",
                    }
                ],
                self.problems.all_warnings(),
            )
        return text

    # -- trips and stop times
    def import_trips(self) -> None:
        """The trips of the window's service dates and their stop times,
        CHUNK trips per batch, with progress."""
        plan = self._trip_plan()
        total = sum(len(dates) for _, dates in plan)
        if total == 0 and not self.matched["trips"]:
            self.problems.warn(
                "no_trips_in_window",
                "calendar.txt",
                None,
                None,
                f"No service of the feed runs between {self.first} and "
                f"{self.last}; schedules imported without trips.",
            )
        with self.progress(total, "Writing trips") as bar:
            batch = []
            for trip, dates in plan:
                for day in dates:
                    batch.append((trip, day))
                    if len(batch) == CHUNK:
                        self._write(batch)
                        bar.update(len(batch))
                        batch = []
            if batch:
                self._write(batch)
                bar.update(len(batch))
        if self.matched["trips"]:
            self.problems.warn(
                "trips_kept",
                "trips.txt",
                None,
                None,
                f"{self.matched['trips']} trip(s) already existed for their "
                f"schedule and date and were kept unchanged.",
            )

    def _trip_plan(self) -> list:
        """`[(feed trip, [service dates to create])]`, leaving out the dates whose
        trip exists already (counted in matched['trips'])."""
        existing = set()
        for chunk in _chunks(sorted(self.old_schedules)):
            existing.update(
                db.session.execute(
                    select(Trip.schedule_id, Trip.service_date).where(
                        Trip.schedule_id.in_(chunk),
                        Trip.service_date.between(self.first, self.last),
                    )
                ).all()
            )
        dates_of: dict[str, list] = {}
        plan = []
        for trip in self.feed.trips:
            schedule_id = self.schedules.get(trip.trip_id)
            if schedule_id is None:
                continue
            if trip.service_id not in dates_of:
                service = self.feed.services[trip.service_id]
                dates_of[trip.service_id] = list(service.dates(self.first, self.last))
            dates = [
                day
                for day in dates_of[trip.service_id]
                if (schedule_id, day) not in existing
            ]
            self.matched["trips"] += len(dates_of[trip.service_id]) - len(dates)
            if dates:
                plan.append((trip, dates))
        return plan

    def _write(self, batch: list) -> None:
        """Insert one batch of `(feed trip, service date)` trips, then their stop
        times."""
        trips, calls = [], []
        for trip, day in batch:
            times = self._stop_times(trip, day)
            calls.append(times)
            trips.append(
                {
                    "route_id": self.routes[trip.route_code],
                    "schedule_id": self.schedules[trip.trip_id],
                    "service_date": day,
                    "status": "scheduled",
                    "headsign": (trip.headsign or "")[:160] or None,
                    "gtfs_trip_id": trip.trip_id,
                    "departure_at": times[0]["departure_at"],
                    "arrival_at": times[-1]["arrival_at"],
                }
            )
        ids = insert_returning_ids(Trip.__table__, trips)
        rows = []
        for trip_id, times in zip(ids, calls, strict=True):
            for row in times:
                row["trip_id"] = trip_id
            rows += times
        insert_stop_times(rows)
        self.counts["trips"] += len(trips)
        self.counts["stop_times"] += len(rows)

    def _stop_times(self, trip: FeedTrip, day: date) -> list:
        """The StopTime rows (without trip_id) of `trip` on service date `day`."""
        start = self._start(day, self.zone)
        rows = []
        for sequence, call in enumerate(self._template(trip)):
            station_id, zone_name, arrival, departure, local = call
            arrival_local, departure_local = local or (
                self._local(day, arrival, zone_name),
                self._local(day, departure, zone_name),
            )
            rows.append(
                {
                    "station_id": station_id,
                    "sequence": sequence,
                    "arrival_local": arrival_local,
                    "departure_local": departure_local,
                    "arrival_at": start + timedelta(seconds=arrival),
                    "departure_at": start + timedelta(seconds=departure),
                }
            )
        return rows

    def _template(self, trip: FeedTrip) -> list:
        """Per call of `trip`: `(station_id, zone, arrival, departure, local
        texts or None)`; the texts are the same on every date for a station in
        the agency's zone, so they are computed once."""
        template = self._templates.get(trip.trip_id)
        if template is None:
            template = self._templates[trip.trip_id] = []
            for stop_id, arrival, departure in trip.calls:
                station_id, zone_name = self.stations[stop_id]
                local = None
                if zone_name == self.zone:
                    local = (
                        timetable.format_time(arrival),
                        timetable.format_time(departure),
                    )
                template.append((station_id, zone_name, arrival, departure, local))
        return template


def clipped_calendar(service, first: date, last: date) -> dict | bool:
    """A GTFS service as Schedule calendar columns limited to [first, last]:
    `{weekdays, start_date, end_date, added_dates, removed_dates}` (ISO texts)
    whose dates in that range are exactly the service's, with start_date and
    end_date around every date it runs (an added date beyond calendar.txt's range
    widens it, and the weekdays it brings in are removed); False when the service
    runs on no date in the range."""
    dates = list(service.dates(first, last))
    if not dates:
        return False
    start, end = dates[0], dates[-1]
    added, removed = [], []
    day = start
    while day <= end:
        by_weekday = service.weekdays[day.weekday()] == "1"
        runs = service.runs_on(day)
        if runs and not by_weekday:
            added.append(day.isoformat())
        elif by_weekday and not runs:
            removed.append(day.isoformat())
        day += timedelta(days=1)
    return {
        "weekdays": service.weekdays,
        "start_date": start,
        "end_date": end,
        "added_dates": added,
        "removed_dates": removed,
    }


def _describe_company(company: TransportCompany, agency) -> None:
    """Copy an agency's name, contact and timezone onto its company."""
    company.name = agency.name[:120]
    company.website = agency.url[:255] or None
    company.phone = (agency.phone or "")[:40] or None
    company.email = (agency.email or "")[:254] or None
    company.timezone = agency.timezone
