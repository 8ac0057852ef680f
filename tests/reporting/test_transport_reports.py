"""GET /api/v1/reports/transport/...: popular routes, city pairs, load factor per
trip and per segment, revenue by company and by route, against a small network whose
figures are worked out by hand below (JSON and CSV, filters, roles, bad arguments),
on SQLite and on PostgreSQL.

The network: company Atlantic runs route DUB-GAL (Dublin -> Athlone -> Galway; a
vehicle with an `economy` section of 8 seats and a `first` section of 2) on two
trips, T1 (2030-05-10) and T2 (2030-06-01); company Midland runs ATH-LIM (Athlone ->
Limerick; 6 economy seats) on T3 (2030-05-20) and T4 (2030-05-25, cancelled).

Bookings (seat, stops, status; price per seat):

    T1 k1  1A 1B      D->G  confirmed  20.00  (+ an infant without a seat)
    T1 k2  2A 2B      D->A  confirmed  10.00
    T1 k3  2A         A->G  completed  12.00  (2A again, on the next segment)
    T1 k4  first F1A  D->G  confirmed  30.00
    T1 k5  2D         D->G  held       20.00  (never counted)
    T1 k6  2C         D->G  cancelled after sale, 15.00 of 20.00 refunded
    T1 k7  1C         D->A  expired    10.00  (never sold)
    T2 k8  1A         D->G  confirmed  20.00  (booked 2025-12-01, the rest 2026-01-10)
    T3 k9  1A 1B 1C   A->L  confirmed  15.00
    T3 k10 2A         A->L  confirmed  15.00
    T4 k11 1A         A->L  cancelled with the trip, 15.00 refunded in full
"""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete

from core.extensions import db
from models import Booking, SeatSegment, Traveller, Trip
from tests.factories import assert_problem
from tests.transport.conftest import (
    book_trip_in_db,
    make_city,
    make_company,
    make_route,
    make_station,
    make_trip,
    make_vehicle,
    operator_of,
    seat_rows,
)

API = "/api/v1/reports/transport"
SOLD_AT = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def _alter(app, booking_id, *, release=False, **fields):
    """Set `fields` on a booking; `release` deletes its seat rows (as expiry and
    cancellation do)."""
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        for name, value in fields.items():
            setattr(booking, name, value)
        if release:
            db.session.execute(
                delete(SeatSegment).where(SeatSegment.booking_id == booking_id)
            )
        db.session.commit()


