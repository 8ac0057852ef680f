"""The transport part of the demo data set (docs/transport.md; demo/seed.py calls
`seed_transport` and `seed_trip_sales` as its last steps): two companies, a coach
line and a rail line, with vehicles divided into sections with seat maps and
amenities, stations in five timezones (Dublin, London, Paris, Brussels, Lisbon),
routes with intermediate stops, fares for every pair and section, schedules and a
month of trips from today. `seed_trip_sales` then sells seats on the next
departures of every route (trip bookings with passengers, seats, invoices,
payments, tickets).

Times are written as each station's local time (GTFS style, hours past 24 for the
night coach) and stored as UTC with services.transport.timetable, as the API
does; the night coach crosses two zone borders and midnight. Trips and stop times
are inserted in bulk. Deterministic, and skipped when the demo companies exist.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.extensions import db
from models import (
    Amenity,
    Booking,
    City,
    Fare,
    Payment,
    RouteStop,
    Schedule,
    Station,
    Ticket,
    TransportCompany,
    TransportRoute,
    Trip,
    Vehicle,
    VehicleSection,
)
from models.booking import Traveller
from services.payments import billing
from services.shared.money import money
from services.transport import seating, ticketing, tickets, timetable
from services.transport.bulk import insert_returning_ids, insert_stop_times

# Days of trips generated from today, and how long the schedules run.
TRIP_DAYS = 30
SCHEDULE_DAYS = 90

AMENITIES = (
    ("wifi", "Wi-Fi"),
    ("power", "Power sockets"),
    ("meal", "Meal service"),
    ("toilet", "Toilet"),
    ("wheelchair", "Wheelchair space"),
)
# (name, country, IANA timezone)
CITIES = (
    ("Dublin", "IE", "Europe/Dublin"),
    ("London", "GB", "Europe/London"),
    ("Paris", "FR", "Europe/Paris"),
    ("Brussels", "BE", "Europe/Brussels"),
    ("Lille", "FR", "Europe/Paris"),
    ("Lisbon", "PT", "Europe/Lisbon"),
    ("Porto", "PT", "Europe/Lisbon"),
)
# (code, name, city, latitude, longitude)
STATIONS = (
    ("IEDUBBUS", "Dublin Busáras", "Dublin", "53.350000", "-6.251400"),
    ("GBLONVIC", "London Victoria Coach Station", "London", "51.492600", "-0.149100"),
    ("FRPARBER", "Paris Bercy Seine", "Paris", "48.835600", "2.380500"),
    ("BEBRUNOR", "Brussels North", "Brussels", "50.859600", "4.360600"),
    ("GBSTP", "London St Pancras International", "London", "51.531600", "-0.126400"),
    ("FRLLE", "Lille Europe", "Lille", "50.639200", "3.075700"),
    ("FRPNO", "Paris Gare du Nord", "Paris", "48.880900", "2.355300"),
    ("BEBMI", "Brussels-Midi", "Brussels", "50.835700", "4.336400"),
    ("PTLOR", "Lisboa Oriente", "Lisbon", "38.767900", "-9.099000"),
    ("PTOPO", "Porto Campanhã", "Porto", "41.148600", "-8.585600"),
)


def _seats(rows: int, letters: str, prefix: str = "") -> dict:
    """A seat map of `rows` rows of `letters`, an aisle in the middle."""
    half = (len(letters) + 1) // 2
    return {
        "rows": [
            [f"{prefix}{r}{c}" for c in letters[:half]]
            + [None]
            + [f"{prefix}{r}{c}" for c in letters[half:]]
            for r in range(1, rows + 1)
        ]
    }


COMPANIES = (
    {
        "code": "EMERALD",
        "name": "Emerald Coaches",
        "country": "IE",
        "timezone": "Europe/Dublin",
        "email": "bookings@emerald-coaches.example.com",
        "phone": "+353 1 555 0100",
        "website": "https://emerald-coaches.example.com",
        "mode": "bus",
        "vehicles": (
            ("Irizar i8 Night", "231-D-1001", ("wifi", "power", "toilet")),
            ("Irizar i8 Day", "231-D-1002", ("wifi", "power", "toilet", "wheelchair")),
        ),
        "sections": (
            ("premium", "Premium", _seats(3, "ABC"), Decimal("1.5")),
            ("standard", "Standard", _seats(12, "ABCD", ""), Decimal("1")),
        ),
        # (code, name, [(station, arrival, departure)], [departure variants])
        "routes": (
            (
                "EM1",
                "Dublin - London - Paris (night coach)",
                [
                    ("IEDUBBUS", "19:00", "19:00"),
                    ("GBLONVIC", "28:30", "29:15"),
                    ("FRPARBER", "38:00", "38:00"),
                ],
                "1111111",
                Decimal("19"),
            ),
            (
                "EM2",
                "London - Paris - Brussels",
                [
                    ("GBLONVIC", "08:00", "08:00"),
                    ("FRPARBER", "16:30", "17:00"),
                    ("BEBRUNOR", "20:45", "20:45"),
                ],
                "1111100",
                Decimal("15"),
            ),
        ),
    },
    {
        "code": "ATLRAIL",
        "name": "Atlantic Rail",
        "country": "FR",
        "timezone": "Europe/Paris",
        "email": "service@atlantic-rail.example.com",
        "phone": "+33 1 55 55 01 00",
        "website": "https://atlantic-rail.example.com",
        "mode": "train",
        "vehicles": (
            ("Class 374 set 4011", "374-4011", ("wifi", "power", "meal", "toilet")),
            ("Class 374 set 4012", "374-4012", ("wifi", "power", "meal", "toilet")),
            ("Alfa Pendular 4001", "AP-4001", ("wifi", "power", "meal", "wheelchair")),
        ),
        "sections": (
            ("business", "Business", _seats(4, "ABC", "B"), Decimal("2.2")),
            ("standard", "Standard", _seats(15, "ABCD"), Decimal("1")),
        ),
        "routes": (
            (
                "AR1",
                "London - Lille - Brussels",
                [
                    ("GBSTP", "07:01", "07:01"),
                    ("FRLLE", "10:24", "10:27"),
                    ("BEBMI", "11:05", "11:05"),
                ],
                "1111111",
                Decimal("29"),
            ),
            (
                "AR2",
                "Paris - Lille - London",
                [
                    ("FRPNO", "18:13", "18:13"),
                    ("FRLLE", "19:15", "19:18"),
                    ("GBSTP", "19:39", "19:39"),
                ],
                "1111111",
                Decimal("35"),
            ),
            (
                "AR3",
                "Lisbon - Porto",
                [("PTLOR", "09:09", "09:09"), ("PTOPO", "12:03", "12:03")],
                "1111110",
                Decimal("24"),
            ),
        ),
    },
)


def card_payment(booking, invoice) -> Payment:
    """The demo card payment of everything `booking` has paid (`amount_paid`),
    recorded against `invoice` when the booking was confirmed (package and trip
    demo bookings alike)."""
    return Payment(
        booking_id=booking.id,
        invoice_id=invoice.id,
        customer_id=booking.customer_id,
        amount=booking.amount_paid,
        currency=booking.currency,
        method="card",
        reference=f"demo-{booking.reference}",
        created_at=booking.confirmed_at,
    )


def seed_transport(
    today: date, counts: dict, currency: str | None = None
) -> list[TransportRoute]:
    """Add the transport demo rows to the session (the caller commits), counting
    them in `counts`; returns the routes added (for `seed_trip_sales`), none when
    the demo companies exist already."""
    codes = [company["code"] for company in COMPANIES]
    if db.session.scalar(
        select(TransportCompany.id).where(TransportCompany.code.in_(codes)).limit(1)
    ):
        return []
    currency = currency or current_app.config.get("DEFAULT_CURRENCY", "EUR")
    amenities = _amenities(counts)
    stations = _stations(counts)
    routes = []
    for spec in COMPANIES:
        routes += _company(spec, today, amenities, stations, currency, counts)
    return routes


def _amenities(counts: dict) -> dict:
    found = {a.code: a for a in db.session.scalars(select(Amenity))}
    for code, name in AMENITIES:
        if code not in found:
            found[code] = Amenity(code=code, name=name)
            db.session.add(found[code])
            counts["amenities"] += 1
    return found


def _stations(counts: dict) -> dict:
    """Station code -> Station, cities and stations created where missing."""
    cities = {}
    for name, country, zone_name in CITIES:
        city = db.session.scalar(
            select(City).where(City.name == name, City.country == country)
        )
        if city is None:
            city = City(name=name, country=country, timezone=zone_name)
            db.session.add(city)
            counts["cities"] += 1
        cities[name] = city
    stations = {}
    for code, name, city_name, latitude, longitude in STATIONS:
        station = db.session.scalar(select(Station).where(Station.code == code))
        if station is None:
            city = cities[city_name]
            station = Station(
                code=code,
                name=name,
                city=city,
                latitude=Decimal(latitude),
                longitude=Decimal(longitude),
                timezone=city.timezone,
            )
            db.session.add(station)
            counts["stations"] += 1
        stations[code] = station
    db.session.flush()
    return stations


def _company(spec, today, amenities, stations, currency, counts) -> list:
    company = TransportCompany(
        **{
            key: spec[key]
            for key in ("code", "name", "country", "timezone", "email", "phone")
        },
        website=spec["website"],
        active=True,
    )
    db.session.add(company)
    counts["transport_companies"] += 1
    vehicles = []
    for name, registration, amenity_codes in spec["vehicles"]:
        vehicle = Vehicle(
            company=company, mode=spec["mode"], name=name, registration=registration
        )
        vehicle.amenities = [amenities[code] for code in amenity_codes]
        for position, (code, title, seat_map, _) in enumerate(spec["sections"]):
            capacity = sum(1 for row in seat_map["rows"] for seat in row if seat)
            vehicle.sections.append(
                VehicleSection(
                    code=code,
                    name=title,
                    seat_map=seat_map,
                    capacity=capacity,
                    position=position,
                )
            )
        db.session.add(vehicle)
        vehicles.append(vehicle)
        counts["vehicles"] += 1
    db.session.flush()
    routes = []
    for index, (code, name, calls, weekdays, base) in enumerate(spec["routes"]):
        route = TransportRoute(company=company, mode=spec["mode"], code=code, name=name)
        for position, (station_code, _, _) in enumerate(calls):
            route.stops.append(
                RouteStop(station=stations[station_code], position=position)
            )
        db.session.add(route)
        counts["transport_routes"] += 1
        db.session.flush()
        _fares(route, calls, spec["sections"], base, stations, currency, counts)
        vehicle = vehicles[index % len(vehicles)]
        _schedule(route, vehicle, calls, weekdays, today, stations, counts)
        routes.append(route)
    return routes


def _fares(route, calls, sections, base, stations, currency, counts) -> None:
    """A fare for every pair (from before to) and section: the base price per leg
    times the legs, times the section's factor."""
    for i in range(len(calls)):
        for j in range(i + 1, len(calls)):
            for code, _, _, factor in sections:
                price = (base * (j - i) * factor).quantize(Decimal("0.01"))
                db.session.add(
                    Fare(
                        route_id=route.id,
                        from_station_id=stations[calls[i][0]].id,
                        to_station_id=stations[calls[j][0]].id,
                        section_code=code,
                        currency=currency,
                        price=price,
                    )
                )
                counts["fares"] += 1


