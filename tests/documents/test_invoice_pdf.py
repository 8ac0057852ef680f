"""Invoice and credit note PDFs (docs/documents.md "Invoices and credit notes",
"Tax"): `GET /invoices/<id>.pdf`, the invoice with `Accept: application/pdf` and
`GET /invoices/<id>/credit-notes/<note_id>.pdf`; what they show (seller, buyer,
lines with tax per rate, payments received, balance due), margin mode, the
snapshot taken at issue, access, non-Latin names and the reader's language."""

from decimal import Decimal

import pytest

from core.extensions import db
from core.pdf import render_pdf
from models import Booking, CreditNote, Invoice, Package
from services.documents import invoice_data, invoice_pdf
from services.payments import billing
from tests.documents.conftest import (
    package_booking,
    page_pixels,
    pay,
    pdf_fonts,
    pdf_text,
    set_customer,
    trip_booking,
)
from tests.factories import API, make_invoiced_booking


def pdf_url(invoice_id: int) -> str:
    return f"{API}/invoices/{invoice_id}.pdf"


def get_pdf(client, invoice_id, headers, **extra) -> bytes:
    """The invoice PDF as `headers` reads it (asserting a 200 PDF answer)."""
    response = client.get(pdf_url(invoice_id), headers={**headers, **extra})
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/pdf"
    return response.data


def invoice_row(app, invoice_id) -> dict:
    """The stored invoice's number, reference of its booking and snapshot."""
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        return {
            "number": invoice.number,
            "reference": invoice.booking.reference,
            "document": invoice.document,
            "booking_id": invoice.booking_id,
        }


# --- contents -----------------------------------------------------------------------


def test_invoice_pdf_shows_parties_lines_tax_and_money(app, client, actors):
    made = package_booking(app, client, actors)
    stored = invoice_row(app, made["invoice_id"])

    response = client.get(
        pdf_url(made["invoice_id"]), headers=made["customer"]["headers"]
    )

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Language"] == "en"
    assert (
        f'filename="{stored["number"]}.pdf"' in response.headers["Content-Disposition"]
    )
    text = pdf_text(response.data)
    for expected in (
        # seller, from configuration
        "Easy Travels Ltd",
        "1 Example Street",
        "VAT ID: IE1234567X",
        "CRO 123456",
        "accounts@easytravels.example",
        # buyer as issued
        "Erika Mustermann",
        "Hauptstraße 5",
        "VAT ID: DE123456789",
        # number, reference, dates
        f"Invoice {stored['number']}",
        stored["reference"],
        "Date of supply",
        # one line per category: qty, unit price, net, rate, tax, gross
        "Alpine Lakes Adult 1 €1,234.50 €1,087.67 13.5% €146.83 €1,234.50",
        "Alpine Lakes Child 1 €600.00 €528.63 13.5% €71.37 €600.00",
        # totals per rate and the grand total
        "VAT 13.5% €1,616.30 €218.20 €1,834.50",
        "Total €1,834.50",
        # live money: payments received, balance due and its date
        "Payments received €500.00",
        "€1,334.50",
        "Card €500.00",
    ):
        assert expected in text, expected
    assert "Balance due by" in text
    assert "Margin scheme" not in text


def test_snapshot_lines_add_up_to_the_invoice_total(app, client, actors):
    made = package_booking(app, client, actors)
    document = invoice_row(app, made["invoice_id"])["document"]

    assert document["tax_mode"] == "standard"
    assert document["supply_date"] is not None
    lines = document["lines"]
    assert [(line["category"], line["quantity"]) for line in lines] == [
        ("adult", 1),
        ("child", 1),
    ]
    for line in lines:
        assert Decimal(line["net"]) + Decimal(line["tax"]) == Decimal(line["gross"])
        assert line["tax_rate"] == "13.5"
    assert sum(Decimal(line["gross"]) for line in lines) == Decimal("1834.50")
    assert document["tax_totals"] == [
        {"tax_rate": "13.5", "net": "1616.30", "tax": "218.20", "gross": "1834.50"}
    ]


def test_every_issue_path_stores_the_snapshot(app, client, actors):
    # The year's first invoice creates the counter row (the generic insert); the
    # next ones are numbered and inserted in one statement on PostgreSQL.
    first = package_booking(app, client, actors)
    second = package_booking(app, client, actors, customer=first["customer"])
    made = trip_booking(app, client, actors)

    for invoice_id in (first["invoice_id"], second["invoice_id"], made["invoice_id"]):
        document = invoice_row(app, invoice_id)["document"]
        assert isinstance(document, dict)
        assert document["seller"]["name"] == "Easy Travels Ltd"
        assert len(document["lines"]) == 2
        text = pdf_text(get_pdf(client, invoice_id, actors.headers("finance")))
        assert "Adult 1" in text and "Child 1" in text


