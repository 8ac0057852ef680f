"""Segment inventory under real concurrency: many simultaneous trip bookings
(`POST /bookings` with a `trip_id`) against a multi-process gunicorn on PostgreSQL
never put more passengers on a segment than the section has seats, never give one
seat to two bookings on overlapping segments, and still sell a seat again on an
adjacent segment (docs/transport.md "Tickets": segment inventory and seat choice).
"""

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from models import Booking, Fare, SeatSegment, Traveller
from tests.live import gunicorn_server, post_together
from tests.transport.conftest import (
    make_city,
    make_company,
    make_route,
    make_station,
    make_trip,
    make_vehicle,
    seat_rows,
)

pytestmark = pytest.mark.postgres

STOPS = 5  # 4 segments
ROWS = 3  # 3 rows x 4 seats
SEATS = [f"{row}{letter}" for row in range(1, ROWS + 1) for letter in "ABCD"]
REQUESTS = 60
CUSTOMERS = 20  # 3 requests of at most 2 seats each: under the held-seat limit


def make_long_line(app) -> dict:
    """A coach line calling at STOPS stations (Dublin time, an hour apart) with
    one `economy` section of len(SEATS) seats and a fare for every pair; one trip
    30 days ahead. Returns `{trip_id, station_ids}`."""
    company_id = make_company(app)
    city = make_city(app)
    stations = [make_station(app, city) for _ in range(STOPS)]
    vehicle_id = make_vehicle(app, company_id, sections={"economy": seat_rows(ROWS)})
    route_id = make_route(app, company_id, stations)
    with app.app_context():
        for i in range(STOPS):
            for j in range(i + 1, STOPS):
                db.session.add(
                    Fare(
                        route_id=route_id,
                        from_station_id=stations[i],
                        to_station_id=stations[j],
                        section_code="economy",
                        currency="EUR",
                        price=Decimal(10 * (j - i)),
                    )
                )
        db.session.commit()
    calls = [
        (station, f"{8 + n:02d}:00", f"{8 + n:02d}:05")
        for n, station in enumerate(stations)
    ]
    trip_id = make_trip(
        app, route_id, date.today() + timedelta(days=30), calls, vehicle_id=vehicle_id
    )
    return {"trip_id": trip_id, "station_ids": stations}


def ride(line, frm: int, to: int, passengers: int, **extra) -> dict:
    """A trip booking body from stop `frm` to stop `to` for `passengers` people
    (the second one a child)."""
    stations = line["station_ids"]
    people = [
        {
            "name": f"Passenger {n}",
            "birth_date": "1990-01-01" if n == 0 else "2016-01-01",
            "category": "adult" if n == 0 else "child",
        }
        for n in range(passengers)
    ]
    return {
        "trip_id": line["trip_id"],
        "from_station_id": stations[frm],
        "to_station_id": stations[to],
        "section_code": "economy",
        "passengers": people,
        **extra,
    }


def fire_together(base_url: str, bodies_and_headers: list[tuple[dict, dict]]) -> list:
    """POST every (body, headers) pair to /bookings at once (tests.live
    post_together); returns `(status, json)` in the same order."""
    calls = [("/bookings", body, headers) for body, headers in bodies_and_headers]
    return [(status, body) for status, body, _ in post_together(base_url, calls)]


def seat_rows_of_trip(app, trip_id: int) -> dict[int, set[tuple[str, int]]]:
    """`{booking_id: {(seat_label, segment)}}` of every SeatSegment row of the trip."""
    with app.app_context():
        rows = db.session.execute(
            select(
                SeatSegment.booking_id, SeatSegment.seat_label, SeatSegment.segment
            ).where(SeatSegment.trip_id == trip_id)
        ).all()
    out: dict[int, set[tuple[str, int]]] = {}
    for booking_id, label, segment in rows:
        out.setdefault(booking_id, set()).add((label, segment))
    return out


def trip_bookings(app, trip_id: int) -> dict[int, dict]:
    """`{booking_id: {status, from_sequence, to_sequence, seats: [labels]}}` of the
    trip's bookings, seats from their passengers."""
    with app.app_context():
        bookings = db.session.scalars(
            select(Booking).where(Booking.trip_id == trip_id)
        ).all()
        return {
            b.id: {
                "status": b.status,
                "from_sequence": b.from_sequence,
                "to_sequence": b.to_sequence,
                "seats": sorted(t.seat_label for t in b.travellers if t.seat_label),
            }
            for b in bookings
        }


def random_plan(rng: random.Random, line, people, staff) -> list[tuple[dict, dict]]:
    """REQUESTS (body, headers): random rides of 1-2 passengers, half on chosen
    seats; customers book for themselves, or sales staff book naming them."""
    pairs = []
    for n in range(REQUESTS):
        frm = rng.randrange(0, STOPS - 1)
        to = rng.randrange(frm + 1, STOPS)
        count = rng.choice((1, 1, 2))
        extra = {"seat_labels": rng.sample(SEATS, count)} if n % 2 else {}
        person = people[n % CUSTOMERS]
        if n % 4 < 2:
            headers = person["headers"]
        else:
            headers = staff
            extra["customer_id"] = person["id"]
        pairs.append((ride(line, frm, to, count, **extra), headers))
    return pairs


