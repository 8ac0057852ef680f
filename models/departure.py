"""Dated departures of a package with their seat categories (docs/design.md
"Lifecycles": departure). Seats taken = held + confirmed; a lapsed hold never counts
(`lapsed_hold_seats`, correlated subqueries defined at the end of this module)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from models.base import MONEY, TimestampMixin, UTCDateTime, db
from models.booking import Booking, Traveller

DEPARTURE_STATUSES = ("scheduled", "cancelled")


class Departure(TimestampMixin, db.Model):
    """A dated departure of a package with a seat capacity.

    `seats_taken` counts seats of held and confirmed bookings; it only moves through
    atomic conditional UPDATEs in services.booking.inventory, and the CHECK constraint
    makes overselling impossible at the database level (docs/design.md
    "Rules with numbers").
    """

    __tablename__ = "departures"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_non_negative"),
        CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"
        ),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("price >= 0", name="price_non_negative"),
        CheckConstraint("status IN ('scheduled','cancelled')", name="status_valid"),
        CheckConstraint("min_party_size >= 1", name="min_party_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    start_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # None: bookable until the departure starts (00:00 UTC of start_date).
    booking_cutoff: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The smallest party one booking may be for (seats per booking).
    min_party_size: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    status: Mapped[str] = mapped_column(String(12), default="scheduled", nullable=False)

    package = relationship("Package", back_populates="departures")
    categories = relationship(
        "DepartureCategory",
        back_populates="departure",
        order_by="DepartureCategory.category",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def seats_left(self) -> int:
        """Seats still for sale: capacity minus seats in use."""
        return max(self.capacity - self.seats_in_use, 0)

    @property
    def seats_in_use(self) -> int:
        """Seats of confirmed bookings and unexpired holds: `seats_taken` less the
        seats of lapsed holds not swept yet (`lapsed_hold_seats`, models/__init__)."""
        return self.seats_taken - int(getattr(self, "lapsed_hold_seats", 0) or 0)

    @property
    def prices(self) -> dict:
        """Seat price per traveller category, `{category: Decimal}`; `adult` is
        always there (= `price`, also for a departure that has no category rows)."""
        prices = {"adult": self.price}
        prices.update({row.category: row.price for row in self.categories})
        return prices

    @property
    def category_capacities(self) -> dict:
        """`{category: seats}` of the categories that have their own seat limit."""
        return {
            row.category: row.capacity
            for row in self.categories
            if row.capacity is not None
        }

    @property
    def category_seats_left(self) -> dict:
        """`{category: seats}` still for sale in each capacity-limited category:
        its own room (lapsed holds never count) and never more than the departure's."""
        return {
            row.category: min(row.seats_left, self.seats_left)
            for row in self.categories
            if row.capacity is not None
        }


class DepartureCategory(db.Model):
    """A price category of a departure (adult, child, or e.g. economy/business for a
    transport leg) with its seat price and, optionally, its own seat limit.

    Every seat also counts against the departure's capacity; a category with a
    `capacity` is limited further, through the same kind of atomic conditional
    UPDATE (services.booking.inventory) and CHECK constraint as the departure.
    """

    __tablename__ = "departure_categories"
    __table_args__ = (
        UniqueConstraint(
            "departure_id", "category", name="uq_departure_categories_dep_cat"
        ),
        CheckConstraint("price >= 0", name="price_non_negative"),
        CheckConstraint(
            "seats_taken >= 0 AND (capacity IS NULL OR seats_taken <= capacity)",
            name="seats_within_capacity",
        ),
        CheckConstraint(
            "capacity IS NULL OR capacity >= 0", name="capacity_non_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    departure_id: Mapped[int] = mapped_column(
        ForeignKey("departures.id", ondelete="CASCADE"), nullable=False, index=True
    )
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    capacity: Mapped[int | None] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    departure = relationship("Departure", back_populates="categories")

    @property
    def seats_left(self) -> int | None:
        """Seats left in this category when it has a limit (None otherwise):
        capacity minus seats taken, where a lapsed hold never counts, swept or not
        (`lapsed_hold_seats`, defined below)."""
        if self.capacity is None:
            return None
        in_use = self.seats_taken - int(getattr(self, "lapsed_hold_seats", 0) or 0)
        return max(self.capacity - in_use, 0)


# Seats of held bookings whose hold ran out but that no sweep has expired yet: they
# never count as taken (docs/design.md "Rules with numbers": hold). One correlated
# subquery per departure row, so lists stay one query.
Departure.lapsed_hold_seats = column_property(
    select(func.coalesce(func.sum(Booking.seats), 0))
    .where(
        Booking.departure_id == Departure.id,
        Booking.status == "held",
        Booking.hold_expires_at <= func.current_timestamp(),
    )
    .correlate_except(Booking)
    .scalar_subquery()
)


def _category_lapsed_hold_seats():
    """Seats of the category held by bookings whose hold ran out but that no sweep
    has expired yet: their travellers of this category, plus, for `adult`, the
    seats of such bookings that name no travellers (docs/design.md "Rules with
    numbers": hold). A correlated subquery per category row."""
    lapsed = (
        Booking.departure_id == DepartureCategory.departure_id,
        Booking.status == "held",
        Booking.hold_expires_at <= func.current_timestamp(),
    )
    named = (
        select(func.count(Traveller.id))
        .join(Booking, Booking.id == Traveller.booking_id)
        .where(*lapsed, Traveller.category == DepartureCategory.category)
        .correlate_except(Booking, Traveller)
        .scalar_subquery()
    )
    unnamed = (
        select(func.coalesce(func.sum(Booking.seats), 0))
        .where(
            *lapsed,
            DepartureCategory.category == "adult",
            ~exists().where(Traveller.booking_id == Booking.id),
        )
        .correlate_except(Booking)
        .scalar_subquery()
    )
    return named + unnamed


DepartureCategory.lapsed_hold_seats = column_property(_category_lapsed_hold_seats())