def test_rounding_remainder_goes_on_the_last_line(app, actors):
    customer = actors.customer()
    booking_id = make_invoiced_booking(
        app, customer_id=customer["id"], seats=3, total="1000.00"
    )
    with app.app_context():
        invoice = db.session.scalar(
            db.select(Invoice).where(Invoice.booking_id == booking_id)
        )
        (line,) = invoice.document["lines"]

    assert line["quantity"] == 3
    assert line["unit_price"] == "333.33"
    assert line["gross"] == "1000.00"  # 3 x 333.33 + the cent left over


def test_a_package_tax_rate_replaces_the_default(app, client, actors):
    made = package_booking(app, client, actors, tax_rate=Decimal("20"))

    text = pdf_text(get_pdf(client, made["invoice_id"], actors.headers("finance")))

    # 1234.50 / 1.20 = 1028.75; 600.00 / 1.20 = 500.00
    assert "Alpine Lakes Adult 1 €1,234.50 €1,028.75 20% €205.75 €1,234.50" in text
    assert "VAT 20% €1,528.75 €305.75 €1,834.50" in text
    assert "13.5%" not in text


def test_margin_mode_shows_no_tax_and_the_margin_note(app, client, actors, monkeypatch):
    monkeypatch.setitem(app.config, "TAX_MODE", "margin")
    made = package_booking(app, client, actors)

    text = pdf_text(get_pdf(client, made["invoice_id"], made["customer"]["headers"]))

    assert "Margin scheme – travel agents (Article 306 of Directive" in text  # noqa: RUF001
    assert "2006/112/EC" in text
    assert "the price includes VAT that is not shown separately" in text
    assert "Alpine Lakes Adult 1 €1,234.50 €1,234.50" in text
    assert "Tax rate" not in text
    assert "VAT 13.5%" not in text
    assert "Total €1,834.50" in text
    document = invoice_row(app, made["invoice_id"])["document"]
    assert document["tax_mode"] == "margin"
    assert "tax" not in document["lines"][0]

    # The mode is the one in force when the invoice was issued.
    monkeypatch.setitem(app.config, "TAX_MODE", "standard")
    again = pdf_text(get_pdf(client, made["invoice_id"], made["customer"]["headers"]))
    assert again == text


def test_trip_invoice_lines_name_route_stations_and_route_tax(app, client, actors):
    made = trip_booking(app, client, actors, tax_rate="9")
    stored = invoice_row(app, made["invoice_id"])

    text = pdf_text(get_pdf(client, made["invoice_id"], made["customer"]["headers"]))

    assert "Tom Rider" in text and "1 Quay Road" in text
    assert "Coastal Express" in text and "section economy" in text
    assert "Adult 1 €20.00 €18.35 9% €1.65 €20.00" in text
    assert "Child 1 €10.00 €9.17 9% €0.83 €10.00" in text
    assert "VAT 9% €27.52 €2.48 €30.00" in text
    assert "Payments received €0.00" in text
    assert stored["document"]["supply_date"] == made["line"]["service_date"].isoformat()
    assert stored["document"]["item"]["kind"] == "trip"


# --- immutability -------------------------------------------------------------------


def test_the_issued_invoice_does_not_change_with_the_data(app, client, actors):
    made = package_booking(app, client, actors)
    headers = made["customer"]["headers"]
    before = pdf_text(get_pdf(client, made["invoice_id"], headers))
    assert before == pdf_text(get_pdf(client, made["invoice_id"], headers))

    set_customer(
        app,
        made["customer"]["id"],
        name="Erika Neuname",
        billing_address="Anderswo 1\nHamburg",
        vat_id="DE999999999",
    )
    with app.app_context():
        booking = db.session.get(Booking, made["booking_id"])
        package = db.session.get(Package, booking.departure.package_id)
        package.title = "Renamed Lakes"
        package.tax_rate = Decimal("7")
        db.session.commit()
    app.config["COMPANY_NAME"], saved = "Other Company", app.config["COMPANY_NAME"]
    try:
        after = pdf_text(get_pdf(client, made["invoice_id"], headers))
    finally:
        app.config["COMPANY_NAME"] = saved

    assert after == before
    assert "Erika Mustermann" in after and "Erika Neuname" not in after
    assert "Alpine Lakes" in after and "Renamed Lakes" not in after


