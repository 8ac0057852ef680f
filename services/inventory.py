"""Seat inventory of departures: take and give back seats without ever overselling
(DESIGN.md "Rules with numbers": seats, hold; "Lifecycles": booking expiry).

Seats move only through single conditional UPDATE statements whose row count says
whether they applied. That is atomic on SQLite and on PostgreSQL (a concurrent
UPDATE of the same row waits for the first to commit and then re-checks the WHERE
clause against the new row), unlike `with_for_update()`, which SQLite ignores
(ENGINEERING.md "Traps"). The CHECK `seats_taken <= capacity` on departures is the
last line of defence. Nothing here commits: callers own the transaction.
"""

import logging
from collections import Counter
from datetime import datetime

from sqlalchemy import func, select, update

from extensions import db
from models import Booking, Departure
from models.base import utcnow

log = logging.getLogger(__name__)


def take_seats(*, departure_id: int, seats: int) -> bool:
    """Add `seats` (>= 1) to the departure's `seats_taken` if they fit.

    Returns True when the seats were taken, False when they do not fit (or the
    departure does not exist). Raises ValueError for a non-positive count.
    """
    if seats < 1:
        raise ValueError("seats must be at least 1")
    stmt = (
        update(Departure)
        .where(Departure.id == departure_id)
        .where(Departure.seats_taken + seats <= Departure.capacity)
        .values(seats_taken=Departure.seats_taken + seats)
        .execution_options(synchronize_session="fetch")
    )
    return db.session.execute(stmt).rowcount == 1


def release_seats(*, departure_id: int, seats: int) -> bool:
    """Give `seats` (>= 1) back to the departure.

    Returns False (and changes nothing) when fewer seats are taken than given back,
    which would mean the books disagree; raises ValueError for a non-positive count.
    """
    if seats < 1:
        raise ValueError("seats must be at least 1")
    stmt = (
        update(Departure)
        .where(Departure.id == departure_id, Departure.seats_taken >= seats)
        .values(seats_taken=Departure.seats_taken - seats)
        .execution_options(synchronize_session="fetch")
    )
    return db.session.execute(stmt).rowcount == 1


def release_expired_holds(*, departure_id: int | None = None, now: datetime) -> int:
    """Mark `held` bookings whose hold ran out by `now` (aware UTC) as `expired` and
    give their seats back; only those of `departure_id` when given.

    Safe under concurrency: the `status = 'held'` condition lets exactly one
    transaction expire each booking, so its seats come back once. Returns the
    number of bookings expired. DESIGN.md "Rules with numbers": hold.
    """
    stmt = (
        update(Booking)
        .where(Booking.status == "held", Booking.hold_expires_at <= now)
        .values(status="expired")
        .returning(Booking.departure_id, Booking.seats)
        .execution_options(synchronize_session="fetch")
    )
    if departure_id is not None:
        stmt = stmt.where(Booking.departure_id == departure_id)
    rows = db.session.execute(stmt).all()
    freed = Counter()
    for row_departure_id, seats in rows:
        freed[row_departure_id] += seats
    for freed_departure_id in sorted(freed):  # one lock order for every caller
        if not release_seats(departure_id=freed_departure_id, seats=freed[freed_departure_id]):
            log.error("departure %s: expired holds exceed seats taken", freed_departure_id)
    return len(rows)


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
    a lapsed hold never counts as taken, swept or not (DESIGN.md "Rules")."""
    now = now or utcnow()
    lapsed = lapsed_hold_seats(departure_id=departure.id, now=now)
    return max(departure.capacity - departure.seats_taken + lapsed, 0)


def free_seats_now(*, departure_id: int) -> int:
    """Capacity minus seats taken as the database has it right now (not the
    session's possibly stale copy); 0 for an unknown departure."""
    stmt = select(Departure.capacity - Departure.seats_taken).where(
        Departure.id == departure_id
    )
    return max(int(db.session.scalar(stmt) or 0), 0)


def take_booking_seats(booking: Booking) -> bool:
    """Take the seats of an existing booking again (a late payment on an expired
    hold): the departure's seats, atomically. Returns False when they no longer fit.

    The booking-engine issue extends this to per-category seat limits; callers use
    only this function and `release_booking_seats`.
    """
    return take_seats(departure_id=booking.departure_id, seats=booking.seats)


def release_booking_seats(booking: Booking) -> None:
    """Give a live booking's seats back (cancellation). Logs when the books disagree."""
    if not release_seats(departure_id=booking.departure_id, seats=booking.seats):
        log.error("departure %s: releasing more seats than taken", booking.departure_id)
