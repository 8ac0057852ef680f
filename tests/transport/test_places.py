"""/api/v1/transport/countries, /cities and /stations (docs/transport.md "Places"):
public reads, who edits (admin and operation; operators may add stations), the
`served` filter, validation (422) and conflicts (409)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from models import AuditEntry, City, Station, Trip
from tests.factories import assert_problem, item_ids, one_page_meta
from tests.transport.conftest import (
    TRANSPORT,
    make_city,
    make_company,
    make_route,
    make_station,
    make_trip,
    operator_of,
)

COUNTRIES = f"{TRANSPORT}/countries"
CITIES = f"{TRANSPORT}/cities"
STATIONS = f"{TRANSPORT}/stations"
EVERYONE = (
    "admin",
    "hr",
    "sales",
    "operation",
    "operation_head",
    "finance",
    "operator",
    "other_operator",
    "customer",
    "anonymous",
)
# Writers of cities and stations; `operator` may create stations only.
EDITORS = ("admin", "operation")
NOT_EDITORS = (
    ("operator", 403),
    ("other_operator", 403),
    ("sales", 403),
    ("operation_head", 403),
    ("customer", 403),
    ("anonymous", 401),
)


def headers_of(app, actors, role: str) -> dict:
    """Bearer headers of `role` (none for anonymous); an operator works for a new
    company (`operator`, `other_operator`: places belong to no company)."""
    if role in ("operator", "other_operator"):
        return operator_of(actors, make_company(app))["headers"]
    return actors.headers(role)


def city_row(app, city_id) -> City | None:
    """The city as stored (detached), or None."""
    with app.app_context():
        city = db.session.get(City, city_id)
        if city is not None:
            db.session.expunge(city)
        return city


def station_row(app, station_id) -> Station | None:
    """The station as stored (detached), or None."""
    with app.app_context():
        station = db.session.get(Station, station_id)
        if station is not None:
            db.session.expunge(station)
        return station


def audit_actions(app, entity_type: str) -> list[str]:
    """The audit actions recorded on `entity_type`, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity_type == entity_type)
                .order_by(AuditEntry.id)
            )
        )


# --- countries ---------------------------------------------------------------------


@pytest.mark.parametrize("role", EVERYONE)
def test_countries_are_public(app, client, actors, role):
    response = client.get(COUNTRIES, headers=headers_of(app, actors, role))

    assert response.status_code == 200
    rows = response.get_json()
    assert len(rows) >= 249
    assert {"code": "IE", "name": "Ireland"} in rows
    assert all(set(row) == {"code", "name"} for row in rows)
    names = [row["name"].casefold() for row in rows]
    assert names == sorted(names)


def test_countries_search_by_name_or_code(client):
    by_name = client.get(f"{COUNTRIES}?q=IRELAND").get_json()
    by_code = client.get(f"{COUNTRIES}?q=pt").get_json()

    assert {"code": "IE", "name": "Ireland"} in by_name
    assert all("ireland" in row["name"].lower() for row in by_name)
    assert {"code": "PT", "name": "Portugal"} in by_code
    assert client.get(f"{COUNTRIES}?q=zzzz").get_json() == []


# --- cities: read ------------------------------------------------------------------


@pytest.mark.parametrize("role", EVERYONE)
def test_cities_are_public(app, client, actors, role):
    dublin = make_city(app, "Dublin")
    lisbon = make_city(app, "Lisbon", "PT", "Europe/Lisbon")
    headers = headers_of(app, actors, role)

    listing = client.get(CITIES, headers=headers)
    item = client.get(f"{CITIES}/{lisbon}", headers=headers)

    assert listing.status_code == 200
    assert item_ids(listing) == [dublin, lisbon]
    assert listing.get_json()["meta"] == one_page_meta(2)
    assert item.get_json() == {
        "id": lisbon,
        "name": "Lisbon",
        "country": "PT",
        "timezone": "Europe/Lisbon",
        "translations": None,
    }