def test_payments_after_issue_show_on_a_reprint(app, client, actors):
    made = package_booking(app, client, actors)
    response = pay(client, actors.headers("finance"), made["booking_id"], "1334.50")
    assert response.status_code == 201, response.get_json()

    text = pdf_text(get_pdf(client, made["invoice_id"], made["customer"]["headers"]))

    assert "Payments received €1,834.50" in text
    assert "Card €500.00" in text and "Card €1,334.50" in text
    assert "€0.00" in text  # nothing left to pay
    assert "Total €1,834.50" in text


def test_an_invoice_without_snapshot_gets_one_at_first_render(app, client, actors):
    made = package_booking(app, client, actors)
    with app.app_context():
        invoice = db.session.get(Invoice, made["invoice_id"])
        issued = invoice.document
        invoice.document = None
        db.session.commit()

    first = pdf_text(get_pdf(client, made["invoice_id"], made["customer"]["headers"]))
    stored = invoice_row(app, made["invoice_id"])["document"]
    set_customer(app, made["customer"]["id"], name="Somebody Else")
    second = pdf_text(get_pdf(client, made["invoice_id"], made["customer"]["headers"]))

    assert stored["lines"] == issued["lines"]
    assert stored["number"] == invoice_row(app, made["invoice_id"])["number"]
    assert second == first
    assert "Erika Mustermann" in second


# --- credit notes -------------------------------------------------------------------


def credit(app, invoice_id, amount="200.00", reason="Goodwill for a late transfer"):
    """Issue a credit note of `amount` on the invoice; returns (id, number)."""
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        note = billing.credit(invoice, Decimal(amount), reason)
        db.session.commit()
        return note.id, note.number


def test_credit_note_pdf_refers_to_its_invoice(app, client, actors):
    made = package_booking(app, client, actors)
    stored = invoice_row(app, made["invoice_id"])
    note_id, number = credit(app, made["invoice_id"])
    url = f"{API}/invoices/{made['invoice_id']}/credit-notes/{note_id}.pdf"

    response = client.get(url, headers=made["customer"]["headers"])

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f'filename="{number}.pdf"' in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert f"Credit note {number}" in text
    assert f"corrects invoice {stored['number']}" in text
    assert "Goodwill for a late transfer" in text
    assert "Amount credited €200.00" in text
    assert "VAT 13.5% €23.79" in text  # 200.00 - 200.00 / 1.135
    assert "Erika Mustermann" in text and "Easy Travels Ltd" in text
    with app.app_context():
        document = db.session.get(CreditNote, note_id).document
    assert document["invoice_number"] == stored["number"]
    assert document["buyer"] == stored["document"]["buyer"]


def test_credit_note_of_another_invoice_is_not_found(app, client, actors):
    first = package_booking(app, client, actors)
    second = package_booking(app, client, actors, customer=first["customer"])
    note_id, _ = credit(app, first["invoice_id"])
    headers = first["customer"]["headers"]

    wrong = client.get(
        f"{API}/invoices/{second['invoice_id']}/credit-notes/{note_id}.pdf",
        headers=headers,
    )
    missing = client.get(
        f"{API}/invoices/{first['invoice_id']}/credit-notes/999999.pdf",
        headers=headers,
    )

    assert wrong.status_code == 404
    assert missing.status_code == 404
    assert wrong.mimetype == "application/problem+json"


# --- access and negotiation ---------------------------------------------------------


def test_who_may_read_an_invoice_pdf(app, client, actors):
    made = package_booking(app, client, actors)
    note_id, _ = credit(app, made["invoice_id"])
    other = actors.customer()
    urls = [
        pdf_url(made["invoice_id"]),
        f"{API}/invoices/{made['invoice_id']}/credit-notes/{note_id}.pdf",
    ]

    for url in urls:
        assert client.get(url, headers=other["headers"]).status_code == 404
        assert client.get(url).status_code == 401
        assert client.get(url, headers=actors.headers("sales")).status_code == 403
        assert client.get(url, headers=actors.headers("finance")).status_code == 200
        assert client.get(url, headers=actors.headers("admin")).status_code == 200
    negotiated = client.get(
        f"{API}/invoices/{made['invoice_id']}",
        headers={**other["headers"], "Accept": "application/pdf"},
    )
    assert negotiated.status_code == 404
    assert client.get(pdf_url(2147483647), headers=other["headers"]).status_code == 404


@pytest.mark.parametrize(
    ("accept", "pdf"),
    [
        ("application/pdf", True),
        ("application/json;q=0.5, application/pdf", True),
        ("application/json", False),
        ("application/pdf;q=0.5, application/json", False),
        (None, False),
        ("*/*", False),
    ],
)
def test_the_invoice_answers_pdf_when_accept_prefers_it(
    app, client, actors, accept, pdf
):
    made = package_booking(app, client, actors, paid=None)
    headers = dict(made["customer"]["headers"])
    if accept:
        headers["Accept"] = accept

    response = client.get(f"{API}/invoices/{made['invoice_id']}", headers=headers)

    assert response.status_code == 200
    if pdf:
        assert response.mimetype == "application/pdf"
        assert "Erika Mustermann" in pdf_text(response.data)
    else:
        assert response.mimetype == "application/json"
        assert response.get_json()["id"] == made["invoice_id"]


