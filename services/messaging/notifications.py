"""Customer mail about bookings, one function per mail, in the recipient's language.

Each function renders its mail and writes it to the transactional outbox
(services.messaging.outbox) in the CALLER's transaction: call it before the commit of
the change that causes the mail, so the mail is sent if and only if the change commits
(docs/design.md "Rules with numbers": outbox). The workers deliver it, with retries; a
mail failure never undoes or fails the change. One-time codes do not come here:
they are sent synchronously (services.messaging.mail.send_mail).

Every mail is rendered inside `in_locale(recipient.locale)` (docs/i18n.md "What is
translated"): subjects and bodies are whole translatable sentences with named
placeholders, amounts are `_amount` (the locale's decimal mark and the ISO currency
code), dates the locale's numeric form (`_day`), times of day on the 24-hour
clock and in UTC (saying so) unless they are a station's local time.
"""

import sys
from datetime import date, datetime
from decimal import Decimal

from babel import numbers
from sqlalchemy import select

from core.extensions import db
from core.i18n import _, _l, current_locale, format_date, in_locale, localized
from models import Employee
from services.messaging.outbox import enqueue_mail

# How a mail names a refund destination or payment method (the services pass
# these English words or method codes).
REFUND_WORDS = {
    "wallet": _l("wallet"),
    "original payment method": _l("original payment method"),
    "card": _l("card"),
    "bank_transfer": _l("bank transfer"),
    "cash": _l("cash"),
}
PASSENGER_WORDS = {"adult": _l("adult"), "child": _l("child"), "infant": _l("infant")}
ACTIVITY_WORDS = {
    "call": _l("call"),
    "email": _l("email"),
    "meeting": _l("meeting"),
    "task": _l("task"),
}


def _send(
    to: str,
    subject: str,
    body: str,
    *,
    dedupe_key: str | None = None,
    attachments: list[dict] | None = None,
) -> bool:
    """Queue the mail in the current transaction; the topic is the name of the
    notification function that called (e.g. `booking_held`). `attachments` are
    document specs rendered at delivery (services.messaging.outbox.enqueue_mail).
    False when `dedupe_key` was already queued (nothing added)."""
    topic = sys._getframe(1).f_code.co_name
    return (
        enqueue_mail(
            to,
            subject,
            body,
            topic=topic,
            dedupe_key=dedupe_key,
            attachments=attachments,
        )
        is not None
    )


def _amount(value: Decimal | int | float, currency: str) -> str:
    """`value` of `currency` (ISO 4217) for a mail in the current locale: the
    locale's decimal mark, the currency's digits and its ISO code, e.g.
    `1234.50 EUR` (en), `1234,50 EUR` (de, es)."""
    return numbers.format_currency(value, currency, "0.00 ¤¤", locale=current_locale())


def _day(value: date) -> str:
    """A calendar date in the current locale's numeric form: the pattern is itself
    a translation (`2030-06-01` in English, `01.06.2030` in German, `01/06/2030`
    in Spanish; Babel/CLDR pattern letters)."""
    return format_date(value, _("yyyy-MM-dd"))


def _clock(value: datetime) -> str:
    """A date and a 24-hour time as written (local times of stations)."""
    return _("%(date)s %(time)s", date=_day(value.date()), time=f"{value:%H:%M}")


def _utc(value: datetime) -> str:
    """An aware UTC datetime as `<date> HH:MM UTC` in the current locale."""
    return _("%(date)s %(time)s UTC", date=_day(value.date()), time=f"{value:%H:%M}")


def _word(words: dict, key: str) -> str:
    """The translated word for a code, or the code itself when it has none."""
    return str(words[key]) if key in words else key


def _station(station) -> str:
    """A station's name in the current language."""
    return localized(station.name, "name", station.translations)


