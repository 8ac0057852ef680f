"""Vehicles with amenities, sections and seat maps: create, read, edit, delete, by
role and company, the seat-map rules and the sold-seat guard (docs/transport.md
"Vehicles and seat maps")."""

from datetime import date, timedelta

import pytest

from core.extensions import db
from models import Amenity, AuditEntry, Vehicle
from services.transport import vehicles as vehicle_service
from tests.factories import assert_problem, item_ids
from tests.transport.conftest import (
    TRANSPORT,
    make_company,
    make_route,
    make_station,
    make_trip,
    make_vehicle,
    operator_of,
    seat_rows,
)

URL = f"{TRANSPORT}/vehicles"
MANAGERS = ["admin", "operation"]
READ_ONLY = ["hr", "sales", "operation_head", "finance"]
READERS = ["admin", "hr", "sales", "operation", "operation_head", "finance"]


def add_amenities(app, *codes) -> None:
    """Amenity rows straight in the database."""
    with app.app_context():
        for code in codes:
            db.session.add(Amenity(code=code, name=code.title()))
        db.session.commit()


def body(company_id=None, **fields) -> dict:
    """A vehicle body: a coach with a first and an economy section."""
    data = {
        "mode": "bus",
        "name": "Coach 12",
        "registration": "241-D-1234",
        "amenities": [],
        "sections": [
            {
                "code": "first",
                "name": "First class",
                "seat_map": {"rows": [["1A", None, "1C"]]},
            },
            {
                "code": "economy",
                "name": "Economy",
                "seat_map": {"rows": [["2A", "2B", None, "2C", "2D"], ["3A", "3B"]]},
            },
        ],
    }
    if company_id is not None:
        data["company_id"] = company_id
    data.update(fields)
    return data


def stored(app, vehicle_id) -> dict | None:
    """The vehicle row with its sections `{code: (capacity, rows)}` and amenity
    codes, or None when gone."""
    with app.app_context():
        vehicle = db.session.get(Vehicle, vehicle_id)
        if vehicle is None:
            return None
        return {
            "company_id": vehicle.company_id,
            "mode": vehicle.mode,
            "name": vehicle.name,
            "registration": vehicle.registration,
            "sections": {
                s.code: (s.capacity, s.seat_map["rows"]) for s in vehicle.sections
            },
            "amenities": [a.code for a in vehicle.amenities],
        }


def trip_using(app, company_id, vehicle_id, days_ahead=10) -> int:
    """A scheduled trip of a new route of `company_id` run by `vehicle_id`."""
    a, b = make_station(app), make_station(app)
    route_id = make_route(app, company_id, [a, b])
    day = date.today() + timedelta(days=days_ahead)
    return make_trip(
        app,
        route_id,
        day,
        [(a, "08:00", "08:00"), (b, "10:00", "10:00")],
        vehicle_id=vehicle_id,
    )


# --- create ----------------------------------------------------------------------


@pytest.mark.parametrize("role", MANAGERS)
def test_admin_and_operation_create_a_vehicle_of_any_company(app, client, actors, role):
    company = make_company(app)
    add_amenities(app, "wifi", "power")
    response = client.post(
        URL,
        json=body(company, amenities=["wifi", "power"]),
        headers=actors.headers(role),
    )

    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["company_id"] == company
    assert answer["mode"] == "bus"
    assert answer["amenities"] == ["power", "wifi"]
    assert [(s["code"], s["capacity"]) for s in answer["sections"]] == [
        ("first", 2),
        ("economy", 6),
    ]
    assert answer["sections"][0]["seat_map"] == {"rows": [["1A", None, "1C"]]}
    assert answer["capacity"] == 8
    row = stored(app, answer["id"])
    assert row["sections"]["economy"][0] == 6
    assert row["amenities"] == ["power", "wifi"]


