"""Card payment schemas: payment intents and the provider's webhook answer
(docs/design.md "Resource map": /bookings/<id>/payment-intents, /payment-intents/<id>,
/webhooks/stripe; money as decimal strings beside `currency`)."""

from decimal import Decimal

from marshmallow import Schema, fields, validate

from models.provider import ATTEMPT_STATES
from schemas.common import Money


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