def _schedule(route, vehicle, calls, weekdays, today, stations, counts) -> None:
    """The route's schedule from today and its trips of the next TRIP_DAYS days
    (every stop time in its station's local time, stored as UTC)."""
    pattern = [
        {"station_id": stations[code].id, "arrival": arrival, "departure": departure}
        for code, arrival, departure in calls
    ]
    schedule = Schedule(
        route_id=route.id,
        vehicle_id=vehicle.id,
        stop_times=pattern,
        weekdays=weekdays,
        start_date=today,
        end_date=today + timedelta(days=SCHEDULE_DAYS - 1),
        added_dates=[],
        removed_dates=[],
        headsign=route.name.split(" - ")[-1].split(" (")[0],
    )
    db.session.add(schedule)
    db.session.flush()
    counts["schedules"] += 1
    trips, stop_times = [], []
    for offset in range(TRIP_DAYS):
        day = today + timedelta(days=offset)
        if weekdays[day.weekday()] != "1":
            continue
        rows = [
            _stop_time(sequence, stations[code], arrival, departure, day)
            for sequence, (code, arrival, departure) in enumerate(calls)
        ]
        stop_times.append(rows)
        trips.append(
            {
                "route_id": route.id,
                "vehicle_id": vehicle.id,
                "schedule_id": schedule.id,
                "service_date": day,
                "status": "scheduled",
                "headsign": schedule.headsign,
                "departure_at": rows[0]["departure_at"],
                "arrival_at": rows[-1]["arrival_at"],
            }
        )
    ids = insert_returning_ids(Trip.__table__, trips)
    flat = []
    for trip_id, rows in zip(ids, stop_times, strict=True):
        for row in rows:
            row["trip_id"] = trip_id
        flat += rows
    insert_stop_times(flat)
    counts["trips"] += len(trips)
    counts["stop_times"] += len(flat)


