"""Route and fare schemas (docs/transport.md "Routes" and "Fares").

A route is a company's ordered list of stations (at least 2, none twice); its
fares price an origin-destination pair of those stations (origin first) in one
vehicle section, in an ISO 4217 currency. A pair without a fare is not sold.
"""

from marshmallow import Schema, fields, validate

from models import VEHICLE_MODES
from schemas.catalogue.translations import Localized, TaxRate
from schemas.common import (
    ID,
    NO_NUL,
    NOT_BLANK,
    Currency,
    Money,
    PageArgs,
    StrictBoolean,
)
from schemas.common import sort_field as _sort_field

# A route of more stops than this is surely a mistake; it also bounds the fare
# table (n * (n - 1) / 2 pairs per section).
MAX_STOPS = 200
# Fares one PUT may carry (about 100 bytes each in a 1 MiB body).
MAX_FARES = 10_000
ROUTE_CODE = [
    validate.Length(min=1, max=64),
    NOT_BLANK,
]
ROUTE_NAME = [validate.Length(min=1, max=160), NOT_BLANK]
SECTION_CODE = validate.Regexp(
    r"^[A-Za-z0-9_.-]{1,32}$",
    error="Use 1 to 32 letters, digits, '_', '.' or '-'.",
)
SORTABLE = ("created_at", "updated_at", "code", "name")
FARE_STATUSES = ("active", "pending_approval")


class RouteStopSchema(Schema):
    """A station of a route at its position (0 first)."""

    position = fields.Integer(metadata={"example": 0})
    station_id = fields.Integer(metadata={"example": 3})
    station_code = fields.String(attribute="station.code", metadata={"example": "DUB"})
    station_name = Localized(
        attribute="station.name",
        translations="station.translations",
        key="name",
        metadata={
            "example": "Dublin Busáras",
            "description": "In the caller's language, else the original.",
        },
    )


class TransportRouteSchema(Schema):
    """A route as the API shows it, with its ordered stops (station names in the
    caller's language) and its effective `tax_rate` (the route's, else
    DEFAULT_TAX_RATE)."""

    id = fields.Integer(dump_only=True, metadata={"example": 4})
    company_id = fields.Integer(metadata={"example": 1})
    mode = fields.String(metadata={"enum": list(VEHICLE_MODES), "example": "bus"})
    code = fields.String(metadata={"example": "X1"})
    name = fields.String(metadata={"example": "Dublin - Galway express"})
    active = fields.Boolean(metadata={"example": True})
    tax_rate = TaxRate(allow_none=False)
    stops = fields.List(fields.Nested(RouteStopSchema))
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


STOPS_FIELD = {
    "validate": validate.Length(min=2, max=MAX_STOPS),
    "metadata": {
        "example": [3, 8, 5],
        "description": "Station ids in calling order: at least 2, none twice.",
    },
}


class TransportRouteCreateSchema(Schema):
    """A new route. `company_id` is required for admin and operation staff; an
    operator's route belongs to its own company (naming another is 404)."""

    company_id = fields.Integer(
        strict=True, validate=ID, allow_none=True, metadata={"example": 1}
    )
    mode = fields.String(required=True, validate=validate.OneOf(VEHICLE_MODES))
    code = fields.String(
        required=True,
        validate=ROUTE_CODE,
        metadata={"example": "X1", "description": "Unique within the company."},
    )
    name = fields.String(
        required=True,
        validate=ROUTE_NAME,
        metadata={"example": "Dublin - Galway express"},
    )
    active = StrictBoolean(load_default=True, metadata={"example": True})
    tax_rate = TaxRate()
    stops = fields.List(
        fields.Integer(strict=True, validate=ID), required=True, **STOPS_FIELD
    )


class TransportRouteUpdateSchema(Schema):
    """Partial edit; `stops` replace the stops, only while the route has no trips
    and no schedules (409 `route-has-trips`)."""

    mode = fields.String(validate=validate.OneOf(VEHICLE_MODES))
    code = fields.String(validate=ROUTE_CODE, metadata={"example": "X1"})
    name = fields.String(
        validate=ROUTE_NAME, metadata={"example": "Dublin - Galway express"}
    )
    active = StrictBoolean(metadata={"example": True})
    tax_rate = TaxRate()
    stops = fields.List(fields.Integer(strict=True, validate=ID), **STOPS_FIELD)


class TransportRouteQueryArgs(PageArgs):
    """Route list filters: `company_id` (an operator sees only its own company's
    anyway), `mode`, `station_id` (routes calling there), `q` (code or name,
    case-insensitive substring); `sort` one of created_at, updated_at, code, name
    (`-` for descending; default newest first)."""

    company_id = fields.Integer(validate=ID)
    mode = fields.String(validate=validate.OneOf(VEHICLE_MODES))
    station_id = fields.Integer(validate=ID)
    q = fields.String(validate=[validate.Length(min=1, max=120), NO_NUL])
    sort = _sort_field(*SORTABLE)


# --- fares -----------------------------------------------------------------------


class FareInputSchema(Schema):
    """The price of one pair of the route's stations (origin before destination)
    in one section."""

    from_station_id = fields.Integer(
        required=True, strict=True, validate=ID, metadata={"example": 3}
    )
    to_station_id = fields.Integer(
        required=True, strict=True, validate=ID, metadata={"example": 5}
    )
    section_code = fields.String(
        required=True,
        validate=SECTION_CODE,
        metadata={
            "example": "economy",
            "description": "A section code of the company's vehicles (not checked "
            "against them: a fare of a code no vehicle has is never offered).",
        },
    )
    price = Money(required=True, metadata={"example": "19.50"})
    currency = Currency(required=True, metadata={"example": "EUR"})


class FareTableInputSchema(Schema):
    """The route's whole fare table: pairs left out are no longer sold."""

    fares = fields.List(
        fields.Nested(FareInputSchema),
        required=True,
        validate=validate.Length(max=MAX_FARES),
    )


class RouteFareSchema(Schema):
    """A fare as answered: `price` is what is sold (null: not sold yet);
    `pending_price` waits for an operation head's approval."""

    from_station_id = fields.Integer(metadata={"example": 3})
    to_station_id = fields.Integer(metadata={"example": 5})
    section_code = fields.String(metadata={"example": "economy"})
    price = Money(allow_none=True, metadata={"example": "19.50"})
    currency = fields.String(metadata={"example": "EUR"})
    pending_price = Money(allow_none=True, metadata={"example": "17.00"})
    status = fields.String(metadata={"enum": list(FARE_STATUSES), "example": "active"})
    proposed_by_id = fields.Integer(allow_none=True, metadata={"example": 12})
    approved_by_id = fields.Integer(allow_none=True, metadata={"example": 9})
    approved_at = fields.DateTime(allow_none=True)


class FareTableSchema(Schema):
    """The fares of a route, by origin then destination (route order), then
    section code."""

    route_id = fields.Integer(metadata={"example": 4})
    published_trips = fields.Boolean(
        metadata={
            "example": True,
            "description": "The route has scheduled trips still to depart: price "
            "changes wait for approval (maker-checker).",
        }
    )
    fares = fields.List(fields.Nested(RouteFareSchema))
