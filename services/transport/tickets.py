"""Tickets of trip bookings (docs/transport.md "Tickets and boarding").

A confirmed trip booking has one ticket per passenger (an infant's has no seat),
numbered `TK-` + 10 characters of an alphabet without look-alikes (no 0/O, 1/I).
Tickets are written by `issue_tickets` inside the payment's transaction that
confirms the booking, mailed through the outbox and announced by one
`ticket.issued` webhook each; cancelling or expiring a booking voids its valid
ones (services.transport.seating.release). A ticket answers with its signed
barcode (services.transport.ticket_signing).

Who reads a ticket: the customer who owns the booking, the staff roles that read
bookings (TICKET_STAFF) and an operator for its own company's trips; anyone else
gets 404 as if the ticket did not exist (docs/transport.md "Companies and
operators"). A ticket's status moves `valid` -> `boarded` (services.transport.boarding),
`valid` -> `no_show` after departure, `valid` -> `cancelled`.
"""

import secrets

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.errors import Forbidden, NotFound
from core.extensions import db
from core.i18n import _
from models import Booking, StopTime, Ticket, TransportRoute, Trip
from models.account import is_staff
from services.documents.attachments import ticket_attachments
from services.messaging import notifications, webhooks
from services.transport import ticket_signing, timetable

# Ticket numbers: an unambiguous alphabet (digits 2-9, letters without I and O).
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
NUMBER_PREFIX = "TK-"
NUMBER_LENGTH = 10
# Staff roles that read every ticket (those that read bookings); an operator reads
# its own company's.
TICKET_STAFF = ("admin", "sales", "operation", "operation_head", "finance")
# Every role that may ask for a ticket (routes check it; the service narrows it).
TICKET_READERS = (*TICKET_STAFF, "operator", "customer")
# The largest id a PostgreSQL `integer` column holds (a bigger one is no ticket).
MAX_ID = 2147483647


def new_number() -> str:
    """A fresh random ticket number, `TK-` + 10 characters (about 50 bits)."""
    return NUMBER_PREFIX + "".join(
        secrets.choice(NUMBER_ALPHABET) for _position in range(NUMBER_LENGTH)
    )


def _fresh_numbers(count: int) -> list[str]:
    """`count` distinct numbers no stored ticket has (the UNIQUE constraint stays
    the guarantee; the check only keeps a rare collision from failing a payment)."""
    numbers: set[str] = set()
    while len(numbers) < count:
        wanted = {new_number() for _attempt in range(count - len(numbers))}
        taken = set(
            db.session.scalars(select(Ticket.number).where(Ticket.number.in_(wanted)))
        )
        numbers |= wanted - taken
    return sorted(numbers)[:count]


def ticket_options() -> list:
    """Loader options for what a ticket's answer shows: booking, passenger, trip
    with route, company and stop times with their stations."""
    trip = joinedload(Ticket.trip)
    return [
        joinedload(Ticket.booking),
        joinedload(Ticket.traveller),
        trip.joinedload(Trip.route).joinedload(TransportRoute.company),
        trip.selectinload(Trip.stop_times).joinedload(StopTime.station),
    ]


def _end(stop: StopTime, key: str) -> dict:
    """One end of the ride: the station and the UTC and local instants of `key`
    (`departure` at the origin, `arrival` at the destination)."""
    instant = getattr(stop, f"{key}_at")
    return {
        "station_id": stop.station_id,
        "code": stop.station.code,
        "name": stop.station.name,
        # The schema answers `name` in the caller's language (docs/i18n.md).
        "translations": stop.station.translations,
        f"{key}_at": instant,
        f"{key}_local": timetable.local_clock(instant, stop.station.timezone),
    }


def ticket_view(ticket: Ticket) -> dict:
    """The answer of one ticket (schemas.transport.tickets.TicketSchema): number,
    booking, passenger, trip, `from` / `to` with UTC and local times, section,
    seat, status, boarding time and the signed barcode."""
    booking, traveller, trip = ticket.booking, ticket.traveller, ticket.trip
    calls = {stop.sequence: stop for stop in trip.stop_times}
    return {
        "number": ticket.number,
        "booking_id": booking.id,
        "booking_reference": booking.reference,
        "passenger": {
            "name": traveller.name,
            "category": traveller.category,
            "birth_date": traveller.birth_date,
        },
        "trip": {
            "id": trip.id,
            "route_code": trip.route.code,
            "company_name": trip.route.company.name,
            "service_date": trip.service_date,
        },
        "from": _end(calls[booking.from_sequence], "departure"),
        "to": _end(calls[booking.to_sequence], "arrival"),
        "section_code": booking.section_code,
        "seat_label": traveller.seat_label,
        "status": ticket.status,
        "boarded_at": ticket.boarded_at,
        "barcode": ticket_signing.barcode(ticket),
    }


