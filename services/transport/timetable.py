"""Timetable times, the GTFS way (https://gtfs.org/schedule/reference/#field-types
"Time"; docs/transport.md "Times").

A stop time is written `HH:MM` or `HH:MM:SS` as local time of a timezone, counted
from "noon minus 12 hours" of the trip's service date in that zone, so hours may
pass 24 for a trip running past midnight (`25:10` = 01:10 the next day) and a day
on which clocks change still counts right. Every instant is stored as an aware UTC
datetime; local text is what is shown beside it.

In our API each stop time is local to its own station's timezone; in a GTFS feed
every stop time is in the agency's timezone (`stop_timezone` only says how to show
it). Both go through the same two functions with the zone that applies.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIME_TEXT = re.compile(r"^\s*(\d{1,2}):([0-5]\d)(?::([0-5]\d))?\s*$")
# GTFS allows service days longer than 24 h; beyond two days is surely a typo.
MAX_SECONDS = 48 * 3600


def zone(name: str) -> ZoneInfo:
    """The IANA timezone `name`; ValueError when it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"Unknown timezone {name!r}.") from exc


def is_timezone(name) -> bool:
    """True when `name` is an IANA timezone this machine knows."""
    if not isinstance(name, str) or not name or len(name) > 64:
        return False
    try:
        zone(name)
    except ValueError:
        return False
    return True


def parse_time(text: str) -> int:
    """Seconds after the service day's start for `HH:MM[:SS]` (hours may pass
    24); ValueError for anything else, or beyond 48 hours."""
    match = TIME_TEXT.match(text or "") if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"Not a time HH:MM or HH:MM:SS: {text!r}.")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total > MAX_SECONDS:
        raise ValueError(f"More than 48 hours after the service day starts: {text}.")
    return total


def format_time(seconds: int) -> str:
    """`HH:MM` (or `HH:MM:SS` when the seconds are not zero) for seconds after the
    service day's start; negative values (a stop in a zone behind the service
    day's) keep a leading minus."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{text}:{secs:02d}" if secs else text


def day_start(service_date: date, tz: str) -> datetime:
    """The aware UTC instant GTFS times of `service_date` in zone `tz` count from:
    local noon minus 12 hours (equal to midnight except on days the clocks
    change)."""
    noon = datetime.combine(service_date, time(12), tzinfo=zone(tz))
    return noon.astimezone(UTC) - timedelta(hours=12)


def to_utc(service_date: date, text: str, tz: str) -> datetime:
    """The aware UTC instant of local GTFS time `text` on `service_date` in `tz`.
    Raises ValueError for a bad time or zone."""
    return day_start(service_date, tz) + timedelta(seconds=parse_time(text))


def to_local(service_date: date, instant: datetime, tz: str) -> str:
    """`instant` as GTFS time text of `service_date` in zone `tz` (the inverse of
    `to_utc`)."""
    seconds = (instant - day_start(service_date, tz)).total_seconds()
    return format_time(round(seconds))


def local_clock(instant: datetime, tz: str) -> datetime:
    """`instant` as an aware datetime on the wall clock of `tz` (for answers that
    show local date and time beside UTC)."""
    return instant.astimezone(zone(tz))
