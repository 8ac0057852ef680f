"""What the transport tests share: TRANSPORT (the URL prefix), rows made straight in
the database (`make_company`, `make_city`, `make_station`, `make_vehicle`,
`make_route`, `make_trip`; a whole priced line `make_line` and a confirmed trip
booking with seats and tickets `book_trip_in_db`), an operator of a company
(`operator_of`) and the shared GTFS test data (`GTFS_DATA`, the folder of sample
feeds, and `zip_feed`).

Fixtures come from tests/conftest.py (`app`, `client`, `actors`).
"""

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from core.extensions import db
from models import (
    Booking,
    City,
    Fare,
    RouteStop,
    SeatSegment,
    Station,
    StopTime,
    Ticket,
    TransportCompany,
    TransportRoute,
    Traveller,
    Trip,
    Vehicle,
    VehicleSection,
)
from services.transport import timetable
from tests import ROOT

TRANSPORT = "/api/v1/transport"
# Sample feeds (google/transitfeed's test data, Apache-2.0, unchanged); their
# README says what an importer should do with each.
GTFS_DATA = ROOT / "tests" / "transport" / "data" / "gtfs"

_seq = {"n": 0}


def _next() -> int:
    _seq["n"] += 1
    return _seq["n"]


def make_company(app, **fields) -> int:
    """A transport company; returns its id."""
    n = _next()
    with app.app_context():
        company = TransportCompany(
            name=fields.pop("name", f"Company {n}"),
            code=fields.pop("code", f"CO{n}"),
            country=fields.pop("country", "IE"),
            timezone=fields.pop("timezone", "Europe/Dublin"),
            **fields,
        )
        db.session.add(company)
        db.session.commit()
        return company.id


def make_city(app, name=None, country="IE", timezone="Europe/Dublin") -> int:
    """A city; returns its id."""
    with app.app_context():
        city = City(name=name or f"City {_next()}", country=country, timezone=timezone)
        db.session.add(city)
        db.session.commit()
        return city.id


def make_station(app, city_id=None, *, code=None, timezone=None, **fields) -> int:
    """A station in `city_id` (a new Dublin-time city when None); returns its id."""
    n = _next()
    with app.app_context():
        if city_id is None:
            city = City(name=f"City {n}", country="IE", timezone="Europe/Dublin")
            db.session.add(city)
            db.session.flush()
            city_id = city.id
        city = db.session.get(City, city_id)
        station = Station(
            code=code or f"ST{n}",
            name=fields.pop("name", f"Station {n}"),
            city_id=city_id,
            timezone=timezone or city.timezone,
            **fields,
        )
        db.session.add(station)
        db.session.commit()
        return station.id


def seat_rows(rows: int, letters: str = "ABCD", prefix: str = "") -> dict:
    """A seat map of `rows` rows, an aisle after the second letter."""
    half = len(letters) // 2
    return {
        "rows": [
            [f"{prefix}{r}{c}" for c in letters[:half]]
            + [None]
            + [f"{prefix}{r}{c}" for c in letters[half:]]
            for r in range(1, rows + 1)
        ]
    }


def make_vehicle(app, company_id, *, mode="bus", sections=None, **fields) -> int:
    """A vehicle with sections `{code: seat_map}` (default one economy section of
    10 rows x 4 seats); returns its id."""
    n = _next()
    sections = sections or {"economy": seat_rows(10)}
    with app.app_context():
        vehicle = Vehicle(
            company_id=company_id,
            mode=mode,
            name=fields.pop("name", f"Vehicle {n}"),
            registration=fields.pop("registration", f"REG-{n}"),
            **fields,
        )
        for position, (code, seat_map) in enumerate(sections.items()):
            vehicle.sections.append(
                VehicleSection(
                    code=code,
                    name=code.title(),
                    seat_map=seat_map,
                    capacity=sum(1 for row in seat_map["rows"] for seat in row if seat),
                    position=position,
                )
            )
        db.session.add(vehicle)
        db.session.commit()
        return vehicle.id


