"""Booking schemas (docs/design.md "Resource map": /bookings; "Rules with numbers")."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate

from models.base import utcnow
from models.booking import BOOKING_STATUSES
from schemas.catalogue.departures import CATEGORY
from schemas.common import ID, Money, PageArgs, not_blank, sort_field

# The tiers of the cancellation policy (services.booking.bookings.CANCELLATION_POLICY; a
# test keeps the two lists equal).
POLICY_TIERS = (
    "30_days_or_more",
    "14_to_29_days",
    "7_to_13_days",
    "2_to_6_days",
    "under_48_hours",
)

MAX_SEATS = 50


def _not_in_future(value: date) -> None:
    """A birth date cannot be later than today (UTC)."""
    if value > utcnow().date():
        raise ValidationError("The birth date cannot be in the future.")


class TravellerSchema(Schema):
    """One traveller of a booking; `category` (default adult) must be one the
    departure prices: it prices the seat and counts against that category's limit.
    `unit_price` (output only) is the seat price copied when the booking was made."""

    name = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=120),
            not_blank("Give a name (no NUL characters)."),
        ],
        metadata={"example": "Clara Byrne"},
    )
    birth_date = fields.Date(
        required=True,
        validate=[validate.Range(min=date(1900, 1, 1)), _not_in_future],
        metadata={"example": "1988-04-17"},
    )
    category = fields.String(
        load_default="adult",
        validate=CATEGORY,
        metadata={"example": "adult"},
    )
    unit_price = Money(dump_only=True, allow_none=True)


class BookingCreateSchema(Schema):
    """Book seats on a departure. Customers book for themselves (leave `customer_id`
    out); admin and sales must name the customer. Travellers, when given, are one
    per seat."""

    departure_id = fields.Integer(
        required=True,
        strict=True,
        validate=ID,
        metadata={"example": 7},
    )
    seats = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_SEATS),
        metadata={"example": 2},
    )
    travellers = fields.List(
        fields.Nested(TravellerSchema), validate=validate.Length(max=MAX_SEATS)
    )
    customer_id = fields.Integer(strict=True, validate=ID, metadata={"example": 12})


class PolicyTierSchema(Schema):
    """One cancellation tier copied onto the booking: the penalty applies when at
    least `min_hours_before` hours remain before the departure starts."""

    tier = fields.String(
        metadata={"enum": list(POLICY_TIERS), "example": "14_to_29_days"}
    )
    min_hours_before = fields.Integer(metadata={"example": 336})
    penalty_percent = fields.Integer(metadata={"example": 10})


class BookingSchema(Schema):
    """A booking as the API shows it; money as decimal strings beside `currency`.

    `status` is what the caller should see: a hold that ran out reads `expired`
    even before a sweep stored it; `hold_expires_at` is null unless held.
    `unit_price` is the adult seat price at booking time, `price_snapshot` every
    category's price then, each traveller's `unit_price` their seat price;
    `deposit_amount` confirms the booking, the rest is due by `balance_due_date`;
    `penalty_amount` is null unless cancelled.
    """

    id = fields.Integer(dump_only=True)
    reference = fields.String(dump_only=True, metadata={"example": "ET-7KQ2MZ"})
    status = fields.String(
        dump_only=True,
        attribute="current_status",
        metadata={"enum": list(BOOKING_STATUSES), "example": "held"},
    )
    customer_id = fields.Integer(dump_only=True)
    departure_id = fields.Integer(dump_only=True)
    package_id = fields.Integer(dump_only=True, attribute="departure.package_id")
    package_title = fields.String(
        dump_only=True,
        attribute="departure.package.title",
        metadata={"example": "Lisbon and Sintra in Spring"},
    )
    start_date = fields.Date(dump_only=True, attribute="departure.start_date")
    seats = fields.Integer(dump_only=True, metadata={"example": 2})
    currency = fields.String(dump_only=True)
    unit_price = Money(dump_only=True)
    total_amount = Money(dump_only=True)
    amount_paid = Money(dump_only=True)
    amount_due = Money(dump_only=True)
    amount_refunded = Money(dump_only=True)
    deposit_amount = Money(dump_only=True)
    balance_due_date = fields.Date(dump_only=True, allow_none=True)
    penalty_amount = Money(dump_only=True, allow_none=True)
    disputed = fields.Boolean(
        dump_only=True,
        metadata={
            "example": False,
            "description": "True while a card payment of the booking is disputed "
            "at the cardholder's bank.",
        },
    )
    price_snapshot = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        dump_only=True,
        allow_none=True,
        metadata={"example": {"adult": "900.00", "child": "450.00"}},
    )
    invoice_id = fields.Method(
        "_invoice_id", dump_only=True, metadata={"type": "integer", "nullable": True}
    )
    invoice_number = fields.Method(
        "_invoice_number",
        dump_only=True,
        metadata={"type": "string", "nullable": True, "example": "INV-2026-000042"},
    )
    cancellation_policy = fields.List(
        fields.Nested(PolicyTierSchema), dump_only=True, allow_none=True
    )
    hold_expires_at = fields.Method(
        "_hold_expires_at",
        dump_only=True,
        allow_none=True,
        metadata={"type": "string", "format": "date-time", "nullable": True},
    )
    travellers = fields.List(fields.Nested(TravellerSchema), dump_only=True)
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    def _invoice_id(self, booking):
        """The id of the booking's invoice (null for a booking made before invoices)."""
        return booking.invoice.id if booking.invoice is not None else None

    def _invoice_number(self, booking):
        """The number of the booking's invoice, e.g. INV-2026-000042, or null."""
        return booking.invoice.number if booking.invoice is not None else None

    def _hold_expires_at(self, booking):
        """ISO 8601 expiry of a live hold, else None."""
        if booking.current_status != "held" or booking.hold_expires_at is None:
            return None
        return booking.hold_expires_at.isoformat()


class BookingQueryArgs(PageArgs):
    """`?status=&customer_id=&departure_id=` filters and `sort=` (created_at,
    total_amount, seats; `-` for descending)."""

    status = fields.String(validate=validate.OneOf(BOOKING_STATUSES))
    customer_id = fields.Integer(validate=ID)
    departure_id = fields.Integer(validate=ID)
    sort = sort_field("created_at", "total_amount", "seats")
