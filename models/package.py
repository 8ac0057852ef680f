"""Tour packages with their day-by-day itinerary and dated departures
(docs/design.md "Lifecycles": package, departure)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DDL,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from models.base import MONEY, TimestampMixin, UTCDateTime, db

PACKAGE_STATUSES = ("draft", "pending_approval", "published", "rejected", "archived")
TRANSPORT_MODES = ("flight", "train", "bus", "none")
DEPARTURE_STATUSES = ("scheduled", "cancelled")


class Package(TimestampMixin, db.Model):
    """A tour package; only `published` ones are visible to customers and bookable."""

    __tablename__ = "packages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft','pending_approval','published','rejected','archived')",
            name="status_valid",
        ),
        CheckConstraint("duration_days >= 1", name="duration_positive"),
        CheckConstraint("base_price >= 0", name="base_price_non_negative"),
        CheckConstraint(
            "deposit_percent >= 1 AND deposit_percent <= 100", name="deposit_range"
        ),
        # Each `sort=` of the catalogue pages by keyset on an index (docs/design.md
        # "API conventions"); destination and created_at have theirs already.
        Index("ix_packages_title", "title"),
        Index("ix_packages_base_price", "base_price"),
        Index("ix_packages_duration_days", "duration_days"),
        Index("ix_packages_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    destination: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    origin: Mapped[str | None] = mapped_column(String(120))
    transport_mode: Mapped[str] = mapped_column(
        String(10), default="none", nullable=False
    )
    duration_days: Mapped[int] = mapped_column(Integer, nullable=False)
    base_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    deposit_percent: Mapped[int] = mapped_column(Integer, default=100, nullable=False)
    status: Mapped[str] = mapped_column(
        String(20), default="draft", nullable=False, index=True
    )
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    # Maker-checker: who started the revision under review and who last edited it.
    revision_author_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    last_edited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Title, description, destination and itinerary text, kept by services.search for
    # full-text search (SQLite FTS5 table / PostgreSQL GIN tsvector index).
    search_document: Mapped[str] = mapped_column(Text, default="", nullable=False)

    itinerary = relationship(
        "ItineraryDay",
        back_populates="package",
        order_by="ItineraryDay.day_number",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    departures = relationship(
        "Departure",
        back_populates="package",
        order_by="Departure.start_date",
        passive_deletes=True,
    )


class ItineraryDay(db.Model):
    """One day of a package's itinerary."""

    __tablename__ = "itinerary_days"
    __table_args__ = (
        UniqueConstraint(
            "package_id", "day_number", name="uq_itinerary_days_package_day"
        ),
        CheckConstraint("day_number >= 1", name="day_number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), nullable=False, index=True
    )
    day_number: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    location: Mapped[str | None] = mapped_column(String(120))

    package = relationship("Package", back_populates="itinerary")


class Departure(TimestampMixin, db.Model):
    """A dated departure of a package with a seat capacity.

    `seats_taken` counts seats of held and confirmed bookings; it only moves through
    atomic conditional UPDATEs in services.inventory, and the CHECK constraint makes
    overselling impossible at the database level (docs/design.md "Rules with numbers").
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
    UPDATE (services.inventory) and CHECK constraint as the departure.
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


# Full-text search support created with the table (create_all in tests) and by the
# migration: an external-content FTS5 table kept in sync by triggers on SQLite, a GIN
# expression index on PostgreSQL. services.search queries whichever exists.
SQLITE_FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS package_fts USING fts5("
    "search_document, content='packages', content_rowid='id', "
    "tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS packages_fts_ai AFTER INSERT ON packages BEGIN "
    "INSERT INTO package_fts(rowid, search_document) "
    "VALUES (new.id, new.search_document); END",
    "CREATE TRIGGER IF NOT EXISTS packages_fts_ad AFTER DELETE ON packages BEGIN "
    "INSERT INTO package_fts(package_fts, rowid, search_document) "
    "VALUES ('delete', old.id, old.search_document); END",
    "CREATE TRIGGER IF NOT EXISTS packages_fts_au AFTER UPDATE ON packages BEGIN "
    "INSERT INTO package_fts(package_fts, rowid, search_document) "
    "VALUES ('delete', old.id, old.search_document); "
    "INSERT INTO package_fts(rowid, search_document) "
    "VALUES (new.id, new.search_document); END",
)
POSTGRES_FTS_DDL = (
    "CREATE INDEX IF NOT EXISTS ix_packages_search_fts ON packages "
    "USING gin (to_tsvector('english', search_document))",
)
FTS_OBJECT_NAMES = {"package_fts", "ix_packages_search_fts"}

for _statement in SQLITE_FTS_DDL:
    event.listen(
        Package.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in POSTGRES_FTS_DDL:
    event.listen(
        Package.__table__,
        "after_create",
        DDL(_statement).execute_if(dialect="postgresql"),
    )
event.listen(
    Package.__table__,
    "before_drop",
    DDL("DROP TABLE IF EXISTS package_fts").execute_if(dialect="sqlite"),
)


def _category_lapsed_hold_seats():
    """Seats of the category held by bookings whose hold ran out but that no sweep
    has expired yet: their travellers of this category, plus, for `adult`, the
    seats of such bookings that name no travellers (docs/design.md "Rules with
    numbers": hold). A correlated subquery per category row."""
    from sqlalchemy import exists, func, select

    from models.booking import Booking, Traveller

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
