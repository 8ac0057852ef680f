"""Customer mail about bookings, one function per mail.

Each function renders its mail and writes it to the transactional outbox
(services.messaging.outbox) in the CALLER's transaction: call it before the commit of
the change that causes the mail, so the mail is sent if and only if the change commits
(docs/design.md "Rules with numbers": outbox). The workers deliver it, with retries; a
mail failure never undoes or fails the change. One-time codes do not come here:
they are sent synchronously (services.messaging.mail.send_mail).
"""

import sys

from sqlalchemy import select

from core.extensions import db
from models import Employee
from services.messaging.outbox import enqueue_mail


def _send(to: str, subject: str, body: str, *, dedupe_key: str | None = None) -> bool:
    """Queue the mail in the current transaction; the topic is the name of the
    notification function that called (e.g. `booking_held`). False when
    `dedupe_key` was already queued (nothing added)."""
    topic = sys._getframe(1).f_code.co_name
    return (
        enqueue_mail(to, subject, body, topic=topic, dedupe_key=dedupe_key) is not None
    )


def _trip(booking) -> str:
    """What the booking bought, for a mail: the package and its start date, or a
    trip's route, stations and departure (UTC)."""
    if booking.kind == "trip":
        trip = booking.trip
        return (
            f"{trip.route.name}, {booking.from_station.name} to "
            f"{booking.to_station.name}, departing "
            f"{trip.departure_at.strftime('%Y-%m-%d %H:%M UTC')}"
        )
    departure = booking.departure
    return f"{departure.package.title}, departing {departure.start_date.isoformat()}"


def booking_held(booking) -> None:
    """Tell the customer their seats are held and until when (UTC)."""
    until = booking.hold_expires_at.strftime("%Y-%m-%d %H:%M UTC")
    _send(
        booking.customer.email,
        f"Booking {booking.reference}: seats held until {until}",
        f"Hello {booking.customer.name},\n\n"
        f"{booking.seats} seat(s) on {_trip(booking)} "
        f"are held for you until {until}. "
        f"Total {booking.total_amount} {booking.currency}; "
        f"pay at least {booking.deposit_amount} {booking.currency} before then to "
        "confirm the booking.\n",
    )


def booking_confirmed(booking) -> None:
    """Tell the customer the booking is confirmed and what is still due."""
    due = booking.total_amount - booking.amount_paid
    balance = (
        f" The balance of {due} {booking.currency} "
        f"is due by {booking.balance_due_date}."
        if due > 0
        else ""
    )
    _send(
        booking.customer.email,
        f"Booking {booking.reference} confirmed",
        f"Hello {booking.customer.name},\n\nYour booking for {_trip(booking)} is "
        f"confirmed.{balance}\n",
    )


def booking_cancelled(booking, *, penalty, refund, refund_to: str) -> None:
    """Tell the customer the booking is cancelled, the penalty kept and the refund."""
    _send(
        booking.customer.email,
        f"Booking {booking.reference} cancelled",
        f"Hello {booking.customer.name},\n\nYour booking for {_trip(booking)} is "
        f"cancelled. Penalty kept: {penalty} {booking.currency}. Refund: {refund} "
        f"{booking.currency} to your {refund_to}.\n",
    )


def departure_cancelled(booking, *, refund, refund_to: str, reason: str) -> None:
    """Tell a customer the operator cancelled the departure and refunded it all."""
    _send(
        booking.customer.email,
        f"Departure cancelled: booking {booking.reference}",
        f"Hello {booking.customer.name},\n\n"
        f"We are sorry: {_trip(booking)} is cancelled "
        f"({reason}). Your booking is cancelled and {refund} {booking.currency} is "
        f"refunded to your {refund_to}.\n",
    )


def trip_cancelled(booking, *, refund, refund_to: str, reason: str) -> None:
    """Tell a customer the operator cancelled their trip, with its tickets, and
    refunded it all (docs/transport.md "Cancelling a trip")."""
    _send(
        booking.customer.email,
        f"Trip cancelled: booking {booking.reference}",
        f"Hello {booking.customer.name},\n\n"
        f"We are sorry: {_trip(booking)} is cancelled ({reason}). Your booking and "
        f"its tickets are cancelled and {refund} {booking.currency} is refunded to "
        f"your {refund_to}.\n",
    )


def card_payment_refunded(booking, *, amount, reason: str) -> None:
    """Tell the customer a card payment could not be kept (e.g. the hold lapsed and
    the seats were gone) and was refunded to their card at once."""
    _send(
        booking.customer.email,
        f"Booking {booking.reference}: your card payment was refunded",
        f"Hello {booking.customer.name},\n\nYour card payment of {amount} "
        f"{booking.currency} for {_trip(booking)} arrived but could not be applied "
        f"({reason}). It has been refunded to your card in full; nothing was kept.\n",
    )


