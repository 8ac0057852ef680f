"""Cancelling a whole trip with every booking on it (docs/transport.md "Cancelling a
trip"), the transport twin of cancelling a departure
(services.booking.cancellations.cancel_departure).

In ONE transaction: the trip turns `cancelled` through a conditional UPDATE on its
status (a retry or a concurrent call finds it cancelled and gets 409, never a second
refund; on PostgreSQL the UPDATE also holds the trip row, so a booking being made on
the trip, which locks that row first, waits and then finds it cancelled); lapsed
holds expire; every live booking (held and unlapsed, or confirmed) is cancelled with
penalty 0 and refunded in full through the booking cancellation's own refund path;
its seats leave the segments and its tickets turn `cancelled`; one mail per booking,
the `trip.cancelled` webhook and the audit entries are written with it. Provider
refunds leave after the commit.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from core.errors import Conflict, Forbidden, NotFound
from core.extensions import db
from core.i18n import _
from models import Booking, Trip
from models.account import is_staff
from models.base import utcnow
from services.audit import audit
from services.booking import cancellations, holds
from services.messaging import notifications, webhooks
from services.payments import refunds
from services.transport import seating
from services.transport.access import check_company

ZERO = Decimal("0.00")
# docs/transport.md "Cancelling a trip": who may cancel a trip with its bookings
# (an operator: its own company's trips only).
CANCELLERS = ("admin", "operation_head", "operator")
# How a mail names the refund destination.
REFUND_WORDS = {"wallet": "wallet", "original": "original payment method"}


def _check_canceller(actor) -> None:
    """Forbidden (403) unless `actor` is one of CANCELLERS."""
    if not is_staff(actor) or actor.role not in CANCELLERS:
        raise Forbidden(_("Only admin, operation heads and operators cancel trips."))


def _check_open(trip: Trip, *, now: datetime) -> None:
    """Conflict (409) `trip-cancelled` for a cancelled trip, `trip-departed` once
    it left its first stop (`departure_at` passed, or departed / arrived)."""
    if trip.status == "cancelled":
        raise Conflict(_("The trip is already cancelled."), code="trip-cancelled")
    if trip.status != "scheduled" or now >= trip.departure_at:
        raise Conflict(
            _("The trip has already departed; it cannot be cancelled."),
            code="trip-departed",
        )


def _trip_for_cancel(actor, trip_id: int, *, now: datetime) -> Trip:
    """The trip with its route: NotFound (404) when missing or another company's
    (operator), Conflict (409) when cancelled or departed."""
    trip = db.session.get(
        Trip, trip_id, options=[joinedload(Trip.route)], populate_existing=True
    )
    if trip is None:
        raise NotFound("Trip")
    check_company(actor, trip.route.company_id, "Trip")
    _check_open(trip, now=now)
    return trip


def _live_bookings(trip_id: int, *, now: datetime) -> list[Booking]:
    """The trip's held (unlapsed) and confirmed bookings, oldest first, with what
    their mail and answer line need."""
    stmt = (
        select(Booking)
        .where(seating.trip_bookings_filter(trip_id, now))
        .options(
            selectinload(Booking.customer),
            selectinload(Booking.travellers),
            selectinload(Booking.from_station),
            selectinload(Booking.to_station),
            selectinload(Booking.trip).joinedload(Trip.route),
        )
        .order_by(Booking.id)
    )
    return list(db.session.scalars(stmt))


def _line(booking: Booking, refund_amount: Decimal, refund_to: str, status: str):
    """One booking's line of the answer."""
    return {
        "booking_id": booking.id,
        "reference": booking.reference,
        "customer_id": booking.customer_id,
        "status": status,
        "passengers": len(booking.travellers),
        "refund_amount": refund_amount,
        "refund_to": refund_to,
        "currency": booking.currency,
    }


def _answer(trip: Trip, lines: list[dict], *, reason, refund_to, cancelled) -> dict:
    """`{trip_id, reason, refund_to, bookings, total_refund, currency, cancelled}`;
    `currency` is the bookings' one currency (null without bookings, or when fares
    of several currencies were sold: `total_refund` is then null too)."""
    currencies = {line["currency"] for line in lines}
    single = len(currencies) <= 1
    return {
        "trip_id": trip.id,
        "reason": reason,
        "refund_to": refund_to,
        "bookings": lines,
        "total_refund": (
            sum((line["refund_amount"] for line in lines), ZERO) if single else None
        ),
        "currency": next(iter(currencies)) if len(currencies) == 1 else None,
        "cancelled": cancelled,
    }


def _preview(trip: Trip, *, now, reason: str, refund_to: str) -> dict:
    """What cancelling the trip would do: every live booking refunded in full.
    ValidationFailed (422) for a wallet refund of a booking in another currency."""
    lines = []
    for booking in _live_bookings(trip.id, now=now):
        if refund_to == "wallet" and booking.amount_paid > booking.amount_refunded:
            refunds.check_wallet_currency(booking)
        kept = booking.amount_paid - booking.amount_refunded
        lines.append(_line(booking, kept, refund_to, booking.status))
    return _answer(trip, lines, reason=reason, refund_to=refund_to, cancelled=False)