# --- issuing and cancelling (the caller's transaction) ------------------------


def issue_tickets(booking: Booking) -> list[Ticket]:
    """Issue one `valid` ticket per passenger of a trip booking being confirmed,
    queue the tickets mail with each ticket's PDF attached (notifications.
    tickets_issued; docs/documents.md "Mail attachments") and one `ticket.issued`
    webhook per ticket, in the caller's transaction (flush, no commit).

    Idempotent: a booking that already has tickets, or a package booking, gets
    none (returns []). docs/transport.md "Tickets and boarding"."""
    if booking.kind != "trip":
        return []
    if db.session.scalar(
        select(Ticket.id).where(Ticket.booking_id == booking.id).limit(1)
    ):
        return []
    travellers = list(booking.travellers)
    tickets = [
        Ticket(
            number=number,
            booking=booking,
            booking_id=booking.id,
            traveller=traveller,
            traveller_id=traveller.id,
            trip=booking.trip,
            trip_id=booking.trip_id,
            status="valid",
        )
        for number, traveller in zip(
            _fresh_numbers(len(travellers)), travellers, strict=True
        )
    ]
    db.session.add_all(tickets)
    db.session.flush()
    views = [ticket_view(t) for t in tickets]
    notifications.tickets_issued(booking, views, attachments=ticket_attachments(views))
    for ticket in tickets:
        webhooks.emit("ticket.issued", resource="ticket", resource_id=ticket.id)
    return tickets


# --- reading --------------------------------------------------------------------


def check_reader(actor, booking: Booking, company_id: int | None, what: str) -> None:
    """May `actor` read the tickets of `booking` (on a trip of company
    `company_id`)? The owner customer, TICKET_STAFF, an operator of that company.
    NotFound (404, named `what`) for another customer, another company's operator
    or nobody; Forbidden (403) for other staff roles."""
    if actor is None:
        raise NotFound(what)
    if not is_staff(actor):
        if booking.customer_id != actor.id:
            raise NotFound(what)
        return
    if actor.role == "operator":
        if company_id is None or company_id != actor.company_id:
            raise NotFound(what)
        return
    if actor.role not in TICKET_STAFF:
        raise Forbidden(_("The role '%(role)s' may not read tickets.", role=actor.role))


def booking_tickets(*, actor, booking_id: int) -> list[dict]:
    """The tickets of booking `booking_id` in passenger order, as ticket answers
    (GET /api/v1/bookings/<id>/tickets). Empty for a package booking and for a trip
    booking not confirmed yet.

    Raises NotFound (404) for an unknown booking or one `actor` may not see
    (another customer's; for an operator, one not on its company's trips);
    Forbidden (403) for staff roles outside TICKET_STAFF."""
    booking = db.session.get(
        Booking,
        booking_id,
        options=[joinedload(Booking.trip).joinedload(Trip.route)],
    )
    if booking is None:
        raise NotFound("Booking")
    company_id = booking.trip.route.company_id if booking.trip is not None else None
    check_reader(actor, booking, company_id, "Booking")
    tickets = db.session.scalars(
        select(Ticket)
        .where(Ticket.booking_id == booking.id)
        .options(*ticket_options())
        .order_by(Ticket.traveller_id)
    ).all()
    return [ticket_view(ticket) for ticket in tickets]


def find_ticket(reference: str) -> Ticket | None:
    """The ticket numbered `reference`, or whose id it is (webhook payloads link
    tickets by id, /api/v1/tickets/<id>); None when there is none."""
    stmt = select(Ticket).options(*ticket_options())
    if reference.isdigit():
        if len(reference) > 10 or int(reference) > MAX_ID:
            return None
        stmt = stmt.where(Ticket.id == int(reference))
    else:
        stmt = stmt.where(Ticket.number == reference.upper())
    return db.session.scalars(stmt.limit(1)).first()


def get_ticket(*, actor, number: str) -> dict:
    """The ticket `number` (or id) as its answer (GET /api/v1/tickets/<number>).
    Raises NotFound (404) when there is none or `actor` may not see it (check_reader),
    Forbidden (403) for staff roles outside TICKET_STAFF."""
    ticket = find_ticket(number)
    if ticket is None:
        raise NotFound("Ticket")
    check_reader(actor, ticket.booking, ticket.trip.route.company_id, "Ticket")
    return ticket_view(ticket)
