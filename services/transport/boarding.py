"""Boarding, the trip manifest and no-shows (docs/transport.md "Tickets and
boarding").

Boarding reads a scanned barcode: its signature must verify
(services.transport.ticket_signing) and its payload must still be the ticket's;
the ticket must be on the trip being boarded (`trip_id`, when given) and boarded
at its origin (`station_id`, when given). The change itself is a conditional UPDATE
(`valid` -> `boarded`), so of two scanners reading one ticket at once exactly one
boards it and the other gets 409 `already-boarded`.

Who: admin, operation, operation_head, and an operator for its own company's
trips (another company's ticket or trip answers 404, as if it did not exist:
docs/transport.md "Companies and operators").

No-shows: once a stop's departure time has passed, the `valid` tickets boarding
there (or earlier) were never scanned; one UPDATE marks them `no_show`.
"""

from sqlalchemy import select, update

from core.errors import APIError, Conflict, Forbidden, NotFound
from core.extensions import db
from core.i18n import _
from models import Booking, StopTime, Ticket, Traveller, Trip
from models.base import utcnow
from services.audit import audit
from services.messaging import webhooks
from services.transport import ticket_signing, tickets, timetable, trips
from services.transport.access import check_company

# Who scans tickets, reads manifests and marks no-shows (an operator: its company's).
BOARDING_ROLES = ("admin", "operation", "operation_head", "operator")


class TicketRefused(APIError):
    """422 for a ticket that cannot board here: `code` says why (`ticket-cancelled`,
    `ticket-not-valid`, `wrong-trip`, `wrong-station`), `errors` names the field."""

    def __init__(self, detail: str, *, code: str, field: str, number: str):
        super().__init__(
            422,
            detail,
            code=code,
            extra={"errors": {field: [detail]}, "number": number},
        )


def require_boarding_role(actor) -> None:
    """Forbidden (403) unless `actor` is one of BOARDING_ROLES."""
    if actor is None or getattr(actor, "role", None) not in BOARDING_ROLES:
        raise Forbidden(
            _("Only admin, operation staff and operators board passengers.")
        )


def _scanned_ticket(actor, code: str) -> Ticket:
    """The ticket of barcode `code`: signature verified (422 `barcode-invalid`),
    present (404), readable by `actor` (another company's: 404) and still carrying
    the signed data (a payload that no longer matches: 422 `barcode-invalid`)."""
    signed = ticket_signing.verify(code)
    ticket = tickets.find_ticket(str(signed["n"])) if signed["n"] else None
    if ticket is None:
        raise NotFound("Ticket")
    check_company(actor, ticket.trip.route.company_id, "Ticket")
    if signed != ticket_signing.payload(ticket):
        raise ticket_signing.BarcodeInvalid(
            _("The barcode does not match the ticket any more: use the current one.")
        )
    return ticket


def _check_place(ticket: Ticket, trip_id: int | None, station_id: int | None) -> None:
    """TicketRefused (422) `wrong-trip` when `trip_id` is given and is not the
    ticket's trip, `wrong-station` when `station_id` is given and is not where the
    ticket boards."""
    booking = ticket.booking
    if trip_id is not None and trip_id != ticket.trip_id:
        raise TicketRefused(
            _(
                "Ticket %(number)s is for trip %(ticket_trip)s, not %(trip)s.",
                number=ticket.number,
                ticket_trip=ticket.trip_id,
                trip=trip_id,
            ),
            code="wrong-trip",
            field="trip_id",
            number=ticket.number,
        )
    if station_id is not None and station_id != booking.from_station_id:
        raise TicketRefused(
            _(
                "Ticket %(number)s boards at %(code)s, not at station %(station)s.",
                number=ticket.number,
                code=booking.from_station.code,
                station=station_id,
            ),
            code="wrong-station",
            field="station_id",
            number=ticket.number,
        )


def _refuse_status(ticket: Ticket) -> None:
    """The answer for a ticket that is not `valid`: 409 `already-boarded` (with
    `boarded_at`), 422 `ticket-cancelled` or `ticket-not-valid` (a no-show)."""
    if ticket.status == "boarded":
        raise Conflict(
            _("Ticket %(number)s was already boarded.", number=ticket.number),
            code="already-boarded",
            extra={
                "number": ticket.number,
                "boarded_at": ticket.boarded_at.isoformat()
                if ticket.boarded_at
                else None,
            },
        )
    if ticket.status == "cancelled":
        raise TicketRefused(
            _("Ticket %(number)s is cancelled.", number=ticket.number),
            code="ticket-cancelled",
            field="barcode",
            number=ticket.number,
        )
    raise TicketRefused(
        _(
            "Ticket %(number)s is %(status)s: it cannot board.",
            number=ticket.number,
            status=ticket.status,
        ),
        code="ticket-not-valid",
        field="barcode",
        number=ticket.number,
    )