def _trip(booking) -> str:
    """What the booking bought, for a mail: the package (title in the current
    language) and its start date, or a trip's route, stations and departure (UTC)."""
    if booking.kind == "trip":
        trip = booking.trip
        return _(
            "%(route)s, %(origin)s to %(destination)s, departing %(when)s",
            route=trip.route.name,
            origin=_station(booking.from_station),
            destination=_station(booking.to_station),
            when=_utc(trip.departure_at),
        )
    departure = booking.departure
    package = departure.package
    return _(
        "%(package)s, departing %(date)s",
        package=localized(package.title, "title", package.translations),
        date=_day(departure.start_date),
    )


def _hello(name: str) -> str:
    """The greeting line of a mail."""
    return _("Hello %(name)s,", name=name)


def booking_held(booking) -> None:
    """Tell the customer their seats are held and until when (UTC)."""
    customer = booking.customer
    with in_locale(customer.locale):
        until = _utc(booking.hold_expires_at)
        _send(
            customer.email,
            _(
                "Booking %(reference)s: seats held until %(until)s",
                reference=booking.reference,
                until=until,
            ),
            _hello(customer.name)
            + "\n\n"
            + _(
                "%(seats)s seat(s) on %(trip)s are held for you until %(until)s. "
                "Total %(total)s; pay at least %(deposit)s before then to confirm "
                "the booking.",
                seats=booking.seats,
                trip=_trip(booking),
                until=until,
                total=_amount(booking.total_amount, booking.currency),
                deposit=_amount(booking.deposit_amount, booking.currency),
            )
            + "\n",
        )


def booking_confirmed(booking, *, attachments: list[dict] | None = None) -> None:
    """Tell the customer the booking is confirmed and what is still due;
    `attachments` are document specs (e.g. the confirmation PDF) to send with it."""
    customer = booking.customer
    with in_locale(customer.locale):
        due = booking.total_amount - booking.amount_paid
        text = _(
            "Your booking for %(trip)s is confirmed.",
            trip=_trip(booking),
        )
        if due > 0:
            text += " " + _(
                "The balance of %(amount)s is due by %(date)s.",
                amount=_amount(due, booking.currency),
                date=_day(booking.balance_due_date),
            )
        _send(
            customer.email,
            _("Booking %(reference)s confirmed", reference=booking.reference),
            _hello(customer.name) + "\n\n" + text + "\n",
            attachments=attachments,
        )


def booking_cancelled(booking, *, penalty, refund, refund_to: str) -> None:
    """Tell the customer the booking is cancelled, the penalty kept and the refund."""
    customer = booking.customer
    with in_locale(customer.locale):
        _send(
            customer.email,
            _("Booking %(reference)s cancelled", reference=booking.reference),
            _hello(customer.name)
            + "\n\n"
            + _(
                "Your booking for %(trip)s is cancelled. Penalty kept: %(penalty)s. "
                "Refund: %(refund)s to your %(refund_to)s.",
                trip=_trip(booking),
                penalty=_amount(penalty, booking.currency),
                refund=_amount(refund, booking.currency),
                refund_to=_word(REFUND_WORDS, refund_to),
            )
            + "\n",
        )


def departure_cancelled(booking, *, refund, refund_to: str, reason: str) -> None:
    """Tell a customer the operator cancelled the departure and refunded it all."""
    customer = booking.customer
    with in_locale(customer.locale):
        _send(
            customer.email,
            _(
                "Departure cancelled: booking %(reference)s",
                reference=booking.reference,
            ),
            _hello(customer.name)
            + "\n\n"
            + _(
                "We are sorry: %(trip)s is cancelled (%(reason)s). Your booking is "
                "cancelled and %(refund)s is refunded to your %(refund_to)s.",
                trip=_trip(booking),
                reason=reason,
                refund=_amount(refund, booking.currency),
                refund_to=_word(REFUND_WORDS, refund_to),
            )
            + "\n",
        )


def trip_cancelled(booking, *, refund, refund_to: str, reason: str) -> None:
    """Tell a customer the operator cancelled their trip, with its tickets, and
    refunded it all (docs/transport.md "Cancelling a trip")."""
    customer = booking.customer
    with in_locale(customer.locale):
        _send(
            customer.email,
            _("Trip cancelled: booking %(reference)s", reference=booking.reference),
            _hello(customer.name)
            + "\n\n"
            + _(
                "We are sorry: %(trip)s is cancelled (%(reason)s). Your booking and "
                "its tickets are cancelled and %(refund)s is refunded to your "
                "%(refund_to)s.",
                trip=_trip(booking),
                reason=reason,
                refund=_amount(refund, booking.currency),
                refund_to=_word(REFUND_WORDS, refund_to),
            )
            + "\n",
        )