def test_city_filters_and_sort(app, client):
    cork = make_city(app, "Cork")
    dublin = make_city(app, "Dublin")
    porto = make_city(app, "Porto", "PT", "Europe/Lisbon")

    def ids(query):
        response = client.get(f"{CITIES}?{query}")
        assert response.status_code == 200, response.get_json()
        return item_ids(response)

    assert ids("country=PT") == [porto]
    assert ids("country=ie") == [cork, dublin]
    assert ids("q=UBL") == [dublin]
    assert ids("sort=-name") == [porto, dublin, cork]
    assert ids("sort=-country") == [porto, dublin, cork]
    assert_problem(client.get(f"{CITIES}?country=IRL"), 422)
    assert_problem(client.get(f"{CITIES}/999"), 404)


def test_served_cities_have_a_future_scheduled_departure(app, client):
    """Only cities with a station where a scheduled trip still departs: not a past
    trip's, not a cancelled one's, and not the first stop of a trip under way."""
    company = make_company(app)
    future = date.today() + timedelta(days=5)
    past = date.today() - timedelta(days=5)

    def line(*names):
        cities = [make_city(app, name) for name in names]
        stations = [make_station(app, city) for city in cities]
        return cities, stations, make_route(app, company, stations)

    (a, b), (sa, sb), route = line("Athlone", "Bray")
    make_trip(app, route, future, [(sa, "08:00", "08:00"), (sb, "10:00", "10:00")])
    (c, d), (sc, sd), route = line("Carlow", "Derry")
    make_trip(app, route, past, [(sc, "08:00", "08:00"), (sd, "10:00", "10:00")])
    (e, f), (se, sf), route = line("Ennis", "Fermoy")
    cancelled = make_trip(
        app, route, future, [(se, "08:00", "08:00"), (sf, "10:00", "10:00")]
    )
    with app.app_context():
        db.session.get(Trip, cancelled).status = "cancelled"
        db.session.commit()
    # Under way: left Galway today at 00:00, reaches Howth tomorrow at 23:00 (GTFS
    # "47:00" of today's service day), whatever the time of day the test runs.
    (g, h), (sg, sh), route = line("Galway", "Howth")
    today = date.today()
    make_trip(app, route, today, [(sg, "00:00", "00:00"), (sh, "47:00", "47:00")])
    (idle,), _, _ = line("Idle")

    served = client.get(f"{CITIES}?served=true")
    not_served = client.get(f"{CITIES}?served=false")

    assert served.status_code == 200
    assert item_ids(served) == [a, b, h]
    assert item_ids(not_served) == [c, d, e, f, g, idle]
    assert item_ids(client.get(f"{CITIES}?served=true&q=bra")) == [b]
    assert item_ids(client.get(f"{CITIES}?served=true&country=PT")) == []
    first = client.get(f"{CITIES}?served=true&per_page=2").get_json()
    cursor = first["meta"]["next_cursor"]
    following = client.get(f"{CITIES}?served=true&per_page=2&cursor={cursor}")
    assert item_ids(following) == [h]


# --- cities: write -----------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_editors_manage_cities(app, client, actors, role):
    headers = actors.headers(role)

    created = client.post(
        CITIES,
        json={"name": " Galway ", "country": "ie", "timezone": "Europe/Dublin"},
        headers=headers,
    )
    city_id = created.get_json()["id"]
    edited = client.patch(
        f"{CITIES}/{city_id}", json={"name": "Gaillimh"}, headers=headers
    )
    deleted = client.delete(f"{CITIES}/{city_id}", headers=headers)

    assert created.status_code == 201, created.get_json()
    assert created.get_json() == {
        "id": city_id,
        "name": "Galway",
        "country": "IE",
        "timezone": "Europe/Dublin",
        "translations": None,
    }
    assert edited.status_code == 200
    assert edited.get_json()["name"] == "Gaillimh"
    assert deleted.status_code == 204
    assert city_row(app, city_id) is None
    assert audit_actions(app, "city") == [
        "city.created",
        "city.updated",
        "city.deleted",
    ]