@pytest.fixture
def net(app, actors):
    """The network and bookings of the module docstring; returns the ids by name."""
    ids = {"atlantic": make_company(app, name="Atlantic Coaches", code="ATL")}
    ids["midland"] = make_company(app, name="Midland Bus", code="MID")
    for city in ("Dublin", "Athlone", "Galway", "Limerick"):
        ids[city] = make_city(app, city)
    dub = make_station(app, ids["Dublin"], code="DUB")
    ath = make_station(app, ids["Athlone"], code="ATH")
    gal = make_station(app, ids["Galway"], code="GAL")
    ath2 = make_station(app, ids["Athlone"], code="ATH2")
    lim = make_station(app, ids["Limerick"], code="LIM")
    ids["stations"] = {"DUB": dub, "ATH": ath, "GAL": gal}
    coach = make_vehicle(
        app,
        ids["atlantic"],
        sections={"economy": seat_rows(2), "first": seat_rows(1, "AB", prefix="F")},
    )
    bus = make_vehicle(app, ids["midland"], sections={"economy": seat_rows(2, "ABC")})
    ids["r1"] = make_route(
        app, ids["atlantic"], [dub, ath, gal], code="DUB-GAL", name="Dublin Galway"
    )
    ids["r2"] = make_route(
        app, ids["midland"], [ath2, lim], code="ATH-LIM", name="Athlone Limerick"
    )
    three = [(dub, "08:00", "08:00"), (ath, "09:30", "09:35"), (gal, "11:00", "11:00")]
    two = [(ath2, "07:00", "07:00"), (lim, "09:00", "09:00")]
    ids["t1"] = make_trip(app, ids["r1"], date(2030, 5, 10), three, vehicle_id=coach)
    ids["t2"] = make_trip(app, ids["r1"], date(2030, 6, 1), three, vehicle_id=coach)
    ids["t3"] = make_trip(app, ids["r2"], date(2030, 5, 20), two, vehicle_id=bus)
    ids["t4"] = make_trip(app, ids["r2"], date(2030, 5, 25), two, vehicle_id=bus)
    alice, bob = actors.customer()["id"], actors.customer()["id"]

    def book(key, trip, customer, **kwargs):
        ids[key] = book_trip_in_db(app, ids[trip], customer, **kwargs)
        _alter(app, ids[key], created_at=SOLD_AT)

    book("k1", "t1", alice, seats=("1A", "1B"), price="20.00")
    book("k2", "t1", bob, to_seq=1, seats=("2A", "2B"), price="10.00")
    book("k3", "t1", bob, from_seq=1, seats=("2A",), price="12.00")
    _alter(app, ids["k3"], status="completed")
    book("k4", "t1", alice, section_code="first", seats=("F1A",), price="30.00")
    book("k5", "t1", alice, seats=("2D",), status="held")
    book("k6", "t1", bob, seats=("2C",))
    _alter(
        app,
        ids["k6"],
        release=True,
        status="cancelled",
        confirmed_at=SOLD_AT,
        cancelled_at=SOLD_AT,
        amount_refunded=Decimal("15.00"),
    )
    book("k7", "t1", alice, to_seq=1, seats=("1C",), status="expired", price="10.00")
    _alter(app, ids["k7"], release=True)
    book("k8", "t2", alice, seats=("1A",))
    _alter(app, ids["k8"], created_at=datetime(2025, 12, 1, 9, 0, tzinfo=UTC))
    book("k9", "t3", bob, to_seq=1, seats=("1A", "1B", "1C"), price="15.00")
    book("k10", "t3", alice, to_seq=1, seats=("2A",), price="15.00")
    book("k11", "t4", bob, to_seq=1, seats=("1A",), price="15.00")
    _alter(
        app,
        ids["k11"],
        release=True,
        status="cancelled",
        confirmed_at=SOLD_AT,
        cancelled_at=SOLD_AT,
        amount_refunded=Decimal("15.00"),
    )
    with app.app_context():
        db.session.get(Trip, ids["t4"]).status = "cancelled"
        db.session.add(
            Traveller(
                booking_id=ids["k1"],
                name="Baby",
                birth_date=date(2025, 6, 1),
                category="infant",
                unit_price=Decimal("0.00"),
                seat_label=None,
            )
        )
        db.session.commit()
    return ids


@pytest.fixture
def finance(actors):
    return actors.headers("finance")


def get_report(client, headers, path, **query):
    resp = client.get(f"{API}/{path}", headers=headers, query_string=query)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    return resp.get_json()


def get_csv(client, headers, path, **query) -> list[list[str]]:
    resp = client.get(
        f"{API}/{path}", headers=headers, query_string={**query, "format": "csv"}
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="')
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True))))


def route_row(ids, key, **figures):
    code, name, company, company_name = {
        "r1": ("DUB-GAL", "Dublin Galway", "atlantic", "Atlantic Coaches"),
        "r2": ("ATH-LIM", "Athlone Limerick", "midland", "Midland Bus"),
    }[key]
    return dict(
        route_id=ids[key],
        route_code=code,
        route_name=name,
        company_id=ids[company],
        company_name=company_name,
        currency="EUR",
        **figures,
    )


def test_popular_routes_rank_by_passengers(client, net, finance):
    body = get_report(client, finance, "popular-routes")
    assert body["report"] == "transport.popular-routes"
    assert body["basis"] is None
    # r1: k1 (2 seats + infant), k2 (2), k3, k4, k8; r2: k9 (3), k10
    assert body["rows"] == [
        route_row(net, "r1", bookings=5, passengers=8, revenue="122.00"),
        route_row(net, "r2", bookings=2, passengers=4, revenue="60.00"),
    ]


