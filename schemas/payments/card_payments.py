"""Card payment schemas: payment intents and the provider's webhook answer
(docs/design.md "Resource map": /bookings/<id>/payment-intents, /payment-intents/<id>,
/webhooks/stripe; money as decimal strings beside `currency`)."""

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models.provider import ATTEMPT_STATES
from schemas.common import ID, FilterDate, Money, PageArgs, sort_field

# `?status=`: a state, or `canceled` (refund_pending or refunded: money that arrived
# and was given back; services.payments.card_payments.CANCELED).
LIST_STATUSES = (*ATTEMPT_STATES, "canceled")


class PaymentIntentCreateSchema(Schema):
    """Start a card payment of `amount` (booking currency): at least the missing
    deposit of a held booking, never more than what is due."""

    amount = Money(
        required=True,
        validate=validate.Range(min=Decimal("0.01"), error="Must be more than 0."),
    )


class PaymentIntentSchema(Schema):
    """A card payment through the provider. Confirm `provider_payment_id` with
    `client_secret` through Stripe.js or a Stripe SDK (publishable key); the booking
    is confirmed when the provider's webhook reports success."""

    id = fields.Integer(dump_only=True)
    booking_id = fields.Integer(dump_only=True)
    provider = fields.String(dump_only=True, metadata={"example": "stripe"})
    provider_payment_id = fields.String(
        dump_only=True, metadata={"example": "pi_3PqZ8e2eZvKYlo2C1x8VnL0a"}
    )
    client_secret = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "pi_3PqZ8e2eZvKYlo2C1x8VnL0a_secret_Xk2"},
    )
    amount = Money(dump_only=True)
    currency = fields.String(dump_only=True, metadata={"example": "EUR"})
    status = fields.String(dump_only=True, metadata={"enum": list(ATTEMPT_STATES)})
    received_amount = Money(
        dump_only=True,
        allow_none=True,
        metadata={"description": "What the provider said it received (after success)."},
    )
    amount_mismatch = fields.Boolean(
        dump_only=True,
        metadata={
            "example": False,
            "description": "The provider received another amount "
            "(flagged for finance).",
        },
    )
    payment_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"example": 42}
    )
    last_error = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "example": "Your card was declined.",
            "description": "The provider's decline message, or why money was refunded.",
        },
    )
    publishable_key = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "example": "pk_test_local_easytravels",
            "description": "The provider's publishable key for Stripe.js / SDKs.",
        },
    )
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class PaymentIntentSummarySchema(PaymentIntentSchema):
    """A card payment attempt as lists show it: without its `client_secret` (only
    the payer's client confirms an intent, from its own answer)."""

    class Meta:
        exclude = ("client_secret", "publishable_key")


class PaymentIntentQueryArgs(PageArgs):
    """Filters of `GET /payment-intents`: `status` (a state, or `canceled` for
    money given back), `booking_id`, `customer_id`, `date_from` / `date_to` (UTC
    days of creation, both included); `sort` (default newest first)."""

    status = fields.String(
        validate=validate.OneOf(LIST_STATUSES), metadata={"example": "failed"}
    )
    booking_id = fields.Integer(validate=ID)
    customer_id = fields.Integer(validate=ID)
    date_from = FilterDate(
        metadata={
            "description": "Created on or after (UTC day)",
            "example": "2026-01-01",
        }
    )
    date_to = FilterDate(
        metadata={
            "description": "Created on or before (UTC day)",
            "example": "2026-12-31",
        }
    )
    sort = sort_field("created_at", "amount")

    @validates_schema
    def _range_in_order(self, data, **_kwargs):
        """date_to may not come before date_from."""
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise ValidationError(
                "Must be on or after date_from.", field_name="date_to"
            )


class WebhookAnswerSchema(Schema):
    """The provider event was received: applied, or already seen, or ignored."""

    received = fields.Boolean(dump_only=True, metadata={"example": True})
    result = fields.String(
        dump_only=True,
        metadata={
            "enum": [
                "applied",
                "failed",
                "refund",
                "duplicate",
                "unchanged",
                "unknown",
                "ignored",
            ]
        },
    )
    attempt_id = fields.Integer(dump_only=True, allow_none=True)
