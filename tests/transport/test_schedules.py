"""Schedules (GTFS calendar + calendar_dates with a stop-time pattern): create,
read, list, edit, delete, and the idempotent generation of their trips, by role and
company (docs/transport.md "Schedules"; issue 21 item 6)."""

import time
from datetime import date

import pytest
from sqlalchemy import func, select

from core.extensions import db
from models import Schedule, StopTime, Trip
from tests.factories import assert_problem, item_ids
from tests.transport.conftest import (
    TRANSPORT,
    make_city,
    make_company,
    make_route,
    make_station,
    make_vehicle,
    operator_of,
)

URL = f"{TRANSPORT}/schedules"
TRIPS = f"{TRANSPORT}/trips"
READERS = ["admin", "hr", "sales", "operation", "operation_head", "finance"]
READ_ONLY = ["hr", "sales", "operation_head", "finance"]


def line(app) -> dict:
    """A coach company: Dublin Busaras -> Cork Parnell Place -> Killarney (all
    Europe/Dublin), a coach, a train and the route."""
    company = make_company(app, code="BUSEIREANN", name="Bus Eireann")
    city = make_city(app, "Dublin", "IE", "Europe/Dublin")
    dub = make_station(app, city, code="DUB", name="Dublin Busaras")
    cork = make_station(app, code="ORK", name="Cork Parnell Place")
    kil = make_station(app, code="KIR", name="Killarney")
    coach = make_vehicle(app, company, mode="bus")
    train = make_vehicle(app, company, mode="train")
    route = make_route(app, company, [dub, cork, kil], mode="bus", code="X8")
    return {
        "company": company,
        "dub": dub,
        "cork": cork,
        "kil": kil,
        "coach": coach,
        "train": train,
        "route": route,
    }


def body(net: dict, **fields) -> dict:
    """A weekday evening coach in June 2035 (Friday 1 to Saturday 30), running past
    midnight to Killarney; June 2 (a Saturday) added, June 4 (a Monday) removed."""
    data = {
        "route_id": net["route"],
        "vehicle_id": net["coach"],
        "weekdays": "1111100",
        "start_date": "2035-06-01",
        "end_date": "2035-06-30",
        "added_dates": ["2035-06-02"],
        "removed_dates": ["2035-06-04"],
        "headsign": "Killarney",
        "stop_times": [
            {"station_id": net["dub"], "departure": "22:30"},
            {"station_id": net["cork"], "arrival": "25:10", "departure": "25:20"},
            {"station_id": net["kil"], "arrival": "26:45"},
        ],
    }
    data.update(fields)
    return data


def create(client, actors, net, role="operation", **fields) -> int:
    """POST a schedule; returns its id."""
    response = client.post(URL, json=body(net, **fields), headers=actors.headers(role))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def generate(client, actors, schedule_id, until, role="operation"):
    """POST .../generate up to `until`."""
    return client.post(
        f"{URL}/{schedule_id}/generate",
        json={"until": until},
        headers=actors.headers(role),
    )


def trip_dates(app, schedule_id) -> list[str]:
    """The service dates of the schedule's trips, ascending."""
    with app.app_context():
        return [
            str(day)
            for day in db.session.scalars(
                select(Trip.service_date)
                .where(Trip.schedule_id == schedule_id)
                .order_by(Trip.service_date)
            )
        ]


# --- create, read, list ---------------------------------------------------------


def test_create_and_read_schedule(client, actors, app):
    net = line(app)

    response = client.post(URL, json=body(net), headers=actors.headers("admin"))

    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created == {
        "id": created["id"],
        "route_id": net["route"],
        "company_id": net["company"],
        "vehicle_id": net["coach"],
        "weekdays": "1111100",
        "start_date": "2035-06-01",
        "end_date": "2035-06-30",
        "added_dates": ["2035-06-02"],
        "removed_dates": ["2035-06-04"],
        "headsign": "Killarney",
        "gtfs_service_id": None,
        "gtfs_trip_id": None,
        "stop_times": [
            {"station_id": net["dub"], "arrival": "22:30", "departure": "22:30"},
            {"station_id": net["cork"], "arrival": "25:10", "departure": "25:20"},
            {"station_id": net["kil"], "arrival": "26:45", "departure": "26:45"},
        ],
        "created_at": created["created_at"],
        "updated_at": created["updated_at"],
    }
    shown = client.get(f"{URL}/{created['id']}", headers=actors.headers("sales"))
    assert shown.status_code == 200
    assert shown.get_json() == created
    with app.app_context():
        assert db.session.scalar(select(func.count(Trip.id))) == 0


