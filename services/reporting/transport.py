"""Transport reports (docs/reports.md "Transport reports"; docs/design.md "Resource
map": /reports): popular routes and city pairs, load factor per trip and per
segment of one trip, revenue by company or by route.

What they count (docs/transport.md "Tickets" for the segment inventory):

- Sold trip bookings are `kind = 'trip'` bookings that are `confirmed` or
  `completed` (SOLD); a passenger is one traveller row of such a booking (infants
  included, seat or not).
- A seat is occupied on a segment by a `SeatSegment` row of a sold booking; held
  bookings (even with a live hold) are not counted.
- Load factor = occupied seat-segments / (seats x segments): the average over the
  trip's segments of occupied seats / seats, in percent with one decimal place like
  the other reports' rates. Seats are the capacities of the trip vehicle's sections.

Every report is one SQL statement (GROUP BY and pre-aggregated subqueries in the
database, no Python loop over bookings) whose rows a small function shapes; money
is grouped by currency and summed in cents (services.reporting.report_sql).
"""

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import String, and_, case, cast, func, literal, null, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from core.errors import NotFound
from core.extensions import db
from models import (
    Booking,
    City,
    SeatSegment,
    Station,
    StopTime,
    TransportCompany,
    TransportRoute,
    Traveller,
    Trip,
    VehicleSection,
)
from services.reporting.report_base import (
    DATE,
    INTEGER,
    MONEY,
    OPEN_WINDOW,
    PERCENT,
    SOLD,
    STRING,
    Report,
    Window,
    count_if,
    limited,
    money,
)
from services.reporting.report_sql import sum_cents

REVENUE_GROUPS = ("company", "route")
TRIP = "trip"
CANCELLED = "cancelled"

_ROUTE_KEYS = (
    ("route_id", INTEGER),
    ("route_code", STRING),
    ("route_name", STRING),
    ("company_id", INTEGER),
    ("company_name", STRING),
)
_COMPANY_KEYS = (("company_id", INTEGER), ("company_name", STRING))
_CITY_KEYS = (
    ("from_city_id", INTEGER),
    ("from_city", STRING),
    ("to_city_id", INTEGER),
    ("to_city", STRING),
)
_SALES = (("bookings", INTEGER), ("passengers", INTEGER), ("revenue", MONEY))
# The columns of `trip_load` (the route documents them without a trip at hand).
TRIP_LOAD_COLUMNS = (
    ("segment", INTEGER),
    ("from_station_id", INTEGER),
    ("from_station_code", STRING),
    ("to_station_id", INTEGER),
    ("to_station_code", STRING),
    ("section_code", STRING),
    ("seats", INTEGER),
    ("occupied", INTEGER),
    ("load_factor", PERCENT),
)


def load_percent(occupied: int, seats: int) -> Decimal:
    """`occupied / seats` in percent, one decimal place rounded half up (0 when
    there are no seats), like the rates of the other reports."""
    if not seats:
        return Decimal("0.0")
    rate = Decimal(int(occupied) * 100) / Decimal(int(seats))
    return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _passengers():
    """Subquery `party(booking_id, people)`: traveller rows per sold trip booking
    (the only bookings whose passengers the reports count)."""
    return (
        select(
            Traveller.booking_id.label("booking_id"),
            func.count(Traveller.id).label("people"),
        )
        .join(Booking, Booking.id == Traveller.booking_id)
        .where(Booking.kind == TRIP, Booking.status.in_(SOLD))
        .group_by(Traveller.booking_id)
        .subquery("party")
    )


def _sold_trip_bookings(party, company_id: int | None) -> Select:
    """SELECT FROM sold trip bookings joined to their trip, route and passenger
    count (`party`), optionally of one company; columns are added by the caller."""
    stmt = (
        select()
        .select_from(Booking)
        .join(Trip, Trip.id == Booking.trip_id)
        .join(TransportRoute, TransportRoute.id == Trip.route_id)
        .outerjoin(party, party.c.booking_id == Booking.id)
        .where(Booking.kind == TRIP, Booking.status.in_(SOLD))
    )
    if company_id is not None:
        stmt = stmt.where(TransportRoute.company_id == company_id)
    return stmt


