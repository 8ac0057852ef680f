"""The transport part of the demo data set (docs/transport.md; demo/seed.py calls
`seed_transport` as its last step): two companies, a coach line and a rail line,
with vehicles divided into sections with seat maps and amenities, stations in
five timezones (Dublin, London, Paris, Brussels, Lisbon), routes with
intermediate stops, fares for every pair and section, schedules and a month of
trips from today.

Times are written as each station's local time (GTFS style, hours past 24 for the
night coach) and stored as UTC with services.transport.timetable, as the API
does; the night coach crosses two zone borders and midnight. Trips and stop times
are inserted in bulk. Deterministic, and skipped when the demo companies exist.
"""

from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from models import (
    Amenity,
    City,
    Fare,
    RouteStop,
    Schedule,
    Station,
    TransportCompany,
    TransportRoute,
    Trip,
    Vehicle,
    VehicleSection,
)
from services.transport import timetable
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


def seed_transport(today: date, counts: dict, currency: str | None = None) -> None:
    """Add the transport demo rows to the session (the caller commits), counting
    them in `counts`; nothing when the demo companies exist already."""
    codes = [company["code"] for company in COMPANIES]
    if db.session.scalar(
        select(TransportCompany.id).where(TransportCompany.code.in_(codes)).limit(1)
    ):
        return
    currency = currency or current_app.config.get("DEFAULT_CURRENCY", "EUR")
    amenities = _amenities(counts)
    stations = _stations(counts)
    for spec in COMPANIES:
        _company(spec, today, amenities, stations, currency, counts)


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


def _company(spec, today, amenities, stations, currency, counts) -> None:
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