def card_payment_refunded(booking, *, amount, reason: str) -> None:
    """Tell the customer a card payment could not be kept (e.g. the hold lapsed and
    the seats were gone) and was refunded to their card at once."""
    customer = booking.customer
    with in_locale(customer.locale):
        _send(
            customer.email,
            _(
                "Booking %(reference)s: your card payment was refunded",
                reference=booking.reference,
            ),
            _hello(customer.name)
            + "\n\n"
            + _(
                "Your card payment of %(amount)s for %(trip)s arrived but could not "
                "be applied (%(reason)s). It has been refunded to your card in full; "
                "nothing was kept.",
                amount=_amount(amount, booking.currency),
                trip=_trip(booking),
                reason=reason,
            )
            + "\n",
        )


def booking_expired(booking) -> None:
    """Tell the customer their hold ran out unpaid and the seats were released."""
    customer = booking.customer
    with in_locale(customer.locale):
        _send(
            customer.email,
            _("Booking %(reference)s: hold expired", reference=booking.reference),
            _hello(customer.name)
            + "\n\n"
            + _(
                "The hold on %(seats)s seat(s) on %(trip)s ran out before a payment "
                "arrived, so the seats were released and nothing is owed. You are "
                "welcome to book again.",
                seats=booking.seats,
                trip=_trip(booking),
            )
            + "\n",
        )


def balance_reminder(booking, *, days: int) -> bool:
    """Remind the customer of the balance due by `booking.balance_due_date`; at most
    once per booking and `days` threshold (the outbox's dedupe key). Returns False
    when that reminder was already queued."""
    customer = booking.customer
    with in_locale(customer.locale):
        due_date = _day(booking.balance_due_date)
        return _send(
            customer.email,
            _(
                "Booking %(reference)s: balance due by %(date)s",
                reference=booking.reference,
                date=due_date,
            ),
            _hello(customer.name)
            + "\n\n"
            + _(
                "The balance of %(amount)s for %(trip)s is due by %(date)s "
                "(%(days)s day(s) or less from now). Unpaid balances are cancelled "
                "under the booking's cancellation terms after a grace period.",
                amount=_amount(booking.amount_due, booking.currency),
                trip=_trip(booking),
                date=due_date,
                days=days,
            )
            + "\n",
            dedupe_key=f"balance-reminder:{booking.id}:{days}",
        )


def refund_completed(refund) -> None:
    """Tell the customer a refund to their original payment method was paid out."""
    booking = refund.booking
    customer = booking.customer
    with in_locale(customer.locale):
        amount = _amount(refund.amount, refund.currency)
        facts = {
            "amount": amount,
            "trip": _trip(booking),
            "method": _word(REFUND_WORDS, refund.method),
        }
        if refund.reference:
            text = _(
                "The refund of %(amount)s for %(trip)s was paid to your %(method)s "
                "payment method (reference %(reference)s).",
                reference=refund.reference,
                **facts,
            )
        else:
            text = _(
                "The refund of %(amount)s for %(trip)s was paid to your %(method)s "
                "payment method.",
                **facts,
            )
        _send(
            customer.email,
            _(
                "Booking %(reference)s: refund of %(amount)s paid",
                reference=booking.reference,
                amount=amount,
            ),
            _hello(customer.name) + "\n\n" + text + "\n",
        )


def activity_due(activity) -> None:
    """Remind an employee of a follow-up activity on an enquiry that is due (UTC)."""
    owner = activity.owner
    with in_locale(owner.locale):
        due = _utc(activity.due_at)
        kind = _word(ACTIVITY_WORDS, activity.kind)
        _send(
            owner.email,
            _(
                "Reminder: %(kind)s due %(due)s (enquiry %(enquiry)s)",
                kind=kind,
                due=due,
                enquiry=activity.enquiry_id,
            ),
            _hello(owner.name)
            + "\n\n"
            + _(
                'Your %(kind)s "%(summary)s" on enquiry %(enquiry)s (%(subject)s) '
                "is due %(due)s.",
                kind=kind,
                summary=activity.summary,
                enquiry=activity.enquiry_id,
                subject=activity.enquiry.subject,
                due=due,
            )
            + "\n",
        )


def finance_alert(booking, *, subject: str, body: str, dedupe_key: str) -> int:
    """Tell every active finance employee that money of `booking` changed outside
    this API (a refund made at the payment provider, a card dispute); once per
    `dedupe_key` and recipient, each in their language (the caller's `subject`
    and `body` are inserted as given). Returns how many mails were queued."""
    staff = db.session.execute(
        select(Employee.email, Employee.locale).where(
            Employee.role == "finance", Employee.active.is_(True)
        )
    ).all()
    queued = 0
    for email, locale in staff:
        with in_locale(locale):
            queued += _send(
                email,
                _(
                    "Booking %(reference)s: %(subject)s",
                    reference=booking.reference,
                    subject=subject,
                ),
                _("Hello,")
                + "\n\n"
                + body
                + "\n\n"
                + _(
                    "Booking %(reference)s, %(trip)s.",
                    reference=booking.reference,
                    trip=_trip(booking),
                )
                + "\n",
                dedupe_key=f"{dedupe_key}:{email}",
            )
    return queued


def _ride_end(end: dict, key: str) -> str:
    """`Station (CODE) <date> 08:00` at the local time of `key` (`departure` /
    `arrival`) of one end of a ticket answer (names as the answer gives them)."""
    return _(
        "%(station)s (%(code)s) %(when)s",
        station=end["name"],
        code=end["code"],
        when=_clock(end[f"{key}_local"]),
    )


def _ticket_line(ticket: dict) -> str:
    """One passenger's line of the tickets mail: number, name, category, seat,
    barcode text."""
    seat = ticket["seat_label"] or _("none (infant on a lap)")
    return (
        _(
            "- %(number)s: %(name)s (%(category)s), seat %(seat)s",
            number=ticket["number"],
            name=ticket["passenger"]["name"],
            category=_word(PASSENGER_WORDS, ticket["passenger"]["category"]),
            seat=seat,
        )
        + "\n  "
        + _("barcode: %(barcode)s", barcode=ticket["barcode"])
    )


def tickets_issued(
    booking, tickets: list[dict], *, attachments: list[dict] | None = None
) -> bool:
    """Mail the customer the tickets of a confirmed trip booking: trip, from and to
    with local times, and per passenger the ticket number, seat and barcode text
    (`tickets` are ticket answers, services.transport.tickets.ticket_view);
    `attachments` are document specs (e.g. the ticket PDFs). Once per booking (the
    outbox's dedupe key); False when it was already queued."""
    customer = booking.customer
    first = tickets[0]
    trip = first["trip"]
    with in_locale(customer.locale):
        body = (
            _hello(customer.name)
            + "\n\n"
            + _(
                "Your booking %(reference)s is confirmed. %(company)s %(route)s on "
                "%(date)s, section %(section)s:",
                reference=booking.reference,
                company=trip["company_name"],
                route=trip["route_code"],
                date=_day(trip["service_date"]),
                section=first["section_code"],
            )
            + "\n"
            + _(
                "from %(place)s (local time)",
                place=_ride_end(first["from"], "departure"),
            )
            + "\n"
            + _("to %(place)s (local time)", place=_ride_end(first["to"], "arrival"))
            + "\n\n"
            + _("Tickets:")
            + "\n"
            + "\n".join(_ticket_line(t) for t in tickets)
            + "\n\n"
            + _("Show the barcode when boarding; the scanner checks its signature.")
            + "\n"
        )
        return _send(
            customer.email,
            _("Booking %(reference)s: your tickets", reference=booking.reference),
            body,
            dedupe_key=f"tickets-issued:{booking.id}",
            attachments=attachments,
        )