def test_popular_routes_filter_on_the_booking_date(client, net, finance):
    ranged = get_report(client, finance, "popular-routes", date_from="2026-01-01")
    assert ranged["rows"][0] == route_row(
        net, "r1", bookings=4, passengers=7, revenue="102.00"
    )
    assert ranged["filters"] == {
        "date_from": "2026-01-01",
        "date_to": None,
        "company_id": None,
    }
    december = get_report(
        client, finance, "popular-routes", date_from="2025-12-01", date_to="2025-12-01"
    )
    assert december["rows"] == [
        route_row(net, "r1", bookings=1, passengers=1, revenue="20.00")
    ]
    midland = get_report(client, finance, "popular-routes", company_id=net["midland"])
    assert midland["rows"] == [
        route_row(net, "r2", bookings=2, passengers=4, revenue="60.00")
    ]
    top = get_report(client, finance, "popular-routes", limit=1)
    assert [row["route_id"] for row in top["rows"]] == [net["r1"]]


def test_popular_routes_csv(client, net, finance):
    assert get_csv(client, finance, "popular-routes") == [
        [
            "route_id",
            "route_code",
            "route_name",
            "company_id",
            "company_name",
            "currency",
            "bookings",
            "passengers",
            "revenue",
        ],
        [
            *(str(net["r1"]), "DUB-GAL", "Dublin Galway", str(net["atlantic"])),
            *("Atlantic Coaches", "EUR", "5", "8", "122.00"),
        ],
        [
            *(str(net["r2"]), "ATH-LIM", "Athlone Limerick", str(net["midland"])),
            *("Midland Bus", "EUR", "2", "4", "60.00"),
        ],
    ]


def test_city_pairs(client, net, finance):
    body = get_report(client, finance, "city-pairs")

    def pair(origin, destination, bookings, passengers, revenue):
        return dict(
            from_city_id=net[origin],
            from_city=origin,
            to_city_id=net[destination],
            to_city=destination,
            currency="EUR",
            bookings=bookings,
            passengers=passengers,
            revenue=revenue,
        )

    assert body["rows"] == [
        pair("Dublin", "Galway", 3, 5, "90.00"),  # k1 (+ infant), k4, k8
        pair("Athlone", "Limerick", 2, 4, "60.00"),  # k9, k10
        pair("Dublin", "Athlone", 1, 2, "20.00"),  # k2
        pair("Athlone", "Galway", 1, 1, "12.00"),  # k3
    ]
    lines = get_csv(client, finance, "city-pairs", company_id=net["midland"])
    assert lines == [
        body["columns"],
        [
            *(str(net["Athlone"]), "Athlone", str(net["Limerick"]), "Limerick"),
            *("EUR", "2", "4", "60.00"),
        ],
    ]


def trip_row(net, trip, route, company, service_date, departure, **figures):
    return dict(
        trip_id=net[trip],
        route_id=net[route],
        route_code="DUB-GAL" if route == "r1" else "ATH-LIM",
        company_id=net[company],
        service_date=service_date,
        departure_at=departure,
        **figures,
    )


