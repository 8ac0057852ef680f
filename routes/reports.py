"""Report endpoints (docs/design.md "Resource map": /reports; roles matrix row
"reports": admin, operation_head, finance).

Each view validates its filters, asks the services.reporting module of its report
family (revenue, invoices, catalogue, customers, bookings, pipeline) for the report
and streams it: JSON (`{"report", "basis", "generated_at", "filters", "columns",
"rows"}`) by default, CSV with `?format=csv` or `Accept: text/csv` (a header row,
then one line per row, sent as an attachment with a file name). Rows are written
as the database cursor yields them, so a large export never sits in memory whole.
PDF with `?format=pdf` or `Accept: application/pdf` (docs/reports.md "PDF
export"): the same rows, at most services.reporting.report_pdf.MAX_PDF_ROWS, as a
document in the caller's language, sent as an attachment like the CSV.
"""

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import chain

from flask import Response, request, stream_with_context
from flask.views import MethodView

from auth.decorators import roles_required
from core.pdf import PDF_MIMETYPE, pdf_response
from models.base import utcnow
from routes.common.blueprint import Blueprint
from schemas.reporting.reports import (
    FunnelArgs,
    IntervalArgs,
    InvoiceSummaryArgs,
    LimitedReportArgs,
    ReportArgs,
    RevenueArgs,
    UnpaidInvoiceArgs,
    report_schema,
)
from schemas.reporting.transport import (
    TransportReportArgs,
    TransportRevenueArgs,
    TripLoadArgs,
)
from services.reporting.bookings import booking_trends, cancellations
from services.reporting.catalogue import popular
from services.reporting.customers import (
    active_customers,
    active_default_window,
    wallet_liability,
)
from services.reporting.invoices import invoice_summary, unpaid_invoices
from services.reporting.pipeline import (
    enquiry_funnel,
    enquiry_lost_reasons,
    enquiry_response_times,
    enquiry_revenue_won,
)
from services.reporting.report_base import Report, Window
from services.reporting.report_pdf import report_pdf
from services.reporting.revenue import BASES, REVENUE_DIMENSIONS, revenue
from services.reporting.transport import (
    REVENUE_GROUPS,
    TRIP_LOAD_COLUMNS,
    city_pairs,
    load_factor,
    popular_routes,
    transport_revenue,
    trip_load,
)

blp = Blueprint(
    "reports", __name__, description="Reports and analytics (JSON, CSV or PDF)"
)

REPORT_ROLES = ("admin", "finance", "operation_head")
CSV_TYPE = "text/csv"
JSON_TYPE = "application/json"
CHUNK_ROWS = 500


def report_response(schema):
    """Document a report's 200 response: the JSON envelope `schema`, its CSV
    form and its PDF form (flask-smorest documents one media type per response,
    so all are written out here; views return a Response, never serialised)."""

    def decorator(view):
        view = blp.doc(
            responses={
                "200": {
                    "content": {
                        JSON_TYPE: {"schema": schema},
                        CSV_TYPE: {
                            "schema": {"type": "string"},
                            "example": "month,currency,payments,received,"
                            "refunds,refunded,net\r\n"
                            "2026-01,EUR,12,14400.00,1,300.00,14100.00\r\n",
                        },
                        PDF_MIMETYPE: {
                            "schema": {"type": "string", "format": "binary"},
                        },
                    }
                }
            }
        )(view)
        return blp.response(200, schema, description="The report (JSON, CSV or PDF)")(
            view
        )

    return decorator


def wants_csv(args: dict) -> bool:
    """CSV when `format=csv`, JSON when `format=json`; otherwise by the Accept
    header (text/csv preferred over JSON only when asked for; RFC 9110 12.5.1)."""
    if args.get("format"):
        return args["format"] == "csv"
    best = request.accept_mimetypes.best_match([JSON_TYPE, CSV_TYPE], default=JSON_TYPE)
    return best == CSV_TYPE


FORMAT_TYPES = {"json": JSON_TYPE, "csv": CSV_TYPE, "pdf": PDF_MIMETYPE}


def report_format(args: dict) -> str:
    """`json`, `csv` or `pdf`: the `format` argument when given, otherwise the
    best match of the Accept header (JSON on a tie or when nothing matches;
    RFC 9110 section 12.5.1)."""
    if args.get("format"):
        return args["format"]
    best = request.accept_mimetypes.best_match(
        [JSON_TYPE, CSV_TYPE, PDF_MIMETYPE], default=JSON_TYPE
    )
    return next(name for name, kind in FORMAT_TYPES.items() if kind == best)


