"""Cancellation of bookings and of whole departures (docs/design.md
"Rules with numbers": cancellation tiers; "Lifecycles": booking `held`/`confirmed` ->
`cancelled`).

Money rules (docs/design.md "Rules with numbers"): Decimal quantized to 0.01 with
ROUND_HALF_UP, never float; kept = amount_paid - amount_refunded; the penalty is
`kept * percent / 100` of the tier that applies when the request arrives, from the
booking's policy snapshot; an unpaid hold costs nothing. Status change, seats, refunds,
wallet entries, booking amounts and the credit note are written in ONE transaction with
one commit; mail goes out after the commit.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from core.errors import Conflict, Forbidden
from core.extensions import db
from core.i18n import _
from models import Booking, Departure, Invoice
from models.account import is_staff
from models.base import utcnow
from services.audit import audit
from services.booking import holds, inventory
from services.booking.bookings import CANCELLATION_POLICY
from services.booking.rules import booking_start, departure_start
from services.catalogue import catalogue
from services.messaging import notifications, webhooks
from services.payments import billing, refunds
from services.shared.money import CENT
from services.shared.records import check_owner, get_or_404

ZERO = Decimal("0.00")
LIVE = ("held", "confirmed")
UNPAID_HOLD = "unpaid_hold"
STARTED = "departure_started"
WAIVED = "waived"


@dataclass
class Quote:
    """What cancelling a booking costs at one instant (all money in `currency`)."""

    tier: str
    penalty_percent: int
    penalty_amount: Decimal
    refund_amount: Decimal
    kept_amount: Decimal
    currency: str
    hours_before_departure: int
    cancellable: bool
    booking_id: int = 0

    def as_dict(self) -> dict:
        """The quote as the API shows it."""
        return {
            "booking_id": self.booking_id,
            "tier": self.tier,
            "penalty_percent": self.penalty_percent,
            "penalty_amount": self.penalty_amount,
            "refund_amount": self.refund_amount,
            "kept_amount": self.kept_amount,
            "currency": self.currency,
            "hours_before_departure": self.hours_before_departure,
            "cancellable": self.cancellable,
        }


def _policy(booking: Booking) -> list[dict]:
    """The booking's policy snapshot, highest threshold first (the configured policy
    for bookings made before snapshots existed)."""
    tiers = booking.cancellation_policy or current_app.config.get(
        "CANCELLATION_POLICY", CANCELLATION_POLICY
    )
    return sorted(tiers, key=lambda tier: tier["min_hours_before"], reverse=True)


def _tier(booking: Booking, seconds_left: float) -> dict:
    """The first tier (from the top) whose `min_hours_before` hours fit in the time
    left; the lowest tier when none does."""
    tiers = _policy(booking)
    for tier in tiers:
        if tier["min_hours_before"] * 3600 <= seconds_left:
            return tier
    return tiers[-1]


def compute_quote(
    booking: Booking, *, now: datetime, waive: bool = False, status: str | None = None
) -> Quote:
    """The cancellation quote of a live booking at `now` (aware UTC); no side effects.

    The departure starts at 00:00 UTC of its start date; at or after it the quote is
    `cancellable: false` with nothing refunded. An unpaid hold (held, nothing kept)
    costs nothing (tier `unpaid_hold`); `waive` (staff) makes the penalty 0 (tier
    `waived`). `status` overrides the booking's (used after the status flip).
    Rule: docs/design.md "Rules with numbers": cancellation tiers.
    """
    status = status or booking.status
    kept = booking.amount_paid - booking.amount_refunded
    seconds_left = (booking_start(booking) - now).total_seconds()
    hours = math.floor(seconds_left / 3600)
    base = {
        "kept_amount": kept,
        "currency": booking.currency,
        "hours_before_departure": hours,
        "booking_id": booking.id,
    }
    if seconds_left <= 0:
        return Quote(
            tier=STARTED,
            penalty_percent=100,
            penalty_amount=kept,
            refund_amount=ZERO,
            cancellable=False,
            **base,
        )
    if waive or (status == "held" and kept <= ZERO):
        return Quote(
            tier=WAIVED if waive else UNPAID_HOLD,
            penalty_percent=0,
            penalty_amount=ZERO,
            refund_amount=kept,
            cancellable=True,
            **base,
        )
    tier = _tier(booking, seconds_left)
    percent = int(tier["penalty_percent"])
    penalty = (kept * percent / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Quote(
        tier=tier["tier"],
        penalty_percent=percent,
        penalty_amount=penalty,
        refund_amount=kept - penalty,
        cancellable=True,
        **base,
    )


def _own_booking(account, booking_id: int) -> Booking:
    """The booking (with its departure and package); NotFound (404) when missing or
    another customer's (docs/design.md "Accounts and roles")."""
    booking = get_or_404(Booking, booking_id, "Booking")
    check_owner(account, booking, "Booking")
    return booking


