"""Departure schemas (DESIGN.md "Resource map": departure fields)."""

from marshmallow import Schema, fields, validate

from models.package import DEPARTURE_STATUSES
from schemas.common import Money, PageArgs

CAPACITY = validate.Range(min=1, max=10_000)
CUTOFF_HELP = "Aware ISO 8601 datetime; null means bookable until 00:00 UTC of start_date."


class DepartureSchema(Schema):
    """A departure as the API shows it; `price` is the adult seat price, `prices`
    the price per traveller category; `seats_taken` counts confirmed bookings and
    unexpired holds (a lapsed hold never counts), `seats_left` = capacity - seats_taken."""

    id = fields.Integer(dump_only=True)
    package_id = fields.Integer(dump_only=True)
    start_date = fields.Date()
    end_date = fields.Date()
    capacity = fields.Integer()
    price = Money()
    prices = fields.Dict(keys=fields.String(), values=Money(), dump_only=True)
    currency = fields.String(dump_only=True)
    seats_taken = fields.Integer(dump_only=True, attribute="seats_in_use")
    seats_left = fields.Integer(dump_only=True)
    booking_cutoff = fields.DateTime(allow_none=True)
    status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class DepartureCreateSchema(Schema):
    """A new departure; `price` defaults to the package's base_price, the currency is
    the package's."""

    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    capacity = fields.Integer(required=True, validate=CAPACITY)
    price = Money()
    booking_cutoff = fields.AwareDateTime(allow_none=True, metadata={"description": CUTOFF_HELP})


class DepartureUpdateSchema(Schema):
    """Partial update; the capacity cannot drop below the seats taken (409)."""

    start_date = fields.Date()
    end_date = fields.Date()
    capacity = fields.Integer(validate=CAPACITY)
    price = Money()
    booking_cutoff = fields.AwareDateTime(allow_none=True, metadata={"description": CUTOFF_HELP})


class DepartureQueryArgs(PageArgs):
    """`status=` filter; `sort=` start_date (default, ascending), end_date, price or
    created_at, `-` prefixed for descending."""

    status = fields.String(validate=validate.OneOf(DEPARTURE_STATUSES))
    sort = fields.String(validate=validate.Length(max=30))
