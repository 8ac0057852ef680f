"""Ticket, boarding, manifest and ticket-key schemas (docs/transport.md "Tickets
and boarding").

Times: `*_at` are aware UTC instants, `*_local` the same instants on the wall
clock of the station's timezone (with its offset), as the trip search shows them.
"""

from marshmallow import Schema, fields, validate

from models.ticket import TICKET_STATUSES
from models.transport import TRIP_STATUSES
from schemas.catalogue.translations import Localized
from schemas.common import ID, NO_NUL

CATEGORIES = ("adult", "child", "infant")
BARCODE_EXAMPLE = (
    "ET1.eyJuIjoiVEstN0s5UTJNWDRQQSIsInQiOjEsImYiOjAsIm8iOjIsInMiOiJlY29ub215Iiwic3Qi"
    "OiIxQSIsInAiOiJBbm5hIEJlcmcifQ.nK1S2rQ3y7W0Vw1R3l2w1Yh0fW2xBv9eN4T7m5Pq8gX3c6Zf"
    "L0dQe9sJk2Hb7Uu1aYc4RrTt5Ee6Ww8Ii9Oo0Aa"
)


class TicketPassengerSchema(Schema):
    """The passenger a ticket is for."""

    name = fields.String(metadata={"example": "Anna Berg"})
    category = fields.String(metadata={"enum": list(CATEGORIES), "example": "adult"})
    birth_date = fields.Date(metadata={"example": "1990-04-12"})


class TicketTripSchema(Schema):
    """The trip of a ticket."""

    id = fields.Integer(metadata={"example": 12})
    route_code = fields.String(metadata={"example": "DUB-GAL"})
    company_name = fields.String(metadata={"example": "Atlantic Coaches"})
    service_date = fields.Date(metadata={"example": "2030-06-01"})


class TicketFromSchema(Schema):
    """Where the passenger boards: the station and its departure time. `name` is
    in the caller's language when the view carries the station's `translations`
    (docs/i18n.md "Catalogue translations"), else the original."""

    station_id = fields.Integer(metadata={"example": 3})
    code = fields.String(metadata={"example": "DUBBA"})
    name = Localized(metadata={"example": "Dublin Busáras"})
    departure_at = fields.DateTime(metadata={"example": "2030-06-01T07:00:00+00:00"})
    departure_local = fields.DateTime(metadata={"example": "2030-06-01T08:00:00+01:00"})


class TicketToSchema(Schema):
    """Where the passenger leaves: the station and its arrival time. `name` is
    in the caller's language when the view carries the station's `translations`
    (docs/i18n.md "Catalogue translations"), else the original."""

    station_id = fields.Integer(metadata={"example": 5})
    code = fields.String(metadata={"example": "GALCS"})
    name = Localized(metadata={"example": "Galway Coach Station"})
    arrival_at = fields.DateTime(metadata={"example": "2030-06-01T11:00:00+00:00"})
    arrival_local = fields.DateTime(metadata={"example": "2030-06-01T12:00:00+01:00"})


class TicketSchema(Schema):
    """A passenger's ticket with its signed barcode (`ET1.<payload>.<signature>`,
    verified offline with GET /api/v1/transport/ticket-key)."""

    number = fields.String(metadata={"example": "TK-7K9Q2MX4PA"})
    booking_id = fields.Integer(metadata={"example": 41})
    booking_reference = fields.String(metadata={"example": "ET-4F7K2Q"})
    passenger = fields.Nested(TicketPassengerSchema)
    trip = fields.Nested(TicketTripSchema)
    from_ = fields.Nested(TicketFromSchema, data_key="from", attribute="from")
    to = fields.Nested(TicketToSchema)
    section_code = fields.String(metadata={"example": "economy"})
    seat_label = fields.String(
        allow_none=True,
        metadata={"example": "1A", "description": "None for an infant (no seat)."},
    )
    status = fields.String(metadata={"enum": list(TICKET_STATUSES), "example": "valid"})
    boarded_at = fields.DateTime(
        allow_none=True, metadata={"example": "2030-06-01T06:52:10+00:00"}
    )
    barcode = fields.String(metadata={"example": BARCODE_EXAMPLE})


