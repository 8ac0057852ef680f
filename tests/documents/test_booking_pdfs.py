"""Booking confirmations and tickets as PDF with QR codes, and mail attachments
through the outbox (docs/documents.md "Booking confirmations and tickets", "Mail
attachments").

PDF text is read with pdftotext, fonts with pdffonts; QR codes are decoded from
the page rendered by pdftoppm (150 dpi) with zxing-cpp.
"""

import io
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from core.extensions import db
from models import Booking, Departure, OutboxMessage, Package, Station, Ticket
from models.booking import Traveller
from services.booking.bookings import new_reference
from services.documents import attachments, booking_pdfs
from services.messaging import outbox
from services.transport import ticket_signing
from tests.factories import make_departure, now
from tests.transport.conftest import (
    book_trip_in_db,
    make_company,
    make_line,
    operator_of,
)

API = "/api/v1"
# A full QR symbol even for a short booking reference: many phone cameras cannot
# read a Micro QR (core/pdf.py uses segno.make_qr).
QR_FORMATS = (zxingcpp.BarcodeFormat.QRCode,)


# --- helpers -------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """The text of a PDF (pdftotext, layout kept)."""
    assert data.startswith(b"%PDF-")
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout.decode()


def pdf_fonts(data: bytes) -> str:
    """The `pdffonts` listing of a PDF (embedded font names)."""
    done = subprocess.run(
        ["pdffonts", "-"], input=data, capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode()


def qr_codes(data: bytes) -> list[str]:
    """The texts of the QR codes on the first page, rendered at 150 dpi."""
    done = subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-"],
        input=data,
        capture_output=True,
        check=True,
        timeout=60,
    )
    image = Image.open(io.BytesIO(done.stdout))
    return [
        code.text for code in zxingcpp.read_barcodes(image) if code.format in QR_FORMATS
    ]


def package_booking(
    app,
    customer_id: int,
    *,
    status: str = "confirmed",
    names=("Ada Lovelace", "Tom Lovelace"),
    categories=("adult", "child"),
    paid: str = "500.00",
    title: str = "Alpine Lakes",
    translations: dict | None = None,
) -> int:
    """A package booking of one traveller per name (EUR 1200.00 / 600.00 seats),
    `paid` of it paid, the balance due 30 days before the departure; its id."""
    departure_id = make_departure(app, title=title, start_in_days=90)
    with app.app_context():
        departure = db.session.get(Departure, departure_id)
        if translations:
            db.session.get(Package, departure.package_id).translations = translations
        prices = {"adult": Decimal("1200.00"), "child": Decimal("600.00")}
        total = sum((prices[c] for c in categories), Decimal("0.00"))
        booking = Booking(
            reference=new_reference(),
            customer_id=customer_id,
            departure_id=departure_id,
            seats=len(names),
            status=status,
            currency="EUR",
            unit_price=prices["adult"],
            total_amount=total,
            amount_paid=Decimal(paid),
            deposit_amount=Decimal(paid),
            balance_due_date=departure.start_date - timedelta(days=30),
            hold_expires_at=now() + timedelta(minutes=15) if status == "held" else None,
            confirmed_at=now() if status in ("confirmed", "completed") else None,
            travellers=[
                Traveller(
                    name=name,
                    birth_date=date(1990, 1, 1),
                    category=category,
                    unit_price=prices[category],
                )
                for name, category in zip(names, categories, strict=True)
            ],
        )
        db.session.add(booking)
        db.session.commit()
        return booking.id


def reference_of(app, booking_id: int) -> str:
    """The reference of booking `booking_id`."""
    with app.app_context():
        return db.session.get(Booking, booking_id).reference


def ticket_numbers(app, booking_id: int) -> list[str]:
    """The ticket numbers of a booking in passenger order."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(Ticket.number)
                .where(Ticket.booking_id == booking_id)
                .order_by(Ticket.traveller_id)
            )
        )


def set_ticket_status(app, number: str, status: str) -> None:
    """Store `status` on ticket `number`."""
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.number == number))
        ticket.one().status = status
        db.session.commit()


@pytest.fixture
def customer(actors):
    """A customer named Ada Lovelace (`{"id", "email", "headers"}`)."""
    return actors.customer(name="Ada Lovelace")


@pytest.fixture
def trip(app, actors):
    """A line A -> B -> C and a confirmed booking of two seats A -> C with its
    tickets, by a customer of its own; `{line, customer, booking_id, numbers}`."""
    line = make_line(app)
    owner = actors.customer(name="Grace Hopper")
    booking_id = book_trip_in_db(app, line["trip_id"], owner["id"], seats=("1A", "1B"))
    with app.app_context():
        first, second = line["station_ids"][0], line["station_ids"][2]
        db.session.get(Station, first).name = "Dublin Busáras"
        db.session.get(Station, first).translations = {"de": {"name": "Dublin ZOB"}}
        db.session.get(Station, second).name = "Galway Coach Station"
        db.session.commit()
    return {
        "line": line,
        "customer": owner,
        "booking_id": booking_id,
        "numbers": ticket_numbers(app, booking_id),
    }


# --- booking confirmations -----------------------------------------------------


def test_confirmation_pdf_shows_the_booking_and_its_qr_code(app, client, customer):
    booking_id = package_booking(app, customer["id"])
    reference = reference_of(app, booking_id)

    response = client.get(
        f"{API}/bookings/{booking_id}/confirmation.pdf", headers=customer["headers"]
    )

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert (
        f'filename="confirmation-{reference}.pdf"'
        in (response.headers["Content-Disposition"])
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    text = pdf_text(response.data)
    for shown in (
        reference,
        "Booking confirmation",
        "Confirmed",
        "Ada Lovelace",
        "Tom Lovelace",
        "Alpine Lakes",
        "Adult",
        "Child",
        "€1,800.00",  # total
        "€500.00",  # paid
        "€1,300.00",  # due
        "Please pay the balance by",
    ):
        assert shown in text, shown
    assert qr_codes(response.data) == [reference]


def test_confirmation_of_a_trip_booking_shows_the_ride(app, client, trip):
    booking_id = trip["booking_id"]
    response = client.get(
        f"{API}/bookings/{booking_id}/confirmation.pdf",
        headers=trip["customer"]["headers"],
    )

    assert response.status_code == 200
    text = pdf_text(response.data)
    for shown in (
        "Grace Hopper",
        "Dublin Busáras",
        "Galway Coach Station",
        "8:00 AM",  # local departure at A (Dublin time)
        "12:00 PM",  # local arrival at C
        "1A",
        "1B",
        "economy",
        "€40.00",
    ):
        assert shown in text, shown
    assert "Please pay the balance" not in text  # nothing due
    assert qr_codes(response.data) == [reference_of(app, booking_id)]


def test_confirmation_shows_catalogue_text_in_the_readers_language(
    app, client, customer
):
    booking_id = package_booking(
        app, customer["id"], translations={"de": {"title": "Alpenseen"}}
    )
    url = f"{API}/bookings/{booking_id}/confirmation.pdf"

    german = client.get(url, headers={**customer["headers"], "Accept-Language": "de"})
    english = client.get(url, headers=customer["headers"])

    assert german.headers["Content-Language"] == "de"
    assert "Alpenseen" in pdf_text(german.data)
    assert "Alpine Lakes" in pdf_text(english.data)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("admin", 200),
        ("sales", 200),
        ("finance", 200),
        ("other customer", 404),
        ("operator", 403),
        ("anonymous", 401),
    ],
)
def test_who_reads_a_confirmation(app, client, actors, customer, who, status):
    booking_id = package_booking(app, customer["id"])
    if who == "owner":
        headers = customer["headers"]
    elif who == "other customer":
        headers = actors.customer()["headers"]
    elif who == "operator":
        headers = operator_of(actors, make_company(app))["headers"]
    else:
        headers = actors.headers(who)

    response = client.get(
        f"{API}/bookings/{booking_id}/confirmation.pdf", headers=headers
    )

    assert response.status_code == status
    if status != 200:
        assert response.mimetype == "application/problem+json"


def test_unknown_booking_is_404(client, customer):
    response = client.get(
        f"{API}/bookings/999999/confirmation.pdf", headers=customer["headers"]
    )
    assert response.status_code == 404


@pytest.mark.parametrize("status", ["held", "cancelled", "expired"])
def test_no_confirmation_before_confirmed_is_409(app, client, customer, status):
    booking_id = package_booking(app, customer["id"], status=status, paid="0.00")

    response = client.get(
        f"{API}/bookings/{booking_id}/confirmation.pdf", headers=customer["headers"]
    )

    assert response.status_code == 409
    problem = response.get_json()
    assert problem["type"] == "/problems/booking-not-confirmed"
    assert problem["status"] == 409


def test_a_completed_booking_keeps_its_confirmation(app, client, customer):
    booking_id = package_booking(app, customer["id"], status="completed")
    response = client.get(
        f"{API}/bookings/{booking_id}/confirmation.pdf", headers=customer["headers"]
    )
    assert response.status_code == 200
    assert "Completed" in pdf_text(response.data)


def test_names_in_any_script_render_with_embedded_fonts(app, client, customer):
    names = ("王小明", "Γιώργος Παπαδόπουλος", "محمد علي")
    booking_id = package_booking(
        app, customer["id"], names=names, categories=("adult", "adult", "child")
    )

    response = client.get(
        f"{API}/bookings/{booking_id}/confirmation.pdf", headers=customer["headers"]
    )

    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "王小明" in text
    assert "Γιώργος Παπαδόπουλος" in text
    fonts = pdf_fonts(response.data)
    assert "WenQuanYi" in fonts
    assert "DejaVu" in fonts
    # Every font is embedded (no glyph left to the viewer's fonts).
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all("yes" in row[-5:-3] for row in rows)


# --- tickets ---------------------------------------------------------------------


def test_ticket_pdf_carries_the_signed_barcode_as_qr_code(app, client, trip):
    number = trip["numbers"][0]

    response = client.get(
        f"{API}/tickets/{number}.pdf", headers=trip["customer"]["headers"]
    )

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f'filename="ticket-{number}.pdf"' in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    for shown in (number, "Dublin Busáras", "Galway Coach Station", "8:00 AM", "1A"):
        assert shown in text, shown
    (code,) = qr_codes(response.data)
    assert code.startswith("ET1.")
    with app.app_context():
        payload = ticket_signing.verify(code)
    assert payload["n"] == number
    answer = client.get(
        f"{API}/tickets/{number}", headers=trip["customer"]["headers"]
    ).get_json()
    assert answer["barcode"] == code  # the JSON route is not swallowed


def test_ticket_pdf_by_lowercase_number_and_by_staff(app, client, actors, trip):
    number = trip["numbers"][1]
    own_operator = operator_of(actors, trip["line"]["company_id"])

    for headers in (actors.headers("sales"), own_operator["headers"]):
        response = client.get(f"{API}/tickets/{number.lower()}.pdf", headers=headers)
        assert response.status_code == 200
        assert "1B" in pdf_text(response.data)


@pytest.mark.parametrize(
    ("who", "status"),
    [("other customer", 404), ("other operator", 404), ("hr", 403), ("anon", 401)],
)
def test_who_may_not_read_a_ticket_pdf(app, client, actors, trip, who, status):
    headers = {
        "other customer": lambda: actors.customer()["headers"],
        "other operator": lambda: operator_of(actors, make_company(app))["headers"],
        "hr": lambda: actors.headers("hr"),
        "anon": lambda: {},
    }[who]()

    response = client.get(f"{API}/tickets/{trip['numbers'][0]}.pdf", headers=headers)

    assert response.status_code == status


def test_unknown_ticket_pdf_is_404(client, trip):
    response = client.get(
        f"{API}/tickets/TK-NOSUCHONE.pdf", headers=trip["customer"]["headers"]
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("status", "code"),
    [("cancelled", "ticket-cancelled"), ("no_show", "ticket-not-valid")],
)
def test_a_ticket_no_longer_valid_is_409(app, client, trip, status, code):
    number = trip["numbers"][0]
    set_ticket_status(app, number, status)

    response = client.get(
        f"{API}/tickets/{number}.pdf", headers=trip["customer"]["headers"]
    )

    assert response.status_code == 409
    assert response.get_json()["type"] == f"/problems/{code}"


def test_a_boarded_ticket_still_prints(app, client, trip):
    number = trip["numbers"][0]
    set_ticket_status(app, number, "boarded")
    response = client.get(
        f"{API}/tickets/{number}.pdf", headers=trip["customer"]["headers"]
    )
    assert response.status_code == 200
    assert "Boarded" in pdf_text(response.data)


def test_the_pdf_routes_are_documented(spec):
    for path, name in (
        ("/api/v1/bookings/{booking_id}/confirmation.pdf", "booking_id"),
        ("/api/v1/tickets/{number}.pdf", "number"),
    ):
        operation = spec["paths"][path]["get"]
        assert name in {p["name"] for p in operation.get("parameters", [])} | {
            p["name"] for p in spec["paths"][path].get("parameters", [])
        }
        responses = operation["responses"]
        assert "application/pdf" in responses["200"]["content"]
        assert {"401", "404", "409"} <= set(responses)


# --- mail attachments through the outbox ---------------------------------------


def pdf_parts(message) -> list:
    """The application/pdf attachments of a received message."""
    return [
        part
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def enqueue_confirmation(app, booking_id: int, to: str) -> None:
    """Queue a mail with the booking's confirmation attachments and commit."""
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        outbox.enqueue_mail(
            to,
            f"Booking {booking.reference}",
            "Your documents are attached.",
            topic="test.documents",
            attachments=attachments.confirmation_attachments(booking),
        )
        db.session.commit()


def outbox_row(app) -> OutboxMessage:
    """The one outbox row, detached."""
    with app.app_context():
        row = db.session.scalars(select(OutboxMessage)).one()
        db.session.expunge(row)
        return row


def test_a_mail_carries_the_confirmation_pdf(app, mailbox, customer):
    booking_id = package_booking(app, customer["id"])
    reference = reference_of(app, booking_id)
    enqueue_confirmation(app, booking_id, customer["email"])

    row = outbox_row(app)
    assert row.payload["attachments"] == [
        {"document": "confirmation", "booking_id": booking_id}
    ]
    (message,) = mailbox.to(customer["email"])
    assert "attached" in message.get_body(("plain",)).get_content()
    (part,) = pdf_parts(message)
    assert part.get_filename() == f"confirmation-{reference}.pdf"
    data = part.get_content()
    assert reference in pdf_text(data)
    assert qr_codes(data) == [reference]
    assert outbox_row(app).state == "sent"


def test_a_trip_mail_carries_the_confirmation_and_every_ticket(app, mailbox, trip):
    email = trip["customer"]["email"]
    enqueue_confirmation(app, trip["booking_id"], email)

    (message,) = mailbox.to(email)
    names = [part.get_filename() for part in pdf_parts(message)]
    reference = reference_of(app, trip["booking_id"])
    assert names == [
        f"confirmation-{reference}.pdf",
        *(f"ticket-{number}.pdf" for number in trip["numbers"]),
    ]
    ticket_part = pdf_parts(message)[2]
    (code,) = qr_codes(ticket_part.get_content())
    with app.app_context():
        assert ticket_signing.verify(code)["n"] == trip["numbers"][1]


def test_attachment_specs_name_documents_never_bytes(app, trip):
    numbers = trip["numbers"]
    with app.app_context():
        booking = db.session.get(Booking, trip["booking_id"])
        assert attachments.confirmation_attachments(booking) == [
            {"document": "confirmation", "booking_id": booking.id},
            *({"document": "ticket", "number": n} for n in numbers),
        ]
        assert attachments.confirmation_attachments(booking, tickets=False) == [
            {"document": "confirmation", "booking_id": booking.id}
        ]
        rows = db.session.scalars(select(Ticket).order_by(Ticket.traveller_id)).all()
    assert attachments.ticket_attachments([{"number": numbers[0]}, rows[1]]) == [
        {"document": "ticket", "number": n} for n in numbers
    ]


@pytest.mark.parametrize(
    "spec",
    [
        {"document": "passport"},
        {"document": "confirmation"},
        {"document": "confirmation", "booking_id": "12"},
        {"document": "confirmation", "booking_id": 999999},
        {"document": "ticket", "number": "TK-NOSUCHONE"},
        ["confirmation", 1],
    ],
)
def test_specs_that_can_never_render_raise_attachment_error(app, spec):
    with app.app_context(), pytest.raises(attachments.AttachmentError):
        attachments.render_attachment(spec)


