"""Money changed at the payment provider reaches the booking, against a real
localstripe (scripts/localstripe_events.py adds Stripe's refund and dispute
behaviour): a refund made at the provider lowers `amount_paid` once, however often
its events arrive or reconciliation finds it; the service's own refunds are not
counted twice; disputes flag the booking and payment, and a lost one is recorded
like a refund; signed but malformed events are refused with nothing recorded
(docs/payments.md "Money changed at the provider")."""

import json
from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from core.extensions import db
from models import AuditEntry, Booking, ProviderEvent, Refund
from services.payments import billing
from tests.factories import API
from tests.payments.conftest import (
    booking_state,
    counts,
    held_booking_with_intent,
    paid_by_card,
    sign,
)
from tests.stripe_support import SECRET_KEY, deliver

D = Decimal


def signed_post(client, body):
    """POST a raw body to the webhook with a valid signature."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        f"{API}/webhooks/stripe",
        data=raw,
        headers={"Stripe-Signature": sign(raw), "Content-Type": "application/json"},
    )


def money_state(app, client, booking_id, headers) -> dict:
    """What a client and finance see of a booking's money."""
    booking = client.get(f"{API}/bookings/{booking_id}", headers=headers).get_json()
    with app.app_context():
        stored = db.session.get(Booking, booking_id)
        invoice_status = billing.invoice_status(stored.invoice)
        refunds = [
            (r.amount, r.origin, r.status, r.method)
            for r in db.session.scalars(
                select(Refund).where(Refund.booking_id == booking_id)
            )
        ]
    return {
        "amount_paid": booking["amount_paid"],
        "amount_due": booking["amount_due"],
        "disputed": booking["disputed"],
        "invoice": invoice_status,
        "refunds": refunds,
    }


def refund_at_provider(provider, intent_id, amount_minor):
    """A refund made at the provider (as in its dashboard) and its two events."""
    refund = provider.client.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": amount_minor}
    )
    created = provider.receiver.wait_for("refund.created", refund.id)
    charge = provider.receiver.wait_for(
        "charge.refunded", created.event["data"]["object"]["charge"]
    )
    return refund, created, charge


# --- signed but malformed ---------------------------------------------------------


@pytest.mark.parametrize("body", [b"[]", b"1", b"null", b'"event"', b"{}"])
def test_signed_body_that_is_no_event_400(app, client, body):
    resp = signed_post(client, body)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["type"] == "/problems/malformed-event"
    assert counts(app)["events"] == 0


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        (
            "payment_intent.succeeded",
            {"id": "pi_x", "amount": "abc", "currency": "eur"},
        ),
        ("payment_intent.succeeded", {"id": "pi_x", "amount": None, "currency": "eur"}),
        ("payment_intent.succeeded", {"id": "pi_x", "amount": 1.5, "currency": "eur"}),
        ("payment_intent.succeeded", {"id": "pi_x", "amount": 100, "currency": 7}),
        ("payment_intent.payment_failed", {"id": None, "amount": 1, "currency": "eur"}),
        ("refund.created", {"id": "re_x", "amount": "abc", "currency": "eur"}),
        ("refund.created", {"id": "re_x", "amount": True, "currency": "eur"}),
        ("charge.refunded", {"id": "ch_x", "refunds": {"data": "x"}}),
        ("charge.dispute.created", {"id": "dp_x", "amount": None, "currency": "eur"}),
        ("charge.dispute.closed", {"id": "dp_x", "amount": 5, "currency": "eur"}),
    ],
)
def test_signed_event_with_bad_fields_400(app, client, event_type, obj):
    event = {"id": "evt_bad_fields", "type": event_type, "data": {"object": obj}}
    resp = signed_post(client, event)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["type"] == "/problems/malformed-event"
    assert counts(app) == {
        "payments": 0,
        "events": 0,
        "attempts": [],
        "refunds": 0,
    }


def test_data_object_not_an_object_400(app, client):
    event = {"id": "evt_no_obj", "type": "refund.created", "data": {"object": [1]}}
    resp = signed_post(client, event)
    assert resp.status_code == 400
    assert counts(app)["events"] == 0


# --- refunds made at the provider -------------------------------------------------


