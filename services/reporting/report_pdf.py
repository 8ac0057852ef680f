"""Reports as PDF (docs/reports.md "PDF export"): the rows of a report, in the
reader's language, as a printable document with the report's title, basis, the
filters applied, when it was generated, the table and, for the reports the staff
dashboard draws a chart for (the revenue reports per month, destination and
package), the same bar chart.

The table shows at most MAX_PDF_ROWS rows and says so when the report has more
(the CSV export has no such limit); a long table flows over pages with its header
row repeated. Titles, column headers and filter names are message ids translated
into the locale in force (core/i18n.py); numbers, money, percentages and dates are
formatted for that locale.
"""

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

import pygal
from babel import numbers
from pygal.style import Style

from core.i18n import _, _l, current_locale, format_date, format_datetime
from core.i18n import money as money_text
from core.pdf import render_pdf
from services.reporting.report_base import (
    DATE,
    HOURS,
    IDS,
    INTEGER,
    MONEY,
    PERCENT,
    Report,
)

MAX_PDF_ROWS = 2000
CHART_MAX_BARS = 24
TEMPLATE = "documents/report.html"

TITLES = {
    "revenue.monthly": _l("Revenue by month"),
    "revenue.by-customer": _l("Revenue by customer"),
    "revenue.by-destination": _l("Revenue by destination"),
    "revenue.by-package": _l("Revenue by package"),
    "invoices.summary": _l("Invoice summary"),
    "invoices.unpaid": _l("Unpaid invoices"),
    "packages.popular": _l("Popular packages"),
    "destinations.popular": _l("Popular destinations"),
    "customers.active": _l("Active customers"),
    "bookings.trends": _l("Booking trends"),
    "cancellations": _l("Cancellations and refunds"),
    "wallets.liability": _l("Wallet liability"),
    "enquiries.funnel": _l("Enquiry funnel"),
    "enquiries.response-times": _l("Enquiry response times"),
    "enquiries.lost-reasons": _l("Lost enquiry reasons"),
    "enquiries.revenue-won": _l("Revenue won from enquiries"),
    "transport.popular-routes": _l("Popular routes"),
    "transport.city-pairs": _l("City pairs"),
    "transport.load-factor": _l("Load factor per trip"),
    "transport.trip-load": _l("Trip load per segment"),
    "transport.revenue": _l("Transport revenue"),
}
BASES = {"cash": _l("Cash basis"), "booking": _l("Booking basis")}

