"""Outgoing webhooks (services/messaging/webhooks.py) against a real local receiver that
verifies every request with the `standardwebhooks` package: delivery, retry after a
500 on the Standard Webhooks schedule, 410 disables, redeliver, secret rotation, the
SSRF guard. Deliveries run through the outbox relay with an injected clock."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.extensions import db
from models import OutboxMessage, WebhookEndpoint
from models.base import utcnow
from services.messaging import outbox
from tests.factories import make_plain_departure, pay
from tests.messaging.conftest import outbox_rows

API = "/api/v1"
ENDPOINTS = f"{API}/webhooks/endpoints"


class Receiver:
    """A local HTTP receiver: answers with the queued statuses (then 204) and keeps
    every request's headers and body."""

    def __init__(self):
        self.requests = []
        self.statuses = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append((headers, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def verified(self, secret: str) -> list[dict]:
        """Every request's payload, each verified with `secret` (raises otherwise)."""
        return [
            Webhook(secret).verify(body, headers) for headers, body in self.requests
        ]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()


def subscribe(client, admin, url, events=("booking.created",), **extra):
    response = client.post(
        ENDPOINTS,
        json={"url": url, "event_types": list(events), **extra},
        headers=admin,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def book(client, actors, app, capacity=5):
    cust = actors.customer()
    response = client.post(
        f"{API}/bookings",
        json={"departure_id": make_plain_departure(app, capacity=capacity), "seats": 1},
        headers=cust["headers"],
    )
    assert response.status_code == 201
    return cust, response.get_json()


def relay(app, now=None) -> int:
    with app.app_context():
        return outbox.relay_due(now=now)


def deliveries(app) -> list[OutboxMessage]:
    """The webhook deliveries in the outbox, oldest first."""
    return outbox_rows(app, kind="webhook")


def test_booking_created_delivered_signed_and_thin(app, client, actors, receiver):
    admin = actors.headers("admin")
    endpoint = subscribe(client, admin, receiver.url, description="Partner CRM")
    assert endpoint["secret"].startswith("whsec_")
    shown = client.get(f"{ENDPOINTS}/{endpoint['id']}", headers=admin).get_json()
    assert "secret" not in shown  # shown once, at creation
    _, booking = book(client, actors, app)

    relay(app)

    [payload] = receiver.verified(endpoint["secret"])
    headers = receiver.requests[0][0]
    assert payload["type"] == "booking.created"
    assert payload["data"] == {
        "type": "booking",
        "id": booking["id"],
        "url": f"/api/v1/bookings/{booking['id']}",
    }
    assert set(payload) == {"id", "type", "occurred_at", "data"}
    assert headers["webhook-id"] == payload["id"]
    assert headers["webhook-signature"].startswith("v1,")
    log = client.get(
        f"{ENDPOINTS}/{endpoint['id']}/deliveries", headers=admin
    ).get_json()
    assert [
        (d["state"], d["event_id"], d["last_status_code"]) for d in log["items"]
    ] == [("sent", payload["id"], 204)]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY").verify(
            receiver.requests[0][1], headers
        )


def test_only_subscribed_events_and_payment_events(app, client, actors, receiver):
    admin = actors.headers("admin")
    endpoint = subscribe(
        client, admin, receiver.url, events=("booking.confirmed", "payment.succeeded")
    )
    _cust, booking = book(client, actors, app)
    relay(app)
    assert receiver.requests == []  # booking.created is not subscribed

    assert (
        pay(client, actors.headers("finance"), booking["id"], "1000.00").status_code
        == 201
    )
    relay(app)

    types = sorted(p["type"] for p in receiver.verified(endpoint["secret"]))
    assert types == ["booking.confirmed", "payment.succeeded"]


def test_500_is_retried_on_the_standard_schedule(app, client, actors, receiver):
    endpoint = subscribe(client, actors.headers("admin"), receiver.url)
    book(client, actors, app)
    receiver.statuses = [500, 500]
    start = utcnow()

    relay(app, start)
    [row] = deliveries(app)
    assert (row.state, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.next_attempt_at == start + timedelta(seconds=5)
    assert relay(app, start + timedelta(seconds=4)) == 0
    assert relay(app, start + timedelta(seconds=5)) == 1
    [row] = deliveries(app)
    assert row.next_attempt_at == start + timedelta(seconds=5) + timedelta(minutes=5)
    assert relay(app, row.next_attempt_at) == 1

    [row] = deliveries(app)
    assert (row.state, row.attempts, row.last_status_code) == ("sent", 3, 204)
    payloads = receiver.verified(endpoint["secret"])
    assert (
        len(payloads) == 3 and len({h["webhook-id"] for h, _ in receiver.requests}) == 1
    )


def test_retries_end_dead_after_the_schedule(app, client, actors, receiver):
    subscribe(client, actors.headers("admin"), receiver.url)
    book(client, actors, app)
    receiver.statuses = [503] * 8
    clock = utcnow()
    for attempt in range(8):
        relay(app, clock)
        assert len(receiver.requests) == attempt + 1
        [row] = deliveries(app)
        clock = row.next_attempt_at
    [row] = deliveries(app)
    assert (row.state, row.attempts) == ("dead", 8)
    assert len(receiver.requests) == 8


def test_410_disables_the_endpoint(app, client, actors, receiver):
    admin = actors.headers("admin")
    endpoint = subscribe(client, admin, receiver.url)
    book(client, actors, app)
    receiver.statuses = [410]

    relay(app)

    [row] = deliveries(app)
    assert (row.state, row.last_status_code) == ("dead", 410)
    shown = client.get(f"{ENDPOINTS}/{endpoint['id']}", headers=admin).get_json()
    assert (shown["active"], shown["disabled_reason"]) == (False, "410 Gone")
    book(client, actors, app)  # a disabled endpoint gets no new deliveries
    assert len(deliveries(app)) == 1
    blocked = client.post(
        f"{ENDPOINTS}/{endpoint['id']}/deliveries/{row.id}/redeliver", headers=admin
    )
    assert blocked.status_code == 409


def test_redeliver_sends_the_same_event_again(app, client, actors, receiver):
    admin = actors.headers("admin")
    endpoint = subscribe(client, admin, receiver.url)
    book(client, actors, app)
    relay(app)
    [first] = deliveries(app)

    again = client.post(
        f"{ENDPOINTS}/{endpoint['id']}/deliveries/{first.id}/redeliver", headers=admin
    )
    assert again.status_code == 202
    assert again.get_json()["state"] == "pending"
    relay(app)

    ids = [h["webhook-id"] for h, _ in receiver.requests]
    assert len(ids) == 2 and ids[0] == ids[1] == first.event_id
    receiver.verified(endpoint["secret"])
    missing = client.post(
        f"{ENDPOINTS}/{endpoint['id']}/deliveries/999999/redeliver", headers=admin
    )
    assert missing.status_code == 404


def test_rotated_secret_signs_later_attempts(app, client, actors, receiver):
    admin = actors.headers("admin")
    endpoint = subscribe(client, admin, receiver.url)
    rotated = client.post(f"{ENDPOINTS}/{endpoint['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200
    new_secret = rotated.get_json()["secret"]
    assert new_secret != endpoint["secret"]
    book(client, actors, app)
    relay(app)
    receiver.verified(new_secret)
    with pytest.raises(WebhookVerificationError):
        receiver.verified(endpoint["secret"])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://0.0.0.0/hooks",
    ],
)
def test_ssrf_guard_refuses_private_targets(app, client, actors, url):
    app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = False
    try:
        response = client.post(
            ENDPOINTS,
            json={"url": url, "event_types": ["booking.created"]},
            headers=actors.headers("admin"),
        )
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True
    assert response.status_code == 422
    assert "url" in response.get_json()["errors"]


def test_ssrf_guard_checked_again_at_delivery(app, client, actors, receiver):
    subscribe(client, actors.headers("admin"), receiver.url)
    book(client, actors, app)
    app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = False
    try:
        relay(app)
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True
    [row] = deliveries(app)
    assert row.state == "dead" and "target refused" in row.last_error
    assert receiver.requests == []


def test_endpoint_crud_and_validation(app, client, actors, receiver):
    admin = actors.headers("admin")
    endpoint = subscribe(client, admin, receiver.url)
    bad = client.post(
        ENDPOINTS,
        json={"url": receiver.url, "event_types": ["booking.eaten"]},
        headers=admin,
    )
    assert bad.status_code == 422
    changed = client.patch(
        f"{ENDPOINTS}/{endpoint['id']}",
        headers=admin,
        json={"active": False, "description": "paused"},
    )
    assert changed.status_code == 200
    assert (changed.get_json()["active"], changed.get_json()["description"]) == (
        False,
        "paused",
    )
    book(client, actors, app)
    assert deliveries(app) == []  # inactive: nothing queued
    listed = client.get(ENDPOINTS, headers=admin).get_json()
    assert [e["id"] for e in listed["items"]] == [endpoint["id"]]
    assert "secret" not in listed["items"][0]
    assert (
        client.delete(f"{ENDPOINTS}/{endpoint['id']}", headers=admin).status_code == 204
    )
    with app.app_context():
        assert db.session.scalars(select(WebhookEndpoint)).all() == []
    for role in ("sales", "finance", "customer"):
        assert client.get(ENDPOINTS, headers=actors.headers(role)).status_code == 403


def test_events_of_other_lifecycles(app, client, actors, receiver):
    """package.published, departure.cancelled, booking.cancelled, refund.completed
    (a wallet refund completes at once)."""
    admin = actors.headers("admin")
    endpoint = subscribe(
        client,
        admin,
        receiver.url,
        events=("departure.cancelled", "booking.cancelled", "refund.completed"),
    )
    _cust, booking = book(client, actors, app)
    assert (
        pay(client, actors.headers("finance"), booking["id"], "1000.00").status_code
        == 201
    )
    response = client.post(
        f"{API}/departures/{booking['departure_id']}/cancel",
        json={"reason": "Storm", "refund_to": "wallet"},
        headers=admin,
    )
    assert response.status_code == 200, response.get_json()
    relay(app)
    types = sorted(p["type"] for p in receiver.verified(endpoint["secret"]))
    assert types == ["booking.cancelled", "departure.cancelled", "refund.completed"]
    assert json.loads(receiver.requests[0][1])["data"]["id"]
