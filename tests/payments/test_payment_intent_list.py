"""GET /payment-intents: card payment attempts as a list, newest first, with the
status, booking, customer and creation-day filters; finance and admin see every
attempt, a customer their own (docs/payments.md "Listing card payments")."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.extensions import db
from models import PaymentAttempt
from models.base import utcnow
from tests.factories import make_invoiced_booking

URL = "/api/v1/payment-intents"

_n = {"n": 0}


def add_attempt(app, booking_id, customer_id, status, *, created_at=None, amount="50"):
    """One attempt written straight in the database; returns its id."""
    _n["n"] += 1
    with app.app_context():
        attempt = PaymentAttempt(
            booking_id=booking_id,
            customer_id=customer_id,
            amount=Decimal(amount),
            currency="EUR",
            provider_payment_id=f"pi_list_{_n['n']}_{status}",
            client_secret=f"pi_list_{_n['n']}_secret",
            status=status,
            last_error="Your card was declined." if status == "failed" else None,
            created_at=created_at or utcnow(),
        )
        db.session.add(attempt)
        db.session.commit()
        return attempt.id


def world(app, actors) -> dict:
    """Two customers with one booking each and attempts in every state, created
    one day apart (the newest first): alice's failed (today), succeeded,
    refunded, refund_pending, pending; bob's failed (6 days ago)."""
    alice, bob = actors.customer(), actors.customer()
    mine = make_invoiced_booking(app, customer_id=alice["id"], total="200.00")
    theirs = make_invoiced_booking(app, customer_id=bob["id"], total="200.00")
    today = utcnow()
    ids = {}
    for age, status in enumerate(
        ("failed", "succeeded", "refunded", "refund_pending", "pending")
    ):
        ids[status] = add_attempt(
            app,
            mine,
            alice["id"],
            status,
            created_at=today - timedelta(days=age),
        )
    ids["bob_failed"] = add_attempt(
        app, theirs, bob["id"], "failed", created_at=today - timedelta(days=6)
    )
    return {"alice": alice, "bob": bob, "mine": mine, "theirs": theirs, "ids": ids}


