"""The catalogue version: one row that every change to the public catalogue bumps in
its own transaction, so HTTP validators (ETag, Last-Modified) of catalogue reads are
cheap to compute (docs/design.md "API conventions": HTTP caching)."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, db, utcnow

CATALOGUE_VERSION_ID = 1


class CatalogueVersion(db.Model):
    """The single row (`id` = 1) counting catalogue changes: `version` goes up by one
    per committed change of packages, itineraries or departures (never per booking),
    `changed_at` is when the last one happened."""

    __tablename__ = "catalogue_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    changed_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )
