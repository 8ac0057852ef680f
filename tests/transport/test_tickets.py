"""Tickets: issued once per passenger when a trip booking is confirmed, mailed
through the outbox and announced by webhook; read by the owner, staff and the
trip company's operator; signed barcodes verified offline with the published key
(docs/transport.md "Tickets and boarding")."""

import base64
import hashlib
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from core.extensions import db
from models import (
    Booking,
    OutboxMessage,
    Ticket,
    Traveller,
    WebhookEndpoint,
)
from services.transport import seating
from services.transport import tickets as ticket_service
from tests.factories import assert_problem
from tests.transport.conftest import (
    TRANSPORT,
    book_trip_in_db,
    make_line,
    operator_of,
)

TICKETS = "/api/v1/tickets"
NUMBER = re.compile(r"^TK-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{10}$")


def b64url(text: str) -> bytes:
    """The bytes of unpadded base64url `text`."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def held_booking(app, trip_id, customer_id, *, seats=("1A", "1B"), infant=False):
    """A held trip booking A -> C (book_trip_in_db), with an infant on a lap
    (no seat) added when `infant`. Returns its id."""
    booking_id = book_trip_in_db(app, trip_id, customer_id, seats=seats, status="held")
    if infant:
        with app.app_context():
            db.session.add(
                Traveller(
                    booking_id=booking_id,
                    name="Baby Berg",
                    birth_date=date(2025, 1, 1),
                    category="infant",
                    unit_price=Decimal("0.00"),
                    seat_label=None,
                )
            )
            db.session.commit()
    return booking_id


def confirm_and_issue(app, booking_id) -> list[str]:
    """Confirm the booking and issue its tickets in one transaction, as the
    payment does; the numbers issued."""
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        booking.status = "confirmed"
        booking.amount_paid = booking.total_amount
        issued = ticket_service.issue_tickets(booking)
        numbers = [ticket.number for ticket in issued]
        db.session.commit()
        return numbers


def stored_tickets(app, booking_id) -> list[dict]:
    """The booking's ticket rows as `{number, status, seat, category}`."""
    with app.app_context():
        rows = db.session.execute(
            select(
                Ticket.number, Ticket.status, Traveller.seat_label, Traveller.category
            )
            .join(Traveller, Traveller.id == Ticket.traveller_id)
            .where(Ticket.booking_id == booking_id)
            .order_by(Ticket.traveller_id)
        ).all()
        return [
            {"number": n, "status": s, "seat": seat, "category": c}
            for n, s, seat, c in rows
        ]


def listen(app, *events) -> None:
    """An active webhook endpoint subscribed to `events` (written straight in the
    database, so no delivery target is checked)."""
    with app.app_context():
        db.session.add(
            WebhookEndpoint(
                url="https://partner.example/hooks",
                event_types=list(events),
                secret="whsec_dGVzdA==",
                active=True,
            )
        )
        db.session.commit()


def test_issue_tickets_one_per_passenger_and_idempotent(app, actors):
    line = make_line(app)
    customer_id = actors.customer()["id"]
    booking_id = held_booking(app, line["trip_id"], customer_id, infant=True)

    numbers = confirm_and_issue(app, booking_id)
    again = confirm_and_issue(app, booking_id)

    assert again == []
    stored = stored_tickets(app, booking_id)
    assert [t["number"] for t in stored] == numbers
    assert len(numbers) == len(set(numbers)) == 3
    assert all(NUMBER.match(number) for number in numbers)
    assert [(t["seat"], t["category"], t["status"]) for t in stored] == [
        ("1A", "adult", "valid"),
        ("1B", "adult", "valid"),
        (None, "infant", "valid"),
    ]