@pytest.mark.parametrize(("role", "status"), NOT_EDITORS)
def test_others_cannot_write_cities(app, client, actors, role, status):
    city_id = make_city(app, "Kept")
    headers = headers_of(app, actors, role)
    body = {"name": "New", "country": "IE", "timezone": "Europe/Dublin"}

    assert_problem(client.post(CITIES, json=body, headers=headers), status)
    assert_problem(
        client.patch(f"{CITIES}/{city_id}", json={"name": "X"}, headers=headers),
        status,
    )
    assert_problem(client.delete(f"{CITIES}/{city_id}", headers=headers), status)
    assert city_row(app, city_id).name == "Kept"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Nowhere", "country": "IE"}, "timezone"),
        ({"name": "Nowhere", "timezone": "Europe/Dublin"}, "country"),
        ({"country": "IE", "timezone": "Europe/Dublin"}, "name"),
        ({"name": "Nowhere", "country": "XX", "timezone": "UTC"}, "country"),
        (
            {"name": "Nowhere", "country": "IE", "timezone": "Europe/Atlantis"},
            "timezone",
        ),
        ({"name": "Nowhere", "country": "IE", "timezone": None}, "timezone"),
        ({"name": "  ", "country": "IE", "timezone": "UTC"}, "name"),
    ],
)
def test_city_validation_is_422(client, actors, body, field):
    response = client.post(CITIES, json=body, headers=actors.headers("admin"))

    assert field in assert_problem(response, 422)["errors"]


def test_city_name_and_country_are_unique(app, client, actors):
    make_city(app, "Dublin")
    other = make_city(app, "Dublin Bay")
    headers = actors.headers("admin")

    same = client.post(
        CITIES,
        json={"name": "Dublin", "country": "IE", "timezone": "Europe/Dublin"},
        headers=headers,
    )
    elsewhere = client.post(
        CITIES,
        json={"name": "Dublin", "country": "US", "timezone": "America/New_York"},
        headers=headers,
    )
    renamed = client.patch(
        f"{CITIES}/{other}", json={"name": "Dublin"}, headers=headers
    )

    assert assert_problem(same, 409)["type"] == "/problems/city-exists"
    assert elsewhere.status_code == 201
    assert assert_problem(renamed, 409)["type"] == "/problems/city-exists"


def test_city_edit_validation_and_timezone_change(app, client, actors):
    city_id = make_city(app, "Cork")
    station_id = make_station(app, city_id)
    headers = actors.headers("operation")

    bad_zone = client.patch(
        f"{CITIES}/{city_id}", json={"timezone": "Cork/Centre"}, headers=headers
    )
    bad_country = client.patch(
        f"{CITIES}/{city_id}", json={"country": "ZZ"}, headers=headers
    )
    moved = client.patch(
        f"{CITIES}/{city_id}", json={"timezone": "Europe/London"}, headers=headers
    )

    assert "timezone" in assert_problem(bad_zone, 422)["errors"]
    assert "country" in assert_problem(bad_country, 422)["errors"]
    assert moved.get_json()["timezone"] == "Europe/London"
    # Its stations keep their own zone.
    assert station_row(app, station_id).timezone == "Europe/Dublin"


def test_city_with_stations_cannot_be_deleted(app, client, actors):
    city_id = make_city(app, "Cork")
    make_station(app, city_id)

    response = client.delete(f"{CITIES}/{city_id}", headers=actors.headers("admin"))

    assert assert_problem(response, 409)["type"] == "/problems/city-in-use"
    assert city_row(app, city_id) is not None


# --- stations: read ----------------------------------------------------------------


