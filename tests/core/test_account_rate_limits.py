"""Per-account limits on the writes one signed-in account could use to hog staff or
the payment provider (docs/security.md "Limits"): enquiries raised
(RATELIMIT_ENQUIRIES_PER_ACCOUNT) and card payment intents started
(RATELIMIT_PAYMENT_INTENTS_PER_ACCOUNT, and MAX_OPEN_INTENTS_PER_BOOKING per
booking). Refusals are 429 problems with Retry-After; refused and invalid requests
cost nothing; another account keeps its own budget."""

import pytest
from sqlalchemy import func, select

from app import create_app
from core.extensions import db
from models import Enquiry, PaymentAttempt
from tests.factories import API, assert_problem, make_invoiced_booking

GENEROUS = "1000 per minute"


@pytest.fixture
def limited_app(app, provider):
    """Build a second app on the session's database, mail server and localstripe
    with its own (memory) counters and the given config overrides."""
    built = []

    def make(**overrides):
        application = create_app(
            "testing",
            {
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "MAIL_SERVER": app.config["MAIL_SERVER"],
                "MAIL_PORT": app.config["MAIL_PORT"],
                **provider.config(),
                **overrides,
            },
        )
        built.append(application)
        return application

    yield make
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def refused(response, status: int, code: str) -> dict:
    """Assert a problem of `status` whose type is /problems/<code>."""
    body = assert_problem(response, status)
    assert body["type"] == f"/problems/{code}", body
    return body


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def raise_enquiry(client, headers, n, customer_id=None):
    body = {"subject": f"Question {n}", "message": "Is it suitable for children?"}
    if customer_id is not None:
        body["customer_id"] = customer_id
    return client.post(f"{API}/enquiries", json=body, headers=headers)


def test_enquiries_limited_per_account(app, actors, limited_app):
    limited = limited_app(
        RATELIMIT_ENQUIRIES_PER_ACCOUNT="3 per hour",
        MAX_OPEN_ENQUIRIES_PER_CUSTOMER=100,
    )
    client = limited.test_client()
    me, other = actors.customer(), actors.customer()
    invalid = client.post(f"{API}/enquiries", json={}, headers=me["headers"])
    assert invalid.status_code == 422  # refused requests cost nothing
    for n in range(3):
        assert raise_enquiry(client, me["headers"], n).status_code == 201
    answer = raise_enquiry(client, me["headers"], 3)
    refused(answer, 429, "rate-limited")
    assert 1 <= int(answer.headers["Retry-After"]) <= 3600
    assert rows(app, Enquiry) == 3
    assert raise_enquiry(client, other["headers"], 0).status_code == 201
    sales = actors.employee("sales")
    for n in range(3):
        made = raise_enquiry(client, sales["headers"], n, customer_id=other["id"])
        assert made.status_code == 201
    refused(
        raise_enquiry(client, sales["headers"], 9, customer_id=other["id"]),
        429,
        "rate-limited",
    )
    anonymous = client.post(f"{API}/enquiries", json={"subject": "x"})
    assert anonymous.status_code == 401


def start(client, headers, booking_id, amount="1000.00"):
    return client.post(
        f"{API}/bookings/{booking_id}/payment-intents",
        json={"amount": amount},
        headers=headers,
    )


def test_payment_intents_limited_per_account(app, actors, limited_app):
    limited = limited_app(
        RATELIMIT_PAYMENT_INTENTS_PER_ACCOUNT="4 per hour",
        MAX_OPEN_INTENTS_PER_BOOKING=100,
    )
    client = limited.test_client()
    me, other = actors.customer(), actors.customer()
    booking_id = make_invoiced_booking(app, customer_id=me["id"], total="1000.00")
    other_booking = make_invoiced_booking(app, customer_id=other["id"], total="1000.00")
    assert start(client, me["headers"], booking_id, "0.00").status_code == 422
    for _ in range(4):
        assert start(client, me["headers"], booking_id).status_code == 201
    answer = start(client, me["headers"], booking_id)
    refused(answer, 429, "rate-limited")
    assert int(answer.headers["Retry-After"]) >= 1
    assert rows(app, PaymentAttempt) == 4
    assert start(client, other["headers"], other_booking).status_code == 201


def test_open_intents_limited_per_booking(app, client, actors):
    assert app.config["MAX_OPEN_INTENTS_PER_BOOKING"] == 3
    me = actors.customer()
    booking_id = make_invoiced_booking(app, customer_id=me["id"], total="1000.00")
    second = make_invoiced_booking(app, customer_id=me["id"], total="1000.00")
    for _ in range(3):
        assert start(client, me["headers"], booking_id).status_code == 201
    answer = start(client, me["headers"], booking_id)
    assert refused(answer, 429, "too-many-open-intents")["limit"] == 3
    assert 3500 <= int(answer.headers["Retry-After"]) <= 3600
    assert rows(app, PaymentAttempt) == 3
    sales = actors.headers("sales")
    refused(start(client, sales, booking_id), 429, "too-many-open-intents")
    assert start(client, me["headers"], second).status_code == 201
