"""The transactional outbox (services/messaging/outbox.py): rows written in the cause's
transaction, claimed once, delivered to the real local SMTP server, retried with
backoff, dead after the attempt budget, visible and retryable by admin."""

from datetime import timedelta

from core.extensions import db
from models import OutboxMessage
from models.base import utcnow
from services.messaging import outbox
from tests.conftest import relay_outbox
from tests.factories import cancelled_booking, make_plain_departure
from tests.live import free_port
from tests.messaging.conftest import outbox_rows

API = "/api/v1"


def book(client, headers, departure_id, seats=1, **extra):
    return client.post(
        f"{API}/bookings",
        json={"departure_id": departure_id, "seats": seats},
        headers={**headers, **extra},
    )


def smtp_down(app):
    """Point mail at a port where nothing listens (connection refused)."""
    state = app.extensions["mail"]
    original = state.port
    state.port = free_port()
    return original


def test_booking_writes_its_mail_row_in_the_same_transaction(app, client, actors, smtp):
    smtp.handler.clear()
    cust = actors.customer()
    departure = make_plain_departure(app, capacity=2)

    response = book(
        client, cust["headers"], departure, **{"X-Request-ID": "req-outbox-1"}
    )

    assert response.status_code == 201
    [row] = outbox_rows(app)
    assert (row.kind, row.topic, row.state, row.attempts) == (
        "mail",
        "booking_held",
        "pending",
        0,
    )
    assert row.payload["to"] == cust["email"]
    assert response.get_json()["reference"] in row.payload["subject"]
    assert row.request_id == "req-outbox-1"
    # nothing was sent by the request itself: the SMTP server saw nothing yet
    assert smtp.handler._messages == []


def test_refused_booking_queues_nothing(app, client, actors, mailbox):
    cust = actors.customer()
    departure = make_plain_departure(app, capacity=1)

    response = book(client, cust["headers"], departure, seats=2)

    assert response.status_code == 409
    assert outbox_rows(app) == []
    assert mailbox.messages == []


def test_relay_delivers_once_with_stable_message_id(app, client, actors, mailbox):
    cust = actors.customer()
    book(client, cust["headers"], make_plain_departure(app))
    [row] = outbox_rows(app)

    [mail] = mailbox.to(cust["email"])
    assert relay_outbox(app) == 0  # nothing due any more: never sent twice

    assert mail["Message-ID"] == f"<outbox-{row.id}@easytravels>"
    [sent] = outbox_rows(app)
    assert (sent.state, sent.attempts, sent.claim_token) == ("sent", 1, None)
    assert sent.sent_at is not None


def test_claims_do_not_overlap_and_a_stale_claim_records_nothing(
    app, client, actors, mailbox
):
    cust = actors.customer()
    departure = make_plain_departure(app)
    for _ in range(3):
        book(client, cust["headers"], departure)
    with app.app_context():
        first = outbox.claim_due()
        second = outbox.claim_due()  # the same rows are leased to the first claimer
        assert len(first) == 3 and second == []
        row_id, token = first[0]
        # the lease runs out: another worker claims the row again
        later = utcnow() + timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"] + 1)
        retaken = outbox.claim_due(now=later)
        assert {r for r, _ in retaken} == {r for r, _ in first}
        assert outbox.deliver(row_id, token) == "skipped"  # the old claim is void
        assert all(outbox.deliver(r, t) == "sent" for r, t in retaken)
    assert len(mailbox.to(cust["email"])) == 3


