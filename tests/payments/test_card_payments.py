"""Card payments through the provider against a real localstripe process: payment
intents, the signed webhook (forged, missing, stale signatures; replays), declines,
success after a lapsed hold with the seats gone (automatic provider refund), refunds
to card on cancellation (and their retry), reconciliation of a lost webhook, and the
end of card payments by reference for customers (docs/design.md "Lifecycles": invoice,
payments; Stripe's webhook guide, https://docs.stripe.com/webhooks).
"""

import json
import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from app import create_app
from core.extensions import db
from models import (
    AuditEntry,
    Booking,
    Departure,
    Payment,
    PaymentAttempt,
    Refund,
)
from services.payments import billing
from tests.factories import API, make_invoiced_booking, make_plain_departure
from tests.payments.conftest import (
    booking_state,
    counts,
    held_booking_with_intent,
    paid_by_card,
    sign,
    start_intent,
)
from tests.stripe_support import deliver

D = Decimal


def attempt_row(app, attempt_id) -> PaymentAttempt:
    with app.app_context():
        attempt = db.session.get(PaymentAttempt, attempt_id)
        db.session.expunge(attempt)
        return attempt


# --- intents --------------------------------------------------------------------------


def test_intent_created_on_provider_with_shape(app, client, actors, provider):
    me, booking_id, body = held_booking_with_intent(app, client, actors)
    assert body["booking_id"] == booking_id and body["provider"] == "stripe"
    assert body["amount"] == "1000.00" and body["currency"] == "EUR"
    assert body["status"] == "pending" and body["client_secret"]
    assert body["provider_payment_id"].startswith("pi_")
    intent = provider.client.v1.payment_intents.retrieve(body["provider_payment_id"])
    assert intent.amount == 100000 and intent.currency == "eur"
    assert intent.metadata["booking_id"] == str(booking_id)
    shown = client.get(f"{API}/payment-intents/{body['id']}", headers=me["headers"])
    assert (
        shown.status_code == 200
        and shown.get_json()["provider_payment_id"] == intent.id
    )
    other = actors.customer()
    assert (
        client.get(
            f"{API}/payment-intents/{body['id']}", headers=other["headers"]
        ).status_code
        == 404
    )


def test_intent_amount_rules_422_and_other_customer_404(app, client, actors):
    me = actors.customer()
    booking_id = make_invoiced_booking(
        app, customer_id=me["id"], total="1000.00", deposit="200.00"
    )
    too_much = start_intent(client, me["headers"], booking_id, "1000.01")
    assert too_much.status_code == 422 and "amount" in too_much.get_json()["errors"]
    below_deposit = start_intent(client, me["headers"], booking_id, "199.99")
    assert below_deposit.status_code == 422
    other = actors.customer()
    assert (
        start_intent(client, other["headers"], booking_id, "200.00").status_code == 404
    )
    assert counts(app)["attempts"] == []


def test_intent_by_sales_for_a_customer(app, client, actors):
    me = actors.customer()
    booking_id = make_invoiced_booking(app, customer_id=me["id"], total="300.00")
    resp = start_intent(client, actors.headers("sales"), booking_id, "300.00")
    assert resp.status_code == 201, resp.get_json()
    assert attempt_row(app, resp.get_json()["id"]).customer_id == me["id"]


def test_intent_idempotency_key_replays_one_attempt(app, client, actors):
    me = actors.customer()
    booking_id = make_invoiced_booking(app, customer_id=me["id"], total="500.00")
    headers = {**me["headers"], "Idempotency-Key": "intent-key-1"}
    first = start_intent(client, headers, booking_id, "500.00")
    second = start_intent(client, headers, booking_id, "500.00")
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.get_json()["id"] == second.get_json()["id"]
    assert len(counts(app)["attempts"]) == 1


# --- the webhook: success, decline ----------------------------------------------------


