"""Card payments under real concurrency on PostgreSQL with a multi-worker gunicorn
and a real localstripe: the same provider event delivered 5 times at once records one
payment; 5 simultaneous cancellations of a card-paid booking send one refund to the
provider (never more than was kept); a refund made at the provider reported six times
at once by its two events is recorded once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from core.extensions import db
from models import Booking, Payment, ProviderEvent, Refund
from tests.live import gunicorn_server
from tests.payments.conftest import count, held_booking_with_intent
from tests.stripe_support import deliver

pytestmark = pytest.mark.postgres

D = Decimal


def fire_together(calls) -> list:
    """Run every (method, url, kwargs) from its own thread, released by one barrier;
    returns `(status, json)` in order."""
    barrier = threading.Barrier(len(calls))

    def send(call):
        method, url, kwargs = call
        with requests.Session() as session:
            barrier.wait(timeout=30)
            resp = session.request(method, url, timeout=60, **kwargs)
            return resp.status_code, resp.json()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


def test_same_event_five_times_at_once_records_one_payment(
    app, client, actors, provider
):
    _, booking_id, body = held_booking_with_intent(app, client, actors)
    delivery = provider.pay(body["provider_payment_id"])
    url_path = "/api/v1/webhooks/stripe"
    with gunicorn_server(workers=3, threads=2, env=provider.config()) as base_url:
        calls = [
            (
                "POST",
                base_url + url_path,
                {"data": delivery.body, "headers": delivery.headers()},
            )
        ] * 5
        results = fire_together(calls)
    assert [status for status, _ in results] == [200] * 5, results
    outcomes = sorted(answer["result"] for _, answer in results)
    assert outcomes.count("applied") == 1, outcomes
    assert set(outcomes) <= {"applied", "duplicate"}
    assert count(app, select(func.count()).select_from(Payment)) == 1
    assert count(app, select(func.count()).select_from(ProviderEvent)) == 1
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert booking.status == "confirmed" and booking.amount_paid == D("1000.00")
    assert deliver(client, delivery).get_json()["result"] == "duplicate"


def test_concurrent_cancellations_refund_the_card_once(app, client, actors, provider):
    me, booking_id, body = held_booking_with_intent(app, client, actors)
    assert deliver(client, provider.pay(body["provider_payment_id"])).status_code == 200
    with gunicorn_server(workers=3, threads=2, env=provider.config()) as base_url:
        calls = [
            (
                "POST",
                f"{base_url}/api/v1/bookings/{booking_id}/cancel",
                {"json": {"refund_to": "original"}, "headers": me["headers"]},
            )
        ] * 5
        results = fire_together(calls)
    codes = sorted(status for status, _ in results)
    assert codes == [200, 409, 409, 409, 409], results
    on_provider = provider.refunds(body["provider_payment_id"])
    with app.app_context():
        refunds = db.session.scalars(
            select(Refund).where(Refund.booking_id == booking_id)
        ).all()
        booking = db.session.get(Booking, booking_id)
        assert [r.status for r in refunds] == ["completed"]
        assert booking.amount_refunded == refunds[0].amount <= booking.amount_paid
    assert [r.id for r in on_provider] == [refunds[0].provider_refund_id]


def test_provider_refund_events_at_once_record_one_refund(
    app, client, actors, provider
):
    _, booking_id, body = held_booking_with_intent(app, client, actors)
    intent_id = body["provider_payment_id"]
    assert deliver(client, provider.pay(intent_id)).get_json()["result"] == "applied"
    refund = provider.client.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 40000}
    )
    created = provider.receiver.wait_for("refund.created", refund.id)
    charged = provider.receiver.wait_for(
        "charge.refunded", created.event["data"]["object"]["charge"]
    )
    url_path = "/api/v1/webhooks/stripe"
    with gunicorn_server(workers=3, threads=2, env=provider.config()) as base_url:
        calls = [
            (
                "POST",
                base_url + url_path,
                {"data": delivery.body, "headers": delivery.headers()},
            )
            for delivery in (created, charged) * 3
        ]
        results = fire_together(calls)
    assert [status for status, _ in results] == [200] * 6, results
    outcomes = sorted(answer["result"] for _, answer in results)
    assert outcomes.count("refunded") == 1, outcomes
    assert set(outcomes) <= {"refunded", "duplicate", "unchanged"}, outcomes
    assert (
        count(
            app,
            select(func.count())
            .select_from(Refund)
            .where(Refund.provider_refund_id == refund.id),
        )
        == 1
    )
    with app.app_context():
        assert db.session.get(Booking, booking_id).amount_paid == D("600.00")