def _check_booking_live(ticket: Ticket) -> None:
    """TicketRefused (422) `ticket-cancelled` for a `valid` ticket whose booking or
    trip is cancelled (cancelling voids its tickets; this keeps a ticket from
    boarding should one have been missed)."""
    if ticket.booking.status == "cancelled" or ticket.trip.status == "cancelled":
        if ticket.booking.status == "cancelled":
            detail = _(
                "Ticket %(number)s is cancelled with its booking.", number=ticket.number
            )
        else:
            detail = _(
                "Ticket %(number)s is cancelled with its trip.", number=ticket.number
            )
        raise TicketRefused(
            detail,
            code="ticket-cancelled",
            field="barcode",
            number=ticket.number,
        )


def board(
    *,
    actor,
    barcode: str,
    trip_id: int | None = None,
    station_id: int | None = None,
    facts: audit.RequestFacts | None = None,
) -> dict:
    """Board the ticket of scanned `barcode` and commit; its answer
    (tickets.ticket_view) with status `boarded` and `boarded_at`.

    `trip_id`: the trip being boarded; `station_id`: where the scanner is (both
    optional, checked when given); the ticket's origin is recorded as the station.
    Audited (`ticket.boarded`), webhook `ticket.boarded`.
    Raises Forbidden (403) outside BOARDING_ROLES; NotFound (404) for an unknown
    ticket or another company's (operator); 422 `barcode-invalid`, `wrong-trip`,
    `wrong-station`, `ticket-cancelled` (also a valid ticket of a cancelled booking
    or trip), `ticket-not-valid`; Conflict (409)
    `already-boarded` with `boarded_at` (also when another scanner won the race).
    docs/transport.md "Tickets and boarding"."""
    require_boarding_role(actor)
    ticket = _scanned_ticket(actor, barcode)
    _check_place(ticket, trip_id, station_id)
    if ticket.status != "valid":
        _refuse_status(ticket)
    _check_booking_live(ticket)
    now = utcnow()
    boarded = db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == "valid")
        .values(
            status="boarded",
            boarded_at=now,
            boarded_station_id=ticket.booking.from_station_id,
            boarded_by_id=actor.id,
        )
        .execution_options(synchronize_session=False)
    )
    if boarded.rowcount != 1:
        db.session.rollback()
        _refuse_status(db.session.get(Ticket, ticket.id, populate_existing=True))
    audit.record(
        "ticket.boarded",
        entity_type="transport_ticket",
        entity_id=ticket.id,
        facts=facts,
        actor=actor,
        details={
            "number": ticket.number,
            "trip_id": ticket.trip_id,
            "station_id": ticket.booking.from_station_id,
        },
    )
    webhooks.emit("ticket.boarded", resource="ticket", resource_id=ticket.id)
    db.session.commit()
    return tickets.ticket_view(
        db.session.get(
            Ticket, ticket.id, options=tickets.ticket_options(), populate_existing=True
        )
    )


# --- the manifest ---------------------------------------------------------------


def _trip_for(actor, trip_id: int) -> Trip:
    """The trip with route, company and stop times: Forbidden (403) outside
    BOARDING_ROLES, NotFound (404) when missing or another company's (operator)."""
    require_boarding_role(actor)
    return trips.get_trip(actor=actor, trip_id=trip_id)


def _passenger(ticket: Ticket, booking: Booking, traveller: Traveller, codes) -> dict:
    """One manifest line: ticket, passenger, seat and both ends' station codes."""
    return {
        "number": ticket.number,
        "passenger_name": traveller.name,
        "category": traveller.category,
        "seat_label": traveller.seat_label,
        "section_code": booking.section_code,
        "from_station_code": codes[booking.from_sequence],
        "to_station_code": codes[booking.to_sequence],
        "status": ticket.status,
        "boarded_at": ticket.boarded_at,
    }


