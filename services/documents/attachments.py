"""Mail attachments as small JSON specs, rendered when the mail is delivered
(docs/documents.md "Mail attachments").

An outbox mail row (services.messaging.outbox.enqueue_mail) stores in its payload
what to attach, never the bytes: `{"document": "confirmation", "booking_id": 12}`
or `{"document": "ticket", "number": "TK-..."}`. At delivery the worker calls
`render_attachment` for each, in the language of the booking's customer
(`Customer.locale`, else BABEL_DEFAULT_LOCALE) through core.i18n.in_locale, and
sends the files with the mail. A spec that names no document, or whose booking
or ticket no longer exists, raises AttachmentError (permanent: retrying cannot
help); any other rendering failure propagates and the outbox retries it like an
SMTP failure.

This module imports no service that queues mail (only models, core and
services.documents.booking_pdfs), so the outbox and the notifications may import
it without an import cycle.
"""

from sqlalchemy import select

from core.extensions import db
from core.i18n import in_locale
from core.pdf import PDF_MIMETYPE
from models import Booking, Ticket
from services.documents import booking_pdfs

DOCUMENTS = ("confirmation", "ticket")


class AttachmentError(Exception):
    """An attachment spec that cannot be rendered, ever: an unknown `document`,
    a malformed spec, or a booking or ticket that no longer exists. `permanent`
    is always True (the outbox marks the mail `dead` instead of retrying)."""

    permanent = True


def confirmation_spec(booking_id: int) -> dict:
    """The spec of a booking's confirmation PDF."""
    return {"document": "confirmation", "booking_id": booking_id}


def ticket_spec(number: str) -> dict:
    """The spec of one ticket's PDF."""
    return {"document": "ticket", "number": number}


def confirmation_attachments(booking: Booking, *, tickets: bool = True) -> list[dict]:
    """What a booking confirmation mail attaches (for
    services.messaging.notifications): the confirmation PDF and, for a trip
    booking when `tickets`, one ticket PDF per ticket issued so far (in passenger
    order; services.transport.tickets.issue_tickets flushes them before the
    payment queues the confirmation). JSON-able specs for
    `enqueue_mail(..., attachments=...)`."""
    specs = [confirmation_spec(booking.id)]
    if tickets and booking.kind == "trip":
        numbers = db.session.scalars(
            select(Ticket.number)
            .where(Ticket.booking_id == booking.id)
            .order_by(Ticket.traveller_id)
        )
        specs += [ticket_spec(number) for number in numbers]
    return specs


def ticket_attachments(tickets: list) -> list[dict]:
    """The ticket PDF specs of `tickets`: ticket answers
    (services.transport.tickets.ticket_view, as notifications.tickets_issued
    gets them), Ticket rows or ticket numbers, in the order given."""
    numbers = [
        t["number"] if isinstance(t, dict) else getattr(t, "number", t) for t in tickets
    ]
    return [ticket_spec(number) for number in numbers]


def _field(spec: dict, name: str, kind: type):
    """`spec[name]` when it is a `kind`; AttachmentError otherwise."""
    value = spec.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise AttachmentError(f"attachment spec {spec!r}: `{name}` is missing")
    return value


def _confirmation(spec: dict, locale: str | None) -> tuple[str, str, bytes]:
    """The confirmation PDF of `spec["booking_id"]`."""
    booking = db.session.get(Booking, _field(spec, "booking_id", int))
    if booking is None:
        raise AttachmentError(f"attachment {spec!r}: no such booking")
    with in_locale(locale or booking.customer.locale):
        data, filename = booking_pdfs.render_confirmation(booking)
    return filename, PDF_MIMETYPE, data


def _ticket(spec: dict, locale: str | None) -> tuple[str, str, bytes]:
    """The PDF of ticket `spec["number"]`."""
    number = _field(spec, "number", str)
    ticket = db.session.scalars(
        select(Ticket).where(Ticket.number == number).limit(1)
    ).first()
    if ticket is None:
        raise AttachmentError(f"attachment {spec!r}: no such ticket")
    with in_locale(locale or ticket.booking.customer.locale):
        data, filename = booking_pdfs.render_ticket(ticket)
    return filename, PDF_MIMETYPE, data


_RENDERERS = {"confirmation": _confirmation, "ticket": _ticket}


def render_attachment(
    spec: dict, *, locale: str | None = None
) -> tuple[str, str, bytes]:
    """One attachment spec as `(filename, mimetype, bytes)`, rendered in `locale`
    (one of LANGUAGES) or, when None, the booking customer's language.

    Raises AttachmentError for a spec naming no known document (DOCUMENTS), a
    malformed spec, or a booking or ticket that is gone; rendering errors
    propagate unchanged."""
    document = spec.get("document") if isinstance(spec, dict) else None
    renderer = _RENDERERS.get(document)
    if renderer is None:
        raise AttachmentError(
            f"unknown attachment {spec!r}: `document` must be one of "
            + ", ".join(DOCUMENTS)
        )
    return renderer(spec, locale)
