"""Reading and checking a GTFS Schedule feed (https://gtfs.org/schedule/reference/;
docs/transport.md "GTFS import"), without touching the database.

`read_feed(source)` reads the files of a feed (a ZIP archive or a folder) with the
stdlib `csv` module, row by row, and answers a `Feed`: its agencies, stops,
routes, services (calendar + calendar_dates) and trips, each trip with its stop
times in seconds after the service day's start in the agency timezone, and the
`problems` found: `errors` (the feed is refused) and `warnings` (reported only).
Every problem is `{file, row, field, reason}`; `row` is the line in the file (the
header is line 1), None for a problem of the whole file.

Rules checked (GTFS reference "Dataset files" and "Field definitions"):
- required files agency, stops, routes, trips, stop_times, and calendar or
  calendar_dates; their required columns;
- UTF-8 text (a byte-order mark is allowed);
- ids present and unique (agency_id, stop_id, route_id, trip_id, service_id);
- references: routes -> agency, trips -> route and service, stop_times -> trip and
  stop, parent_station -> a station, frequencies -> trip;
- dates `YYYYMMDD`, times `H:MM:SS` (hours may pass 24), stop_sequence a
  non-negative integer unique in its trip, times never going backwards, timezones
  known to the IANA database, coordinates in range, route_type a GTFS value;
- ids and codes fit the columns they go to (64 characters; agency_id 32).

Lenient where GTFS consumers are: a missing departure_time is the arrival_time
(and the reverse); an intermediate stop with neither is interpolated linearly; a
trip with fewer than two usable stop times is skipped with a warning; rows shorter
than the header are padded. frequencies.txt is expanded: each departure of a
frequency window becomes its own trip `<trip_id>@<HH:MM>`. translations.txt is
checked row by row (table_name, field_name, language, translation, record_id or
field_value as the reference requires; a record_id of stops names a stop of the
feed) and the stop_name translations are kept on the stops (`Stop.translations`);
its other rows and the files we do not model (fares, transfers, shapes, ...) are
reported as warnings.
"""

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

from services.transport import timetable
from services.transport.gtfs_files import (
    COMPANY_CODE_LENGTH,
    DUPLICATE_STOP_METRES,
    ID_LENGTH,
    QUIET_FILES,
    REQUIRED_COLUMNS,
    REQUIRED_FILES,
    WEEKDAYS,
    Agency,
    Feed,
    FeedProblems,
    FeedSource,
    FeedTrip,
    Route,
    RowReader,
    Service,
    Stop,
    metres_between,
    parse_coordinate,
    parse_date,
    route_mode,
)
from services.transport.gtfs_translations import read_translations
from services.transport.gtfs_trips import TripBuilder

# ---- the reader -------------------------------------------------------------------


