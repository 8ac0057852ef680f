"""Money under real concurrency on PostgreSQL with a 2-worker gunicorn
(docs/design.md "Lifecycles": wallet): 50 simultaneous wallet payments from one
wallet never overdraw it, and one Idempotency-Key sent 20 times at once creates
exactly one payment."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from models import Booking, Payment, WalletEntry
from tests.factories import make_invoiced_booking, make_plain_departure
from tests.live import gunicorn_server, post_together
from tests.payments.conftest import count, fund_wallet, wallet_state

pytestmark = pytest.mark.postgres

D = Decimal


def test_pay_concurrent_wallet_payments_never_overdraw(app, actors):
    me = actors.customer()
    fund_wallet(app, me["id"], "300.00")
    dep = make_plain_departure(app, capacity=50)
    bookings = [
        make_invoiced_booking(
            app, customer_id=me["id"], departure_id=dep, total="10.00"
        )
        for _ in range(50)
    ]
    calls = [
        (
            f"/bookings/{b}/payments",
            {"amount": "10.00", "method": "wallet"},
            me["headers"],
        )
        for b in bookings
    ]

    with gunicorn_server(workers=2, threads=4) as base_url:
        results = post_together(base_url, calls)

    codes = [status for status, _, _ in results]
    assert not [c for c in codes if c >= 500], results
    assert codes.count(201) == 30
    assert codes.count(409) == 20
    assert all(
        body["type"] == "/problems/insufficient-funds"
        for status, body, _ in results
        if status == 409
    )
    assert wallet_state(app, me["id"]) == (D("0.00"), D("0.00"), 31)
    assert count(app, select(func.min(WalletEntry.balance_after))) >= 0
    assert count(app, select(func.count()).select_from(Payment)) == 30
    assert (
        count(
            app,
            select(func.count())
            .select_from(Booking)
            .where(Booking.status == "confirmed"),
        )
        == 30
    )


def test_pay_same_idempotency_key_at_once_creates_one_payment(app, actors):
    me = actors.customer()
    booking_id = make_invoiced_booking(
        app, customer_id=me["id"], total="100.00", deposit="10.00"
    )
    finance = actors.employee("finance")
    headers = {**finance["headers"], "Idempotency-Key": "burst-key-1"}
    body = {"amount": "10.00", "method": "card", "reference": "terminal-burst"}
    calls = [(f"/bookings/{booking_id}/payments", body, headers)] * 20

    with gunicorn_server(workers=2, threads=4) as base_url:
        results = post_together(base_url, calls)

    codes = [status for status, _, _ in results]
    assert set(codes) <= {201, 409}, results
    created = [body for status, body, _ in results if status == 201]
    assert created and len({body["id"] for body in created}) == 1
    assert all(
        body["type"] == "/problems/idempotency-in-flight"
        for status, body, _ in results
        if status == 409
    )
    replays = [
        h for status, _, h in results if status == 201 and h.get("Idempotent-Replayed")
    ]
    assert len(replays) == len(created) - 1
    assert count(app, select(func.count()).select_from(Payment)) == 1
    with app.app_context():
        assert db.session.get(Booking, booking_id).amount_paid == D("10.00")