def _shape_with(keys: tuple, counts: tuple[str, ...], amounts: tuple[str, ...]):
    """A row shaper: the key columns as they come, `counts` as int, `amounts`
    (cents) as Decimal, plus the currency."""

    def shape(row) -> dict:
        out = {name: getattr(row, name) for name, _kind in keys}
        out["currency"] = row.currency
        out.update({name: int(getattr(row, name) or 0) for name in counts})
        out.update(money(row, *amounts))
        return out

    return shape


def popular_routes(
    *,
    window: Window = OPEN_WINDOW,
    company_id: int | None = None,
    limit: int | None = None,
) -> Report:
    """Routes ranked by passengers of the sold trip bookings made in the range
    (booking date, like the popular packages): per route and currency, the
    route's code and name, its company, bookings, passengers and revenue (the
    bookings' total amounts); most passengers first, then bookings, revenue and
    route id. `company_id` keeps one company's routes."""
    party = _passengers()
    stmt = _sold_trip_bookings(party, company_id).join(
        TransportCompany, TransportCompany.id == TransportRoute.company_id
    )
    stmt = window.on_timestamp(stmt, Booking.created_at)
    keys = [
        TransportRoute.id.label("route_id"),
        TransportRoute.code.label("route_code"),
        TransportRoute.name.label("route_name"),
        TransportCompany.id.label("company_id"),
        TransportCompany.name.label("company_name"),
    ]
    stmt = _ranked_sales(stmt, party, keys, TransportRoute.id)
    return Report(
        name="transport.popular-routes",
        columns=(*_ROUTE_KEYS, ("currency", STRING), *_SALES),
        statement=limited(stmt, limit),
        shape=_shape_with(_ROUTE_KEYS, ("bookings", "passengers"), ("revenue",)),
        filters={**window.as_dict(), "company_id": company_id},
    )


def _ranked_sales(stmt, party, keys: list, *ties):
    """`stmt` (sold trip bookings joined to `party`, _passengers) grouped by `keys`
    and currency with bookings, passengers and revenue (cents), most passengers
    first, then bookings, revenue, `ties` and currency."""
    bookings = func.count(Booking.id)
    passengers = func.coalesce(func.sum(party.c.people), 0)
    revenue = sum_cents(Booking.total_amount)
    return (
        stmt.add_columns(
            *keys,
            Booking.currency.label("currency"),
            bookings.label("bookings"),
            passengers.label("passengers"),
            revenue.label("revenue"),
        )
        .group_by(*[key.element for key in keys], Booking.currency)
        .order_by(
            passengers.desc(),
            bookings.desc(),
            revenue.desc(),
            *ties,
            Booking.currency,
        )
    )


def city_pairs(
    *,
    window: Window = OPEN_WINDOW,
    company_id: int | None = None,
    limit: int | None = None,
) -> Report:
    """City pairs ranked by passengers of the sold trip bookings made in the range
    (booking date): per (city of the boarding station, city of the alighting
    station) and currency, bookings, passengers and revenue; most passengers
    first. A station without a city gives a null city. `company_id` keeps one
    company's trips."""
    party = _passengers()
    origin, destination = aliased(Station), aliased(Station)
    from_city, to_city = aliased(City), aliased(City)
    stmt = (
        _sold_trip_bookings(party, company_id)
        .join(origin, origin.id == Booking.from_station_id)
        .join(destination, destination.id == Booking.to_station_id)
        .outerjoin(from_city, from_city.id == origin.city_id)
        .outerjoin(to_city, to_city.id == destination.city_id)
    )
    stmt = window.on_timestamp(stmt, Booking.created_at)
    keys = [
        from_city.id.label("from_city_id"),
        from_city.name.label("from_city"),
        to_city.id.label("to_city_id"),
        to_city.name.label("to_city"),
    ]
    stmt = _ranked_sales(stmt, party, keys, from_city.name, to_city.name)
    return Report(
        name="transport.city-pairs",
        columns=(*_CITY_KEYS, ("currency", STRING), *_SALES),
        statement=limited(stmt, limit),
        shape=_shape_with(_CITY_KEYS, ("bookings", "passengers"), ("revenue",)),
        filters={**window.as_dict(), "company_id": company_id},
    )