def listed(client, headers, **query) -> list[int]:
    response = client.get(URL, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_finance_lists_failed_attempts_newest_first(app, client, actors):
    w = world(app, actors)
    ids = w["ids"]

    response = client.get(
        URL, query_string={"status": "failed"}, headers=actors.headers("finance")
    )

    assert response.status_code == 200
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == [ids["failed"], ids["bob_failed"]]
    assert body["meta"]["total"] == 2
    first = body["items"][0]
    assert (first["status"], first["amount"], first["currency"]) == (
        "failed",
        "50.00",
        "EUR",
    )
    assert first["booking_id"] == w["mine"]
    assert first["last_error"] == "Your card was declined."
    assert "client_secret" not in first and "publishable_key" not in first


def test_canceled_lists_money_given_back(app, client, actors):
    ids = world(app, actors)["ids"]

    found = listed(client, actors.headers("admin"), status="canceled")

    assert found == [ids["refunded"], ids["refund_pending"]]


def test_every_attempt_without_a_status(app, client, actors):
    ids = world(app, actors)["ids"]

    found = listed(client, actors.headers("admin"))

    assert found == [
        ids["failed"],
        ids["succeeded"],
        ids["refunded"],
        ids["refund_pending"],
        ids["pending"],
        ids["bob_failed"],
    ]


def test_filters_by_booking_customer_and_creation_days(app, client, actors):
    w = world(app, actors)
    ids = w["ids"]
    finance = actors.headers("finance")
    today = utcnow().date()

    by_booking = listed(client, finance, booking_id=w["theirs"])
    by_customer = listed(client, finance, customer_id=w["alice"]["id"], status="failed")
    days = listed(
        client,
        finance,
        date_from=(today - timedelta(days=3)).isoformat(),
        date_to=(today - timedelta(days=1)).isoformat(),
    )
    since = listed(client, finance, date_from=today.isoformat())
    until = listed(client, finance, date_to=(today - timedelta(days=5)).isoformat())

    assert by_booking == [ids["bob_failed"]]
    assert by_customer == [ids["failed"]]
    assert days == [ids["succeeded"], ids["refunded"], ids["refund_pending"]]
    assert since == [ids["failed"]]
    assert until == [ids["bob_failed"]]


def test_day_bounds_are_utc_days(app, client, actors):
    me = actors.customer()
    booking = make_invoiced_booking(app, customer_id=me["id"])
    last = add_attempt(
        app,
        booking,
        me["id"],
        "failed",
        created_at=datetime(2030, 5, 1, 23, 59, tzinfo=UTC),
    )
    add_attempt(
        app,
        booking,
        me["id"],
        "failed",
        created_at=datetime(2030, 5, 2, 0, 0, tzinfo=UTC),
    )
    first = add_attempt(
        app,
        booking,
        me["id"],
        "failed",
        created_at=datetime(2030, 5, 1, 0, 0, tzinfo=UTC),
    )

    found = listed(
        client, actors.headers("finance"), date_from="2030-05-01", date_to="2030-05-01"
    )

    assert found == [last, first]


def test_a_customer_lists_only_their_own(app, client, actors):
    w = world(app, actors)
    ids = w["ids"]
    alice = w["alice"]["headers"]

    mine = listed(client, alice, status="failed")
    others = listed(client, alice, customer_id=w["bob"]["id"])
    their_booking = listed(client, alice, booking_id=w["theirs"])

    assert mine == [ids["failed"]]
    assert others == their_booking == []


def test_pages_and_cursor_walk(app, client, actors):
    ids = world(app, actors)["ids"]
    admin = actors.headers("admin")

    first = client.get(URL, query_string={"per_page": 4}, headers=admin).get_json()
    rest = client.get(
        URL,
        query_string={"per_page": 4, "cursor": first["meta"]["next_cursor"]},
        headers=admin,
    ).get_json()
    second = client.get(
        URL, query_string={"per_page": 4, "page": 2}, headers=admin
    ).get_json()

    expected = [
        ids["failed"],
        ids["succeeded"],
        ids["refunded"],
        ids["refund_pending"],
        ids["pending"],
        ids["bob_failed"],
    ]
    assert [item["id"] for item in first["items"]] == expected[:4]
    assert first["meta"]["has_more"] is True
    assert [item["id"] for item in rest["items"]] == expected[4:]
    assert rest["meta"]["next_cursor"] is None
    assert [item["id"] for item in second["items"]] == expected[4:]


def test_sort_by_amount(app, client, actors):
    me = actors.customer()
    booking = make_invoiced_booking(app, customer_id=me["id"])
    small = add_attempt(app, booking, me["id"], "failed", amount="10")
    big = add_attempt(app, booking, me["id"], "failed", amount="90")

    found = listed(client, actors.headers("finance"), sort="-amount")

    assert found == [big, small]


@pytest.mark.parametrize(
    "query,field",
    [
        ({"status": "cancelled"}, "status"),
        ({"status": "declined"}, "status"),
        ({"booking_id": 0}, "booking_id"),
        ({"customer_id": "x"}, "customer_id"),
        ({"date_from": "1999-12-31"}, "date_from"),
        ({"date_from": "2030-02-01", "date_to": "2030-01-31"}, "date_to"),
        ({"sort": "status"}, "sort"),
    ],
)
def test_bad_filters_are_422(app, client, actors, query, field):
    response = client.get(URL, query_string=query, headers=actors.headers("finance"))

    assert response.status_code == 422
    assert field in str(response.get_json()["errors"])


@pytest.mark.parametrize(
    "role,expected",
    [
        ("admin", 200),
        ("finance", 200),
        ("customer", 200),
        ("sales", 403),
        ("operation", 403),
        ("operation_head", 403),
        ("hr", 403),
        ("operator", 403),
        ("anonymous", 401),
    ],
)
def test_roles(app, client, actors, role, expected):
    world(app, actors)
    if role == "operator":
        from tests.transport.conftest import make_company

        headers = actors.employee("operator", company_id=make_company(app))["headers"]
    else:
        headers = actors.headers(role)

    response = client.get(URL, query_string={"status": "failed"}, headers=headers)

    assert response.status_code == expected
    if role == "customer":
        assert response.get_json()["items"] == []
