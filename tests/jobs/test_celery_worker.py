"""A real Celery worker process (with its beat) on the local Redis and on the local
RabbitMQ delivers a booking's mail through the outbox to the local SMTP server, and
logs the delivery under the id of the request that caused it."""

import pytest

from tests.celery_workers import (
    REDIS_BROKER,
    CeleryWorker,
    broker_reachable,
    committed_outbox,
    purge,
    rabbit_broker,
    wait_for,
)
from tests.factories import make_plain_departure

BROKERS = {"redis": lambda: REDIS_BROKER, "rabbitmq": rabbit_broker}


@pytest.mark.parametrize("broker", list(BROKERS))
def test_worker_delivers_booking_mail_through_outbox(
    app, client, actors, smtp, tmp_path, broker
):
    url = BROKERS[broker]()
    if not broker_reachable(url):
        pytest.fail(f"{broker} broker at {url} is not reachable")
    purge(url)
    smtp.handler.clear()
    cust = actors.customer()
    response = client.post(
        "/api/v1/bookings",
        json={"departure_id": make_plain_departure(app), "seats": 2},
        headers={**cust["headers"], "X-Request-ID": f"req-celery-{broker}"},
    )
    assert response.status_code == 201
    assert smtp.handler._messages == []  # the request sent nothing itself

    worker = CeleryWorker(app, url, tmp_path / f"worker-{broker}.log").start()
    try:

        def arrived():
            with smtp.handler.lock:
                return [m for m in smtp.handler._messages if cust["email"] in m["To"]]

        [mail] = wait_for(arrived, timeout=60, what=f"the mail via {broker}")

        # The worker records the attempt AFTER the SMTP server accepted the mail
        # (at-least-once): until that commit the row still reads pending, 0 attempts.
        def recorded():
            rows = committed_outbox(app)
            return rows if rows and all(attempts for _, _, attempts in rows) else None

        [(row_id, state, attempts)] = wait_for(
            recorded, timeout=15, what="the worker's commit of the attempt"
        )
        assert (state, attempts) == ("sent", 1)
        assert mail["Message-ID"] == f"<outbox-{row_id}@easytravels>"
        assert response.get_json()["reference"] in mail["Subject"]
        wait_for(
            lambda: f"req-celery-{broker}" in worker.log(),
            timeout=10,
            what="the request id in the worker's log",
        )
        assert "easytravels.outbox.deliver" in worker.log()
    finally:
        worker.stop()
    with smtp.handler.lock:
        assert len([m for m in smtp.handler._messages if cust["email"] in m["To"]]) == 1