def test_card_payment_confirmed_by_webhook(app, client, actors, provider, mailbox):
    me, booking_id, body = held_booking_with_intent(app, client, actors)
    delivery = provider.pay(body["provider_payment_id"], "pm_card_visa")
    resp = deliver(client, delivery)
    assert resp.status_code == 200 and resp.get_json()["result"] == "applied"
    state = booking_state(app, booking_id)
    assert state["status"] == "confirmed" and state["amount_paid"] == D("1000.00")
    with app.app_context():
        payment = db.session.scalar(
            select(Payment).where(Payment.booking_id == booking_id)
        )
        assert (
            payment.method == "card"
            and payment.reference == body["provider_payment_id"]
        )
        assert payment.recorded_by_id is None
        invoice = db.session.get(Booking, booking_id).invoice
        assert billing.invoice_status(invoice) == "paid"
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {
            "payment_intent.created",
            "payment_attempt.succeeded",
            "payment.recorded",
        } <= actions
    shown = client.get(
        f"{API}/payment-intents/{body['id']}", headers=me["headers"]
    ).get_json()
    assert shown["status"] == "succeeded" and shown["payment_id"] == payment.id
    assert any("confirmed" in m["Subject"] for m in mailbox.to(me["email"]))


def test_declined_card_leaves_booking_held(app, client, actors, provider, mailbox):
    me, booking_id, body = held_booking_with_intent(app, client, actors)
    delivery = provider.pay(body["provider_payment_id"], "pm_card_chargeCustomerFail")
    resp = deliver(client, delivery)
    assert resp.status_code == 200 and resp.get_json()["result"] == "failed"
    state = booking_state(app, booking_id)
    assert state["status"] == "held" and state["payments"] == 0
    attempt = attempt_row(app, body["id"])
    assert attempt.status == "failed" and attempt.last_error
    assert not any("confirmed" in m["Subject"] for m in mailbox.to(me["email"]))


def test_replayed_event_changes_nothing(app, client, actors, provider):
    _, booking_id, body = held_booking_with_intent(app, client, actors)
    delivery = provider.pay(body["provider_payment_id"])
    assert deliver(client, delivery).get_json()["result"] == "applied"
    before = counts(app)
    replay = deliver(client, delivery)
    assert replay.status_code == 200 and replay.get_json()["result"] == "duplicate"
    assert counts(app) == before and before["payments"] == 1
    assert booking_state(app, booking_id)["amount_paid"] == D("1000.00")


def test_late_failure_after_success_changes_nothing(app, client, actors, provider):
    _, booking_id, body = held_booking_with_intent(app, client, actors)
    assert deliver(client, provider.pay(body["provider_payment_id"])).status_code == 200
    event = {
        "id": "evt_late_failure_1",
        "type": "payment_intent.payment_failed",
        "data": {
            "object": {
                "id": body["provider_payment_id"],
                "object": "payment_intent",
                "amount": 100000,
                "currency": "eur",
            }
        },
    }
    raw = json.dumps(event).encode()
    resp = client.post(
        f"{API}/webhooks/stripe",
        data=raw,
        headers={"Stripe-Signature": sign(raw), "Content-Type": "application/json"},
    )
    assert resp.status_code == 200 and resp.get_json()["result"] == "unchanged"
    assert attempt_row(app, body["id"]).status == "succeeded"
    assert booking_state(app, booking_id)["status"] == "confirmed"


def test_other_event_types_ignored(app, client, actors):
    raw = json.dumps(
        {
            "id": "evt_other_1",
            "type": "customer.created",
            "data": {"object": {"id": "cus_1"}},
        }
    ).encode()
    resp = client.post(
        f"{API}/webhooks/stripe",
        data=raw,
        headers={"Stripe-Signature": sign(raw), "Content-Type": "application/json"},
    )
    assert resp.status_code == 200 and resp.get_json()["result"] == "ignored"
    assert counts(app)["events"] == 0


