"""Seats of a trip per segment (docs/transport.md "Tickets": segment inventory and
seat choice).

A trip calling at stops 0..n has the segments 0..n-1; a passenger from stop i to
stop j occupies segments i..j-1 of one seat (models.ticket.SeatSegment, one row
per segment). The table's UNIQUE (trip, section, seat, segment) is what keeps a
seat from two live bookings on overlapping segments, so a seat sold A-B is free
again B-C, and since every label comes from the section's seat map no segment ever
carries more passengers than the section has seats. A booking serialises with the
other bookings of its trip by locking the trip row first (`lock_trip`).

A lapsed hold (docs/design.md "Rules with numbers": hold) still has its rows until
it is expired, but never counts as taken here; a new booking expires the trip's
lapsed holds under the trip lock before it takes seats.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict
from core.extensions import db
from core.i18n import _
from models import Booking, SeatSegment, StopTime, Ticket, Trip, VehicleSection
from models.base import utcnow


def seat_labels(section: VehicleSection) -> list[str]:
    """The seat labels of `section` in seat-map order (row by row, left to right;
    null cells are aisles)."""
    return [label for row in section.seat_map["rows"] for label in row if label]


def segments(from_seq: int, to_seq: int) -> range:
    """The segments a ride from stop sequence `from_seq` to `to_seq` occupies."""
    return range(from_seq, to_seq)


def lock_trip(trip_id: int) -> Trip | None:
    """The trip row, locked FOR UPDATE until the transaction ends (PostgreSQL;
    SQLite serialises writers anyway): bookings of one trip take seats one after
    the other. None when there is no such trip."""
    return db.session.scalar(
        select(Trip).where(Trip.id == trip_id).with_for_update().limit(1)
    )


def counting(now: datetime):
    """The condition on Booking under which its seat rows count as taken: live or
    completed, and not a hold that ran out by `now`."""
    lapsed = and_(Booking.status == "held", Booking.hold_expires_at <= now)
    return and_(Booking.status.in_(("held", "confirmed", "completed")), ~lapsed)


def taken_seats(
    trip_id: int,
    section_code: str,
    from_seq: int,
    to_seq: int,
    now: datetime | None = None,
) -> set[str]:
    """The labels of `section_code` seats taken on any segment between stop
    sequences `from_seq` and `to_seq` of trip `trip_id` (a lapsed hold's never
    count; `now` aware UTC, default the current time)."""
    now = now or utcnow()
    stmt = (
        select(SeatSegment.seat_label)
        .join(Booking, Booking.id == SeatSegment.booking_id)
        .where(
            SeatSegment.trip_id == trip_id,
            SeatSegment.section_code == section_code,
            SeatSegment.segment >= from_seq,
            SeatSegment.segment < to_seq,
            counting(now),
        )
        .distinct()
    )
    return set(db.session.scalars(stmt))


def taken_on_trips(
    trip_ids: Iterable[int], now: datetime | None = None
) -> dict[int, list[tuple[str, str, int]]]:
    """Every counted seat row of the trips `trip_ids` in one query, as `{trip_id:
    [(section_code, seat_label, segment), ...]}` (search answers many rides at
    once: `free_for_ride` then counts each ride without another query)."""
    now = now or utcnow()
    ids = list(trip_ids)
    taken: dict[int, list[tuple[str, str, int]]] = {trip_id: [] for trip_id in ids}
    if not ids:
        return taken
    stmt = (
        select(
            SeatSegment.trip_id,
            SeatSegment.section_code,
            SeatSegment.seat_label,
            SeatSegment.segment,
        )
        .join(Booking, Booking.id == SeatSegment.booking_id)
        .where(SeatSegment.trip_id.in_(ids), counting(now))
    )
    for trip_id, code, label, segment in db.session.execute(stmt):
        taken[trip_id].append((code, label, segment))
    return taken


def free_for_ride(
    section: VehicleSection,
    rows: list[tuple[str, str, int]],
    from_seq: int,
    to_seq: int,
) -> int:
    """Seats of `section` free on every segment from `from_seq` to `to_seq`, given
    the trip's counted seat rows `rows` (taken_on_trips)."""
    taken = {
        label
        for code, label, segment in rows
        if code == section.code and from_seq <= segment < to_seq
    }
    return sum(1 for label in seat_labels(section) if label not in taken)


def seats_left(
    trip_id: int,
    section: VehicleSection,
    from_seq: int,
    to_seq: int,
    now: datetime | None = None,
) -> int:
    """Seats of `section` a new booking can still have over every segment between
    `from_seq` and `to_seq`: seats free on all of them (a seat free on one segment
    and taken on the next cannot be sold for the whole ride)."""
    taken = taken_seats(trip_id, section.code, from_seq, to_seq, now)
    return sum(1 for label in seat_labels(section) if label not in taken)


