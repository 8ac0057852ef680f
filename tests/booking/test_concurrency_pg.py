"""Seat inventory under real concurrency: many simultaneous POST /bookings against
a multi-process gunicorn on PostgreSQL never oversell a departure or one of its
capacity-limited categories (docs/design.md "Rules with numbers": seats, "whatever the
number of concurrent requests and worker processes").
"""

import random
import threading

import pytest
from sqlalchemy import func, select

from core.extensions import db
from models import Booking, DepartureCategory, Traveller
from tests.booking.conftest import book, category_taken, lapse, party
from tests.factories import live_seats, make_departure
from tests.live import gunicorn_server, post_together

pytestmark = pytest.mark.postgres

REQUESTS = 50
CAPACITY = 10


def fire_together(base_url: str, bodies_and_headers: list[tuple[dict, dict]]) -> list:
    """POST every (body, headers) pair to /bookings at once (tests.live
    post_together); returns `(status, json)` in the same order."""
    calls = [("/bookings", body, headers) for body, headers in bodies_and_headers]
    return [(status, body) for status, body, _ in post_together(base_url, calls)]


def customers(actors, count: int) -> list[dict]:
    return [actors.customer() for _ in range(count)]


def test_create_concurrent_single_seats_never_oversell(app, actors):
    dep = make_departure(app, capacity=CAPACITY)
    people = customers(actors, REQUESTS)
    pairs = [({"departure_id": dep, "seats": 1}, p["headers"]) for p in people]

    with gunicorn_server(workers=2) as base_url:
        results = fire_together(base_url, pairs)

    codes = [status for status, _ in results]
    assert not [c for c in codes if c >= 500], results
    assert codes.count(201) == CAPACITY
    assert codes.count(409) == REQUESTS - CAPACITY
    assert all(body["seats_left"] == 0 for status, body in results if status == 409)
    created = [body for status, body in results if status == 201]
    assert len({body["reference"] for body in created}) == CAPACITY
    taken, booked = live_seats(app, dep)
    assert taken == CAPACITY
    assert booked == [1] * CAPACITY
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booking)) == CAPACITY


def test_create_concurrent_random_seats_never_oversell(app, actors):
    dep = make_departure(app, capacity=CAPACITY)
    people = customers(actors, 10)
    rng = random.Random(20240601)
    pairs = [
        (
            {"departure_id": dep, "seats": rng.randint(1, 3)},
            rng.choice(people)["headers"],
        )
        for _ in range(REQUESTS)
    ]

    # Threads per worker raise the number of transactions racing in the database.
    with gunicorn_server(workers=2, threads=4) as base_url:
        results = fire_together(base_url, pairs)

    assert not [status for status, _ in results if status >= 500], results
    assert {status for status, _ in results} <= {201, 409}
    created = [body["seats"] for status, body in results if status == 201]
    refused = [
        (pair[0]["seats"], body)
        for pair, (status, body) in zip(pairs, results)
        if status == 409
    ]
    assert all(body["seats_left"] < asked for asked, body in refused)
    taken, booked = live_seats(app, dep)
    assert taken == sum(created) == sum(booked) <= CAPACITY
    assert taken >= CAPACITY - 2  # stops only when even the smallest ask cannot fit


ATTEMPTS = 200
BIG_CAPACITY = 120
CHILD_LIMIT = 25
BUSINESS_LIMIT = (
    4  # low enough that a category refusal always happens before the departure fills
)


def category_state(app, departure_id) -> tuple[dict, dict]:
    """({category: seats_taken}, {category: seats of live bookings}) of the departure;
    live bookings without travellers count as adult."""
    with app.app_context():
        taken = dict(
            db.session.execute(
                select(DepartureCategory.category, DepartureCategory.seats_taken).where(
                    DepartureCategory.departure_id == departure_id
                )
            ).all()
        )
        live = select(Booking.id).where(
            Booking.departure_id == departure_id,
            Booking.status.in_(("held", "confirmed")),
        )
        named = dict(
            db.session.execute(
                select(Traveller.category, func.count())
                .where(Traveller.booking_id.in_(live))
                .group_by(Traveller.category)
            ).all()
        )
        unnamed = db.session.scalar(
            select(func.coalesce(func.sum(Booking.seats), 0)).where(
                Booking.id.in_(live), ~Booking.travellers.any()
            )
        )
        named["adult"] = named.get("adult", 0) + int(unnamed)
        return taken, {k: v for k, v in named.items() if v}