# --- signatures -----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["missing", "forged", "stale", "tampered", "garbage"])
def test_bad_signature_400_nothing_changed(app, client, actors, provider, how):
    _, booking_id, body = held_booking_with_intent(app, client, actors)
    delivery = provider.pay(body["provider_payment_id"])
    raw, header = delivery.body, delivery.signature
    if how == "missing":
        header = None
    elif how == "forged":
        header = sign(raw, secret="whsec_not_ours")
    elif how == "stale":
        header = sign(raw, timestamp=int(time.time()) - 301)
    elif how == "tampered":
        raw = raw.replace(b'"amount": 100000', b'"amount": 100001')
        assert raw != delivery.body
    else:
        header = "t=abc,v1=nothex"
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    before = counts(app)
    resp = client.post(f"{API}/webhooks/stripe", data=raw, headers=headers)
    assert resp.status_code == 400
    problem = resp.get_json()
    assert problem["type"].endswith("invalid-signature") and problem["status"] == 400
    assert counts(app) == before
    assert booking_state(app, booking_id)["status"] == "held"
    # the genuine delivery still applies afterwards
    assert deliver(client, delivery).get_json()["result"] == "applied"


# --- money that cannot be kept --------------------------------------------------------


def test_success_after_lapse_with_seats_gone_refunded(
    app, client, actors, provider, mailbox
):
    departure_id = make_plain_departure(app, capacity=1)
    me, booking_id, body = held_booking_with_intent(
        app, client, actors, departure_id=departure_id
    )
    with app.app_context():  # the hold lapses, is swept, and someone takes the seat
        booking = db.session.get(Booking, booking_id)
        booking.status, booking.hold_expires_at = "expired", None
        db.session.get(Departure, departure_id).seats_taken = 1
        db.session.commit()
    delivery = provider.pay(body["provider_payment_id"])
    resp = deliver(client, delivery)
    assert resp.status_code == 200 and resp.get_json()["result"] == "refund"
    attempt = attempt_row(app, body["id"])
    assert attempt.status == "refunded" and attempt.provider_refund_id
    refunds = provider.refunds(body["provider_payment_id"])
    assert [r.amount for r in refunds] == [100000]
    state = booking_state(app, booking_id)
    assert state["status"] == "expired" and state["payments"] == 0
    assert state["amount_paid"] == D("0.00")
    assert any("refunded" in m["Subject"] for m in mailbox.to(me["email"]))
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"payment_attempt.refund_due", "payment_attempt.refunded"} <= actions
    assert deliver(client, delivery).get_json()["result"] == "duplicate"
    assert len(provider.refunds(body["provider_payment_id"])) == 1


def test_success_after_lapse_with_seats_free_retakes_them(
    app, client, actors, provider
):
    _, booking_id, body = held_booking_with_intent(app, client, actors, hold_minutes=-5)
    resp = deliver(client, provider.pay(body["provider_payment_id"]))
    assert resp.get_json()["result"] == "applied"
    assert booking_state(app, booking_id)["status"] == "confirmed"


def test_amount_changed_on_provider_recorded_and_flagged(app, client, actors, provider):
    me = actors.customer()
    booking_id = make_invoiced_booking(
        app, customer_id=me["id"], total="1000.00", deposit="200.00"
    )
    body = start_intent(client, me["headers"], booking_id, "300.00").get_json()
    provider.client.v1.payment_intents.update(
        body["provider_payment_id"], params={"amount": 25000}
    )
    resp = deliver(client, provider.pay(body["provider_payment_id"]))
    assert resp.get_json()["result"] == "applied", resp.get_json()
    attempt = attempt_row(app, body["id"])
    assert attempt.amount_mismatch and attempt.received_amount == D("250.00")
    assert booking_state(app, booking_id)["amount_paid"] == D("250.00")
    with app.app_context():
        flagged = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "payment_attempt.amount_mismatch"
            )
        )
        assert (
            flagged.details["received"] == "250.00"
            and flagged.details["expected"] == "300.00"
        )


# --- refunds to the card --------------------------------------------------------------