def manifest(*, actor, trip_id: int) -> dict:
    """Who boards and alights at each stop of trip `trip_id` (tickets not
    cancelled), stops in sequence order: `{trip_id, route_code, service_date,
    status, stops: [{sequence, station_id, code, name, arrival_local,
    departure_local, boarding: [...], alighting: [...]}], counts: {status: n}}`;
    each line `{number, passenger_name, category, seat_label, section_code,
    from_station_code, to_station_code, status, boarded_at}`, ordered by section,
    seat and name. Raises Forbidden (403), NotFound (404) as `_trip_for`."""
    trip = _trip_for(actor, trip_id)
    codes = {stop.sequence: stop.station.code for stop in trip.stop_times}
    rows = db.session.execute(
        select(Ticket, Booking, Traveller)
        .join(Booking, Booking.id == Ticket.booking_id)
        .join(Traveller, Traveller.id == Ticket.traveller_id)
        .where(Ticket.trip_id == trip.id, Ticket.status != "cancelled")
        .order_by(
            Booking.section_code,
            Traveller.seat_label.is_(None),
            Traveller.seat_label,
            Traveller.name,
        )
    ).all()
    stops = [_stop(stop) for stop in trip.stop_times]
    by_sequence = {stop["sequence"]: stop for stop in stops}
    counts: dict[str, int] = {}
    for ticket, booking, traveller in rows:
        line = _passenger(ticket, booking, traveller, codes)
        by_sequence[booking.from_sequence]["boarding"].append(line)
        by_sequence[booking.to_sequence]["alighting"].append(line)
        counts[ticket.status] = counts.get(ticket.status, 0) + 1
    return {
        "trip_id": trip.id,
        "route_code": trip.route.code,
        "service_date": trip.service_date,
        "status": trip.status,
        "departure_at": trip.departure_at,
        "stops": stops,
        "counts": counts,
    }


def _stop(stop: StopTime) -> dict:
    """A manifest stop without its passengers yet."""
    tz = stop.station.timezone
    return {
        "sequence": stop.sequence,
        "station_id": stop.station_id,
        "code": stop.station.code,
        "name": stop.station.name,
        "arrival_local": timetable.local_clock(stop.arrival_at, tz),
        "departure_local": timetable.local_clock(stop.departure_at, tz),
        "boarding": [],
        "alighting": [],
    }


def manifest_rows(data: dict):
    """The manifest as flat rows for CSV, stop by stop, those alighting before
    those boarding: `{sequence, station_code, station_name, departure_local,
    event (alight|board), number, passenger_name, category, section_code,
    seat_label, from_station_code, to_station_code, status, boarded_at}`."""
    for stop in data["stops"]:
        for event, key in (("alight", "alighting"), ("board", "boarding")):
            for line in stop[key]:
                yield {
                    "sequence": stop["sequence"],
                    "station_code": stop["code"],
                    "station_name": stop["name"],
                    "departure_local": stop["departure_local"],
                    "event": event,
                    **line,
                }


MANIFEST_COLUMNS = (
    "sequence",
    "station_code",
    "station_name",
    "departure_local",
    "event",
    "number",
    "passenger_name",
    "category",
    "section_code",
    "seat_label",
    "from_station_code",
    "to_station_code",
    "status",
    "boarded_at",
)


# --- no-shows -------------------------------------------------------------------


def mark_no_shows(
    *, actor, trip_id: int, facts: audit.RequestFacts | None = None
) -> dict:
    """Mark `no_show` every `valid` ticket of trip `trip_id` boarding at a stop whose
    departure time has passed, in one UPDATE, and commit: `{trip_id, marked,
    through_sequence}` (the last stop departed). Idempotent: a second call marks
    only tickets whose stop departed since (0 when none). Audited
    (`trip.no_shows_marked`) when it marked any.

    Raises Forbidden (403), NotFound (404) as `_trip_for`; Conflict (409)
    `trip-not-departed` (with `departure_at`) before the trip's first departure.
    docs/transport.md "Tickets and boarding"."""
    trip = _trip_for(actor, trip_id)
    now = utcnow()
    departed = [stop.sequence for stop in trip.stop_times if stop.departure_at <= now]
    if trip.departure_at > now or not departed:
        raise Conflict(
            _("The trip has not departed yet: no-shows are marked after departure."),
            code="trip-not-departed",
            extra={"departure_at": trip.departure_at.isoformat()},
        )
    through = max(departed)
    boarding_departed = select(Booking.id).where(
        Booking.trip_id == trip.id, Booking.from_sequence <= through
    )
    result = db.session.execute(
        update(Ticket)
        .where(
            Ticket.trip_id == trip.id,
            Ticket.status == "valid",
            Ticket.booking_id.in_(boarding_departed),
        )
        .values(status="no_show")
        .execution_options(synchronize_session=False)
    )
    marked = result.rowcount
    if marked:
        audit.record(
            "trip.no_shows_marked",
            entity_type="transport_trip",
            entity_id=trip.id,
            facts=facts,
            actor=actor,
            details={"marked": marked, "through_sequence": through},
        )
    db.session.commit()
    return {"trip_id": trip.id, "marked": marked, "through_sequence": through}