def random_attempt(rng: random.Random, departure_id: int) -> dict:
    """A booking body of 1-3 seats: all adult without travellers, or named travellers
    mixing adult, child (limited) and business (limited)."""
    seats = rng.randint(1, 3)
    if rng.random() < 0.3:
        return {"departure_id": departure_id, "seats": seats}
    kinds = rng.choices(["adult", "child", "business"], weights=[3, 2, 1], k=seats)
    travellers = [
        {"name": f"T{n}", "birth_date": "2001-02-03", "category": kind}
        for n, kind in enumerate(kinds)
    ]
    return {"departure_id": departure_id, "seats": seats, "travellers": travellers}


def test_create_200_concurrent_mixed_categories_never_oversell(app, actors):
    dep = make_departure(
        app,
        capacity=BIG_CAPACITY,
        prices={"child": "600.00", "business": "2500.00"},
        category_capacities={"child": CHILD_LIMIT, "business": BUSINESS_LIMIT},
    )
    # One customer per attempt: a customer holds at most 10 unpaid seats per departure.
    people = customers(actors, ATTEMPTS)
    rng = random.Random(20260303)
    pairs = [(random_attempt(rng, dep), person["headers"]) for person in people]

    with gunicorn_server(workers=2, threads=4) as base_url:
        results = fire_together(base_url, pairs)

    assert not [status for status, _ in results if status >= 500], results
    assert {status for status, _ in results} <= {201, 409}
    assert sum(1 for status, _ in results if status == 201) > 0
    refused = [body for status, body in results if status == 409]
    assert all(body["type"] == "/problems/seats-unavailable" for body in refused)
    assert all(body.get("category") in (None, "child", "business") for body in refused)
    assert any(body.get("category") for body in refused)  # the limits were really hit
    created = [body for status, body in results if status == 201]
    assert len({body["invoice_number"] for body in created}) == len(created)
    taken, booked = live_seats(app, dep)
    assert taken == sum(body["seats"] for body in created) == sum(booked)
    assert taken <= BIG_CAPACITY
    category_taken, category_live = category_state(app, dep)
    assert {k: v for k, v in category_taken.items() if v} == category_live
    assert category_taken["child"] <= CHILD_LIMIT
    assert category_taken["business"] <= BUSINESS_LIMIT
    assert sum(category_taken.values()) == taken


def test_create_concurrent_frees_lapsed_holds_once_beside_a_sweep(app, actors):
    """A full departure whose every seat is a lapsed hold: bookings take seats
    without expiring holds first, and only a refusal (departure or category) expires
    them. Under concurrent bookings of both kinds and a concurrent sweep, no
    request fails or deadlocks, nothing oversells, and each lapsed hold is expired
    once with one credit note."""
    from models import CreditNote, Invoice
    from services.booking import holds

    dep = make_departure(
        app,
        capacity=CAPACITY,
        prices={"child": "10.00"},
        category_capacities={"child": 4},
    )
    client = app.test_client()
    owner = actors.customer()["headers"]
    lapsed = [
        book(client, owner, departure_id=dep, seats=seats, **extra).get_json()["id"]
        for seats, extra in [
            (2, {}),
            (2, {}),
            (2, {}),
            (4, {"travellers": party("child", "child", "child", "child")}),
        ]
    ]
    lapse(app, *lapsed)
    people = customers(actors, 30)
    pairs = [
        (
            {"departure_id": dep, "seats": 1}
            | ({"travellers": party("child")} if n % 2 else {}),
            person["headers"],
        )
        for n, person in enumerate(people)
    ]
    swept = []

    def sweep():
        with app.app_context():
            swept.append(holds.expire_holds())

    with gunicorn_server(workers=2, threads=4) as base_url:
        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        results = fire_together(base_url, pairs)
        sweeper.join(timeout=60)

    assert swept, "the sweep failed"
    assert not [status for status, _ in results if status >= 500], results
    assert {status for status, _ in results} <= {201, 409}
    children = [
        body for status, body in results if status == 201 and body["travellers"]
    ]
    assert len(children) <= 4  # the child limit
    taken, booked = live_seats(app, dep)
    # 15 adults ask for 10 seats: some are refused, so only a full departure
    # refuses, and every lapsed seat was given back.
    assert taken == sum(booked) == CAPACITY
    assert category_taken(app, dep) == {
        "adult": CAPACITY - len(children),
        "child": len(children),
    }
    with app.app_context():
        states = db.session.scalars(
            select(Booking.status).where(Booking.id.in_(lapsed))
        ).all()
        assert states == ["expired"] * len(lapsed)
        notes = db.session.execute(
            select(Invoice.booking_id, func.count(CreditNote.id))
            .join(CreditNote, CreditNote.invoice_id == Invoice.id)
            .where(Invoice.booking_id.in_(lapsed))
            .group_by(Invoice.booking_id)
        ).all()
        assert sorted(notes) == sorted((booking, 1) for booking in lapsed)