def test_cancellation_refund_to_card_reaches_provider(app, client, actors, provider):
    me, booking_id, body = paid_by_card(app, client, actors, provider)
    resp = client.post(
        f"{API}/bookings/{booking_id}/cancel",
        json={"refund_to": "original"},
        headers=me["headers"],
    )
    assert resp.status_code == 200, resp.get_json()
    (refund,) = resp.get_json()["refunds"]
    assert refund["status"] == "completed" and refund["method"] == "card"
    assert refund["provider_refund_id"].startswith("re_")
    on_provider = provider.refunds(body["provider_payment_id"])
    assert [r.id for r in on_provider] == [refund["provider_refund_id"]]
    assert on_provider[0].amount == int(D(refund["amount"]) * 100)
    done = client.post(
        f"{API}/refunds/{refund['id']}/complete",
        json={},
        headers=actors.headers("finance"),
    )
    assert done.status_code == 409


def test_departure_cancellation_refunds_card_through_provider(
    app, client, actors, provider
):
    _me, booking_id, body = paid_by_card(app, client, actors, provider, total="400.00")
    with app.app_context():
        departure_id = db.session.get(Booking, booking_id).departure_id
    resp = client.post(
        f"{API}/departures/{departure_id}/cancel",
        json={"reason": "Storm", "refund_to": "original"},
        headers=actors.headers("admin"),
    )
    assert resp.status_code == 200, resp.get_json()
    assert [r.amount for r in provider.refunds(body["provider_payment_id"])] == [40000]
    with app.app_context():
        refund = db.session.scalar(
            select(Refund).where(Refund.booking_id == booking_id)
        )
        assert refund.status == "completed" and refund.amount == D("400.00")


def test_failed_provider_refund_retried(app, client, actors, provider):
    from services.payments.provider import EXTENSION_KEY

    me, booking_id, body = paid_by_card(app, client, actors, provider)
    base = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    app.extensions.pop(EXTENSION_KEY, None)
    try:
        resp = client.post(
            f"{API}/bookings/{booking_id}/cancel",
            json={"refund_to": "original"},
            headers=me["headers"],
        )
    finally:
        app.config["STRIPE_API_BASE"] = base
        app.extensions.pop(EXTENSION_KEY, None)
    assert resp.status_code == 200
    (refund,) = resp.get_json()["refunds"]
    assert refund["status"] == "failed" and refund["failure_message"]
    finance = actors.headers("finance")
    listed = client.get(f"{API}/refunds?status=failed", headers=finance).get_json()
    assert [r["id"] for r in listed["items"]] == [refund["id"]]
    assert provider.refunds(body["provider_payment_id"]) == []
    assert (
        client.post(
            f"{API}/refunds/{refund['id']}/retry", headers=me["headers"]
        ).status_code
        == 403
    )
    retried = client.post(f"{API}/refunds/{refund['id']}/retry", headers=finance)
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["status"] == "completed"
    assert len(provider.refunds(body["provider_payment_id"])) == 1
    again = client.post(f"{API}/refunds/{refund['id']}/retry", headers=finance)
    assert again.status_code == 409


# --- reconciliation -------------------------------------------------------------------


def test_reconcile_applies_a_lost_webhook_once(app, client, actors, provider, mailbox):
    me, booking_id, body = held_booking_with_intent(app, client, actors)
    provider.pay(body["provider_payment_id"])  # delivered to nobody: lost
    runner = app.test_cli_runner()
    first = runner.invoke(args=["payments", "reconcile", "--older-than", "0s"])
    assert first.exit_code == 0, first.output
    assert "applied=1" in first.output
    state = booking_state(app, booking_id)
    assert state["status"] == "confirmed" and state["payments"] == 1
    before = counts(app)
    second = runner.invoke(args=["payments", "reconcile", "--older-than", "0s"])
    assert second.exit_code == 0 and "applied=0" in second.output
    assert counts(app) == before
    assert any("confirmed" in m["Subject"] for m in mailbox.to(me["email"]))


