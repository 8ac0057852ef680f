"""Per-customer seat limits (docs/design.md "Rules with numbers";
services/booking/booking_limits.py): a customer books at most MAX_SEATS_PER_BOOKING
(10) seats at once (422 on `seats`) and holds at most MAX_HELD_SEATS_PER_CUSTOMER
(10) unpaid seats per departure (409 `held-seats-limit`); staff are not limited.
Without them one customer held a whole departure (two holds of 50 seats on 100) for
15 minutes, renewably."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from core.extensions import db
from models import Booking
from models.base import utcnow
from tests import live
from tests.booking.conftest import BOOKINGS, seats_taken
from tests.factories import make_departure


def book(client, headers, dep: int, seats: int, **extra):
    return client.post(
        BOOKINGS, json={"departure_id": dep, "seats": seats, **extra}, headers=headers
    )


def test_customer_booking_above_max_seats_per_booking_is_422(app, client, actors):
    dep = make_departure(app, capacity=100)
    response = book(client, actors.headers("customer"), dep, 11)
    assert response.status_code == 422
    assert "MAX_SEATS_PER_BOOKING" in response.get_json()["errors"]["seats"][0]
    assert seats_taken(app, dep) == 0
    assert book(client, actors.headers("customer"), dep, 10).status_code == 201


def test_customer_cannot_hold_more_than_ten_unpaid_seats_per_departure(
    app, client, actors
):
    dep = make_departure(app, capacity=100)
    me = actors.headers("customer")
    assert book(client, me, dep, 6).status_code == 201
    response = book(client, me, dep, 5)
    assert response.status_code == 409
    body = response.get_json()
    assert body["type"] == "/problems/held-seats-limit"
    assert body["limit"] == "MAX_HELD_SEATS_PER_CUSTOMER"
    assert (body["held_seats"], body["max_held_seats"]) == (6, 10)
    assert seats_taken(app, dep) == 6
    assert book(client, me, dep, 4).status_code == 201
    # another departure has its own budget
    assert book(client, me, make_departure(app, capacity=20), 10).status_code == 201


def test_the_two_holds_of_fifty_are_refused(app, client, actors):
    dep = make_departure(app, capacity=100)
    me = actors.headers("customer")
    assert [book(client, me, dep, 50).status_code for _ in range(2)] == [422, 422]
    assert seats_taken(app, dep) == 0


def test_paid_and_expired_holds_free_the_budget(app, client, actors):
    dep = make_departure(app, capacity=100, price="100.00")
    me = actors.headers("customer")
    first = book(client, me, dep, 10).get_json()
    paid = client.post(
        f"{BOOKINGS}/{first['id']}/payments",
        json={"amount": "1000.00", "method": "cash"},
        headers=actors.headers("finance"),
    )
    assert paid.status_code == 201
    second = book(client, me, dep, 10)
    assert second.status_code == 201
    with app.app_context():
        db.session.execute(
            update(Booking)
            .where(Booking.id == second.get_json()["id"])
            .values(hold_expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    assert book(client, me, dep, 10).status_code == 201


def test_staff_are_not_limited(app, client, actors):
    dep = make_departure(app, capacity=100)
    customer = actors.customer()
    for _ in range(2):
        response = book(
            client, actors.headers("sales"), dep, 40, customer_id=customer["id"]
        )
        assert response.status_code == 201
    assert seats_taken(app, dep) == 80


@pytest.mark.postgres
def test_parallel_holds_of_one_customer_stay_within_the_limit(app, actors, monkeypatch):
    """Eight simultaneous 3-seat holds by one customer on a 4-worker gunicorn
    (PostgreSQL): three fit under 10, the rest get 409 held-seats-limit."""
    monkeypatch.setattr(live, "START_TIMEOUT", 120.0)
    dep = make_departure(app, capacity=100)
    customer = actors.customer()
    barrier = threading.Barrier(8)

    def hold(_):
        with requests.Session() as session:
            barrier.wait(timeout=60)
            response = session.post(
                f"{base_url}{BOOKINGS}",
                json={"departure_id": dep, "seats": 3},
                headers=customer["headers"],
                timeout=120,
            )
            return response.status_code, response.json().get("type")

    with (
        live.gunicorn_server(workers=4, threads=2) as base_url,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        results = list(pool.map(hold, range(8)))

    assert sorted(results, key=str) == sorted(
        [(201, None)] * 3 + [(409, "/problems/held-seats-limit")] * 5, key=str
    )
    assert seats_taken(app, dep) == 9
