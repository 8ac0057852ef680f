"""Audit log schemas (docs/design.md "Resource map": GET /audit)."""

from datetime import date, datetime

from marshmallow import Schema, ValidationError, fields, validate

from models.audit import ACTOR_TYPES
from schemas.common import DATE_RANGE_ERROR, FIRST_DATE, ID, LAST_DATE, NO_NUL, PageArgs


class DateOrDateTime(fields.Field):
    """An ISO 8601 date (`2026-03-01`, the whole UTC day) or datetime
    (`2026-03-01T09:30:00+00:00`; without an offset it is taken as UTC)."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Parse a date first, then a datetime; ValidationError otherwise, also for
        a day outside 2000-01-01..2100-12-31 (the bounds of every date filter,
        schemas.common.FilterDate: far dates would overflow the day arithmetic)."""
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError("Use an ISO 8601 date or datetime.")
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError as exc:
                raise ValidationError("Use an ISO 8601 date or datetime.") from exc
        day = parsed.date() if isinstance(parsed, datetime) else parsed
        if not FIRST_DATE <= day <= LAST_DATE:
            raise ValidationError(DATE_RANGE_ERROR)
        return parsed


class AuditEntrySchema(Schema):
    """One audit entry: who (`actor_type`, `actor_id`, `actor_email` as it was),
    did what (`action`), to which record (`entity_type`, `entity_id`), when
    (`occurred_at`), with `details` (amounts as decimal strings), and the request id
    and client IP when it came over HTTP."""

    id = fields.Integer(dump_only=True, metadata={"example": 4711})
    occurred_at = fields.DateTime(
        dump_only=True, metadata={"example": "2026-03-14T09:26:53+00:00"}
    )
    actor_type = fields.String(
        dump_only=True, metadata={"enum": list(ACTOR_TYPES), "example": "employee"}
    )
    actor_id = fields.Integer(dump_only=True, allow_none=True, metadata={"example": 9})
    actor_email = fields.String(
        dump_only=True, allow_none=True, metadata={"example": "ophead@easytravels.test"}
    )
    action = fields.String(dump_only=True, metadata={"example": "package.approved"})
    entity_type = fields.String(dump_only=True, metadata={"example": "package"})
    entity_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"example": 12}
    )
    details = fields.Dict(
        dump_only=True,
        allow_none=True,
        metadata={"example": {"from": "pending_approval", "to": "published"}},
    )
    request_id = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "3f2c9a1e0b7d4c58a6e1f0d2b9c8a7e6"},
    )
    ip = fields.String(
        dump_only=True, allow_none=True, metadata={"example": "203.0.113.7"}
    )


class AuditQueryArgs(PageArgs):
    """Filters, combined with AND: `actor_type`, `actor_id`, `action` (exact, or a
    prefix ending with "." such as `refund.`), `entity_type`, `entity_id`,
    `date_from` and `date_to` (inclusive; a date or a datetime)."""

    actor_type = fields.String(validate=validate.OneOf(ACTOR_TYPES))
    actor_id = fields.Integer(validate=ID)
    action = fields.String(validate=[validate.Length(min=1, max=60), NO_NUL])
    entity_type = fields.String(validate=[validate.Length(min=1, max=40), NO_NUL])
    entity_id = fields.Integer(validate=ID)
    date_from = DateOrDateTime(metadata={"example": "2026-03-01"})
    date_to = DateOrDateTime(metadata={"example": "2026-03-31T23:59:59+00:00"})
