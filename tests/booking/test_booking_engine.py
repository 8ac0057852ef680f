"""The booking engine on POST /bookings: category prices and limits, minimum party,
deposit and balance date, the invoice issued with the booking, the "seats held"
mail and Idempotency-Key (docs/design.md "Lifecycles":
booking, invoice; "Rules with numbers": seats; "API conventions")."""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from models import Booking, Invoice
from tests.booking.conftest import (
    BOOKINGS,
    book,
    booking_rows,
    category_taken,
    party,
    seats_taken,
)
from tests.factories import make_departure, now


def invoices(app) -> list[tuple]:
    """(number, booking_id, total, issue_date, due_date) of every invoice, oldest
    first."""
    with app.app_context():
        rows = db.session.execute(
            select(
                Invoice.number,
                Invoice.booking_id,
                Invoice.total_amount,
                Invoice.issue_date,
                Invoice.due_date,
            ).order_by(Invoice.id)
        )
        return [tuple(row) for row in rows]


# --- prices per category --------------------------------------------------------------


def test_create_prices_each_traveller_by_category(app, client, actors):
    dep = make_departure(
        app, price="900.00", prices={"child": "450.50", "business": "1500.00"}
    )

    resp = book(
        client,
        actors.headers("customer"),
        departure_id=dep,
        seats=3,
        travellers=party("adult", "child", "business"),
    )

    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["unit_price"] == "900.00"  # the adult seat price
    assert body["total_amount"] == "2850.50"
    assert [(t["category"], t["unit_price"]) for t in body["travellers"]] == [
        ("adult", "900.00"),
        ("child", "450.50"),
        ("business", "1500.00"),
    ]
    assert body["price_snapshot"] == {
        "adult": "900.00",
        "business": "1500.00",
        "child": "450.50",
    }
    assert category_taken(app, dep) == {"adult": 1, "child": 1, "business": 1}
    assert seats_taken(app, dep) == 3


def test_create_without_travellers_counts_adult_seats(app, client, actors):
    dep = make_departure(app, price="100.00", prices={"child": "50.00"})

    resp = book(client, actors.headers("customer"), departure_id=dep, seats=2)

    assert resp.status_code == 201
    assert resp.get_json()["total_amount"] == "200.00"
    assert category_taken(app, dep) == {"adult": 2, "child": 0}


def test_create_category_not_offered_422_per_traveller(app, client, actors):
    dep = make_departure(app, prices={"child": "50.00"})

    resp = book(
        client,
        actors.headers("customer"),
        departure_id=dep,
        seats=3,
        travellers=party("child", "business", "senior"),
    )

    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert set(errors) == {"travellers.1.category", "travellers.2.category"}
    assert "adult, child" in errors["travellers.1.category"][0]
    assert seats_taken(app, dep) == 0
    assert booking_rows(app, dep) == []


@pytest.mark.parametrize("category", ["Child", "kid-1", "a" * 21])
def test_create_malformed_category_422(app, client, actors, category):
    dep = make_departure(app)

    resp = book(
        client,
        actors.headers("customer"),
        departure_id=dep,
        seats=1,
        travellers=party(category),
    )

    assert resp.status_code == 422
    assert "travellers.0.category" in resp.get_json()["errors"]


# --- category limits ------------------------------------------------------------------


def test_create_category_limit_refuses_with_category_and_seats_left(
    app, client, actors
):
    dep = make_departure(
        app,
        capacity=10,
        prices={"business": "2000.00"},
        category_capacities={"business": 2},
    )
    headers = actors.headers("customer")
    assert (
        book(
            client,
            headers,
            departure_id=dep,
            seats=2,
            travellers=party("business", "adult"),
        ).status_code
        == 201
    )

    resp = book(
        client,
        headers,
        departure_id=dep,
        seats=3,
        travellers=party("adult", "business", "business"),
    )

    assert resp.status_code == 409
    body = resp.get_json()
    assert body["type"] == "/problems/seats-unavailable"
    assert (body["category"], body["seats_left"], body["seats_requested"]) == (
        "business",
        1,
        2,
    )
    assert seats_taken(app, dep) == 2  # the departure seats taken first were given back
    assert category_taken(app, dep) == {"adult": 1, "business": 1}
    assert booking_rows(app, dep) == [("held", 2)]

    resp = book(
        client,
        headers,
        departure_id=dep,
        seats=2,
        travellers=party("adult", "business"),
    )
    assert resp.status_code == 201
    assert category_taken(app, dep) == {"adult": 2, "business": 2}