def test_load_factor_per_trip(client, net, finance):
    rows = get_report(client, finance, "load-factor")["rows"]
    # T1: segment 0 holds 1A 1B 2A 2B F1A, segment 1 holds 1A 1B 2A F1A: 9 of
    # 10 x 2 seat-segments. Dublin is on summer time (UTC+1), so 08:00 is 07:00Z.
    t1 = trip_row(
        net,
        "t1",
        "r1",
        "atlantic",
        "2030-05-10",
        "2030-05-10T07:00:00+00:00",
        seats=10,
        segments=2,
        sold_segments_max=5,
        seat_segments_sold=9,
        load_factor="45.0",
    )
    t3 = trip_row(
        net,
        "t3",
        "r2",
        "midland",
        "2030-05-20",
        "2030-05-20T06:00:00+00:00",
        seats=6,
        segments=1,
        sold_segments_max=4,
        seat_segments_sold=4,
        load_factor="66.7",  # 4 / 6, half up
    )
    t2 = trip_row(
        net,
        "t2",
        "r1",
        "atlantic",
        "2030-06-01",
        "2030-06-01T07:00:00+00:00",
        seats=10,
        segments=2,
        sold_segments_max=1,
        seat_segments_sold=2,
        load_factor="10.0",
    )
    assert rows == [t1, t3, t2]  # by departure; T4 is cancelled
    ranged = get_report(
        client, finance, "load-factor", date_from="2030-05-11", date_to="2030-05-31"
    )
    assert ranged["rows"] == [t3]
    atlantic = get_report(client, finance, "load-factor", company_id=net["atlantic"])
    assert atlantic["rows"] == [t1, t2]
    lines = get_csv(client, finance, "load-factor", company_id=net["midland"])
    assert lines == [
        [
            "trip_id",
            "route_id",
            "route_code",
            "company_id",
            "service_date",
            "departure_at",
            "seats",
            "segments",
            "sold_segments_max",
            "seat_segments_sold",
            "load_factor",
        ],
        [
            *(str(net["t3"]), str(net["r2"]), "ATH-LIM", str(net["midland"])),
            *("2030-05-20", "2030-05-20T06:00:00+00:00", "6", "1", "4", "4", "66.7"),
        ],
    ]


def test_trip_load_per_segment_and_section(client, net, finance):
    body = get_report(client, finance, f"trips/{net['t1']}/load")
    assert body["report"] == "transport.trip-load"
    assert body["filters"] == {"trip_id": net["t1"]}
    stations = net["stations"]

    def seg(n, section, seats, occupied, load):
        origin, destination = ("DUB", "ATH") if n == 0 else ("ATH", "GAL")
        return dict(
            segment=n,
            from_station_id=stations[origin],
            from_station_code=origin,
            to_station_id=stations[destination],
            to_station_code=destination,
            section_code=section,
            seats=seats,
            occupied=occupied,
            load_factor=load,
        )

    assert body["rows"] == [
        seg(0, None, 10, 5, "50.0"),
        seg(0, "economy", 8, 4, "50.0"),
        seg(0, "first", 2, 1, "50.0"),
        seg(1, None, 10, 4, "40.0"),
        seg(1, "economy", 8, 3, "37.5"),
        seg(1, "first", 2, 1, "50.0"),
    ]
    lines = get_csv(client, finance, f"trips/{net['t1']}/load")
    assert lines[0] == body["columns"]
    assert lines[1] == [
        *("0", str(stations["DUB"]), "DUB", str(stations["ATH"]), "ATH"),
        *("", "10", "5", "50.0"),
    ]
    assert lines[5][5:] == ["economy", "8", "3", "37.5"]
    assert len(lines) == 7


def test_trip_load_of_an_unsold_and_an_unknown_trip(client, net, finance):
    rows = get_report(client, finance, f"trips/{net['t4']}/load")["rows"]
    assert [(r["section_code"], r["seats"], r["occupied"]) for r in rows] == [
        (None, 6, 0),
        ("economy", 6, 0),
    ]
    assert rows[0]["load_factor"] == "0.0"
    assert_problem(client.get(f"{API}/trips/999999/load", headers=finance), 404)


def test_revenue_by_company(client, net, finance):
    body = get_report(client, finance, "revenue")
    assert body["report"] == "transport.revenue"
    assert body["filters"]["group_by"] == "company"
    assert body["rows"] == [
        # k1 40 + k2 20 + k3 12 + k4 30 + k8 20 sold, k6 20 sold then cancelled
        dict(
            company_id=net["atlantic"],
            company_name="Atlantic Coaches",
            currency="EUR",
            bookings=5,
            cancelled=1,
            passengers=8,
            gross="142.00",
            refunded="15.00",
            net="127.00",
        ),
        # k9 45 + k10 15; k11 15 refunded in full with its trip
        dict(
            company_id=net["midland"],
            company_name="Midland Bus",
            currency="EUR",
            bookings=2,
            cancelled=1,
            passengers=4,
            gross="75.00",
            refunded="15.00",
            net="60.00",
        ),
    ]
    # T2 (k8) departs in June
    may = get_report(client, finance, "revenue", date_to="2030-05-31")
    assert [(r["bookings"], r["passengers"], r["net"]) for r in may["rows"]] == [
        (4, 7, "107.00"),
        (2, 4, "60.00"),
    ]


