"""Places of the transport network (docs/transport.md "Places"): the ISO 3166-1
country list, cities with their IANA timezone, and stations (GTFS stops,
https://gtfs.org/schedule/reference/#stopstxt) with their position, timezone and
optional parent station.

Stations are shared by every company (two lines may call at the same airport), so
they belong to no company: admin and operation staff create, edit and delete them,
operators may create them (routes/transport/places.py holds the roles).
"""

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

import pycountry
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core.errors import Conflict, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import City, Fare, RouteStop, Station, StopTime, Trip
from models.base import utcnow
from services.audit import audit
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import get_or_404, text_matches
from services.transport.records import apply_changes, check_free
from services.transport.timetable import is_timezone

# A parent chain longer than this is refused as if it were a cycle (GTFS uses one
# level: a stop in a station).
MAX_PARENT_DEPTH = 16
CITY_SORTABLE = ("name", "country")
STATION_SORTABLE = ("name", "code")
STATION_FIELDS = (
    "code",
    "name",
    "city_id",
    "latitude",
    "longitude",
    "timezone",
    "parent_id",
    "translations",
)


def name_translations(value: dict | None) -> dict | None:
    """Translated names (`{"de": {"name": ...}}`, docs/i18n.md "Catalogue
    translations") as stored: names stripped, languages without a name dropped;
    None when nothing is left."""
    cleaned = {
        language: {"name": texts["name"].strip()}
        for language, texts in (value or {}).items()
        if (texts or {}).get("name") and texts["name"].strip()
    }
    return cleaned or None


# --- countries --------------------------------------------------------------------


@lru_cache(maxsize=1)
def _all_countries() -> tuple[dict, ...]:
    """Every ISO 3166-1 country as `{code, name}` (the common name where pycountry
    has one, e.g. "Bolivia" for "Bolivia, Plurinational State of"), by name."""
    rows = (
        {"code": c.alpha_2, "name": getattr(c, "common_name", None) or c.name}
        for c in pycountry.countries
    )
    return tuple(sorted(rows, key=lambda row: row["name"].casefold()))


def list_countries(*, q: str | None = None) -> list[dict]:
    """The ISO 3166-1 countries `[{code, name}]` sorted by name; `q` keeps those
    whose alpha-2 code equals it or whose name contains it (case-insensitive)."""
    rows = _all_countries()
    if q:
        needle = q.strip().casefold()
        rows = tuple(
            row
            for row in rows
            if row["code"].casefold() == needle or needle in row["name"].casefold()
        )
    return [dict(row) for row in rows]


def is_country(code) -> bool:
    """True when `code` is an ISO 3166-1 alpha-2 code (upper case)."""
    if not isinstance(code, str) or len(code) != 2 or not code.isupper():
        return False
    return pycountry.countries.get(alpha_2=code) is not None


def check_country(code: str, field: str = "country") -> str:
    """`code` upper-cased when it is an ISO 3166-1 alpha-2 code; ValidationFailed
    (422 on `field`) otherwise."""
    upper = code.strip().upper() if isinstance(code, str) else code
    if not is_country(upper):
        raise ValidationFailed({field: [_("Not an ISO 3166-1 alpha-2 country code.")]})
    return upper


def check_timezone(name: str, field: str = "timezone") -> str:
    """`name` when it is an IANA timezone this machine knows; ValidationFailed
    (422 on `field`) otherwise (services.transport.timetable.is_timezone)."""
    if not is_timezone(name):
        raise ValidationFailed(
            {field: [_("Not an IANA timezone (e.g. Europe/Dublin).")]}
        )
    return name


def _ordered(stmt, model, sort: str | None, allowed: tuple[str, ...]):
    """`stmt` ordered by `sort` (one of `allowed`, `-` prefix reverses) or by name;
    the id breaks ties (services.shared.pagination.order_by_sort)."""
    return order_by_sort(stmt, model, sort or "name", allowed)


# --- cities -----------------------------------------------------------------------