def test_operator_creates_for_its_own_company_implicitly(app, client, actors):
    company = make_company(app)
    operator = operator_of(actors, company)

    response = client.post(URL, json=body(), headers=operator["headers"])

    assert response.status_code == 201
    assert response.get_json()["company_id"] == company
    same = client.post(
        URL, json=body(company, registration="X-2"), headers=operator["headers"]
    )
    assert same.status_code == 201


def test_operator_naming_another_company_gets_404(app, client, actors):
    mine, other = make_company(app), make_company(app)
    operator = operator_of(actors, mine)

    response = client.post(URL, json=body(other), headers=operator["headers"])

    assert_problem(response, 404)
    with app.app_context():
        assert db.session.query(Vehicle).count() == 0


def test_admin_must_name_an_existing_company(app, client, actors):
    headers = actors.headers("admin")

    missing = assert_problem(client.post(URL, json=body(), headers=headers), 422)
    unknown = assert_problem(client.post(URL, json=body(999), headers=headers), 422)

    assert "company_id" in missing["errors"]
    assert "company_id" in unknown["errors"]


@pytest.mark.parametrize("role", [*READ_ONLY, "customer"])
def test_other_roles_cannot_create(app, client, actors, role):
    company = make_company(app)
    response = client.post(URL, json=body(company), headers=actors.headers(role))
    assert_problem(response, 403)


def test_anonymous_cannot_create_or_read(app, client):
    company = make_company(app)
    assert_problem(client.post(URL, json=body(company)), 401)
    assert_problem(client.get(URL), 401)


def test_registration_is_unique_per_company(app, client, actors):
    first, second = make_company(app), make_company(app)
    headers = actors.headers("admin")
    assert client.post(URL, json=body(first), headers=headers).status_code == 201

    again = client.post(URL, json=body(first, name="Other"), headers=headers)
    elsewhere = client.post(URL, json=body(second), headers=headers)

    assert assert_problem(again, 409)["type"] == "/problems/registration-taken"
    assert elsewhere.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mode": "rocket"}, "mode"),
        ({"amenities": ["jacuzzi"]}, "amenities"),
        ({"sections": []}, "sections"),
        ({"name": "   "}, "name"),
        ({"registration": ""}, "registration"),
    ],
)
def test_vehicle_fields_are_validated(app, client, actors, change, field):
    company = make_company(app)
    add_amenities(app, "wifi")
    response = client.post(
        URL, json=body(company, **change), headers=actors.headers("admin")
    )
    problem = assert_problem(response, 422)
    assert any(key.startswith(field) for key in problem["errors"]), problem


def test_unknown_amenity_is_named(app, client, actors):
    company = make_company(app)
    add_amenities(app, "wifi")
    response = client.post(
        URL,
        json=body(company, amenities=["wifi", "jacuzzi"]),
        headers=actors.headers("admin"),
    )
    problem = assert_problem(response, 422)
    assert "jacuzzi" in problem["errors"]["amenities"][0]


@pytest.mark.parametrize(
    ("rows", "where"),
    [
        ([], "sections.0.seat_map.rows"),
        ([[]], "sections.0.seat_map.rows.0"),
        ([[None, None]], "sections.0.seat_map.rows"),
        ([["123456789"]], "sections.0.seat_map.rows.0.0"),
        ([[""]], "sections.0.seat_map.rows.0.0"),
        ([[" 1A"]], "sections.0.seat_map.rows.0.0"),
        ([["1A\u0000"]], "sections.0.seat_map.rows.0.0"),
        ([[12]], "sections.0.seat_map.rows.0.0"),
    ],
)
def test_seat_maps_are_validated(app, client, actors, rows, where):
    company = make_company(app)
    data = body(company)
    data["sections"][0]["seat_map"] = {"rows": rows}
    response = client.post(URL, json=data, headers=actors.headers("admin"))
    problem = assert_problem(response, 422)
    assert where in problem["errors"], problem