class BoardingSchema(Schema):
    """A scanned barcode, and optionally the trip being boarded (`trip_id`: a
    ticket of another trip is refused with 422 `wrong-trip`)."""

    barcode = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=2048), NO_NUL],
        metadata={"example": BARCODE_EXAMPLE},
    )
    trip_id = fields.Integer(strict=True, validate=ID, metadata={"example": 12})


class BoardingArgs(Schema):
    """`station_id`: where the scanner is (a ticket boarding elsewhere is refused
    with 422 `wrong-station`)."""

    station_id = fields.Integer(validate=ID, metadata={"example": 3})


class ManifestArgs(Schema):
    """`format`: `json` (default) or `csv` (also chosen by `Accept: text/csv`)."""

    format = fields.String(validate=validate.OneOf(("json", "csv")))


class ManifestLineSchema(Schema):
    """One passenger boarding or alighting at a stop."""

    number = fields.String(metadata={"example": "TK-7K9Q2MX4PA"})
    passenger_name = fields.String(metadata={"example": "Anna Berg"})
    category = fields.String(metadata={"enum": list(CATEGORIES), "example": "adult"})
    seat_label = fields.String(allow_none=True, metadata={"example": "1A"})
    section_code = fields.String(metadata={"example": "economy"})
    from_station_code = fields.String(metadata={"example": "DUBBA"})
    to_station_code = fields.String(metadata={"example": "GALCS"})
    status = fields.String(metadata={"enum": list(TICKET_STATUSES), "example": "valid"})
    boarded_at = fields.DateTime(
        allow_none=True, metadata={"example": "2030-06-01T06:52:10+00:00"}
    )


class ManifestStopSchema(Schema):
    """A stop of the trip with who boards and who alights there."""

    sequence = fields.Integer(metadata={"example": 0})
    station_id = fields.Integer(metadata={"example": 3})
    code = fields.String(metadata={"example": "DUBBA"})
    name = fields.String(metadata={"example": "Dublin Busáras"})
    arrival_local = fields.DateTime(metadata={"example": "2030-06-01T08:00:00+01:00"})
    departure_local = fields.DateTime(metadata={"example": "2030-06-01T08:00:00+01:00"})
    boarding = fields.List(fields.Nested(ManifestLineSchema))
    alighting = fields.List(fields.Nested(ManifestLineSchema))


class ManifestSchema(Schema):
    """A trip's passengers stop by stop (tickets not cancelled), with the number
    of tickets per status."""

    trip_id = fields.Integer(metadata={"example": 12})
    route_code = fields.String(metadata={"example": "DUB-GAL"})
    service_date = fields.Date(metadata={"example": "2030-06-01"})
    status = fields.String(
        metadata={"enum": list(TRIP_STATUSES), "example": "scheduled"}
    )
    departure_at = fields.DateTime(metadata={"example": "2030-06-01T07:00:00+00:00"})
    stops = fields.List(fields.Nested(ManifestStopSchema))
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"example": {"valid": 30, "boarded": 12, "no_show": 1}},
    )


class NoShowsSchema(Schema):
    """How many tickets were marked `no_show`, up to which stop sequence."""

    trip_id = fields.Integer(metadata={"example": 12})
    marked = fields.Integer(metadata={"example": 3})
    through_sequence = fields.Integer(
        metadata={
            "example": 2,
            "description": "The last stop whose departure time has passed.",
        }
    )


class TicketKeySchema(Schema):
    """The public key that verifies ticket barcodes offline."""

    algorithm = fields.String(metadata={"example": "Ed25519"})
    key = fields.String(
        metadata={
            "example": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            "description": "base64url (no padding) of the 32-byte raw public key.",
        }
    )
    key_id = fields.String(metadata={"example": "3f9a1c0e5b7d2a84"})
    format = fields.String(
        metadata={"example": "ET1.<base64url(payload)>.<base64url(signature)>"}
    )
    fields_ = fields.Dict(
        data_key="fields",
        attribute="fields",
        keys=fields.String(),
        values=fields.String(),
        metadata={"example": {"n": "ticket number", "t": "trip id"}},
    )
