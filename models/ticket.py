"""What a trip booking holds and issues (docs/transport.md "Tickets"): the seat
segments it occupies and one ticket per passenger.

Segment inventory: a trip calling at stops 0..n has the segments 0..n-1 (segment
i runs from stop i to stop i + 1). A passenger from stop i to stop j occupies
segments i..j-1 of one seat: one `SeatSegment` row each. The UNIQUE constraint
on (trip, section, seat, segment) is the database's guarantee that a seat is never
held by two live bookings on overlapping segments, and since every seat label
comes from the section's seat map it also caps every segment at the section's
seat count. Rows exist while the booking is live (held, confirmed) or completed;
expiry and cancellation delete them, so the seat is free again.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db

TICKET_STATUSES = ("valid", "boarded", "cancelled", "no_show")


class SeatSegment(db.Model):
    """One seat of a trip's section occupied by a booking on one segment."""

    __tablename__ = "transport_seat_segments"
    __table_args__ = (
        UniqueConstraint(
            "trip_id", "section_code", "seat_label", "segment", name="seat_once"
        ),
        CheckConstraint("segment >= 0", name="segment_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(
        ForeignKey("transport_trips.id", ondelete="CASCADE"), nullable=False
    )
    section_code: Mapped[str] = mapped_column(String(32), nullable=False)
    seat_label: Mapped[str] = mapped_column(String(16), nullable=False)
    segment: Mapped[int] = mapped_column(Integer, nullable=False)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True
    )


class Ticket(TimestampMixin, db.Model):
    """A passenger's ticket, issued when the trip booking is confirmed."""

    __tablename__ = "transport_tickets"
    __table_args__ = (
        CheckConstraint(
            "status IN ('valid','boarded','cancelled','no_show')", name="status_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    traveller_id: Mapped[int] = mapped_column(
        ForeignKey("booking_travellers.id", ondelete="RESTRICT"),
        nullable=False,
        unique=True,
    )
    trip_id: Mapped[int] = mapped_column(
        ForeignKey("transport_trips.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    )
    status: Mapped[str] = mapped_column(String(10), default="valid", nullable=False)
    boarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    boarded_station_id: Mapped[int | None] = mapped_column(
        ForeignKey("transport_stations.id", ondelete="SET NULL")
    )
    boarded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )

    booking = relationship("Booking")
    traveller = relationship("Traveller")
    trip = relationship("Trip")
