"""Seat inventory of departures: take and give back seats without ever overselling
(docs/design.md "Rules with numbers": seats, hold; "Lifecycles": booking expiry).

Seats move only through single conditional UPDATE statements whose row count says
whether they applied. That is atomic on SQLite and on PostgreSQL (a concurrent
UPDATE of the same row waits for the first to commit and then re-checks the WHERE
clause against the new row), unlike `with_for_update()`, which SQLite ignores
(docs/architecture.md "Stack notes"). The CHECK constraints `seats_taken <= capacity` on
departures and departure_categories are the last line of defence. Nothing here
commits: callers own the transaction.

Every seat counts against its departure and against its traveller category
(`departure_categories.seats_taken`, kept for every category so that a limit added
later is right at once); a category with a `capacity` refuses seats beyond it. A
booking's seats per category are its travellers' categories, or all `adult` when
it names no travellers (`category_counts`). Rows are always locked in one order -
departures by id, then each departure's categories by name - so concurrent
transactions wait for each other instead of deadlocking.

The lifecycle of a hold (lapse, sweep, revival by a late payment) is in
services.booking.holds, which moves its seats through the functions here.
"""

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from sqlalchemy import func, or_, select, update

from core.extensions import db
from models import Booking, Departure, DepartureCategory, Traveller
from services.transport import seating

log = logging.getLogger(__name__)

DEFAULT_CATEGORY = "adult"


# --- departure seats ---------------------------------------------------------------


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


# --- category seats ----------------------------------------------------------------


def category_counts(booking: Booking) -> Counter:
    """Seats of `booking` per traveller category: its travellers' categories, or
    all `adult` when it names no travellers."""
    counts = Counter(traveller.category for traveller in booking.travellers)
    return counts or Counter({DEFAULT_CATEGORY: booking.seats})


def _category_exists(departure_id: int, category: str) -> bool:
    stmt = select(DepartureCategory.id).where(
        DepartureCategory.departure_id == departure_id,
        DepartureCategory.category == category,
    )
    return db.session.scalar(stmt) is not None


def _take_category(
    departure_id: int, category: str, seats: int, read=None, out: list | None = None
) -> bool:
    """Add `seats` to one category's seats_taken, within its capacity if it has one.
    A category without a row (a departure made before categories existed has no
    `adult` row) has no limit: True. With `read` (a scalar SQL expression), the
    UPDATE also returns it and, when the UPDATE applied, its value is appended to
    `out`."""
    row = DepartureCategory
    stmt = (
        update(row)
        .where(row.departure_id == departure_id, row.category == category)
        .where(or_(row.capacity.is_(None), row.seats_taken + seats <= row.capacity))
        .values(seats_taken=row.seats_taken + seats)
        .execution_options(synchronize_session="fetch")
    )
    if read is None:
        if db.session.execute(stmt).rowcount == 1:
            return True
    else:
        value = db.session.execute(stmt.returning(read)).first()
        if value is not None:
            out.append(value[0])
            return True
    return not _category_exists(departure_id, category)


def _release_category(departure_id: int, category: str, seats: int) -> None:
    """Give `seats` back to one category; logs when the books disagree."""
    row = DepartureCategory
    stmt = (
        update(row)
        .where(row.departure_id == departure_id, row.category == category)
        .where(row.seats_taken >= seats)
        .values(seats_taken=row.seats_taken - seats)
        .execution_options(synchronize_session="fetch")
    )
    if db.session.execute(stmt).rowcount != 1 and _category_exists(
        departure_id, category
    ):
        log.error(
            "departure %s: releasing more %s seats than taken", departure_id, category
        )


def take_category_seats(
    *, departure_id: int, counts: Mapping[str, int], read=None, out: list | None = None
) -> str | None:
    """Take seats per category (`{category: seats}`), categories in name order.

    Returns None when every category had room, else the name of the first category
    that did not; the categories taken before it are given back in the same
    transaction, so a refusal changes nothing. The caller has taken (and so
    locked) the departure's seats first.

    `read`, optional, is a scalar SQL expression (e.g. a scalar subquery) each
    category UPDATE also returns, saving the caller a statement; the values of
    the UPDATEs that applied are appended to the list `out` (none when the
    departure has no row for the categories). On PostgreSQL it is read with the
    snapshot of a statement that started after the departure row was locked.
    """
    taken = []
    for category in sorted(counts):
        if counts[category] < 1:
            continue
        if not _take_category(
            departure_id, category, counts[category], read=read, out=out
        ):
            for done in taken:
                _release_category(departure_id, done, counts[done])
            return category
        taken.append(category)
    return None


