"""Crash drill: a real Celery worker (Redis broker) is SIGKILLed while the SMTP
server holds its delivery mid-DATA; the SMTP server then goes down for a while and a
second worker keeps failing with backoff; when SMTP is back every booking's mail
arrives exactly once (at-least-once + the per-row claim and idempotent recording),
and nothing arrives for a booking request that was rolled back."""

import asyncio
import threading
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from tests.celery_workers import (
    REDIS_BROKER,
    CeleryWorker,
    broker_reachable,
    purge,
    wait_for,
)
from tests.factories import make_plain_departure
from tests.live import free_port
from tests.messaging.conftest import outbox_rows


class StallableSink:
    """An SMTP handler that, while `stall` is set, never answers DATA (the message
    is not accepted); otherwise it keeps the message and answers 250."""

    def __init__(self):
        self.stall = True
        self.stalled = 0
        self.received = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        if self.stall:
            self.stalled += 1
            await asyncio.sleep(3600)
        with self.lock:
            self.received.append(
                message_from_bytes(envelope.content, policy=default_policy)
            )
        return "250 OK"


def test_crash_and_smtp_outage_deliver_every_mail_exactly_once(
    app, client, actors, tmp_path
):
    if not broker_reachable(REDIS_BROKER):
        pytest.fail(f"Redis broker at {REDIS_BROKER} is not reachable")
    purge(REDIS_BROKER)
    port = free_port()
    sink = StallableSink()
    smtp = Controller(sink, hostname="127.0.0.1", port=port)
    smtp.start()
    customers = [actors.customer() for _ in range(4)]
    departure = make_plain_departure(app, capacity=4)
    for cust in customers:
        response = client.post(
            "/api/v1/bookings",
            json={"departure_id": departure, "seats": 1},
            headers=cust["headers"],
        )
        assert response.status_code == 201
    loser = actors.customer()  # its booking is refused and rolled back: no mail
    refused = client.post(
        "/api/v1/bookings",
        json={"departure_id": departure, "seats": 1},
        headers=loser["headers"],
    )
    assert refused.status_code == 409
    assert len(outbox_rows(app)) == 4

    env = {
        "MAIL_PORT": port,
        "OUTBOX_LEASE_SECONDS": 4,
        "OUTBOX_BACKOFF_SECONDS": 1,
        "OUTBOX_BACKOFF_MAX_SECONDS": 2,
        "OUTBOX_MAX_ATTEMPTS": 50,
    }
    first = CeleryWorker(
        app, REDIS_BROKER, tmp_path / "worker-a.log", MAIL_TIMEOUT_SECONDS=120, **env
    ).start()
    second = None
    try:
        # 1. the worker is mid-delivery (its SMTP DATA hangs): kill it
        wait_for(lambda: sink.stalled >= 1, timeout=60, what="a delivery in progress")
        first.kill()
        assert sink.received == []
        # 2. the SMTP server goes down; a new worker retries with backoff
        smtp.stop()
        second = CeleryWorker(
            app, REDIS_BROKER, tmp_path / "worker-b.log", MAIL_TIMEOUT_SECONDS=5, **env
        ).start()
        wait_for(
            lambda: any(
                r.attempts >= 1 and "SMTP" in (r.last_error or "")
                for r in outbox_rows(app)
            ),
            timeout=60,
            what="a failed attempt while SMTP is down",
        )
        assert all(r.state == "pending" for r in outbox_rows(app))
        # 3. SMTP is back: everything drains
        sink.stall = False
        smtp = Controller(sink, hostname="127.0.0.1", port=port)
        smtp.start()
        wait_for(
            lambda: all(r.state == "sent" for r in outbox_rows(app)),
            timeout=90,
            what="every outbox row sent",
        )
    finally:
        first.kill()
        if second is not None:
            second.stop()
        smtp.stop()

    rows = outbox_rows(app)
    with sink.lock:
        received = list(sink.received)
    assert len(received) == len(customers) == len(rows)
    for cust in customers:
        assert len([m for m in received if cust["email"] in m["To"]]) == 1
    assert not [m for m in received if loser["email"] in m["To"]]
    assert sorted(m["Message-ID"] for m in received) == sorted(
        f"<outbox-{r.id}@easytravels>" for r in rows
    )
    assert max(r.attempts for r in rows) >= 2  # some mail failed first, then went