def _stop_time(sequence, station, arrival, departure, day) -> dict:
    return {
        "station_id": station.id,
        "sequence": sequence,
        "arrival_local": arrival,
        "departure_local": departure,
        "arrival_at": timetable.to_utc(day, arrival, station.timezone),
        "departure_at": timetable.to_utc(day, departure, station.timezone),
    }


# --- seats sold on the demo trips ------------------------------------------------

# Trips of each route that get bookings: the next SALE_TRIPS departures from now.
SALE_TRIPS = 3
# The rides sold on each of those trips, in order: (boarding stop, alighting stop
# (-1: the last), section (0: premium or business, 1: standard), the passengers'
# categories, status). A ride from stop 1 may take a seat a ride to stop 1 left:
# the seat map shows seats sold A-B and free B-C. On a two-stop route every ride
# is the whole route. The held ride is sold on each route's first trip only.
RIDES = (
    (0, -1, 1, ("adult", "adult"), "confirmed"),
    (0, 1, 1, ("adult", "child", "infant"), "confirmed"),
    (1, -1, 1, ("adult",), "confirmed"),
    (0, -1, 0, ("adult",), "confirmed"),
    (0, 1, 1, ("adult", "adult", "child"), "confirmed"),
    (1, -1, 1, ("adult", "infant"), "confirmed"),
    (0, -1, 0, ("adult", "child"), "held"),
)
# Who travels with the customer (the customer's surname), ages in whole years.
COMPANIONS = {
    "adult": ("Maeve", "Tom", "Ana", "Pierre", "Ines", "Karl"),
    "child": ("Lily", "Oisin", "Leo", "Maya"),
    "infant": ("Finn", "Rosa", "Eli"),
}
AGES = {"adult": (19, 72), "child": (3, 10), "infant": (0, 0)}
NATIONALITIES = ("IE", "GB", "FR", "BE", "PT", "ES", "DE")