def release_category_seats(*, departure_id: int, counts: Mapping[str, int]) -> None:
    """Give seats back per category (`{category: seats}`), in name order."""
    for category in sorted(counts):
        if counts[category] >= 1:
            _release_category(departure_id, category, counts[category])


def category_seats_left(*, departure_id: int, category: str) -> int | None:
    """Seats left in a capacity-limited category as the database has it now; None
    when the category has no limit (or no row)."""
    stmt = select(DepartureCategory.capacity - DepartureCategory.seats_taken).where(
        DepartureCategory.departure_id == departure_id,
        DepartureCategory.category == category,
        DepartureCategory.capacity.is_not(None),
    )
    left = db.session.scalar(stmt)
    return None if left is None else max(int(left), 0)


# --- booking-level -----------------------------------------------------------------


def take_booking_seats(booking: Booking) -> bool:
    """Take the seats of an existing booking again (a late payment on an expired
    hold): the departure's seats, then its categories' seats, atomically (a trip
    booking: its seats on every segment, services.transport.seating.retake).
    Returns False, with nothing taken, when they no longer fit."""
    if booking.kind == "trip":
        return seating.retake(booking)
    if not take_seats(departure_id=booking.departure_id, seats=booking.seats):
        return False
    counts = category_counts(booking)
    if take_category_seats(departure_id=booking.departure_id, counts=counts) is None:
        return True
    release_seats(departure_id=booking.departure_id, seats=booking.seats)
    return False


def release_booking_seats(booking: Booking) -> None:
    """Give a live booking's seats back (cancellation): departure, then categories.
    Logs when the books disagree. A trip booking frees its seat segments
    (services.transport.seating.release)."""
    if booking.kind == "trip":
        seating.release([booking.id])
        return
    if not release_seats(departure_id=booking.departure_id, seats=booking.seats):
        log.error("departure %s: releasing more seats than taken", booking.departure_id)
    release_category_seats(
        departure_id=booking.departure_id, counts=category_counts(booking)
    )


def release_bookings_seats(rows: Iterable[tuple[int, int, int]]) -> None:
    """Give back the seats of many bookings that just left `held`/`confirmed` in
    bulk; `rows` are `(booking_id, departure_id, seats)`.

    Per departure (ascending id): its seats in one UPDATE, then per category (by
    name) the travellers' categories, `adult` for bookings without travellers.
    """
    rows = list(rows)
    seating.release([row[0] for row in rows if row[1] is None])  # trip bookings
    rows = [row for row in rows if row[1] is not None]
    seats_by_departure = Counter()
    departure_of = {}
    for booking_id, departure_id, seats in rows:
        seats_by_departure[departure_id] += seats
        departure_of[booking_id] = (departure_id, seats)
    per_category = _category_seats_of(departure_of)
    for departure_id in sorted(seats_by_departure):
        if not release_seats(
            departure_id=departure_id, seats=seats_by_departure[departure_id]
        ):
            log.error(
                "departure %s: released bookings exceed seats taken", departure_id
            )
        release_category_seats(
            departure_id=departure_id, counts=per_category[departure_id]
        )


def _category_seats_of(departure_of: dict[int, tuple[int, int]]) -> dict[int, Counter]:
    """`{departure_id: Counter(category -> seats)}` for the bookings in
    `departure_of` (`{booking_id: (departure_id, seats)}`), in one query."""
    per_category: dict[int, Counter] = defaultdict(Counter)
    named = set()
    if departure_of:
        stmt = (
            select(Traveller.booking_id, Traveller.category, func.count())
            .where(Traveller.booking_id.in_(list(departure_of)))
            .group_by(Traveller.booking_id, Traveller.category)
        )
        for booking_id, category, count in db.session.execute(stmt):
            per_category[departure_of[booking_id][0]][category] += count
            named.add(booking_id)
    for booking_id, (departure_id, seats) in departure_of.items():
        if booking_id not in named:
            per_category[departure_id][DEFAULT_CATEGORY] += seats
    return per_category


def free_seats_now(*, departure_id: int) -> int:
    """Capacity minus seats taken as the database has it right now (not the
    session's possibly stale copy); 0 for an unknown departure."""
    stmt = select(Departure.capacity - Departure.seats_taken).where(
        Departure.id == departure_id
    )
    return max(int(db.session.scalar(stmt) or 0), 0)