def test_create_category_limit_frees_lapsed_category_seats(app, client, actors):
    dep = make_departure(
        app, capacity=10, prices={"child": "10.00"}, category_capacities={"child": 1}
    )
    cust = actors.customer()
    first = book(
        client, cust["headers"], departure_id=dep, seats=1, travellers=party("child")
    )
    assert first.status_code == 201
    with app.app_context():  # the hold runs out; nothing sweeps
        db.session.get(Booking, first.get_json()["id"]).hold_expires_at = (
            now() - timedelta(seconds=1)
        )
        db.session.commit()
    listed = client.get(f"/api/v1/departures/{dep}").get_json()
    assert listed["category_seats_left"] == {"child": 1}

    resp = book(
        client, cust["headers"], departure_id=dep, seats=1, travellers=party("child")
    )

    assert resp.status_code == 201
    assert category_taken(app, dep) == {"adult": 0, "child": 1}
    assert booking_rows(app, dep) == [("expired", 1), ("held", 1)]


def test_create_departure_full_before_category_checked(app, client, actors):
    dep = make_departure(
        app,
        capacity=2,
        seats_taken=1,
        prices={"child": "10.00"},
        category_capacities={"child": 2},
    )

    resp = book(
        client,
        actors.headers("customer"),
        departure_id=dep,
        seats=2,
        travellers=party("child", "child"),
    )

    assert resp.status_code == 409
    assert "category" not in resp.get_json()
    assert resp.get_json()["seats_left"] == 1
    assert category_taken(app, dep) == {"adult": 1, "child": 0}


# --- party size, cutoff ---------------------------------------------------------------


def test_create_below_min_party_size_422(app, client, actors):
    dep = make_departure(app, min_party_size=3)
    headers = actors.headers("customer")

    resp = book(client, headers, departure_id=dep, seats=2)

    assert resp.status_code == 422
    assert "at least 3" in resp.get_json()["errors"]["seats"][0]
    assert seats_taken(app, dep) == 0
    assert book(client, headers, departure_id=dep, seats=3).status_code == 201
    assert seats_taken(app, dep) == 3


def test_create_after_cutoff_set_through_api_409(app, client, actors):
    dep = make_departure(app)
    cutoff = (now() + timedelta(seconds=1)).isoformat()
    patched = client.patch(
        f"/api/v1/departures/{dep}",
        json={"booking_cutoff": cutoff},
        headers=actors.headers("operation"),
    )
    assert patched.status_code == 200
    with app.app_context():  # time passes: move the cutoff into the past
        from models import Departure

        db.session.get(Departure, dep).booking_cutoff = now() - timedelta(seconds=1)
        db.session.commit()

    resp = book(client, actors.headers("customer"), departure_id=dep, seats=1)

    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/booking-closed"
    assert seats_taken(app, dep) == 0


# --- deposit, balance date, money fields ----------------------------------------------


def test_create_deposit_and_balance_due_date(app, client, actors):
    dep = make_departure(app, price="333.35", deposit_percent=30, start_in_days=90)

    resp = book(client, actors.headers("customer"), departure_id=dep, seats=1)

    body = resp.get_json()
    assert body["total_amount"] == "333.35"
    assert body["deposit_amount"] == "100.01"  # 100.005 rounded half up
    start = now().date() + timedelta(days=90)
    assert body["balance_due_date"] == (start - timedelta(days=30)).isoformat()
    assert (body["amount_paid"], body["amount_refunded"], body["penalty_amount"]) == (
        "0.00",
        "0.00",
        None,
    )
    assert [tier["penalty_percent"] for tier in body["cancellation_policy"]] == [
        10,
        25,
        50,
        75,
        100,
    ]
    with app.app_context():
        booking = db.session.get(Booking, body["id"])
        assert booking.deposit_amount == Decimal("100.01")
        assert booking.balance_due_date == start - timedelta(days=30)


def test_create_late_booking_balance_due_today(app, client, actors):
    dep = make_departure(app, start_in_days=10)

    body = book(
        client, actors.headers("customer"), departure_id=dep, seats=1
    ).get_json()

    assert body["balance_due_date"] == now().date().isoformat()
    assert body["deposit_amount"] == body["total_amount"]  # deposit_percent 100


# --- invoice --------------------------------------------------------------------------


def test_create_issues_invoice_with_sequential_numbers(app, client, actors):
    dep = make_departure(app, price="500.00", start_in_days=60)
    headers = actors.headers("customer")
    year = now().year

    first = book(client, headers, departure_id=dep, seats=1).get_json()
    second = book(client, headers, departure_id=dep, seats=2).get_json()

    assert (first["invoice_number"], second["invoice_number"]) == (
        f"INV-{year}-000001",
        f"INV-{year}-000002",
    )
    due = now().date() + timedelta(days=30)
    assert invoices(app) == [
        (f"INV-{year}-000001", first["id"], Decimal("500.00"), now().date(), due),
        (f"INV-{year}-000002", second["id"], Decimal("1000.00"), now().date(), due),
    ]
    with app.app_context():
        ids = db.session.scalars(select(Invoice.id).order_by(Invoice.id)).all()
    assert [first["invoice_id"], second["invoice_id"]] == ids
    shown = client.get(f"{BOOKINGS}/{first['id']}", headers=headers).get_json()
    assert shown["invoice_number"] == f"INV-{year}-000001"