def _trips_in(window: Window, company_id: int | None, stmt: Select) -> Select:
    """`stmt` (joined to Trip) narrowed to trips not cancelled that depart in the
    range (UTC departure time), of one company when `company_id` is given."""
    stmt = stmt.where(Trip.status != CANCELLED)
    if company_id is not None:
        stmt = stmt.join(TransportRoute, TransportRoute.id == Trip.route_id).where(
            TransportRoute.company_id == company_id
        )
    return window.on_timestamp(stmt, Trip.departure_at)


def load_factor(
    *,
    window: Window = OPEN_WINDOW,
    company_id: int | None = None,
    limit: int | None = None,
) -> Report:
    """Per trip departing in the range (UTC departure time; cancelled trips left
    out), earliest first: the route, service date, departure, seats (the vehicle's
    section capacities), segments, the busiest segment's occupied seats
    (`sold_segments_max`), the occupied seat-segments and the load factor (their
    share of seats x segments, percent). `company_id` keeps one company's trips."""
    capacity = (
        select(
            VehicleSection.vehicle_id.label("vehicle_id"),
            func.sum(VehicleSection.capacity).label("seats"),
        )
        .group_by(VehicleSection.vehicle_id)
        .subquery("capacity")
    )
    legs = _trips_in(
        window,
        company_id,
        select(
            StopTime.trip_id.label("trip_id"),
            (func.count(StopTime.id) - 1).label("segments"),
        ).join(Trip, Trip.id == StopTime.trip_id),
    )
    legs = legs.group_by(StopTime.trip_id).subquery("legs")
    per_segment = _trips_in(
        window,
        company_id,
        select(
            SeatSegment.trip_id.label("trip_id"),
            SeatSegment.segment.label("segment"),
            func.count(SeatSegment.id).label("occupied"),
        )
        .join(Booking, Booking.id == SeatSegment.booking_id)
        .join(Trip, Trip.id == SeatSegment.trip_id)
        .where(Booking.status.in_(SOLD)),
    )
    per_segment = per_segment.group_by(
        SeatSegment.trip_id, SeatSegment.segment
    ).subquery("per_segment")
    sold = (
        select(
            per_segment.c.trip_id,
            func.max(per_segment.c.occupied).label("busiest"),
            func.sum(per_segment.c.occupied).label("seat_segments"),
        )
        .group_by(per_segment.c.trip_id)
        .subquery("sold")
    )
    stmt = (
        select(
            Trip.id.label("trip_id"),
            TransportRoute.id.label("route_id"),
            TransportRoute.code.label("route_code"),
            TransportRoute.company_id.label("company_id"),
            Trip.service_date.label("service_date"),
            Trip.departure_at.label("departure_at"),
            func.coalesce(capacity.c.seats, 0).label("seats"),
            func.coalesce(legs.c.segments, 0).label("segments"),
            func.coalesce(sold.c.busiest, 0).label("sold_segments_max"),
            func.coalesce(sold.c.seat_segments, 0).label("seat_segments_sold"),
        )
        .select_from(Trip)
        .join(TransportRoute, TransportRoute.id == Trip.route_id)
        .outerjoin(capacity, capacity.c.vehicle_id == Trip.vehicle_id)
        .outerjoin(legs, legs.c.trip_id == Trip.id)
        .outerjoin(sold, sold.c.trip_id == Trip.id)
        .where(Trip.status != CANCELLED)
        .order_by(Trip.departure_at, Trip.id)
    )
    if company_id is not None:
        stmt = stmt.where(TransportRoute.company_id == company_id)
    stmt = window.on_timestamp(stmt, Trip.departure_at)
    counts = ("seats", "segments", "sold_segments_max", "seat_segments_sold")

    def shape(row) -> dict:
        out = {
            "trip_id": row.trip_id,
            "route_id": row.route_id,
            "route_code": row.route_code,
            "company_id": row.company_id,
            "service_date": row.service_date,
            "departure_at": row.departure_at,
        }
        out.update({name: int(getattr(row, name)) for name in counts})
        out["load_factor"] = load_percent(
            out["seat_segments_sold"], out["seats"] * out["segments"]
        )
        return out

    return Report(
        name="transport.load-factor",
        columns=(
            ("trip_id", INTEGER),
            ("route_id", INTEGER),
            ("route_code", STRING),
            ("company_id", INTEGER),
            ("service_date", DATE),
            ("departure_at", STRING),
            *((name, INTEGER) for name in counts),
            ("load_factor", PERCENT),
        ),
        statement=limited(stmt, limit),
        shape=shape,
        filters={**window.as_dict(), "company_id": company_id},
    )