def test_issue_tickets_mails_the_tickets_once(app, client, actors, mailbox):
    line = make_line(app)
    customer = actors.customer()
    booking_id = held_booking(app, line["trip_id"], customer["id"])

    numbers = confirm_and_issue(app, booking_id)
    confirm_and_issue(app, booking_id)

    mails = mailbox.to(customer["email"])
    assert len(mails) == 1
    assert "your tickets" in mails[0]["Subject"]
    body = mails[0].get_body(("plain",)).get_content()
    for number in numbers:
        assert number in body
    assert "08:00" in body and "12:00" in body  # departure and arrival, local
    assert "seat 1A" in body and "seat 1B" in body
    barcodes = [
        client.get(f"{TICKETS}/{number}", headers=customer["headers"]).get_json()[
            "barcode"
        ]
        for number in numbers
    ]
    assert all(barcode in body.replace("\n", "") for barcode in barcodes)


def test_issue_tickets_announces_each_ticket_by_webhook(app, client, actors):
    listen(app, "ticket.issued")
    line = make_line(app)
    customer = actors.customer()
    booking_id = held_booking(app, line["trip_id"], customer["id"])

    numbers = confirm_and_issue(app, booking_id)

    with app.app_context():
        payloads = db.session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.topic == "ticket.issued")
            .order_by(OutboxMessage.id)
        ).all()
    assert [p["type"] for p in payloads] == ["ticket.issued"] * 2
    assert {p["data"]["type"] for p in payloads} == {"ticket"}
    # The payload links the ticket by id; the API resolves that link.
    shown = [
        client.get(p["data"]["url"], headers=customer["headers"]).get_json()["number"]
        for p in payloads
    ]
    assert shown == numbers


def test_ticket_answer_has_trip_ends_seat_and_barcode(app, client, actors):
    line = make_line(app)
    customer = actors.customer()
    booking_id = held_booking(app, line["trip_id"], customer["id"], seats=("2C",))
    (number,) = confirm_and_issue(app, booking_id)

    response = client.get(f"{TICKETS}/{number}", headers=customer["headers"])

    assert response.status_code == 200
    body = response.get_json()
    a, _, c = line["station_ids"]
    assert body["number"] == number
    assert body["booking_id"] == booking_id
    assert body["booking_reference"].startswith("ET-")
    assert body["passenger"]["category"] == "adult"
    assert body["passenger"]["birth_date"] == "1990-01-01"
    assert body["trip"]["id"] == line["trip_id"]
    assert body["trip"]["service_date"] == line["service_date"].isoformat()
    assert body["from"]["station_id"] == a and body["to"]["station_id"] == c
    assert body["from"]["departure_local"][11:16] == "08:00"
    assert body["to"]["arrival_local"][11:16] == "12:00"
    assert body["from"]["departure_at"].endswith("+00:00")
    assert (body["section_code"], body["seat_label"]) == ("economy", "2C")
    assert (body["status"], body["boarded_at"]) == ("valid", None)
    assert body["barcode"].startswith("ET1.")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("other_customer", 404),
        ("anonymous", 401),
        ("admin", 200),
        ("sales", 200),
        ("operation_head", 200),
        ("finance", 200),
        ("hr", 403),
        ("operator", 200),
        ("other_operator", 404),
    ],
)
def test_get_ticket_by_role(app, client, actors, who, status):
    line = make_line(app)
    owner = actors.customer()
    booking_id = held_booking(app, line["trip_id"], owner["id"], seats=("1A",))
    (number,) = confirm_and_issue(app, booking_id)
    headers = {
        "owner": owner["headers"],
        "other_customer": actors.customer()["headers"],
        "operator": operator_of(actors, line["company_id"])["headers"],
        "other_operator": operator_of(actors, make_line(app)["company_id"])["headers"],
    }.get(who) or actors.headers(who)

    response = client.get(f"{TICKETS}/{number}", headers=headers)

    if status == 200:
        assert response.status_code == 200
        assert response.get_json()["number"] == number
    else:
        assert_problem(response, status)


def test_unknown_ticket_is_404(app, client, actors):
    for reference in ("TK-2222222222", "99999", "99999999999"):
        response = client.get(f"{TICKETS}/{reference}", headers=actors.headers("admin"))
        assert_problem(response, 404)


