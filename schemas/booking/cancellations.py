"""Cancellation, refund and departure-cancellation schemas (docs/design.md
"Resource map": /bookings/<id>/cancellation-quote, /bookings/<id>/cancel, /refunds,
/departures/<id>/cancel; "Rules with numbers": cancellation tiers)."""

from marshmallow import Schema, fields, validate

from models.billing import PAYMENT_METHODS, REFUND_DESTINATIONS, REFUND_STATES
from models.booking import BOOKING_STATUSES
from schemas.booking.bookings import POLICY_TIERS, BookingSchema
from schemas.common import (
    ID,
    NO_NUL,
    Money,
    PageArgs,
    StrictBoolean,
    not_blank,
    sort_field,
)

NOT_BLANK = not_blank()
REFUND_TO = validate.OneOf(REFUND_DESTINATIONS)
# A quote's tier: one of the policy, or (services.booking.cancellations) the departure
# has started, the penalty was waived, or an unpaid hold is let go.
QUOTE_TIERS = (*POLICY_TIERS, "departure_started", "waived", "unpaid_hold")


class CancellationQuoteSchema(Schema):
    """What cancelling would cost now: the tier of the booking's policy snapshot, the
    penalty on the money kept (paid minus refunded) and the refund. After the
    departure started `cancellable` is false; an unpaid hold is tier `unpaid_hold`."""

    booking_id = fields.Integer(dump_only=True)
    tier = fields.String(
        dump_only=True, metadata={"enum": list(QUOTE_TIERS), "example": "14_to_29_days"}
    )
    penalty_percent = fields.Integer(dump_only=True, metadata={"example": 25})
    penalty_amount = Money(dump_only=True)
    refund_amount = Money(dump_only=True)
    kept_amount = Money(dump_only=True)
    currency = fields.String(dump_only=True)
    hours_before_departure = fields.Integer(
        dump_only=True,
        metadata={
            "example": 412,
            "description": "Whole hours until 00:00 UTC of start_date.",
        },
    )
    cancellable = fields.Boolean(dump_only=True, metadata={"example": True})


class CancelSchema(Schema):
    """Cancel a booking. `refund_to`: `original` (default) or `wallet`;
    `waive_penalty` (admin, sales only: a customer sending true gets 403) refunds
    everything."""

    refund_to = fields.String(load_default="original", validate=REFUND_TO)
    reason = fields.String(
        validate=[validate.Length(max=1000), NO_NUL],
        allow_none=True,
        metadata={"example": "Family emergency"},
    )
    waive_penalty = StrictBoolean(load_default=False, metadata={"example": False})


class RefundSchema(Schema):
    """A refund: to the wallet (completed at once) or to the original method
    (`pending` until finance completes it; for a provider card payment `completed`
    or `failed` by the provider's answer, a failed one retried with
    POST /refunds/<id>/retry). Refunds made at the payment provider and lost card
    disputes are recorded too (`origin`)."""

    id = fields.Integer(dump_only=True)
    booking_id = fields.Integer(dump_only=True)
    customer_id = fields.Integer(dump_only=True)
    amount = Money(dump_only=True)
    currency = fields.String(dump_only=True)
    destination = fields.String(
        dump_only=True, metadata={"enum": list(REFUND_DESTINATIONS)}
    )
    method = fields.String(
        dump_only=True, metadata={"enum": list(PAYMENT_METHODS), "example": "card"}
    )
    status = fields.String(dump_only=True, metadata={"enum": list(REFUND_STATES)})
    reason = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "Cancellation of ET-7KQ2MZ"},
    )
    reference = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "SEPA-2026-118734"},
    )
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    completed_by_id = fields.Integer(dump_only=True, allow_none=True)
    completed_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    payment_id = fields.Integer(
        dump_only=True, allow_none=True, metadata={"example": 42}
    )
    origin = fields.String(
        dump_only=True,
        metadata={
            "enum": ["service", "provider", "dispute"],
            "example": "service",
            "description": "service: given back through this API (counted in the "
            "booking's amount_refunded); provider: made at the payment provider; "
            "dispute: a card dispute lost. The last two lower the booking's "
            "amount_paid instead.",
        },
    )
    provider_refund_id = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"example": "re_3PqZ8e2eZvKYlo2C0mQk1b2c"},
    )
    failure_message = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "example": "The payment provider did not answer (the refund); try again.",
            "description": "The provider's message while `failed` (retryable).",
        },
    )


class CancellationSchema(Schema):
    """The answer to a cancellation: the booking, the refunds written, the penalty
    kept and the amount refunded."""

    booking = fields.Nested(BookingSchema, dump_only=True)
    refunds = fields.List(fields.Nested(RefundSchema), dump_only=True)
    tier = fields.String(
        dump_only=True, metadata={"enum": list(QUOTE_TIERS), "example": "14_to_29_days"}
    )
    penalty_amount = Money(dump_only=True)
    refund_amount = Money(dump_only=True)
    currency = fields.String(dump_only=True)
    refund_to = fields.String(
        dump_only=True, metadata={"enum": list(REFUND_DESTINATIONS)}
    )


class RefundQueryArgs(PageArgs):
    """`?status=&booking_id=&customer_id=` filters and `sort=` (created_at, amount;
    `-` for descending)."""

    status = fields.String(validate=validate.OneOf(REFUND_STATES))
    booking_id = fields.Integer(validate=ID)
    customer_id = fields.Integer(validate=ID)
    sort = sort_field("created_at", "amount")


class RefundCompleteSchema(Schema):
    """Mark a pending refund as paid out, optionally with the payout reference."""

    reference = fields.String(
        validate=[validate.Length(min=1, max=120), NO_NUL],
        allow_none=True,
        metadata={"example": "SEPA-2026-118734"},
    )


class DepartureCancelSchema(Schema):
    """Cancel a whole departure (operator). `preview: true` changes nothing."""

    reason = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=1000), NOT_BLANK],
        metadata={"example": "The hotel overbooked the group"},
    )
    preview = StrictBoolean(load_default=False, metadata={"example": True})
    refund_to = fields.String(load_default="original", validate=REFUND_TO)


class DepartureCancelLineSchema(Schema):
    """One booking of a departure cancellation."""

    booking_id = fields.Integer()
    reference = fields.String(metadata={"example": "ET-7KQ2MZ"})
    customer_id = fields.Integer()
    status = fields.String(
        metadata={"enum": list(BOOKING_STATUSES), "example": "confirmed"}
    )
    refund_amount = Money()
    refund_to = fields.String(metadata={"enum": list(REFUND_DESTINATIONS)})


class DepartureCancellationSchema(Schema):
    """A departure cancellation (preview or done): the bookings and their refunds."""

    departure_id = fields.Integer()
    reason = fields.String(
        allow_none=True,
        metadata={"example": "The hotel overbooked the group"},
    )
    refund_to = fields.String(metadata={"enum": list(REFUND_DESTINATIONS)})
    bookings = fields.List(fields.Nested(DepartureCancelLineSchema))
    total_refund = Money()
    currency = fields.String()
    cancelled = fields.Boolean(metadata={"example": False})
