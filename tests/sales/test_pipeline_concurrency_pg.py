"""Quote acceptance under real concurrency: simultaneous POST /quotes/<id>/accept
against a multi-process gunicorn on PostgreSQL never oversell the departure, and one
quote never becomes two bookings (docs/design.md "Rules with numbers": seats, "under any
number of concurrent requests and worker processes"; "Lifecycles": enquiry quotes).
"""

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from core.extensions import db
from models import Booking, Enquiry, Quote
from models.base import utcnow
from tests.factories import live_seats, make_departure
from tests.live import gunicorn_server

pytestmark = pytest.mark.postgres

API = "/api/v1"
CAPACITY = 10


def accept_together(base_url: str, calls: list[tuple[int, dict]]) -> list:
    """POST /quotes/<id>/accept for every (quote id, headers) from its own thread,
    all released by one barrier; `(status, json)` in the same order."""
    barrier = threading.Barrier(len(calls))

    def post(call):
        quote_id, headers = call
        with requests.Session() as session:
            barrier.wait(timeout=30)
            resp = session.post(
                f"{base_url}{API}/quotes/{quote_id}/accept", headers=headers, timeout=60
            )
            return resp.status_code, resp.json()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(post, calls))


def quote_for(client, sales, customer_id, departure_id, seats) -> int:
    """An enquiry of the customer with one open quote; the quote id."""
    enquiry = client.post(
        f"{API}/enquiries",
        headers=sales,
        json={
            "customer_id": customer_id,
            "subject": "Seats?",
            "message": "Please quote",
        },
    )
    assert enquiry.status_code == 201, enquiry.json
    quote = client.post(
        f"{API}/enquiries/{enquiry.json['id']}/quotes",
        headers=sales,
        json={
            "departure_id": departure_id,
            "seats": seats,
            "valid_until": (utcnow() + timedelta(days=3)).isoformat(),
        },
    )
    assert quote.status_code == 201, quote.json
    return quote.json["id"]


def test_concurrent_quote_acceptances_never_oversell(app, client, actors):
    departure = make_departure(app, capacity=CAPACITY)
    sales = actors.headers("sales")
    rng = random.Random(16)
    people = [actors.customer() for _ in range(30)]
    wanted = [rng.randint(1, 3) for _ in people]
    calls = [
        (quote_for(client, sales, p["id"], departure, n), p["headers"])
        for p, n in zip(people, wanted)
    ]

    with gunicorn_server(workers=3, threads=4) as base_url:
        results = accept_together(base_url, calls)

    codes = [status for status, _ in results]
    assert not [c for c in codes if c >= 500], results
    assert set(codes) <= {201, 409}
    accepted = [body for status, body in results if status == 201]
    taken, live = live_seats(app, departure)
    assert taken == sum(live) == sum(b["seats"] for b in accepted) <= CAPACITY
    assert taken >= CAPACITY - 2  # refused ones wanted more than was left
    for status, body in results:
        if status == 409:
            assert body["seats_left"] < wanted[results.index((status, body))]
    with app.app_context():
        won = db.session.scalars(
            select(Enquiry.booking_id).where(Enquiry.stage == "won")
        ).all()
        assert sorted(won) == sorted(b["id"] for b in accepted)
        assert db.session.scalar(
            select(func.count()).select_from(Quote).where(Quote.status == "accepted")
        ) == len(accepted)
        assert db.session.scalar(
            select(func.count()).select_from(Quote).where(Quote.status == "open")
        ) == len(results) - len(accepted)


def test_one_quote_accepted_concurrently_gives_one_booking(app, client, actors):
    departure = make_departure(app, capacity=CAPACITY)
    sales = actors.headers("sales")
    me = actors.customer()
    quote_id = quote_for(client, sales, me["id"], departure, 2)
    calls = [(quote_id, me["headers"] if i % 2 else sales) for i in range(12)]

    with gunicorn_server(workers=3, threads=4) as base_url:
        results = accept_together(base_url, calls)

    codes = [status for status, _ in results]
    assert codes.count(201) == 1, results
    assert codes.count(409) == 11
    taken, live = live_seats(app, departure)
    assert (taken, live) == (2, [2])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