def make_route(app, company_id, station_ids, *, mode="bus", **fields) -> int:
    """A route calling at `station_ids` in order; returns its id."""
    n = _next()
    with app.app_context():
        route = TransportRoute(
            company_id=company_id,
            mode=mode,
            code=fields.pop("code", f"R{n}"),
            name=fields.pop("name", f"Route {n}"),
            **fields,
        )
        for position, station_id in enumerate(station_ids):
            route.stops.append(RouteStop(station_id=station_id, position=position))
        db.session.add(route)
        db.session.commit()
        return route.id


def make_trip(app, route_id, service_date: date, calls, *, vehicle_id=None) -> int:
    """A scheduled trip; `calls` is `[(station_id, "HH:MM" arrival, "HH:MM"
    departure)]` in each station's local time. Returns its id."""
    with app.app_context():
        trip = Trip(
            route_id=route_id,
            vehicle_id=vehicle_id,
            service_date=service_date,
            status="scheduled",
        )
        for sequence, (station_id, arrival, departure) in enumerate(calls):
            tz = db.session.get(Station, station_id).timezone
            trip.stop_times.append(
                StopTime(
                    station_id=station_id,
                    sequence=sequence,
                    arrival_local=arrival,
                    departure_local=departure,
                    arrival_at=timetable.to_utc(service_date, arrival, tz),
                    departure_at=timetable.to_utc(service_date, departure, tz),
                )
            )
        trip.departure_at = trip.stop_times[0].departure_at
        trip.arrival_at = trip.stop_times[-1].arrival_at
        db.session.add(trip)
        db.session.commit()
        return trip.id


def operator_of(actors, company_id) -> dict:
    """A new `operator` employee of `company_id` (`{"id", "email", "headers"}`)."""
    return actors.employee("operator", company_id=company_id)


