"""Seats sold on the demo trips (demo/transport.py `seed_trip_sales`, docs/transport.md
"Demo data"): the next trips of every demo route carry trip bookings whose seat rows,
prices, payments and tickets agree with what booking and paying write; the seat
map, a demo customer's bookings and the tickets' barcodes answer over HTTP."""

from collections import Counter, defaultdict
from decimal import Decimal
from itertools import combinations

from sqlalchemy import select

from core.extensions import db
from demo.seed import DEMO_PASSWORD, seed_demo
from demo.transport import SALE_TRIPS
from models import Booking, Fare, SeatSegment, Ticket, TransportRoute, Trip
from models.base import utcnow
from services.transport import ticket_signing


def _seed(app) -> dict:
    with app.app_context():
        return seed_demo(echo=lambda _line: None)


def _query(app, fn):
    """Run `fn()` in an app context and return its result."""
    with app.app_context():
        return fn()


def _rides(booking: Booking) -> set[tuple[str, int]]:
    """(seat, segment) pairs the booking's passengers occupy."""
    return {
        (traveller.seat_label, segment)
        for traveller in booking.travellers
        if traveller.seat_label
        for segment in range(booking.from_sequence, booking.to_sequence)
    }


def _check_booking(booking: Booking) -> None:
    """Seat rows, prices, payment and tickets of one demo trip booking."""
    categories = Counter(t.category for t in booking.travellers)
    assert categories["infant"] <= categories["adult"]
    assert booking.seats == categories["adult"] + categories["child"]
    for traveller in booking.travellers:
        assert (traveller.seat_label is None) == (traveller.category == "infant")
    rows = db.session.execute(
        select(SeatSegment.seat_label, SeatSegment.segment).where(
            SeatSegment.booking_id == booking.id,
            SeatSegment.section_code == booking.section_code,
            SeatSegment.trip_id == booking.trip_id,
        )
    ).all()
    assert sorted(rows) == sorted(_rides(booking))
    fare = db.session.scalar(
        select(Fare.price).where(
            Fare.route_id == booking.trip.route_id,
            Fare.from_station_id == booking.from_station_id,
            Fare.to_station_id == booking.to_station_id,
            Fare.section_code == booking.section_code,
        )
    )
    percent = {"adult": 100, "child": 75, "infant": 0}
    for traveller in booking.travellers:
        expected = fare * percent[traveller.category] / 100
        assert traveller.unit_price == expected.quantize(Decimal("0.01"))
    assert booking.total_amount == sum(t.unit_price for t in booking.travellers)
    assert booking.deposit_amount == booking.total_amount
    assert booking.invoice.total_amount == booking.total_amount
    tickets = db.session.scalars(
        select(Ticket).where(Ticket.booking_id == booking.id)
    ).all()
    paid = sum((p.amount for p in booking.payments), Decimal("0"))
    if booking.status == "confirmed":
        assert paid == booking.amount_paid == booking.total_amount
        assert sorted(t.traveller_id for t in tickets) == sorted(
            t.id for t in booking.travellers
        )
        assert {t.status for t in tickets} == {"valid"}
    else:
        assert booking.status == "held"
        assert paid == booking.amount_paid == 0 and tickets == []
        assert booking.hold_expires_at > utcnow()


def test_demo_sells_seats_on_the_next_trips_of_every_route(app):
    counts = _seed(app)

    def check():
        bookings = db.session.scalars(
            select(Booking).where(Booking.kind == "trip").order_by(Booking.id)
        ).all()
        assert len(bookings) == counts["trip_bookings"] > 0
        for route in db.session.scalars(select(TransportRoute)):
            next_trips = db.session.scalars(
                select(Trip.id)
                .where(Trip.route_id == route.id, Trip.departure_at > utcnow())
                .order_by(Trip.departure_at)
                .limit(SALE_TRIPS)
            ).all()
            sold = {b.trip_id for b in bookings if b.trip.route_id == route.id}
            assert sold == set(next_trips), route.code
        for booking in bookings:
            _check_booking(booking)
        # No seat is on two rides that overlap (same trip and section).
        by_section = defaultdict(list)
        for booking in bookings:
            by_section[booking.trip_id, booking.section_code].append(booking)
        reused = 0
        for group in by_section.values():
            for one, other in combinations(group, 2):
                assert not _rides(one) & _rides(other)
                seats = {t.seat_label for t in one.travellers} - {None}
                reused += bool(seats & {t.seat_label for t in other.travellers})
        assert reused > 0  # a seat sold A-B is sold again B-C
        return (
            Counter(b.status for b in bookings),
            {t.category for b in bookings for t in b.travellers},
            {b.to_sequence - b.from_sequence for b in bookings},
        )

    statuses, categories, lengths = _query(app, check)
    assert set(statuses) == {"confirmed", "held"}
    assert statuses["confirmed"] > statuses["held"] > 0
    assert categories == {"adult", "child", "infant"}
    assert lengths == {1, 2}  # partial rides and whole-route rides


def test_demo_seat_map_shows_a_seat_sold_to_the_middle_stop_free_after_it(app, client):
    _seed(app)

    def partial_ride():
        booking = db.session.scalars(
            select(Booking)
            .where(
                Booking.kind == "trip",
                Booking.from_sequence == 0,
                Booking.to_sequence == 1,
            )
            .order_by(Booking.id)
        ).first()
        calls = sorted(booking.trip.stop_times, key=lambda stop: stop.sequence)
        labels = {t.seat_label for t in booking.travellers} - {None}
        stations = [stop.station_id for stop in calls]
        return booking.trip_id, booking.section_code, stations, labels

    trip_id, section, stations, labels = _query(app, partial_ride)

    def taken(start, end):
        response = client.get(
            f"/api/v1/transport/trips/{trip_id}/seats",
            query_string={
                "from_station_id": stations[start],
                "to_station_id": stations[end],
                "section_code": section,
            },
        )
        assert response.status_code == 200, response.json
        return {
            seat["label"]
            for row in response.json["rows"]
            for seat in row
            if seat and seat["status"] == "taken"
        }

    first_leg, second_leg, whole = taken(0, 1), taken(1, 2), taken(0, 2)
    assert len(stations) == 3 and labels <= first_leg
    assert first_leg - second_leg  # seats sold A-B and free B-C
    assert whole == first_leg | second_leg


def test_demo_customer_has_trip_bookings_with_verifiable_tickets(app, client):
    _seed(app)
    login = client.post(
        "/api/v1/auth/login",
        json={
            "email": "customer@easytravels.test",
            "password": DEMO_PASSWORD,
            "account": "customer",
        },
    )
    assert login.status_code == 200, login.json
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}

    listed = client.get("/api/v1/bookings?kind=trip", headers=headers)

    assert listed.status_code == 200, listed.json
    items = listed.json["items"]
    assert {item["kind"] for item in items} == {"trip"}
    assert {"confirmed", "held"} <= {item["status"] for item in items}
    confirmed = next(item for item in items if item["status"] == "confirmed")
    response = client.get(
        f"/api/v1/bookings/{confirmed['id']}/tickets", headers=headers
    )
    assert response.status_code == 200, response.json
    tickets = response.json
    assert len(tickets) == len(confirmed["passengers"]) > 0
    with app.app_context():
        for ticket in tickets:
            payload = ticket_signing.verify(ticket["barcode"])
            assert payload["n"] == ticket["number"]
            assert payload["st"] == ticket["seat_label"]
            assert payload["t"] == ticket["trip"]["id"]
