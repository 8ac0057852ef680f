"""Trip search: offers by station code or city, on the local date of departure at
the origin, across a timezone border and past midnight (UTC and local times both
checked), the stop order, sold fares, seats, filters, sorts, paging, errors and
who may search (docs/transport.md "Search"; issue 21 item 8)."""

from datetime import date
from decimal import Decimal

import pytest

from core.extensions import db
from models import Amenity, Fare, Station, TransportCompany, Trip, Vehicle
from services.transport import search as search_service
from tests.factories import assert_problem
from tests.transport.conftest import (
    TRANSPORT,
    make_city,
    make_company,
    make_route,
    make_station,
    make_trip,
    make_vehicle,
    seat_rows,
)

URL = f"{TRANSPORT}/search"
DAY = date(2035, 6, 1)


def add_fares(app, route_id, prices) -> None:
    """Fares `{(from_id, to_id, section_code): "45.00" | None}` in EUR (None: not
    sold, e.g. waiting for approval)."""
    with app.app_context():
        for (from_id, to_id, section), price in prices.items():
            db.session.add(
                Fare(
                    route_id=route_id,
                    from_station_id=from_id,
                    to_station_id=to_id,
                    section_code=section,
                    currency="EUR",
                    price=None if price is None else Decimal(price),
                    pending_price=Decimal("1.00") if price is None else None,
                )
            )
        db.session.commit()


def add_amenities(app, vehicle_id, *codes) -> None:
    """Amenities on the vehicle, straight in the database."""
    with app.app_context():
        vehicle = db.session.get(Vehicle, vehicle_id)
        for code in codes:
            vehicle.amenities.append(Amenity(code=code, name=code.title()))
        db.session.commit()


def network(app) -> dict:
    """Two companies between Lisbon (Europe/Lisbon) and Madrid (Europe/Madrid).

    Iberbus coaches Lisboa Oriente (LIS) -> Badajoz (BJZ) -> Madrid Sur (MAD): the
    night coach of DAY leaves 22:00 Lisbon time, calls at Badajoz 25:30/25:45 and
    reaches Madrid 30:15 Madrid time; a day coach leaves 12:00 and arrives 19:00.
    Ferrovia's train leaves platform 3 of Sete Rios (SETE-3, a child station of
    SETE, with no city of its own) at 08:00 for Madrid, 14:30.
    """
    iberbus = make_company(app, code="IBERBUS", name="Iberbus")
    ferrovia = make_company(app, code="FERROVIA", name="Ferrovia")
    lisbon = make_city(app, "Lisbon", "PT", "Europe/Lisbon")
    badajoz = make_city(app, "Badajoz", "ES", "Europe/Madrid")
    madrid = make_city(app, "Madrid", "ES", "Europe/Madrid")
    lis = make_station(app, lisbon, code="LIS", name="Lisboa Oriente")
    sete = make_station(app, lisbon, code="SETE", name="Sete Rios")
    platform = make_station(app, lisbon, code="SETE-3", name="Sete Rios 3")
    bjz = make_station(app, badajoz, code="BJZ", name="Badajoz")
    mad = make_station(app, madrid, code="MAD", name="Madrid Estacion Sur")
    with app.app_context():
        child = db.session.get(Station, platform)
        child.parent_id, child.city_id = sete, None
        db.session.commit()
    coach = make_vehicle(
        app,
        iberbus,
        mode="bus",
        sections={"economy": seat_rows(10), "premium": seat_rows(1, "AB")},
    )
    add_amenities(app, coach, "wifi", "power")
    train = make_vehicle(
        app,
        ferrovia,
        mode="train",
        sections={"first": seat_rows(5), "second": seat_rows(10)},
    )
    coach_route = make_route(app, iberbus, [lis, bjz, mad], mode="bus", code="LM")
    rail_route = make_route(app, ferrovia, [platform, mad], mode="train", code="IC1")
    add_fares(
        app,
        coach_route,
        {
            (lis, mad, "economy"): "45.00",
            (lis, mad, "premium"): "70.00",
            (lis, bjz, "economy"): "20.00",
            (bjz, mad, "economy"): "30.00",
            (bjz, mad, "premium"): None,
        },
    )
    add_fares(
        app,
        rail_route,
        {(platform, mad, "first"): "90.00", (platform, mad, "second"): "50.00"},
    )
    night = make_trip(
        app,
        coach_route,
        DAY,
        [(lis, "22:00", "22:00"), (bjz, "25:30", "25:45"), (mad, "30:15", "30:15")],
        vehicle_id=coach,
    )
    noon = make_trip(
        app,
        coach_route,
        DAY,
        [(lis, "12:00", "12:00"), (bjz, "15:30", "15:40"), (mad, "19:00", "19:00")],
        vehicle_id=coach,
    )
    rail = make_trip(
        app,
        rail_route,
        DAY,
        [(platform, "08:00", "08:00"), (mad, "14:30", "14:30")],
        vehicle_id=train,
    )
    return {
        "iberbus": iberbus,
        "ferrovia": ferrovia,
        "lisbon": lisbon,
        "madrid": madrid,
        "lis": lis,
        "sete": sete,
        "platform": platform,
        "bjz": bjz,
        "mad": mad,
        "coach": coach,
        "train": train,
        "coach_route": coach_route,
        "rail_route": rail_route,
        "night": night,
        "noon": noon,
        "rail": rail,
    }


