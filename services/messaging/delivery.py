"""How one outbox row leaves the process: the failure an attempt reports, the
Standard Webhooks retry schedule, the SSRF guard on targets and the signed POST of a
webhook delivery (docs/design.md "Rules with numbers": outbox; docs/operations.md
"Outbox, workers and webhooks"). The outbox (services.messaging.outbox) calls it;
it knows nothing of the outbox's bookkeeping.
"""

import ipaddress
import json
import socket
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook

from core.extensions import db
from models.base import utcnow
from models.outbox import OutboxMessage, WebhookEndpoint

# Standard Webhooks "Retry schedule": delays after attempts 1..7.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1


class DeliveryFailed(Exception):
    """A delivery attempt failed; `status_code` is the receiver's HTTP status, if
    any, and `permanent` stops further attempts (the row goes `dead`)."""

    def __init__(
        self, message: str, *, status_code: int | None = None, permanent: bool = False
    ):
        super().__init__(message)
        self.status_code = status_code
        self.permanent = permanent


class TargetRefused(Exception):
    """The URL points at an address the SSRF guard refuses."""


def retry_delay(attempts: int) -> timedelta:
    """The delay after `attempts` failed attempts (1-based) on the retry schedule."""
    return RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE)) - 1]


def check_target(url: str) -> None:
    """Refuse (TargetRefused) a URL that is not http(s) with a host, or whose host
    resolves to a loopback, private, link-local, multicast, reserved or unspecified
    address, unless WEBHOOK_ALLOW_PRIVATE_TARGETS is true. Checked on subscribe and
    again before every delivery (DNS may change)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("The URL must be http(s)://host[:port]/...") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("The URL must be http(s)://host/...")
    if current_app.config.get("WEBHOOK_ALLOW_PRIVATE_TARGETS"):
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"The host {parts.hostname!r} does not resolve.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            raise TargetRefused(
                f"The host {parts.hostname!r} "
                f"resolves to a non-public address ({address})."
            )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are answers, not instructions: following them would bypass the
    SSRF guard."""

    def redirect_request(self, *args, **kwargs):
        """Follow no redirect: the 3xx comes back as the answer."""
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def send_delivery(row: OutboxMessage) -> int:
    """POST one webhook row to its endpoint, signed; returns the 2xx status.

    Raises DeliveryFailed: permanent when the endpoint is gone or inactive,
    refused by the SSRF guard, or answered 410 (which also disables the endpoint in
    its own commit); otherwise a retryable failure (non-2xx, timeout, refused)."""
    endpoint = (
        db.session.get(WebhookEndpoint, row.endpoint_id) if row.endpoint_id else None
    )
    if endpoint is None or not endpoint.active:
        raise DeliveryFailed("endpoint missing or disabled", permanent=True)
    try:
        check_target(endpoint.url)
    except TargetRefused as exc:
        raise DeliveryFailed(f"target refused: {exc}", permanent=True) from exc
    body = json.dumps(row.payload, separators=(",", ":"), sort_keys=True)
    timestamp = utcnow()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "EasyTravels-Webhooks/1",
        "webhook-id": row.event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(
            row.event_id, timestamp, body
        ),
    }
    request = urllib.request.Request(
        endpoint.url, data=body.encode(), headers=headers, method="POST"
    )
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        raise DeliveryFailed(
            f"request failed: {exc.__class__.__name__}: {exc}"[:500]
        ) from exc
    if 200 <= status < 300:
        return status
    if status == 410:
        _disable(endpoint.id, "410 Gone")
        raise DeliveryFailed(
            "410 Gone: endpoint disabled", status_code=410, permanent=True
        )
    raise DeliveryFailed(f"HTTP {status}", status_code=status)


def _disable(endpoint_id: int, reason: str) -> None:
    """Deactivate the endpoint (its own commit, before the attempt is recorded)."""
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(active=False, disabled_reason=reason)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