def test_concurrent_random_rides_never_oversell_a_segment(app, actors):
    line = make_long_line(app)
    people = [actors.customer() for _ in range(CUSTOMERS)]
    staff = actors.headers("sales")
    pairs = random_plan(random.Random(20261207), line, people, staff)

    with gunicorn_server(workers=2, threads=4) as base_url:
        results = fire_together(base_url, pairs)

    assert not [status for status, _ in results if status >= 500], results
    assert {status for status, _ in results} <= {201, 409}, results
    refused = [
        (body, answer)
        for (body, _), (status, answer) in zip(pairs, results)
        if status == 409
    ]
    assert refused and len(refused) < REQUESTS  # real contention, some sold
    for body, answer in refused:
        assert answer["type"] in (
            "/problems/seat-taken",
            "/problems/seats-unavailable",
        ), answer
        if answer["type"] == "/problems/seat-taken":
            assert answer["seat_label"] in body.get("seat_labels", SEATS)

    booked = trip_bookings(app, line["trip_id"])
    rows = seat_rows_of_trip(app, line["trip_id"])
    created = [
        (body, answer)
        for (body, _), (status, answer) in zip(pairs, results)
        if status == 201
    ]
    assert len(created) == len(booked)
    assert {answer["id"] for _, answer in created} == set(booked)
    assert all(b["status"] == "held" for b in booked.values())
    # Every booking's passengers sit exactly on its SeatSegment rows.
    for booking_id, booking in booked.items():
        expected = {
            (label, segment)
            for label in booking["seats"]
            for segment in range(booking["from_sequence"], booking["to_sequence"])
        }
        assert rows.get(booking_id, set()) == expected, booking_id
    assert set(rows) == set(booked)
    # Every 201 answer shows exactly the seats of its rows (and the chosen ones).
    for body, answer in created:
        seats = sorted(answer["seat_labels"])
        assert seats == booked[answer["id"]]["seats"]
        assert len(seats) == len(body["passengers"])
        if "seat_labels" in body:
            assert seats == sorted(body["seat_labels"])
    # No (seat, segment) twice, no segment over the section's seats.
    pairs_taken = Counter(pair for taken in rows.values() for pair in taken)
    assert max(pairs_taken.values()) == 1
    per_segment = Counter(segment for _, segment in pairs_taken)
    assert set(per_segment) <= set(range(STOPS - 1))
    assert max(per_segment.values()) <= len(SEATS)
    with app.app_context():
        seated = db.session.scalar(
            select(func.count())
            .select_from(Traveller)
            .join(Booking, Booking.id == Traveller.booking_id)
            .where(
                Booking.trip_id == line["trip_id"], Traveller.seat_label.is_not(None)
            )
        )
    assert seated == sum(len(b["seats"]) for b in booked.values())


OVERLAPPING = [(0, 2), (1, 3), (1, 4), (0, 4), (1, 2), (0, 3), (1, 3), (0, 2)]


def test_one_seat_on_overlapping_rides_goes_to_exactly_one(app, actors):
    line = make_long_line(app)
    staff = actors.headers("sales")
    people = [actors.customer() for _ in OVERLAPPING]
    # Every ride crosses segment 1: only one of them can have seat 2B.
    pairs = [
        (ride(line, frm, to, 1, seat_labels=["2B"], customer_id=p["id"]), staff)
        for (frm, to), p in zip(OVERLAPPING, people)
    ]

    with gunicorn_server(workers=2, threads=4) as base_url:
        results = fire_together(base_url, pairs)

    statuses = [status for status, _ in results]
    assert statuses.count(201) == 1, results
    assert statuses.count(409) == len(OVERLAPPING) - 1, results
    for status, answer in results:
        if status == 409:
            assert answer["type"] == "/problems/seat-taken"
            assert answer["seat_label"] == "2B"
    rows = seat_rows_of_trip(app, line["trip_id"])
    winner = next(answer for status, answer in results if status == 201)
    assert list(rows) == [winner["id"]]
    assert {label for label, _ in rows[winner["id"]]} == {"2B"}


def test_adjacent_rides_share_one_seat_in_parallel(app, actors):
    line = make_long_line(app)
    staff = actors.headers("sales")
    customer = actors.customer()
    legs = [(n, n + 1) for n in range(STOPS - 1)]  # A-B, B-C, C-D, D-E
    pairs = [
        (ride(line, frm, to, 1, seat_labels=["1A"], customer_id=customer["id"]), staff)
        for frm, to in legs
    ]

    with gunicorn_server(workers=2, threads=4) as base_url:
        results = fire_together(base_url, pairs)

    assert [status for status, _ in results] == [201] * len(legs), results
    assert all(answer["seat_labels"] == ["1A"] for _, answer in results)
    rows = seat_rows_of_trip(app, line["trip_id"])
    assert sorted(pair for taken in rows.values() for pair in taken) == [
        ("1A", segment) for segment in range(STOPS - 1)
    ]