def served_city_ids(now: datetime | None = None):
    """SELECT of the ids of cities with at least one station where a `scheduled`
    trip still departs (a stop time departing at or after `now`, default the
    current time): the cities a customer can travel from or to."""
    now = now or utcnow()
    return (
        select(Station.city_id)
        .join(StopTime, StopTime.station_id == Station.id)
        .join(Trip, Trip.id == StopTime.trip_id)
        .where(
            Trip.status == "scheduled",
            StopTime.departure_at >= now,
            Station.city_id.is_not(None),
        )
        .distinct()
    )


def list_cities(
    *,
    served: bool | None = None,
    country: str | None = None,
    q: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
    now: datetime | None = None,
) -> Page:
    """One page of cities, by name unless `sort` (name, country). `served=true`
    keeps the cities with a future departure of a scheduled trip
    (`served_city_ids`), `served=false` the others; `country` filters by ISO code,
    `q` matches the name. Raises ValidationFailed (422) for an unknown sort."""
    stmt = select(City)
    if served is not None:
        ids = served_city_ids(now)
        stmt = stmt.where(City.id.in_(ids) if served else City.id.not_in(ids))
    if country:
        stmt = stmt.where(City.country == country.upper())
    if q:
        stmt = stmt.where(text_matches(q, City.name))
    stmt = _ordered(stmt, City, sort, CITY_SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_city(*, city_id: int) -> City:
    """The city `city_id`. Raises NotFound (404)."""
    return get_or_404(City, city_id, "City")


def _city_exists() -> Conflict:
    """The 409 of a (name, country) another city has."""
    return Conflict(
        _("A city with this name exists in this country."), code="city-exists"
    )


def _check_city_unique(name: str, country: str, city_id: int | None = None) -> None:
    """Conflict (409 city-exists) when another city has this name and country."""
    check_free(City, _city_exists(), exclude_id=city_id, name=name, country=country)


def _commit_or_conflict(error: Conflict) -> None:
    """Commit; a concurrent writer's UNIQUE violation becomes `error` (409)."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise error from exc


def create_city(
    *,
    actor,
    name: str,
    country: str,
    timezone: str,
    translations: dict | None = None,
    facts: audit.RequestFacts | None = None,
) -> City:
    """Create and commit a city, audited with the request `facts`; `translations`
    its name in other languages (`{"de": {"name": ...}}`). Raises
    ValidationFailed (422) for an unknown country or timezone, Conflict (409
    city-exists) when (name, country) is taken."""
    name = name.strip()
    country = check_country(country)
    check_timezone(timezone)
    _check_city_unique(name, country)
    city = City(
        name=name,
        country=country,
        timezone=timezone,
        translations=name_translations(translations),
    )
    db.session.add(city)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise _city_exists() from exc
    audit.record(
        "city.created",
        entity_type="city",
        entity_id=city.id,
        facts=facts,
        actor=actor,
        details={"name": name, "country": country, "timezone": timezone},
    )
    _commit_or_conflict(_city_exists())
    return city


def update_city(
    *, actor, city_id: int, changes: dict, facts: audit.RequestFacts | None = None
) -> City:
    """Apply a partial edit (name, country, timezone, translations: null removes
    them) and commit, audited. The city's stations keep their own timezone.
    Raises NotFound (404),
    ValidationFailed (422) for an unknown country or timezone, Conflict (409
    city-exists)."""
    city = get_city(city_id=city_id)
    changes = dict(changes)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    if "country" in changes:
        changes["country"] = check_country(changes["country"])
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    if "translations" in changes:
        changes["translations"] = name_translations(changes["translations"])
    name = changes.get("name", city.name)
    country = changes.get("country", city.country)
    _check_city_unique(name, country, city.id)
    apply_changes(city, changes, entity_type="city", actor=actor, facts=facts)
    _commit_or_conflict(_city_exists())
    return city


def delete_city(
    *, actor, city_id: int, facts: audit.RequestFacts | None = None
) -> None:
    """Delete a city without stations and commit, audited. Raises NotFound (404),
    Conflict (409 city-in-use) when a station is in it."""
    city = get_city(city_id=city_id)
    in_use = Conflict(
        _("The city has stations; delete or move them first."), code="city-in-use"
    )
    if db.session.scalar(select(exists().where(Station.city_id == city.id))):
        raise in_use
    audit.record(
        "city.deleted",
        entity_type="city",
        entity_id=city.id,
        facts=facts,
        actor=actor,
        details={"name": city.name, "country": city.country},
    )
    db.session.delete(city)
    _commit_or_conflict(in_use)


# --- stations ---------------------------------------------------------------------


def list_stations(
    *,
    q: str | None = None,
    city_id: int | None = None,
    country: str | None = None,
    parent_id: int | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of stations with their city, by name unless `sort` (name, code).
    `q` matches code or name; `city_id`, `country` (the city's ISO code) and
    `parent_id` filter. Raises ValidationFailed (422) for an unknown sort."""
    stmt = select(Station).options(selectinload(Station.city))
    if q:
        stmt = stmt.where(text_matches(q, Station.code, Station.name))
    if city_id is not None:
        stmt = stmt.where(Station.city_id == city_id)
    if country:
        stmt = stmt.where(
            Station.city_id.in_(select(City.id).where(City.country == country.upper()))
        )
    if parent_id is not None:
        stmt = stmt.where(Station.parent_id == parent_id)
    stmt = _ordered(stmt, Station, sort, STATION_SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_station(*, station_id: int) -> Station:
    """The station `station_id` with its city. Raises NotFound (404)."""
    return get_or_404(Station, station_id, "Station")


def _code_taken() -> Conflict:
    """The 409 of a station code another station has."""
    return Conflict(_("A station with this code exists."), code="code-taken")


def _check_code_free(code: str, station_id: int | None = None) -> None:
    """Conflict (409 code-taken) when another station has `code`."""
    check_free(Station, _code_taken(), exclude_id=station_id, code=code)


def _usable_city(city_id: int) -> City:
    """The city `city_id`, or ValidationFailed (422 on `city_id`)."""
    city = db.session.get(City, city_id)
    if city is None:
        raise ValidationFailed({"city_id": [_("No city with this id.")]})
    return city


def _check_parent(parent_id: int | None, station_id: int | None = None) -> None:
    """ValidationFailed (422 on `parent_id`) unless `parent_id` is None or an
    existing station other than `station_id` whose own parents never lead back to
    `station_id` (no cycles), at most MAX_PARENT_DEPTH levels up."""
    if parent_id is None:
        return
    if parent_id == station_id:
        raise ValidationFailed(
            {"parent_id": [_("A station cannot be its own parent.")]}
        )
    if db.session.get(Station, parent_id) is None:
        raise ValidationFailed({"parent_id": [_("No station with this id.")]})
    current, depth = parent_id, 0
    while current is not None:
        if current == station_id or depth > MAX_PARENT_DEPTH:
            raise ValidationFailed(
                {"parent_id": [_("The parent chain would make a cycle.")]}
            )
        current = db.session.scalar(
            select(Station.parent_id).where(Station.id == current)
        )
        depth += 1


def _degrees(value) -> Decimal | None:
    """A coordinate in degrees as the Decimal(9, 6) the column keeps."""
    if value is None:
        return None
    return round(Decimal(str(value)), 6)


def create_station(
    *,
    actor,
    code: str,
    name: str,
    city_id: int,
    latitude: float,
    longitude: float,
    timezone: str | None = None,
    parent_id: int | None = None,
    translations: dict | None = None,
    facts: audit.RequestFacts | None = None,
) -> Station:
    """Create and commit a station, audited. `latitude`/`longitude` in degrees
    (WGS 84); `timezone` defaults to the city's; `translations` the name in other
    languages (`{"de": {"name": ...}}`, docs/i18n.md). Raises ValidationFailed (422) for
    an unknown city, timezone or parent station, Conflict (409 code-taken)."""
    city = _usable_city(city_id)
    if timezone is not None:
        check_timezone(timezone)
    _check_parent(parent_id)
    _check_code_free(code)
    station = Station(
        code=code,
        name=name.strip(),
        city_id=city.id,
        latitude=_degrees(latitude),
        longitude=_degrees(longitude),
        timezone=timezone or city.timezone,
        parent_id=parent_id,
        translations=name_translations(translations),
    )
    db.session.add(station)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise _code_taken() from exc
    audit.record(
        "station.created",
        entity_type="station",
        entity_id=station.id,
        facts=facts,
        actor=actor,
        details={"code": code, "city_id": city.id, "timezone": station.timezone},
    )
    _commit_or_conflict(_code_taken())
    return station


def _has_stop_times(station_id: int) -> bool:
    """True when a trip calls at the station."""
    return bool(
        db.session.scalar(select(exists().where(StopTime.station_id == station_id)))
    )


def _new_values(station: Station, changes: dict) -> dict:
    """The validated column values of a station edit: `city_id` an existing city,
    `timezone` IANA (null, or a move to another city without a timezone: the
    city's), `parent_id` without cycles, coordinates as Decimals."""
    values = dict(changes)
    if "name" in values:
        values["name"] = values["name"].strip()
    if "translations" in values:
        values["translations"] = name_translations(values["translations"])
    for axis in ("latitude", "longitude"):
        if axis in values:
            values[axis] = _degrees(values[axis])
    city = station.city
    if "city_id" in values:
        city = _usable_city(values["city_id"])
    if values.get("timezone") is not None:
        check_timezone(values["timezone"])
    elif "timezone" in values or city.id != station.city_id:
        values["timezone"] = city.timezone
    if "parent_id" in values:
        _check_parent(values["parent_id"], station.id)
    if "code" in values:
        _check_code_free(values["code"], station.id)
    return {k: v for k, v in values.items() if getattr(station, k) != v}


def update_station(
    *, actor, station_id: int, changes: dict, facts: audit.RequestFacts | None = None
) -> Station:
    """Apply a partial edit and commit, audited. Raises NotFound (404),
    ValidationFailed (422) for an unknown city, timezone or parent station or a
    parent cycle, Conflict (409 code-taken; station-in-use when the timezone of a
    station trips call at would change: their stop times were computed in it)."""
    station = get_station(station_id=station_id)
    changed = _new_values(station, changes)
    if "timezone" in changed and _has_stop_times(station.id):
        raise Conflict(
            _("Trips call at this station; its timezone cannot change."),
            code="station-in-use",
        )
    for field, value in changed.items():
        setattr(station, field, value)
    if changed:
        audit.record(
            "station.updated",
            entity_type="station",
            entity_id=station.id,
            facts=facts,
            actor=actor,
            details={"fields": sorted(changed)},
        )
    _commit_or_conflict(_code_taken())
    return station


def _in_use(station_id: int) -> bool:
    """True when a route, a trip's stop time or a fare names the station."""
    used = (
        exists().where(RouteStop.station_id == station_id),
        exists().where(StopTime.station_id == station_id),
        exists().where(
            (Fare.from_station_id == station_id) | (Fare.to_station_id == station_id)
        ),
    )
    return any(db.session.scalar(select(test)) for test in used)


def delete_station(
    *, actor, station_id: int, facts: audit.RequestFacts | None = None
) -> None:
    """Delete a station no route, stop time or fare uses, and commit, audited; its
    child stations lose their parent. Raises NotFound (404), Conflict (409
    station-in-use)."""
    station = get_station(station_id=station_id)
    in_use = Conflict(
        _("A route or trip uses this station; it cannot be deleted."),
        code="station-in-use",
    )
    if _in_use(station.id):
        raise in_use
    for child in db.session.scalars(
        select(Station).where(Station.parent_id == station.id)
    ):
        child.parent_id = None
    audit.record(
        "station.deleted",
        entity_type="station",
        entity_id=station.id,
        facts=facts,
        actor=actor,
        details={"code": station.code, "name": station.name},
    )
    db.session.delete(station)
    _commit_or_conflict(in_use)
