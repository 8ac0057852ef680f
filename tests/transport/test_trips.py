"""Trips: create with stop times in each station's local time (stored and answered
as UTC too), read, list with filters, status steps, vehicle changes, delete, by
role and company (docs/transport.md "Trips", "Times"; issue 21 item 6)."""

from datetime import date

import pytest
from sqlalchemy import select

from core.extensions import db
from models import AuditEntry, StopTime, Trip, Vehicle
from services.transport import trips as trip_service
from tests.factories import assert_problem, item_ids
from tests.transport.conftest import (
    TRANSPORT,
    make_city,
    make_company,
    make_route,
    make_station,
    make_trip,
    make_vehicle,
    operator_of,
)

URL = f"{TRANSPORT}/trips"
DAY = date(2035, 6, 1)
READERS = ["admin", "hr", "sales", "operation", "operation_head", "finance"]
READ_ONLY = ["hr", "sales", "operation_head", "finance"]


def line(app) -> dict:
    """A rail company running London St Pancras (Europe/London) -> Lille
    (Europe/Paris) -> Paris Nord, with a train, a coach and a route."""
    company = make_company(app, code="EUROSTAR", name="Eurostar")
    london = make_city(app, "London", "GB", "Europe/London")
    paris_city = make_city(app, "Paris", "FR", "Europe/Paris")
    lille_city = make_city(app, "Lille", "FR", "Europe/Paris")
    lon = make_station(app, london, code="LON", name="London St Pancras")
    lil = make_station(app, lille_city, code="LIL", name="Lille Europe")
    par = make_station(app, paris_city, code="PAR", name="Paris Nord")
    train = make_vehicle(app, company, mode="train", name="e320 4001")
    coach = make_vehicle(app, company, mode="bus", name="Coach")
    route = make_route(app, company, [lon, lil, par], mode="train", code="9O")
    return {
        "company": company,
        "lon": lon,
        "lil": lil,
        "par": par,
        "train": train,
        "coach": coach,
        "route": route,
    }


def night_body(net: dict, **fields) -> dict:
    """The night train of DAY: 23:30 London, 25:50/25:55 Lille, 26:47 Paris (the
    first stop gives only its departure, the last only its arrival)."""
    data = {
        "route_id": net["route"],
        "vehicle_id": net["train"],
        "service_date": str(DAY),
        "headsign": "Paris Nord",
        "stop_times": [
            {"station_id": net["lon"], "departure": "23:30"},
            {"station_id": net["lil"], "arrival": "25:50", "departure": "25:55"},
            {"station_id": net["par"], "arrival": "26:47"},
        ],
    }
    data.update(fields)
    return data


def post_trip(client, actors, net, role="operation", **fields):
    """POST a night train trip as `role`."""
    return client.post(
        URL, json=night_body(net, **fields), headers=actors.headers(role)
    )


def day_trip(app, net, service_date=DAY, times=("09:01", "11:25", "12:20")) -> int:
    """A trip straight in the database, each time arrival = departure."""
    calls = [(net[key], time, time) for key, time in zip(("lon", "lil", "par"), times)]
    return make_trip(app, net["route"], service_date, calls, vehicle_id=net["train"])


def trip_row(app, trip_id) -> dict | None:
    """The stored trip and its stop times, or None when gone."""
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        if trip is None:
            return None
        return {
            "status": trip.status,
            "vehicle_id": trip.vehicle_id,
            "departure_at": trip.departure_at.isoformat(),
            "arrival_at": trip.arrival_at.isoformat(),
            "stop_times": [
                (
                    s.sequence,
                    s.station_id,
                    s.arrival_local,
                    s.departure_local,
                    s.arrival_at.isoformat(),
                    s.departure_at.isoformat(),
                )
                for s in trip.stop_times
            ],
        }


# --- create: times across a border and past midnight ------------------------------


