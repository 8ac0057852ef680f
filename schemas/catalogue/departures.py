"""Departure schemas (docs/design.md "Resource map": departure fields, with
price categories, per-category capacity, minimum party size, booking cutoff)."""

from marshmallow import Schema, fields, validate

from models.departure import DEPARTURE_STATUSES
from schemas.common import Money, PageArgs, UTCAwareDateTime, sort_field

CAPACITY = validate.Range(min=1, max=10_000)
CATEGORY = validate.Regexp(
    r"^[a-z_]{1,20}$", error="Use 1-20 lowercase letters or underscores, e.g. child."
)
MAX_CATEGORIES = 10
CUTOFF_HELP = (
    "Aware ISO 8601 datetime; null means bookable until 00:00 UTC of start_date."
)
PRICES_HELP = (
    'Seat price per traveller category, e.g. {"adult": "900.00", "child": "450.00"}; '
    "must include adult (= `price`). On PATCH it replaces the whole set: a category "
    "left out is removed (409 while it has seats taken)."
)
CAPACITIES_HELP = (
    "Optional seat limit per category (each <= capacity; null removes a limit); "
    "every seat also counts against the departure's capacity."
)


def _prices(**kwargs):
    return fields.Dict(
        keys=fields.String(validate=CATEGORY),
        values=Money(),
        validate=validate.Length(min=1, max=MAX_CATEGORIES),
        metadata={
            "description": PRICES_HELP,
            "example": {"adult": "900.00", "child": "450.00"},
        },
        **kwargs,
    )


def _capacities(**kwargs):
    return fields.Dict(
        keys=fields.String(validate=CATEGORY),
        values=fields.Integer(
            strict=True, allow_none=True, validate=validate.Range(0, 10_000)
        ),
        validate=validate.Length(max=MAX_CATEGORIES),
        metadata={"description": CAPACITIES_HELP, "example": {"child": 6}},
        **kwargs,
    )


class DepartureSchema(Schema):
    """A departure as the API shows it; `price` is the adult seat price, `prices`
    the price per traveller category; `seats_taken` counts confirmed bookings and
    unexpired holds (a lapsed hold never counts), `seats_left` = capacity - seats_taken;
    `category_capacities` / `category_seats_left` cover the capacity-limited
    categories only."""

    id = fields.Integer(dump_only=True)
    package_id = fields.Integer(dump_only=True)
    start_date = fields.Date()
    end_date = fields.Date()
    capacity = fields.Integer(metadata={"example": 24})
    price = Money()
    prices = fields.Dict(
        keys=fields.String(),
        values=Money(),
        dump_only=True,
        metadata={"example": {"adult": "900.00", "child": "450.00"}},
    )
    category_capacities = fields.Dict(
        metadata={"example": {"child": 6}},
        keys=fields.String(),
        values=fields.Integer(),
        dump_only=True,
    )
    category_seats_left = fields.Dict(
        metadata={"example": {"adult": 18, "child": 4}},
        keys=fields.String(),
        values=fields.Integer(),
        dump_only=True,
    )
    min_party_size = fields.Integer(dump_only=True, metadata={"example": 1})
    currency = fields.String(dump_only=True)
    seats_taken = fields.Integer(
        dump_only=True,
        attribute="seats_in_use",
        metadata={"example": 4},
    )
    seats_left = fields.Integer(dump_only=True, metadata={"example": 20})
    booking_cutoff = fields.DateTime(allow_none=True)
    status = fields.String(dump_only=True, metadata={"enum": list(DEPARTURE_STATUSES)})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class DepartureCreateSchema(Schema):
    """A new departure; `price` (adult) defaults to the package's base_price, or give
    `prices` with at least `adult` (both must then agree); the currency is the
    package's. `min_party_size` (default 1) is the fewest seats one booking may take."""

    start_date = fields.Date(required=True, metadata={"example": "2026-09-12"})
    end_date = fields.Date(required=True, metadata={"example": "2026-09-19"})
    capacity = fields.Integer(
        required=True,
        strict=True,
        validate=CAPACITY,
        metadata={"example": 24},
    )
    price = Money()
    prices = _prices()
    category_capacities = _capacities()
    min_party_size = fields.Integer(
        strict=True,
        validate=CAPACITY,
        metadata={"example": 1},
    )
    booking_cutoff = UTCAwareDateTime(
        allow_none=True,
        metadata={"example": "2026-09-01T00:00:00+00:00", "description": CUTOFF_HELP},
    )


class DepartureUpdateSchema(Schema):
    """Partial update; the capacity (of the departure or a category) cannot drop
    below the seats taken (409). Bookings keep the prices they were made at."""

    start_date = fields.Date(metadata={"example": "2026-09-12"})
    end_date = fields.Date(metadata={"example": "2026-09-19"})
    capacity = fields.Integer(strict=True, validate=CAPACITY, metadata={"example": 30})
    price = Money()
    prices = _prices()
    category_capacities = _capacities()
    min_party_size = fields.Integer(
        strict=True,
        validate=CAPACITY,
        metadata={"example": 2},
    )
    booking_cutoff = UTCAwareDateTime(
        allow_none=True,
        metadata={"example": "2026-09-01T00:00:00+00:00", "description": CUTOFF_HELP},
    )


class DepartureQueryArgs(PageArgs):
    """`status=` filter; `sort=` start_date (default, ascending), end_date, price or
    created_at, `-` prefixed for descending."""

    status = fields.String(validate=validate.OneOf(DEPARTURE_STATUSES))
    sort = sort_field("start_date", "end_date", "price", "created_at")
