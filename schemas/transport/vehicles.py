"""Vehicle schemas: a bus, train, plane or ferry of a company with its amenities and
its sections, each with a seat map (docs/transport.md "Vehicles and seat maps").

A seat map is `{"rows": [["1A", "1B", null, "1C"], ...]}`: rows of seat labels,
`null` for an aisle or a gap. The shape is checked here (labels 1-8 characters
without NUL and without leading or trailing spaces, no empty row, at least one seat
per section); the rules across sections (labels and codes unique in the vehicle)
are services.transport.vehicles'.
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models import VEHICLE_MODES
from schemas.common import ID, NO_NUL, NOT_BLANK, SPACE, PageArgs, StrictBoolean
from schemas.common import sort_field as _sort_field

# Bounds of a seat map: a double-deck coach has 20 rows, an A380 cabin ~50 rows
# of 10 seats; these leave room without letting one body hold a million seats.
MAX_ROWS = 200
MAX_ROW_WIDTH = 30
MAX_SECTIONS = 20
MAX_AMENITIES = 50
# A seat label: 1-8 characters, no NUL, no space at either end ("1A", "12C", "B-4").
SEAT_LABEL = validate.Regexp(
    rf"^[^\x00{SPACE}]([^\x00]{{0,6}}[^\x00{SPACE}])?$",
    error="A seat label has 1 to 8 characters, no NUL and no space at either end.",
)
# Section and amenity codes: the words fares and searches name them by.
CODE = validate.Regexp(
    r"^[A-Za-z0-9_.-]{1,32}$",
    error="Use 1 to 32 letters, digits, '_', '.' or '-'.",
)
NAME = [validate.Length(min=1, max=120), NOT_BLANK]
REGISTRATION = [validate.Length(min=1, max=40), NOT_BLANK]
SORTABLE = ("created_at", "updated_at", "name", "registration")

SEAT_ROWS_EXAMPLE = [["1A", "1B", None, "1C", "1D"], ["2A", "2B", None, "2C", "2D"]]


class SeatMapSchema(Schema):
    """Rows of seat labels front to back; `null` is an aisle or a gap."""

    rows = fields.List(
        fields.List(
            fields.String(allow_none=True, validate=SEAT_LABEL),
            validate=validate.Length(min=1, max=MAX_ROW_WIDTH),
        ),
        required=True,
        validate=validate.Length(min=1, max=MAX_ROWS),
        metadata={
            "example": SEAT_ROWS_EXAMPLE,
            "description": f"1 to {MAX_ROWS} rows of 1 to {MAX_ROW_WIDTH} places; "
            "a place is a seat label (1-8 characters) or null (aisle).",
        },
    )

    @validates_schema
    def _has_a_seat(self, data, **_kwargs):
        """A section has at least one seat (its capacity is at least 1)."""
        rows = data.get("rows") or []
        if not any(label is not None for row in rows for label in row):
            raise ValidationError("A section needs at least one seat.", "rows")


class SectionInputSchema(Schema):
    """A section of a new or edited vehicle: its code (unique in the vehicle; fares
    name it), its name and its seat map; the capacity is counted from the map."""

    code = fields.String(required=True, validate=CODE, metadata={"example": "economy"})
    name = fields.String(
        required=True, validate=NAME, metadata={"example": "Economy class"}
    )
    seat_map = fields.Nested(SeatMapSchema, required=True)


class SectionSchema(Schema):
    """A section as answered, with its capacity (the seat count of its map)."""

    code = fields.String(metadata={"example": "economy"})
    name = fields.String(metadata={"example": "Economy class"})
    seat_map = fields.Nested(SeatMapSchema)
    capacity = fields.Integer(
        metadata={"example": 4, "description": "Seats in the seat map."}
    )


class AmenityCodeSchema(Schema):
    """An amenity as a vehicle lists it: its code."""

    code = fields.String(metadata={"example": "wifi"})


class VehicleSchema(Schema):
    """A vehicle as the API shows it."""

    id = fields.Integer(dump_only=True, metadata={"example": 7})
    company_id = fields.Integer(metadata={"example": 1})
    mode = fields.String(metadata={"enum": list(VEHICLE_MODES), "example": "bus"})
    name = fields.String(metadata={"example": "Coach 12 (Irizar i6)"})
    registration = fields.String(metadata={"example": "241-D-1234"})
    active = fields.Boolean(metadata={"example": True})
    amenities = fields.Pluck(
        AmenityCodeSchema,
        "code",
        many=True,
        metadata={"example": ["power", "wifi"]},
    )
    sections = fields.List(fields.Nested(SectionSchema))
    capacity = fields.Method(
        "_capacity",
        metadata={
            "type": "integer",
            "example": 49,
            "description": "Seats in all sections.",
        },
    )
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    def _capacity(self, vehicle) -> int:
        """The vehicle's seats: the sum of its sections' capacities."""
        return sum(section.capacity for section in vehicle.sections)


class VehicleCreateSchema(Schema):
    """A new vehicle. `company_id` is required for admin and operation staff; an
    operator's vehicle belongs to its own company (naming another is 404)."""

    company_id = fields.Integer(
        strict=True, validate=ID, allow_none=True, metadata={"example": 1}
    )
    mode = fields.String(required=True, validate=validate.OneOf(VEHICLE_MODES))
    name = fields.String(
        required=True, validate=NAME, metadata={"example": "Coach 12 (Irizar i6)"}
    )
    registration = fields.String(
        required=True,
        validate=REGISTRATION,
        metadata={
            "example": "241-D-1234",
            "description": "Unique within the company (409 otherwise).",
        },
    )
    active = StrictBoolean(load_default=True, metadata={"example": True})
    amenities = fields.List(
        fields.String(validate=CODE),
        load_default=list,
        validate=validate.Length(max=MAX_AMENITIES),
        metadata={"example": ["wifi", "power"]},
    )
    sections = fields.List(
        fields.Nested(SectionInputSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_SECTIONS),
    )


class VehicleUpdateSchema(Schema):
    """Partial edit; `sections`, when given, replace all sections (a seat sold on a
    future trip cannot disappear: 409 `seat-sold`). The company does not change."""

    mode = fields.String(validate=validate.OneOf(VEHICLE_MODES))
    name = fields.String(validate=NAME, metadata={"example": "Coach 12 (Irizar i6)"})
    registration = fields.String(
        validate=REGISTRATION, metadata={"example": "241-D-1234"}
    )
    active = StrictBoolean(metadata={"example": True})
    amenities = fields.List(
        fields.String(validate=CODE),
        validate=validate.Length(max=MAX_AMENITIES),
        metadata={"example": ["wifi", "power"]},
    )
    sections = fields.List(
        fields.Nested(SectionInputSchema),
        validate=validate.Length(min=1, max=MAX_SECTIONS),
    )


class VehicleQueryArgs(PageArgs):
    """Vehicle list filters: `company_id` (an operator sees only its own company's
    anyway), `mode`, `q` (name or registration, case-insensitive substring);
    `sort` one of created_at, updated_at, name, registration (`-` for descending;
    default newest first)."""

    company_id = fields.Integer(validate=ID)
    mode = fields.String(validate=validate.OneOf(VEHICLE_MODES))
    q = fields.String(validate=[validate.Length(min=1, max=120), NO_NUL])
    sort = _sort_field(*SORTABLE)
