"""The lifecycle of a seat hold (docs/design.md "Lifecycles": booking expiry;
"Rules with numbers": hold): a `held` booking keeps its seats until
`hold_expires_at`; once that time passed the hold has LAPSED - its seats never count
as taken for display (`seats_left`) and a new booking or a sweep expires it first;
the SWEEP (`expire_holds`, the schedule and `flask bookings expire-holds`) turns
lapsed holds `expired`, gives their seats back and voids their invoices; a late
payment REVIVES a lapsed or swept hold when its seats are still free (`retake`).

Seats move through services.booking.inventory's conditional UPDATEs; nothing here
commits except `expire_holds`.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from core.errors import Conflict
from core.extensions import db
from core.i18n import _
from models import Booking, Departure, Invoice
from models.base import utcnow
from services.booking import inventory, rules
from services.payments import billing
from services.transport import seating

EXPIRY_REASON = "Hold expired unpaid: the booking is void."


# --- lapse and sweep ------------------------------------------------------------


def release_expired_holds(
    *,
    departure_id: int | None = None,
    trip_id: int | None = None,
    now: datetime,
    announce: bool = False,
) -> int:
    """Mark `held` bookings whose hold ran out by `now` (aware UTC) as `expired`
    (with `expired_at = now`), give their departure and category seats back and
    void each one's invoice with a credit note for its whole total (docs/design.md
    "Lifecycles": invoice; hold expiry credits the whole total); only those of
    `departure_id` (or of trip `trip_id`, whose seat segments are freed) when
    given. All in the caller's transaction.

    Safe under concurrency: the `status = 'held'` condition lets exactly one
    transaction expire each booking, so its seats come back and its credit note is
    issued once. With `announce`, each expired booking's "hold expired" mail and
    `booking.expired` webhook are queued in the same transaction
    (services.messaging.outbox). Returns the number of bookings expired. docs/design.md
    "Rules with numbers": hold.
    """
    stmt = (
        update(Booking)
        .where(Booking.status == "held", Booking.hold_expires_at <= now)
        .values(status="expired", expired_at=now)
        .returning(Booking.id, Booking.departure_id, Booking.seats)
        .execution_options(synchronize_session="fetch")
    )
    if departure_id is not None:
        stmt = stmt.where(Booking.departure_id == departure_id)
    if trip_id is not None:
        stmt = stmt.where(Booking.trip_id == trip_id)
    rows = db.session.execute(stmt).all()
    if rows:
        inventory.release_bookings_seats(rows)
        _void_invoices([row[0] for row in rows])
        if announce:
            _announce_expired([row[0] for row in rows])
    return len(rows)


def _announce_expired(booking_ids: list[int]) -> None:
    """Queue the expiry mail and `booking.expired` webhook of each booking."""
    from services.messaging import notifications, webhooks

    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.id.in_(booking_ids))
        .options(selectinload(Booking.customer))
        .order_by(Booking.id)
    )
    for booking in bookings:
        notifications.booking_expired(booking)
        webhooks.emit("booking.expired", resource="booking", resource_id=booking.id)


def _void_invoices(booking_ids: list[int]) -> None:
    """Credit the whole total of the invoices of `booking_ids` (bookings made before
    invoices existed have none)."""
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.booking_id.in_(booking_ids)).order_by(Invoice.id)
    ).all()
    for invoice in invoices:
        billing.credit(invoice, invoice.total_amount, EXPIRY_REASON)


def lapsed_hold_seats(*, departure_id: int, now: datetime) -> int:
    """Seats of `held` bookings of the departure whose hold ran out by `now` but
    that no sweep has expired yet."""
    stmt = select(func.coalesce(func.sum(Booking.seats), 0)).where(
        Booking.departure_id == departure_id,
        Booking.status == "held",
        Booking.hold_expires_at <= now,
    )
    return int(db.session.scalar(stmt))


def seats_left(departure: Departure, *, now: datetime | None = None) -> int:
    """Seats still free on `departure` for display: capacity minus seats taken, where
    a lapsed hold never counts as taken, swept or not (docs/design.md
    "Rules with numbers")."""
    now = now or utcnow()
    lapsed = lapsed_hold_seats(departure_id=departure.id, now=now)
    return max(departure.capacity - departure.seats_taken + lapsed, 0)


def expire_holds(now: datetime | None = None) -> int:
    """Expire every `held` booking whose hold ran out by `now` (default: the current
    time, aware UTC): status `expired`, seats (departure and category) given back,
    invoice voided by a credit note; one commit. Returns how many it expired.

    Idempotent and safe while the service runs and against another run (cron
    overlap): each booking leaves `held` through one conditional UPDATE, so only
    one transaction ever expires it (release_expired_holds). Backs
    `flask bookings expire-holds`.
    """
    try:
        count = release_expired_holds(now=now or utcnow(), announce=True)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return count


# --- revival by a late payment ----------------------------------------------------


def retake(booking: Booking, now: datetime) -> None:
    """Make a lapsed hold live again for a late payment, or refuse it
    (re-take the seats atomically if still free, else 409, nothing charged).

    - Not swept yet (`held`, hold run out): its seats are still counted in the
      departure and category counters (nobody can take them without first expiring
      it, release_expired_holds). One conditional UPDATE
      `... WHERE status = 'held' AND hold_expires_at <= now` gives it a new hold;
      a concurrent sweep or booking either expires it first (we then take the
      swept path) or finds it revived. No credit note is issued.
    - Swept (`expired`): one conditional UPDATE revives it (`expired` -> `held`, so
      only one concurrent payment can), then inventory.take_booking_seats takes
      its seats atomically (departure and categories).

    The payment that follows always confirms the booking (it must reach the
    deposit). The booking keeps its one invoice (UNIQUE per booking; documents are
    never deleted) and the payment is recorded against it. When the sweep already
    voided that invoice, its expiry credit note stays as issued (credit notes are
    immutable) and billing.invoice_status reads the invoice `void`; the booking's
    `amount_due` remains the measure of what is owed.

    Raises Conflict: the departure is no longer bookable (rules.check_bookable),
    `booking-changed` when another request changed it first, `seats-unavailable`
    (with `seats_left`) when the seats are gone; the caller rolls back, so nothing
    is charged.
    """
    if booking.kind == "trip":
        seating.check_ride_open(booking, now=now)
    else:
        rules.check_bookable(booking.departure, now=now)
    hold_until = now + timedelta(minutes=current_app.config["BOOKING_HOLD_MINUTES"])
    if booking.status == "held":
        if _revive(booking, "held", hold_until, Booking.hold_expires_at <= now):
            return
        db.session.refresh(booking)
        if booking.status != "expired":
            raise booking_changed()
    if not _revive(booking, "expired", hold_until):
        raise booking_changed()
    if not inventory.take_booking_seats(booking):
        if booking.kind == "trip":
            raise Conflict(
                _(
                    "The hold expired and its seats are taken on this ride now. "
                    "Nothing was charged."
                ),
                code="seats-unavailable",
            )
        left = inventory.free_seats_now(departure_id=booking.departure_id)
        raise Conflict(
            _(
                "The hold expired and its seats are gone: %(left)s left, "
                "%(needed)s needed. Nothing was charged.",
                left=left,
                needed=booking.seats,
            ),
            code="seats-unavailable",
            extra={"seats_left": left, "seats_requested": booking.seats},
        )


def _revive(booking: Booking, status: str, hold_until: datetime, *conditions) -> bool:
    """`status` -> `held` until `hold_until` in one conditional UPDATE; True when
    this call applied it."""
    return (
        db.session.execute(
            update(Booking)
            .where(Booking.id == booking.id, Booking.status == status, *conditions)
            .values(status="held", hold_expires_at=hold_until, expired_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def booking_changed() -> Conflict:
    """The 409 answered when a concurrent request changed the booking while a
    payment was being applied (nothing was charged)."""
    return Conflict(
        _(
            "The booking changed while this payment was processed; nothing was "
            "charged. Try again."
        ),
        code="booking-changed",
    )