def _plain(value):
    """A JSON-ready value: Decimal and dates as strings, lists kept."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# First characters that make a spreadsheet read a cell as a formula (OWASP "CSV
# Injection"): such text cells get a leading apostrophe, shown as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """`text` with a leading apostrophe when it starts with a formula character
    (OWASP CSV Injection guidance); other text unchanged."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value) -> str:
    """A CSV cell: empty for None, ids separated by spaces, ISO dates; text that a
    spreadsheet would run as a formula is neutralised (numbers stay numbers)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    if isinstance(value, str):
        return neutralise_formula(value)
    return str(_plain(value))


def _csv_chunks(report: Report, rows: Iterator[dict]) -> Iterator[str]:
    """The header row, then the rows, CHUNK_ROWS lines per chunk (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    names = report.column_names
    writer.writerow(names)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_cell(row.get(name)) for name in names])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_chunks(report: Report, rows: Iterator[dict]) -> Iterator[str]:
    """The envelope with `rows` written CHUNK_ROWS at a time."""
    head = {
        "report": report.name,
        "basis": report.basis,
        "generated_at": utcnow().isoformat(),
        "filters": {key: _plain(value) for key, value in report.filters.items()},
        "columns": report.column_names,
    }
    yield json.dumps(head)[:-1] + ', "rows": ['
    batch, first = [], True
    for row in rows:
        batch.append(json.dumps({key: _plain(value) for key, value in row.items()}))
        if len(batch) == CHUNK_ROWS:
            yield ("" if first else ",") + ",".join(batch)
            batch, first = [], False
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    yield "]}"


def _filename(report: Report, extension: str) -> str:
    """The download name: report name, basis, today's UTC date, `extension`."""
    suffix = f"-{report.basis}" if report.basis else ""
    today = utcnow().date().isoformat()
    return f"{report.name.replace('.', '-')}{suffix}-{today}.{extension}"


def _pdf(report: Report, args: dict) -> Response:
    """`report` as a PDF attachment in the caller's language; the `limit`
    argument, when given, is listed with the report's filters."""
    filters = dict(report.filters)
    if args.get("limit"):
        filters["limit"] = args["limit"]
    source = report.rows()
    try:
        data = report_pdf(report, source, utcnow(), filters=filters)
    finally:
        source.close()
    return pdf_response(data, _filename(report, "pdf"), download=True)


