"""The vocabulary of a GTFS Schedule feed (https://gtfs.org/schedule/reference/;
docs/transport.md "GTFS import"): the files of a feed (`FeedSource`, a ZIP archive
or a folder), their rows read as UTF-8 CSV (`RowReader`), the problems found
(`FeedProblems`: errors and warnings, each `{file, row, field, reason}`), the
records read (`Agency`, `Stop`, `Route`, `Service`, `FeedTrip`, `Variant`,
`Feed`) and the field parsers (dates, coordinates, route types, timezones).
services/transport/gtfs_feed.py reads a feed with them.
"""

import csv
import math
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from zoneinfo import TZPATH

MAX_ERRORS = 100
MAX_WARNINGS = 100
# Progress is reported every this many rows (and at the end of each file).
PROGRESS_ROWS = 5000
# Two stops with different ids closer than this are probably one stop twice.
DUPLICATE_STOP_METRES = 2.0
# Column sizes of the models the values are stored in.
ID_LENGTH = 64
COMPANY_CODE_LENGTH = 32

WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
REQUIRED_FILES = (
    "agency.txt",
    "stops.txt",
    "routes.txt",
    "trips.txt",
    "stop_times.txt",
)
REQUIRED_COLUMNS = {
    "agency.txt": ("agency_name", "agency_url", "agency_timezone"),
    "stops.txt": ("stop_id",),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "stop_id", "stop_sequence"),
    "calendar.txt": ("service_id", *WEEKDAYS, "start_date", "end_date"),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
    "translations.txt": ("table_name", "field_name", "language", "translation"),
}
# translations.txt: the tables a row may name (GTFS reference "translations.txt").
TRANSLATION_TABLES = (
    "agency",
    "stops",
    "routes",
    "trips",
    "stop_times",
    "pathways",
    "levels",
    "feed_info",
    "attributions",
)
# An IETF BCP 47 language tag as GTFS uses them (`de`, `es-419`, `zh-Hant-TW`).
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
# Files read for nothing but their presence (no warning for them).
QUIET_FILES = ("feed_info.txt",)
DATE_TEXT = re.compile(r"^\d{8}$")

# GTFS route_type -> our vehicle mode (basic types, then the extended ranges
# https://developers.google.com/transit/gtfs/reference/extended-route-types).
BASIC_MODES = {
    0: "train",  # tram, light rail
    1: "train",  # subway, metro
    2: "train",  # rail
    3: "bus",
    4: "ferry",
    5: "train",  # cable tram
    7: "train",  # funicular
    11: "bus",  # trolleybus
    12: "train",  # monorail
}
EXTENDED_MODES = (
    (100, 199, "train"),  # railway services
    (200, 299, "bus"),  # coach services
    (400, 499, "train"),  # urban railway
    (700, 799, "bus"),
    (800, 899, "bus"),  # trolleybus
    (900, 999, "train"),  # tram
    (1000, 1099, "ferry"),  # water transport
    (1100, 1199, "plane"),  # air service
    (1200, 1299, "ferry"),
    (1400, 1499, "train"),  # funicular
)
# Types with no vehicle of ours (aerial lift, taxi, miscellaneous): bus, warned.
APPROXIMATE_TYPES = ((6, 6), (1300, 1399), (1500, 1799))


class FeedProblems:
    """The errors (fatal) and warnings (reported) found in a feed, each
    `{file, row, field, reason}` (warnings also carry a `code`), at most
    MAX_ERRORS / MAX_WARNINGS of each; `overflow` counts those left out."""

    def __init__(self):
        self.errors: list[dict] = []
        self.warnings: list[dict] = []
        self.overflow = {"errors": 0, "warnings": 0}
        # Files that could not be read whole, and ids of rows refused: references
        # to them are not reported again (one cause, one error).
        self.broken: set[str] = set()
        self.bad_ids: dict[str, set] = defaultdict(set)

    def known(self, file: str, key: str, found) -> bool:
        """True when `key` is in `found`, or its row in `file` (or the whole file)
        was already refused, so a reference to it adds no error."""
        return key in found or file in self.broken or key in self.bad_ids[file]

    def error(self, file, row, field_name, reason) -> None:
        """Record a problem that refuses the feed."""
        if len(self.errors) >= MAX_ERRORS:
            self.overflow["errors"] += 1
            return
        self.errors.append(
            {"file": file, "row": row, "field": field_name, "reason": reason}
        )

    def warn(self, code, file, row, field_name, reason) -> None:
        """Record a problem that is reported but imported anyway."""
        if len(self.warnings) >= MAX_WARNINGS:
            self.overflow["warnings"] += 1
            return
        self.warnings.append(
            {
                "code": code,
                "file": file,
                "row": row,
                "field": field_name,
                "reason": reason,
            }
        )

    def all_errors(self) -> list[dict]:
        """The errors, with a last line saying how many more were left out."""
        extra = self.overflow["errors"]
        tail = [
            {
                "file": None,
                "row": None,
                "field": None,
                "reason": f"{extra} more error(s) not listed.",
            }
        ]
        return self.errors + (tail if extra else [])

    def all_warnings(self) -> list[dict]:
        """The warnings, with a last line saying how many more were left out."""
        extra = self.overflow["warnings"]
        tail = [
            {
                "code": "more_warnings",
                "file": None,
                "row": None,
                "field": None,
                "reason": f"{extra} more warning(s) not listed.",
            }
        ]
        return self.warnings + (tail if extra else [])


