"""Booking schemas (DESIGN.md "Resource map": /bookings; "Rules with numbers")."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate

from models.base import utcnow
from models.booking import BOOKING_STATUSES, TRAVELLER_CATEGORIES
from schemas.common import Money, PageArgs

MAX_ID = 2_147_483_647
ID = validate.Range(min=1, max=MAX_ID)
MAX_SEATS = 50


def _not_in_future(value: date) -> None:
    """A birth date cannot be later than today (UTC)."""
    if value > utcnow().date():
        raise ValidationError("The birth date cannot be in the future.")


class TravellerSchema(Schema):
    """One traveller of a booking; `category` prices and counts the seat."""

    name = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=120), validate.Regexp(r"\S", error="Give a name.")],
    )
    birth_date = fields.Date(
        required=True,
        validate=[validate.Range(min=date(1900, 1, 1)), _not_in_future],
    )
    category = fields.String(
        load_default="adult", validate=validate.OneOf(TRAVELLER_CATEGORIES)
    )


class BookingCreateSchema(Schema):
    """Book seats on a departure. Customers book for themselves (leave `customer_id`
    out); admin and sales must name the customer. Travellers, when given, are one
    per seat."""

    departure_id = fields.Integer(required=True, strict=True, validate=ID)
    seats = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_SEATS)
    )
    travellers = fields.List(
        fields.Nested(TravellerSchema), validate=validate.Length(max=MAX_SEATS)
    )
    customer_id = fields.Integer(strict=True, validate=ID)


class BookingSchema(Schema):
    """A booking as the API shows it; money as decimal strings beside `currency`.

    `status` is what the caller should see: a hold that ran out reads `expired`
    even before a sweep stored it; `hold_expires_at` is null unless held.
    """

    id = fields.Integer(dump_only=True)
    reference = fields.String(dump_only=True, metadata={"example": "ET-7KQ2MZ"})
    status = fields.String(dump_only=True, attribute="current_status")
    customer_id = fields.Integer(dump_only=True)
    departure_id = fields.Integer(dump_only=True)
    package_id = fields.Integer(dump_only=True, attribute="departure.package_id")
    package_title = fields.String(dump_only=True, attribute="departure.package.title")
    start_date = fields.Date(dump_only=True, attribute="departure.start_date")
    seats = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    unit_price = Money(dump_only=True)
    total_amount = Money(dump_only=True)
    amount_paid = Money(dump_only=True)
    amount_due = Money(dump_only=True)
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
    sort = fields.String(validate=validate.Length(max=30))
