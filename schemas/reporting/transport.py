"""Query arguments of the transport reports (docs/reports.md "Transport reports"):
the shared range, format and `limit` of the other reports plus a company filter
and, for revenue, the grouping."""

from marshmallow import Schema, fields, validate

from schemas.common import ID
from schemas.reporting.reports import FORMATS, LimitedReportArgs

REVENUE_GROUPS = ("company", "route")


class TransportReportArgs(LimitedReportArgs):
    """`?date_from=&date_to=&format=&limit=` like every report, plus `company_id`
    (one transport company's rows only)."""

    company_id = fields.Integer(
        validate=ID, metadata={"description": "Only this transport company's rows"}
    )


class TransportRevenueArgs(TransportReportArgs):
    """The transport report arguments plus `group_by=company|route` (default
    company)."""

    group_by = fields.String(
        load_default="company",
        validate=validate.OneOf(REVENUE_GROUPS),
        metadata={"description": "One row per company (default) or per route"},
    )


class TripLoadArgs(Schema):
    """`format=json|csv|pdf` only (default: JSON, or CSV / PDF when `Accept:
    text/csv` / `Accept: application/pdf`): the report is one trip's segments,
    named in the path."""

    format = fields.String(
        validate=validate.OneOf(FORMATS),
        metadata={
            "description": "json (default), csv or pdf; `Accept: text/csv` "
            "or `Accept: application/pdf` also picks CSV or PDF"
        },
    )