def test_revenue_by_route(client, net, finance):
    body = get_report(
        client, finance, "revenue", group_by="route", company_id=net["midland"]
    )
    assert body["rows"] == [
        route_row(
            net,
            "r2",
            bookings=2,
            cancelled=1,
            passengers=4,
            gross="75.00",
            refunded="15.00",
            net="60.00",
        )
    ]
    lines = get_csv(client, finance, "revenue", group_by="route")
    assert lines[0] == [
        *("route_id", "route_code", "route_name", "company_id", "company_name"),
        *("currency", "bookings", "cancelled", "passengers"),
        *("gross", "refunded", "net"),
    ]
    assert lines[1][1:] == [
        *("DUB-GAL", "Dublin Galway", str(net["atlantic"]), "Atlantic Coaches"),
        *("EUR", "5", "1", "8", "142.00", "15.00", "127.00"),
    ]
    assert len(lines) == 3


LIST_REPORTS = ["popular-routes", "city-pairs", "load-factor", "revenue"]


@pytest.mark.parametrize("path", LIST_REPORTS)
def test_empty_range_gives_empty_rows(client, net, finance, path):
    body = get_report(
        client, finance, path, date_from="2010-01-01", date_to="2010-01-31"
    )
    assert body["rows"] == []
    assert get_csv(
        client, finance, path, date_from="2010-01-01", date_to="2010-01-31"
    ) == [body["columns"]]


@pytest.mark.parametrize(
    "path,query,field",
    [
        ("popular-routes", "date_from=2025-05-01&date_to=2025-01-01", "query.date_to"),
        ("city-pairs", "date_from=yesterday", "query.date_from"),
        ("load-factor", "date_to=2030-02-30", "query.date_to"),
        ("load-factor", "date_to=2101-01-01", "query.date_to"),
        ("revenue", "date_from=1999-12-31", "query.date_from"),
        ("revenue", "group_by=day", "query.group_by"),
        ("revenue", "company_id=0", "query.company_id"),
        ("popular-routes", "limit=0", "query.limit"),
        ("city-pairs", "format=xml", "query.format"),
        ("trips/1/load", "format=xml", "query.format"),
    ],
)
def test_bad_arguments_are_422(client, finance, path, query, field):
    body = assert_problem(client.get(f"{API}/{path}?{query}", headers=finance), 422)
    assert field in body["errors"]


@pytest.mark.parametrize(
    "role,status",
    [
        ("admin", 200),
        ("finance", 200),
        ("operation_head", 200),
        ("sales", 403),
        ("hr", 403),
        ("operation", 403),
        ("operator", 403),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
@pytest.mark.parametrize("path", [*LIST_REPORTS, "trips/{trip}/load"])
def test_report_roles(client, actors, net, role, status, path):
    if role == "operator":
        headers = operator_of(actors, net["atlantic"])["headers"]
    else:
        headers = actors.headers(role)
    resp = client.get(f"{API}/{path.format(trip=net['t1'])}", headers=headers)
    assert resp.status_code == status
    if status != 200:
        assert_problem(resp, status)


def test_transport_reports_are_in_the_spec(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = [f"{API}/{path}" for path in LIST_REPORTS]
    paths.append(f"{API}/trips/{{trip_id}}/load")
    for path in paths:
        operation = spec["paths"][path]["get"]
        content = operation["responses"]["200"]["content"]
        assert list(content) == ["application/json", "text/csv", "application/pdf"]
        assert operation["security"]
    trip_load = spec["paths"][f"{API}/trips/{{trip_id}}/load"]["get"]
    assert trip_load["operationId"] == "getTransportTripLoadReport"
    assert (
        spec["paths"][f"{API}/revenue"]["get"]["operationId"]
        == "getTransportRevenueReport"
    )
