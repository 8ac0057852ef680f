"""The transactional outbox and outgoing webhook subscriptions (docs/design.md "Rules
with numbers": every side effect that leaves the process is written to an outbox in
the same transaction as its cause and delivered by workers, at least once,
idempotently).

A row is a mail (`kind = "mail"`, payload `{to, subject, body}`) or one webhook
delivery to one endpoint (`kind = "webhook"`, payload = the event body). Workers
claim due rows (`next_attempt_at <= now`), deliver, and record the outcome on the
same row: `pending` -> `sent`, or back to `pending` with a later
`next_attempt_at`, or `dead` after `max_attempts`.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, utcnow

OUTBOX_STATES = ("pending", "sent", "dead")
OUTBOX_KINDS = ("mail", "webhook")
WEBHOOK_EVENT_TYPES = (
    "booking.created",
    "booking.confirmed",
    "booking.cancelled",
    "booking.expired",
    "payment.succeeded",
    "refund.completed",
    "departure.cancelled",
    "package.published",
    "ticket.issued",
    "ticket.boarded",
    "trip.cancelled",
)


class OutboxMessage(TimestampMixin, db.Model):
    """One side effect waiting for (or done by) a worker."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("state IN ('pending','sent','dead')", name="state_valid"),
        CheckConstraint("kind IN ('mail','webhook')", name="kind_valid"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        db.Index("ix_outbox_messages_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # What caused it: the mail function's name or the webhook event type.
    topic: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    state: Mapped[str] = mapped_column(String(12), default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    # Due time; while a worker holds the row it is the end of the worker's lease.
    next_attempt_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )
    # The claim of the worker that holds the row; only that worker may record it.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A side effect that must happen at most once per cause (balance reminders).
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # The request that caused it, carried into the worker's log lines.
    request_id: Mapped[str | None] = mapped_column(String(64))
    # Webhooks: the subscription and the event id (Standard Webhooks `webhook-id`).
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str | None] = mapped_column(String(40), index=True)

    endpoint = relationship("WebhookEndpoint")


class WebhookEndpoint(TimestampMixin, db.Model):
    """An admin's subscription: a URL, the event types it wants, a signing secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list] = mapped_column(JSON, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # Standard Webhooks secret `whsec_<base64>`; shown once on create and rotate.
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
