"""What the transport tests share: TRANSPORT (the URL prefix), rows made straight in
the database (`make_company`, `make_city`, `make_station`, `make_vehicle`,
`make_route`, `make_trip`), an operator of a company (`operator_of`) and the
shared GTFS test data (`GTFS_DATA`, the folder of sample feeds, and `zip_feed`).

Fixtures come from tests/conftest.py (`app`, `client`, `actors`).
"""

import io
import zipfile
from datetime import date
from pathlib import Path

from core.extensions import db
from models import (
    City,
    RouteStop,
    Station,
    StopTime,
    TransportCompany,
    TransportRoute,
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