def _trip_segments(trip_id: int):
    """Subquery `segments(segment, from/to station id and code)` of a trip:
    segment i runs from the stop of sequence i to the stop of sequence i + 1."""
    start, end = aliased(StopTime), aliased(StopTime)
    origin, destination = aliased(Station), aliased(Station)
    return (
        select(
            start.sequence.label("segment"),
            origin.id.label("from_station_id"),
            origin.code.label("from_station_code"),
            destination.id.label("to_station_id"),
            destination.code.label("to_station_code"),
        )
        .select_from(start)
        .join(
            end,
            and_(end.trip_id == start.trip_id, end.sequence == start.sequence + 1),
        )
        .join(origin, origin.id == start.station_id)
        .join(destination, destination.id == end.station_id)
        .where(start.trip_id == trip_id)
        .subquery("segments")
    )


def trip_load(trip_id: int) -> Report:
    """The load of one trip per segment, in stop order: for each segment a row for
    the whole vehicle (`section_code` null) and then one row per vehicle section
    (in the vehicle's section order), each with its seats, occupied seats (sold
    bookings' seat rows) and load factor (percent). Raises NotFound (404) for an
    unknown trip. A trip without a vehicle has only whole-vehicle rows, 0 seats."""
    trip = db.session.get(Trip, trip_id)
    if trip is None:
        raise NotFound("Trip")
    segments = _trip_segments(trip_id)
    occupied = (
        select(
            SeatSegment.segment.label("segment"),
            SeatSegment.section_code.label("section_code"),
            func.count(SeatSegment.id).label("occupied"),
        )
        .join(Booking, Booking.id == SeatSegment.booking_id)
        .where(SeatSegment.trip_id == trip_id, Booking.status.in_(SOLD))
        .group_by(SeatSegment.segment, SeatSegment.section_code)
        .subquery("occupied")
    )
    per_segment = (
        select(
            occupied.c.segment,
            func.sum(occupied.c.occupied).label("occupied"),
        )
        .group_by(occupied.c.segment)
        .subquery("per_segment")
    )
    vehicle_seats = (
        select(func.coalesce(func.sum(VehicleSection.capacity), 0))
        .where(VehicleSection.vehicle_id == trip.vehicle_id)
        .scalar_subquery()
    )
    station_columns = [
        segments.c.segment,
        segments.c.from_station_id,
        segments.c.from_station_code,
        segments.c.to_station_id,
        segments.c.to_station_code,
    ]
    whole = select(
        *station_columns,
        cast(null(), String(32)).label("section_code"),
        literal(-1).label("position"),
        vehicle_seats.label("seats"),
        func.coalesce(per_segment.c.occupied, 0).label("occupied"),
    ).outerjoin(per_segment, per_segment.c.segment == segments.c.segment)
    sections = (
        select(
            *station_columns,
            VehicleSection.code.label("section_code"),
            VehicleSection.position.label("position"),
            VehicleSection.capacity.label("seats"),
            func.coalesce(occupied.c.occupied, 0).label("occupied"),
        )
        .select_from(segments)
        .join(VehicleSection, VehicleSection.vehicle_id == trip.vehicle_id)
        .outerjoin(
            occupied,
            and_(
                occupied.c.segment == segments.c.segment,
                occupied.c.section_code == VehicleSection.code,
            ),
        )
    )
    rows = whole.union_all(sections).subquery("load")
    stmt = select(rows).order_by(rows.c.segment, rows.c.position, rows.c.section_code)

    def shape(row) -> dict:
        out = {name: getattr(row, name) for name, _kind in TRIP_LOAD_COLUMNS[:6]}
        out["seats"] = int(row.seats)
        out["occupied"] = int(row.occupied)
        out["load_factor"] = load_percent(out["occupied"], out["seats"])
        return out

    return Report(
        name="transport.trip-load",
        columns=TRIP_LOAD_COLUMNS,
        statement=stmt,
        shape=shape,
        filters={"trip_id": trip_id},
    )