COLUMNS = {
    "month": _l("Month"),
    "period": _l("Period"),
    "currency": _l("Currency"),
    "payments": _l("Payments"),
    "received": _l("Received"),
    "refunds": _l("Refunds"),
    "refunded": _l("Refunded"),
    "net": _l("Net amount"),
    "bookings": _l("Bookings"),
    "travellers": _l("Travellers"),
    "value": _l("Value"),
    "customer_id": _l("Customer ID"),
    "customer_name": _l("Customer"),
    "customer_email": _l("Email"),
    "destination": _l("Travel destination"),
    "package_id": _l("Package ID"),
    "package_title": _l("Package"),
    "status": _l("Status"),
    "invoices": _l("Invoices"),
    "total": _l("Total"),
    "credited": _l("Credited"),
    "paid": _l("Paid"),
    "outstanding": _l("Outstanding"),
    "invoice_ids": _l("Invoice IDs"),
    "invoice_id": _l("Invoice ID"),
    "number": _l("Number"),
    "booking_id": _l("Booking ID"),
    "booking_reference": _l("Booking reference"),
    "issue_date": _l("Issue date"),
    "due_date": _l("Due date"),
    "days_overdue": _l("Days overdue"),
    "packages": _l("Packages"),
    "spend": _l("Spend"),
    "last_activity": _l("Last activity"),
    "customers_with_balance": _l("Customers with a balance"),
    "opening": _l("Opening balance"),
    "credits": _l("Credits"),
    "debits": _l("Debits"),
    "closing": _l("Closing balance"),
    "seats": _l("Seats"),
    "held": _l("Held"),
    "confirmed": _l("Confirmed"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
    "cancellations": _l("Cancellations"),
    "seats_released": _l("Seats released"),
    "cancelled_value": _l("Cancelled value"),
    "penalties_kept": _l("Penalties kept"),
    "refunded_amount": _l("Refunded amount"),
    "refunded_to_wallet": _l("Refunded to wallet"),
    "refunded_to_original": _l("Refunded to original method"),
    "refunds_pending": _l("Refunds pending"),
    "employee_id": _l("Employee ID"),
    "employee_name": _l("Employee"),
    "enquiries": _l("Enquiries"),
    "new": _l("New"),
    "contacted": _l("Contacted"),
    "quoted": _l("Quoted"),
    "on_hold": _l("On hold"),
    "won": _l("Won"),
    "lost": _l("Lost"),
    "conversion_rate": _l("Conversion rate"),
    "source": _l("Source"),
    "responded": _l("Responded"),
    "response_overdue": _l("Response overdue"),
    "median_hours_to_first_response": _l("Median hours to first response"),
    "median_hours_to_won": _l("Median hours to won"),
    "code": _l("Code"),
    "label": _l("Reason"),
    "share": _l("Share"),
    "won_enquiries": _l("Won enquiries"),
    "booked": _l("Booked"),
    "route_id": _l("Route ID"),
    "route_code": _l("Route code"),
    "route_name": _l("Route"),
    "company_id": _l("Company ID"),
    "company_name": _l("Company"),
    "passengers": _l("Passengers"),
    "revenue": _l("Revenue"),
    "from_city_id": _l("From city ID"),
    "from_city": _l("From"),
    "to_city_id": _l("To city ID"),
    "to_city": _l("To"),
    "trip_id": _l("Trip ID"),
    "service_date": _l("Service date"),
    "departure_at": _l("Departure"),
    "segments": _l("Segments"),
    "sold_segments_max": _l("Busiest segment seats"),
    "seat_segments_sold": _l("Seat segments sold"),
    "load_factor": _l("Load factor"),
    "gross": _l("Gross"),
    "segment": _l("Segment"),
    "from_station_id": _l("From station ID"),
    "from_station_code": _l("From station"),
    "to_station_id": _l("To station ID"),
    "to_station_code": _l("To station"),
    "section_code": _l("Section"),
    "occupied": _l("Occupied"),
}
FILTERS = {
    "date_from": _l("From"),
    "date_to": _l("To"),
    "year": _l("Year"),
    "destination": _l("Travel destination"),
    "package_id": _l("Package ID"),
    "include_ids": _l("Include invoice IDs"),
    "overdue_only": _l("Overdue only"),
    "interval": _l("Interval"),
    "by": _l("Group by"),
    "group_by": _l("Group by"),
    "company_id": _l("Company ID"),
    "trip_id": _l("Trip ID"),
    "limit": _l("Row limit"),
}
# Filter and cell values that are words of the API (enums), shown translated.
WORDS = {
    "day": _l("day"),
    "week": _l("week"),
    "month": _l("month"),
    "employee": _l("employee"),
    "source": _l("source"),
    "company": _l("company"),
    "route": _l("route"),
    "pending": _l("pending"),
    "paid": _l("paid"),
    "overdue": _l("overdue"),
    "void": _l("void"),
}
# Columns whose values are enum words (translated through WORDS).
WORD_COLUMNS = ("status",)
# Integer columns that are identifiers: shown without digit grouping.
ID_SUFFIX = "_id"
# Text columns kept on one line (codes and numbers a reader copies whole).
NOWRAP_COLUMNS = ("number", "booking_reference", "route_code", "month", "period")


@dataclass(frozen=True)
class ChartSpec:
    """A bar chart of a report: the column naming each bar group (`label`) and
    the money columns drawn as series (those the report has, in this order)."""

    label: str
    series: tuple[str, ...] = ("received", "refunded", "value")


# The reports the dashboard draws a chart for (dashboard/web/src/views/finance.js,
# REPORTS): received and refunded per row on the cash basis, the sold value on the
# booking basis.
CHARTS = {
    "revenue.monthly": ChartSpec("month"),
    "revenue.by-destination": ChartSpec("destination"),
    "revenue.by-package": ChartSpec("package_title"),
}
SERIES_COLOURS = ("#1d5fa8", "#b3541e", "#3d8b37")


def report_title(report: Report) -> str:
    """The translated title of `report` (its API name when none is known)."""
    title = TITLES.get(report.name)
    return str(title) if title is not None else report.name


def _number(value, kind: str, column: str) -> str:
    """An integer, percentage or hours figure formatted for the locale."""
    locale = current_locale()
    if kind == PERCENT:
        return numbers.format_percent(
            Decimal(value) / 100, locale=locale, decimal_quantization=False
        )
    if kind == INTEGER and column.endswith(ID_SUFFIX):
        return str(value)
    return numbers.format_decimal(value, locale=locale, decimal_quantization=False)


def cell_text(value, kind: str, column: str, row: dict) -> str:
    """One table cell: empty for None; money in the row's currency (`currency`
    column) for the locale; counts and rates with the locale's separators; dates
    in the locale's medium form; enum words translated; ids joined by spaces."""
    if value is None:
        return ""
    if kind == MONEY:
        currency = row.get("currency")
        if currency:
            return money_text(Decimal(value), currency)
        return numbers.format_decimal(
            Decimal(value), format="#,##0.00", locale=current_locale()
        )
    if kind == IDS:
        return " ".join(str(item) for item in value)
    if kind in (INTEGER, PERCENT, HOURS) and not isinstance(value, str):
        return _number(value, kind, column)
    if isinstance(value, datetime):
        return format_datetime(value, "medium")
    if kind == DATE or isinstance(value, date):
        return format_date(value, "medium") if isinstance(value, date) else str(value)
    if column in WORD_COLUMNS and value in WORDS:
        return str(WORDS[value])
    return str(value)


def filter_lines(filters: dict) -> list[tuple[str, str]]:
    """(translated name, value) of every filter that was given (None left out):
    dates in the locale's medium form, yes/no translated, enum words translated."""
    lines = []
    for name, value in filters.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = _("yes") if value else _("no")
        elif isinstance(value, date):
            text = format_date(value, "medium")
        elif name in ("date_from", "date_to") and isinstance(value, str):
            text = format_date(date.fromisoformat(value), "medium")
        elif isinstance(value, str) and value in WORDS:
            text = str(WORDS[value])
        else:
            text = str(value)
        lines.append((str(FILTERS.get(name, name)), text))
    return lines


def chart_data_uri(report: Report, rows: list[dict]) -> str | None:
    """The report's bar chart (CHARTS) over its first CHART_MAX_BARS rows as an
    SVG data URI, or None when the report has no chart or no rows. A bar group is
    labelled with its currency too when the rows hold more than one currency."""
    spec = CHARTS.get(report.name)
    names = report.column_names
    series = [name for name in spec.series if name in names] if spec else []
    if not series or not rows:
        return None
    shown = rows[:CHART_MAX_BARS]
    several = len({row.get("currency") for row in shown}) > 1
    locale = current_locale()
    chart = pygal.Bar(
        width=900,
        height=300,
        show_y_guides=False,
        legend_at_bottom=True,
        x_label_rotation=30 if len(shown) > 8 else 0,
        truncate_label=28,
        value_formatter=lambda v: numbers.format_decimal(v or 0, locale=locale),
        js=[],
        style=Style(
            colors=SERIES_COLOURS,
            background="white",
            plot_background="white",
            font_family="DejaVu Sans",
            label_font_size=11,
            major_label_font_size=11,
            legend_font_size=12,
        ),
    )
    chart.x_labels = [
        f"{row.get(spec.label) or '-'}" + (f" ({row['currency']})" if several else "")
        for row in shown
    ]
    for name in series:
        chart.add(str(COLUMNS[name]), [float(row.get(name) or 0) for row in shown])
    svg = chart.render()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _cell_class(column: str, kind: str) -> str:
    """The table cell's CSS class: `num` (right-aligned, one line) for figures,
    `nowrap` for dates and codes, none for free text."""
    if kind in (INTEGER, MONEY, PERCENT, HOURS):
        return "num"
    if kind == DATE or column in NOWRAP_COLUMNS:
        return "nowrap"
    return ""


def column_widths(header: list[dict], body: list[list[dict]]) -> list[float]:
    """Per column, its share of the table width in percent, from the longest
    header word and the longest cell (capped at 40 characters): the table is laid
    out with fixed widths, which WeasyPrint computes far faster than automatic
    ones on long tables."""
    need = []
    for index, column in enumerate(header):
        longest_word = max((len(word) for word in column["text"].split()), default=1)
        longest_cell = max((len(row[index]["text"]) for row in body), default=0)
        need.append(max(longest_word, min(longest_cell, 40), 3) + 2)
    total = sum(need)
    return [round(100 * width / total, 2) for width in need]


def report_pdf(
    report: Report,
    rows: Iterable[dict],
    generated_at: datetime,
    *,
    filters: dict | None = None,
) -> bytes:
    """`report` as PDF bytes in the current locale: title, basis, the filters
    applied (`filters`, default the report's own), `generated_at` (aware UTC
    datetime, shown in UTC), the chart (CHARTS), and the table of `rows` (dicts
    of column values as Report.rows yields them), cut after MAX_PDF_ROWS rows
    with a note saying so. Reads at most MAX_PDF_ROWS + 1 rows of `rows`.
    Needs an app context (templates, fonts)."""
    taken = list(islice(rows, MAX_PDF_ROWS + 1))
    cut = len(taken) > MAX_PDF_ROWS
    taken = taken[:MAX_PDF_ROWS]
    kinds = dict(report.columns)
    names = report.column_names
    styles = {name: _cell_class(name, kinds[name]) for name in names}
    header = [{"text": str(COLUMNS.get(n, n)), "class": styles[n]} for n in names]
    body = [
        [
            {"text": cell_text(row.get(n), kinds[n], n, row), "class": styles[n]}
            for n in names
        ]
        for row in taken
    ]
    title = report_title(report)
    basis = BASES.get(report.basis) if report.basis else None
    return render_pdf(
        TEMPLATE,
        locale=current_locale(),
        title=title,
        basis=str(basis) if basis else None,
        filters=filter_lines(report.filters if filters is None else filters),
        generated_at=format_datetime(generated_at, "medium"),
        header=header,
        widths=column_widths(header, body),
        rows=body,
        cut=cut,
        max_rows=numbers.format_decimal(MAX_PDF_ROWS, locale=current_locale()),
        chart=chart_data_uri(report, taken),
        chart_cut=len(taken) > CHART_MAX_BARS,
        chart_bars=CHART_MAX_BARS,
        footer=title,
    )