class _FeedReader:
    """Reads the files of one feed into a Feed (see read_feed)."""

    def __init__(self, source: FeedSource, tick):
        self.source = source
        self.feed = Feed(problems=FeedProblems())
        self.problems = self.feed.problems
        self.rows = RowReader(source, self.problems, tick).rows
        self.raw_stop_times: dict[str, list] = defaultdict(list)
        self.raw_trips: dict[str, FeedTrip] = {}
        self.frequencies: dict[str, list] = defaultdict(list)

    def has(self, name: str) -> bool:
        """True when the feed holds file `name`."""
        return name in self.source.members

    def read(self) -> Feed:
        """Check the files are there, then read them in dependency order."""
        missing = [name for name in REQUIRED_FILES if not self.has(name)]
        for name in missing:
            self.problems.error(name, None, None, "Required file missing.")
        if not (self.has("calendar.txt") or self.has("calendar_dates.txt")):
            self.problems.error(
                "calendar.txt",
                None,
                None,
                "Required file missing: calendar.txt or calendar_dates.txt.",
            )
        if missing:
            return self.feed
        self.read_agencies()
        self.read_stops()
        self.read_routes()
        self.read_services()
        self.read_trips()
        self.read_stop_times()
        self.read_frequencies()
        self.read_translations()
        self.note_ignored_files()
        self.build_trips()
        return self.feed

    # -- agency.txt
    def read_agencies(self) -> None:
        """agency.txt: names, urls, one IANA timezone for all; agency_id
        required (and unique) when there are several."""
        name = "agency.txt"
        for line, row in self.rows(name, REQUIRED_COLUMNS[name]):
            self._agency(line, row)
        agencies = self.feed.agencies
        if not agencies and not self.problems.errors:
            self.problems.error(name, None, None, "The file has no agency.")
        if len(agencies) > 1 and "" in agencies:
            self.problems.error(
                name,
                agencies[""].row,
                "agency_id",
                "Required when the feed has more than one agency.",
            )
        zones = {agency.timezone for agency in agencies.values()}
        if len(zones) > 1:
            self.problems.error(
                name,
                None,
                "agency_timezone",
                "Every agency of a feed must have the same timezone.",
            )
        if agencies:
            self.feed.timezone = next(iter(agencies.values())).timezone

    def _agency(self, line: int, row: dict) -> None:
        name = "agency.txt"
        key = row.get("agency_id", "")
        for column in REQUIRED_COLUMNS[name]:
            if not row[column]:
                self.problems.error(name, line, column, "Required value missing.")
        if row["agency_timezone"] and not timetable.is_timezone(row["agency_timezone"]):
            self.problems.error(name, line, "agency_timezone", "Not an IANA timezone.")
        if key in self.feed.agencies:
            self.problems.error(name, line, "agency_id", f"Duplicate id {key!r}.")
            return
        code = key or _slug(row["agency_name"])
        if len(code) > COMPANY_CODE_LENGTH:
            self.problems.error(
                name,
                line,
                "agency_id",
                f"Longer than {COMPANY_CODE_LENGTH} characters.",
            )
        self.feed.agencies[key] = Agency(
            key=key,
            code=code,
            name=row["agency_name"],
            url=row["agency_url"],
            timezone=row["agency_timezone"],
            phone=row.get("agency_phone") or None,
            email=row.get("agency_email") or None,
            row=line,
        )

    # -- stops.txt
    def read_stops(self) -> None:
        """stops.txt: ids unique, places and names of stops and stations,
        parents that exist and are stations, timezones; warns about two stops a
        few metres apart (duplicate_stop)."""
        name = "stops.txt"
        for line, row in self.rows(name, REQUIRED_COLUMNS[name]):
            stop = self._stop(line, row)
            if stop is None:
                continue
            if stop.stop_id in self.feed.stops:
                first = self.feed.stops[stop.stop_id].row
                self.problems.error(
                    name,
                    line,
                    "stop_id",
                    f"Duplicate id {stop.stop_id!r} (first on row {first}).",
                )
                continue
            self.feed.stops[stop.stop_id] = stop
        self._check_parents()
        self._resolve_timezones()
        self._warn_duplicate_stops()

    def _stop(self, line: int, row: dict) -> Stop | None:
        name = "stops.txt"
        stop_id = row["stop_id"]
        if not stop_id:
            self.problems.error(name, line, "stop_id", "Required value missing.")
            return None
        self._check_length(name, line, "stop_id", stop_id)
        location_type = self._location_type(line, row.get("location_type", ""))
        needs_place = location_type in (0, 1, 2)
        latitude = self._coordinate(line, row, "stop_lat", 90, needs_place)
        longitude = self._coordinate(line, row, "stop_lon", 180, needs_place)
        if needs_place and not row.get("stop_name"):
            self.problems.error(name, line, "stop_name", "Required value missing.")
        zone_name = row.get("stop_timezone") or None
        if zone_name and not timetable.is_timezone(zone_name):
            self.problems.error(name, line, "stop_timezone", "Not an IANA timezone.")
        return Stop(
            stop_id=stop_id,
            name=row.get("stop_name") or stop_id,
            latitude=latitude,
            longitude=longitude,
            location_type=location_type,
            parent=row.get("parent_station") or None,
            timezone=zone_name,
            row=line,
        )

    def _location_type(self, line: int, text: str) -> int:
        if text in ("", "0"):
            return 0
        if text in ("1", "2", "3", "4"):
            return int(text)
        self.problems.error(
            "stops.txt", line, "location_type", "Must be 0, 1, 2, 3 or 4."
        )
        return 0

    def _coordinate(self, line, row, column, limit, required) -> Decimal | None:
        text = row.get(column, "")
        if not text:
            if required:
                self.problems.error(
                    "stops.txt", line, column, "Required value missing."
                )
            return None
        try:
            return parse_coordinate(text, limit)
        except ValueError as exc:
            self.problems.error("stops.txt", line, column, str(exc))
            return None

    def _check_parents(self) -> None:
        stops = self.feed.stops
        for stop in stops.values():
            if stop.parent is None:
                if stop.location_type in (2, 3, 4):
                    self.problems.error(
                        "stops.txt",
                        stop.row,
                        "parent_station",
                        "Required for entrances, nodes and boarding areas.",
                    )
                continue
            parent = stops.get(stop.parent)
            if parent is None and self.problems.known("stops.txt", stop.parent, ()):
                continue
            if parent is None:
                self.problems.error(
                    "stops.txt",
                    stop.row,
                    "parent_station",
                    f"Unknown stop {stop.parent!r}.",
                )
            elif stop.location_type == 0 and parent.location_type != 1:
                self.problems.error(
                    "stops.txt",
                    stop.row,
                    "parent_station",
                    f"{stop.parent!r} is not a station (location_type 1).",
                )
            elif stop.location_type == 1:
                self.problems.warn(
                    "station_parent_ignored",
                    "stops.txt",
                    stop.row,
                    "parent_station",
                    "A station has no parent station; ignored.",
                )
                stop.parent = None

    def _resolve_timezones(self) -> None:
        """A stop with a parent station takes the station's timezone; any other
        its own stop_timezone, else the agency's (GTFS stops.txt stop_timezone:
        "If the location has a parent station, it inherits the parent station's
        timezone instead of applying its own")."""
        stops = self.feed.stops
        for stop in stops.values():
            if stop.parent is None:
                stop.timezone = stop.timezone or self.feed.timezone
        for stop in stops.values():
            parent = stops.get(stop.parent) if stop.parent else None
            if parent is not None:
                stop.timezone = parent.timezone or self.feed.timezone
            stop.timezone = stop.timezone or self.feed.timezone

    def _warn_duplicate_stops(self) -> None:
        """Warn about two stops or stations (different ids, neither the other's
        parent) less than DUPLICATE_STOP_METRES apart (a grid of ~11 m cells)."""
        grid = defaultdict(list)
        for stop in self.feed.stops.values():
            if stop.location_type in (0, 1) and stop.latitude is not None:
                cell = (round(stop.latitude * 10000), round(stop.longitude * 10000))
                grid[cell].append(stop)
        near = ((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1))
        offsets = tuple(near)
        for (x, y), stops in grid.items():
            for stop in stops:
                for dx, dy in offsets:
                    for other in grid.get((x + dx, y + dy), ()):
                        if other.row > stop.row:
                            self._maybe_duplicate(stop, other)

    def _maybe_duplicate(self, first: Stop, second: Stop) -> None:
        """Warn `duplicate_stop` when `second` (a later row) lies within
        DUPLICATE_STOP_METRES of `first`, the same kind and not its parent."""
        if first.location_type != second.location_type:
            return
        if second.parent == first.stop_id or first.parent == second.stop_id:
            return
        distance = metres_between(first, second)
        if distance < DUPLICATE_STOP_METRES:
            self.problems.warn(
                "duplicate_stop",
                "stops.txt",
                second.row,
                "stop_id",
                f"Stop {second.stop_id!r} is {distance:.1f} m from stop "
                f"{first.stop_id!r} (row {first.row}): the same stop twice?",
            )

    # -- routes.txt
    def read_routes(self) -> None:
        """routes.txt: ids unique, the agency, a name, route_type mapped to
        a vehicle mode."""
        name = "routes.txt"
        for line, row in self.rows(name, REQUIRED_COLUMNS[name]):
            route = self._route(line, row)
            if route is None:
                continue
            if route.route_id in self.feed.routes:
                self.problems.error(
                    name, line, "route_id", f"Duplicate id {route.route_id!r}."
                )
                continue
            self.feed.routes[route.route_id] = route

    def _route(self, line: int, row: dict) -> Route | None:
        name = "routes.txt"
        route_id = row["route_id"]
        if not route_id:
            self.problems.error(name, line, "route_id", "Required value missing.")
            return None
        self._check_length(name, line, "route_id", route_id)
        agency_key = self._route_agency(line, row.get("agency_id", ""))
        mode = self._mode(line, row["route_type"])
        title = row.get("route_long_name") or row.get("route_short_name")
        if not title:
            self.problems.error(
                name,
                line,
                "route_long_name",
                "route_short_name or route_long_name is required.",
            )
        return Route(
            route_id=route_id,
            agency_key=agency_key,
            mode=mode,
            name=title or route_id,
            row=line,
        )

    def _route_agency(self, line: int, key: str) -> str:
        agencies = self.feed.agencies
        if self.problems.known("agency.txt", key, agencies):
            return key
        if not key and len(agencies) == 1:
            return next(iter(agencies))
        reason = (
            f"Unknown agency {key!r}."
            if key
            else "Required when the feed has more than one agency."
        )
        self.problems.error("routes.txt", line, "agency_id", reason)
        return key

    def _mode(self, line: int, text: str) -> str:
        mode = route_mode(int(text)) if text.isdigit() else None
        if mode is None:
            self.problems.error(
                "routes.txt", line, "route_type", f"Not a GTFS route type: {text!r}."
            )
            return "bus"
        if mode[1]:
            self.problems.warn(
                "route_type_approximated",
                "routes.txt",
                line,
                "route_type",
                f"Route type {text} has no vehicle mode of ours; imported as bus.",
            )
        return mode[0]

    # -- calendar.txt, calendar_dates.txt
    def read_services(self) -> None:
        """calendar.txt and calendar_dates.txt into Services: weekdays 0/1,
        dates YYYYMMDD, end not before start, exception_type 1 or 2."""
        services = self.feed.services
        name = "calendar.txt"
        if self.has(name):
            for line, row in self.rows(name, REQUIRED_COLUMNS[name]):
                service = self._calendar(line, row)
                if service is None:
                    continue
                if service.service_id in services:
                    self.problems.error(
                        name,
                        line,
                        "service_id",
                        f"Duplicate id {service.service_id!r}.",
                    )
                    continue
                services[service.service_id] = service
        name = "calendar_dates.txt"
        if self.has(name):
            for line, row in self.rows(name, REQUIRED_COLUMNS[name]):
                self._calendar_date(line, row)

    def _calendar(self, line: int, row: dict) -> Service | None:
        name = "calendar.txt"
        service_id = row["service_id"]
        if not service_id:
            self.problems.error(name, line, "service_id", "Required value missing.")
            return None
        self._check_length(name, line, "service_id", service_id)
        for day in WEEKDAYS:
            if row[day] not in ("0", "1"):
                self.problems.error(name, line, day, "Must be 0 or 1.")
        start = self._date(name, line, "start_date", row["start_date"])
        end = self._date(name, line, "end_date", row["end_date"])
        if start and end and end < start:
            self.problems.error(name, line, "end_date", "Before start_date.")
        if not (start and end) or end < start:
            self.problems.bad_ids[name].add(service_id)
            return None
        weekdays = "".join("1" if row[day] == "1" else "0" for day in WEEKDAYS)
        return Service(service_id, weekdays=weekdays, start=start, end=end)

    def _calendar_date(self, line: int, row: dict) -> None:
        name = "calendar_dates.txt"
        service_id = row["service_id"]
        if not service_id:
            self.problems.error(name, line, "service_id", "Required value missing.")
            return
        self._check_length(name, line, "service_id", service_id)
        day = self._date(name, line, "date", row["date"])
        kind = row["exception_type"]
        if kind not in ("1", "2"):
            self.problems.error(name, line, "exception_type", "Must be 1 or 2.")
        if day is None or kind not in ("1", "2"):
            self.problems.bad_ids[name].add(service_id)
            return
        service = self.feed.services.setdefault(service_id, Service(service_id))
        if day in service.added or day in service.removed:
            self.problems.error(
                name, line, "date", f"Duplicate date for service {service_id!r}."
            )
            return
        (service.added if kind == "1" else service.removed).add(day)

    def _date(self, name: str, line: int, column: str, text: str) -> date | None:
        try:
            return parse_date(text)
        except ValueError as exc:
            self.problems.error(name, line, column, str(exc))
            return None

    # -- trips.txt
    def read_trips(self) -> None:
        """trips.txt: ids unique and short enough, their route and service
        defined."""
        name = "trips.txt"
        for line, row in self.rows(name, REQUIRED_COLUMNS[name]):
            trip_id = row["trip_id"]
            if not trip_id:
                self.problems.error(name, line, "trip_id", "Required value missing.")
                continue
            self._check_length(name, line, "trip_id", trip_id)
            if trip_id in self.raw_trips:
                first = self.raw_trips[trip_id].row
                self.problems.error(
                    name,
                    line,
                    "trip_id",
                    f"Duplicate id {trip_id!r} (first on row {first}).",
                )
                continue
            routes = self.feed.routes
            if not self.problems.known("routes.txt", row["route_id"], routes):
                self.problems.error(
                    name, line, "route_id", f"Unknown route {row['route_id']!r}."
                )
            if not self._service_known(row["service_id"]):
                self.problems.error(
                    name,
                    line,
                    "service_id",
                    f"Unknown service {row['service_id']!r} (not in calendar.txt "
                    f"or calendar_dates.txt).",
                )
            self.raw_trips[trip_id] = FeedTrip(
                trip_id=trip_id,
                route_id=row["route_id"],
                service_id=row["service_id"],
                headsign=row.get("trip_headsign") or None,
                calls=[],
                row=line,
            )

    def _service_known(self, service_id: str) -> bool:
        known = self.problems.known
        services = self.feed.services
        return known("calendar.txt", service_id, services) or known(
            "calendar_dates.txt", service_id, services
        )

    # -- stop_times.txt
    def read_stop_times(self) -> None:
        """stop_times.txt, streamed: each row's trip and stop defined,
        stop_sequence a non-negative integer, times parsed."""
        name = "stop_times.txt"
        required = REQUIRED_COLUMNS[name]
        count = 0
        for line, row in self.rows(name, required):
            count += 1
            self._stop_time(line, row)
        self.feed.stop_time_rows = count

    def _stop_time(self, line: int, row: dict) -> None:
        name = "stop_times.txt"
        trip_id, stop_id = row["trip_id"], row["stop_id"]
        known = self.problems.known
        if trip_id not in self.raw_trips:
            if not known("trips.txt", trip_id, ()):
                self.problems.error(name, line, "trip_id", f"Unknown trip {trip_id!r}.")
            return
        stop = self.feed.stops.get(stop_id)
        if stop is None:
            if not known("stops.txt", stop_id, ()):
                self.problems.error(name, line, "stop_id", f"Unknown stop {stop_id!r}.")
            return
        if stop.location_type != 0:
            self.problems.error(
                name,
                line,
                "stop_id",
                f"{stop_id!r} is not a stop (location_type {stop.location_type}).",
            )
            return
        text = row["stop_sequence"]
        if not text.isdigit():
            self.problems.error(
                name,
                line,
                "stop_sequence",
                f"Must be a non-negative integer, not {text!r}.",
            )
            return
        arrival = self._time(line, "arrival_time", row.get("arrival_time", ""))
        departure = self._time(line, "departure_time", row.get("departure_time", ""))
        self.raw_stop_times[trip_id].append(
            (int(text), arrival, departure, stop_id, line)
        )

    def _time(self, line: int, column: str, text: str) -> int | None:
        if not text:
            return None
        try:
            return timetable.parse_time(text)
        except ValueError as exc:
            self.problems.error("stop_times.txt", line, column, str(exc))
            return None

    # -- frequencies.txt, translations.txt, the rest
    def read_frequencies(self) -> None:
        """frequencies.txt: windows (start, end, headway) of known trips."""
        name = "frequencies.txt"
        if not self.has(name):
            return
        for line, row in self.rows(name, REQUIRED_COLUMNS[name]):
            if row["trip_id"] not in self.raw_trips:
                if not self.problems.known("trips.txt", row["trip_id"], ()):
                    self.problems.error(
                        name, line, "trip_id", f"Unknown trip {row['trip_id']!r}."
                    )
                continue
            window = self._frequency(line, row)
            if window is not None:
                self.frequencies[row["trip_id"]].append(window)

    def _frequency(self, line: int, row: dict) -> tuple | None:
        name = "frequencies.txt"
        times = []
        for column in ("start_time", "end_time"):
            try:
                times.append(timetable.parse_time(row[column]))
            except ValueError as exc:
                self.problems.error(name, line, column, str(exc))
        headway = row["headway_secs"]
        if not headway.isdigit() or int(headway) == 0:
            self.problems.error(
                name, line, "headway_secs", "Must be a positive integer."
            )
            return None
        if len(times) < 2:
            return None
        if times[1] <= times[0]:
            self.problems.error(name, line, "end_time", "Not after start_time.")
            return None
        return times[0], times[1], int(headway), line

    def read_translations(self) -> None:
        """translations.txt: checked, stop names kept on the stops
        (services/transport/gtfs_translations.py)."""
        if self.has("translations.txt"):
            read_translations(self.rows, self.feed)

    def note_ignored_files(self) -> None:
        """One warning naming the files the import does not use."""
        known = set(REQUIRED_COLUMNS) | set(QUIET_FILES)
        ignored = sorted(name for name in self.source.members if name not in known)
        if ignored:
            self.problems.warn(
                "files_ignored",
                None,
                None,
                None,
                "Not imported (no place for them here): " + ", ".join(ignored) + ".",
            )

    def _check_length(self, file: str, line: int, column: str, value: str) -> None:
        if len(value) > ID_LENGTH:
            self.problems.error(
                file, line, column, f"Longer than {ID_LENGTH} characters."
            )

    # -- trips with their calls

    def build_trips(self) -> None:
        """Turn the trips and their stop times into the feed's trips and route
        variants (services/transport/gtfs_trips.py)."""
        TripBuilder(
            self.feed, self.raw_trips, self.raw_stop_times, self.frequencies
        ).build()


def _slug(name: str) -> str:
    """An agency code from its name when it has no agency_id: upper-case letters
    and digits joined by '-', cut to COMPANY_CODE_LENGTH."""
    words = re.findall(r"[A-Za-z0-9]+", name or "")
    return "-".join(words).upper()[:COMPANY_CODE_LENGTH] or "AGENCY"


def read_feed(source, tick=lambda n: None) -> Feed:
    """Read and check the feed in `source` (a ZIP path or binary file object, or a
    folder), calling `tick(n_bytes)` as bytes are read. Answers the Feed; its
    `problems.errors` list what makes it unusable (then the rest of the Feed is
    incomplete). A source that is not a ZIP archive is one error naming `file`."""
    try:
        files = FeedSource(source)
    except ValueError as exc:
        problems = FeedProblems()
        problems.error(None, None, "file", str(exc))
        return Feed(problems=problems)
    try:
        return _FeedReader(files, tick).read()
    finally:
        files.close()


def feed_size(source) -> int:
    """Total uncompressed bytes of the .txt files of a feed (0 when unreadable),
    for progress bars and size limits."""
    try:
        files = FeedSource(source)
    except ValueError:
        return 0
    try:
        return sum(files.size(name) for name in files.members)
    finally:
        files.close()