def test_create_night_train_across_border_and_midnight(client, actors, app):
    net = line(app)

    response = post_trip(client, actors, net)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    # 23:30 BST (UTC+1) = 22:30Z; 25:50 CEST (UTC+2) of June 1 = 01:50 June 2 local =
    # 23:50Z June 1; 26:47 CEST = 02:47 June 2 local = 00:47Z June 2.
    assert body == {
        "id": body["id"],
        "route_id": net["route"],
        "company_id": net["company"],
        "mode": "train",
        "vehicle_id": net["train"],
        "schedule_id": None,
        "service_date": "2035-06-01",
        "status": "scheduled",
        "headsign": "Paris Nord",
        "gtfs_trip_id": None,
        "departure_at": "2035-06-01T22:30:00+00:00",
        "arrival_at": "2035-06-02T00:47:00+00:00",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "stop_times": [
            {
                "sequence": 0,
                "station_id": net["lon"],
                "station_code": "LON",
                "station_name": "London St Pancras",
                "timezone": "Europe/London",
                "arrival": "23:30",
                "departure": "23:30",
                "arrival_at": "2035-06-01T22:30:00+00:00",
                "departure_at": "2035-06-01T22:30:00+00:00",
            },
            {
                "sequence": 1,
                "station_id": net["lil"],
                "station_code": "LIL",
                "station_name": "Lille Europe",
                "timezone": "Europe/Paris",
                "arrival": "25:50",
                "departure": "25:55",
                "arrival_at": "2035-06-01T23:50:00+00:00",
                "departure_at": "2035-06-01T23:55:00+00:00",
            },
            {
                "sequence": 2,
                "station_id": net["par"],
                "station_code": "PAR",
                "station_name": "Paris Nord",
                "timezone": "Europe/Paris",
                "arrival": "26:47",
                "departure": "26:47",
                "arrival_at": "2035-06-02T00:47:00+00:00",
                "departure_at": "2035-06-02T00:47:00+00:00",
            },
        ],
    }
    assert trip_row(app, body["id"]) == {
        "status": "scheduled",
        "vehicle_id": net["train"],
        "departure_at": "2035-06-01T22:30:00+00:00",
        "arrival_at": "2035-06-02T00:47:00+00:00",
        "stop_times": [
            (0, net["lon"], "23:30", "23:30", "2035-06-01T22:30:00+00:00",
             "2035-06-01T22:30:00+00:00"),
            (1, net["lil"], "25:50", "25:55", "2035-06-01T23:50:00+00:00",
             "2035-06-01T23:55:00+00:00"),
            (2, net["par"], "26:47", "26:47", "2035-06-02T00:47:00+00:00",
             "2035-06-02T00:47:00+00:00"),
        ],
    }  # fmt: skip
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "trip.created")
        )
        assert entry.entity_id == body["id"]


def test_winter_times_use_the_winter_offsets(client, actors, app):
    """In January London is UTC+0 and Paris UTC+1; times are normalised to HH:MM."""
    net = line(app)

    response = post_trip(
        client,
        actors,
        net,
        service_date="2035-01-15",
        stop_times=[
            {"station_id": net["lon"], "arrival": "9:01", "departure": "9:01"},
            {"station_id": net["lil"], "arrival": "11:25", "departure": "11:27:30"},
            {"station_id": net["par"], "arrival": "12:20", "departure": "12:20"},
        ],
    )

    assert response.status_code == 201, response.get_json()
    calls = response.get_json()["stop_times"]
    assert [(c["arrival"], c["departure"]) for c in calls] == [
        ("09:01", "09:01"),
        ("11:25", "11:27:30"),
        ("12:20", "12:20"),
    ]
    assert [c["departure_at"] for c in calls] == [
        "2035-01-15T09:01:00+00:00",
        "2035-01-15T10:27:30+00:00",
        "2035-01-15T11:20:00+00:00",
    ]


