"""Tour packages with their day-by-day itinerary and the package search index
(docs/design.md "Lifecycles": package). Departures: models/departure.py."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import MONEY, TimestampMixin, UTCDateTime, db

PACKAGE_STATUSES = ("draft", "pending_approval", "published", "rejected", "archived")
TRANSPORT_MODES = ("flight", "train", "bus", "none")


class Package(TimestampMixin, db.Model):
    """A tour package; only `published` ones are visible to customers and bookable."""

    __tablename__ = "packages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft','pending_approval','published','rejected','archived')",
            name="status_valid",
        ),
        CheckConstraint(
            "tax_rate IS NULL OR (tax_rate >= 0 AND tax_rate <= 100)",
            name="tax_rate_range",
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
    # `{"de": {"title": ..., "description": ...}, "es": {...}}`, served in the
    # caller's language with a fallback to the original (docs/i18n.md).
    translations: Mapped[dict | None] = mapped_column(JSON)
    # VAT in percent included in the prices; null means DEFAULT_TAX_RATE
    # (docs/documents.md "Tax").
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
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
    # Title, description, destination and itinerary text, kept by
    # services.catalogue.search for full-text search (SQLite FTS5 table / PostgreSQL GIN
    # tsvector index).
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
    translations: Mapped[dict | None] = mapped_column(JSON)

    package = relationship("Package", back_populates="itinerary")


# Full-text search support created with the table (create_all in tests) and by the
# migration: an external-content FTS5 table kept in sync by triggers on SQLite, a GIN
# expression index on PostgreSQL. services.catalogue.search queries whichever exists.
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