def test_an_eight_character_label_is_a_seat(app, client, actors):
    company = make_company(app)
    data = body(company)
    data["sections"][0]["seat_map"] = {"rows": [["12345678", None, "B 4"]]}
    response = client.post(URL, json=data, headers=actors.headers("admin"))
    assert response.status_code == 201
    assert response.get_json()["sections"][0]["capacity"] == 2


def test_seat_labels_are_unique_across_the_vehicle(app, client, actors):
    company = make_company(app)
    data = body(company)
    data["sections"][1]["seat_map"] = {"rows": [["2A", "1C"]]}
    response = client.post(URL, json=data, headers=actors.headers("admin"))
    problem = assert_problem(response, 422)
    assert "1C" in problem["errors"]["sections.1.seat_map"][0]


def test_seat_labels_are_unique_within_a_section(app, client, actors):
    company = make_company(app)
    data = body(company)
    data["sections"][0]["seat_map"] = {"rows": [["1A", "1B"], ["1A"]]}
    response = client.post(URL, json=data, headers=actors.headers("admin"))
    problem = assert_problem(response, 422)
    assert "1A" in problem["errors"]["sections.0.seat_map"][0]


def test_section_codes_are_unique_in_the_vehicle(app, client, actors):
    company = make_company(app)
    data = body(company)
    data["sections"][1]["code"] = "first"
    response = client.post(URL, json=data, headers=actors.headers("admin"))
    problem = assert_problem(response, 422)
    assert "first" in problem["errors"]["sections.1.code"][0]


def test_a_seat_map_with_unknown_keys_is_refused(app, client, actors):
    company = make_company(app)
    data = body(company)
    data["sections"][0]["seat_map"]["decks"] = 2
    response = client.post(URL, json=data, headers=actors.headers("admin"))
    assert_problem(response, 422)


# --- read ------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_staff_read_every_companys_vehicles(app, client, actors, role):
    first, second = make_company(app), make_company(app)
    one = make_vehicle(app, first)
    two = make_vehicle(app, second, mode="train")
    headers = actors.headers(role)

    listed = client.get(URL, headers=headers)
    shown = client.get(f"{URL}/{two}", headers=headers)

    assert listed.status_code == 200
    assert sorted(item_ids(listed)) == sorted([one, two])
    assert shown.status_code == 200
    assert shown.get_json()["sections"][0]["capacity"] == 40


def test_operator_reads_only_its_company(app, client, actors):
    mine, other = make_company(app), make_company(app)
    own = make_vehicle(app, mine)
    foreign = make_vehicle(app, other)
    operator = operator_of(actors, mine)

    listed = client.get(URL, headers=operator["headers"])
    filtered = client.get(f"{URL}?company_id={other}", headers=operator["headers"])

    assert item_ids(listed) == [own]
    assert item_ids(filtered) == []
    assert client.get(f"{URL}/{own}", headers=operator["headers"]).status_code == 200
    assert_problem(client.get(f"{URL}/{foreign}", headers=operator["headers"]), 404)


def test_customer_cannot_read(app, client, actors):
    vehicle = make_vehicle(app, make_company(app))
    assert_problem(client.get(URL, headers=actors.headers("customer")), 403)
    assert_problem(
        client.get(f"{URL}/{vehicle}", headers=actors.headers("customer")), 403
    )
    assert_problem(client.get(f"{URL}/{vehicle}"), 401)


def test_list_filters_and_sort(app, client, actors):
    first, second = make_company(app), make_company(app)
    bus = make_vehicle(app, first, name="Blue coach", registration="B-1")
    train = make_vehicle(app, first, mode="train", name="Red train")
    other = make_vehicle(app, second, name="Green coach")
    headers = actors.headers("sales")

    by_company = client.get(f"{URL}?company_id={first}&sort=name", headers=headers)
    by_mode = client.get(f"{URL}?mode=train", headers=headers)
    by_text = client.get(f"{URL}?q=COACH&sort=-name", headers=headers)
    by_reg = client.get(f"{URL}?q=b-1", headers=headers)

    assert item_ids(by_company) == [bus, train]
    assert item_ids(by_mode) == [train]
    assert item_ids(by_text) == [other, bus]
    assert item_ids(by_reg) == [bus]
    assert_problem(client.get(f"{URL}?sort=mode", headers=headers), 422)


