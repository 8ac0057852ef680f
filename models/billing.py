"""Money records: invoices and credit notes, payments, refunds, the wallet ledger and
the counters that number documents (docs/design.md "Lifecycles": invoice, wallet).

Amounts are Numeric(12, 2) in the booking's currency; rows are never updated except
a refund's completion and nothing is ever deleted (financial records are kept).
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import MONEY, UTCDateTime, db, utcnow

# Derived invoice statuses (docs/design.md "Lifecycles": invoice); never stored.
INVOICE_STATUSES = ("pending", "paid", "overdue", "void")

PAYMENT_METHODS = ("card", "bank_transfer", "cash", "wallet")
REFUND_DESTINATIONS = ("wallet", "original")
REFUND_STATES = ("pending", "completed", "failed")
WALLET_ENTRY_KINDS = ("refund_credit", "payment_debit", "adjustment")


class DocumentSequence(db.Model):
    """A gap-free counter per document series (e.g. `INV-2026`), advanced with one
    atomic `UPDATE ... SET last_value = last_value + 1` so numbers never repeat."""

    __tablename__ = "document_sequences"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class Invoice(db.Model):
    """One invoice per booking with immutable amounts; its status is derived from
    payments, refunds and credit notes (services.payments.billing.invoice_status)."""

    __tablename__ = "invoices"
    __table_args__ = (CheckConstraint("total_amount >= 0", name="total_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="RESTRICT"), unique=True, nullable=False
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    total_amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    # Indexed: the invoice reports filter on it (bench/reports.py).
    issue_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    due_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False, index=True
    )

    # What the document shows, fixed when issued: seller, buyer, lines with tax,
    # date of supply (services/documents/invoice_data.py; docs/documents.md).
    document: Mapped[dict | None] = mapped_column(JSON)

    booking = relationship("Booking", backref=db.backref("invoice", uselist=False))
    credit_notes = relationship(
        "CreditNote", back_populates="invoice", order_by="CreditNote.id"
    )


class CreditNote(db.Model):
    """A change to an invoice: reduces what the invoice asks for (cancellation, hold
    expiry). Numbered in its own series."""

    __tablename__ = "credit_notes"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )
    document: Mapped[dict | None] = mapped_column(JSON)

    invoice = relationship("Invoice", back_populates="credit_notes")


class Payment(db.Model):
    """Money received for a booking. A card payment the cardholder disputes with
    their bank carries the provider's dispute (`dispute_status` open -> won | lost;
    services/payments/provider_money.py)."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "method IN ('card','bank_transfer','cash','wallet')", name="method_valid"
        ),
        CheckConstraint(
            "dispute_status IS NULL OR dispute_status IN ('open','won','lost')",
            name="dispute_status_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    dispute_status: Mapped[str | None] = mapped_column(String(10))
    provider_dispute_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False, index=True
    )

    booking = relationship(
        "Booking", backref=db.backref("payments", order_by="Payment.id")
    )

    @property
    def disputed(self) -> bool:
        """True while the cardholder's dispute of this payment is open."""
        return self.dispute_status == "open"


REFUND_ORIGINS = ("service", "provider", "dispute")


class Refund(db.Model):
    """Money given back for a booking: to the wallet (completed at once) or to the
    original payment method (`pending` until finance marks it completed, or, for a
    provider payment, `completed` / `failed` by the provider's answer).

    `origin` says who gave it back: `service` (this API: cancellations, staff;
    counted in the booking's `amount_refunded`), `provider` (a refund made at the
    payment provider, e.g. in its dashboard) or `dispute` (a dispute the cardholder
    won at their bank). The last two reverse part of a card payment: they lower the
    booking's `amount_paid` instead (services/payments/provider_money.py)."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "origin IN ('service','provider','dispute')", name="origin_valid"
        ),
        CheckConstraint(
            "destination IN ('wallet','original')", name="destination_valid"
        ),
        CheckConstraint(
            "status IN ('pending','completed','failed')", name="status_valid"
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
    destination: Mapped[str] = mapped_column(String(10), nullable=False)
    # The payment method money goes back to (for `original`), or `wallet`.
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(120))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    completed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    # The payment this refund gives back (refunds to the original method); a refund
    # of a provider payment goes through the provider's refund API: its refund id,
    # or the provider's message while `failed` (retryable).
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), index=True
    )
    # Unique: one provider refund (or lost dispute, by its id) is recorded once.
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    origin: Mapped[str] = mapped_column(
        String(10), default="service", server_default="service", nullable=False
    )
    failure_message: Mapped[str | None] = mapped_column(Text)
    # Indexed: cash-basis revenue counts refunds by the day money went back.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False, index=True
    )

    booking = relationship(
        "Booking", backref=db.backref("refunds", order_by="Refund.id")
    )


class WalletEntry(db.Model):
    """One append-only line of a customer's wallet ledger: a signed amount and the
    balance after it. The balance is their sum; `customers.wallet_balance` caches it
    and both carry CHECK constraints that keep it from going negative."""

    __tablename__ = "wallet_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_non_negative"),
        CheckConstraint(
            "kind IN ('refund_credit','payment_debit','adjustment')", name="kind_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    balance_after: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="RESTRICT")
    )
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT")
    )
    refund_id: Mapped[int | None] = mapped_column(
        ForeignKey("refunds.id", ondelete="RESTRICT")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False, index=True
    )