def _flip(trip: Trip, *, now: datetime) -> None:
    """`scheduled` -> `cancelled` in one conditional UPDATE (still scheduled and not
    departed at `now`): exactly one call wins. The loser reads the trip again and
    gets 409 `trip-cancelled` (or `trip-departed`)."""
    flipped = db.session.execute(
        update(Trip)
        .where(
            Trip.id == trip.id,
            Trip.status == "scheduled",
            Trip.departure_at > now,
        )
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    ).rowcount
    if flipped != 1:
        db.session.refresh(trip)
        _check_open(trip, now=now)
        raise Conflict(_("The trip is already cancelled."), code="trip-cancelled")


def _cancel_bookings(trip: Trip, *, now, reason, refund_to, by_id, facts):
    """Cancel and fully refund every live booking of the trip (its seat segments
    are freed by the booking cancellation), queue one mail each and cancel their
    tickets. Returns the answer lines and the refund ids."""
    lines, refund_ids = [], []
    for booking in _live_bookings(trip.id, now=now):
        result = cancellations.cancel_with_full_refund(
            booking,
            now=now,
            refund_to=refund_to,
            reason=reason,
            by_id=by_id,
            facts=facts,
        )
        if result is None:  # cancelled or expired by a concurrent request
            continue
        quote, issued = result
        refund_ids.extend(refund.id for refund in issued)
        lines.append(_line(booking, quote.refund_amount, refund_to, "cancelled"))
        notifications.trip_cancelled(
            booking,
            refund=quote.refund_amount,
            refund_to=REFUND_WORDS[refund_to],
            reason=reason,
        )
    return lines, refund_ids


def _execute(trip: Trip, *, now, reason, refund_to, actor, facts):
    """Cancel the trip and all its live bookings in the current transaction.
    Returns the answer and the refund ids (provider refunds leave after commit)."""
    _flip(trip, now=now)
    # Lapsed holds expire (seats back, invoice voided) rather than being cancelled:
    # their customers were never charged and get no mail.
    holds.release_expired_holds(trip_id=trip.id, now=now)
    lines, refund_ids = _cancel_bookings(
        trip,
        now=now,
        reason=reason,
        refund_to=refund_to,
        by_id=actor.id if actor is not None else None,
        facts=facts,
    )
    webhooks.emit("trip.cancelled", resource="trip", resource_id=trip.id)
    db.session.refresh(trip)
    answer = _answer(trip, lines, reason=reason, refund_to=refund_to, cancelled=True)
    audit.record(
        "trip.cancelled",
        entity_type="transport_trip",
        entity_id=trip.id,
        facts=facts,
        actor=actor,
        details={
            "reason": reason,
            "refund_to": refund_to,
            "booking_ids": [line["booking_id"] for line in lines],
            "total_refund": answer["total_refund"],
            "currency": answer["currency"],
        },
    )
    return answer, refund_ids


def cancel_trip(
    *,
    actor,
    trip_id: int,
    reason: str,
    refund_to: str = "original",
    preview: bool = False,
    facts: audit.RequestFacts | None = None,
) -> dict:
    """`POST /transport/trips/<id>/cancel`: cancel a trip with every booking on it
    (or, with `preview`, answer what would happen and change nothing).

    One transaction: the trip turns `cancelled`, lapsed holds expire, every held
    or confirmed booking is cancelled with penalty 0 and everything it kept
    refunded to `refund_to` (`original` or `wallet`), its seat segments are freed,
    its tickets cancelled and its invoice credited; one `trip_cancelled` mail per
    booking, the `trip.cancelled` webhook and the audit entries are queued with it
    (docs/transport.md "Cancelling a trip").

    Returns `{trip_id, reason, refund_to, bookings: [{booking_id, reference,
    customer_id, status, passengers, refund_amount, refund_to, currency}],
    total_refund, currency, cancelled}`. Raises Forbidden (403) unless CANCELLERS;
    NotFound (404) for an unknown trip or another company's (operator); Conflict
    (409) `trip-cancelled` (also a retry or a lost race: nothing refunded twice),
    `trip-departed`; ValidationFailed (422) for a wallet refund in another currency.
    """
    _check_canceller(actor)
    now = utcnow()
    trip = _trip_for_cancel(actor, trip_id, now=now)
    return cancellations.run_whole_cancellation(
        preview=preview,
        show=lambda: _preview(trip, now=now, reason=reason, refund_to=refund_to),
        execute=lambda: _execute(
            trip,
            now=now,
            reason=reason,
            refund_to=refund_to,
            actor=actor,
            facts=facts,
        ),
        facts=facts,
    )