def search(client, headers=None, **query):
    """GET the search with `query` (`from`/`to` may be given as origin/destination)."""
    if "origin" in query:
        query["from"] = query.pop("origin")
    if "destination" in query:
        query["to"] = query.pop("destination")
    query.setdefault("date", str(DAY))
    return client.get(URL, query_string=query, headers=headers or {})


def trip_ids(response) -> list[int]:
    """The offers' trip ids, in order."""
    assert response.status_code == 200, response.get_json()
    return [offer["trip_id"] for offer in response.get_json()["items"]]


# --- times: a border and midnight -------------------------------------------------


def test_night_coach_across_the_border_past_midnight(client, app):
    net = network(app)

    response = search(client, origin="LIS", destination="MAD")

    assert trip_ids(response) == [net["noon"], net["night"]]
    offer = response.get_json()["items"][1]
    # 22:00 in Lisbon (WEST, UTC+1) = 21:00Z; 30:15 in Madrid (CEST, UTC+2) of June 1
    # = 06:15 on June 2 local = 04:15Z.
    assert offer == {
        "trip_id": net["night"],
        "service_date": "2035-06-01",
        "company": {"id": net["iberbus"], "code": "IBERBUS", "name": "Iberbus"},
        "mode": "bus",
        "route": {
            "id": net["coach_route"],
            "code": "LM",
            "name": offer["route"]["name"],
        },
        "from_station": {
            "id": net["lis"],
            "code": "LIS",
            "name": "Lisboa Oriente",
            "timezone": "Europe/Lisbon",
        },
        "to_station": {
            "id": net["mad"],
            "code": "MAD",
            "name": "Madrid Estacion Sur",
            "timezone": "Europe/Madrid",
        },
        "departure_at": "2035-06-01T21:00:00+00:00",
        "arrival_at": "2035-06-02T04:15:00+00:00",
        "departure_local": "2035-06-01T22:00:00+01:00",
        "arrival_local": "2035-06-02T06:15:00+02:00",
        "duration_minutes": 435,
        "stops_between": 1,
        "amenities": ["power", "wifi"],
        "sections": [
            {
                "code": "economy",
                "name": "Economy",
                "price": "45.00",
                "currency": "EUR",
                "seats_left": 40,
            },
            {
                "code": "premium",
                "name": "Premium",
                "price": "70.00",
                "currency": "EUR",
                "seats_left": 2,
            },
        ],
    }


def test_the_date_is_the_local_date_at_the_origin(client, app):
    """The night coach leaves Badajoz at 25:45 of its June 1 service day: 01:45 on
    June 2 in Madrid time (23:45Z on June 1). Searched from Badajoz it runs on
    June 2; the premium fare from Badajoz is not approved, so not sold."""
    net = network(app)

    on_first = search(client, origin="BJZ", destination="MAD", date="2035-06-01")
    on_second = search(client, origin="BJZ", destination="MAD", date="2035-06-02")

    assert trip_ids(on_first) == [net["noon"]]
    assert trip_ids(on_second) == [net["night"]]
    offer = on_second.get_json()["items"][0]
    assert offer["departure_at"] == "2035-06-01T23:45:00+00:00"
    assert offer["departure_local"] == "2035-06-02T01:45:00+02:00"
    assert offer["arrival_local"] == "2035-06-02T06:15:00+02:00"
    assert offer["duration_minutes"] == 270
    assert offer["stops_between"] == 0
    assert [s["code"] for s in offer["sections"]] == ["economy"]
    assert offer["sections"][0]["price"] == "30.00"