def test_smtp_down_retries_with_backoff_then_dead(app, client, actors, mailbox):
    cust = actors.customer()
    book(client, cust["headers"], make_plain_departure(app))
    original = smtp_down(app)
    app.config["OUTBOX_MAX_ATTEMPTS"], saved = 3, app.config["OUTBOX_MAX_ATTEMPTS"]
    try:
        with app.app_context():
            db.session.execute(db.update(OutboxMessage).values(max_attempts=3))
            db.session.commit()
            start = utcnow()
            assert outbox.relay_due(now=start) == 1
            [row] = outbox_rows(app)
            assert (row.state, row.attempts) == ("pending", 1)
            assert "SMTP" in row.last_error
            assert row.next_attempt_at == start + timedelta(seconds=30)  # backoff 1
            assert outbox.relay_due(now=start + timedelta(seconds=29)) == 0
            assert outbox.relay_due(now=start + timedelta(seconds=30)) == 1
            [row] = outbox_rows(app)
            assert row.next_attempt_at == start + timedelta(seconds=90)  # 30 + 60
            assert outbox.relay_due(now=start + timedelta(seconds=90)) == 1
        [row] = outbox_rows(app)
        assert (row.state, row.attempts) == ("dead", 3)
    finally:
        app.extensions["mail"].port = original
        app.config["OUTBOX_MAX_ATTEMPTS"] = saved

    admin = actors.headers("admin")
    listed = client.get(f"{API}/outbox?state=dead", headers=admin).get_json()
    assert [item["id"] for item in listed["items"]] == [row.id]
    assert listed["items"][0]["last_error"].startswith("SMTP")
    assert (
        client.get(f"{API}/outbox?state=sent", headers=admin).get_json()["items"] == []
    )
    assert mailbox.messages == []

    retried = client.post(f"{API}/outbox/{row.id}/retry", headers=admin)
    assert retried.status_code == 200
    assert retried.get_json()["state"] == "pending"
    assert len(mailbox.to(cust["email"])) == 1  # SMTP is back: delivered once
    assert outbox_rows(app)[0].state == "sent"
    again = client.post(f"{API}/outbox/{row.id}/retry", headers=admin)
    assert again.status_code == 409


def test_outbox_endpoints_admin_only(client, actors):
    for role in ("sales", "finance", "operation_head", "customer"):
        assert (
            client.get(f"{API}/outbox", headers=actors.headers(role)).status_code == 403
        )
    assert client.get(f"{API}/outbox").status_code == 401
    admin = actors.headers("admin")
    assert client.post(f"{API}/outbox/999999/retry", headers=admin).status_code == 404
    bad = client.get(f"{API}/outbox?state=lost", headers=admin)
    assert bad.status_code == 422


def test_ready_reports_queue_depth_and_oldest_age(app, client, actors):
    cust = actors.customer()
    book(client, cust["headers"], make_plain_departure(app))

    body = client.get("/health/ready").get_json()

    assert body["outbox"]["pending"] == 1 and body["outbox"]["dead"] == 0
    assert body["outbox"]["oldest_pending_age_seconds"] >= 0
    relay_outbox(app)
    assert client.get("/health/ready").get_json()["outbox"] == {
        "pending": 0,
        "dead": 0,
        "oldest_pending_age_seconds": 0.0,
    }


def test_delivery_logs_carry_the_causing_request_id(app, client, actors, caplog, smtp):
    cust = actors.customer()
    book(
        client,
        cust["headers"],
        make_plain_departure(app),
        **{"X-Request-ID": "req-trace-42"},
    )
    caplog.set_level("INFO", logger="easytravels.outbox")

    relay_outbox(app)

    lines = [r for r in caplog.records if r.name == "easytravels.outbox"]
    assert lines and all(r.request_id == "req-trace-42" for r in lines)


def test_refund_paid_out_by_finance_mails_a_notice_once(app, client, actors, mailbox):
    me = actors.customer()
    [pending] = cancelled_booking(app, client, actors, me)
    finance = actors.headers("finance")

    done = client.post(
        f"{API}/refunds/{pending['id']}/complete",
        json={"reference": "PSP-9"},
        headers=finance,
    )
    again = client.post(
        f"{API}/refunds/{pending['id']}/complete", json={}, headers=finance
    )

    assert (done.status_code, again.status_code) == (200, 409)
    [notice] = [m for m in mailbox.to(me["email"]) if "refund of" in m["Subject"]]
    assert "900.00 EUR" in notice["Subject"]
    assert "reference PSP-9" in notice.get_body(("plain",)).get_content()
