"""Routes with their ordered stops: create, read, edit, delete, by role and
company, the stop rules and the trip guards (docs/transport.md "Routes")."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.extensions import db
from models import AuditEntry, Fare, Schedule, TransportRoute
from tests.factories import assert_problem, item_ids
from tests.transport.conftest import (
    TRANSPORT,
    make_company,
    make_route,
    make_station,
    make_trip,
    operator_of,
)

URL = f"{TRANSPORT}/routes"
MANAGERS = ["admin", "operation"]
READ_ONLY = ["hr", "sales", "operation_head", "finance"]
READERS = ["admin", "hr", "sales", "operation", "operation_head", "finance"]


def stations(app, n=3) -> list[int]:
    """`n` new stations."""
    return [make_station(app, name=f"Stop {i}") for i in range(n)]


def body(stops, company_id=None, **fields) -> dict:
    """A route body calling at `stops`."""
    data = {"mode": "bus", "code": "X1", "name": "Express", "stops": stops}
    if company_id is not None:
        data["company_id"] = company_id
    data.update(fields)
    return data


def stored(app, route_id) -> dict | None:
    """The route row with its stop station ids in order, or None when gone."""
    with app.app_context():
        route = db.session.get(TransportRoute, route_id)
        if route is None:
            return None
        return {
            "company_id": route.company_id,
            "mode": route.mode,
            "code": route.code,
            "name": route.name,
            "stops": [stop.station_id for stop in route.stops],
        }


def add_trip(app, route_id, stops, days_ahead=10) -> int:
    """A scheduled trip of the route over its first two stops."""
    day = date.today() + timedelta(days=days_ahead)
    return make_trip(
        app, route_id, day, [(stops[0], "08:00", "08:00"), (stops[1], "09:00", "09:00")]
    )


# --- create ----------------------------------------------------------------------


@pytest.mark.parametrize("role", MANAGERS)
def test_admin_and_operation_create_a_route(app, client, actors, role):
    company = make_company(app)
    a, b, c = stations(app)

    response = client.post(
        URL, json=body([b, a, c], company), headers=actors.headers(role)
    )

    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["company_id"] == company
    assert answer["code"] == "X1"
    with app.app_context():
        from models import Station

        names = {s: db.session.get(Station, s) for s in (a, b, c)}
        expected = [
            {
                "position": i,
                "station_id": s,
                "station_code": names[s].code,
                "station_name": names[s].name,
            }
            for i, s in enumerate([b, a, c])
        ]
    assert answer["stops"] == expected
    assert stored(app, answer["id"])["stops"] == [b, a, c]


def test_operator_creates_for_its_own_company(app, client, actors):
    mine, other = make_company(app), make_company(app)
    operator = operator_of(actors, mine)
    stops = stations(app, 2)

    own = client.post(URL, json=body(stops), headers=operator["headers"])
    foreign = client.post(
        URL, json=body(stops, other, code="X2"), headers=operator["headers"]
    )

    assert own.status_code == 201
    assert own.get_json()["company_id"] == mine
    assert_problem(foreign, 404)


def test_admin_must_name_an_existing_company(app, client, actors):
    stops = stations(app, 2)
    headers = actors.headers("admin")
    assert (
        "company_id"
        in (
            assert_problem(client.post(URL, json=body(stops), headers=headers), 422)[
                "errors"
            ]
        )
    )
    assert_problem(client.post(URL, json=body(stops, 999), headers=headers), 422)


@pytest.mark.parametrize("role", [*READ_ONLY, "customer"])
def test_other_roles_cannot_create(app, client, actors, role):
    company = make_company(app)
    response = client.post(
        URL, json=body(stations(app, 2), company), headers=actors.headers(role)
    )
    assert_problem(response, 403)


def test_anonymous_cannot_create_or_read(app, client):
    company = make_company(app)
    assert_problem(client.post(URL, json=body(stations(app, 2), company)), 401)
    assert_problem(client.get(URL), 401)


def test_stops_need_two_distinct_existing_stations(app, client, actors):
    company = make_company(app)
    a, b = stations(app, 2)
    headers = actors.headers("admin")

    one = client.post(URL, json=body([a], company), headers=headers)
    twice = client.post(URL, json=body([a, b, a], company), headers=headers)
    unknown = client.post(URL, json=body([a, 999], company), headers=headers)
    not_ids = client.post(URL, json=body([a, "b"], company), headers=headers)

    assert "stops" in assert_problem(one, 422)["errors"]
    assert f"Station {a}" in assert_problem(twice, 422)["errors"]["stops.2"][0]
    assert "999" in assert_problem(unknown, 422)["errors"]["stops.1"][0]
    assert "stops.1" in assert_problem(not_ids, 422)["errors"]
    with app.app_context():
        assert db.session.query(TransportRoute).count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [({"mode": "tram"}, "mode"), ({"code": " "}, "code"), ({"name": ""}, "name")],
)
def test_route_fields_are_validated(app, client, actors, change, field):
    company = make_company(app)
    response = client.post(
        URL,
        json=body(stations(app, 2), company, **change),
        headers=actors.headers("admin"),
    )
    assert field in assert_problem(response, 422)["errors"]


def test_code_is_unique_per_company(app, client, actors):
    first, second = make_company(app), make_company(app)
    stops = stations(app, 2)
    headers = actors.headers("admin")
    assert client.post(URL, json=body(stops, first), headers=headers).status_code == 201

    again = client.post(URL, json=body(stops, first), headers=headers)
    elsewhere = client.post(URL, json=body(stops, second), headers=headers)

    assert assert_problem(again, 409)["type"] == "/problems/route-code-taken"
    assert elsewhere.status_code == 201


# --- read ------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_staff_read_every_companys_routes(app, client, actors, role):
    stops = stations(app, 2)
    one = make_route(app, make_company(app), stops)
    two = make_route(app, make_company(app), stops[::-1], mode="train")
    headers = actors.headers(role)

    listed = client.get(URL, headers=headers)
    shown = client.get(f"{URL}/{two}", headers=headers)

    assert listed.status_code == 200
    assert sorted(item_ids(listed)) == sorted([one, two])
    assert [s["station_id"] for s in shown.get_json()["stops"]] == stops[::-1]


def test_operator_reads_only_its_company(app, client, actors):
    mine, other = make_company(app), make_company(app)
    stops = stations(app, 2)
    own, foreign = make_route(app, mine, stops), make_route(app, other, stops)
    operator = operator_of(actors, mine)

    assert item_ids(client.get(URL, headers=operator["headers"])) == [own]
    assert client.get(f"{URL}/{own}", headers=operator["headers"]).status_code == 200
    assert_problem(client.get(f"{URL}/{foreign}", headers=operator["headers"]), 404)


def test_customer_cannot_read(app, client, actors):
    route = make_route(app, make_company(app), stations(app, 2))
    assert_problem(client.get(URL, headers=actors.headers("customer")), 403)
    assert_problem(
        client.get(f"{URL}/{route}", headers=actors.headers("customer")), 403
    )
    assert_problem(client.get(f"{URL}/{route}"), 401)


def test_list_filters_and_sort(app, client, actors):
    first, second = make_company(app), make_company(app)
    a, b, c = stations(app)
    ab = make_route(app, first, [a, b], code="AB", name="North line")
    bc = make_route(app, first, [b, c], code="BC", mode="train", name="South line")
    ca = make_route(app, second, [c, a], code="CA", name="Coast")
    headers = actors.headers("operation")

    assert item_ids(
        client.get(f"{URL}?company_id={first}&sort=code", headers=headers)
    ) == [ab, bc]
    assert item_ids(client.get(f"{URL}?mode=train", headers=headers)) == [bc]
    assert item_ids(client.get(f"{URL}?station_id={a}&sort=code", headers=headers)) == [
        ab,
        ca,
    ]
    assert item_ids(client.get(f"{URL}?q=LINE&sort=-name", headers=headers)) == [bc, ab]
    assert_problem(client.get(f"{URL}?sort=mode", headers=headers), 422)


def test_unknown_route_is_404(app, client, actors):
    assert_problem(client.get(f"{URL}/999", headers=actors.headers("admin")), 404)


# --- edit ------------------------------------------------------------------------


def test_patch_edits_fields_and_stops_without_trips(app, client, actors):
    company = make_company(app)
    a, b, c, d = stations(app, 4)
    route = make_route(app, company, [a, b, c])
    with app.app_context():
        for origin, destination in ((a, c), (b, c), (a, b)):
            db.session.add(
                Fare(
                    route_id=route,
                    from_station_id=origin,
                    to_station_id=destination,
                    section_code="economy",
                    currency="EUR",
                    price=Decimal("5.00"),
                )
            )
        db.session.commit()

    response = client.patch(
        f"{URL}/{route}",
        json={"name": "Renamed", "code": "R9", "mode": "train", "stops": [c, a, d, b]},
        headers=actors.headers("operation"),
    )

    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["name"] == "Renamed" and answer["mode"] == "train"
    assert [s["station_id"] for s in answer["stops"]] == [c, a, d, b]
    assert [s["position"] for s in answer["stops"]] == [0, 1, 2, 3]
    assert stored(app, route)["stops"] == [c, a, d, b]
    with app.app_context():
        kept = {(f.from_station_id, f.to_station_id) for f in db.session.query(Fare)}
    # a -> b still runs forwards; a -> c and b -> c now run backwards.
    assert kept == {(a, b)}


def test_patch_stops_are_validated(app, client, actors):
    company = make_company(app)
    a, b = stations(app, 2)
    route = make_route(app, company, [a, b])
    response = client.patch(
        f"{URL}/{route}", json={"stops": [a, a]}, headers=actors.headers("admin")
    )
    assert "stops.1" in assert_problem(response, 422)["errors"]
    assert stored(app, route)["stops"] == [a, b]


def test_stops_and_mode_are_locked_once_trips_exist(app, client, actors):
    company = make_company(app)
    a, b, c = stations(app)
    route = make_route(app, company, [a, b])
    add_trip(app, route, [a, b], days_ahead=-5)
    headers = actors.headers("admin")

    stops = client.patch(f"{URL}/{route}", json={"stops": [a, b, c]}, headers=headers)
    mode = client.patch(f"{URL}/{route}", json={"mode": "ferry"}, headers=headers)
    same_stops = client.patch(
        f"{URL}/{route}", json={"stops": [a, b], "name": "Kept"}, headers=headers
    )

    assert assert_problem(stops, 409)["type"] == "/problems/route-has-trips"
    assert assert_problem(mode, 409)["type"] == "/problems/route-has-trips"
    assert same_stops.status_code == 200
    row = stored(app, route)
    assert (row["mode"], row["name"], row["stops"]) == ("bus", "Kept", [a, b])


def test_stops_are_locked_once_a_schedule_exists(app, client, actors):
    company = make_company(app)
    a, b, c = stations(app)
    route = make_route(app, company, [a, b])
    with app.app_context():
        db.session.add(
            Schedule(
                route_id=route,
                stop_times=[],
                weekdays="1111100",
                start_date=date.today(),
                end_date=date.today() + timedelta(days=30),
            )
        )
        db.session.commit()

    response = client.patch(
        f"{URL}/{route}", json={"stops": [a, c]}, headers=actors.headers("admin")
    )

    assert_problem(response, 409)


def test_patch_to_a_taken_code_is_409(app, client, actors):
    company = make_company(app)
    stops = stations(app, 2)
    make_route(app, company, stops, code="TAKEN")
    route = make_route(app, company, stops)
    response = client.patch(
        f"{URL}/{route}", json={"code": "TAKEN"}, headers=actors.headers("admin")
    )
    assert assert_problem(response, 409)["type"] == "/problems/route-code-taken"


def test_operator_edits_only_its_own_routes(app, client, actors):
    mine, other = make_company(app), make_company(app)
    stops = stations(app, 2)
    own, foreign = make_route(app, mine, stops), make_route(app, other, stops)
    operator = operator_of(actors, mine)

    ok = client.patch(
        f"{URL}/{own}", json={"name": "Mine"}, headers=operator["headers"]
    )
    hidden = client.patch(
        f"{URL}/{foreign}", json={"name": "Theirs"}, headers=operator["headers"]
    )

    assert ok.status_code == 200
    assert_problem(hidden, 404)
    assert stored(app, foreign)["name"] != "Theirs"


@pytest.mark.parametrize("role", [*READ_ONLY, "customer"])
def test_other_roles_cannot_edit_or_delete(app, client, actors, role):
    route = make_route(app, make_company(app), stations(app, 2))
    headers = actors.headers(role)
    assert_problem(
        client.patch(f"{URL}/{route}", json={"name": "X"}, headers=headers), 403
    )
    assert_problem(client.delete(f"{URL}/{route}", headers=headers), 403)
    assert stored(app, route) is not None


def test_anonymous_cannot_edit_or_delete(app, client):
    route = make_route(app, make_company(app), stations(app, 2))
    assert_problem(client.patch(f"{URL}/{route}", json={"name": "X"}), 401)
    assert_problem(client.delete(f"{URL}/{route}"), 401)


# --- delete ----------------------------------------------------------------------


@pytest.mark.parametrize("role", MANAGERS)
def test_delete_a_route_without_trips(app, client, actors, role):
    route = make_route(app, make_company(app), stations(app, 2))

    response = client.delete(f"{URL}/{route}", headers=actors.headers(role))

    assert response.status_code == 204
    assert stored(app, route) is None
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="route.deleted").one()
        assert entry.entity_id == route


def test_delete_a_route_with_trips_is_409(app, client, actors):
    company = make_company(app)
    stops = stations(app, 2)
    route = make_route(app, company, stops)
    add_trip(app, route, stops)

    response = client.delete(f"{URL}/{route}", headers=actors.headers("admin"))

    assert assert_problem(response, 409)["type"] == "/problems/route-in-use"
    assert stored(app, route) is not None


def test_operator_deletes_only_its_own_routes(app, client, actors):
    mine, other = make_company(app), make_company(app)
    stops = stations(app, 2)
    own, foreign = make_route(app, mine, stops), make_route(app, other, stops)
    operator = operator_of(actors, mine)

    assert client.delete(f"{URL}/{own}", headers=operator["headers"]).status_code == 204
    assert_problem(client.delete(f"{URL}/{foreign}", headers=operator["headers"]), 404)
    assert stored(app, foreign) is not None


def test_delete_unknown_route_is_404(app, client, actors):
    assert_problem(client.delete(f"{URL}/999", headers=actors.headers("admin")), 404)