def test_origin_after_destination_is_not_served(client, app):
    network(app)

    assert trip_ids(search(client, origin="MAD", destination="LIS")) == []
    assert trip_ids(search(client, origin="BJZ", destination="LIS")) == []
    assert trip_ids(search(client, origin="MAD", destination="BJZ")) == []


def test_intermediate_stop_as_destination(client, app):
    net = network(app)

    response = search(client, origin="LIS", destination="BJZ")

    assert trip_ids(response) == [net["noon"], net["night"]]
    night = response.get_json()["items"][1]
    assert night["arrival_at"] == "2035-06-01T23:30:00+00:00"
    assert night["arrival_local"] == "2035-06-02T01:30:00+02:00"
    assert night["stops_between"] == 0
    assert [(s["code"], s["price"]) for s in night["sections"]] == [
        ("economy", "20.00")
    ]


# --- places -----------------------------------------------------------------------


def test_city_ids_cover_their_stations_and_child_stations(client, app):
    net = network(app)

    by_city = search(client, origin=str(net["lisbon"]), destination=str(net["madrid"]))

    assert trip_ids(by_city) == [net["rail"], net["noon"], net["night"]]
    rail = by_city.get_json()["items"][0]
    assert rail["from_station"]["code"] == "SETE-3"
    assert rail["departure_at"] == "2035-06-01T07:00:00+00:00"
    assert rail["departure_local"] == "2035-06-01T08:00:00+01:00"
    assert rail["arrival_at"] == "2035-06-01T12:30:00+00:00"
    assert rail["arrival_local"] == "2035-06-01T14:30:00+02:00"
    # a parent station's code covers its platforms; the platform's own code too
    assert trip_ids(search(client, origin="SETE", destination="MAD")) == [net["rail"]]
    assert trip_ids(search(client, origin="SETE-3", destination="MAD")) == [net["rail"]]
    mixed = search(client, origin="LIS", destination=str(net["madrid"]))
    assert trip_ids(mixed) == [net["noon"], net["night"]]


def test_digits_naming_no_city_are_a_station_code(client, app):
    """UIC and GTFS stop codes are often numeric: digits naming no city are tried
    as a station code; a city with no station serves nothing (200, empty)."""
    net = network(app)
    with app.app_context():
        db.session.get(Station, net["mad"]).code = "7117000"
        db.session.commit()
    empty_city = make_city(app, "Faro", "PT", "Europe/Lisbon")

    by_code = search(client, origin="LIS", destination="7117000")
    nowhere = search(client, origin=str(empty_city), destination="7117000")

    assert trip_ids(by_code) == [net["noon"], net["night"]]
    assert trip_ids(nowhere) == []


def test_one_offer_per_trip_when_several_stops_match(client, app):
    """Both Badajoz and Madrid are in the destination city: the earliest arrival."""
    net = network(app)
    with app.app_context():
        db.session.get(Station, net["bjz"]).city_id = net["madrid"]
        db.session.commit()

    response = search(client, origin="LIS", destination=str(net["madrid"]))

    items = response.get_json()["items"]
    assert trip_ids(response) == [net["noon"], net["night"]]
    assert [item["to_station"]["code"] for item in items] == ["BJZ", "BJZ"]


# --- what is offered --------------------------------------------------------------


def test_trips_without_a_sold_fare_are_not_offered(client, app):
    net = network(app)
    # a route whose only fare waits for approval, and one whose fare is for a
    # section the vehicle does not have
    pending = make_route(app, net["iberbus"], [net["lis"], net["mad"]], mode="bus")
    add_fares(app, pending, {(net["lis"], net["mad"], "economy"): None})
    make_trip(
        app,
        pending,
        DAY,
        [(net["lis"], "06:00", "06:00"), (net["mad"], "13:00", "13:00")],
        vehicle_id=net["coach"],
    )
    other = make_route(app, net["iberbus"], [net["lis"], net["mad"]], mode="bus")
    add_fares(app, other, {(net["lis"], net["mad"], "business"): "99.00"})
    make_trip(
        app,
        other,
        DAY,
        [(net["lis"], "07:00", "07:00"), (net["mad"], "14:00", "14:00")],
        vehicle_id=net["coach"],
    )

    assert trip_ids(search(client, origin="LIS", destination="MAD")) == [
        net["noon"],
        net["night"],
    ]


