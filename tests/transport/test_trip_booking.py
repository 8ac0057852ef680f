"""Booking a ride on a transport trip through `POST /bookings` (docs/transport.md
"Tickets"): pricing per passenger category, segment inventory, seat choice and
assignment, the seat map, the booking lifecycle shared with packages, and the
trip filters of the booking list."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from models import Booking, SeatSegment, Station, TransportRoute, Trip
from models.base import utcnow
from tests.factories import assert_problem
from tests.transport.conftest import TRANSPORT, book_trip_in_db, make_line

BOOKINGS = "/api/v1/bookings"


def adult(name="Ann Adult"):
    return {"name": name, "birth_date": "1980-05-01", "category": "adult"}


def child(name="Cid Child"):
    return {"name": name, "birth_date": "2017-05-01", "category": "child"}


def infant(name="Ina Infant"):
    return {"name": name, "birth_date": "2025-05-01", "category": "infant"}


def ride(line, frm=0, to=2, passengers=None, **extra):
    """A trip booking body for `line` from stop `frm` to stop `to`."""
    stations = line["station_ids"]
    return {
        "trip_id": line["trip_id"],
        "from_station_id": stations[frm],
        "to_station_id": stations[to],
        "section_code": "economy",
        "passengers": passengers or [adult()],
        **extra,
    }


def book(client, headers, body):
    return client.post(BOOKINGS, json=body, headers=headers)


@pytest.fixture
def line(app):
    return make_line(app)  # 2 rows x 4 seats: 1A 1B | 1C 1D, 2A 2B | 2C 2D


# --- pricing ----------------------------------------------------------------------


def test_price_per_category_uses_the_route_percentages(app, client, actors, line):
    with app.app_context():
        route = db.session.get(TransportRoute, line["route_id"])
        route.child_percent, route.infant_percent = 50, 10
        db.session.commit()
    customer = actors.customer()

    response = book(
        client,
        customer["headers"],
        ride(line, passengers=[adult(), child(), infant()]),
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert body["kind"] == "trip"
    assert body["price_snapshot"] == {
        "adult": "20.00",
        "child": "10.00",
        "infant": "2.00",
    }
    assert body["total_amount"] == "32.00"
    assert body["deposit_amount"] == "32.00"  # paid in full
    assert body["seats"] == 2  # the infant has no seat
    assert [p["seat_label"] for p in body["passengers"]] == ["1A", "1B", None]
    assert [p["unit_price"] for p in body["passengers"]] == ["20.00", "10.00", "2.00"]
    assert body["status"] == "held" and body["invoice_number"]
    assert body["from"]["departure_local"] == "08:00"
    assert body["to"]["arrival_local"] == "12:00"
    assert body["trip"]["id"] == line["trip_id"]


def test_default_child_is_75_percent_and_infant_free(client, actors, line):
    customer = actors.customer()

    response = book(
        client, customer["headers"], ride(line, 0, 1, [adult(), child(), infant()])
    )

    assert response.status_code == 201
    assert response.json["total_amount"] == "17.50"  # 10.00 + 7.50 + 0.00


def test_more_infants_than_adults_is_422(client, actors, line):
    customer = actors.customer()

    response = book(client, customer["headers"], ride(line, passengers=[infant()]))

    body = assert_problem(response, 422)
    assert "passengers" in body["errors"]


def test_a_ride_without_a_fare_is_422(app, client, actors, line):
    customer = actors.customer()
    with app.app_context():
        db.session.execute(
            db.text("DELETE FROM transport_fares WHERE route_id = :r"),
            {"r": line["route_id"]},
        )
        db.session.commit()

    body = assert_problem(book(client, customer["headers"], ride(line)), 422)

    assert "to_station_id" in body["errors"]


@pytest.mark.parametrize(
    ("frm", "to", "field"), [(2, 0, "to_station_id"), (1, 1, "to_station_id")]
)
def test_stations_out_of_order_are_422(client, actors, line, frm, to, field):
    customer = actors.customer()

    body = assert_problem(book(client, customer["headers"], ride(line, frm, to)), 422)

    assert field in body["errors"]


def test_unknown_section_and_trip_are_422(client, actors, line):
    headers = actors.customer()["headers"]

    section = assert_problem(
        book(client, headers, ride(line, section_code="first")), 422
    )
    trip = assert_problem(book(client, headers, ride(line, trip_id=999_999)), 422)

    assert "section_code" in section["errors"]
    assert "trip_id" in trip["errors"]


def test_a_body_naming_a_departure_and_a_trip_is_422(client, actors, line):
    headers = actors.customer()["headers"]

    body = assert_problem(
        book(client, headers, ride(line, departure_id=1, seats=1)), 422
    )

    assert "trip_id" in body["errors"]


# --- segment inventory ----------------------------------------------------------


def test_adjacent_segments_share_a_seat(client, actors, line):
    headers = actors.customer()["headers"]

    first = book(client, headers, ride(line, 0, 1, seat_labels=["1A"]))
    second = book(client, headers, ride(line, 1, 2, seat_labels=["1A"]))

    assert first.status_code == 201 and second.status_code == 201
    assert first.json["seat_labels"] == second.json["seat_labels"] == ["1A"]


def test_overlapping_ride_cannot_take_the_same_seat(client, actors, line):
    headers = actors.customer()["headers"]
    assert (
        book(client, headers, ride(line, 0, 1, seat_labels=["2C"])).status_code == 201
    )

    response = book(client, headers, ride(line, 0, 2, seat_labels=["2C"]))

    body = assert_problem(response, 409)
    assert body["type"] == "/problems/seat-taken" and body["seat_label"] == "2C"


def test_a_full_segment_refuses_a_ride_over_it(app, client, actors, line):
    customer = actors.customer()
    seats = ("1A", "1B", "1C", "1D", "2A", "2B", "2C", "2D")
    book_trip_in_db(
        app, line["trip_id"], customer["id"], from_seq=1, to_seq=2, seats=seats
    )
    headers = actors.headers("sales")

    over = book(client, headers, ride(line, 0, 2, customer_id=customer["id"]))
    before = book(client, headers, ride(line, 0, 1, customer_id=customer["id"]))

    body = assert_problem(over, 409)
    assert body["type"] == "/problems/seats-unavailable" and body["seats_left"] == 0
    assert before.status_code == 201  # the first segment is still empty


def test_a_seat_on_the_same_segment_is_refused_by_the_database(app, line, actors):
    customer = actors.customer()
    booking_id = book_trip_in_db(app, line["trip_id"], customer["id"], seats=("1A",))

    with app.app_context(), pytest.raises(IntegrityError):
        db.session.add(
            SeatSegment(
                trip_id=line["trip_id"],
                section_code="economy",
                seat_label="1A",
                segment=1,
                booking_id=booking_id,
            )
        )
        db.session.commit()


# --- seat choice and assignment ---------------------------------------------------


def test_seats_are_assigned_together(app, client, actors, line):
    customer = actors.customer()
    book_trip_in_db(app, line["trip_id"], customer["id"], seats=("1A",))

    response = book(
        client, customer["headers"], ride(line, passengers=[adult(), adult("Bo")])
    )

    assert response.json["seat_labels"] == ["1C", "1D"]  # 1B alone beside 1A


@pytest.mark.parametrize(
    "labels", [["1A", "1A"], ["9Z", "1B"], ["1A"]], ids=["twice", "unknown", "count"]
)
def test_bad_seat_labels_are_422(client, actors, line, labels):
    headers = actors.customer()["headers"]

    response = book(
        client,
        headers,
        ride(line, passengers=[adult(), adult("Bo")], seat_labels=labels),
    )

    assert "seat_labels" in assert_problem(response, 422)["errors"]


def test_seat_map_shows_free_and_taken_for_the_ride(app, client, actors, line):
    customer = actors.customer()
    book_trip_in_db(
        app, line["trip_id"], customer["id"], from_seq=0, to_seq=1, seats=("1A",)
    )
    book_trip_in_db(
        app, line["trip_id"], customer["id"], from_seq=1, to_seq=2, seats=("1B",)
    )
    a, b, c = line["station_ids"]
    url = f"{TRANSPORT}/trips/{line['trip_id']}/seats"

    second_leg = client.get(
        url,
        query_string={
            "from_station_id": b,
            "to_station_id": c,
            "section_code": "economy",
        },
    )
    whole = client.get(
        url,
        query_string={
            "from_station_id": a,
            "to_station_id": c,
            "section_code": "economy",
        },
    )

    assert second_leg.status_code == 200
    assert second_leg.json["rows"][0][:2] == [
        {"label": "1A", "status": "free"},
        {"label": "1B", "status": "taken"},
    ]
    assert second_leg.json["rows"][0][2] is None  # the aisle
    assert second_leg.json["seats_left"] == 7
    assert whole.json["seats_left"] == 6


def test_seat_map_of_an_unknown_trip_is_404(client, line):
    a, b, _ = line["station_ids"]

    response = client.get(
        f"{TRANSPORT}/trips/999999/seats",
        query_string={
            "from_station_id": a,
            "to_station_id": b,
            "section_code": "economy",
        },
    )

    assert_problem(response, 404)


def test_search_counts_seats_left_for_the_ride(app, client, actors, line):
    customer = actors.customer()
    book_trip_in_db(app, line["trip_id"], customer["id"], seats=("1A", "1B", "1C"))
    with app.app_context():
        codes = [db.session.get(Station, s).code for s in line["station_ids"]]

    response = client.get(
        f"{TRANSPORT}/search",
        query_string={
            "from": codes[0],
            "to": codes[1],
            "date": line["service_date"].isoformat(),
        },
    )

    assert response.status_code == 200, response.json
    sections = response.json["items"][0]["sections"]
    assert sections[0]["seats_left"] == 5

    def offers(passengers):
        query = {
            "from": codes[0],
            "to": codes[2],
            "date": line["service_date"].isoformat(),
            "passengers": passengers,
        }
        return client.get(f"{TRANSPORT}/search", query_string=query).json["items"]

    assert len(offers(5)) == 1
    assert offers(6) == []  # 3 of 8 seats sold over the whole ride


# --- the lifecycle shared with package bookings ---------------------------------


def test_cancelling_gives_the_seats_back(client, actors, line):
    headers = actors.customer()["headers"]
    first = book(client, headers, ride(line, seat_labels=["2D"])).json

    cancel = client.post(f"{BOOKINGS}/{first['id']}/cancel", json={}, headers=headers)
    again = book(client, headers, ride(line, seat_labels=["2D"]))

    assert cancel.status_code == 200, cancel.json
    assert again.status_code == 201


def test_a_lapsed_hold_never_blocks_a_seat(app, client, actors, line):
    headers = actors.customer()["headers"]
    first = book(client, headers, ride(line, seat_labels=["1A"])).json
    with app.app_context():
        booking = db.session.get(Booking, first["id"])
        booking.hold_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()

    again = book(client, headers, ride(line, seat_labels=["1A"]))

    assert again.status_code == 201
    with app.app_context():
        assert db.session.get(Booking, first["id"]).status == "expired"


def test_a_cancelled_or_departed_trip_is_not_sold(app, client, actors, line):
    headers = actors.customer()["headers"]
    with app.app_context():
        trip = db.session.get(Trip, line["trip_id"])
        trip.status = "cancelled"
        db.session.commit()

    response = book(client, headers, ride(line))

    assert assert_problem(response, 409)["type"] == "/problems/trip-not-bookable"


def test_the_quote_counts_hours_before_the_boarding_stop(client, actors, line):
    headers = actors.customer()["headers"]
    booking = book(client, headers, ride(line, 1, 2)).json

    quote = client.get(
        f"{BOOKINGS}/{booking['id']}/cancellation-quote", headers=headers
    )

    assert quote.status_code == 200
    days = quote.json["hours_before_departure"] / 24
    assert 29 < days < 31  # the line's trip leaves B 30 days ahead at 10:10


# --- lists ------------------------------------------------------------------------


def test_my_trips_upcoming_and_past(app, client, actors, line):
    customer = actors.customer()
    past_line = make_line(app, days_ahead=-3)
    upcoming = book_trip_in_db(app, line["trip_id"], customer["id"])
    past = book_trip_in_db(app, past_line["trip_id"], customer["id"])
    headers = customer["headers"]

    def ids(**query):
        response = client.get(BOOKINGS, query_string=query, headers=headers)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids(kind="trip", when="upcoming") == [upcoming]
    assert ids(kind="trip", when="past") == [past]
    assert ids(kind="package") == []


def test_staff_filter_trip_bookings(app, client, actors, line):
    customer = actors.customer()
    other_line = make_line(app)
    mine = book_trip_in_db(app, line["trip_id"], customer["id"])
    book_trip_in_db(app, other_line["trip_id"], customer["id"])
    headers = actors.headers("sales")

    def ids(**query):
        return [
            item["id"]
            for item in client.get(BOOKINGS, query_string=query, headers=headers).json[
                "items"
            ]
        ]

    assert ids(company_id=line["company_id"]) == [mine]
    assert ids(trip_id=line["trip_id"]) == [mine]
    assert ids(travel_date=line["service_date"].isoformat(), kind="trip") == sorted(
        ids(kind="trip"), reverse=True
    )


# --- confirmation ---------------------------------------------------------------


def test_paying_in_full_confirms_and_issues_one_ticket_per_passenger(
    client, actors, line
):
    customer = actors.customer()
    booking = book(
        client, customer["headers"], ride(line, passengers=[adult(), infant()])
    ).json
    url = f"{BOOKINGS}/{booking['id']}"

    before = client.get(f"{url}/tickets", headers=customer["headers"])
    paid = client.post(
        f"{url}/payments",
        json={"amount": booking["total_amount"], "method": "cash"},
        headers=actors.headers("finance"),
    )
    after = client.get(f"{url}/tickets", headers=customer["headers"])

    assert before.status_code == 200 and before.json == []
    assert paid.status_code == 201, paid.json
    assert client.get(url, headers=customer["headers"]).json["status"] == "confirmed"
    assert [t["seat_label"] for t in after.json] == ["1A", None]
    assert all(t["status"] == "valid" and t["barcode"] for t in after.json)


def test_rides_on_one_trip_never_block_merging_two_customers(app, client, actors, line):
    sales = actors.headers("sales")
    keep, gone = actors.customer(), actors.customer()
    book_trip_in_db(app, line["trip_id"], keep["id"], seats=("1A",))
    book_trip_in_db(app, line["trip_id"], gone["id"], seats=("1B",))

    response = client.post(
        f"/api/v1/customers/{keep['id']}/merge",
        json={"from_customer_id": gone["id"]},
        headers=sales,
    )

    assert response.status_code == 202, response.json  # filed for a second pair of eyes