def test_booking_tickets_in_passenger_order_once_confirmed(app, client, actors):
    line = make_line(app)
    owner = actors.customer()
    booking_id = held_booking(app, line["trip_id"], owner["id"], infant=True)
    url = f"/api/v1/bookings/{booking_id}/tickets"
    before = client.get(url, headers=owner["headers"])
    numbers = confirm_and_issue(app, booking_id)

    after = client.get(url, headers=owner["headers"])

    assert (before.status_code, before.get_json()) == (200, [])
    assert after.status_code == 200
    assert [t["number"] for t in after.get_json()] == numbers
    assert [t["seat_label"] for t in after.get_json()] == ["1A", "1B", None]
    assert {t["booking_id"] for t in after.get_json()} == {booking_id}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("other_customer", 404),
        ("anonymous", 401),
        ("sales", 200),
        ("finance", 200),
        ("hr", 403),
        ("operator", 200),
        ("other_operator", 404),
    ],
)
def test_booking_tickets_by_role(app, client, actors, who, status):
    line = make_line(app)
    booking_id = held_booking(app, line["trip_id"], actors.customer()["id"])
    numbers = confirm_and_issue(app, booking_id)
    headers = {
        "other_customer": actors.customer()["headers"],
        "operator": operator_of(actors, line["company_id"])["headers"],
        "other_operator": operator_of(actors, make_line(app)["company_id"])["headers"],
    }.get(who) or actors.headers(who)

    response = client.get(f"/api/v1/bookings/{booking_id}/tickets", headers=headers)

    if status == 200:
        assert response.status_code == 200
        assert [t["number"] for t in response.get_json()] == numbers
    else:
        assert_problem(response, status)


def test_releasing_a_booking_voids_only_its_valid_tickets(app, actors):
    line = make_line(app)
    booking_id = book_trip_in_db(
        app, line["trip_id"], actors.customer()["id"], seats=("1A", "1B")
    )
    first, _ = (t["number"] for t in stored_tickets(app, booking_id))
    with app.app_context():
        db.session.execute(
            db.update(Ticket).where(Ticket.number == first).values(status="boarded")
        )
        changed = seating.release([booking_id])
        db.session.commit()

    assert changed == 1
    assert [t["status"] for t in stored_tickets(app, booking_id)] == [
        "boarded",
        "cancelled",
    ]


def test_barcode_verifies_offline_with_the_published_key(app, client, actors):
    line = make_line(app)
    customer = actors.customer()
    booking_id = held_booking(app, line["trip_id"], customer["id"], seats=("1D",))
    (number,) = confirm_and_issue(app, booking_id)
    barcode = client.get(f"{TICKETS}/{number}", headers=customer["headers"]).get_json()[
        "barcode"
    ]

    published = client.get(f"{TRANSPORT}/ticket-key")  # anonymous

    assert published.status_code == 200
    key = published.get_json()
    assert key["algorithm"] == "Ed25519"
    raw = b64url(key["key"])
    assert key["key_id"] == hashlib.sha256(raw).hexdigest()[:16]
    version, payload, signature = barcode.split(".")
    Ed25519PublicKey.from_public_bytes(raw).verify(
        b64url(signature), f"{version}.{payload}".encode()
    )  # raises InvalidSignature otherwise
    assert json.loads(b64url(payload)) == {
        "n": number,
        "t": line["trip_id"],
        "f": 0,
        "o": 2,
        "s": "economy",
        "st": "1D",
        "p": stored_name(app, number),
    }
    assert set(key["fields"]) == {"n", "t", "f", "o", "s", "st", "p"}


def test_configured_signing_key_is_the_one_published(app, client):
    seed = bytes(range(32))
    expected = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    default = client.get(f"{TRANSPORT}/ticket-key").get_json()["key"]
    app.config["TICKET_SIGNING_KEY"] = (
        base64.urlsafe_b64encode(seed).decode().rstrip("=")
    )
    try:
        configured = client.get(f"{TRANSPORT}/ticket-key").get_json()["key"]
    finally:
        app.config["TICKET_SIGNING_KEY"] = ""

    assert b64url(configured) == expected
    assert configured != default


def stored_name(app, number) -> str:
    """The passenger name on ticket `number`."""
    with app.app_context():
        return db.session.scalar(
            select(Traveller.name)
            .join(Ticket, Ticket.traveller_id == Traveller.id)
            .where(Ticket.number == number)
        )
