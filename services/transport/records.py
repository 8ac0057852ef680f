"""Small lookups the transport services share (docs/transport.md): uniqueness
checks that answer a clear 409 before the database's UNIQUE constraint would, and
"is this record used anywhere" checks that refuse deletions with 409."""

from sqlalchemy import or_, select

from core.errors import Conflict
from core.extensions import db
from services.audit import audit


def check_free(model, error: Conflict, *, exclude_id: int | None = None, **values):
    """Raise `error` (a 409) when a row of `model` other than `exclude_id` has
    these column `values` (e.g. `code="LHR"`); nothing otherwise."""
    stmt = select(model.id).filter_by(**values)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise error


def any_exists(*selects) -> bool:
    """True when any of the SELECT statements `selects` finds a row (one round
    trip: `SELECT 1 WHERE EXISTS (...) OR EXISTS (...)`)."""
    found = select(1).where(or_(*(stmt.exists() for stmt in selects))).limit(1)
    return bool(db.session.scalar(found))


def apply_changes(record, values: dict, *, entity_type: str, actor, facts) -> dict:
    """Set the `values` that differ from `record`'s (no commit) and, when any did,
    audit `<entity_type>.updated` with the changed field names, done by `actor` with
    the request `facts`. Returns the changed `{field: new value}`."""
    changed = {k: v for k, v in values.items() if getattr(record, k) != v}
    for field, value in changed.items():
        setattr(record, field, value)
    if changed:
        audit.record(
            f"{entity_type}.updated",
            entity_type=entity_type,
            entity_id=record.id,
            facts=facts,
            actor=actor,
            details={"fields": sorted(changed)},
        )
    return changed