@dataclass
class Agency:
    """An agency.txt row."""

    key: str  # agency_id, "" when the feed's only agency has none
    code: str
    name: str
    url: str
    timezone: str
    phone: str | None
    email: str | None
    row: int


@dataclass
class Stop:
    """A stops.txt row (timezone resolved: stop_timezone, the parent's, or the
    agency's)."""

    stop_id: str
    name: str
    latitude: Decimal | None
    longitude: Decimal | None
    location_type: int
    parent: str | None
    timezone: str | None
    row: int
    # translations.txt: language tag (as in the feed) -> stop_name in it
    translations: dict = field(default_factory=dict)


@dataclass
class Route:
    """A routes.txt row with its vehicle mode."""

    route_id: str
    agency_key: str
    mode: str
    name: str
    row: int


@dataclass
class Service:
    """A service (calendar.txt row and/or calendar_dates.txt rows)."""

    service_id: str
    weekdays: str = "0000000"
    start: date | None = None
    end: date | None = None
    added: set = field(default_factory=set)
    removed: set = field(default_factory=set)

    def bounds(self) -> tuple[date, date]:
        """The first and last date the service can run on (calendar range and
        added dates together)."""
        days = [d for d in (self.start, self.end) if d] + sorted(
            self.added | self.removed
        )
        return min(days), max(days)

    def runs_on(self, day: date) -> bool:
        """True when the service runs on `day` (GTFS calendar + calendar_dates)."""
        if day in self.added:
            return True
        if day in self.removed or self.start is None:
            return False
        return self.start <= day <= self.end and self.weekdays[day.weekday()] == "1"

    def dates(self, first: date, last: date) -> Iterator[date]:
        """The dates in [first, last] on which the service runs, in order."""
        low, high = self.bounds()
        day, last = max(first, low), min(last, high)
        while day <= last:
            if self.runs_on(day):
                yield day
            day += timedelta(days=1)


@dataclass
class FeedTrip:
    """A trip (after frequencies are expanded): `calls` are `(stop_id, arrival,
    departure)` in seconds after the service day's start in the agency zone."""

    trip_id: str
    route_id: str
    service_id: str
    headsign: str | None
    calls: list
    row: int
    # The code of the route variant (stop pattern) the trip follows.
    route_code: str = ""


@dataclass
class Variant:
    """One stop pattern of a GTFS route: our routes list their stops and every
    trip calls at all of them in order, so each distinct pattern of a GTFS route
    is a route of its own. The most used pattern keeps the route_id as its code;
    the others get `<route_id>~2`, `~3`, ... and their first and last stop in
    their name."""

    route_id: str
    code: str
    name: str
    stop_ids: tuple


@dataclass
class Feed:
    """A feed as read: see the module docstring."""

    problems: FeedProblems
    timezone: str = "UTC"
    agencies: dict = field(default_factory=dict)
    stops: dict = field(default_factory=dict)
    routes: dict = field(default_factory=dict)
    services: dict = field(default_factory=dict)
    trips: list = field(default_factory=list)
    # route variant code -> Variant
    variants: dict = field(default_factory=dict)
    # stop_times.txt rows read (the feed's size, before frequencies)
    stop_time_rows: int = 0


# ---- the files ------------------------------------------------------------------


class FeedSource:
    """The files of a feed: a ZIP archive (a path or a binary file object) or a
    folder of .txt files. A ZIP whose files sit in one folder is read from that
    folder. ValueError when `source` is not a readable ZIP archive or folder."""

    def __init__(self, source):
        self._zip = None
        self._folder = None
        self.members: dict[str, object] = {}
        if isinstance(source, str | Path) and Path(source).is_dir():
            self._folder = Path(source)
            for path in self._folder.glob("*.txt"):
                self.members[path.name] = path
            return
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ValueError("The file is not a ZIP archive.") from exc
        infos = [i for i in self._zip.infolist() if not i.is_dir()]
        prefix = _feed_folder(infos)
        for info in infos:
            if info.filename.startswith(prefix):
                name = info.filename[len(prefix) :]
                if "/" not in name:
                    self.members[name] = info

    def size(self, name: str) -> int:
        """Uncompressed size in bytes of file `name`."""
        member = self.members[name]
        if self._folder is not None:
            return member.stat().st_size
        return member.file_size

    def open(self, name: str):
        """A binary stream of file `name`."""
        member = self.members[name]
        if self._folder is not None:
            return member.open("rb")
        return self._zip.open(member)

    def close(self) -> None:
        """Close the archive."""
        if self._zip is not None:
            self._zip.close()