def render(report: Report, args: dict) -> Response:
    """Stream `report` as CSV or JSON, or answer it as PDF (see `report_format`).
    The query runs before the response starts, so a database error still gets a
    proper error response."""
    chosen = report_format(args)
    if chosen == "pdf":
        response = _pdf(report, args)
        response.headers["Vary"] = "Accept"
        return response
    rows = report.rows()
    first = next(rows, None)
    rows = chain([first], rows) if first is not None else iter(())
    if chosen == "csv":
        filename = _filename(report, "csv")
        response = Response(
            stream_with_context(_csv_chunks(report, rows)),
            mimetype=CSV_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    else:
        response = Response(
            stream_with_context(_json_chunks(report, rows)), mimetype=JSON_TYPE
        )
    response.headers["Vary"] = "Accept"
    return response


def window(args: dict) -> Window:
    """The validated date range of the query arguments."""
    return Window(args.get("date_from"), args.get("date_to"))


def _revenue_view(dimension: str, args: dict) -> Response:
    """Build and stream one revenue report from its query arguments."""
    report = revenue(
        dimension,
        basis=args["basis"],
        window=window(args),
        year=args.get("year"),
        destination=args.get("destination"),
        package_id=args.get("package_id"),
        limit=args.get("limit"),
    )
    return render(report, args)


def _columns(builder, **kwargs):
    """The columns a report builder declares (for the documented row schema)."""
    return builder(**kwargs).columns


REVENUE_DOCS = {
    dimension: report_schema(
        f"revenue.{dimension}",
        *(_columns(revenue, dimension=dimension, basis=basis) for basis in BASES),
        report_name=revenue(dimension=dimension).name,
        bases=BASES,
    )
    for dimension in REVENUE_DIMENSIONS
}


@blp.route("/revenue/monthly")
class RevenueMonthly(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(RevenueArgs, location="query")
    @report_response(REVENUE_DOCS["month"])
    def get(self, args):
        """Revenue per month and currency, cash basis (payments minus completed
        refunds, by payment date) or booking basis (sold bookings by departure
        month)."""
        return _revenue_view("month", args)


@blp.route("/revenue/by-customer")
class RevenueByCustomer(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(RevenueArgs, location="query")
    @report_response(REVENUE_DOCS["customer"])
    def get(self, args):
        """Revenue per customer and currency, largest first (cash or booking basis)."""
        return _revenue_view("customer", args)


@blp.route("/revenue/by-destination")
class RevenueByDestination(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(RevenueArgs, location="query")
    @report_response(REVENUE_DOCS["destination"])
    def get(self, args):
        """Revenue per package destination and currency (cash or booking basis)."""
        return _revenue_view("destination", args)


@blp.route("/revenue/by-package")
class RevenueByPackage(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(RevenueArgs, location="query")
    @report_response(REVENUE_DOCS["package"])
    def get(self, args):
        """Revenue per package and currency (cash or booking basis)."""
        return _revenue_view("package", args)


@blp.route("/invoices/summary")
class InvoiceSummary(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(InvoiceSummaryArgs, location="query")
    @report_response(
        report_schema(
            "invoices.summary",
            _columns(invoice_summary),
            _columns(invoice_summary, include_ids=False),
        )
    )
    def get(self, args):
        """Invoices issued in the range by derived status (pending, overdue, paid,
        void) and currency: counts, amounts and invoice ids."""
        report = invoice_summary(window=window(args), include_ids=args["include_ids"])
        return render(report, args)


@blp.route("/invoices/unpaid")
class UnpaidInvoices(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(UnpaidInvoiceArgs, location="query")
    @report_response(report_schema("invoices.unpaid", _columns(unpaid_invoices)))
    def get(self, args):
        """Unpaid (pending and overdue) invoices, oldest due date first, with the
        outstanding amount and days overdue."""
        report = unpaid_invoices(
            window=window(args),
            overdue_only=args["overdue_only"],
            limit=args.get("limit"),
        )
        return render(report, args)


@blp.route("/packages/popular")
class PopularPackages(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(LimitedReportArgs, location="query")
    @report_response(report_schema("packages.popular", _columns(popular, by="package")))
    def get(self, args):
        """Packages ranked by sold bookings made in the range: bookings,
        travellers and value."""
        return render(
            popular("package", window=window(args), limit=args.get("limit")),
            args,
        )


@blp.route("/destinations/popular")
class PopularDestinations(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(LimitedReportArgs, location="query")
    @report_response(
        report_schema("destinations.popular", _columns(popular, by="destination"))
    )
    def get(self, args):
        """Destinations ranked by sold bookings made in the range."""
        report = popular("destination", window=window(args), limit=args.get("limit"))
        return render(report, args)


@blp.route("/customers/active")
class ActiveCustomers(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(LimitedReportArgs, location="query")
    @report_response(
        report_schema("customers.active", _columns(active_customers, window=Window()))
    )
    def get(self, args):
        """Customers who booked or paid in the range (default: the last 90 days),
        largest spend first."""
        span = window(args)
        if span.date_from is None and span.date_to is None:
            span = active_default_window()
        report = active_customers(window=span, limit=args.get("limit"))
        return render(report, args)


@blp.route("/bookings/trends")
class BookingTrends(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(IntervalArgs, location="query")
    @report_response(report_schema("bookings.trends", _columns(booking_trends)))
    def get(self, args):
        """Bookings made per day, week or month and where they stand now (held,
        confirmed, completed, cancelled, expired)."""
        report = booking_trends(interval=args["interval"], window=window(args))
        return render(report, args)


@blp.route("/cancellations")
class Cancellations(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(IntervalArgs, location="query")
    @report_response(report_schema("cancellations", _columns(cancellations)))
    def get(self, args):
        """Cancellations (value, penalties kept) and refunds (to wallet, to the
        original method, pending) per period and currency."""
        report = cancellations(interval=args["interval"], window=window(args))
        return render(report, args)


@blp.route("/wallets/liability")
class WalletLiability(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(ReportArgs, location="query")
    @report_response(report_schema("wallets.liability", _columns(wallet_liability)))
    def get(self, args):
        """Wallet credit owed to customers per currency: opening balance, credits,
        debits and closing balance over the range."""
        return render(wallet_liability(window=window(args)), args)


@blp.route("/enquiries/funnel")
class EnquiryFunnel(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(FunnelArgs, location="query")
    @report_response(
        report_schema(
            "enquiries.funnel",
            _columns(enquiry_funnel),
            _columns(enquiry_funnel, by="source"),
        )
    )
    def get(self, args):
        """Enquiries per assigned employee or per source (`by`), by stage, with the
        conversion rate (won / enquiries)."""
        return render(enquiry_funnel(window=window(args), by=args["by"]), args)


@blp.route("/enquiries/response-times")
class EnquiryResponseTimes(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(ReportArgs, location="query")
    @report_response(
        report_schema("enquiries.response-times", _columns(enquiry_response_times))
    )
    def get(self, args):
        """Per employee: first responses (and overdue ones), won enquiries, median
        hours to the first response and to won."""
        return render(enquiry_response_times(window=window(args)), args)


@blp.route("/enquiries/lost-reasons")
class EnquiryLostReasons(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(ReportArgs, location="query")
    @report_response(
        report_schema("enquiries.lost-reasons", _columns(enquiry_lost_reasons))
    )
    def get(self, args):
        """Lost enquiries per lost reason, with each reason's share."""
        return render(enquiry_lost_reasons(window=window(args)), args)


@blp.route("/enquiries/revenue-won")
class EnquiryRevenueWon(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(ReportArgs, location="query")
    @report_response(
        report_schema("enquiries.revenue-won", _columns(enquiry_revenue_won))
    )
    def get(self, args):
        """Revenue won from enquiries per currency: bookings still standing and
        money received."""
        return render(enquiry_revenue_won(window=window(args)), args)


# Transport reports (docs/reports.md "Transport reports"): same roles, arguments
# and streaming as the others; `company_id` keeps one transport company's rows.


def _transport_filters(args: dict) -> dict:
    """The range, company and limit of a transport report's query arguments."""
    return {
        "window": window(args),
        "company_id": args.get("company_id"),
        "limit": args.get("limit"),
    }


@blp.route("/transport/popular-routes")
class TransportPopularRoutes(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(TransportReportArgs, location="query")
    @report_response(
        report_schema("transport.popular-routes", _columns(popular_routes))
    )
    def get(self, args):
        """Routes ranked by passengers of the sold trip bookings made in the range:
        bookings, passengers and revenue per route and currency."""
        return render(popular_routes(**_transport_filters(args)), args)


@blp.route("/transport/city-pairs")
class TransportCityPairs(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(TransportReportArgs, location="query")
    @report_response(report_schema("transport.city-pairs", _columns(city_pairs)))
    def get(self, args):
        """Origin and destination city pairs of the sold trip bookings made in the
        range, ranked by passengers: bookings, passengers and revenue."""
        return render(city_pairs(**_transport_filters(args)), args)


@blp.route("/transport/load-factor")
class TransportLoadFactor(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(TransportReportArgs, location="query")
    @report_response(report_schema("transport.load-factor", _columns(load_factor)))
    def get(self, args):
        """Per trip departing in the range: seats, the busiest segment's occupied
        seats and the load factor (occupied seat-segments over seats x segments,
        percent)."""
        return render(load_factor(**_transport_filters(args)), args)


@blp.route("/transport/trips/<int:trip_id>/load")
class TransportTripLoad(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(TripLoadArgs, location="query")
    @blp.doc(operationId="getTransportTripLoadReport")
    @report_response(report_schema("transport.trip-load", TRIP_LOAD_COLUMNS))
    def get(self, args, trip_id):
        """One trip's load per segment: for the whole vehicle (`section_code`
        null) and per section, seats, occupied seats and load factor (percent).
        404 for an unknown trip."""
        return render(trip_load(trip_id), args)


@blp.route("/transport/revenue")
class TransportRevenue(MethodView):
    @roles_required(*REPORT_ROLES)
    @blp.arguments(TransportRevenueArgs, location="query")
    @report_response(
        report_schema(
            "transport.revenue",
            *(_columns(transport_revenue, group_by=g) for g in REVENUE_GROUPS),
        )
    )
    def get(self, args):
        """Trip revenue per company or route (`group_by`) and currency for trips
        departing in the range: sold bookings, passengers, gross, refunded, net."""
        report = transport_revenue(args["group_by"], **_transport_filters(args))
        return render(report, args)
