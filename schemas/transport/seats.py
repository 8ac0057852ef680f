"""Seat-choice schemas (docs/transport.md "Tickets": seat choice): the ride asked
about and the section's seat map with each seat free or taken for it."""

from marshmallow import Schema, fields, validate

from schemas.common import ID, NO_NUL


class RideSeatMapArgs(Schema):
    """`?from_station_id=&to_station_id=&section_code=`: the ride and section."""

    from_station_id = fields.Integer(required=True, validate=ID)
    to_station_id = fields.Integer(required=True, validate=ID)
    section_code = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=32), NO_NUL],
        metadata={"example": "economy"},
    )


class RideSeatSchema(Schema):
    """One seat: its label and whether it is `free` or `taken` for the ride (taken
    on any of its segments by a live booking)."""

    label = fields.String(metadata={"example": "3A"})
    status = fields.String(metadata={"enum": ["free", "taken"], "example": "free"})


class RideSeatMapSchema(Schema):
    """The section's seat map for one ride: rows of seats, null for an aisle."""

    trip_id = fields.Integer()
    section_code = fields.String(metadata={"example": "economy"})
    from_station_id = fields.Integer()
    to_station_id = fields.Integer()
    seats_left = fields.Integer(metadata={"example": 37})
    rows = fields.List(
        fields.List(fields.Nested(RideSeatSchema, allow_none=True)),
        metadata={
            "description": "Row by row; null cells are aisles.",
            "example": [
                [
                    {"label": "1A", "status": "taken"},
                    {"label": "1B", "status": "free"},
                    None,
                    {"label": "1C", "status": "free"},
                ]
            ],
        },
    )
