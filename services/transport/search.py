"""Trip search: offers from one place to another on a local date
(docs/transport.md "Search").

`from` and `to` are a station code or a city id (digits; digits that name no
city are tried as a station code): a station stands for itself and its child
stations, a city for all its stations and their children.
`date` is the local date of departure at the origin station, in that station's
timezone. A trip serves the pair when it calls at an origin station before a
destination station (lower stop sequence). Offered: `scheduled` trips of active
routes and companies, with a vehicle, leaving the origin in the future, with at
least one section that has a sold fare (Fare.price not null) for the pair and
`seats_left` >= passengers. One offer per trip: when several origin/destination
stations of the trip match (a city), the shortest ride (latest boarding, then
earliest alighting) among the sold pairs.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from core.errors import ValidationFailed
from core.extensions import db
from core.i18n import _
from models import (
    City,
    Fare,
    Station,
    StopTime,
    TransportCompany,
    TransportRoute,
    Trip,
    Vehicle,
    VehicleSection,
)
from models.base import utcnow
from services.shared.pagination import Page, decode_cursor, encode_cursor
from services.transport import seating, timetable

SORTS = ("departure", "price", "duration")
# Ids are INTEGER primary keys (schemas.common.MAX_ID).
MAX_ID = 2_147_483_647
MAX_PASSENGERS = 9


def seats_left(trip: Trip, section: VehicleSection, from_seq: int, to_seq: int) -> int:
    """Seats of `section` still free on `trip` over every segment between stop
    sequences `from_seq` and `to_seq` (a seat taken on any of them is not free;
    services.transport.seating; docs/transport.md "Search")."""
    return seating.seats_left(trip.id, section, from_seq, to_seq)


# --- places ---------------------------------------------------------------------


def resolve_place(text: str, field: str) -> set[int]:
    """The station ids `text` stands for: digits are a city id (every station of
    the city and their child stations); anything else, or digits naming no city, a
    station code (the station and its child stations: GTFS stop codes are often
    numeric). ValidationFailed (422) on `query.<field>` when it names neither."""
    text = text.strip()
    ids = None
    city_id = int(text) if text.isascii() and text.isdecimal() else None
    if city_id is not None and city_id <= MAX_ID and db.session.get(City, city_id):
        ids = set(
            db.session.scalars(select(Station.id).where(Station.city_id == city_id))
        )
    if ids is None:
        station_id = db.session.scalar(select(Station.id).where(Station.code == text))
        if station_id is None:
            raise ValidationFailed(
                {
                    f"query.{field}": [
                        _("No city with this id nor station with this code.")
                    ]
                }
            )
        ids = {station_id}
    return ids | _children(ids)


def _children(ids: set[int]) -> set[int]:
    """Every station below the stations `ids` (GTFS parent_station, any depth)."""
    found: set[int] = set()
    level = set(ids)
    while level:
        level = (
            set(
                db.session.scalars(
                    select(Station.id).where(Station.parent_id.in_(level))
                )
            )
            - found
            - ids
        )
        found |= level
    return found


# --- search ---------------------------------------------------------------------


def search_trips(
    *,
    origin: str,
    destination: str,
    on: date,
    passengers: int = 1,
    mode: str | None = None,
    section: str | None = None,
    sort: str = "departure",
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
    now: datetime | None = None,
) -> Page:
    """One page of offers (dicts, see `_offer`) from `origin` to `destination`
    leaving on local date `on` at the origin, sorted by `sort` (SORTS: departure
    time, cheapest offered section, duration; ties by departure then trip id).

    `passengers` (1..9): every offered section has at least that many seats left;
    `mode` keeps one vehicle mode; `section` one section code; `now` (default
    the current time) is the moment a departure must be after. Raises
    ValidationFailed (422) for an unknown place or the same place twice
    (docs/transport.md "Search")."""
    from_ids = resolve_place(origin, "from")
    to_ids = resolve_place(destination, "to")
    if origin.strip() == destination.strip() or (from_ids and from_ids == to_ids):
        raise ValidationFailed({"query.to": [_("Must be another place than `from`.")]})
    offers = []
    if from_ids and to_ids:
        offers = _offers(
            from_ids, to_ids, on, passengers, mode, section, now or utcnow()
        )
    offers.sort(key=_SORT_KEYS[sort])
    shape = {
        "o": f"transport-search:{sort}",
        "f": "|".join(
            str(part) for part in (origin, destination, on, passengers, mode, section)
        ),
    }
    return _page_of(offers, shape, page=page, per_page=per_page, cursor=cursor)


def _page_of(offers: list, shape: dict, *, page, per_page, cursor) -> Page:
    """One page of the computed `offers`: by page number, or after the position a
    signed cursor of the same search names (services/shared/pagination.py;
    ValidationFailed 422 on `query.cursor` for a foreign or edited one)."""
    if cursor is not None:
        if page != 1:
            message = _("Send either `cursor` or `page`, not both.")
            raise ValidationFailed({"query.cursor": [message]}, detail=message)
        (start,) = decode_cursor(cursor, shape, [("position", False)])
        if not isinstance(start, int) or start < 0:
            raise ValidationFailed(
                {
                    "query.cursor": [
                        _("Not a cursor of this API: use `meta.next_cursor`.")
                    ]
                }
            )
    else:
        start = (page - 1) * per_page
    end = start + per_page
    more = len(offers) > end
    return Page(
        items=offers[start:end],
        page=None if cursor is not None else page,
        per_page=per_page,
        total=len(offers),
        has_more=more,
        next_cursor=encode_cursor(shape, [end]) if more else None,
    )


_SORT_KEYS = {
    "departure": lambda o: (o["departure_at"], o["duration_minutes"], o["trip_id"]),
    "price": lambda o: (o["min_price"], o["departure_at"], o["trip_id"]),
    "duration": lambda o: (o["duration_minutes"], o["departure_at"], o["trip_id"]),
}


def _departure_window(station_ids: set[int], on: date, board):
    """SQL: `board` (a StopTime alias) is at one of `station_ids` and leaves on
    local date `on` of its station's timezone (local midnight to midnight)."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for station_id, tz in db.session.execute(
        select(Station.id, Station.timezone).where(Station.id.in_(station_ids))
    ):
        by_zone[tz].append(station_id)
    terms = []
    for tz, ids in by_zone.items():
        start = datetime.combine(on, time.min, tzinfo=timetable.zone(tz))
        end = datetime.combine(on + timedelta(days=1), time.min, tzinfo=start.tzinfo)
        terms.append(
            and_(
                board.station_id.in_(ids),
                board.departure_at >= start.astimezone(UTC),
                board.departure_at < end.astimezone(UTC),
            )
        )
    return or_(*terms)


