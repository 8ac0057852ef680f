"""Customer mail about bookings, sent after the transaction committed (issue #3 item
9). A mail failure is logged and never undoes or fails the committed change."""

import logging

from services.mail import MailError, send_mail

log = logging.getLogger(__name__)


def _send(to: str, subject: str, body: str) -> None:
    try:
        send_mail(to, subject, body)
    except MailError:
        log.warning("booking mail not sent (subject %r)", subject)


def _trip(booking) -> str:
    departure = booking.departure
    return f"{departure.package.title}, departing {departure.start_date.isoformat()}"


def booking_held(booking) -> None:
    """Tell the customer their seats are held and until when (UTC)."""
    until = booking.hold_expires_at.strftime("%Y-%m-%d %H:%M UTC")
    _send(
        booking.customer.email,
        f"Booking {booking.reference}: seats held until {until}",
        f"Hello {booking.customer.name},\n\n{booking.seats} seat(s) on {_trip(booking)} "
        f"are held for you until {until}. Total {booking.total_amount} {booking.currency}; "
        f"pay at least {booking.deposit_amount} {booking.currency} before then to "
        "confirm the booking.\n",
    )


def booking_confirmed(booking) -> None:
    """Tell the customer the booking is confirmed and what is still due."""
    due = booking.total_amount - booking.amount_paid
    balance = (
        f" The balance of {due} {booking.currency} is due by {booking.balance_due_date}."
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
    """Tell a customer the operator cancelled the departure and refunded them in full."""
    _send(
        booking.customer.email,
        f"Departure cancelled: booking {booking.reference}",
        f"Hello {booking.customer.name},\n\nWe are sorry: {_trip(booking)} is cancelled "
        f"({reason}). Your booking is cancelled and {refund} {booking.currency} is "
        f"refunded to your {refund_to}.\n",
    )


def activity_due(activity) -> None:
    """Remind an employee of a follow-up activity on an enquiry that is due (UTC)."""
    due = activity.due_at.strftime("%Y-%m-%d %H:%M UTC")
    _send(
        activity.owner.email,
        f"Reminder: {activity.kind} due {due} (enquiry {activity.enquiry_id})",
        f"Hello {activity.owner.name},\n\nYour {activity.kind} \"{activity.summary}\" on "
        f"enquiry {activity.enquiry_id} ({activity.enquiry.subject}) is due {due}.\n",
    )