def test_provider_refund_applied_once(app, client, actors, provider, mailbox):
    finance = actors.employee("finance")
    me, booking_id, body = paid_by_card(app, client, actors, provider)
    intent_id = body["provider_payment_id"]
    before = money_state(app, client, booking_id, me["headers"])
    assert before["amount_paid"] == "1000.00" and before["invoice"] == "paid"
    refund, created, charge = refund_at_provider(provider, intent_id, 30000)

    first = deliver(client, created)
    assert first.status_code == 200
    assert first.get_json()["result"] == "refunded"
    after = money_state(app, client, booking_id, me["headers"])
    assert after["amount_paid"] == "700.00" and after["amount_due"] == "300.00"
    assert after["invoice"] in ("pending", "overdue")
    assert after["refunds"] == [(D("300.00"), "provider", "completed", "card")]

    # The same refund again, by both of Stripe's events, twice each.
    for delivery in (created, charge, created, charge):
        again = deliver(client, delivery)
        assert again.status_code == 200
        assert again.get_json()["result"] in ("duplicate", "unchanged")
    assert money_state(app, client, booking_id, me["headers"]) == after

    listed = client.get(
        f"{API}/refunds?booking_id={booking_id}", headers=me["headers"]
    ).get_json()["items"]
    assert [(r["origin"], r["provider_refund_id"]) for r in listed] == [
        ("provider", refund.id)
    ]
    with app.app_context():
        actions = list(
            db.session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.action == "refund.provider_recorded"
                )
            )
        )
        assert actions == ["refund.provider_recorded"]
    assert any("payment provider" in m["Subject"] for m in mailbox.to(finance["email"]))


def test_charge_refunded_alone_records_the_refund(app, client, actors, provider):
    me, booking_id, body = paid_by_card(app, client, actors, provider)
    _refund, _created, charge = refund_at_provider(
        provider, body["provider_payment_id"], 100000
    )
    resp = deliver(client, charge)
    assert resp.get_json()["result"] == "refunded"
    state = money_state(app, client, booking_id, me["headers"])
    assert state["amount_paid"] == "0.00" and state["amount_due"] == "1000.00"
    assert deliver(client, charge).get_json()["result"] == "duplicate"
    assert money_state(app, client, booking_id, me["headers"]) == state


def test_lost_refund_event_found_by_reconcile_once(app, client, actors, provider):
    me, booking_id, body = paid_by_card(app, client, actors, provider)
    _refund, created, charge = refund_at_provider(
        provider, body["provider_payment_id"], 25000
    )  # the events are delivered to nobody: lost
    runner = app.test_cli_runner()
    first = runner.invoke(args=["payments", "reconcile"])
    assert first.exit_code == 0, first.output
    assert "refunds_recorded=1" in first.output
    state = money_state(app, client, booking_id, me["headers"])
    assert state["amount_paid"] == "750.00"
    second = runner.invoke(args=["payments", "reconcile"])
    assert "refunds_recorded=0" in second.output
    # The events arrive late after all: nothing more changes.
    assert deliver(client, created).get_json()["result"] == "unchanged"
    assert deliver(client, charge).get_json()["result"] == "unchanged"
    assert money_state(app, client, booking_id, me["headers"]) == state


def test_scheduled_refund_reconcile(app, client, actors, provider):
    from services.jobs import schedule

    _me, booking_id, body = paid_by_card(app, client, actors, provider)
    refund_at_provider(provider, body["provider_payment_id"], 10000)
    with app.app_context():
        assert schedule.reconcile_provider_refunds() == 1
        assert schedule.reconcile_provider_refunds() == 0
    assert booking_state(app, booking_id)["amount_paid"] == D("900.00")


def test_our_own_refund_events_change_nothing(app, client, actors, provider):
    me, booking_id, _body = paid_by_card(app, client, actors, provider)
    resp = client.post(
        f"{API}/bookings/{booking_id}/cancel",
        json={"refund_to": "original"},
        headers=me["headers"],
    )
    assert resp.status_code == 200, resp.get_json()
    (ours,) = resp.get_json()["refunds"]
    before = money_state(app, client, booking_id, me["headers"])
    created = provider.receiver.wait_for("refund.created", ours["provider_refund_id"])
    charge = provider.receiver.wait_for(
        "charge.refunded", created.event["data"]["object"]["charge"]
    )
    assert deliver(client, created).get_json()["result"] == "ours"
    assert deliver(client, charge).get_json()["result"] == "ours"
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert "refunds_recorded=0" in result.output
    assert money_state(app, client, booking_id, me["headers"]) == before
    assert before["refunds"] == [(D(ours["amount"]), "service", "completed", "card")]