def _check_live(booking: Booking, *, now: datetime) -> None:
    """Conflict (409) unless the booking is held (hold not lapsed) or confirmed."""
    if booking.hold_lapsed(now):
        raise Conflict(
            _("The booking's hold has already expired."), code="booking-expired"
        )
    if booking.status not in LIVE:
        raise Conflict(
            _("A %(status)s booking cannot be cancelled.", status=booking.status),
            code="booking-not-cancellable",
        )


def _check_started(quote: Quote) -> None:
    """Conflict (409) once the departure has started (docs/design.md
    "Rules with numbers": no cancellation)."""
    if not quote.cancellable:
        raise Conflict(
            _("The departure has already started; the booking cannot be cancelled."),
            code="departure-started",
        )


def cancellation_quote(
    *, account, booking_id: int, now: datetime | None = None
) -> dict:
    """`GET /bookings/<id>/cancellation-quote`: what cancelling would cost now.

    Reads only (no side effects). Raises NotFound (404, incl. another customer's)
    and Conflict (409) when the booking is not held/confirmed or its hold lapsed.
    After the departure started the quote answers `cancellable: false`.
    """
    now = now or utcnow()
    booking = _own_booking(account, booking_id)
    _check_live(booking, now=now)
    return compute_quote(booking, now=now).as_dict()


def _flip_to_cancelled(booking: Booking, *, now: datetime, reason, by_id) -> bool:
    """The lock-free conditional UPDATE that makes exactly one cancel win: only a
    held (unlapsed) or confirmed booking turns `cancelled`. On PostgreSQL it also
    locks the row until commit, so the amounts read after it are final. Returns
    False when another request changed the booking first."""
    stmt = (
        update(Booking)
        .where(Booking.id == booking.id, Booking.status.in_(LIVE))
        .where(
            or_(
                Booking.status == "confirmed",
                Booking.hold_expires_at.is_(None),
                Booking.hold_expires_at > now,
            )
        )
        .values(
            status="cancelled",
            cancelled_at=now,
            cancel_reason=reason,
            cancelled_by_id=by_id,
        )
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount == 1


def _settle(
    booking: Booking, *, status: str, now, refund_to, reason, by_id, waive, facts
):
    """Inside the transaction, after the status flip: quote again from the row as it
    is now (`status` = the status before the flip), store the penalty, give the seats
    back, refund, credit the invoice by total - penalty. Returns `(quote, refunds)`."""
    db.session.refresh(booking)
    quote = compute_quote(booking, now=now, waive=waive, status=status)
    db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id)
        .values(penalty_amount=quote.penalty_amount)
        .execution_options(synchronize_session=False)
    )
    inventory.release_booking_seats(booking)
    note = f"Cancellation of booking {booking.reference}"
    issued = refunds.issue_refunds(
        booking,
        amount=quote.refund_amount,
        refund_to=refund_to,
        reason=note,
        by_id=by_id,
        now=now,
        facts=facts,
    )
    invoice = db.session.scalar(select(Invoice).where(Invoice.booking_id == booking.id))
    if invoice is not None:
        billing.credit(
            invoice,
            booking.total_amount - quote.penalty_amount,
            f"{note}: {reason}" if reason else note,
        )
    db.session.refresh(booking)
    return quote, issued