def _candidates(from_ids, to_ids, on, mode, now):
    """Rows (trip, boarding stop time, alighting stop time, stops between) of the
    trips that serve the pair on `on` (docs/transport.md "Search")."""
    board = aliased(StopTime)
    alight = aliased(StopTime)
    between = (
        select(func.count(StopTime.id))
        .where(
            StopTime.trip_id == board.trip_id,
            StopTime.sequence > board.sequence,
            StopTime.sequence < alight.sequence,
        )
        .correlate(board, alight)
        .scalar_subquery()
    )
    stmt = (
        select(Trip, board, alight, between)
        .join(board, board.trip_id == Trip.id)
        .join(alight, alight.trip_id == Trip.id)
        .join(TransportRoute, TransportRoute.id == Trip.route_id)
        .join(TransportCompany, TransportCompany.id == TransportRoute.company_id)
        .where(
            Trip.status == "scheduled",
            Trip.vehicle_id.is_not(None),
            TransportRoute.active.is_(True),
            TransportCompany.active.is_(True),
            alight.station_id.in_(to_ids),
            board.sequence < alight.sequence,
            board.departure_at > now,
            _departure_window(from_ids, on, board),
        )
        .options(
            joinedload(Trip.route).joinedload(TransportRoute.company),
            joinedload(Trip.vehicle).selectinload(Vehicle.sections),
            joinedload(Trip.vehicle).selectinload(Vehicle.amenities),
        )
    )
    if mode:
        stmt = stmt.where(TransportRoute.mode == mode)
    return db.session.execute(stmt).unique().all()


