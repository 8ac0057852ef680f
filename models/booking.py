"""Bookings of seats on a departure (docs/design.md "Lifecycles": booking).

The first cut creates `held` bookings that take seats atomically; the
booking engine adds payments, confirmation, expiry and cancellation on the
same columns.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import MONEY, TimestampMixin, UTCDateTime, db, utcnow

BOOKING_STATUSES = ("held", "confirmed", "completed", "expired", "cancelled")
LIVE_STATUSES = ("held", "confirmed")
TRAVELLER_CATEGORIES = ("adult", "child")
# A booking is seats on a package departure, or tickets on a transport trip from
# one of its stations to a later one (docs/transport.md "Tickets").
BOOKING_KINDS = ("package", "trip")


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
        CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount_paid",
            name="refunded_within_paid",
        ),
        CheckConstraint(
            "deposit_amount >= 0 AND deposit_amount <= total_amount",
            name="deposit_within_total",
        ),
        db.Index("ix_bookings_departure_status", "departure_id", "status"),
        db.Index("ix_bookings_trip_status", "trip_id", "status"),
        CheckConstraint(
            "(kind = 'package' AND departure_id IS NOT NULL AND trip_id IS NULL) OR "
            "(kind = 'trip' AND trip_id IS NOT NULL AND departure_id IS NULL "
            "AND from_sequence IS NOT NULL AND to_sequence > from_sequence "
            "AND section_code IS NOT NULL)",
            name="kind_shape",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(
        String(8), default="package", server_default="package", nullable=False
    )
    # A package booking's departure (null for a trip booking).
    departure_id: Mapped[int | None] = mapped_column(
        ForeignKey("departures.id", ondelete="RESTRICT")
    )
    # A trip booking: the trip, the stations boarded and left with their stop
    # sequences (the segments from_sequence .. to_sequence - 1 are occupied) and
    # the vehicle section sold (docs/transport.md "Tickets").
    trip_id: Mapped[int | None] = mapped_column(
        ForeignKey("transport_trips.id", ondelete="RESTRICT")
    )
    from_station_id: Mapped[int | None] = mapped_column(
        ForeignKey("transport_stations.id", ondelete="RESTRICT")
    )
    to_station_id: Mapped[int | None] = mapped_column(
        ForeignKey("transport_stations.id", ondelete="RESTRICT")
    )
    from_sequence: Mapped[int | None] = mapped_column(Integer)
    to_sequence: Mapped[int | None] = mapped_column(Integer)
    section_code: Mapped[str | None] = mapped_column(String(32))
    seats: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="held", nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    total_amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    amount_paid: Mapped[Decimal] = mapped_column(
        MONEY, default=Decimal("0.00"), nullable=False
    )
    # Gross money received, and money given back (refunds issued, any state).
    amount_refunded: Mapped[Decimal] = mapped_column(
        MONEY, default=Decimal("0.00"), nullable=False
    )
    # What confirms the booking: package deposit_percent of the total (snapshot).
    deposit_amount: Mapped[Decimal] = mapped_column(
        MONEY, default=Decimal("0.00"), nullable=False
    )
    # The rest is due this many days before the departure (BALANCE_DUE_DAYS).
    balance_due_date: Mapped[date | None] = mapped_column(Date)
    # Price per traveller category at booking time, e.g. {"adult": "900.00"}.
    price_snapshot: Mapped[dict | None] = mapped_column(JSON)
    # Penalty kept when cancelled (docs/design.md "Rules with numbers": cancellation
    # tiers); null while not cancelled.
    penalty_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Snapshot of the cancellation tiers in force when the booking was made.
    cancellation_policy: Mapped[list | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Indexed for the cancellations report over a date range (bench/reports.py).
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # True while a card payment of the booking is disputed at the cardholder's bank
    # (services/payments/provider_money.py).
    disputed: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer = relationship("Customer")
    departure = relationship("Departure")
    trip = relationship("Trip")
    from_station = relationship("Station", foreign_keys=[from_station_id])
    to_station = relationship("Station", foreign_keys=[to_station_id])
    travellers = relationship(
        "Traveller",
        back_populates="booking",
        order_by="Traveller.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def amount_due(self) -> Decimal:
        """What is still to pay: total minus paid."""
        return self.total_amount - self.amount_paid

    def hold_lapsed(self, now: datetime | None = None) -> bool:
        """True for a `held` booking whose hold has run out, swept or not
        (docs/design.md "Rules with numbers": an expired hold never counts as taken)."""
        now = now or utcnow()
        return (
            self.status == "held"
            and self.hold_expires_at is not None
            and (self.hold_expires_at <= now)
        )

    @property
    def current_status(self) -> str:
        """The status as callers should see it: a lapsed hold reads `expired` even
        before a sweep has stored it."""
        return "expired" if self.hold_lapsed() else self.status


class Traveller(db.Model):
    """One traveller of a booking (one per seat when the booker names them)."""

    __tablename__ = "booking_travellers"
    __table_args__ = (
        CheckConstraint("length(category) >= 1", name="category_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    category: Mapped[str] = mapped_column(String(20), default="adult", nullable=False)
    # The category's seat price copied when the booking was made.
    unit_price: Mapped[Decimal | None] = mapped_column(MONEY)
    # A trip passenger's travel document and the seat given (none for an infant
    # on a lap; docs/transport.md "Tickets").
    document_type: Mapped[str | None] = mapped_column(String(20))
    document_number: Mapped[str | None] = mapped_column(String(40))
    nationality: Mapped[str | None] = mapped_column(String(2))
    seat_label: Mapped[str | None] = mapped_column(String(16))

    booking = relationship("Booking", back_populates="travellers")