def test_refund_for_a_payment_not_ours_is_unknown(app, client, provider):
    intent = provider.client.v1.payment_intents.create(
        params={"amount": 5000, "currency": "eur", "payment_method_types": ["card"]}
    )
    provider.pay(intent.id)
    _refund, created, _charge = refund_at_provider(provider, intent.id, 5000)
    assert deliver(client, created).get_json()["result"] == "unknown"
    assert counts(app)["refunds"] == 0


def test_provider_refund_failing_later_is_paid_again(app, client, actors, provider):
    me, booking_id, body = paid_by_card(app, client, actors, provider)
    refund, created, _charge = refund_at_provider(
        provider, body["provider_payment_id"], 20000
    )
    assert deliver(client, created).get_json()["result"] == "refunded"
    failed = json.loads(created.body)
    failed["id"] = "evt_refund_failed_1"
    failed["type"] = "refund.updated"
    failed["data"]["object"]["status"] = "failed"
    assert signed_post(client, failed).status_code == 200
    state = money_state(app, client, booking_id, me["headers"])
    assert state["amount_paid"] == "1000.00"
    assert state["refunds"] == [(D("200.00"), "provider", "failed", "card")]
    assert signed_post(client, failed).get_json()["result"] == "duplicate"
    assert booking_state(app, booking_id)["amount_paid"] == D("1000.00")
    assert refund.id


# --- disputes -------------------------------------------------------------------------


def disputed_payment(app, client, actors, provider):
    """A booking paid with Stripe's dispute test card, and the dispute event."""
    me, booking_id, body = held_booking_with_intent(app, client, actors)
    intent_id = body["provider_payment_id"]
    provider.confirm(intent_id, "pm_card_createDispute")
    paid = provider.receiver.wait_for("payment_intent.succeeded", intent_id)
    assert deliver(client, paid).get_json()["result"] == "applied"
    opened = provider.receiver.wait_for(
        "charge.dispute.created", intent_id, field="payment_intent"
    )
    return me, booking_id, opened


def close_dispute(provider, dispute_id, evidence):
    """Submit Stripe's test evidence; returns the charge.dispute.closed delivery."""
    answer = requests.post(
        f"{provider.base_url}/v1/disputes/{dispute_id}",
        data={"evidence[uncategorized_text]": evidence},
        auth=(SECRET_KEY, ""),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return provider.receiver.wait_for("charge.dispute.closed", dispute_id)


def payment_of(client, booking_id, headers) -> dict:
    (payment,) = client.get(
        f"{API}/payments?booking_id={booking_id}", headers=headers
    ).get_json()["items"]
    return payment


def test_dispute_flags_then_lost_recorded_once(app, client, actors, provider, mailbox):
    finance = actors.employee("finance")
    me, booking_id, opened = disputed_payment(app, client, actors, provider)
    assert deliver(client, opened).get_json()["result"] == "disputed"
    assert deliver(client, opened).get_json()["result"] == "duplicate"
    state = money_state(app, client, booking_id, me["headers"])
    assert state["disputed"] is True and state["amount_paid"] == "1000.00"
    payment = payment_of(client, booking_id, finance["headers"])
    assert payment["disputed"] is True and payment["dispute_status"] == "open"
    assert any("disputed" in m["Subject"] for m in mailbox.to(finance["email"]))

    dispute_id = opened.event["data"]["object"]["id"]
    closed = close_dispute(provider, dispute_id, "losing_evidence")
    assert deliver(client, closed).get_json()["result"] == "dispute_lost"
    assert deliver(client, closed).get_json()["result"] == "duplicate"
    state = money_state(app, client, booking_id, me["headers"])
    assert state["disputed"] is False and state["amount_paid"] == "0.00"
    assert state["refunds"] == [(D("1000.00"), "dispute", "completed", "card")]
    assert state["invoice"] in ("pending", "overdue")
    payment = payment_of(client, booking_id, finance["headers"])
    assert payment["dispute_status"] == "lost" and payment["disputed"] is False
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProviderEvent)) == 3


def test_dispute_won_clears_the_flag(app, client, actors, provider):
    me, booking_id, opened = disputed_payment(app, client, actors, provider)
    deliver(client, opened)
    closed = close_dispute(
        provider, opened.event["data"]["object"]["id"], "winning_evidence"
    )
    assert deliver(client, closed).get_json()["result"] == "dispute_won"
    state = money_state(app, client, booking_id, me["headers"])
    assert state["disputed"] is False and state["amount_paid"] == "1000.00"
    assert state["refunds"] == []
