"""The audit log: recording who did what to which record and the
admin's filtered, paginated read (docs/design.md "Resource map": GET /audit).

`record()` adds the entry to the CURRENT session and never commits: the entry is
written by the same commit as the change it describes, so a rolled-back change
leaves no entry. Callers that must keep an entry although the request fails (a
refused login) commit it themselves.

Services never read the HTTP request: the route layer builds one `RequestFacts`
(routes/common/request_facts.py: the authenticated caller, the request id, the client
address) and passes it down to the service, which hands it to `record()`; the CLI,
the schedule and the workers pass None (the entry is by `system`).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from models.audit import AuditEntry
from services.shared.pagination import Page, paginate


def _jsonable(value):
    """`value` with Decimals as decimal strings ("120.00") and dates/times as ISO
    8601 strings, recursively, so it fits a JSON column (money never as float:
    docs/design.md "Rules with numbers")."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class RequestFacts:
    """What the route layer knows about the HTTP request a service call serves:
    `actor`, the authenticated Employee or Customer (None when anonymous);
    `request_id`, the request-id middleware's id (core/observability.py, at most 128
    characters, as that middleware accepts); `ip`, the client address after
    ProxyFix (at most 45 characters, an IPv6 text form). Built once per request by
    routes/common/request_facts.py and passed down unchanged."""

    actor: object | None = None
    request_id: str | None = None
    ip: str | None = None


def record(
    action: str,
    *,
    entity_type: str,
    entity_id: int | None,
    facts: RequestFacts | None,
    actor=None,
    details: dict | None = None,
    actor_type: str | None = None,
    actor_email: str | None = None,
) -> AuditEntry:
    """Add an audit entry for `action` (e.g. "package.approved") on the record
    `entity_type`/`entity_id` to the current session, without committing.

    `facts` are the request facts the route layer passed down (None outside an
    HTTP request: CLI, schedule, workers); the entry keeps their request id and
    client address. `actor` is the Employee or Customer acting; by default
    `facts.actor`, else the entry is by `system`. Given `actor_type` /
    `actor_email` override the snapshot and turn the default off (a refused login:
    only the email tried is known, and a token sent along must not be taken for
    the actor). `details` is JSON-able data (Decimals become strings); never put a
    password, code or token in it.
    """
    if actor is None and actor_type is None and facts is not None:
        actor = facts.actor
    entry = AuditEntry(
        actor_type=actor_type
        or (actor.account_type if actor is not None else "system"),
        actor_id=actor.id if actor is not None else None,
        actor_email=(actor_email or (actor.email if actor is not None else None)),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        details=_jsonable(details) if details else None,
        request_id=facts.request_id if facts is not None else None,
        ip=facts.ip if facts is not None else None,
    )
    if entry.actor_email:
        entry.actor_email = entry.actor_email[:254]
    db.session.add(entry)
    return entry


def _as_utc(value: datetime | date, *, end: bool) -> tuple[datetime, bool]:
    """A filter bound as an aware UTC datetime, and whether it is exclusive: a date
    covers its whole UTC day (`date_to` ends before the next midnight); a naive
    datetime is taken as UTC."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC), False
    start = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return (start + timedelta(days=1), True) if end else (start, False)


def list_entries(
    *,
    actor_type: str | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: int | None = None,
    date_from: datetime | date | None = None,
    date_to: datetime | date | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of audit entries, newest first (`occurred_at` desc, id desc).

    Filters combine with AND. `action` matches exactly, or every action under a
    prefix when it ends with "." (e.g. "refund."). `date_from` / `date_to` are
    inclusive and take a date (whole UTC day) or a datetime.
    """
    stmt = select(AuditEntry)
    for column, value in (
        (AuditEntry.actor_type, actor_type),
        (AuditEntry.actor_id, actor_id),
        (AuditEntry.entity_type, entity_type),
        (AuditEntry.entity_id, entity_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if action:
        if action.endswith("."):
            stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            stmt = stmt.where(AuditEntry.action == action)
    if date_from is not None:
        stmt = stmt.where(AuditEntry.occurred_at >= _as_utc(date_from, end=False)[0])
    if date_to is not None:
        bound, exclusive = _as_utc(date_to, end=True)
        column = AuditEntry.occurred_at
        stmt = stmt.where(column < bound if exclusive else column <= bound)
    stmt = stmt.order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)
