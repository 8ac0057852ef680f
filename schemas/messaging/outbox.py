"""Outbox and outgoing-webhook schemas (docs/design.md "Resource map": /outbox,
/webhooks/endpoints)."""

from marshmallow import Schema, fields, validate

from models.outbox import OUTBOX_KINDS, OUTBOX_STATES, WEBHOOK_EVENT_TYPES
from schemas.common import NO_NUL, PageArgs, StrictBoolean

# An absolute http(s) URL with a host name or IPv4 address, an optional port
# (1-65535) and path; no NUL. One pattern that Python and ECMA-262 read alike, so the
# spec documents exactly what is accepted. The SSRF guard
# (services/messaging/webhooks.py) then checks where the host points.
PORT = (
    r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}"
    r"|655[0-2][0-9]|6553[0-5])"
)
URL_PATTERN = (
    r"^https?://[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?"
    rf"(:{PORT})?([/?#][^\x00]*)?$"
)
URL = [
    validate.Regexp(
        URL_PATTERN, error="Use an absolute http(s) URL: http(s)://host[:port]/path."
    ),
    validate.Length(max=2048),
]
EVENT_TYPE = fields.String(
    validate=validate.OneOf(WEBHOOK_EVENT_TYPES),
    metadata={"example": "booking.created"},
)


class OutboxMessageSchema(Schema):
    """One side effect: a mail or a webhook delivery, its state (`pending`, `sent`,
    `dead`), attempts so far, when it is next due, the last error and, for webhooks,
    the endpoint, the event id (`webhook-id`) and the receiver's last HTTP status."""

    id = fields.Integer(dump_only=True, metadata={"example": 31})
    kind = fields.String(
        dump_only=True, metadata={"enum": list(OUTBOX_KINDS), "example": "mail"}
    )
    topic = fields.String(dump_only=True, metadata={"example": "booking_held"})
    state = fields.String(
        dump_only=True, metadata={"enum": list(OUTBOX_STATES), "example": "dead"}
    )
    attempts = fields.Integer(dump_only=True, metadata={"example": 8})
    max_attempts = fields.Integer(dump_only=True, metadata={"example": 8})
    next_attempt_at = fields.DateTime(
        dump_only=True, metadata={"example": "2026-03-14T09:30:00+00:00"}
    )
    last_error = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "SMTP: Connection refused"},
    )
    last_status_code = fields.Integer(
        dump_only=True, allow_none=True, metadata={"example": 500}
    )
    sent_at = fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"example": "2026-03-14T09:26:55+00:00"},
    )
    request_id = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "3f2c9a1e0b7d4c58a6e1f0d2b9c8a7e6"},
    )
    endpoint_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"example": 2}
    )
    event_id = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "msg_5f1c2a9b8e7d6c5b4a3f2e1d"},
    )
    created_at = fields.DateTime(
        dump_only=True, metadata={"example": "2026-03-14T09:26:53+00:00"}
    )


class OutboxQueryArgs(PageArgs):
    """`state` (`pending`, `sent`, `dead`) and `kind` (`mail`, `webhook`) filters."""

    state = fields.String(
        validate=validate.OneOf(OUTBOX_STATES), metadata={"example": "dead"}
    )
    kind = fields.String(
        validate=validate.OneOf(OUTBOX_KINDS), metadata={"example": "mail"}
    )


class WebhookEndpointSchema(Schema):
    """A webhook subscription. `secret` (Standard Webhooks `whsec_...`) appears only
    in the answers of create and rotate-secret."""

    id = fields.Integer(dump_only=True, metadata={"example": 2})
    url = fields.String(
        required=True,
        validate=URL,
        metadata={"example": "https://partner.example.com/hooks/easytravels"},
    )
    description = fields.String(
        allow_none=True,
        validate=[validate.Length(max=500), NO_NUL],
        metadata={"example": "Partner CRM"},
    )
    event_types = fields.List(
        EVENT_TYPE,
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={"example": ["booking.created", "booking.cancelled"]},
    )
    active = StrictBoolean(load_default=True, metadata={"example": True})
    disabled_reason = fields.String(
        dump_only=True, allow_none=True, metadata={"example": "410 Gone"}
    )
    created_at = fields.DateTime(
        dump_only=True, metadata={"example": "2026-03-14T09:26:53+00:00"}
    )
    updated_at = fields.DateTime(
        dump_only=True, metadata={"example": "2026-03-14T09:26:53+00:00"}
    )


class WebhookEndpointCreateSchema(WebhookEndpointSchema):
    """Subscribe a URL: `url`, `event_types`, optional `description`, `active`."""


class WebhookEndpointUpdateSchema(Schema):
    """Change any of `url`, `event_types`, `description`, `active`."""

    url = fields.String(
        validate=URL,
        metadata={"example": "https://partner.example.com/hooks/easytravels"},
    )
    description = fields.String(
        allow_none=True,
        validate=[validate.Length(max=500), NO_NUL],
        metadata={"example": "Partner CRM"},
    )
    event_types = fields.List(
        EVENT_TYPE,
        validate=validate.Length(min=1, max=20),
        metadata={"example": ["booking.confirmed"]},
    )
    active = StrictBoolean(metadata={"example": True})


class WebhookEndpointSecretSchema(WebhookEndpointSchema):
    """A subscription with its signing secret (create and rotate-secret only)."""

    secret = fields.String(
        dump_only=True, metadata={"example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    )