def test_create_refused_issues_no_invoice_number(app, client, actors):
    dep = make_departure(app, capacity=1)
    headers = actors.headers("customer")
    assert book(client, headers, departure_id=dep, seats=2).status_code == 409

    body = book(client, headers, departure_id=dep, seats=1).get_json()

    assert body["invoice_number"] == f"INV-{now().year}-000001"  # no gap
    assert len(invoices(app)) == 1


# --- mail -----------------------------------------------------------------------------


def test_create_mails_customer_the_hold_expiry(app, client, actors, mailbox):
    dep = make_departure(app, price="250.00", deposit_percent=20, title="Fjord Cruise")
    cust = actors.customer()

    body = book(client, cust["headers"], departure_id=dep, seats=2).get_json()

    messages = mailbox.to(cust["email"])
    assert len(messages) == 1
    until = datetime.fromisoformat(body["hold_expires_at"]).strftime(
        "%Y-%m-%d %H:%M UTC"
    )
    assert body["reference"] in messages[0]["Subject"]
    assert until in messages[0]["Subject"]
    text = messages[0].get_body(("plain",)).get_content()
    assert until in text and "Fjord Cruise" in text
    assert "500.00 EUR" in text and "100.00 EUR" in text  # total and deposit


def test_create_refused_sends_no_mail(app, client, actors, mailbox):
    dep = make_departure(app, capacity=1)
    cust = actors.customer()

    assert book(client, cust["headers"], departure_id=dep, seats=2).status_code == 409

    assert mailbox.to(cust["email"]) == []


# --- Idempotency-Key ------------------------------------------------------------------


def count_bookings(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Booking))


def test_create_same_idempotency_key_and_body_replays(app, client, actors, mailbox):
    dep = make_departure(app, capacity=5)
    cust = actors.customer()
    headers = {**cust["headers"], "Idempotency-Key": "book-123"}
    payload = {"departure_id": dep, "seats": 2}

    first = client.post(BOOKINGS, json=payload, headers=headers)
    again = client.post(
        BOOKINGS, json={"seats": 2, "departure_id": dep}, headers=headers
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count_bookings(app) == 1
    assert seats_taken(app, dep) == 2
    assert len(invoices(app)) == 1
    assert len(mailbox.to(cust["email"])) == 1


def test_create_same_idempotency_key_other_body_422(app, client, actors):
    dep = make_departure(app, capacity=5)
    headers = {**actors.headers("customer"), "Idempotency-Key": "book-xyz"}
    assert (
        client.post(
            BOOKINGS, json={"departure_id": dep, "seats": 1}, headers=headers
        ).status_code
        == 201
    )

    resp = client.post(
        BOOKINGS, json={"departure_id": dep, "seats": 2}, headers=headers
    )

    assert resp.status_code == 422
    assert resp.get_json()["type"] == "/problems/idempotency-key-reused"
    assert count_bookings(app) == 1
    assert seats_taken(app, dep) == 1


def test_create_idempotency_key_scoped_per_account(app, client, actors):
    dep = make_departure(app, capacity=5)
    payload = {"departure_id": dep, "seats": 1}
    for _ in range(2):
        headers = {**actors.customer()["headers"], "Idempotency-Key": "shared"}
        assert client.post(BOOKINGS, json=payload, headers=headers).status_code == 201
    assert count_bookings(app) == 2


def test_create_refused_with_key_is_not_stored(app, client, actors):
    dep = make_departure(app, capacity=1, seats_taken=1)
    headers = {**actors.headers("customer"), "Idempotency-Key": "retry-me"}
    payload = {"departure_id": dep, "seats": 1}
    assert client.post(BOOKINGS, json=payload, headers=headers).status_code == 409
    with app.app_context():
        from models import Departure

        db.session.get(Departure, dep).capacity = 2
        db.session.commit()

    resp = client.post(BOOKINGS, json=payload, headers=headers)

    assert resp.status_code == 201  # a 409 is not replayed: the client may retry
    assert "Idempotent-Replayed" not in resp.headers


def test_booking_reference_shape_kept(app, client, actors):
    dep = make_departure(app)
    body = book(
        client, actors.headers("customer"), departure_id=dep, seats=1
    ).get_json()
    assert re.fullmatch(r"ET-[2-9A-HJ-NP-Z]{6}", body["reference"])