def test_list_schedules_with_filters(client, actors, app):
    net = line(app)
    june = create(client, actors, net)
    july = create(
        client,
        actors,
        net,
        start_date="2035-07-01",
        end_date="2035-07-31",
        added_dates=[],
        removed_dates=[],
        vehicle_id=None,
    )
    headers = actors.headers("finance")

    def ids(**query):
        response = client.get(URL, query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return item_ids(response)

    assert ids() == [july, june]
    assert ids(sort="start_date") == [june, july]
    assert ids(active_on="2035-07-04") == [july]
    assert ids(vehicle_id=net["coach"]) == [june]
    assert ids(route_id=net["route"], sort="-end_date") == [july, june]
    assert ids(route_id=999) == []
    assert_problem(client.get(URL, query_string={"sort": "x"}, headers=headers), 422)


# --- generation -------------------------------------------------------------------


JUNE_DATES = [
    # weekdays of June 2035 from Friday 1, plus Saturday 2, minus Monday 4
    "2035-06-01", "2035-06-02", "2035-06-05", "2035-06-06", "2035-06-07",
    "2035-06-08", "2035-06-11", "2035-06-12", "2035-06-13", "2035-06-14",
    "2035-06-15",
]  # fmt: skip


def test_generate_is_idempotent_with_calendar_dates(client, actors, app):
    net = line(app)
    schedule_id = create(client, actors, net)

    first = generate(client, actors, schedule_id, "2035-06-15")
    second = generate(client, actors, schedule_id, "2035-06-15")

    assert first.status_code == 200, first.get_json()
    result = first.get_json()
    assert result["created"] == 11
    assert result["skipped"] == 0
    assert result["until"] == "2035-06-15"
    assert len(result["trip_ids"]) == 11
    assert trip_dates(app, schedule_id) == JUNE_DATES
    assert second.status_code == 200
    assert second.get_json() == {
        "created": 0,
        "skipped": 11,
        "until": "2035-06-15",
        "trip_ids": [],
    }
    assert trip_dates(app, schedule_id) == JUNE_DATES
    # further on: only the new dates, capped at end_date (June 30)
    third = generate(client, actors, schedule_id, "2035-12-31").get_json()
    assert third["created"] == 10  # June 18-22 and 25-29
    assert third["skipped"] == 11
    assert third["until"] == "2035-06-30"
    assert trip_dates(app, schedule_id)[-1] == "2035-06-29"
    assert len(trip_dates(app, schedule_id)) == 21


def test_generated_trips_carry_the_pattern_in_utc(client, actors, app):
    """22:30 Dublin summer time (UTC+1) = 21:30Z; 26:45 = 02:45 next day local =
    01:45Z; the trip shows like one made by hand."""
    net = line(app)
    schedule_id = create(client, actors, net)
    trip_id = generate(client, actors, schedule_id, "2035-06-01").get_json()[
        "trip_ids"
    ][0]

    response = client.get(f"{TRIPS}/{trip_id}", headers=actors.headers("admin"))

    trip = response.get_json()
    assert trip["schedule_id"] == schedule_id
    assert trip["vehicle_id"] == net["coach"]
    assert trip["headsign"] == "Killarney"
    assert trip["status"] == "scheduled"
    assert trip["service_date"] == "2035-06-01"
    assert trip["departure_at"] == "2035-06-01T21:30:00+00:00"
    assert trip["arrival_at"] == "2035-06-02T01:45:00+00:00"
    keys = ("sequence", "arrival", "departure", "arrival_at", "departure_at")
    assert [tuple(c[key] for key in keys) for c in trip["stop_times"]] == [
        (0, "22:30", "22:30", "2035-06-01T21:30:00+00:00", "2035-06-01T21:30:00+00:00"),
        (1, "25:10", "25:20", "2035-06-02T00:10:00+00:00", "2035-06-02T00:20:00+00:00"),
        (2, "26:45", "26:45", "2035-06-02T01:45:00+00:00", "2035-06-02T01:45:00+00:00"),
    ]  # fmt: skip


def test_generation_follows_the_clock_change(client, actors, app):
    """Dublin moves to UTC+1 on Sunday 25 March 2035: the 08:00 departure is 08:00Z
    on the 24th and 07:00Z on the 25th."""
    net = line(app)
    schedule_id = create(
        client,
        actors,
        net,
        weekdays="1111111",
        start_date="2035-03-24",
        end_date="2035-03-26",
        added_dates=[],
        removed_dates=[],
        stop_times=[
            {"station_id": net["dub"], "departure": "08:00"},
            {"station_id": net["cork"], "arrival": "10:40", "departure": "10:45"},
            {"station_id": net["kil"], "arrival": "12:10"},
        ],
    )

    generate(client, actors, schedule_id, "2035-03-26")

    with app.app_context():
        rows = db.session.execute(
            select(Trip.service_date, Trip.departure_at)
            .where(Trip.schedule_id == schedule_id)
            .order_by(Trip.service_date)
        ).all()
    assert [(str(d), at.isoformat()) for d, at in rows] == [
        ("2035-03-24", "2035-03-24T08:00:00+00:00"),
        ("2035-03-25", "2035-03-25T07:00:00+00:00"),
        ("2035-03-26", "2035-03-26T07:00:00+00:00"),
    ]


def test_generate_before_start_creates_nothing(client, actors, app):
    net = line(app)
    schedule_id = create(client, actors, net)

    response = generate(client, actors, schedule_id, "2035-05-31")

    assert response.get_json() == {
        "created": 0,
        "skipped": 0,
        "until": "2035-05-31",
        "trip_ids": [],
    }


def test_a_year_of_daily_trips_is_generated_fast(client, actors, app):
    net = line(app)
    schedule_id = create(
        client,
        actors,
        net,
        weekdays="1111111",
        start_date="2035-01-01",
        end_date="2035-12-31",
        added_dates=[],
        removed_dates=["2035-12-25"],
    )

    started = time.perf_counter()
    response = generate(client, actors, schedule_id, "2035-12-31")
    elapsed = time.perf_counter() - started

    assert response.get_json()["created"] == 364
    assert elapsed < 5, elapsed
    with app.app_context():
        assert db.session.scalar(select(func.count(StopTime.id))) == 364 * 3
    again = generate(client, actors, schedule_id, "2035-12-31").get_json()
    assert (again["created"], again["skipped"]) == (0, 364)


def test_edits_apply_to_later_generations_only(client, actors, app):
    net = line(app)
    schedule_id = create(client, actors, net)
    generate(client, actors, schedule_id, "2035-06-05")
    later = [
        {"station_id": net["dub"], "departure": "23:00"},
        {"station_id": net["cork"], "arrival": "25:40", "departure": "25:50"},
        {"station_id": net["kil"], "arrival": "27:15"},
    ]

    response = client.patch(
        f"{URL}/{schedule_id}",
        json={
            "stop_times": later,
            "weekdays": "1111111",
            "removed_dates": ["2035-06-02", "2035-06-09"],
            "added_dates": [],
            "vehicle_id": None,
        },
        headers=actors.headers("operation"),
    )

    assert response.status_code == 200, response.get_json()
    edited = response.get_json()
    assert edited["weekdays"] == "1111111"
    assert edited["removed_dates"] == ["2035-06-02", "2035-06-09"]
    assert edited["added_dates"] == []
    assert edited["vehicle_id"] is None
    assert edited["stop_times"][0] == {
        "station_id": net["dub"],
        "arrival": "23:00",
        "departure": "23:00",
    }
    result = generate(client, actors, schedule_id, "2035-06-10").get_json()
    # June 1, 2 and 5 existed (June 2 stays although removed now); June 3, 4, 6,
    # 7, 8 and 10 are new, June 9 is removed.
    assert (result["created"], result["skipped"]) == (6, 2)
    with app.app_context():
        rows = dict(
            db.session.execute(
                select(Trip.service_date, Trip.departure_at).where(
                    Trip.schedule_id == schedule_id
                )
            ).all()
        )
    assert rows[date(2035, 6, 1)].isoformat() == "2035-06-01T21:30:00+00:00"
    assert rows[date(2035, 6, 3)].isoformat() == "2035-06-03T22:00:00+00:00"
    assert date(2035, 6, 2) in rows and date(2035, 6, 9) not in rows


def test_delete_schedule_keeps_its_trips(client, actors, app):
    net = line(app)
    schedule_id = create(client, actors, net)
    trip_ids = generate(client, actors, schedule_id, "2035-06-02").get_json()[
        "trip_ids"
    ]

    response = client.delete(f"{URL}/{schedule_id}", headers=actors.headers("admin"))

    assert response.status_code == 204
    with app.app_context():
        assert db.session.get(Schedule, schedule_id) is None
        trips = [db.session.get(Trip, trip_id) for trip_id in trip_ids]
        assert [trip.schedule_id for trip in trips] == [None, None]
    assert_problem(
        client.get(f"{URL}/{schedule_id}", headers=actors.headers("admin")), 404
    )


# --- what is refused --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"end_date": "2035-05-31"}, "end_date"),
        ({"start_date": "2035-01-01", "end_date": "2036-01-02"}, "end_date"),
        ({"added_dates": ["2035-07-01"]}, "added_dates"),
        ({"removed_dates": ["2035-05-01"]}, "removed_dates"),
        (
            {"added_dates": ["2035-06-09"], "removed_dates": ["2035-06-09"]},
            "removed_dates",
        ),
        ({"weekdays": "11111"}, "weekdays"),
        ({"weekdays": "Mon-Fri"}, "weekdays"),
        ({"start_date": "1999-12-31"}, "start_date"),
        ({"vehicle_id": 999_999}, "vehicle_id"),
    ],
)
def test_bad_calendars_are_refused(client, actors, app, fields, error):
    net = line(app)

    response = client.post(
        URL, json=body(net, **fields), headers=actors.headers("admin")
    )

    assert error in assert_problem(response, 422)["errors"]
    with app.app_context():
        assert db.session.scalar(select(Schedule.id)) is None