def seed_trip_sales(s, routes: list, customers: list, known: int, reference) -> None:
    """Sell seats on the next SALE_TRIPS trips of each of `routes` (those leaving
    after `s.now`): the RIDES as trip bookings of `customers`, the first `known`
    (the README's logins) taking the first rides of each route's first trip.

    Priced as POST /bookings prices them (ticketing.prices_for: the fare, child and
    infant percentages), seats assigned as it assigns them (seating.assign, never
    one seat on overlapping segments), seat-segment rows and the invoice written;
    a confirmed booking is paid in full by card and has one `valid` ticket per
    passenger, the rows the confirming payment writes (tickets.issue_tickets; no
    mail or webhook is queued for demo data). Infants have no seat.

    `s` is the demo seeder (rng, now, counts, policy, hold_minutes), `reference()`
    a new booking reference. Counts trip_bookings, trip_passengers, seat_segments
    and tickets. docs/transport.md "Demo data"."""
    sold = []
    for route_index, route in enumerate(routes):
        for trip_index, trip in enumerate(_sale_trips(route, s.now)):
            taken = defaultdict(set)  # (section code, segment) -> seat labels
            for ride_index, ride in enumerate(RIDES):
                if ride[4] == "held" and trip_index > 0:
                    continue
                first = route_index == 0 and trip_index == 0
                if trip_index == 0 and ride_index < known:
                    customer = customers[ride_index]
                elif first and ride[4] == "held":
                    customer = customers[0]
                else:
                    customer = s.rng.choice(customers[known:])
                booking = _sell(s, trip, ride, customer, taken, reference)
                if booking is not None:
                    sold.append(booking)
    db.session.flush()
    numbers: set[str] = set()
    for booking in sold:
        _sale_records(s, booking, numbers)