def transport_revenue(
    group_by: str = "company",
    *,
    window: Window = OPEN_WINDOW,
    company_id: int | None = None,
    limit: int | None = None,
) -> Report:
    """Trip revenue per company or route (`group_by`) and currency, for trips
    departing in the range (UTC departure time, like the booking-basis package
    revenue by departure date).

    `bookings` and `passengers` count the sold bookings (confirmed, completed);
    `cancelled` counts bookings cancelled after they were sold (confirmed_at set).
    Money covers both: `gross` = their total amounts, `refunded` = their
    amount_refunded (refunds owed or paid back), `net` = gross - refunded, so a
    cancellation's kept penalty stays in net. Largest net first.
    Raises ValueError for another `group_by` (the schema prevents it)."""
    if group_by not in REVENUE_GROUPS:
        raise ValueError(f"group_by must be one of {REVENUE_GROUPS}")
    party = _passengers()
    standing = Booking.status.in_(SOLD)
    was_sold = and_(Booking.status == CANCELLED, Booking.confirmed_at.is_not(None))
    gross = sum_cents(Booking.total_amount)
    refunded = sum_cents(Booking.amount_refunded)
    net = gross - refunded
    passengers = func.coalesce(func.sum(case((standing, party.c.people), else_=0)), 0)
    stmt = (
        select()
        .select_from(Booking)
        .join(Trip, Trip.id == Booking.trip_id)
        .join(TransportRoute, TransportRoute.id == Trip.route_id)
        .join(TransportCompany, TransportCompany.id == TransportRoute.company_id)
        .outerjoin(party, party.c.booking_id == Booking.id)
        .where(Booking.kind == TRIP, or_(standing, was_sold))
    )
    if company_id is not None:
        stmt = stmt.where(TransportRoute.company_id == company_id)
    stmt = window.on_timestamp(stmt, Trip.departure_at)
    key_columns = _ROUTE_KEYS if group_by == "route" else _COMPANY_KEYS
    keys = [
        TransportCompany.id.label("company_id"),
        TransportCompany.name.label("company_name"),
    ]
    if group_by == "route":
        keys = [
            TransportRoute.id.label("route_id"),
            TransportRoute.code.label("route_code"),
            TransportRoute.name.label("route_name"),
            *keys,
        ]
    stmt = (
        stmt.add_columns(
            *keys,
            Booking.currency.label("currency"),
            count_if(standing).label("bookings"),
            count_if(Booking.status == CANCELLED).label("cancelled"),
            passengers.label("passengers"),
            gross.label("gross"),
            refunded.label("refunded"),
            net.label("net"),
        )
        .group_by(*[key.element for key in keys], Booking.currency)
        .order_by(net.desc(), Booking.currency, keys[0].element)
    )
    counts = ("bookings", "cancelled", "passengers")
    amounts = ("gross", "refunded", "net")
    return Report(
        name="transport.revenue",
        columns=(
            *key_columns,
            ("currency", STRING),
            *((name, INTEGER) for name in counts),
            *((name, MONEY) for name in amounts),
        ),
        statement=limited(stmt, limit),
        shape=_shape_with(key_columns, counts, amounts),
        filters={**window.as_dict(), "company_id": company_id, "group_by": group_by},
    )