def _cancel_in_transaction(booking, *, now, refund_to, reason, by_id, waive, facts):
    """Cancel one live booking inside the current transaction (no commit); returns
    `(quote, refunds)`, or None when a concurrent request changed the booking first
    (nothing written). Raises Conflict (409) for a booking that is not live or whose
    departure started, ValidationFailed (422) for a wallet refund in another
    currency. Audited with the request `facts` (None: by `system`)."""
    _check_live(booking, now=now)
    _check_started(compute_quote(booking, now=now, waive=waive))
    if refund_to == "wallet" and booking.amount_paid > booking.amount_refunded:
        refunds.check_wallet_currency(booking)
    status = booking.status
    if not _flip_to_cancelled(booking, now=now, reason=reason, by_id=by_id):
        return None
    quote, issued = _settle(
        booking,
        status=status,
        now=now,
        refund_to=refund_to,
        reason=reason,
        by_id=by_id,
        waive=waive,
        facts=facts,
    )
    webhooks.emit("booking.cancelled", resource="booking", resource_id=booking.id)
    audit.record(
        "booking.cancelled",
        entity_type="booking",
        entity_id=booking.id,
        facts=facts,
        details={
            "reference": booking.reference,
            "from": status,
            "tier": quote.tier,
            "penalty_amount": quote.penalty_amount,
            "refund_amount": quote.refund_amount,
            "currency": quote.currency,
            "refund_to": refund_to,
            "waived": waive,
            "reason": reason,
        },
    )
    return quote, issued