def _sale_trips(route: TransportRoute, now) -> list[Trip]:
    """The route's next SALE_TRIPS scheduled trips leaving after `now`, with stop
    times and vehicle sections."""
    return list(
        db.session.scalars(
            select(Trip)
            .where(
                Trip.route_id == route.id,
                Trip.status == "scheduled",
                Trip.departure_at > now,
            )
            .order_by(Trip.departure_at)
            .limit(SALE_TRIPS)
            .options(
                selectinload(Trip.stop_times),
                selectinload(Trip.vehicle).selectinload(Vehicle.sections),
            )
        )
    )


def _sell(s, trip: Trip, ride: tuple, customer, taken, reference) -> Booking | None:
    """The unsaved trip Booking of `ride` on `trip` for `customer` with its
    passengers on seats free on every segment of the ride (marked in `taken`);
    None when the section has too few free seats."""
    start, end, section_index, party, status = ride
    calls = sorted(trip.stop_times, key=lambda stop: stop.sequence)
    start = min(start, len(calls) - 2)
    end = len(calls) - 1 if end < 0 else max(min(end, len(calls) - 1), start + 1)
    board, alight = calls[start], calls[end]
    sections = sorted(trip.vehicle.sections, key=lambda section: section.position)
    section = sections[min(section_index, len(sections) - 1)]
    segments = seating.segments(board.sequence, alight.sequence)
    busy = set().union(*(taken[section.code, segment] for segment in segments))
    seated = sum(1 for category in party if category in ticketing.SEATED)
    labels = seating.assign(section, busy, seated)
    if labels is None:
        return None
    for segment in segments:
        taken[section.code, segment].update(labels)
    prices, currency = ticketing.prices_for(trip, board, alight, section.code)
    travellers = _passengers(s, party, customer, labels, prices, trip.service_date)
    total = money(sum((t.unit_price for t in travellers), Decimal(0)))
    booking = Booking(
        kind="trip",
        reference=reference(),
        customer_id=customer.id,
        trip_id=trip.id,
        from_station_id=board.station_id,
        to_station_id=alight.station_id,
        from_sequence=board.sequence,
        to_sequence=alight.sequence,
        section_code=section.code,
        seats=seated,
        status=status,
        currency=currency,
        unit_price=prices["adult"],
        total_amount=total,
        amount_paid=total if status == "confirmed" else Decimal("0.00"),
        amount_refunded=Decimal("0.00"),
        deposit_amount=total,
        price_snapshot={name: f"{amount:.2f}" for name, amount in prices.items()},
        cancellation_policy=[dict(tier) for tier in s.policy],
        travellers=travellers,
    )
    _sale_times(s, booking)
    db.session.add(booking)
    s.counts["trip_bookings"] += 1
    s.counts["trip_passengers"] += len(travellers)
    return booking


