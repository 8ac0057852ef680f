"""Trips: one run of a route on a service date with its stop times
(docs/transport.md "Trips"; GTFS trips.txt and stop_times.txt,
https://gtfs.org/schedule/reference/).

A trip calls at its route's stations, all of them and in the route's order. Each
stop time is given as local `HH:MM` of its station's timezone (GTFS time: hours
may pass 24 past midnight) and stored with its aware UTC instants
(services.transport.timetable.to_utc); times never go backwards in UTC.

Status: `scheduled` -> `departed` -> `arrived`, or `scheduled` -> `cancelled`
(STATUS_FLOW). Cancelling, deleting and changing the vehicle are refused once
tickets exist (`sold_tickets`); a trip with tickets is cancelled with its bookings
by services.transport.trip_cancellations. Every change is one transaction.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import (
    Booking,
    RouteStop,
    Station,
    StopTime,
    Ticket,
    TransportRoute,
    Traveller,
    Trip,
    Vehicle,
)
from models.base import utcnow
from services.audit import audit
from services.shared.pagination import Page, order_by_sort, paginate
from services.transport import timetable
from services.transport.access import check_company, company_scope, require_manager

# docs/transport.md "Trips": the status steps a trip may take.
STATUS_FLOW = {
    "scheduled": ("departed", "cancelled"),
    "departed": ("arrived",),
    "arrived": (),
    "cancelled": (),
}
SORTABLE = ("departure_at", "service_date", "created_at")
DEFAULT_SORT = "departure_at"


def sold_tickets(trip_id: int, now: datetime | None = None) -> int:
    """How many tickets are sold or being sold on trip `trip_id`: its tickets not
    cancelled (valid, boarded, no-show) plus the passengers of its held bookings
    whose hold has not run out by `now` (default the current time; they get their
    tickets when paid). Cancelling, deleting a trip and changing its vehicle ask it
    (docs/transport.md "Trips", "Cancelling a trip")."""
    now = now or utcnow()
    tickets = select(func.count(Ticket.id)).where(
        Ticket.trip_id == trip_id, Ticket.status != "cancelled"
    )
    holding = (
        select(func.count(Traveller.id))
        .join(Booking, Booking.id == Traveller.booking_id)
        .where(
            Booking.trip_id == trip_id,
            Booking.status == "held",
            or_(Booking.hold_expires_at.is_(None), Booking.hold_expires_at > now),
        )
    )
    return int(db.session.scalar(tickets)) + int(db.session.scalar(holding))


# --- stop times -----------------------------------------------------------------


@dataclass(frozen=True)
class PatternStop:
    """One call of a stop-time pattern: the station (id, IANA timezone), its local
    GTFS texts (normalised, e.g. `09:05`) and seconds after the service day's
    start of its own zone."""

    station_id: int
    timezone: str
    arrival: str
    departure: str
    arrival_s: int
    departure_s: int


def route_stations(route: TransportRoute) -> list[Station]:
    """The stations of `route` in its order (positions ascending)."""
    return [stop.station for stop in route.stops]


def pattern(
    route: TransportRoute, stop_times: list[dict], field: str = "stop_times"
) -> list[PatternStop]:
    """Check a stop-time list `[{station_id, arrival?, departure?}]` against the
    route (one per route stop, same stations, same order; docs/transport.md
    "Trips") and parse its local times (timetable.parse_time; a missing arrival or
    departure equals the other).

    Raises ValidationFailed (422) keyed `stop_times` (count),
    `stop_times.<i>.station_id` (a station out of order) or
    `stop_times.<i>.arrival|departure` (a bad time, or a departure before the
    arrival at the same stop)."""
    stations = route_stations(route)
    if len(stop_times) != len(stations):
        raise ValidationFailed(
            {
                field: [
                    _(
                        "The route has %(count)s stops: give one stop time for "
                        "each, in the route's order.",
                        count=len(stations),
                    )
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    calls = []
    for index, (given, station) in enumerate(zip(stop_times, stations, strict=True)):
        if given["station_id"] != station.id:
            errors[f"{field}.{index}.station_id"] = [
                _(
                    "Stop %(index)s of the route is station %(station)s "
                    "(%(code)s); stop times follow the route's stops in order.",
                    index=index,
                    station=station.id,
                    code=station.code,
                )
            ]
            continue
        call = _parse_call(given, station, f"{field}.{index}", errors)
        if call is not None:
            calls.append(call)
    if errors:
        raise ValidationFailed(errors)
    return calls


def _parse_call(given: dict, station: Station, key: str, errors: dict):
    """The PatternStop of one given stop time, or None with `errors` filled."""
    arrival = given.get("arrival") or given.get("departure")
    departure = given.get("departure") or given.get("arrival")
    try:
        arrival_s = timetable.parse_time(arrival)
    except ValueError as exc:
        errors[f"{key}.arrival"] = [str(exc)]
        return None
    try:
        departure_s = timetable.parse_time(departure)
    except ValueError as exc:
        errors[f"{key}.departure"] = [str(exc)]
        return None
    return PatternStop(
        station_id=station.id,
        timezone=station.timezone,
        arrival=timetable.format_time(arrival_s),
        departure=timetable.format_time(departure_s),
        arrival_s=arrival_s,
        departure_s=departure_s,
    )


def instants(
    calls: list[PatternStop], service_date: date, field: str = "stop_times"
) -> list[dict]:
    """The stop-time rows of `calls` on `service_date`: `{station_id, sequence
    (0 first), arrival_local, departure_local, arrival_at, departure_at}` with the
    aware UTC instants of each station's zone (timetable.to_utc).

    Raises ValidationFailed (422) on `stop_times.<i>.arrival` or `.departure`
    (naming the index and the date) when a time goes backwards in UTC: a departure
    before its arrival, or an arrival before the previous stop's departure
    (docs/transport.md "Times")."""
    rows = []
    errors: dict[str, list[str]] = {}
    previous: datetime | None = None
    starts: dict[str, datetime] = {}
    for sequence, call in enumerate(calls):
        start = starts.get(call.timezone)
        if start is None:
            start = starts[call.timezone] = timetable.day_start(
                service_date, call.timezone
            )
        arrival_at = start + _seconds(call.arrival_s)
        departure_at = start + _seconds(call.departure_s)
        if previous is not None and arrival_at < previous:
            errors[f"{field}.{sequence}.arrival"] = [
                _(
                    "On %(date)s, %(arrival)s here is %(arrival_at)s UTC, before the "
                    "departure from stop %(stop)s (%(departure_at)s UTC): times must "
                    "not go backwards in UTC.",
                    date=service_date,
                    arrival=call.arrival,
                    arrival_at=arrival_at.strftime("%H:%M"),
                    stop=sequence - 1,
                    departure_at=previous.strftime("%H:%M"),
                )
            ]
        if departure_at < arrival_at:
            errors[f"{field}.{sequence}.departure"] = [
                _(
                    "Departure %(departure)s is before the arrival %(arrival)s.",
                    departure=call.departure,
                    arrival=call.arrival,
                )
            ]
        previous = departure_at
        rows.append(
            {
                "station_id": call.station_id,
                "sequence": sequence,
                "arrival_local": call.arrival,
                "departure_local": call.departure,
                "arrival_at": arrival_at,
                "departure_at": departure_at,
            }
        )
    if errors:
        raise ValidationFailed(errors)
    return rows


def _seconds(value: int) -> timedelta:
    """A timedelta of `value` seconds."""
    return timedelta(seconds=value)


# --- lookups shared with schedules ----------------------------------------------


def route_for_write(actor, route_id: int) -> TransportRoute:
    """The route `route_id` with its stops and stations, for a manager (`actor`)
    allowed to plan on it: Forbidden (403) unless a manager; NotFound (404,
    "Route") when it does not exist or is another company's and the actor is an
    operator (docs/transport.md "Companies and operators")."""
    require_manager(actor)
    route = db.session.get(
        TransportRoute,
        route_id,
        options=[selectinload(TransportRoute.stops).joinedload(RouteStop.station)],
    )
    if route is None:
        raise NotFound("Route")
    check_company(actor, route.company_id, "Route")
    return route


def check_vehicle(route: TransportRoute, vehicle_id: int | None) -> None:
    """ValidationFailed (422, `vehicle_id`) unless vehicle `vehicle_id` (None: no
    vehicle, always fine) exists in the route's company, is active and has the
    route's mode (docs/transport.md "Trips")."""
    if vehicle_id is None:
        return
    vehicle = db.session.get(Vehicle, vehicle_id)
    if vehicle is None or vehicle.company_id != route.company_id:
        raise ValidationFailed(
            {"vehicle_id": [_("No vehicle with this id in the route's company.")]}
        )
    if vehicle.mode != route.mode:
        raise ValidationFailed(
            {
                "vehicle_id": [
                    _(
                        "A %(vehicle_mode)s cannot run this %(route_mode)s route: "
                        "the vehicle's mode must be the route's.",
                        vehicle_mode=vehicle.mode,
                        route_mode=route.mode,
                    )
                ]
            }
        )
    if not vehicle.active:
        raise ValidationFailed({"vehicle_id": [_("The vehicle is inactive.")]})


