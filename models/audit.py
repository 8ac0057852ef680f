"""The audit log: who did what to which record, and when
(docs/design.md "Resource map": GET /audit).

Rows are append-only, enforced three times: there is no update or delete API, the
ORM refuses to flush a change or a delete of an AuditEntry, and the database refuses
UPDATE and DELETE (and TRUNCATE on PostgreSQL) with a trigger. The triggers are
created with the table (create_all, tests) and by the migration; their DDL lives
here so both stay the same.

Only the test fixtures purge the table: on PostgreSQL by setting
`easytravels.audit_purge = 'on'` for their transaction (`SET LOCAL`), which the
trigger lets through for DELETE and TRUNCATE (never UPDATE); on SQLite by dropping
the triggers inside the purging transaction and creating them again.
"""

from datetime import datetime

from sqlalchemy import DDL, JSON, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, db, utcnow

ACTOR_TYPES = ("employee", "customer", "system")
APPEND_ONLY_MESSAGE = "audit_entries is append-only"
PURGE_SETTING = "easytravels.audit_purge"

SQLITE_APPEND_ONLY_DDL = (
    "CREATE TRIGGER IF NOT EXISTS audit_entries_no_update "
    "BEFORE UPDATE ON audit_entries "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_entries_no_delete "
    "BEFORE DELETE ON audit_entries "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
)
SQLITE_APPEND_ONLY_DROP = (
    "DROP TRIGGER IF EXISTS audit_entries_no_update",
    "DROP TRIGGER IF EXISTS audit_entries_no_delete",
)
POSTGRES_APPEND_ONLY_DDL = (
    "CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP <> 'UPDATE' AND current_setting('{PURGE_SETTING}', true) = 'on' THEN "
    "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NULL; END IF; "
    f"RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}: % refused', TG_OP "
    "USING ERRCODE = 'restrict_violation'; "
    "END $$",
    "CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
    "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()",
)
POSTGRES_APPEND_ONLY_DROP = (
    "DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries",
    "DROP TRIGGER IF EXISTS audit_entries_no_change ON audit_entries",
    "DROP FUNCTION IF EXISTS audit_entries_append_only()",
)


class AuditEntry(db.Model):
    """One audited action: `actor_type` (employee, customer or system), `actor_id`
    and an `actor_email` snapshot; `action` such as `package.approved`; the record
    acted on (`entity_type`, `entity_id`); `details` as JSON (amounts as decimal
    strings); the request id and client IP when it came over HTTP."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
        Index("ix_audit_entries_actor", "actor_type", "actor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False, index=True
    )
    actor_type: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    entity_type: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict | None] = mapped_column(JSON)
    # As long as observability accepts an X-Request-ID (128), so ids match exactly.
    request_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(45))


class AppendOnlyViolation(RuntimeError):
    """Raised by the ORM when something tries to change or delete an audit entry."""


def _refuse(_mapper, _connection, target) -> None:
    raise AppendOnlyViolation(f"{APPEND_ONLY_MESSAGE} (entry {target.id})")


event.listen(AuditEntry, "before_update", _refuse)
event.listen(AuditEntry, "before_delete", _refuse)

for _statement in SQLITE_APPEND_ONLY_DDL:
    event.listen(
        AuditEntry.__table__,
        "after_create",
        DDL(_statement).execute_if(dialect="sqlite"),
    )
for _statement in POSTGRES_APPEND_ONLY_DDL:
    event.listen(
        AuditEntry.__table__,
        "after_create",
        DDL(_statement.replace("%", "%%")).execute_if(dialect="postgresql"),
    )
event.listen(
    AuditEntry.__table__,
    "after_drop",
    DDL("DROP FUNCTION IF EXISTS audit_entries_append_only()").execute_if(
        dialect="postgresql"
    ),
)