def _feed_folder(infos) -> str:
    """'' when agency.txt is at the archive's root, else the folder holding it
    (`feed/` for `feed/agency.txt`)."""
    names = [i.filename for i in infos]
    if "agency.txt" in names:
        return ""
    nested = [n for n in names if n.endswith("/agency.txt")]
    return nested[0][: -len("agency.txt")] if len(nested) == 1 else ""


class RowReader:
    """Reads one file of the feed as dicts of stripped text by column, checking
    UTF-8 and required columns (problems recorded in `problems`) and reporting
    bytes read to `tick(n)`."""

    def __init__(self, source: FeedSource, problems: FeedProblems, tick):
        self.source, self.problems, self.tick = source, problems, tick

    def rows(self, name: str, required=()) -> Iterator[tuple[int, dict]]:
        """Yield `(line, row)` for every non-blank data row of `name`; nothing when
        the file is not UTF-8, has no header or lacks a required column (each an
        error)."""
        with self.source.open(name) as raw:
            lines = self._lines(name, raw)
            reader = csv.reader(lines)
            try:
                header = [column.strip() for column in next(reader, [])]
                if not self._header_ok(name, header, required):
                    return
                width = len(header)
                for values in reader:
                    if not any(value.strip() for value in values):
                        continue
                    if len(values) < width:
                        values += [""] * (width - len(values))
                    row = {h: v.strip() for h, v in zip(header, values, strict=False)}
                    yield reader.line_num, row
            except _NotUtf8 as exc:
                self.problems.broken.add(name)
                self.problems.error(
                    name,
                    exc.line,
                    None,
                    f"The file is not UTF-8 text (GTFS files must be UTF-8): "
                    f"{exc.detail}.",
                )
            except csv.Error as exc:
                self.problems.broken.add(name)
                self.problems.error(name, reader.line_num, None, f"Not CSV: {exc}.")

    def _lines(self, name: str, raw) -> Iterator[str]:
        """The decoded lines of a binary stream (BOM dropped); _NotUtf8 naming the
        line on a byte sequence that is not UTF-8."""
        pending = 0
        for number, line in enumerate(raw, start=1):
            pending += len(line)
            if pending >= 65536:
                self.tick(pending)
                pending = 0
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _NotUtf8(number, str(exc)) from exc
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield text
        self.tick(pending)

    def _header_ok(self, name: str, header: list, required) -> bool:
        """Record an error for an empty file or a missing required column."""
        if not any(header):
            self.problems.broken.add(name)
            self.problems.error(name, 1, None, "The file has no header row.")
            return False
        missing = [column for column in required if column not in header]
        for column in missing:
            self.problems.broken.add(name)
            self.problems.error(name, 1, column, "Required column missing.")
        return not missing


class _NotUtf8(Exception):
    """A line of a file is not UTF-8."""

    def __init__(self, line: int, detail: str):
        super().__init__(detail)
        self.line, self.detail = line, detail


# ---- field parsers ----------------------------------------------------------------


def parse_date(text: str) -> date:
    """A GTFS date `YYYYMMDD`; ValueError otherwise."""
    if not DATE_TEXT.match(text or ""):
        raise ValueError(f"Not a date YYYYMMDD: {text!r}.")
    return datetime.strptime(text, "%Y%m%d").date()


def parse_coordinate(text: str, limit: int) -> Decimal:
    """A latitude (limit 90) or longitude (180) in degrees, 6 decimals;
    ValueError when not a number in range."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"Not a number: {text!r}.") from exc
    if not value.is_finite() or abs(value) > limit:
        raise ValueError(f"Must be between -{limit} and {limit}.")
    return value.quantize(Decimal("0.000001"))


def route_mode(route_type: int) -> tuple[str, bool] | None:
    """Our vehicle mode for a GTFS route_type and whether it is only an
    approximation (aerial lifts, taxis: bus); None for a value GTFS does not
    define."""
    if route_type in BASIC_MODES:
        return BASIC_MODES[route_type], False
    for low, high, mode in EXTENDED_MODES:
        if low <= route_type <= high:
            return mode, False
    if any(low <= route_type <= high for low, high in APPROXIMATE_TYPES):
        return "bus", True
    return None


@lru_cache(maxsize=1)
def _zone_countries() -> dict:
    """IANA timezone -> ISO 3166-1 alpha-2 country, from the system's zone.tab
    (empty when the system has none)."""
    for folder in TZPATH:
        path = Path(folder) / "zone.tab"
        if path.is_file():
            countries = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.split("\t")
                if len(parts) >= 3 and not line.startswith("#"):
                    countries[parts[2]] = parts[0]
            return countries
    return {}


def timezone_country(name: str) -> str | None:
    """The country of an IANA timezone (zone.tab: `Europe/Paris` -> `FR`), None
    when unknown (`UTC`, or no zone.tab on this system)."""
    return _zone_countries().get(name)


def metres_between(a: Stop, b: Stop) -> float:
    """Great-circle distance between two stops in metres (haversine)."""
    lat1, lon1 = math.radians(float(a.latitude)), math.radians(float(a.longitude))
    lat2, lon2 = math.radians(float(b.latitude)), math.radians(float(b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))