# --- reads ----------------------------------------------------------------------


def list_trips(
    *,
    actor,
    route_id: int | None = None,
    vehicle_id: int | None = None,
    schedule_id: int | None = None,
    service_date: date | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    status: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of trips `actor` may see (an operator: its company's only), earliest
    departure first unless `sort` (SORTABLE). Filters: route, vehicle, schedule,
    `service_date`, service dates `date_from`..`date_to` (both included), `status`.
    Raises ValidationFailed (422) for an unknown sort or a bad cursor."""
    stmt = select(Trip).options(joinedload(Trip.route))
    scope = company_scope(actor)
    if scope is not None:
        stmt = stmt.where(
            Trip.route_id.in_(
                select(TransportRoute.id).where(TransportRoute.company_id == scope)
            )
        )
    filters = {
        Trip.route_id: route_id,
        Trip.vehicle_id: vehicle_id,
        Trip.schedule_id: schedule_id,
        Trip.service_date: service_date,
        Trip.status: status,
    }
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if date_from is not None:
        stmt = stmt.where(Trip.service_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Trip.service_date <= date_to)
    stmt = order_by_sort(stmt, Trip, sort or DEFAULT_SORT, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_trip(*, actor, trip_id: int) -> Trip:
    """The trip `trip_id` with its route and stop times (and their stations).
    Raises NotFound (404) when it does not exist or is another company's and
    `actor` is an operator."""
    trip = db.session.get(
        Trip,
        trip_id,
        options=[
            joinedload(Trip.route),
            selectinload(Trip.stop_times).joinedload(StopTime.station),
        ],
        populate_existing=True,
    )
    if trip is None:
        raise NotFound("Trip")
    check_company(actor, trip.route.company_id, "Trip")
    return trip


def _trip_for_write(actor, trip_id: int) -> Trip:
    """get_trip for a manager: Forbidden (403) for other roles."""
    require_manager(actor)
    return get_trip(actor=actor, trip_id=trip_id)


# --- writes ---------------------------------------------------------------------


def create_trip(
    *,
    actor,
    route_id: int,
    service_date: date,
    stop_times: list[dict],
    vehicle_id: int | None = None,
    headsign: str | None = None,
    facts: audit.RequestFacts | None = None,
) -> Trip:
    """Create a `scheduled` trip of route `route_id` on `service_date` and commit.

    `stop_times` `[{station_id, arrival?, departure?}]` are local GTFS times of each
    station's timezone, one per route stop in the route's order; they are stored
    with their UTC instants, and the trip's `departure_at` / `arrival_at` are the
    first departure and the last arrival (docs/transport.md "Trips", "Times").

    Raises Forbidden (403) for a non-manager; NotFound (404) for an unknown route or
    another company's (operator); ValidationFailed (422) for a vehicle of another
    company, another mode or inactive, stop times not following the route, bad
    times or times going backwards in UTC.
    """
    route = route_for_write(actor, route_id)
    check_vehicle(route, vehicle_id)
    rows = instants(pattern(route, stop_times), service_date)
    trip = Trip(
        route_id=route.id,
        vehicle_id=vehicle_id,
        service_date=service_date,
        status="scheduled",
        headsign=headsign,
        departure_at=rows[0]["departure_at"],
        arrival_at=rows[-1]["arrival_at"],
    )
    trip.stop_times = [StopTime(**row) for row in rows]
    db.session.add(trip)
    db.session.flush()
    audit.record(
        "trip.created",
        entity_type="transport_trip",
        entity_id=trip.id,
        facts=facts,
        actor=actor,
        details={"route_id": route.id, "service_date": service_date},
    )
    db.session.commit()
    return get_trip(actor=actor, trip_id=trip.id)


def update_trip(
    *,
    actor,
    trip_id: int,
    changes: dict,
    facts: audit.RequestFacts | None = None,
) -> Trip:
    """Apply `changes` (`status`, `vehicle_id`, `headsign`) to a trip and commit.

    Status steps follow STATUS_FLOW (docs/transport.md "Trips"); cancelling is
    refused once tickets exist (`sold_tickets`). The vehicle changes only while the
    trip is `scheduled` and has no tickets, to a vehicle check_vehicle accepts.

    Raises Forbidden (403), NotFound (404); Conflict (409) `trip-status` for a step
    not allowed (with `current_status` and `allowed`), `trip-has-tickets`,
    `trip-not-scheduled` (vehicle change after departure), or `conflict` when a
    concurrent request changed the status first; ValidationFailed (422) for the
    vehicle.
    """
    trip = _trip_for_write(actor, trip_id)
    values = {}
    if "vehicle_id" in changes and changes["vehicle_id"] != trip.vehicle_id:
        _check_vehicle_change(trip, changes["vehicle_id"])
        values["vehicle_id"] = changes["vehicle_id"]
    if "headsign" in changes:
        values["headsign"] = changes["headsign"]
    new_status = changes.get("status")
    if new_status is not None:
        _check_step(trip, new_status)
        values["status"] = new_status
    if values:
        _conditional_update(trip, values)
        audit.record(
            "trip.updated",
            entity_type="transport_trip",
            entity_id=trip.id,
            facts=facts,
            actor=actor,
            details={**values, "previous_status": trip.status},
        )
        db.session.commit()
    return get_trip(actor=actor, trip_id=trip_id)


def _check_vehicle_change(trip: Trip, vehicle_id: int | None) -> None:
    """Conflict (409) unless the trip is scheduled without tickets; then the
    vehicle rules of check_vehicle (422)."""
    if trip.status != "scheduled":
        raise Conflict(
            _(
                "The trip is %(status)s: its vehicle can no longer change.",
                status=trip.status,
            ),
            code="trip-not-scheduled",
        )
    if sold_tickets(trip.id):
        raise Conflict(
            _("Tickets are sold on this trip: its vehicle cannot change."),
            code="trip-has-tickets",
        )
    check_vehicle(trip.route, vehicle_id)


def _check_step(trip: Trip, new_status: str) -> None:
    """Conflict (409) unless `new_status` is a step STATUS_FLOW allows from the
    trip's status, and, for `cancelled`, no ticket is sold."""
    allowed = STATUS_FLOW[trip.status]
    if new_status not in allowed:
        raise Conflict(
            _(
                "A %(status)s trip cannot become %(new_status)s.",
                status=trip.status,
                new_status=new_status,
            ),
            code="trip-status",
            extra={"current_status": trip.status, "allowed": list(allowed)},
        )
    if new_status == "cancelled" and sold_tickets(trip.id):
        raise Conflict(
            _(
                "Tickets are sold on this trip: cancel it with POST "
                "/api/v1/transport/trips/%(trip)s/cancel, which cancels every "
                "booking on it and refunds it in full.",
                trip=trip.id,
            ),
            code="trip-has-tickets",
            extra={"cancel_url": f"/api/v1/transport/trips/{trip.id}/cancel"},
        )


def _conditional_update(trip: Trip, values: dict) -> None:
    """UPDATE the trip guarded on the status read, so two concurrent steps cannot
    both win; Conflict (409) when the status changed meanwhile."""
    result = db.session.execute(
        update(Trip)
        .where(Trip.id == trip.id, Trip.status == trip.status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict(
            _("The trip changed while this request ran; reload it and retry.")
        )


def delete_trip(
    *, actor, trip_id: int, facts: audit.RequestFacts | None = None
) -> None:
    """Delete a `scheduled` trip without tickets, with its stop times, and commit.

    Raises Forbidden (403), NotFound (404); Conflict (409) `trip-not-scheduled`
    once it departed, arrived or was cancelled, `trip-has-tickets` once tickets
    exist (docs/transport.md "Trips")."""
    trip = _trip_for_write(actor, trip_id)
    if trip.status != "scheduled":
        raise Conflict(
            _(
                "The trip is %(status)s; only scheduled trips can be deleted.",
                status=trip.status,
            ),
            code="trip-not-scheduled",
        )
    if sold_tickets(trip.id):
        raise Conflict(
            _("Tickets are sold on this trip; it cannot be deleted."),
            code="trip-has-tickets",
        )
    audit.record(
        "trip.deleted",
        entity_type="transport_trip",
        entity_id=trip.id,
        facts=facts,
        actor=actor,
        details={"route_id": trip.route_id, "service_date": trip.service_date},
    )
    db.session.execute(delete(StopTime).where(StopTime.trip_id == trip.id))
    deleted = db.session.execute(
        delete(Trip)
        .where(Trip.id == trip.id, Trip.status == "scheduled")
        .execution_options(synchronize_session=False)
    )
    if deleted.rowcount != 1:
        db.session.rollback()
        raise Conflict(
            _("The trip changed while this request ran; reload it and retry.")
        )
    db.session.commit()