def _sale_times(s, booking: Booking) -> None:
    """Creation, confirmation and hold expiry: a held booking was made minutes
    ago and holds BOOKING_HOLD_MINUTES; a confirmed one was paid minutes after it
    was made, up to twelve days ago."""
    if booking.status == "held":
        booking.created_at = s.now - timedelta(minutes=s.rng.randint(1, 5))
        booking.hold_expires_at = booking.created_at + timedelta(minutes=s.hold_minutes)
        booking.updated_at = booking.created_at
        return
    booking.created_at = s.now - timedelta(days=s.rng.uniform(0.5, 12))
    booking.confirmed_at = booking.created_at + timedelta(minutes=s.rng.randint(2, 14))
    booking.updated_at = booking.confirmed_at


def _passengers(s, party, customer, labels, prices, day) -> list[Traveller]:
    """The passengers of `party` (the customer first, companions with the
    customer's surname), born so that their category fits on `day`; adults carry
    a passport; a seat each from `labels` but for infants."""
    seats = iter(labels)
    surname = customer.name.split()[-1]
    travellers = []
    for index, category in enumerate(party):
        first = s.rng.choice(COMPANIONS[category])
        low, high = AGES[category]
        age_days = 365 * s.rng.randint(low, high) + s.rng.randint(30, 330)
        adult = category == "adult"
        travellers.append(
            Traveller(
                name=customer.name if index == 0 else f"{first} {surname}",
                birth_date=day - timedelta(days=age_days),
                category=category,
                unit_price=prices[category],
                document_type="passport" if adult else None,
                document_number=(
                    f"P{s.rng.randint(1000000, 9999999)}" if adult else None
                ),
                nationality=s.rng.choice(NATIONALITIES) if adult else None,
                seat_label=next(seats) if category in ticketing.SEATED else None,
            )
        )
    return travellers


def _sale_records(s, booking: Booking, numbers: set[str]) -> None:
    """What booking and paying write for a flushed demo trip booking: its seat
    rows on every segment of the ride, the invoice and, once confirmed, the card
    payment of the total and one `valid` ticket per passenger (numbers drawn from
    the seeder's rng: the data set stays deterministic)."""
    labels = [t.seat_label for t in booking.travellers if t.seat_label]
    seating.occupy(
        booking, labels, trip_id=booking.trip_id, section_code=booking.section_code
    )
    s.counts["seat_segments"] += len(labels) * (
        booking.to_sequence - booking.from_sequence
    )
    invoice = billing.issue_invoice(booking)
    if booking.status != "confirmed":
        return
    db.session.add(card_payment(booking, invoice))
    for traveller in booking.travellers:
        number = _ticket_number(s, numbers)
        db.session.add(
            Ticket(
                number=number,
                booking_id=booking.id,
                traveller_id=traveller.id,
                trip_id=booking.trip_id,
                status="valid",
                created_at=booking.confirmed_at,
                updated_at=booking.confirmed_at,
            )
        )
        s.counts["tickets"] += 1


def _ticket_number(s, numbers: set[str]) -> str:
    """A ticket number as tickets.new_number makes them, from the seeder's rng,
    unlike the `numbers` drawn before (added to it)."""
    while True:
        number = tickets.NUMBER_PREFIX + "".join(
            s.rng.choice(tickets.NUMBER_ALPHABET) for _ in range(tickets.NUMBER_LENGTH)
        )
        if number not in numbers:
            numbers.add(number)
            return number