@pytest.mark.parametrize("role", EVERYONE)
def test_stations_are_public(app, client, actors, role):
    city = make_city(app, "Dublin")
    busaras = make_station(
        app,
        city,
        code="DUBBA",
        name="Busaras",
        latitude=Decimal("53.350200"),
        longitude=Decimal("-6.251200"),
    )
    airport = make_station(app, city, code="DUB", name="Airport")
    headers = headers_of(app, actors, role)

    listing = client.get(STATIONS, headers=headers)
    item = client.get(f"{STATIONS}/{busaras}", headers=headers)

    assert listing.status_code == 200
    assert item_ids(listing) == [airport, busaras]
    assert item.get_json() == {
        "id": busaras,
        "code": "DUBBA",
        "name": "Busaras",
        "city_id": city,
        "city": {"id": city, "name": "Dublin", "country": "IE"},
        "latitude": 53.3502,
        "longitude": -6.2512,
        "timezone": "Europe/Dublin",
        "parent_id": None,
        "translations": None,
    }


def test_station_filters_and_sort(app, client):
    dublin = make_city(app, "Dublin")
    lisbon = make_city(app, "Lisbon", "PT", "Europe/Lisbon")
    heuston = make_station(app, dublin, code="HST", name="Heuston")
    connolly = make_station(app, dublin, code="CNL", name="Connolly")
    platform = make_station(
        app, dublin, code="CNL-1", name="Connolly platform 1", parent_id=connolly
    )
    oriente = make_station(app, lisbon, code="ORI", name="Oriente")

    def ids(query):
        response = client.get(f"{STATIONS}?{query}")
        assert response.status_code == 200, response.get_json()
        return item_ids(response)

    assert ids(f"city_id={lisbon}") == [oriente]
    assert ids("country=IE") == [connolly, platform, heuston]
    assert ids("q=cnl") == [connolly, platform]
    assert ids(f"parent_id={connolly}") == [platform]
    assert ids("sort=code") == [connolly, platform, heuston, oriente]
    assert_problem(client.get(f"{STATIONS}?sort=timezone"), 422)
    assert_problem(client.get(f"{STATIONS}/999"), 404)


# --- stations: create --------------------------------------------------------------


def station_body(city_id, **overrides) -> dict:
    """A valid POST /transport/stations body in `city_id`."""
    body = {
        "code": "DUBBA",
        "name": "Dublin Busaras",
        "city_id": city_id,
        "latitude": 53.3502,
        "longitude": -6.2512,
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("role", [*EDITORS, "operator"])
def test_station_creators(app, client, actors, role):
    city = make_city(app, "Dublin", timezone="Europe/Dublin")
    headers = headers_of(app, actors, role)

    response = client.post(STATIONS, json=station_body(city), headers=headers)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["timezone"] == "Europe/Dublin"  # the city's
    assert (body["latitude"], body["longitude"]) == (53.3502, -6.2512)
    stored = station_row(app, body["id"])
    assert (stored.code, stored.city_id, stored.parent_id) == ("DUBBA", city, None)
    assert stored.latitude == Decimal("53.3502")
    assert audit_actions(app, "station") == ["station.created"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("sales", 403),
        ("hr", 403),
        ("finance", 403),
        ("operation_head", 403),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
def test_others_cannot_create_stations(app, client, actors, role, status):
    city = make_city(app)

    response = client.post(
        STATIONS, json=station_body(city), headers=headers_of(app, actors, role)
    )

    assert_problem(response, status)


def test_station_with_own_timezone_and_parent(app, client, actors):
    city = make_city(app, "Derry", "GB", "Europe/London")
    parent = make_station(app, city, code="DRY")

    response = client.post(
        STATIONS,
        json=station_body(
            city, code="DRY-1", timezone="Europe/Dublin", parent_id=parent
        ),
        headers=actors.headers("operation"),
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["timezone"] == "Europe/Dublin"
    assert response.get_json()["parent_id"] == parent


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"city_id": 999}, "city_id"),
        ({"city_id": None}, "city_id"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"latitude": 90.5}, "latitude"),
        ({"latitude": -91}, "latitude"),
        ({"longitude": 180.01}, "longitude"),
        ({"longitude": -181}, "longitude"),
        ({"latitude": None}, "latitude"),
        ({"latitude": True}, "latitude"),
        ({"parent_id": 999}, "parent_id"),
        ({"code": ""}, "code"),
        ({"code": "has space"}, "code"),
        ({"name": " "}, "name"),
    ],
)
def test_station_validation_is_422(app, client, actors, overrides, field):
    city = make_city(app)

    body = {**station_body(city), **overrides}

    response = client.post(STATIONS, json=body, headers=actors.headers("admin"))

    assert field in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize(
    "missing", ["code", "name", "city_id", "latitude", "longitude"]
)
def test_station_required_fields(app, client, actors, missing):
    body = station_body(make_city(app))
    del body[missing]

    response = client.post(STATIONS, json=body, headers=actors.headers("admin"))

    assert missing in assert_problem(response, 422)["errors"]