def _fares(route_ids, from_ids, to_ids, section) -> dict:
    """Sold fares `{(route_id, from_id, to_id, section_code): Fare}` (price not
    null) of the routes for the pairs."""
    stmt = select(Fare).where(
        Fare.route_id.in_(route_ids),
        Fare.from_station_id.in_(from_ids),
        Fare.to_station_id.in_(to_ids),
        Fare.price.is_not(None),
    )
    if section:
        stmt = stmt.where(Fare.section_code == section)
    return {
        (f.route_id, f.from_station_id, f.to_station_id, f.section_code): f
        for f in db.session.scalars(stmt)
    }


def _offers(from_ids, to_ids, on, passengers, mode, section, now) -> list[dict]:
    """Every offer (one per trip) for the search; see search_trips."""
    rows = _candidates(from_ids, to_ids, on, mode, now)
    if not rows:
        return []
    fares = _fares({row[0].route_id for row in rows}, from_ids, to_ids, section)
    stations = {
        s.id: s
        for s in db.session.scalars(
            select(Station).where(Station.id.in_(from_ids | to_ids))
        )
    }
    taken = seating.taken_on_trips({row[0].id for row in rows}, now)
    best: dict[int, tuple] = {}
    for trip, board, alight, between in rows:
        sections = _sections(
            trip, board, alight, fares, passengers, section, taken[trip.id]
        )
        if not sections:
            continue
        rank = (-board.departure_at.timestamp(), alight.arrival_at)
        if trip.id not in best or rank < best[trip.id][0]:
            best[trip.id] = (rank, trip, board, alight, between, sections)
    return [
        _offer(trip, board, alight, between, sections, stations)
        for _rank, trip, board, alight, between, sections in best.values()
    ]


def _sections(trip, board, alight, fares, passengers, wanted, taken) -> list[dict]:
    """The vehicle's sections on sale for this ride: a sold fare for the pair and
    at least `passengers` seats left (only section `wanted` when given); `taken`
    are the trip's counted seat rows (seating.taken_on_trips)."""
    offered = []
    for part in trip.vehicle.sections:
        if wanted and part.code != wanted:
            continue
        fare = fares.get(
            (trip.route_id, board.station_id, alight.station_id, part.code)
        )
        if fare is None:
            continue
        left = seating.free_for_ride(part, taken, board.sequence, alight.sequence)
        if left < passengers:
            continue
        offered.append(
            {
                "code": part.code,
                "name": part.name,
                "price": fare.price,
                "currency": fare.currency,
                "seats_left": left,
            }
        )
    return offered


def _place(station: Station) -> dict:
    """A station as an offer shows it; `translations` let the answer show its name
    in the caller's language (docs/i18n.md "Catalogue translations")."""
    return {
        "id": station.id,
        "code": station.code,
        "name": station.name,
        "translations": station.translations,
        "timezone": station.timezone,
    }


def _offer(trip, board, alight, between, sections, stations) -> dict:
    """One offer: the trip, its company, route, the two stations, UTC and local
    times (each station's zone), duration, stops between, amenities, sections."""
    origin = stations[board.station_id]
    destination = stations[alight.station_id]
    route = trip.route
    departure_at, arrival_at = board.departure_at, alight.arrival_at
    return {
        "trip_id": trip.id,
        "service_date": trip.service_date,
        "company": {
            "id": route.company.id,
            "code": route.company.code,
            "name": route.company.name,
        },
        "mode": route.mode,
        "route": {"id": route.id, "code": route.code, "name": route.name},
        "from_station": _place(origin),
        "to_station": _place(destination),
        "departure_at": departure_at,
        "arrival_at": arrival_at,
        "departure_local": timetable.local_clock(departure_at, origin.timezone),
        "arrival_local": timetable.local_clock(arrival_at, destination.timezone),
        "duration_minutes": int((arrival_at - departure_at).total_seconds() // 60),
        "stops_between": between,
        "amenities": [amenity.code for amenity in trip.vehicle.amenities],
        "sections": sections,
        "min_price": min(part["price"] for part in sections),
    }
