"""Payment and invoice schemas (docs/design.md "Resource map": /bookings/<id>/payments,
/invoices, /payments; money as decimal strings beside `currency`)."""

from decimal import Decimal

from marshmallow import Schema, fields, validate

from models.billing import INVOICE_STATUSES, PAYMENT_METHODS
from models.booking import BOOKING_STATUSES
from schemas.common import ID, NO_NUL, Money, PageArgs, sort_field


class PaymentCreateSchema(Schema):
    """Pay a booking. Customers: `wallet` (cards go through POST
    /bookings/<id>/payment-intents and the provider); finance and admin record money
    they received: `card` from a card terminal (`reference` required), `bank_transfer`
    or `cash`. A held booking must be paid at least its deposit; more than what is
    due is refused."""

    amount = Money(
        required=True,
        validate=validate.Range(min=Decimal("0.01"), error="Must be more than 0."),
    )
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    reference = fields.String(
        validate=[validate.Length(min=1, max=120), NO_NUL],
        metadata={
            "example": "ch_3PqZ8e2eZvKYlo2C1x8VnL0a",
            "description": "The card terminal's or bank's reference; "
            "required for card.",
        },
    )


class PaymentBookingSchema(Schema):
    """The paid booking's state after the payment."""

    id = fields.Integer(dump_only=True)
    reference = fields.String(dump_only=True, metadata={"example": "ET-7KQ2MZ"})
    status = fields.String(
        dump_only=True,
        attribute="current_status",
        metadata={"enum": list(BOOKING_STATUSES), "example": "confirmed"},
    )
    currency = fields.String(dump_only=True)
    total_amount = Money(dump_only=True)
    deposit_amount = Money(dump_only=True)
    amount_paid = Money(dump_only=True)
    amount_due = Money(dump_only=True)


class PaymentSchema(Schema):
    """A payment received for a booking (against the booking's invoice)."""

    id = fields.Integer(dump_only=True)
    booking_id = fields.Integer(dump_only=True)
    invoice_id = fields.Integer(dump_only=True)
    customer_id = fields.Integer(dump_only=True)
    amount = Money(dump_only=True)
    currency = fields.String(dump_only=True)
    method = fields.String(
        dump_only=True, metadata={"enum": list(PAYMENT_METHODS), "example": "card"}
    )
    reference = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "ch_3PqZ8e2eZvKYlo2C1x8VnL0a"},
    )
    recorded_by_id = fields.Integer(dump_only=True, allow_none=True)
    disputed = fields.Boolean(
        dump_only=True,
        metadata={
            "example": False,
            "description": "True while the cardholder's dispute is open.",
        },
    )
    dispute_status = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"enum": ["open", "won", "lost", None], "example": None},
    )
    created_at = fields.DateTime(dump_only=True)


class PaymentReceiptSchema(PaymentSchema):
    """The answer to a payment: the payment and the booking's new state."""

    booking = fields.Nested(PaymentBookingSchema, dump_only=True)


class PaymentQueryArgs(PageArgs):
    """`?booking_id=&customer_id=&method=` filters and `sort=` (created_at, amount)."""

    booking_id = fields.Integer(validate=ID)
    customer_id = fields.Integer(validate=ID)
    method = fields.String(validate=validate.OneOf(PAYMENT_METHODS))
    sort = sort_field("created_at", "amount")


class CreditNoteSchema(Schema):
    """A credit note reducing an invoice (cancellation, hold expiry); its PDF is
    GET /invoices/<invoice id>/credit-notes/<id>.pdf."""

    id = fields.Integer(dump_only=True, metadata={"example": 7})
    number = fields.String(dump_only=True, metadata={"example": "CN-2026-000007"})
    amount = Money(dump_only=True)
    reason = fields.String(
        dump_only=True,
        metadata={"example": "Booking ET-7KQ2MZ cancelled"},
    )
    created_at = fields.DateTime(dump_only=True)


class InvoiceSchema(Schema):
    """An invoice: immutable amounts, derived `status` (pending, paid, overdue,
    void), credits, money received and given back, and what is still owed."""

    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True, metadata={"example": "INV-2026-000042"})
    booking_id = fields.Integer(dump_only=True)
    booking_reference = fields.String(dump_only=True, metadata={"example": "ET-7KQ2MZ"})
    customer_id = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    total_amount = Money(dump_only=True)
    issue_date = fields.Date(dump_only=True)
    due_date = fields.Date(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": list(INVOICE_STATUSES)})
    credited_amount = Money(dump_only=True)
    amount_paid = Money(dump_only=True)
    amount_refunded = Money(dump_only=True)
    balance_due = Money(dump_only=True)
    credit_notes = fields.List(fields.Nested(CreditNoteSchema), dump_only=True)
    payments = fields.List(fields.Nested(PaymentSchema), dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class InvoiceQueryArgs(PageArgs):
    """`?status=&customer_id=&booking_id=` filters (status is the derived one) and
    `sort=` (created_at, due_date, total_amount)."""

    status = fields.String(validate=validate.OneOf(INVOICE_STATUSES))
    customer_id = fields.Integer(validate=ID)
    booking_id = fields.Integer(validate=ID)
    sort = sort_field("created_at", "due_date", "total_amount")
