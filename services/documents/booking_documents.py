"""Booking confirmations and tickets as PDF for the API (docs/documents.md
"Booking confirmations and tickets"): `GET /api/v1/bookings/<id>/confirmation.pdf`
and `GET /api/v1/tickets/<number>.pdf`.

Who reads them is who reads the booking or the ticket: a confirmation follows
GET /bookings/<id> (services.booking.bookings.get_booking: staff, a customer only
their own, 404 otherwise), a ticket follows GET /tickets/<number>
(services.transport.tickets.check_reader: the owner, TICKET_STAFF, the trip
company's operator). The PDF is in the caller's language (core.i18n); the
rendering is services.documents.booking_pdfs.
"""

from core.errors import Conflict, NotFound
from core.i18n import _
from services.booking import bookings
from services.documents import booking_pdfs
from services.transport import tickets

# A confirmation exists once the booking is confirmed (and stays after the trip).
CONFIRMED_STATUSES = ("confirmed", "completed")
# A ticket is printed while it can still be used, or after it was (boarded).
PRINTABLE_TICKETS = ("valid", "boarded")


def confirmation_pdf(account, booking_id: int) -> tuple[bytes, str]:
    """The confirmation PDF of booking `booking_id` for `account` (a Customer or
    an Employee) in the current language, and its file name
    `confirmation-<reference>.pdf`.

    Raises NotFound (404) for an unknown booking or another customer's; Conflict
    (409 `booking-not-confirmed`, with `booking_status`) unless the booking is
    confirmed or completed (a lapsed hold reads `expired`)."""
    booking = bookings.get_booking(account=account, booking_id=booking_id)
    if booking.current_status not in CONFIRMED_STATUSES:
        raise Conflict(
            _(
                "Booking %(reference)s has no confirmation: its status is %(status)s.",
                reference=booking.reference,
                status=booking_pdfs.booking_status_label(booking.current_status),
            ),
            code="booking-not-confirmed",
            extra={"booking_status": booking.current_status},
        )
    return booking_pdfs.render_confirmation(booking)


def ticket_pdf(account, number: str) -> tuple[bytes, str]:
    """The PDF of ticket `number` (or its id) for `account` in the current
    language, and its file name `ticket-<number>.pdf`.

    Raises NotFound (404) when there is no such ticket or `account` may not read it,
    Forbidden (403) for staff roles outside tickets.TICKET_STAFF (check_reader);
    Conflict (409 `ticket-cancelled`) for a cancelled ticket and (409
    `ticket-not-valid`) for a no-show, with `ticket_status`: only a valid or
    boarded ticket prints."""
    ticket = tickets.find_ticket(number)
    if ticket is None:
        raise NotFound("Ticket")
    tickets.check_reader(
        account, ticket.booking, ticket.trip.route.company_id, "Ticket"
    )
    if ticket.status not in PRINTABLE_TICKETS:
        cancelled = ticket.status == "cancelled"
        raise Conflict(
            _("Ticket %(number)s is cancelled.", number=ticket.number)
            if cancelled
            else _("Ticket %(number)s can no longer be used.", number=ticket.number),
            code="ticket-cancelled" if cancelled else "ticket-not-valid",
            extra={"ticket_status": ticket.status},
        )
    return booking_pdfs.render_ticket(ticket)