def test_openapi_documents_the_pdf_answers(spec):
    pdf = {"schema": {"type": "string", "format": "binary"}}
    paths = spec["paths"]
    one = paths["/api/v1/invoices/{invoice_id}"]["get"]["responses"]["200"]
    assert one["content"]["application/pdf"] == pdf
    assert "application/json" in one["content"]
    for path in (
        "/api/v1/invoices/{invoice_id}.pdf",
        "/api/v1/invoices/{invoice_id}/credit-notes/{note_id}.pdf",
    ):
        responses = paths[path]["get"]["responses"]
        assert responses["200"]["content"] == {"application/pdf": pdf}
        assert {"401", "403", "404"} <= set(responses)


# --- scripts and fonts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "font"),
    [
        ("王小明", "WenQuanYi"),
        ("Γιώργος Παπαδόπουλος", "DejaVu"),
        ("محمد العربي", "DejaVu"),
    ],
)
def test_non_latin_buyer_names_render_as_glyphs(app, client, actors, name, font):
    customer = actors.customer(name=name, billing_address="Athens")
    made = package_booking(app, client, actors, customer=customer)

    data = get_pdf(client, made["invoice_id"], customer["headers"])

    assert font in pdf_fonts(data)
    # The name's glyphs are drawn: the page differs from the same page with an
    # empty name (extracted text alone would pass on empty boxes).
    with app.test_request_context():
        invoice = db.session.get(Invoice, made["invoice_id"])
        context = invoice_pdf.invoice_context(invoice)
        with_name = render_pdf("documents/invoice.html", **context)
        context["buyer"] = {**context["buyer"], "name": ""}
        without_name = render_pdf("documents/invoice.html", **context)
    assert page_pixels(with_name) == page_pixels(data)
    assert page_pixels(with_name) != page_pixels(without_name)
    if font == "WenQuanYi":
        assert font not in pdf_fonts(without_name)


# --- languages ----------------------------------------------------------------------


@pytest.mark.translated
@pytest.mark.parametrize(
    ("language", "title", "words"),
    [
        ("de", "Rechnung", ("Zahlungseingänge", "Leistungsdatum", "USt. 13,5")),
        ("es", "Factura", ("Pagos recibidos", "Fecha de prestación", "IVA 13,5")),
    ],
)
def test_invoice_in_german_and_spanish(app, client, actors, language, title, words):
    made = package_booking(app, client, actors)
    number = invoice_row(app, made["invoice_id"])["number"]

    response = client.get(
        pdf_url(made["invoice_id"]),
        headers={**made["customer"]["headers"], "Accept-Language": language},
    )

    assert response.headers["Content-Language"] == language
    text = pdf_text(response.data)
    assert f"{title} {number}" in text
    assert "1.234,50 €" in text and "1.834,50 €" in text
    assert "13,5" in text
    for word in words:
        assert word in text


@pytest.mark.translated
def test_margin_note_follows_the_account_language(app, client, actors, monkeypatch):
    monkeypatch.setitem(app.config, "TAX_MODE", "margin")
    customer = actors.customer(name="Hans Huber", locale="de")
    made = package_booking(app, client, actors, customer=customer)

    text = pdf_text(get_pdf(client, made["invoice_id"], customer["headers"]))

    assert "Differenzbesteuerung" in text
    assert "Rechnung" in text


def test_package_title_in_the_readers_language(app, client, actors):
    made = package_booking(
        app,
        client,
        actors,
        translations={"de": {"title": "Alpenseen"}, "es": {"title": "Lagos alpinos"}},
    )
    headers = made["customer"]["headers"]

    german = pdf_text(
        get_pdf(client, made["invoice_id"], headers, **{"Accept-Language": "de"})
    )
    english = pdf_text(get_pdf(client, made["invoice_id"], headers))

    assert "Alpenseen" in german
    assert "Alpine Lakes" in english and "Alpenseen" not in english


def test_snapshot_functions_are_pure(app, client, actors):
    made = package_booking(app, client, actors)
    with app.app_context():
        invoice = db.session.get(Invoice, made["invoice_id"])
        rebuilt = invoice_data.booking_document(invoice.booking, invoice.issue_date)
    assert rebuilt == invoice.document
