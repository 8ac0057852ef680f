"""The booking confirmation and ticket PDFs of stored rows, without access rules
(docs/documents.md "Booking confirmations and tickets").

`render_confirmation(booking)` and `render_ticket(ticket)` render in the language
in force (core.i18n: the caller's, or the one an `in_locale` block sets), with a QR
code (ISO/IEC 18004, core.pdf) of the booking reference or of the ticket's signed
barcode (services.transport.ticket_signing). Who may read them is decided by the
callers: services.documents.booking_documents (the API) and
services.documents.attachments (mail sent through the outbox).

This module imports no service that queues mail, so the outbox may render
attachments through it without an import cycle.
"""

from datetime import datetime

from babel import dates
from flask import current_app

from core.i18n import _l, current_locale, date_text, format_date, localized, money
from core.pdf import qr_svg_data_uri, render_pdf
from models import Booking, Ticket
from services.transport import ticket_signing, timetable

BOOKING_STATUSES = {
    "held": _l("Held"),
    "confirmed": _l("Confirmed"),
    "completed": _l("Completed"),
    "expired": _l("Expired"),
    "cancelled": _l("Cancelled"),
}
TICKET_STATUSES = {
    "valid": _l("Valid"),
    "boarded": _l("Boarded"),
    "cancelled": _l("Ticket cancelled"),
    "no_show": _l("No-show"),
}
CATEGORIES = {
    "adult": _l("Adult"),
    "child": _l("Child"),
    "infant": _l("Infant"),
}


def _label(labels: dict, value: str) -> str:
    """The translated label of a known status or category, else `value` itself."""
    label = labels.get(value)
    return str(label) if label is not None else value


def booking_status_label(status: str) -> str:
    """A booking status (`confirmed`, ...) as a word of the current language."""
    return _label(BOOKING_STATUSES, status)


def local_time(instant: datetime, tz: str) -> str:
    """`instant` (aware UTC) on the wall clock of IANA zone `tz`, as the current
    locale writes a medium date with a short time (CLDR dateTimeFormat), with the
    zone's abbreviation: `Mar 12, 2027, 8:00 AM GMT` (en), `12.03.2027, 08:00 GMT`
    (de)."""
    local = timetable.local_clock(instant, tz)
    locale = current_locale()
    pattern = dates.get_datetime_format("medium", locale=locale)
    text = pattern.replace("'", "").format(
        dates.format_time(local, "short", locale=locale),
        dates.format_date(local, "medium", locale=locale),
    )
    return f"{text} {local.strftime('%Z')}".strip()


def _company() -> dict:
    """The seller shown at the top of every document (config COMPANY_*)."""
    config = current_app.config
    return {
        "name": config.get("COMPANY_NAME") or "Easy Travels",
        "address": config.get("COMPANY_ADDRESS") or "",
        "email": config.get("COMPANY_EMAIL") or "",
    }


def _station_name(station) -> str:
    """A station's name in the current language (Station.translations)."""
    return localized(station.name, "name", station.translations)


def _ride(booking: Booking) -> dict:
    """What a trip booking bought: company, route, section and both ends with
    their local times."""
    trip = booking.trip
    calls = {stop.sequence: stop for stop in trip.stop_times}
    start, end = calls[booking.from_sequence], calls[booking.to_sequence]
    return {
        "company": trip.route.company.name,
        "route_code": trip.route.code,
        "route_name": trip.route.name,
        "service_date": date_text(trip.service_date),
        "section": booking.section_code,
        "from_name": _station_name(start.station),
        "to_name": _station_name(end.station),
        "departure": local_time(start.departure_at, start.station.timezone),
        "arrival": local_time(end.arrival_at, end.station.timezone),
    }


def _package(booking: Booking) -> dict:
    """What a package booking bought: the title in the current language and the
    departure's dates."""
    departure = booking.departure
    package = departure.package
    return {
        "title": localized(package.title, "title", package.translations),
        "start": date_text(departure.start_date),
        "end": date_text(departure.end_date) if departure.end_date else "",
    }


def confirmation_context(booking: Booking) -> dict:
    """The values confirmation.html shows (also for tests): company, reference,
    QR code, status, customer, package or ride, travellers and the money in the
    booking's currency formatted for the current locale."""
    currency = booking.currency
    due = booking.total_amount - booking.amount_paid
    return {
        "company": _company(),
        "reference": booking.reference,
        "qr": qr_svg_data_uri(booking.reference),
        "status": _label(BOOKING_STATUSES, booking.current_status),
        "customer": booking.customer.name,
        "package": _package(booking) if booking.kind == "package" else None,
        "ride": _ride(booking) if booking.kind == "trip" else None,
        "seats": booking.seats,
        "travellers": [
            {
                "name": traveller.name,
                "category": _label(CATEGORIES, traveller.category),
                "seat": traveller.seat_label or "",
            }
            for traveller in booking.travellers
        ],
        "total": money(booking.total_amount, currency),
        "paid": money(booking.amount_paid, currency),
        "due": money(due, currency),
        "balance_due_date": (
            date_text(booking.balance_due_date)
            if booking.balance_due_date and due > 0
            else ""
        ),
        "confirmed_at": (
            format_date(booking.confirmed_at) if booking.confirmed_at else ""
        ),
    }


def render_confirmation(booking: Booking) -> tuple[bytes, str]:
    """The confirmation PDF of `booking` in the current language and its file name
    `confirmation-<reference>.pdf`. No access or status check."""
    context = confirmation_context(booking)
    pdf = render_pdf(
        "documents/confirmation.html",
        locale=current_locale(),
        footer=f"{context['company']['name']} · {booking.reference}",
        **context,
    )
    return pdf, f"confirmation-{booking.reference}.pdf"


def ticket_context(ticket: Ticket) -> dict:
    """The values ticket.html shows: number, signed barcode and its QR code,
    passenger, seat, trip, both ends with local times, status."""
    booking, traveller = ticket.booking, ticket.traveller
    code = ticket_signing.barcode(ticket)
    return {
        "company": _company(),
        "number": ticket.number,
        "barcode": code,
        "qr": qr_svg_data_uri(code),
        "reference": booking.reference,
        "status": _label(TICKET_STATUSES, ticket.status),
        "passenger": traveller.name,
        "category": _label(CATEGORIES, traveller.category),
        "seat": traveller.seat_label or "",
        "ride": _ride(booking),
    }


def render_ticket(ticket: Ticket) -> tuple[bytes, str]:
    """The PDF of one ticket in the current language and its file name
    `ticket-<number>.pdf`. No access or status check."""
    context = ticket_context(ticket)
    pdf = render_pdf(
        "documents/ticket.html",
        locale=current_locale(),
        footer=f"{context['company']['name']} · {ticket.number}",
        **context,
    )
    return pdf, f"ticket-{ticket.number}.pdf"