def assign(section: VehicleSection, taken: set[str], count: int) -> list[str] | None:
    """`count` free seats of `section`, together where possible: the first run of
    `count` free seats next to each other in one row (an aisle splits a row),
    else the first row holding them all, else the first free seats in seat-map
    order. None when fewer than `count` are free."""
    if count == 0:
        return []
    rows = section.seat_map["rows"]
    for row in rows:
        run: list[str] = []
        for label in row:
            run = [*run, label] if label and label not in taken else []
            if len(run) == count:
                return run
    for row in rows:
        free = [label for label in row if label and label not in taken]
        if len(free) >= count:
            return free[:count]
    free = [label for label in seat_labels(section) if label not in taken]
    return free[:count] if len(free) >= count else None


def occupy(
    booking: Booking, labels: Sequence[str], *, trip_id: int, section_code: str
) -> None:
    """Write the seat rows of `booking` (flushed: its id exists) for every seat of
    `labels` on every segment of its ride, in one INSERT. The UNIQUE constraint
    raises IntegrityError when a seat is already held on one of those segments:
    the caller rolls back and answers 409 `seat-taken`."""
    rows = [
        {
            "trip_id": trip_id,
            "section_code": section_code,
            "seat_label": label,
            "segment": segment,
            "booking_id": booking.id,
        }
        for label in labels
        for segment in segments(booking.from_sequence, booking.to_sequence)
    ]
    if rows:
        db.session.execute(insert(SeatSegment), rows)


def release(booking_ids: Iterable[int]) -> int:
    """Free the seats of `booking_ids` on every segment and cancel their `valid`
    tickets (expiry, cancellation: the booking gives its ride up; boarded and
    no-show tickets keep their status), in the caller's transaction. Returns how
    many tickets it cancelled."""
    ids = list(booking_ids)
    if not ids:
        return 0
    db.session.execute(
        delete(SeatSegment)
        .where(SeatSegment.booking_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(
        update(Ticket)
        .where(Ticket.booking_id.in_(ids), Ticket.status == "valid")
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    ).rowcount


def retake(booking: Booking) -> bool:
    """Take the seats of an expired trip booking again (a late payment revives
    it): its passengers' seats on every segment of its ride, inside a savepoint.
    False, with nothing taken, when one of them is gone meanwhile."""
    labels = [t.seat_label for t in booking.travellers if t.seat_label]
    try:
        with db.session.begin_nested():
            occupy(
                booking,
                labels,
                trip_id=booking.trip_id,
                section_code=booking.section_code,
            )
    except IntegrityError:
        return False
    return True


def ride_start(booking: Booking) -> datetime:
    """When a trip booking's ride starts: the trip's departure from the boarding
    stop (aware UTC)."""
    return db.session.scalar(
        select(StopTime.departure_at).where(
            StopTime.trip_id == booking.trip_id,
            StopTime.sequence == booking.from_sequence,
        )
    )


def check_ride_open(booking: Booking, *, now: datetime) -> None:
    """Conflict (409) when a trip booking's ride can no longer be sold or revived:
    the trip is not scheduled (`trip-not-bookable`) or has left the boarding
    station (`trip-departed`). The trip row is read FOR SHARE (PostgreSQL), so a
    late payment waits for a concurrent trip cancellation and then sees it."""
    status = db.session.scalar(
        select(Trip.status).where(Trip.id == booking.trip_id).with_for_update(read=True)
    )
    if status != "scheduled":
        raise Conflict(
            _("The trip is %(status)s.", status=status), code="trip-not-bookable"
        )
    if ride_start(booking) <= now:
        raise Conflict(
            _("The trip has already left the boarding station."), code="trip-departed"
        )


def seat_map_state(section: VehicleSection, taken: set[str]) -> list[list[dict | None]]:
    """The section's seat map with each seat `{label, status: free|taken}` (null
    cells stay null: aisles), for the seat-choice view."""
    return [
        [
            {"label": label, "status": "taken" if label in taken else "free"}
            if label
            else None
            for label in row
        ]
        for row in section.seat_map["rows"]
    ]


def trip_bookings_filter(trip_id: int, now: datetime):
    """The WHERE clause of the live (unlapsed held, confirmed) bookings of a trip."""
    lapsed = and_(Booking.status == "held", Booking.hold_expires_at <= now)
    return and_(
        Booking.trip_id == trip_id,
        or_(Booking.status == "confirmed", and_(Booking.status == "held", ~lapsed)),
    )