def test_unknown_vehicle_is_404(app, client, actors):
    assert_problem(client.get(f"{URL}/999", headers=actors.headers("admin")), 404)


# --- edit ------------------------------------------------------------------------


def test_patch_edits_fields_amenities_and_replaces_sections(app, client, actors):
    company = make_company(app)
    add_amenities(app, "wifi", "meal")
    vehicle = make_vehicle(app, company)
    new_sections = [
        {"code": "economy", "name": "Economy", "seat_map": seat_rows(2)},
        {"code": "business", "name": "Business", "seat_map": seat_rows(1, "AB", "B")},
    ]

    response = client.patch(
        f"{URL}/{vehicle}",
        json={
            "name": "Renamed",
            "registration": "NEW-1",
            "amenities": ["meal", "wifi", "meal"],
            "sections": new_sections,
            "active": False,
        },
        headers=actors.headers("operation"),
    )

    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["name"] == "Renamed"
    assert answer["active"] is False
    assert answer["amenities"] == ["meal", "wifi"]
    assert [(s["code"], s["capacity"]) for s in answer["sections"]] == [
        ("economy", 8),
        ("business", 2),
    ]
    row = stored(app, vehicle)
    assert row["registration"] == "NEW-1"
    assert set(row["sections"]) == {"economy", "business"}


def test_operator_edits_its_own_vehicle_but_not_another_companys(app, client, actors):
    mine, other = make_company(app), make_company(app)
    own, foreign = make_vehicle(app, mine), make_vehicle(app, other)
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
    vehicle = make_vehicle(app, make_company(app))
    headers = actors.headers(role)
    assert_problem(
        client.patch(f"{URL}/{vehicle}", json={"name": "X"}, headers=headers), 403
    )
    assert_problem(client.delete(f"{URL}/{vehicle}", headers=headers), 403)
    assert stored(app, vehicle) is not None


def test_anonymous_cannot_edit_or_delete(app, client):
    vehicle = make_vehicle(app, make_company(app))
    assert_problem(client.patch(f"{URL}/{vehicle}", json={"name": "X"}), 401)
    assert_problem(client.delete(f"{URL}/{vehicle}"), 401)


def test_patch_to_a_taken_registration_is_409(app, client, actors):
    company = make_company(app)
    make_vehicle(app, company, registration="TAKEN")
    vehicle = make_vehicle(app, company)
    response = client.patch(
        f"{URL}/{vehicle}",
        json={"registration": "TAKEN"},
        headers=actors.headers("admin"),
    )
    assert assert_problem(response, 409)["type"] == "/problems/registration-taken"


def test_patch_sections_are_validated_like_create(app, client, actors):
    vehicle = make_vehicle(app, make_company(app))
    response = client.patch(
        f"{URL}/{vehicle}",
        json={
            "sections": [
                {"code": "a", "name": "A", "seat_map": {"rows": [["1A"]]}},
                {"code": "b", "name": "B", "seat_map": {"rows": [["1A"]]}},
            ]
        },
        headers=actors.headers("admin"),
    )
    problem = assert_problem(response, 422)
    assert "1A" in problem["errors"]["sections.1.seat_map"][0]
    assert stored(app, vehicle)["sections"]["economy"][0] == 40


