"""What the invoice PDF tests share (tests/documents/test_invoice_pdf.py): a
package booking with an adult and a child made through the API and paid in part
(`package_booking`), a trip booking on a priced coach line (`trip_booking`), the
text of a PDF (`pdf_text`), its fonts (`pdf_fonts`, pdffonts) and its first page
as pixels (`page_pixels`, pdftoppm).

Fixtures come from tests/conftest.py (`app`, `client`, `actors`); rows from
tests/factories.py and tests/transport/conftest.py (`make_line`).
"""

import io
import subprocess
import tempfile
from pathlib import Path

from pypdf import PdfReader

from core.extensions import db
from models import Customer, Departure, TransportRoute
from tests.factories import API, make_departure, pay
from tests.transport.conftest import make_line

ADULT = {"name": "Ann Adult", "birth_date": "1980-05-01", "category": "adult"}
CHILD = {"name": "Cid Child", "birth_date": "2017-05-01", "category": "child"}


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF (pypdf), whitespace runs as one space."""
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(text.split())


def pdf_fonts(data: bytes) -> str:
    """What `pdffonts` lists for a PDF (poppler-utils): the embedded fonts."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return subprocess.run(
            ["pdffonts", handle.name], capture_output=True, text=True, check=True
        ).stdout


def page_pixels(data: bytes, dpi: int = 50) -> bytes:
    """The first page rendered by `pdftoppm -r dpi` as greyscale PGM bytes."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(data)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                str(dpi),
                "-gray",
                "-f",
                "1",
                "-l",
                "1",
                str(source),
                str(Path(folder) / "page"),
            ],
            check=True,
        )
        return next(Path(folder).glob("page*.pgm")).read_bytes()


def set_customer(app, customer_id: int, **fields) -> None:
    """Change a customer's stored fields (name, billing_address, vat_id, ...)."""
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        for name, value in fields.items():
            setattr(customer, name, value)
        db.session.commit()


def package_booking(
    app,
    client,
    actors,
    *,
    customer=None,
    tax_rate=None,
    title="Alpine Lakes",
    paid="500.00",
    translations=None,
) -> dict:
    """A customer (billing address, VAT id) books an adult (1234.50) and a child
    (600.00) on a new departure (deposit 20 %) through the API, and finance
    records a card payment of `paid`. Returns `{customer, booking_id,
    invoice_id, departure_id}`."""
    customer = customer or actors.customer(
        name="Erika Mustermann",
        billing_address="Hauptstraße 5\n10115 Berlin\nGermany",
        vat_id="DE123456789",
    )
    departure_id = make_departure(
        app,
        price="1234.50",
        prices={"child": "600.00"},
        deposit_percent=20,
        title=title,
    )
    with app.app_context():
        package = db.session.get(Departure, departure_id).package
        package.tax_rate = tax_rate
        package.translations = translations
        db.session.commit()
    response = client.post(
        f"{API}/bookings",
        json={"departure_id": departure_id, "seats": 2, "travellers": [ADULT, CHILD]},
        headers=customer["headers"],
    )
    assert response.status_code == 201, response.get_json()
    booking_id = response.get_json()["id"]
    if paid:
        paid_response = pay(client, actors.headers("finance"), booking_id, paid)
        assert paid_response.status_code == 201, paid_response.get_json()
    invoice = client.get(
        f"{API}/invoices?booking_id={booking_id}", headers=actors.headers("finance")
    ).get_json()["items"][0]
    return {
        "customer": customer,
        "booking_id": booking_id,
        "invoice_id": invoice["id"],
        "departure_id": departure_id,
    }


def trip_booking(app, client, actors, *, tax_rate="9") -> dict:
    """A customer books an adult and a child (half price) from A to C on a new
    coach line (route tax rate `tax_rate`) through the API. Returns `{customer,
    booking_id, invoice_id, line}`."""
    line = make_line(app)
    with app.app_context():
        route = db.session.get(TransportRoute, line["route_id"])
        route.tax_rate = tax_rate
        route.child_percent = 50
        route.name = "Coastal Express"
        db.session.commit()
    customer = actors.customer(name="Tom Rider", address="1 Quay Road\nCork")
    stations = line["station_ids"]
    response = client.post(
        f"{API}/bookings",
        json={
            "trip_id": line["trip_id"],
            "from_station_id": stations[0],
            "to_station_id": stations[2],
            "section_code": "economy",
            "passengers": [ADULT, CHILD],
        },
        headers=customer["headers"],
    )
    assert response.status_code == 201, response.get_json()
    booking_id = response.get_json()["id"]
    invoice = client.get(
        f"{API}/invoices?booking_id={booking_id}", headers=actors.headers("finance")
    ).get_json()["items"][0]
    return {
        "customer": customer,
        "booking_id": booking_id,
        "invoice_id": invoice["id"],
        "line": line,
    }