def test_a_year_and_a_leap_day_is_allowed(client, actors, app):
    net = line(app)

    create(
        client,
        actors,
        net,
        start_date="2036-01-01",
        end_date="2036-12-31",
        added_dates=[],
        removed_dates=[],
    )


def test_pattern_must_follow_the_route(client, actors, app):
    net = line(app)
    pattern = [
        {"station_id": net["dub"], "departure": "08:00"},
        {"station_id": net["kil"], "arrival": "10:00"},
        {"station_id": net["cork"], "arrival": "11:00"},
    ]

    response = client.post(
        URL, json=body(net, stop_times=pattern), headers=actors.headers("admin")
    )

    assert "stop_times.1.station_id" in assert_problem(response, 422)["errors"]


def test_pattern_going_backwards_in_utc_is_refused(client, actors, app):
    net = line(app)
    pattern = [
        {"station_id": net["dub"], "departure": "08:00"},
        {"station_id": net["cork"], "arrival": "07:59"},
        {"station_id": net["kil"], "arrival": "11:00"},
    ]

    response = client.post(
        URL, json=body(net, stop_times=pattern), headers=actors.headers("admin")
    )

    assert list(assert_problem(response, 422)["errors"]) == ["stop_times.1.arrival"]


def test_vehicle_mode_must_match(client, actors, app):
    net = line(app)

    response = client.post(
        URL, json=body(net, vehicle_id=net["train"]), headers=actors.headers("admin")
    )

    assert "vehicle_id" in assert_problem(response, 422)["errors"]


def test_patch_is_checked_like_create(client, actors, app):
    net = line(app)
    schedule_id = create(client, actors, net)
    headers = actors.headers("admin")

    for change in (
        {"end_date": "2035-05-01"},
        {"start_date": "2035-06-10"},  # June 2 and 4 fall outside
        {"vehicle_id": net["train"]},
        {"start_date": "2035-06-01", "end_date": "2036-06-01"},
    ):
        response = client.patch(f"{URL}/{schedule_id}", json=change, headers=headers)
        assert_problem(response, 422)
    shown = client.get(f"{URL}/{schedule_id}", headers=headers).get_json()
    assert (shown["start_date"], shown["end_date"]) == ("2035-06-01", "2035-06-30")


def test_generate_needs_a_bounded_date(client, actors, app):
    net = line(app)
    schedule_id = create(client, actors, net)

    for until in ("2101-01-01", "soon", None):
        assert_problem(generate(client, actors, schedule_id, until), 422)
    assert_problem(generate(client, actors, 999_999, "2035-06-30"), 404)


# --- roles and companies ----------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_staff_read(client, actors, app, role):
    net = line(app)
    schedule_id = create(client, actors, net)
    headers = actors.headers(role)

    assert item_ids(client.get(URL, headers=headers)) == [schedule_id]
    assert client.get(f"{URL}/{schedule_id}", headers=headers).status_code == 200


@pytest.mark.parametrize("role", [*READ_ONLY, "customer", "anonymous"])
def test_others_cannot_write(client, actors, app, role):
    net = line(app)
    schedule_id = create(client, actors, net)
    headers = actors.headers(role)
    status = 401 if role == "anonymous" else 403

    assert_problem(client.post(URL, json=body(net), headers=headers), status)
    patched = client.patch(
        f"{URL}/{schedule_id}", json={"headsign": "x"}, headers=headers
    )
    assert_problem(patched, status)
    assert_problem(client.delete(f"{URL}/{schedule_id}", headers=headers), status)
    generated = client.post(
        f"{URL}/{schedule_id}/generate", json={"until": "2035-06-30"}, headers=headers
    )
    assert_problem(generated, status)
    if role in ("customer", "anonymous"):
        assert_problem(client.get(URL, headers=headers), status)
        assert_problem(client.get(f"{URL}/{schedule_id}", headers=headers), status)
    assert trip_dates(app, schedule_id) == []


def test_operator_manages_its_own_company_only(client, actors, app):
    net = line(app)
    own = operator_of(actors, net["company"])["headers"]
    stranger = operator_of(actors, make_company(app))["headers"]

    created = client.post(URL, json=body(net), headers=own)
    assert created.status_code == 201
    schedule_id = created.get_json()["id"]
    assert item_ids(client.get(URL, headers=own)) == [schedule_id]
    assert client.get(f"{URL}/{schedule_id}", headers=own).status_code == 200

    assert item_ids(client.get(URL, headers=stranger)) == []
    assert_problem(client.post(URL, json=body(net), headers=stranger), 404)
    assert_problem(client.get(f"{URL}/{schedule_id}", headers=stranger), 404)
    patched = client.patch(
        f"{URL}/{schedule_id}", json={"headsign": "x"}, headers=stranger
    )
    assert_problem(patched, 404)
    generated = client.post(
        f"{URL}/{schedule_id}/generate", json={"until": "2035-06-30"}, headers=stranger
    )
    assert_problem(generated, 404)
    assert_problem(client.delete(f"{URL}/{schedule_id}", headers=stranger), 404)
    assert trip_dates(app, schedule_id) == []

    mine = client.post(
        f"{URL}/{schedule_id}/generate", json={"until": "2035-06-01"}, headers=own
    )
    assert mine.get_json()["created"] == 1
    edited = client.patch(f"{URL}/{schedule_id}", json={"headsign": "K"}, headers=own)
    assert edited.get_json()["headsign"] == "K"
    assert client.delete(f"{URL}/{schedule_id}", headers=own).status_code == 204


def test_removed_date_after_generation_keeps_the_trip(client, actors, app):
    """Generation only adds trips: a date removed later keeps its trip until it is
    cancelled or deleted by hand (docs/transport.md "Schedules")."""
    net = line(app)
    schedule_id = create(client, actors, net)
    generate(client, actors, schedule_id, "2035-06-01")

    client.patch(
        f"{URL}/{schedule_id}",
        json={"removed_dates": ["2035-06-01", "2035-06-04"]},
        headers=actors.headers("admin"),
    )
    again = generate(client, actors, schedule_id, "2035-06-01").get_json()

    assert (again["created"], again["skipped"]) == (0, 0)
    assert trip_dates(app, schedule_id) == ["2035-06-01"]


def test_trip_list_filters_by_schedule(client, actors, app):
    net = line(app)
    schedule_id = create(client, actors, net)
    trip_ids = generate(client, actors, schedule_id, "2035-06-05").get_json()[
        "trip_ids"
    ]

    response = client.get(
        TRIPS,
        query_string={"schedule_id": schedule_id},
        headers=actors.headers("admin"),
    )

    assert item_ids(response) == trip_ids
    assert len(trip_ids) == 3  # June 1, 2 and 5