def test_only_scheduled_future_trips_with_a_vehicle(client, app):
    net = network(app)
    route = net["coach_route"]
    calls = [
        (net["lis"], "09:00", "09:00"),
        (net["bjz"], "12:30", "12:40"),
        (net["mad"], "16:00", "16:00"),
    ]
    cancelled = make_trip(app, route, DAY, calls, vehicle_id=net["coach"])
    departed = make_trip(app, route, DAY, calls, vehicle_id=net["coach"])
    make_trip(app, route, DAY, calls)  # no vehicle: no seats to sell
    make_trip(app, route, date(2020, 6, 1), calls, vehicle_id=net["coach"])  # past
    with app.app_context():
        db.session.get(Trip, cancelled).status = "cancelled"
        db.session.get(Trip, departed).status = "departed"
        db.session.commit()

    assert trip_ids(search(client, origin="LIS", destination="MAD")) == [
        net["noon"],
        net["night"],
    ]
    assert (
        trip_ids(search(client, origin="LIS", destination="MAD", date="2020-06-01"))
        == []
    )


def test_inactive_companies_are_not_offered(client, app):
    net = network(app)
    with app.app_context():
        db.session.get(TransportCompany, net["iberbus"]).active = False
        db.session.commit()

    response = search(client, origin=str(net["lisbon"]), destination="MAD")

    assert trip_ids(response) == [net["rail"]]


# --- filters ----------------------------------------------------------------------


def test_mode_and_section_filters(client, app):
    net = network(app)
    lisbon, madrid = str(net["lisbon"]), str(net["madrid"])

    def ids(**query):
        return trip_ids(search(client, origin=lisbon, destination=madrid, **query))

    assert ids(mode="train") == [net["rail"]]
    assert ids(mode="bus") == [net["noon"], net["night"]]
    assert ids(mode="ferry") == []
    assert ids(section="first") == [net["rail"]]
    assert ids(section="premium") == [net["noon"], net["night"]]
    assert ids(section="premium", mode="train") == []
    offer = search(client, origin="LIS", destination="MAD", section="premium")
    assert [s["code"] for s in offer.get_json()["items"][0]["sections"]] == ["premium"]


def test_passengers_need_seats_left_in_the_section(client, app):
    net = network(app)

    response = search(client, origin="LIS", destination="MAD", passengers=3)

    assert trip_ids(response) == [net["noon"], net["night"]]
    for offer in response.get_json()["items"]:
        assert [s["code"] for s in offer["sections"]] == ["economy"]
    assert (
        trip_ids(
            search(
                client, origin="LIS", destination="MAD", passengers=3, section="premium"
            )
        )
        == []
    )
    assert trip_ids(
        search(client, origin="LIS", destination="MAD", passengers=2, section="premium")
    ) == [net["noon"], net["night"]]


def test_seats_left_is_the_capacity_without_sales(app):
    net = network(app)
    with app.app_context():
        trip = db.session.get(Trip, net["night"])
        section = trip.vehicle.sections[0]
        assert search_service.seats_left(trip, section, 0, 2) == section.capacity == 40


# --- sorts and pages --------------------------------------------------------------


def test_sorts(client, app):
    """Departures 07:00Z (rail), 11:00Z (noon coach), 21:00Z (night coach);
    cheapest sections 50.00, 45.00, 45.00; durations 330, 360, 435 minutes."""
    net = network(app)
    lisbon, madrid = str(net["lisbon"]), str(net["madrid"])

    def ids(sort=None):
        query = {"sort": sort} if sort else {}
        return trip_ids(search(client, origin=lisbon, destination=madrid, **query))

    assert ids() == [net["rail"], net["noon"], net["night"]]
    assert ids("departure") == [net["rail"], net["noon"], net["night"]]
    assert ids("price") == [net["noon"], net["night"], net["rail"]]
    assert ids("duration") == [net["rail"], net["noon"], net["night"]]
    durations = [
        item["duration_minutes"]
        for item in search(client, origin=lisbon, destination=madrid).get_json()[
            "items"
        ]
    ]
    assert durations == [330, 360, 435]