def test_station_code_taken_is_409(app, client, actors):
    city = make_city(app)
    make_station(app, city, code="DUBBA")

    response = client.post(
        STATIONS, json=station_body(city), headers=actors.headers("admin")
    )

    assert assert_problem(response, 409)["type"] == "/problems/code-taken"


def test_station_edge_coordinates_are_accepted(app, client, actors):
    response = client.post(
        STATIONS,
        json=station_body(make_city(app), latitude=-90, longitude=180),
        headers=actors.headers("admin"),
    )

    assert response.status_code == 201
    assert (response.get_json()["latitude"], response.get_json()["longitude"]) == (
        -90.0,
        180.0,
    )


# --- stations: edit and delete -----------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_editors_edit_stations(app, client, actors, role):
    dublin = make_city(app, "Dublin")
    london = make_city(app, "London", "GB", "Europe/London")
    station_id = make_station(app, dublin, code="OLD")
    headers = actors.headers(role)

    renamed = client.patch(
        f"{STATIONS}/{station_id}",
        json={"code": "NEW", "name": "New name", "latitude": 1.5, "longitude": -2.25},
        headers=headers,
    )
    moved = client.patch(
        f"{STATIONS}/{station_id}", json={"city_id": london}, headers=headers
    )
    own_zone = client.patch(
        f"{STATIONS}/{station_id}", json={"timezone": "Europe/Paris"}, headers=headers
    )
    city_zone = client.patch(
        f"{STATIONS}/{station_id}", json={"timezone": None}, headers=headers
    )

    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["code"] == "NEW"
    assert (renamed.get_json()["latitude"], renamed.get_json()["longitude"]) == (
        1.5,
        -2.25,
    )
    # A move to another city without a timezone takes the new city's.
    assert moved.get_json()["timezone"] == "Europe/London"
    assert moved.get_json()["city"]["name"] == "London"
    assert own_zone.get_json()["timezone"] == "Europe/Paris"
    assert city_zone.get_json()["timezone"] == "Europe/London"
    assert audit_actions(app, "station") == ["station.updated"] * 4


@pytest.mark.parametrize(("role", "status"), NOT_EDITORS)
def test_others_cannot_edit_or_delete_stations(app, client, actors, role, status):
    station_id = make_station(app, name="Kept")
    headers = headers_of(app, actors, role)

    patched = client.patch(
        f"{STATIONS}/{station_id}", json={"name": "X"}, headers=headers
    )
    deleted = client.delete(f"{STATIONS}/{station_id}", headers=headers)

    assert_problem(patched, status)
    assert_problem(deleted, status)
    assert station_row(app, station_id).name == "Kept"