def _cancel_one(booking, *, now, refund_to, reason, by_id, waive, facts):
    """Cancel one booking and commit; a lost race answers the state the winner left
    (409). Rolls back on any error."""
    try:
        result = _cancel_in_transaction(
            booking,
            now=now,
            refund_to=refund_to,
            reason=reason,
            by_id=by_id,
            waive=waive,
            facts=facts,
        )
        if result is None:
            db.session.rollback()
            _check_live(db.session.get(Booking, booking.id), now=now)
            raise Conflict(
                _("The booking changed meanwhile; try again."), code="booking-changed"
            )
        notifications.booking_cancelled(
            booking,
            penalty=result[0].penalty_amount,
            refund=result[0].refund_amount,
            refund_to=_refund_words(refund_to),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def cancel_booking(
    *,
    account,
    booking_id: int,
    refund_to: str = "original",
    reason: str | None = None,
    waive_penalty: bool = False,
    facts: audit.RequestFacts | None = None,
) -> dict:
    """`POST /bookings/<id>/cancel`: cancel a held or confirmed booking; one commit.

    The penalty comes from the tier in force now (policy snapshot) applied to the
    money kept; the rest is refunded to the wallet (instant) or to the original
    methods (see services.payments.refunds.issue_refunds); the seats come back; the
    invoice is credited by total - penalty. `waive_penalty` (admin, sales: an operator
    cancellation) refunds everything. The mail is queued in the same commit; the
    audit entries carry the request `facts`.

    Returns `{"booking", "refunds", "penalty_amount", "refund_amount", "currency",
    "refund_to", "tier"}`. Raises NotFound (404), Forbidden (403: a customer asking
    for a waiver), Conflict (409: not held/confirmed, hold lapsed, departure started,
    already cancelled by a concurrent request), ValidationFailed (422: wallet refund
    in another currency).
    """
    if waive_penalty and not is_staff(account):
        raise Forbidden(
            _("Only staff can waive the cancellation penalty."), code="waive-forbidden"
        )
    now = utcnow()
    booking = _own_booking(account, booking_id)
    by_id = account.id if is_staff(account) else None
    quote, issued = _cancel_one(
        booking,
        now=now,
        refund_to=refund_to,
        reason=reason,
        by_id=by_id,
        waive=waive_penalty,
        facts=facts,
    )
    refunds.submit_provider_refunds([refund.id for refund in issued], facts=facts)
    return {
        "booking": booking,
        "refunds": issued,
        "tier": quote.tier,
        "penalty_amount": quote.penalty_amount,
        "refund_amount": quote.refund_amount,
        "currency": booking.currency,
        "refund_to": refund_to,
    }


def _refund_words(refund_to: str) -> str:
    """How the mail names the refund destination."""
    return "wallet" if refund_to == "wallet" else "original payment method"


# --- whole departures ------------------------------------------------------------


def _live_bookings(departure_id: int, *, now: datetime) -> list[Booking]:
    """The departure's held (unlapsed) and confirmed bookings, oldest first."""
    stmt = (
        select(Booking)
        .where(Booking.departure_id == departure_id, Booking.status.in_(LIVE))
        .where(
            or_(
                Booking.status == "confirmed",
                Booking.hold_expires_at.is_(None),
                Booking.hold_expires_at > now,
            )
        )
        .options(selectinload(Booking.customer))
        .order_by(Booking.id)
    )
    return list(db.session.scalars(stmt))


def _line(
    booking: Booking, refund_amount: Decimal, refund_to: str, status: str
) -> dict:
    """One booking's line of a departure cancellation answer."""
    return {
        "booking_id": booking.id,
        "reference": booking.reference,
        "customer_id": booking.customer_id,
        "status": status,
        "refund_amount": refund_amount,
        "refund_to": refund_to,
    }


def _departure_for_cancel(departure_id: int, *, now: datetime) -> Departure:
    """The departure, or NotFound (404) / Conflict (409: already cancelled or
    already started)."""
    departure = get_or_404(Departure, departure_id, "Departure")
    if departure.status == "cancelled":
        raise Conflict(
            _("The departure is already cancelled."), code="departure-cancelled"
        )
    if now >= departure_start(departure):
        raise Conflict(
            _("The departure has already started; it cannot be cancelled."),
            code="departure-started",
        )
    return departure


def _preview(departure: Departure, *, now, reason: str, refund_to: str) -> dict:
    """What cancelling the departure would do: every live booking refunded in full."""
    lines = []
    for booking in _live_bookings(departure.id, now=now):
        if refund_to == "wallet" and booking.amount_paid > booking.amount_refunded:
            refunds.check_wallet_currency(booking)
        kept = booking.amount_paid - booking.amount_refunded
        lines.append(_line(booking, kept, refund_to, booking.status))
    return _departure_answer(
        departure, lines, refund_to=refund_to, cancelled=False, reason=reason
    )


def _departure_answer(departure, lines, *, refund_to, cancelled, reason=None) -> dict:
    """The `{departure_id, bookings, total_refund, currency, cancelled}` answer."""
    return {
        "departure_id": departure.id,
        "reason": reason,
        "refund_to": refund_to,
        "bookings": lines,
        "total_refund": sum((line["refund_amount"] for line in lines), ZERO),
        "currency": departure.currency,
        "cancelled": cancelled,
    }


def _execute(
    departure: Departure, *, now, reason, refund_to, by_id, facts
) -> tuple[dict, list]:
    """Cancel the departure and all its live bookings in the current transaction.
    Returns the answer, `(booking, quote)` pairs for the mail and the refund ids
    (provider refunds are sent after the commit)."""
    flipped = db.session.execute(
        update(Departure)
        .where(Departure.id == departure.id, Departure.status == "scheduled")
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    ).rowcount
    if flipped != 1:
        raise Conflict(
            _("The departure is already cancelled."), code="departure-cancelled"
        )
    # Lapsed holds become `expired` (seats back, invoice credited in full), not
    # cancelled: their customers were never charged and get no mail.
    holds.release_expired_holds(departure_id=departure.id, now=now)
    lines, done, refund_ids = [], [], []
    for booking in _live_bookings(departure.id, now=now):
        result = cancel_with_full_refund(
            booking,
            now=now,
            refund_to=refund_to,
            reason=reason,
            by_id=by_id,
            facts=facts,
        )
        if result is None:  # cancelled or expired by a concurrent request
            continue
        quote = result[0]
        refund_ids.extend(refund.id for refund in result[1])
        lines.append(_line(booking, quote.refund_amount, refund_to, "cancelled"))
        done.append((booking, quote))
        notifications.departure_cancelled(
            booking,
            refund=quote.refund_amount,
            refund_to=_refund_words(refund_to),
            reason=reason,
        )
    webhooks.emit("departure.cancelled", resource="departure", resource_id=departure.id)
    db.session.refresh(departure)
    answer = _departure_answer(
        departure, lines, refund_to=refund_to, cancelled=True, reason=reason
    )
    audit.record(
        "departure.cancelled",
        entity_type="departure",
        entity_id=departure.id,
        facts=facts,
        details={
            "reason": reason,
            "refund_to": refund_to,
            "booking_ids": [line["booking_id"] for line in lines],
            "total_refund": answer["total_refund"],
            "currency": answer["currency"],
        },
    )
    return answer, done, refund_ids


def cancel_departure(
    *,
    account,
    departure_id: int,
    reason: str,
    refund_to: str = "original",
    preview: bool = False,
    facts: audit.RequestFacts | None = None,
) -> dict:
    """`POST /departures/<id>/cancel` (admin, operation_head) and the CLI.

    `preview` answers what would happen without changing anything. Otherwise, in
    ONE transaction: the departure turns `cancelled`, lapsed holds expire, every
    held/confirmed booking is cancelled with penalty 0 and refunded in full to
    `refund_to` (`wallet` or `original`), its seats come back and its invoice is
    credited in full, and one `departure_cancelled` mail per booking is queued.
    The audit entries carry the request `facts` (None from the CLI: by `system`).

    Returns `{departure_id, reason, refund_to, bookings: [{booking_id, reference,
    customer_id, status, refund_amount, refund_to}], total_refund, currency,
    cancelled}`. Raises NotFound (404), Conflict (409: already cancelled, started),
    ValidationFailed (422: wallet refund of a booking in another currency).
    docs/design.md "Resource map": POST /departures/<id>/cancel.
    """
    now = utcnow()
    departure = _departure_for_cancel(departure_id, now=now)
    by_id = account.id if account is not None else None

    def execute():
        answer, _done, refund_ids = _execute(
            departure,
            now=now,
            reason=reason,
            refund_to=refund_to,
            by_id=by_id,
            facts=facts,
        )
        catalogue.bump_version()
        return answer, refund_ids

    return run_whole_cancellation(
        preview=preview,
        show=lambda: _preview(departure, now=now, reason=reason, refund_to=refund_to),
        execute=execute,
        facts=facts,
    )


def run_whole_cancellation(*, preview: bool, show, execute, facts) -> dict:
    """Cancel a whole departure or trip (docs/design.md "Lifecycles"): with
    `preview`, `show()`'s answer and nothing written; else `execute()` (returns
    `(answer, refund_ids)`) in ONE transaction, committed, then the provider
    refunds it created submitted after the commit. Rolls back on any error."""
    if preview:
        answer = show()
        db.session.rollback()
        return answer
    try:
        answer, refund_ids = execute()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    refunds.submit_provider_refunds(refund_ids, facts=facts)
    return answer


def cancel_for_unpaid_balance(booking_id: int, *, now: datetime, reason: str) -> bool:
    """Cancel a confirmed booking whose balance stayed unpaid past its grace (the
    scheduled job services.jobs.schedule.cancel_unpaid_balances): the tier in force at
    `now` from the booking's copied policy, penalty kept, the rest refunded to the
    original methods, the cancellation mail and webhook queued; one commit.

    Returns False (nothing written) when the booking is no longer confirmed with
    money due (paid or changed meanwhile). Raises Conflict (409) when its departure
    started (the caller skips it).
    """
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.status != "confirmed" or booking.amount_due <= 0:
        db.session.rollback()
        return False
    try:
        result = _cancel_in_transaction(
            booking,
            now=now,
            refund_to="original",
            reason=reason,
            by_id=None,
            waive=False,
            facts=None,
        )
        if result is None:
            db.session.rollback()
            return False
        notifications.booking_cancelled(
            booking,
            penalty=result[0].penalty_amount,
            refund=result[0].refund_amount,
            refund_to=_refund_words("original"),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    refunds.submit_provider_refunds([refund.id for refund in result[1]])
    return True


def cancel_with_full_refund(booking, *, now, refund_to, reason, by_id, facts):
    """Cancel one live booking inside the caller's transaction (no commit) with the
    penalty waived, so everything kept is refunded to `refund_to`: an operator
    cancelling what the booking rides on (a whole departure, a whole trip:
    services.transport.trip_cancellations). Returns `(quote, refunds)`, or None when
    a concurrent request changed the booking first (nothing written); raises as a
    booking cancellation does (409 not live or started, 422 wallet currency)."""
    return _cancel_in_transaction(
        booking,
        now=now,
        refund_to=refund_to,
        reason=reason,
        by_id=by_id,
        waive=True,
        facts=facts,
    )