def test_pages(client, app):
    net = network(app)
    lisbon, madrid = str(net["lisbon"]), str(net["madrid"])

    second = search(client, origin=lisbon, destination=madrid, per_page=1, page=2)
    last = search(client, origin=lisbon, destination=madrid, per_page=2, page=2)
    beyond = search(client, origin=lisbon, destination=madrid, page=5)

    assert trip_ids(second) == [net["noon"]]
    meta = second.get_json()["meta"]
    assert meta.pop("next_cursor")
    assert meta == {
        "page": 2,
        "per_page": 1,
        "total": 3,
        "pages": 3,
        "has_more": True,
        "total_is_estimate": False,
    }
    assert trip_ids(last) == [net["night"]]
    assert last.get_json()["meta"]["has_more"] is False
    assert last.get_json()["meta"]["next_cursor"] is None
    assert trip_ids(beyond) == []


def test_cursor_walks_every_offer_once(client, app):
    net = network(app)
    lisbon, madrid = str(net["lisbon"]), str(net["madrid"])
    first = search(client, origin=lisbon, destination=madrid, per_page=1)
    seen = trip_ids(first)
    cursor = first.get_json()["meta"]["next_cursor"]
    while cursor:
        following = search(
            client, origin=lisbon, destination=madrid, per_page=1, cursor=cursor
        )
        assert following.status_code == 200, following.get_json()
        assert following.get_json()["meta"]["page"] is None
        seen += trip_ids(following)
        cursor = following.get_json()["meta"]["next_cursor"]
    everything = search(client, origin=lisbon, destination=madrid, per_page=10)
    assert seen == trip_ids(everything) and len(seen) == 3
    other_sort = search(
        client,
        origin=lisbon,
        destination=madrid,
        per_page=1,
        sort="price",
        cursor=first.get_json()["meta"]["next_cursor"],
    )
    assert other_sort.status_code == 422
    assert "query.cursor" in other_sort.get_json()["errors"]
    forged = search(client, origin=lisbon, destination=madrid, cursor="abc.def")
    assert forged.status_code == 422


# --- errors and callers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "NOPE", "to": "MAD"}, "query.from"),
        ({"from": "LIS", "to": "NOPE"}, "query.to"),
        ({"from": "99999", "to": "MAD"}, "query.from"),
        ({"from": "LIS", "to": "99999999999"}, "query.to"),
        ({"from": "LIS", "to": "\u00b2"}, "query.to"),
        ({"from": "LIS", "to": "LIS"}, "query.to"),
        ({"from": "LIS", "to": "MAD", "date": ""}, "query.date"),
        ({"from": "LIS", "to": "MAD", "date": "1999-12-31"}, "query.date"),
        ({"from": "LIS", "to": "MAD", "passengers": 0}, "query.passengers"),
        ({"from": "LIS", "to": "MAD", "passengers": 10}, "query.passengers"),
        ({"from": "LIS", "to": "MAD", "sort": "cheapest"}, "query.sort"),
        ({"from": "LIS", "to": "MAD", "mode": "boat"}, "query.mode"),
        ({"to": "MAD"}, "query.from"),
    ],
)
def test_bad_searches_are_422(client, app, query, field):
    network(app)
    query.setdefault("date", str(DAY))
    if query["date"] == "":
        del query["date"]

    response = client.get(URL, query_string=query)

    assert field in assert_problem(response, 422)["errors"]


def test_same_city_twice_is_422(client, app):
    net = network(app)

    response = search(client, origin=str(net["lisbon"]), destination=str(net["lisbon"]))

    assert "query.to" in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize(
    "role", ["anonymous", "customer", "sales", "operator_of_none", "admin"]
)
def test_anyone_may_search(client, actors, app, role):
    net = network(app)
    if role == "operator_of_none":
        headers = actors.employee("operator", company_id=make_company(app))["headers"]
    else:
        headers = actors.headers(role)

    response = search(client, headers, origin="LIS", destination="MAD")

    assert trip_ids(response) == [net["noon"], net["night"]]


def test_a_bad_token_is_still_401(client, app):
    network(app)

    response = search(
        client, {"Authorization": "Bearer nonsense"}, origin="LIS", destination="MAD"
    )

    assert_problem(response, 401)