def test_create_without_vehicle(client, actors, app):
    net = line(app)

    response = post_trip(client, actors, net, vehicle_id=None)

    assert response.status_code == 201
    assert response.get_json()["vehicle_id"] is None


# --- create: what is refused ----------------------------------------------------


def test_times_going_backwards_in_utc_are_refused_naming_the_index(client, actors, app):
    """Local 10:00 London (09:00Z) to local 10:30 Paris (08:30Z): the text goes
    forwards but the instants go backwards."""
    net = line(app)

    response = post_trip(
        client,
        actors,
        net,
        stop_times=[
            {"station_id": net["lon"], "departure": "10:00"},
            {"station_id": net["lil"], "arrival": "10:30", "departure": "10:35"},
            {"station_id": net["par"], "arrival": "11:40"},
        ],
    )

    body = assert_problem(response, 422)
    assert list(body["errors"]) == ["stop_times.1.arrival"]
    assert "backwards in UTC" in body["errors"]["stop_times.1.arrival"][0]
    with app.app_context():
        assert db.session.scalar(select(Trip.id)) is None


def test_departure_before_arrival_is_refused(client, actors, app):
    net = line(app)

    response = post_trip(
        client,
        actors,
        net,
        stop_times=[
            {"station_id": net["lon"], "departure": "09:00"},
            {"station_id": net["lil"], "arrival": "11:30", "departure": "11:20"},
            {"station_id": net["par"], "arrival": "12:40"},
        ],
    )

    body = assert_problem(response, 422)
    assert list(body["errors"]) == ["stop_times.1.departure"]


@pytest.mark.parametrize(
    ("stop_times", "field"),
    [
        # another order than the route's
        (
            [("par", "09:00"), ("lil", "10:00"), ("lon", "11:00")],
            "stop_times.0.station_id",
        ),
        # a stop left out
        ([("lon", "09:00"), ("par", "11:00")], "stop_times"),
    ],
)
def test_stop_times_follow_the_route(client, actors, app, stop_times, field):
    net = line(app)
    given = [{"station_id": net[key], "departure": time} for key, time in stop_times]

    response = post_trip(client, actors, net, stop_times=given)

    body = assert_problem(response, 422)
    assert field in body["errors"]


@pytest.mark.parametrize(
    ("time", "field"),
    [
        ("24:60", "stop_times.1.arrival"),  # the schema's pattern
        ("9h30", "stop_times.1.arrival"),
        ("49:00", "stop_times.1.arrival"),  # beyond 48 hours (the service)
    ],
)
def test_bad_times_are_refused(client, actors, app, time, field):
    net = line(app)
    body = night_body(net)
    body["stop_times"][1] = {"station_id": net["lil"], "arrival": time}

    response = client.post(URL, json=body, headers=actors.headers("admin"))

    assert field in assert_problem(response, 422)["errors"]


def test_a_stop_time_needs_a_time(client, actors, app):
    net = line(app)
    body = night_body(net)
    body["stop_times"][1] = {"station_id": net["lil"]}

    response = client.post(URL, json=body, headers=actors.headers("admin"))

    assert "stop_times.1.arrival" in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize("service_date", ["1999-12-31", "2101-01-01", "2035-02-30"])
def test_service_date_is_bounded(client, actors, app, service_date):
    net = line(app)

    response = post_trip(client, actors, net, service_date=service_date)

    assert "service_date" in assert_problem(response, 422)["errors"]


def test_vehicle_of_another_mode_is_refused(client, actors, app):
    net = line(app)

    response = post_trip(client, actors, net, vehicle_id=net["coach"])

    body = assert_problem(response, 422)
    assert "mode" in body["errors"]["vehicle_id"][0]


def test_vehicle_of_another_company_is_refused(client, actors, app):
    net = line(app)
    other = make_company(app)
    foreign = make_vehicle(app, other, mode="train")

    for vehicle_id in (foreign, 999_999):
        response = post_trip(client, actors, net, vehicle_id=vehicle_id)
        assert list(assert_problem(response, 422)["errors"]) == ["vehicle_id"]


