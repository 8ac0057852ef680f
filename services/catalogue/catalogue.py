"""The catalogue version (docs/design.md "API conventions": HTTP caching).

Every service that changes what the public catalogue shows (packages, their
itineraries and workflow, departures, their prices and cancellation) calls
`bump_version()` just before its commit, so the bump commits or rolls back with the
change. Catalogue reads turn `current_version()` into cheap HTTP validators (ETag,
Last-Modified) without reading the catalogue itself.

Bookings never bump it: seats move on every booking, and one hot row updated per
booking would serialise all bookings across departures. Responses that show live
seats are validated by a digest of their body instead (routes/common/caching.py).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.extensions import db
from models.base import utcnow
from models.booking import Booking
from models.catalogue import CATALOGUE_VERSION_ID, CatalogueVersion

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Version:
    """The catalogue's version `number` and when it last changed (`changed_at`,
    aware UTC)."""

    number: int
    changed_at: datetime


def bump_version() -> None:
    """Add one to the catalogue version and set its `changed_at` to now, inside the
    current transaction (no commit): call it right before the commit of a catalogue
    change, last, so the row lock it takes on PostgreSQL is held only until that
    commit and is always the last lock taken (no deadlock with the row locks taken
    before). One statement, an upsert (`INSERT ... ON CONFLICT (id) DO UPDATE SET
    version = version + 1`), so it also works when the row is missing."""
    now = utcnow()
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(CatalogueVersion).values(
        id=CATALOGUE_VERSION_ID, version=1, changed_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[CatalogueVersion.id],
        set_={"version": CatalogueVersion.version + 1, "changed_at": now},
    )
    db.session.execute(stmt)


def current_version() -> Version:
    """The committed catalogue version as this transaction sees it (one primary-key
    read); version 0 at the epoch when the row does not exist yet."""
    row = db.session.execute(
        select(CatalogueVersion.version, CatalogueVersion.changed_at).where(
            CatalogueVersion.id == CATALOGUE_VERSION_ID
        )
    ).first()
    if row is None:
        return Version(0, EPOCH)
    return Version(int(row.version), row.changed_at)


def last_lapsed_hold(departure_ids: list[int]) -> datetime | None:
    """When the latest hold of `departure_ids` that ran out but was not swept yet
    ran out (None without any): from then on it no longer counts as taken, so the
    seats those departures show changed then without any write to their rows
    (docs/design.md "Rules with numbers": hold; the same rule as
    models.Departure.lapsed_hold_seats). One query on the bookings' departure
    index."""
    if not departure_ids:
        return None
    return db.session.scalar(
        select(func.max(Booking.hold_expires_at)).where(
            Booking.departure_id.in_(departure_ids),
            Booking.status == "held",
            Booking.hold_expires_at <= func.current_timestamp(),
        )
    )
