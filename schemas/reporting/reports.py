"""Query arguments and documented response shapes of the reports
(docs/design.md "Resource map": /reports)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import ID, NO_NUL, FilterDate, Money

FORMATS = ("json", "csv", "pdf")
MAX_LIMIT = 100_000


class ReportArgs(Schema):
    """`?date_from=&date_to=` (ISO dates, inclusive, UTC, years 2000 to 2100) and
    `format=json|csv|pdf` (default: JSON, or CSV / PDF when `Accept: text/csv` /
    `Accept: application/pdf`)."""

    date_from = FilterDate(
        metadata={"description": "First day (inclusive, UTC)", "example": "2026-01-01"}
    )
    date_to = FilterDate(
        metadata={"description": "Last day (inclusive, UTC)", "example": "2026-12-31"}
    )
    format = fields.String(
        validate=validate.OneOf(FORMATS),
        metadata={
            "description": "json (default), csv or pdf; `Accept: text/csv` "
            "or `Accept: application/pdf` also picks CSV or PDF"
        },
    )

    @validates_schema
    def _range_in_order(self, data, **_kwargs):
        """date_to may not come before date_from."""
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise ValidationError(
                "Must be on or after date_from.", field_name="date_to"
            )


class LimitedReportArgs(ReportArgs):
    """Report arguments plus `limit` (top N rows, 1 to 100000; default: all)."""

    limit = fields.Integer(validate=validate.Range(min=1, max=MAX_LIMIT))


class RevenueArgs(LimitedReportArgs):
    """Revenue filters: basis (cash or booking), calendar year, package
    destination (exact, case-insensitive) and package id."""

    basis = fields.String(
        load_default="cash", validate=validate.OneOf(("cash", "booking"))
    )
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    destination = fields.String(validate=[validate.Length(min=1, max=120), NO_NUL])
    package_id = fields.Integer(validate=ID)


class InvoiceSummaryArgs(ReportArgs):
    """`include_ids=false` leaves out the invoice id lists."""

    include_ids = fields.Boolean(load_default=True)


class UnpaidInvoiceArgs(LimitedReportArgs):
    """`overdue_only=true` lists only invoices past their due date."""

    overdue_only = fields.Boolean(load_default=False)


class IntervalArgs(ReportArgs):
    """`interval=day|week|month` (weeks start on Monday; default month)."""

    interval = fields.String(
        load_default="month", validate=validate.OneOf(("day", "week", "month"))
    )


# Examples of the columns by name (the rest by type), for the documented rows.
COLUMN_EXAMPLES = {
    "month": "2026-03",
    "period": "2026-03-02",
    "currency": "EUR",
    "status": "overdue",
    "destination": "Lisbon, Portugal",
    "package_title": "Lisbon & Sintra City Break",
    "customer_name": "Clara Byrne",
    "customer_email": "customer@easytravels.test",
    "employee_name": "Sofia Marin",
    "number": "INV-2026-000042",
    "booking_reference": "ET-7KQ2MX",
    "last_activity": "2026-03-14T09:26:53+00:00",
    # transport reports (services/reporting/transport.py)
    "route_code": "DUB-GAL",
    "route_name": "Dublin - Galway Express",
    "company_name": "Atlantic Coaches",
    "from_city": "Dublin",
    "to_city": "Galway",
    "departure_at": "2026-03-14T08:00:00+00:00",
    "section_code": "economy",
    "from_station_code": "DUB-BUS",
    "to_station_code": "GAL-BUS",
}
TYPE_EXAMPLES = {"string": "EUR", "integer": 12, "date": "2026-04-01"}
# Columns that hold one of a fixed set of values: the invoice reports' derived
# invoice status (services.payments.billing.INVOICE_STATUSES; a test keeps them equal).
COLUMN_ENUMS = {"status": ("pending", "paid", "overdue", "void")}

FIELD_TYPES = {
    "string": lambda example: fields.String(
        allow_none=True, metadata={"example": example}
    ),
    "integer": lambda example: fields.Integer(
        allow_none=True, metadata={"example": example}
    ),
    # Sums may pass 10 digits and net revenue may be negative.
    "money": lambda example: Money(
        metadata={"pattern": r"^-?\d+(\.\d{1,2})?$", "example": "14100.00"}
    ),
    "date": lambda example: fields.Date(metadata={"example": example}),
    "percent": lambda example: fields.Decimal(
        as_string=True, metadata={"example": "12.5"}
    ),
    "hours": lambda example: fields.Decimal(
        as_string=True, allow_none=True, metadata={"example": "3.5"}
    ),
    "ids": lambda example: fields.List(
        fields.Integer(),
        metadata={
            "description": "Ids, ascending (CSV: separated by spaces)",
            "example": [3, 8, 21],
        },
    ),
}


class FunnelArgs(ReportArgs):
    """The range and format, plus `by=employee|source` (default employee)."""

    by = fields.String(
        load_default="employee",
        validate=validate.OneOf(["employee", "source"]),
        metadata={"description": "Group rows per assigned employee or per source"},
    )


def report_schema(
    name: str, *column_sets, report_name: str | None = None, bases: tuple[str, ...] = ()
) -> type[Schema]:
    """The documented JSON envelope of a report: `report` (`report_name`, default
    `name`), `basis` (one of `bases`, or null when there are none), `generated_at`,
    `filters`, `columns` and `rows`, whose items carry the columns of
    `column_sets` (tuples of (name, type) from the report builders of
    services.reporting; columns of every set, for reports whose columns depend on the
    basis or a filter: a column missing from some set may be absent from a row).
    `name` names the schema components."""
    row_fields = {}
    for columns in column_sets:
        for column, kind in columns:
            example = COLUMN_EXAMPLES.get(column, TYPE_EXAMPLES.get(kind))
            if column in COLUMN_ENUMS:
                field = fields.String(metadata={"enum": list(COLUMN_ENUMS[column])})
            else:
                field = FIELD_TYPES[kind](example)
            row_fields.setdefault(column, field)
    for column, field in row_fields.items():
        if any(column not in dict(columns) for columns in column_sets):
            field.metadata["may_be_absent"] = True
    schema_name = "".join(
        part.capitalize() for part in name.replace("-", ".").split(".")
    )
    row = Schema.from_dict(row_fields, name=f"{schema_name}RowSchema")
    if bases:
        basis = fields.String(metadata={"enum": list(bases), "example": bases[0]})
    else:
        basis = fields.String(
            allow_none=True,
            metadata={
                "description": "null: this report has no cash or booking basis",
                "enum": [None],
            },
        )
    return Schema.from_dict(
        {
            "report": fields.String(metadata={"enum": [report_name or name]}),
            "basis": basis,
            "generated_at": fields.DateTime(
                metadata={"example": "2026-03-14T09:26:53+00:00"}
            ),
            "filters": fields.Dict(
                metadata={
                    "description": "The filters applied",
                    "example": {"date_from": "2026-01-01", "date_to": "2026-03-31"},
                }
            ),
            "columns": fields.List(
                fields.String(), metadata={"example": list(row_fields)}
            ),
            "rows": fields.List(fields.Nested(row)),
        },
        name=f"{schema_name}ReportSchema",
    )