def test_inactive_vehicle_is_refused(client, actors, app):
    net = line(app)
    with app.app_context():
        db.session.get(Vehicle, net["train"]).active = False
        db.session.commit()

    response = post_trip(client, actors, net)

    assert assert_problem(response, 422)["errors"] == {
        "vehicle_id": ["The vehicle is inactive."]
    }


def test_unknown_route_is_404(client, actors, app):
    net = line(app)

    response = post_trip(client, actors, net, route_id=999_999)

    assert_problem(response, 404)


# --- read and list --------------------------------------------------------------


def test_get_trip_answers_its_stop_times(client, actors, app):
    net = line(app)
    trip_id = day_trip(app, net)

    response = client.get(f"{URL}/{trip_id}", headers=actors.headers("sales"))

    assert response.status_code == 200
    body = response.get_json()
    assert body["departure_at"] == "2035-06-01T08:01:00+00:00"
    assert body["arrival_at"] == "2035-06-01T10:20:00+00:00"
    assert [c["station_code"] for c in body["stop_times"]] == ["LON", "LIL", "PAR"]
    assert body["stop_times"][1]["arrival_at"] == "2035-06-01T09:25:00+00:00"


def test_unknown_trip_is_404(client, actors, app):
    assert_problem(client.get(f"{URL}/999999", headers=actors.headers("admin")), 404)


def test_list_sorted_by_departure_with_filters(client, actors, app):
    net = line(app)
    late = day_trip(app, net, times=("18:01", "20:25", "21:20"))
    early = day_trip(app, net)
    next_day = day_trip(app, net, date(2035, 6, 2))
    before = day_trip(app, net, date(2035, 5, 30))
    other_route = make_route(
        app, net["company"], [net["lon"], net["par"]], mode="train"
    )
    direct = make_trip(
        app,
        other_route,
        DAY,
        [(net["lon"], "07:00", "07:00"), (net["par"], "10:17", "10:17")],
    )
    headers = actors.headers("finance")

    def ids(**query):
        response = client.get(URL, query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return item_ids(response)

    assert ids() == [before, direct, early, late, next_day]
    assert ids(route_id=net["route"]) == [before, early, late, next_day]
    assert ids(service_date="2035-06-01") == [direct, early, late]
    assert ids(date_from="2035-06-01", date_to="2035-06-02") == [
        direct,
        early,
        late,
        next_day,
    ]
    assert ids(date_to="2035-05-31") == [before]
    assert ids(sort="-departure_at") == [next_day, late, early, direct, before]
    with app.app_context():
        db.session.get(Trip, late).status = "cancelled"
        db.session.commit()
    assert ids(status="cancelled") == [late]
    assert ids(status="scheduled", service_date="2035-06-01") == [direct, early]

    page = client.get(URL, query_string={"per_page": 2, "page": 2}, headers=headers)
    assert item_ids(page) == [early, late]
    assert page.get_json()["meta"]["total"] == 5
    assert page.get_json()["meta"]["has_more"] is True
    item = page.get_json()["items"][0]
    assert "stop_times" not in item
    assert item["company_id"] == net["company"]


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2035-06-02", "date_to": "2035-06-01"},
        {"date_from": "1999-12-31"},
        {"date_to": "2101-01-01"},
        {"status": "lost"},
        {"sort": "route_id"},
    ],
)
def test_list_refuses_bad_filters(client, actors, app, query):
    response = client.get(URL, query_string=query, headers=actors.headers("admin"))

    assert_problem(response, 422)


# --- status ---------------------------------------------------------------------


def patch(client, actors, trip_id, role="operation", **body):
    """PATCH the trip as `role`."""
    return client.patch(f"{URL}/{trip_id}", json=body, headers=actors.headers(role))