def test_a_sold_seat_cannot_disappear(app, client, actors, monkeypatch):
    vehicle = make_vehicle(
        app,
        make_company(app),
        sections={"economy": seat_rows(2), "first": seat_rows(1, "AB", "F")},
    )
    monkeypatch.setattr(
        vehicle_service,
        "sold_seats",
        lambda vehicle_id: {"economy": {"2D"}, "first": {"F1A"}},
    )
    headers = actors.headers("admin")
    smaller = [
        {"code": "economy", "name": "Economy", "seat_map": seat_rows(1)},
        {"code": "first", "name": "First", "seat_map": seat_rows(1, "AB", "F")},
    ]
    renamed = [
        {"code": "economy", "name": "Economy", "seat_map": seat_rows(2)},
        {"code": "premium", "name": "First", "seat_map": seat_rows(1, "AB", "F")},
    ]
    kept = [
        {"code": "economy", "name": "Economy", "seat_map": {"rows": [["2D"]]}},
        {"code": "first", "name": "First", "seat_map": {"rows": [["F1A"]]}},
    ]

    lost_row = client.patch(
        f"{URL}/{vehicle}", json={"sections": smaller}, headers=headers
    )
    lost_section = client.patch(
        f"{URL}/{vehicle}", json={"sections": renamed}, headers=headers
    )
    still_there = client.patch(
        f"{URL}/{vehicle}", json={"sections": kept}, headers=headers
    )

    problem = assert_problem(lost_row, 409)
    assert problem["type"] == "/problems/seat-sold"
    assert problem["seats"] == ["economy:2D"]
    assert assert_problem(lost_section, 409)["seats"] == ["first:F1A"]
    assert still_there.status_code == 200
    assert stored(app, vehicle)["sections"] == {
        "economy": (1, [["2D"]]),
        "first": (1, [["F1A"]]),
    }


def test_sold_seats_is_empty_until_tickets_exist(app):
    vehicle = make_vehicle(app, make_company(app))
    with app.app_context():
        assert vehicle_service.sold_seats(vehicle) == {}


def test_mode_of_a_vehicle_in_use_cannot_change(app, client, actors):
    company = make_company(app)
    used, free = make_vehicle(app, company), make_vehicle(app, company)
    trip_using(app, company, used)
    headers = actors.headers("admin")

    refused = client.patch(f"{URL}/{used}", json={"mode": "train"}, headers=headers)
    renamed = client.patch(
        f"{URL}/{used}", json={"name": "Still a bus"}, headers=headers
    )
    changed = client.patch(f"{URL}/{free}", json={"mode": "train"}, headers=headers)

    assert assert_problem(refused, 409)["type"] == "/problems/vehicle-in-use"
    assert renamed.status_code == 200
    assert changed.get_json()["mode"] == "train"
    assert stored(app, used)["mode"] == "bus"


# --- delete ----------------------------------------------------------------------


@pytest.mark.parametrize("role", MANAGERS)
def test_delete_a_vehicle_without_trips(app, client, actors, role):
    vehicle = make_vehicle(app, make_company(app))

    response = client.delete(f"{URL}/{vehicle}", headers=actors.headers(role))

    assert response.status_code == 204
    assert stored(app, vehicle) is None
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="vehicle.deleted").one()
        assert entry.entity_id == vehicle


def test_delete_a_vehicle_trips_use_is_409(app, client, actors):
    company = make_company(app)
    vehicle = make_vehicle(app, company)
    trip_using(app, company, vehicle, days_ahead=-30)

    response = client.delete(f"{URL}/{vehicle}", headers=actors.headers("admin"))

    assert assert_problem(response, 409)["type"] == "/problems/vehicle-in-use"
    assert stored(app, vehicle) is not None


def test_operator_deletes_only_its_own_vehicles(app, client, actors):
    mine, other = make_company(app), make_company(app)
    own, foreign = make_vehicle(app, mine), make_vehicle(app, other)
    operator = operator_of(actors, mine)

    assert client.delete(f"{URL}/{own}", headers=operator["headers"]).status_code == 204
    assert_problem(client.delete(f"{URL}/{foreign}", headers=operator["headers"]), 404)
    assert stored(app, foreign) is not None


def test_delete_unknown_vehicle_is_404(app, client, actors):
    assert_problem(client.delete(f"{URL}/999", headers=actors.headers("admin")), 404)
