"""Outgoing webhooks in the Standard Webhooks style (https://www.standardwebhooks.com,
docs/design.md "Resource map": /webhooks/endpoints).

Admins subscribe URLs to event types; `emit` writes one outbox row per active
subscribed endpoint in the caller's transaction (services.messaging.outbox), and the
workers POST it. Each request carries `webhook-id` (the event id, the same on every
retry and redelivery so receivers can deduplicate), `webhook-timestamp` (Unix seconds of
the attempt) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
`id.timestamp.body` with the endpoint's `whsec_` secret), so receivers verify with
the `standardwebhooks` library. Payloads are thin: `{id, type, occurred_at, data:
{id, url}}`; a receiver fetches the resource from the API.

Retries follow the specification's schedule after the first attempt: 5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 10 h (8 attempts, then `dead`). A 410 Gone disables the
endpoint. Targets on loopback, private, link-local or reserved addresses are
refused (SSRF guard) unless WEBHOOK_ALLOW_PRIVATE_TARGETS is true.
"""

import base64
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, select

from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models.base import utcnow
from models.outbox import WEBHOOK_EVENT_TYPES, OutboxMessage, WebhookEndpoint
from services.messaging import outbox
from services.messaging.delivery import MAX_ATTEMPTS, TargetRefused, check_target
from services.shared.pagination import paginate
from services.shared.records import get_or_404

RESOURCE_PATHS = {
    "booking": "bookings",
    "payment": "payments",
    "refund": "refunds",
    "departure": "departures",
    "package": "packages",
    "ticket": "tickets",
    "trip": "transport/trips",
}


def new_secret() -> str:
    """A fresh signing secret, `whsec_` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _checked_url(url: str) -> str:
    """`url` if the SSRF guard accepts it; ValidationFailed (422) otherwise."""
    try:
        check_target(url)
    except TargetRefused as exc:
        raise ValidationFailed({"url": [str(exc)]}) from exc
    return url


def _check_events(event_types: list[str]) -> list[str]:
    """The event types, each one we emit; ValidationFailed (422) otherwise."""
    unknown = sorted(set(event_types) - set(WEBHOOK_EVENT_TYPES))
    if unknown or not event_types:
        raise ValidationFailed(
            {
                "event_types": [
                    _(
                        "Use one or more of %(types)s.",
                        types=", ".join(WEBHOOK_EVENT_TYPES),
                    )
                ]
            }
        )
    return sorted(set(event_types))


def create_endpoint(
    *,
    url: str,
    event_types: list[str],
    description: str | None = None,
    active: bool = True,
) -> WebhookEndpoint:
    """Subscribe `url` to `event_types`; one commit. The answer shows the secret
    (only here and on rotation). Raises ValidationFailed (422: URL refused by the
    SSRF guard, unknown event type)."""
    endpoint = WebhookEndpoint(
        url=_checked_url(url),
        event_types=_check_events(event_types),
        description=description,
        active=active,
        secret=new_secret(),
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def list_endpoints(*, page: int, per_page: int, cursor: str | None = None):
    """Every subscription, newest first (a services.shared.pagination.Page)."""
    stmt = select(WebhookEndpoint).order_by(
        WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc()
    )
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    """One subscription or NotFound (404)."""
    return get_or_404(WebhookEndpoint, endpoint_id, "Webhook endpoint")


def update_endpoint(endpoint_id: int, **changes) -> WebhookEndpoint:
    """Change `url`, `event_types`, `description` and/or `active`; one commit.
    Re-activating clears `disabled_reason`. Raises NotFound (404), ValidationFailed
    (422)."""
    endpoint = get_endpoint(endpoint_id)
    if "url" in changes:
        endpoint.url = _checked_url(changes["url"])
    if "event_types" in changes:
        endpoint.event_types = _check_events(changes["event_types"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "active" in changes:
        endpoint.active = changes["active"]
        if changes["active"]:
            endpoint.disabled_reason = None
    db.session.commit()
    return endpoint


def delete_endpoint(endpoint_id: int) -> None:
    """Remove a subscription and its delivery log; one commit. NotFound (404)."""
    db.session.delete(get_endpoint(endpoint_id))
    db.session.commit()


def rotate_secret(endpoint_id: int) -> WebhookEndpoint:
    """Give the endpoint a new secret (shown once in the answer); later attempts,
    retries included, are signed with it. One commit; NotFound (404)."""
    endpoint = get_endpoint(endpoint_id)
    endpoint.secret = new_secret()
    db.session.commit()
    return endpoint


def anyone_listening():
    """A SQL boolean expression: some webhook endpoint is active. A caller adds it
    as a column of a statement it runs anyway and skips `emit` when it is false;
    read in the caller's transaction, it is as fresh as emit's own SELECT (never
    a cache shared across requests or workers)."""
    return exists().where(WebhookEndpoint.active.is_(True)).label("listening")


def emit(
    event_type: str, *, resource: str, resource_id: int, now: datetime | None = None
) -> str | None:
    """Queue event `event_type` about `resource` (`booking`, `payment`, ...) number
    `resource_id` for every active endpoint subscribed to it, in the caller's
    transaction (no commit). Returns the event id, or None when nobody listens."""
    assert event_type in WEBHOOK_EVENT_TYPES, event_type
    endpoints = [
        endpoint
        for endpoint in db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))
        )
        if event_type in endpoint.event_types
    ]
    if not endpoints:
        return None
    now = now or utcnow()
    event_id = "msg_" + secrets.token_hex(12)
    path = f"/api/v1/{RESOURCE_PATHS[resource]}/{resource_id}"
    payload = {
        "id": event_id,
        "type": event_type,
        "occurred_at": now.isoformat(),
        "data": {
            "type": resource,
            "id": resource_id,
            "url": current_app.config.get("PUBLIC_BASE_URL", "") + path,
        },
    }
    for endpoint in endpoints:
        outbox.enqueue(
            kind="webhook",
            topic=event_type,
            payload=payload,
            endpoint_id=endpoint.id,
            event_id=event_id,
            max_attempts=MAX_ATTEMPTS,
            now=now,
        )
    return event_id


def list_deliveries(
    endpoint_id: int, *, page: int, per_page: int, cursor: str | None = None
):
    """The delivery log of one endpoint, newest first (a Page of outbox rows).
    NotFound (404) for an unknown endpoint."""
    get_endpoint(endpoint_id)
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.endpoint_id == endpoint_id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def redeliver(endpoint_id: int, delivery_id: int) -> OutboxMessage:
    """Queue the delivery again as a new row with the same event (same `webhook-id`,
    so receivers can deduplicate), due now; one commit. Raises NotFound (404) and
    Conflict (409: the endpoint is disabled, or the delivery is still pending)."""
    endpoint = get_endpoint(endpoint_id)
    row = db.session.get(OutboxMessage, delivery_id)
    if row is None or row.endpoint_id != endpoint.id:
        raise NotFound("Delivery")
    if not endpoint.active:
        raise Conflict(
            _("The endpoint is disabled; enable it first."), code="endpoint-disabled"
        )
    if row.state == "pending":
        raise Conflict(_("The delivery is still pending."), code="delivery-pending")
    copy = outbox.enqueue(
        kind="webhook",
        topic=row.topic,
        payload=row.payload,
        endpoint_id=endpoint.id,
        event_id=row.event_id,
        max_attempts=MAX_ATTEMPTS,
    )
    db.session.commit()
    return copy