def test_status_runs_scheduled_departed_arrived(client, actors, app):
    net = line(app)
    trip_id = day_trip(app, net)

    departed = patch(client, actors, trip_id, status="departed")
    arrived = patch(client, actors, trip_id, status="arrived")

    assert departed.status_code == 200
    assert departed.get_json()["status"] == "departed"
    assert arrived.status_code == 200
    assert arrived.get_json()["status"] == "arrived"
    assert trip_row(app, trip_id)["status"] == "arrived"


def test_scheduled_trip_can_be_cancelled(client, actors, app):
    net = line(app)
    trip_id = day_trip(app, net)

    response = patch(client, actors, trip_id, status="cancelled")

    assert response.status_code == 200
    assert trip_row(app, trip_id)["status"] == "cancelled"


@pytest.mark.parametrize(
    ("path", "step", "allowed"),
    [
        ([], "arrived", ["departed", "cancelled"]),
        ([], "scheduled", ["departed", "cancelled"]),
        (["departed"], "cancelled", ["arrived"]),
        (["departed"], "scheduled", ["arrived"]),
        (["departed", "arrived"], "departed", []),
        (["cancelled"], "departed", []),
        (["cancelled"], "scheduled", []),
    ],
)
def test_other_steps_are_409(client, actors, app, path, step, allowed):
    net = line(app)
    trip_id = day_trip(app, net)
    for status in path:
        assert patch(client, actors, trip_id, status=status).status_code == 200

    response = patch(client, actors, trip_id, status=step)

    body = assert_problem(response, 409)
    assert body["type"].endswith("/trip-status")
    assert body["current_status"] == (path[-1] if path else "scheduled")
    assert body["allowed"] == allowed


def test_cancelling_is_refused_once_tickets_exist(client, actors, app, monkeypatch):
    net = line(app)
    trip_id = day_trip(app, net)
    monkeypatch.setattr(trip_service, "sold_tickets", lambda trip_id: 2)

    cancel = patch(client, actors, trip_id, status="cancelled")
    swap = patch(client, actors, trip_id, vehicle_id=None)
    remove = client.delete(f"{URL}/{trip_id}", headers=actors.headers("admin"))

    for response in (cancel, swap, remove):
        assert assert_problem(response, 409)["type"].endswith("/trip-has-tickets")
    assert trip_row(app, trip_id)["status"] == "scheduled"
    # departing is still allowed
    assert patch(client, actors, trip_id, status="departed").status_code == 200


def test_sold_tickets_is_zero_without_bookings(app):
    trip_id = day_trip(app, line(app))

    with app.app_context():
        assert trip_service.sold_tickets(trip_id) == 0


# --- vehicle and headsign ---------------------------------------------------------


def test_vehicle_changes_while_scheduled(client, actors, app):
    net = line(app)
    spare = make_vehicle(app, net["company"], mode="train", name="Spare")
    trip_id = day_trip(app, net)

    response = patch(client, actors, trip_id, vehicle_id=spare, headsign="Paris")

    assert response.status_code == 200
    assert response.get_json()["vehicle_id"] == spare
    assert response.get_json()["headsign"] == "Paris"
    assert trip_row(app, trip_id)["vehicle_id"] == spare
    wrong = patch(client, actors, trip_id, vehicle_id=net["coach"])
    assert list(assert_problem(wrong, 422)["errors"]) == ["vehicle_id"]
    assert patch(client, actors, trip_id, status="departed").status_code == 200
    late = patch(client, actors, trip_id, vehicle_id=net["train"])
    assert assert_problem(late, 409)["type"].endswith("/trip-not-scheduled")
    assert trip_row(app, trip_id)["vehicle_id"] == spare


# --- delete ---------------------------------------------------------------------


def test_delete_scheduled_trip_with_its_stop_times(client, actors, app):
    net = line(app)
    trip_id = day_trip(app, net)

    response = client.delete(f"{URL}/{trip_id}", headers=actors.headers("operation"))

    assert response.status_code == 204
    assert trip_row(app, trip_id) is None
    with app.app_context():
        assert db.session.scalar(select(StopTime.id)) is None


@pytest.mark.parametrize("status", ["departed", "cancelled"])
def test_delete_refused_unless_scheduled(client, actors, app, status):
    net = line(app)
    trip_id = day_trip(app, net)
    assert patch(client, actors, trip_id, status=status).status_code == 200

    response = client.delete(f"{URL}/{trip_id}", headers=actors.headers("admin"))

    assert assert_problem(response, 409)["type"].endswith("/trip-not-scheduled")
    assert trip_row(app, trip_id) is not None


# --- roles and companies ----------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_staff_read(client, actors, app, role):
    net = line(app)
    trip_id = day_trip(app, net)
    headers = actors.headers(role)

    assert client.get(URL, headers=headers).status_code == 200
    assert client.get(f"{URL}/{trip_id}", headers=headers).status_code == 200


@pytest.mark.parametrize("role", READ_ONLY)
def test_read_only_staff_cannot_write(client, actors, app, role):
    net = line(app)
    trip_id = day_trip(app, net)
    headers = actors.headers(role)

    assert_problem(client.post(URL, json=night_body(net), headers=headers), 403)
    assert_problem(client.patch(f"{URL}/{trip_id}", json={}, headers=headers), 403)
    assert_problem(client.delete(f"{URL}/{trip_id}", headers=headers), 403)


@pytest.mark.parametrize(("role", "status"), [("customer", 403), ("anonymous", 401)])
def test_customers_and_anonymous_are_kept_out(client, actors, app, role, status):
    net = line(app)
    trip_id = day_trip(app, net)
    headers = actors.headers(role)

    assert_problem(client.get(URL, headers=headers), status)
    assert_problem(client.get(f"{URL}/{trip_id}", headers=headers), status)
    assert_problem(client.post(URL, json=night_body(net), headers=headers), status)
    status_patch = client.patch(
        f"{URL}/{trip_id}", json={"status": "departed"}, headers=headers
    )
    assert_problem(status_patch, status)
    assert_problem(client.delete(f"{URL}/{trip_id}", headers=headers), status)
    assert trip_row(app, trip_id)["status"] == "scheduled"


def test_operator_manages_its_own_company_only(client, actors, app):
    net = line(app)
    own = operator_of(actors, net["company"])["headers"]
    other_company = make_company(app)
    stranger = operator_of(actors, other_company)["headers"]
    trip_id = day_trip(app, net)

    created = client.post(URL, json=night_body(net), headers=own)
    assert created.status_code == 201
    assert client.get(f"{URL}/{trip_id}", headers=own).status_code == 200
    assert item_ids(client.get(URL, headers=own)) == [trip_id, created.get_json()["id"]]
    assert patch(client, actors, trip_id, status="cancelled").status_code == 200

    # another company's operator: the trips and the route do not exist for it
    assert item_ids(client.get(URL, headers=stranger)) == []
    assert_problem(client.get(f"{URL}/{trip_id}", headers=stranger), 404)
    assert_problem(client.post(URL, json=night_body(net), headers=stranger), 404)
    other = created.get_json()["id"]
    stranger_patch = client.patch(
        f"{URL}/{other}", json={"status": "departed"}, headers=stranger
    )
    assert_problem(stranger_patch, 404)
    assert_problem(client.delete(f"{URL}/{other}", headers=stranger), 404)
    assert trip_row(app, other)["status"] == "scheduled"
    assert client.delete(f"{URL}/{other}", headers=own).status_code == 204


def test_operator_cannot_use_another_company_vehicle(client, actors, app):
    net = line(app)
    own = operator_of(actors, net["company"])["headers"]
    foreign = make_vehicle(app, make_company(app), mode="train")

    response = client.post(URL, json=night_body(net, vehicle_id=foreign), headers=own)

    assert list(assert_problem(response, 422)["errors"]) == ["vehicle_id"]