def test_station_parent_cannot_be_itself_or_make_a_cycle(app, client, actors):
    city = make_city(app)
    top = make_station(app, city)
    middle = make_station(app, city, parent_id=top)
    bottom = make_station(app, city, parent_id=middle)
    headers = actors.headers("admin")

    itself = client.patch(f"{STATIONS}/{top}", json={"parent_id": top}, headers=headers)
    cycle = client.patch(
        f"{STATIONS}/{top}", json={"parent_id": bottom}, headers=headers
    )
    unknown = client.patch(
        f"{STATIONS}/{top}", json={"parent_id": 999}, headers=headers
    )
    fine = client.patch(
        f"{STATIONS}/{bottom}", json={"parent_id": top}, headers=headers
    )
    cleared = client.patch(
        f"{STATIONS}/{middle}", json={"parent_id": None}, headers=headers
    )

    for refused in (itself, cycle, unknown):
        assert "parent_id" in assert_problem(refused, 422)["errors"]
    assert station_row(app, top).parent_id is None
    assert fine.get_json()["parent_id"] == top
    assert cleared.get_json()["parent_id"] is None


@pytest.mark.parametrize(
    ("changes", "status", "key"),
    [
        ({"city_id": 999}, 422, "city_id"),
        ({"timezone": "Nowhere/Here"}, 422, "timezone"),
        ({"latitude": 100}, 422, "latitude"),
        ({"longitude": None}, 422, "longitude"),
        ({"code": "TAKEN"}, 409, None),
    ],
)
def test_station_edit_refusals(app, client, actors, changes, status, key):
    city = make_city(app)
    make_station(app, city, code="TAKEN")
    station_id = make_station(app, city, code="MINE")

    response = client.patch(
        f"{STATIONS}/{station_id}", json=changes, headers=actors.headers("admin")
    )

    body = assert_problem(response, status)
    if key:
        assert key in body["errors"]
    else:
        assert body["type"] == "/problems/code-taken"
    assert station_row(app, station_id).code == "MINE"


def test_station_timezone_is_fixed_once_trips_call(app, client, actors):
    city = make_city(app)
    first, second = make_station(app, city), make_station(app, city)
    route = make_route(app, make_company(app), [first, second])
    make_trip(
        app,
        route,
        date.today() + timedelta(days=3),
        [(first, "08:00", "08:00"), (second, "09:00", "09:00")],
    )
    headers = actors.headers("admin")

    zone = client.patch(
        f"{STATIONS}/{first}", json={"timezone": "Europe/Paris"}, headers=headers
    )
    same_zone = client.patch(
        f"{STATIONS}/{first}",
        json={"timezone": "Europe/Dublin", "name": "Renamed"},
        headers=headers,
    )

    assert assert_problem(zone, 409)["type"] == "/problems/station-in-use"
    assert same_zone.status_code == 200
    assert station_row(app, first).timezone == "Europe/Dublin"


def test_unused_station_is_deleted_and_children_lose_their_parent(app, client, actors):
    city = make_city(app)
    parent = make_station(app, city)
    child = make_station(app, city, parent_id=parent)

    response = client.delete(
        f"{STATIONS}/{parent}", headers=actors.headers("operation")
    )

    assert response.status_code == 204
    assert station_row(app, parent) is None
    assert station_row(app, child).parent_id is None
    assert audit_actions(app, "station") == ["station.deleted"]
    assert_problem(
        client.delete(f"{STATIONS}/{parent}", headers=actors.headers("operation")), 404
    )


@pytest.mark.parametrize("use", ["route", "stop_time"])
def test_station_in_use_cannot_be_deleted(app, client, actors, use):
    city = make_city(app)
    first, second, third = (make_station(app, city) for _ in range(3))
    route = make_route(app, make_company(app), [first, second])
    target = first
    if use == "stop_time":
        # A trip calling at a station its route does not list (as a GTFS import may).
        make_trip(
            app,
            route,
            date.today() + timedelta(days=2),
            [(third, "08:00", "08:00"), (second, "09:00", "09:00")],
        )
        target = third

    response = client.delete(f"{STATIONS}/{target}", headers=actors.headers("admin"))

    assert assert_problem(response, 409)["type"] == "/problems/station-in-use"
    assert station_row(app, target) is not None
