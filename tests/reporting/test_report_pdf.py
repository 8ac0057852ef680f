"""Reports as PDF (docs/reports.md "PDF export"): every report that exports CSV
also answers `?format=pdf` and `Accept: application/pdf` with a PDF holding the
title, the filters, the generation time, the table (cut at MAX_PDF_ROWS rows) and,
for the revenue reports the dashboard charts, a bar chart; in the reader's
language; unknown formats stay 422.

The data set is small and of its own: one customer with a package booking
(invoiced, partly paid, overdue, a refund completed to the wallet), a cancelled
booking, enquiries won and lost, and one trip booking on a coach line.
"""

import io
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from core.extensions import db
from models import (
    Booking,
    Customer,
    Departure,
    Employee,
    Enquiry,
    EnquiryLostReason,
    Invoice,
    Package,
    Payment,
    Refund,
    WalletEntry,
)
from models.base import utcnow
from services.reporting import report_pdf as report_pdf_module
from services.reporting.report_base import INTEGER, MONEY, STRING, Report
from tests.factories import assert_problem
from tests.transport.conftest import book_trip_in_db, make_line

API = "/api/v1/reports"
D = Decimal


def ts(y, m, d, h=12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


# Every report that exports CSV, with its title in English.
REPORTS = {
    "revenue/monthly": "Revenue by month",
    "revenue/by-customer": "Revenue by customer",
    "revenue/by-destination": "Revenue by destination",
    "revenue/by-package": "Revenue by package",
    "invoices/summary": "Invoice summary",
    "invoices/unpaid": "Unpaid invoices",
    "packages/popular": "Popular packages",
    "destinations/popular": "Popular destinations",
    "customers/active": "Active customers",
    "bookings/trends": "Booking trends",
    "cancellations": "Cancellations and refunds",
    "wallets/liability": "Wallet liability",
    "enquiries/funnel": "Enquiry funnel",
    "enquiries/response-times": "Enquiry response times",
    "enquiries/lost-reasons": "Lost enquiry reasons",
    "enquiries/revenue-won": "Revenue won from enquiries",
    "transport/popular-routes": "Popular routes",
    "transport/city-pairs": "City pairs",
    "transport/load-factor": "Load factor per trip",
    "transport/revenue": "Transport revenue",
    "transport/trips/{trip_id}/load": "Trip load per segment",
}
CHARTED = ("revenue/monthly", "revenue/by-destination", "revenue/by-package")


def _add(obj) -> int:
    db.session.add(obj)
    db.session.flush()
    return obj.id


@pytest.fixture
def data(app, actors):
    """The module docstring's data set; returns ids by name."""
    ids = {}
    with app.app_context():
        ids["alice"] = _add(Customer(name="Alice Aherne", email="alice@pdf.test"))
        ids["sofia"] = _add(
            Employee(name="Sofia Marin", email="sofia@pdf.test", role="sales")
        )
        ids["package"] = _add(
            Package(
                title="Lisbon Break",
                destination="Lisbon, Portugal",
                duration_days=4,
                base_price=D("500.00"),
                currency="EUR",
                status="published",
            )
        )
        departure = _add(
            Departure(
                package_id=ids["package"],
                start_date=date(2025, 3, 10),
                end_date=date(2025, 3, 13),
                capacity=20,
                seats_taken=2,
                price=D("500.00"),
                currency="EUR",
            )
        )
        for key, status, created in (
            ("sold", "confirmed", ts(2025, 1, 10)),
            ("gone", "cancelled", ts(2025, 1, 20)),
        ):
            ids[key] = _add(
                Booking(
                    reference=f"ET-PDF-{key.upper()}",
                    customer_id=ids["alice"],
                    departure_id=departure,
                    seats=2,
                    status=status,
                    currency="EUR",
                    unit_price=D("500.00"),
                    total_amount=D("1000.00"),
                    amount_paid=D("600.00") if key == "sold" else D("0"),
                    amount_refunded=D("100.00") if key == "sold" else D("0"),
                    penalty_amount=D("0") if key == "gone" else None,
                    cancelled_at=ts(2025, 1, 25) if key == "gone" else None,
                    created_at=created,
                    updated_at=created,
                )
            )
        ids["invoice"] = _add(
            Invoice(
                number="INV-PDF-0001",
                booking_id=ids["sold"],
                customer_id=ids["alice"],
                currency="EUR",
                total_amount=D("1000.00"),
                issue_date=date(2025, 1, 10),
                due_date=date(2025, 2, 1),
                created_at=ts(2025, 1, 10),
            )
        )
        _add(
            Payment(
                booking_id=ids["sold"],
                invoice_id=ids["invoice"],
                customer_id=ids["alice"],
                amount=D("600.00"),
                currency="EUR",
                method="card",
                created_at=ts(2025, 1, 15),
            )
        )
        _add(
            Refund(
                booking_id=ids["sold"],
                customer_id=ids["alice"],
                amount=D("100.00"),
                currency="EUR",
                destination="wallet",
                method="wallet",
                status="completed",
                created_at=ts(2025, 2, 10),
                completed_at=ts(2025, 2, 10),
            )
        )
        _add(
            WalletEntry(
                customer_id=ids["alice"],
                amount=D("100.00"),
                currency="EUR",
                balance_after=D("100.00"),
                kind="refund_credit",
                reason="test",
                created_at=ts(2025, 2, 10),
            )
        )
        db.session.get(Customer, ids["alice"]).wallet_balance = D("100.00")
        reason = _add(EnquiryLostReason(code="pdf_price", label="Too expensive"))
        outcomes = (("won", ids["sold"], None), ("lost", None, reason))
        for stage, booking, lost in outcomes:
            _add(
                Enquiry(
                    customer_id=ids["alice"],
                    package_id=ids["package"],
                    assigned_to_id=ids["sofia"],
                    subject="Question",
                    message="Tell me more",
                    stage=stage,
                    created_at=ts(2025, 1, 2),
                    updated_at=ts(2025, 1, 2),
                    first_response_at=ts(2025, 1, 2, 14),
                    booking_id=booking,
                    won_at=ts(2025, 1, 5) if booking else None,
                    lost_reason_id=lost,
                )
            )
        db.session.commit()
    line = make_line(app)
    ids["trip"] = line["trip_id"]
    book_trip_in_db(app, line["trip_id"], ids["alice"], seats=("1A", "1B"))
    return ids


@pytest.fixture
def finance(actors):
    return actors.headers("finance")


def report_path(path: str, ids: dict) -> str:
    return f"{API}/{path.format(trip_id=ids['trip'])}"


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_pdf(resp) -> str:
    """The response is a PDF attachment; returns its text."""
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert disposition.endswith('.pdf"')
    assert resp.data.startswith(b"%PDF-")
    return pdf_text(resp.data)


def _first_text(row: dict, columns: list[str]) -> str:
    """A known text cell of a JSON row: the first non-empty string value that is
    not a date or a currency code, else the first column (a month or period)."""
    for name in columns:
        value = row[name]
        text = isinstance(value, str) and value and not value[0].isdigit()
        if text and name != "currency":
            return value
    return row[columns[0]]


QUERY = {"date_from": "2025-01-01"}


@pytest.mark.parametrize("path", list(REPORTS))
def test_every_csv_report_answers_pdf(client, data, finance, path):
    url = report_path(path, data)
    query = {} if path.startswith("transport/") else QUERY
    body = client.get(url, headers=finance, query_string=query).get_json()
    assert body["rows"], f"{path}: the data set gives no rows"
    resp = client.get(url, headers=finance, query_string={**query, "format": "pdf"})
    text = assert_pdf(resp)
    assert REPORTS[path] in text
    assert _first_text(body["rows"][0], body["columns"]) in text
    assert "Generated" in text and "UTC" in text
    name = body["report"].replace(".", "-")
    assert f'filename="{name}' in resp.headers["Content-Disposition"]


def test_accept_header_picks_pdf(client, data, finance):
    resp = client.get(
        f"{API}/revenue/by-package",
        headers={**finance, "Accept": "application/pdf"},
    )
    text = assert_pdf(resp)
    assert "Revenue by package" in text and "Lisbon Break" in text
    assert "Cash basis" in text
    assert 'filename="revenue-by-package-cash-' in resp.headers["Content-Disposition"]
    assert "Accept" in resp.headers["Vary"]
    resp = client.get(
        f"{API}/revenue/by-package?format=json",
        headers={**finance, "Accept": "application/pdf"},
    )
    assert resp.mimetype == "application/json"
    assert resp.get_json()["report"] == "revenue.by-package"
    resp = client.get(
        f"{API}/revenue/by-package",
        headers={**finance, "Accept": "application/json, application/pdf;q=0.5"},
    )
    assert resp.mimetype == "application/json"
    resp.get_json()


@pytest.mark.parametrize("path", ["revenue/monthly", "transport/trips/1/load"])
def test_unknown_format_is_422(client, finance, path):
    resp = client.get(f"{API}/{path}?format=docx", headers=finance)
    body = assert_problem(resp, 422)
    assert "query.format" in body["errors"]


def test_pdf_keeps_the_access_rules(client, actors):
    resp = client.get(
        f"{API}/revenue/monthly?format=pdf", headers=actors.headers("sales")
    )
    assert_problem(resp, 403)


def test_filters_appear_in_the_pdf(client, data, finance):
    resp = client.get(
        f"{API}/revenue/monthly",
        headers=finance,
        query_string={
            "format": "pdf",
            "date_from": "2025-01-01",
            "date_to": "2025-06-30",
            "destination": "Lisbon, Portugal",
            "basis": "booking",
        },
    )
    text = assert_pdf(resp)
    assert "From = Jan 1, 2025" in text
    assert "To = Jun 30, 2025" in text
    assert "Travel destination = Lisbon, Portugal" in text
    assert "Booking basis" in text
    resp = client.get(
        f"{API}/invoices/unpaid?format=pdf&overdue_only=true&limit=5",
        headers=finance,
    )
    text = assert_pdf(resp)
    assert "Overdue only = yes" in text and "Row limit = 5" in text
    assert "INV-PDF-0001" in text and "€500.00" in text


def test_empty_report_says_so(client, data, finance):
    resp = client.get(
        f"{API}/invoices/unpaid?format=pdf&date_from=2010-01-01&date_to=2010-01-31",
        headers=finance,
    )
    assert "No rows match these filters." in assert_pdf(resp)


def _images(data: bytes) -> int:
    reader = PdfReader(io.BytesIO(data))
    count = 0
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        objects = resources.get("/XObject") or {}
        count += len(objects)
    return count


def _coloured_pixels(data: bytes, tmp_path) -> int:
    """Pixels of the first page (rendered at 30 dpi) that are clearly blue, the
    colour of the chart's first series."""
    (tmp_path / "report.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "30", "-f", "1", "-l", "1", "report.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    ppm = next(tmp_path.glob("page*.ppm")).read_bytes()
    # P6 header: magic, width height, maxval, then RGB bytes.
    parts = ppm.split(b"\n", 3)
    pixels = parts[3]
    return sum(
        1
        for i in range(0, len(pixels) - 2, 3)
        if pixels[i + 2] > 140 and pixels[i] < 90 and pixels[i + 2] - pixels[i] > 60
    )


@pytest.mark.parametrize("path", CHARTED)
def test_charted_reports_draw_the_chart(client, data, finance, path, tmp_path):
    resp = client.get(f"{API}/{path}?format=pdf", headers=finance)
    assert_pdf(resp)
    assert _images(resp.data) >= 1
    assert _coloured_pixels(resp.data, tmp_path) > 50


def test_uncharted_reports_have_no_chart(client, data, finance, tmp_path):
    resp = client.get(f"{API}/invoices/unpaid?format=pdf", headers=finance)
    assert_pdf(resp)
    assert _images(resp.data) == 0
    assert _coloured_pixels(resp.data, tmp_path) == 0


def test_long_tables_are_cut_and_say_so(app, monkeypatch):
    """More than MAX_PDF_ROWS rows: the table stops there with a note; the header
    row repeats on every page."""
    monkeypatch.setattr(report_pdf_module, "MAX_PDF_ROWS", 120)
    report = Report(
        name="packages.popular",
        columns=(("package_title", STRING), ("bookings", INTEGER), ("value", MONEY)),
        statement=None,
        shape=None,
        filters={"date_from": "2025-01-01", "date_to": None},
    )
    rows = (
        {"package_title": f"Package {n}", "bookings": n, "value": D(n), "x": 1}
        for n in range(1, 1000)
    )
    with app.test_request_context():
        data = report_pdf_module.report_pdf(report, rows, utcnow())
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) > 1
    pages = [page.extract_text() for page in reader.pages]
    assert all("Bookings" in text for text in pages)
    text = "\n".join(pages)
    assert "Package 120\n" in text or "Package 120 " in text
    assert "Package 121" not in text
    assert "This PDF shows the first 120 rows only" in text


def test_rows_are_read_lazily_up_to_the_limit(app, monkeypatch):
    monkeypatch.setattr(report_pdf_module, "MAX_PDF_ROWS", 3)
    read = []

    def rows():
        for n in range(100):
            read.append(n)
            yield {"package_title": f"P{n}", "bookings": n, "value": D(n)}

    report = Report(
        name="packages.popular",
        columns=(("package_title", STRING), ("bookings", INTEGER), ("value", MONEY)),
        statement=None,
        shape=None,
    )
    with app.test_request_context():
        report_pdf_module.report_pdf(report, rows(), utcnow())
    assert len(read) == 4


def test_number_and_money_follow_the_locale(app):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        from core.i18n import in_locale

        with in_locale("de"):
            row = {"currency": "EUR", "value": D("1234.5"), "bookings": 12345}
            money = report_pdf_module.cell_text(D("1234.5"), MONEY, "value", row)
            count = report_pdf_module.cell_text(12345, INTEGER, "bookings", row)
            ident = report_pdf_module.cell_text(12345, INTEGER, "package_id", row)
    assert money == "1.234,50\xa0€"
    assert count == "12.345"
    assert ident == "12345"


def test_reports_document_pdf(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in REPORTS:
        operation = spec["paths"][f"{API}/{path}"]["get"]
        content = operation["responses"]["200"]["content"]
        assert {"application/json", "text/csv", "application/pdf"} <= set(content)
        assert content["application/pdf"]["schema"] == {
            "type": "string",
            "format": "binary",
        }
        formats = next(p for p in operation["parameters"] if p["name"] == "format")
        assert "pdf" in formats["schema"]["enum"]


@pytest.mark.translated
def test_german_pdf(client, data, finance):
    resp = client.get(
        f"{API}/revenue/monthly?format=pdf&date_from=2025-01-01",
        headers={**finance, "Accept-Language": "de"},
    )
    text = assert_pdf(resp)
    assert resp.headers["Content-Language"] == "de"
    assert "Umsatz nach Monat" in text
    assert "Erstellt" in text
    assert "Von = 01.01.2025" in text
    assert "600,00\xa0€" in text or "600,00 €" in text


@pytest.mark.translated
def test_spanish_pdf(client, data, finance):
    resp = client.get(
        f"{API}/invoices/unpaid?format=pdf",
        headers={**finance, "Accept-Language": "es"},
    )
    text = assert_pdf(resp)
    assert "Facturas impagadas" in text
    assert "vencida" in text
