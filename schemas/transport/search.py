"""Trip search schemas (docs/transport.md "Search"): the query and the offers."""

from marshmallow import Schema, fields, validate

from models.transport import VEHICLE_MODES
from schemas.catalogue.translations import Localized
from schemas.common import NO_NUL, FilterDate, Money, PageArgs

PLACE = [validate.Length(min=1, max=64), NO_NUL]


class SearchArgs(PageArgs):
    """`from` / `to`: a station code or a city id (digits); `date`: the local date
    of departure at the origin station; `passengers` 1..9 (default 1); `mode`;
    `section` (a section code, e.g. `economy`); `sort` `departure` (default),
    `price` (cheapest offered section) or `duration`; `page` / `per_page`, or
    `cursor` (the `meta.next_cursor` of the previous page of the same search)."""

    origin = fields.String(
        data_key="from",
        required=True,
        validate=PLACE,
        metadata={
            "description": "A station code or a city id (digits).",
            "example": "LON",
        },
    )
    destination = fields.String(
        data_key="to",
        required=True,
        validate=PLACE,
        metadata={
            "description": "A station code or a city id (digits).",
            "example": "PAR",
        },
    )
    on = FilterDate(
        data_key="date",
        required=True,
        metadata={
            "description": "Local date of departure at the origin station.",
            "example": "2030-06-01",
        },
    )
    passengers = fields.Integer(
        load_default=1, validate=validate.Range(min=1, max=9), metadata={"example": 2}
    )
    mode = fields.String(validate=validate.OneOf(VEHICLE_MODES))
    section = fields.String(
        validate=[validate.Length(min=1, max=32), NO_NUL],
        metadata={"example": "economy"},
    )
    sort = fields.String(
        load_default="departure",
        validate=validate.OneOf(("departure", "price", "duration")),
    )


class OfferCompanySchema(Schema):
    """The company running the trip."""

    id = fields.Integer()
    code = fields.String(metadata={"example": "EUROSTAR"})
    name = fields.String(metadata={"example": "Eurostar"})


class OfferRouteSchema(Schema):
    """The trip's route."""

    id = fields.Integer()
    code = fields.String(metadata={"example": "9O"})
    name = fields.String(metadata={"example": "London - Paris"})


class OfferStationSchema(Schema):
    """A station of the offer with its IANA timezone; `name` in the caller's
    language, else the original."""

    id = fields.Integer()
    code = fields.String(metadata={"example": "LON"})
    name = Localized(metadata={"example": "London St Pancras"})
    timezone = fields.String(metadata={"example": "Europe/London"})


class OfferSectionSchema(Schema):
    """A section on sale: its fare for the pair and seats left over the ride."""

    code = fields.String(metadata={"example": "economy"})
    name = fields.String(metadata={"example": "Economy"})
    price = Money()
    currency = fields.String(metadata={"example": "EUR"})
    seats_left = fields.Integer(metadata={"example": 40})


class OfferSchema(Schema):
    """One trip serving the pair: UTC instants (`departure_at`, `arrival_at`) and
    local ones with the offset of each station's zone (`departure_local` at the
    origin, `arrival_local` at the destination)."""

    trip_id = fields.Integer()
    service_date = fields.Date()
    company = fields.Nested(OfferCompanySchema)
    mode = fields.String(metadata={"enum": list(VEHICLE_MODES), "example": "train"})
    route = fields.Nested(OfferRouteSchema)
    from_station = fields.Nested(OfferStationSchema)
    to_station = fields.Nested(OfferStationSchema)
    departure_at = fields.DateTime(metadata={"example": "2030-06-01T22:30:00+00:00"})
    arrival_at = fields.DateTime(metadata={"example": "2030-06-02T00:15:00+00:00"})
    departure_local = fields.DateTime(metadata={"example": "2030-06-01T23:30:00+01:00"})
    arrival_local = fields.DateTime(metadata={"example": "2030-06-02T02:15:00+02:00"})
    duration_minutes = fields.Integer(metadata={"example": 105})
    stops_between = fields.Integer(metadata={"example": 1})
    amenities = fields.List(fields.String(), metadata={"example": ["wifi", "meal"]})
    sections = fields.List(fields.Nested(OfferSectionSchema))