def booking_expired(booking) -> None:
    """Tell the customer their hold ran out unpaid and the seats were released."""
    _send(
        booking.customer.email,
        f"Booking {booking.reference}: hold expired",
        f"Hello {booking.customer.name},\n\nThe hold on {booking.seats} seat(s) on "
        f"{_trip(booking)} ran out before a payment arrived, "
        "so the seats were released "
        "and nothing is owed. You are welcome to book again.\n",
    )


def balance_reminder(booking, *, days: int) -> bool:
    """Remind the customer of the balance due by `booking.balance_due_date`; at most
    once per booking and `days` threshold (the outbox's dedupe key). Returns False
    when that reminder was already queued."""
    return _send(
        booking.customer.email,
        f"Booking {booking.reference}: balance due by {booking.balance_due_date}",
        f"Hello {booking.customer.name},\n\nThe balance of {booking.amount_due} "
        f"{booking.currency} for {_trip(booking)} is due by {booking.balance_due_date} "
        f"({days} day(s) or less from now). Unpaid balances are cancelled under the "
        "booking's cancellation terms after a grace period.\n",
        dedupe_key=f"balance-reminder:{booking.id}:{days}",
    )


def refund_completed(refund) -> None:
    """Tell the customer a refund to their original payment method was paid out."""
    booking = refund.booking
    reference = f" (reference {refund.reference})" if refund.reference else ""
    _send(
        booking.customer.email,
        f"Booking {booking.reference}: "
        f"refund of {refund.amount} {refund.currency} paid",
        f"Hello {booking.customer.name},\n\nThe refund of {refund.amount} "
        f"{refund.currency} for {_trip(booking)} was paid to your {refund.method} "
        f"payment method{reference}.\n",
    )


def activity_due(activity) -> None:
    """Remind an employee of a follow-up activity on an enquiry that is due (UTC)."""
    due = activity.due_at.strftime("%Y-%m-%d %H:%M UTC")
    _send(
        activity.owner.email,
        f"Reminder: {activity.kind} due {due} (enquiry {activity.enquiry_id})",
        f'Hello {activity.owner.name},\n\nYour {activity.kind} "{activity.summary}" on '
        f"enquiry {activity.enquiry_id} ({activity.enquiry.subject}) is due {due}.\n",
    )


def finance_alert(booking, *, subject: str, body: str, dedupe_key: str) -> int:
    """Tell every active finance employee that money of `booking` changed outside
    this API (a refund made at the payment provider, a card dispute); once per
    `dedupe_key` and recipient. Returns how many mails were queued."""
    emails = db.session.scalars(
        select(Employee.email).where(
            Employee.role == "finance", Employee.active.is_(True)
        )
    ).all()
    return sum(
        _send(
            email,
            f"Booking {booking.reference}: {subject}",
            f"Hello,\n\n{body}\n\nBooking {booking.reference}, {_trip(booking)}.\n",
            dedupe_key=f"{dedupe_key}:{email}",
        )
        for email in emails
    )


def _ride_end(end: dict, key: str) -> str:
    """`Station (CODE) 2030-06-01 08:00` at the local time of `key` (`departure` /
    `arrival`) of one end of a ticket answer."""
    return f"{end['name']} ({end['code']}) {end[f'{key}_local']:%Y-%m-%d %H:%M}"


def tickets_issued(booking, tickets: list[dict]) -> bool:
    """Mail the customer the tickets of a confirmed trip booking: trip, from and to
    with local times, and per passenger the ticket number, seat and barcode text
    (`tickets` are ticket answers, services.transport.tickets.ticket_view). Once per
    booking (the outbox's dedupe key); False when it was already queued."""
    first = tickets[0]
    trip = first["trip"]
    lines = [
        f"- {t['number']}: {t['passenger']['name']} ({t['passenger']['category']}), "
        f"seat {t['seat_label'] or 'none (infant on a lap)'}\n"
        f"  barcode: {t['barcode']}"
        for t in tickets
    ]
    return _send(
        booking.customer.email,
        f"Booking {booking.reference}: your tickets",
        f"Hello {booking.customer.name},\n\n"
        f"Your booking {booking.reference} is confirmed. {trip['company_name']} "
        f"{trip['route_code']} on {trip['service_date'].isoformat()}, section "
        f"{first['section_code']}:\n"
        f"from {_ride_end(first['from'], 'departure')} (local time)\n"
        f"to {_ride_end(first['to'], 'arrival')} (local time)\n\n"
        "Tickets:\n" + "\n".join(lines) + "\n\n"
        "Show the barcode when boarding; the scanner checks its signature.\n",
        dedupe_key=f"tickets-issued:{booking.id}",
    )