def test_an_attachment_renders_in_the_given_locale_or_the_customers(app, trip):
    number = trip["numbers"][0]
    with app.app_context():
        name, mimetype, data = attachments.render_attachment(
            {"document": "ticket", "number": number}, locale="de"
        )
    assert (name, mimetype) == (f"ticket-{number}.pdf", "application/pdf")
    assert "Dublin ZOB" in pdf_text(data)  # the station's German name


def test_an_unknown_attachment_spec_is_dead_at_once(app, mailbox, customer):
    with app.app_context():
        outbox.enqueue_mail(
            customer["email"],
            "Odd",
            "body",
            topic="test.documents",
            attachments=[{"document": "passport", "id": 1}],
        )
        db.session.commit()

    assert mailbox.to(customer["email"]) == []
    row = outbox_row(app)
    assert row.state == "dead"
    assert row.attempts == 1
    assert "unknown attachment" in row.last_error


def test_a_rendering_failure_is_retried_like_an_smtp_failure(
    app, mailbox, customer, monkeypatch
):
    booking_id = package_booking(app, customer["id"])
    enqueue_confirmation(app, booking_id, customer["email"])

    def broken(booking):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(booking_pdfs, "render_confirmation", broken)
    assert mailbox.to(customer["email"]) == []
    row = outbox_row(app)
    assert (row.state, row.attempts) == ("pending", 1)
    assert "renderer down" in row.last_error
    assert row.next_attempt_at > now()

    monkeypatch.undo()
    with app.app_context():
        outbox.drain(now=row.next_attempt_at + timedelta(seconds=1))
    (message,) = mailbox.to(customer["email"])
    assert len(pdf_parts(message)) == 1
    assert outbox_row(app).state == "sent"


def test_the_log_sink_names_the_attachments(app, customer, caplog, monkeypatch):
    booking_id = package_booking(app, customer["id"])
    reference = reference_of(app, booking_id)
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_TO_LOG", True)
    enqueue_confirmation(app, booking_id, customer["email"])

    with (
        caplog.at_level("INFO", logger="easytravels.mail.outbox"),
        app.app_context(),
    ):
        outbox.drain()

    assert f"attachments=confirmation-{reference}.pdf" in caplog.text
    assert "%PDF" not in caplog.text
    assert outbox_row(app).state == "sent"


# --- other languages (need the compiled catalogues: `make translations`) ---------


@pytest.mark.translated
def test_german_confirmation(app, client, customer):
    booking_id = package_booking(app, customer["id"])
    response = client.get(
        f"{API}/bookings/{booking_id}/confirmation.pdf",
        headers={**customer["headers"], "Accept-Language": "de"},
    )
    text = pdf_text(response.data)
    assert "Buchungsbestätigung" in text
    assert "Reisende" in text
    assert "1.800,00 €" in text


@pytest.mark.translated
def test_a_spanish_customers_attachments_are_in_spanish(app, mailbox, actors):
    reader = actors.customer(name="Lucía Pérez", locale="es")
    booking_id = package_booking(
        app, reader["id"], names=("Lucía Pérez",), categories=("adult",)
    )
    enqueue_confirmation(app, booking_id, reader["email"])

    (message,) = mailbox.to(reader["email"])
    (part,) = pdf_parts(message)
    text = pdf_text(part.get_content())
    assert "Confirmación de reserva" in text
    assert "1200,00 €" in text or "1.200,00 €" in text


@pytest.mark.translated
def test_german_ticket(app, client, trip):
    number = trip["numbers"][0]
    response = client.get(
        f"{API}/tickets/{number}.pdf",
        headers={**trip["customer"]["headers"], "Accept-Language": "de"},
    )
    text = pdf_text(response.data)
    assert "Fahrkarte" in text
    assert "Dublin ZOB" in text
