"""Card payments through the payment provider (Stripe's API): one payment attempt per
PaymentIntent the API created, and the provider events already applied (docs/design.md
"Lifecycles": invoice, payments; "card money from customers enters only through the
payment provider").

Amounts are Numeric(12, 2) in major units of the booking's currency; the provider
speaks minor units (services/payments/provider.py converts).
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import MONEY, TimestampMixin, UTCDateTime, db, utcnow

ATTEMPT_STATES = ("pending", "succeeded", "failed", "refund_pending", "refunded")


class PaymentAttempt(TimestampMixin, db.Model):
    """A card payment started through the provider: `pending` until the provider's
    signed word (webhook or reconciliation) turns it `succeeded` (a Payment row is
    recorded) or `failed`; `refund_pending` -> `refunded` when money arrived that
    could not be kept (hold lapsed and seats gone, booking cancelled meanwhile) and
    the provider gives it back at once."""

    __tablename__ = "payment_attempts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "status IN ('pending','succeeded','failed','refund_pending','refunded')",
            name="status_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    provider: Mapped[str] = mapped_column(String(20), nullable=False, default="stripe")
    provider_payment_id: Mapped[str] = mapped_column(
        String(255), unique=True, nullable=False
    )
    client_secret: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default="pending", index=True
    )
    # What the provider said it received (may differ from `amount`: flagged).
    received_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    amount_mismatch: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False
    )
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), unique=True
    )
    provider_refund_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )

    booking = relationship("Booking")
    payment = relationship("Payment", backref=db.backref("attempt", uselist=False))


class ProviderEvent(db.Model):
    """A provider event already applied; its id is the primary key, inserted in the
    same transaction as the event's effect, so a replay finds it and changes nothing."""

    __tablename__ = "provider_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), nullable=False, default="stripe")
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )
