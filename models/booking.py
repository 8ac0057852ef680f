"""Bookings of seats on a departure (DESIGN.md "Lifecycles": booking).

The first cut (issue #2) creates `held` bookings that take seats atomically; the
booking-engine issue adds payments, confirmation, expiry and cancellation on the
same columns.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import MONEY, TimestampMixin, UTCDateTime, db

BOOKING_STATUSES = ("held", "confirmed", "completed", "expired", "cancelled")
LIVE_STATUSES = ("held", "confirmed")


class Booking(TimestampMixin, db.Model):
    """Seats on one departure for one customer, with prices copied at booking time."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint(
            "status IN ('held','confirmed','completed','expired','cancelled')",
            name="status_valid",
        ),
        CheckConstraint("total_amount >= 0", name="total_non_negative"),
        CheckConstraint(
            "amount_paid >= 0 AND amount_paid <= total_amount", name="paid_within_total"
        ),
        db.Index("ix_bookings_departure_status", "departure_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    departure_id: Mapped[int] = mapped_column(
        ForeignKey("departures.id", ondelete="RESTRICT"), nullable=False
    )
    seats: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="held", nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    total_amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    amount_paid: Mapped[Decimal] = mapped_column(
        MONEY, default=Decimal("0.00"), nullable=False
    )
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Snapshot of the cancellation tiers in force when the booking was made.
    cancellation_policy: Mapped[list | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    customer = relationship("Customer")
    departure = relationship("Departure")