def test_scheduled_reconcile_applies_a_lost_webhook_once(app, client, actors, provider):
    from datetime import timedelta

    from models.base import utcnow
    from services.jobs import schedule

    _, booking_id, body = held_booking_with_intent(app, client, actors)
    provider.pay(body["provider_payment_id"])  # delivered to nobody: lost
    later = utcnow() + timedelta(minutes=11)
    with app.app_context():
        assert schedule.reconcile_provider_payments(now=later) == 1
    assert booking_state(app, booking_id)["status"] == "confirmed"
    before = counts(app)
    with app.app_context():
        assert schedule.reconcile_provider_payments(now=later) == 0
    assert counts(app) == before


def test_reconcile_leaves_young_attempts(app, client, actors, provider):
    _, booking_id, body = held_booking_with_intent(app, client, actors)
    provider.pay(body["provider_payment_id"])
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0 and "checked=0" in result.output
    assert booking_state(app, booking_id)["status"] == "held"


def test_reconcile_bad_duration_fails(app):
    result = app.test_cli_runner().invoke(
        args=["payments", "reconcile", "--older-than", "x"]
    )
    assert result.exit_code != 0


# --- card by reference, configuration -------------------------------------------------


def test_customer_card_by_reference_refused(app, client, actors):
    me = actors.customer()
    booking_id = make_invoiced_booking(app, customer_id=me["id"], total="100.00")
    resp = client.post(
        f"{API}/bookings/{booking_id}/payments",
        json={"amount": "100.00", "method": "card", "reference": "anything"},
        headers=me["headers"],
    )
    assert resp.status_code == 403
    assert resp.get_json()["type"].endswith("card-through-provider")
    assert (
        booking_state(app, booking_id) | {}
        and booking_state(app, booking_id)["payments"] == 0
    )


def test_staff_card_terminal_needs_reference(app, client, actors):
    me = actors.customer()
    booking_id = make_invoiced_booking(app, customer_id=me["id"], total="100.00")
    finance = actors.headers("finance")
    url = f"{API}/bookings/{booking_id}/payments"
    missing = client.post(
        url, json={"amount": "100.00", "method": "card"}, headers=finance
    )
    assert missing.status_code == 422 and "reference" in missing.get_json()["errors"]
    ok = client.post(
        url,
        json={"amount": "100.00", "method": "card", "reference": "TID-1"},
        headers=finance,
    )
    assert ok.status_code == 201
    assert booking_state(app, booking_id)["status"] == "confirmed"


def test_not_configured_answers_503(app, client, actors):
    from services.payments.provider import EXTENSION_KEY

    me = actors.customer()
    booking_id = make_invoiced_booking(app, customer_id=me["id"], total="100.00")
    saved = {k: app.config[k] for k in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")}
    app.config.update(STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET="")
    app.extensions.pop(EXTENSION_KEY, None)
    try:
        resp = start_intent(client, me["headers"], booking_id, "100.00")
        hook = client.post(
            f"{API}/webhooks/stripe",
            data=b"{}",
            headers={
                "Stripe-Signature": "t=1,v1=00",
                "Content-Type": "application/json",
            },
        )
    finally:
        app.config.update(saved)
    assert resp.status_code == 503 and resp.get_json()["type"].endswith(
        "card-payments-unavailable"
    )
    assert hook.status_code == 503
    assert counts(app)["attempts"] == []


@pytest.mark.parametrize("missing", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_production_refuses_card_payments_without_secrets(missing):
    config = {
        "SECRET_KEY": "s" * 40,
        "JWT_SECRET_KEY": "j" * 40,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "STRIPE_API_BASE": "",
    }
    config[missing] = ""
    with pytest.raises(RuntimeError, match=missing):
        create_app("production", config)


def test_signed_event_without_its_fields_400(app, client):
    raw = json.dumps(
        {
            "id": "evt_broken_1",
            "type": "payment_intent.succeeded",
            "data": {"object": {"object": "payment_intent"}},
        }
    ).encode()
    resp = client.post(
        f"{API}/webhooks/stripe",
        data=raw,
        headers={"Stripe-Signature": sign(raw), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400 and resp.get_json()["type"].endswith(
        "malformed-event"
    )
    assert counts(app)["events"] == 0