def zip_feed(folder: Path) -> bytes:
    """The .txt files of a GTFS feed folder as one zip archive in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.glob("*.txt")):
            archive.write(path, path.name)
    return buffer.getvalue()


LINE_FARES = {(0, 1): "10.00", (1, 2): "12.00", (0, 2): "20.00"}


def make_line(app, *, rows: int = 2, days_ahead: int = 30, sections=None) -> dict:
    """A priced coach line A -> B -> C (Dublin time) of a new company: a vehicle
    with one `economy` section of `rows` rows x 4 seats (or `sections`, code ->
    seat map), a route with fares in EUR (A-B 10.00, B-C 12.00, A-C 20.00 for
    every section) and one trip `days_ahead` days from today calling at A 08:00,
    B 10:00 / 10:10, C 12:00. Returns `{company_id, station_ids: [a, b, c],
    vehicle_id, route_id, trip_id, service_date}`."""
    company_id = make_company(app)
    city = make_city(app)
    stations = [make_station(app, city) for _ in range(3)]
    sections = sections or {"economy": seat_rows(rows)}
    vehicle_id = make_vehicle(app, company_id, sections=sections)
    route_id = make_route(app, company_id, stations)
    with app.app_context():
        for (i, j), price in LINE_FARES.items():
            for code in sections:
                db.session.add(
                    Fare(
                        route_id=route_id,
                        from_station_id=stations[i],
                        to_station_id=stations[j],
                        section_code=code,
                        currency="EUR",
                        price=Decimal(price),
                    )
                )
        db.session.commit()
    service_date = date.today() + timedelta(days=days_ahead)
    calls = [
        (stations[0], "08:00", "08:00"),
        (stations[1], "10:00", "10:10"),
        (stations[2], "12:00", "12:00"),
    ]
    trip_id = make_trip(app, route_id, service_date, calls, vehicle_id=vehicle_id)
    return {
        "company_id": company_id,
        "station_ids": stations,
        "vehicle_id": vehicle_id,
        "route_id": route_id,
        "trip_id": trip_id,
        "service_date": service_date,
    }


def book_trip_in_db(
    app,
    trip_id: int,
    customer_id: int,
    *,
    from_seq: int = 0,
    to_seq: int = 2,
    section_code: str = "economy",
    seats=("1A",),
    status: str = "confirmed",
    price: str = "20.00",
) -> int:
    """A trip booking written straight in the database: one adult passenger per
    seat of `seats` from stop `from_seq` to `to_seq`, its seat rows and (when
    confirmed) one `valid` ticket each, numbered TK-<booking>-<n>. Returns the
    booking id."""
    n = _next()
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        calls = {stop.sequence: stop.station_id for stop in trip.stop_times}
        total = Decimal(price) * len(seats)
        booking = Booking(
            kind="trip",
            reference=f"ET-T{n:05d}",
            customer_id=customer_id,
            trip_id=trip_id,
            from_station_id=calls[from_seq],
            to_station_id=calls[to_seq],
            from_sequence=from_seq,
            to_sequence=to_seq,
            section_code=section_code,
            seats=len(seats),
            status=status,
            currency="EUR",
            unit_price=Decimal(price),
            total_amount=total,
            amount_paid=total if status == "confirmed" else Decimal("0.00"),
            amount_refunded=Decimal("0.00"),
            deposit_amount=total,
            price_snapshot={"adult": price},
            cancellation_policy=[
                {"tier": "any", "min_hours_before": 0, "penalty_percent": 0}
            ],
        )
        for k, label in enumerate(seats):
            booking.travellers.append(
                Traveller(
                    name=f"Passenger {n}-{k}",
                    birth_date=date(1990, 1, 1),
                    category="adult",
                    unit_price=Decimal(price),
                    seat_label=label,
                )
            )
        db.session.add(booking)
        db.session.flush()
        for label in seats:
            for segment in range(from_seq, to_seq):
                db.session.add(
                    SeatSegment(
                        trip_id=trip_id,
                        section_code=section_code,
                        seat_label=label,
                        segment=segment,
                        booking_id=booking.id,
                    )
                )
        if status == "confirmed":
            for k, traveller in enumerate(booking.travellers):
                db.session.add(
                    Ticket(
                        number=f"TK-{booking.id}-{k}",
                        booking_id=booking.id,
                        traveller_id=traveller.id,
                        trip_id=trip_id,
                        status="valid",
                    )
                )
        db.session.commit()
        return booking.id


def pay_trip_booking_in_db(app, booking_id: int, method: str = "cash") -> int:
    """The invoice (when missing) and one `method` payment of what trip booking
    `booking_id` records as paid (`amount_paid`, e.g. a confirmed booking of
    `book_trip_in_db`), written straight in the database as the payment service
    would leave them, so a cancellation has money to refund; a wallet payment is
    funded and debited through the ledger. Returns the payment id."""
    from models import Invoice, Payment
    from services.payments import billing, wallet

    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        invoice = db.session.scalar(
            db.select(Invoice).where(Invoice.booking_id == booking_id)
        ) or billing.issue_invoice(booking)
        payment = Payment(
            booking_id=booking.id,
            invoice_id=invoice.id,
            customer_id=booking.customer_id,
            amount=booking.amount_paid,
            currency=booking.currency,
            method=method,
            reference=f"{method}-trip-{booking.id}",
        )
        db.session.add(payment)
        db.session.flush()
        if method == "wallet":
            wallet.post_entry(
                customer_id=booking.customer_id,
                amount=payment.amount,
                kind="adjustment",
                reason="test funding",
            )
            wallet.post_entry(
                customer_id=booking.customer_id,
                amount=-payment.amount,
                kind="payment_debit",
                reason="test payment",
                booking_id=booking.id,
                payment_id=payment.id,
            )
        db.session.commit()
        return payment.id
