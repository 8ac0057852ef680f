"""Schemas of the GTFS import and export (routes/transport/gtfs.py;
docs/transport.md "GTFS")."""

from marshmallow import Schema, fields, validate

from core.errors import ProblemSchema

# Service dates an import creates trips for by default, and at most
# (services/transport/gtfs_import.py).
DEFAULT_DAYS = 28  # as services/transport/gtfs_import.py
MAX_DAYS = 366  # as services/transport/gtfs_import.py
MAX_ID = 2147483647


class GtfsImportArgs(Schema):
    """Options of an import (query string, or multipart fields beside `file`)."""

    company_id = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={
            "description": "Map every agency of the feed to this company "
            "(an operator's import always goes to its own).",
            "example": 3,
        },
    )
    country = fields.String(
        validate=validate.Regexp(r"^[A-Za-z]{2}$"),
        metadata={
            "description": "ISO 3166-1 alpha-2 country of companies the feed "
            "creates (default: the agency timezone's country).",
            "example": "US",
        },
    )
    from_date = fields.Date(
        data_key="from",
        metadata={
            "description": "First service date whose trips are created "
            "(default today).",
            "example": "2026-12-01",
        },
    )
    until = fields.Date(
        metadata={
            "description": f"Last service date whose trips are created (default "
            f"{DEFAULT_DAYS} days from `from`, at most {MAX_DAYS} days).",
            "example": "2026-12-28",
        }
    )


class GtfsUploadSchema(Schema):
    """The feed, a GTFS ZIP archive (or send the whole body as application/zip)."""

    file = fields.Raw(
        metadata={
            "type": "string",
            "format": "binary",
            "description": "The GTFS zip archive.",
            "example": "feed.zip",
        }
    )


class GtfsExportArgs(Schema):
    """Which company's feed (an operator: its own, the default)."""

    company_id = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID), metadata={"example": 3}
    )


class GtfsWarningSchema(Schema):
    """A problem of the feed that did not stop the import."""

    code = fields.String(metadata={"example": "duplicate_stop"})
    file = fields.String(allow_none=True, metadata={"example": "stops.txt"})
    row = fields.Integer(allow_none=True, metadata={"example": 5})
    field = fields.String(allow_none=True, metadata={"example": "stop_id"})
    reason = fields.String(
        metadata={"example": "Stop 'FROG' is 0.4 m from stop 'BULLFROG' (row 4)."}
    )


class GtfsCountsSchema(Schema):
    """Rows created by the import."""

    companies = fields.Integer(metadata={"example": 1})
    cities = fields.Integer(metadata={"example": 9})
    stations = fields.Integer(metadata={"example": 10})
    routes = fields.Integer(metadata={"example": 9})
    schedules = fields.Integer(metadata={"example": 144})
    trips = fields.Integer(metadata={"example": 1976})
    stop_times = fields.Integer(metadata={"example": 8320})


class GtfsMatchedSchema(Schema):
    """Existing rows the feed matched (updated, or kept as they were)."""

    companies = fields.Integer(metadata={"example": 0})
    stations = fields.Integer(metadata={"example": 0})
    routes = fields.Integer(metadata={"example": 0})
    schedules = fields.Integer(metadata={"example": 0})
    trips = fields.Integer(metadata={"example": 0})


class GtfsWindowSchema(Schema):
    """The service dates whose trips were created."""

    from_date = fields.Date(
        attribute="from", data_key="from", metadata={"example": "2026-12-01"}
    )
    until = fields.Date(metadata={"example": "2026-12-28"})


class GtfsImportResultSchema(Schema):
    """What an import did."""

    company_ids = fields.List(fields.Integer(), metadata={"example": [3]})
    window = fields.Nested(GtfsWindowSchema)
    counts = fields.Nested(GtfsCountsSchema)
    matched = fields.Nested(GtfsMatchedSchema)
    warnings = fields.List(fields.Nested(GtfsWarningSchema))


class GtfsErrorSchema(Schema):
    """One reason a feed was refused."""

    file = fields.String(allow_none=True, metadata={"example": "stop_times.txt"})
    row = fields.Integer(allow_none=True, metadata={"example": 12})
    field = fields.String(allow_none=True, metadata={"example": "stop_sequence"})
    reason = fields.String(metadata={"example": "Must be a whole number >= 0."})


class GtfsProblemSchema(ProblemSchema):
    """The 422 of an import: a faulty feed lists its `errors` (file, row, field,
    reason); bad options name their fields as every validation error does."""

    errors = fields.Raw(
        metadata={
            "description": "`[{file, row, field, reason}]` for a faulty feed; "
            "`{field: [messages]}` for bad options.",
            "example": [
                {
                    "file": "stop_times.txt",
                    "row": 12,
                    "field": "stop_sequence",
                    "reason": "Must be a whole number >= 0.",
                }
            ],
        }
    )
