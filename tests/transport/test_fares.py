"""Fares of a route per origin-destination pair and section: read, set, and the
maker-checker approval of changes on routes with published trips
(docs/transport.md "Fares")."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import update

from core.extensions import db
from models import AuditEntry, Employee, Fare, Trip
from services.transport import fares as fare_service
from tests.factories import assert_problem
from tests.live import gunicorn_server
from tests.transport.conftest import (
    TRANSPORT,
    make_company,
    make_route,
    make_station,
    make_trip,
    operator_of,
)

READ_ONLY = ["hr", "sales", "operation_head", "finance"]
READERS = ["admin", "hr", "sales", "operation", "operation_head", "finance"]


def fares_url(route_id) -> str:
    """The fare table of a route."""
    return f"{TRANSPORT}/routes/{route_id}/fares"


def a_route(app, company_id=None, n=3) -> tuple[int, list[int]]:
    """A route calling at `n` new stations; returns (route id, station ids)."""
    company_id = company_id or make_company(app)
    stops = [make_station(app) for _ in range(n)]
    return make_route(app, company_id, stops), stops


def fare(origin, destination, price="10.00", section="economy", currency="EUR"):
    """One fare entry of a PUT body."""
    return {
        "from_station_id": origin,
        "to_station_id": destination,
        "section_code": section,
        "price": price,
        "currency": currency,
    }


def publish(app, route_id, stops, days_ahead=7, status="scheduled") -> int:
    """A trip of the route over its first two stops, `days_ahead` from today."""
    day = date.today() + timedelta(days=days_ahead)
    trip = make_trip(
        app, route_id, day, [(stops[0], "08:00", "08:00"), (stops[1], "09:00", "09:00")]
    )
    if status != "scheduled":
        with app.app_context():
            db.session.get(Trip, trip).status = status
            db.session.commit()
    return trip


def stored(app, route_id) -> dict:
    """The route's fares `{(from, to, section): (price, pending, proposer)}`."""
    with app.app_context():
        return {
            (f.from_station_id, f.to_station_id, f.section_code): (
                f.price,
                f.pending_price,
                f.proposed_by_id,
            )
            for f in db.session.query(Fare).filter_by(route_id=route_id)
        }


def sold(app, route_id, origin, destination, section="economy"):
    """fare_for's price, or None when the pair is not sold."""
    with app.app_context():
        found = fare_service.fare_for(route_id, origin, destination, section)
        return None if found is None else found.price


def put(client, route_id, entries, headers):
    """PUT the fare table."""
    return client.put(fares_url(route_id), json={"fares": entries}, headers=headers)


# --- read ------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_staff_read_a_routes_fares(app, client, actors, role):
    route, (a, b, c) = a_route(app)
    put(
        client,
        route,
        [fare(b, c, "4.00"), fare(a, c, "9.50", "first"), fare(a, b)],
        actors.headers("admin"),
    )

    response = client.get(fares_url(route), headers=actors.headers(role))

    assert response.status_code == 200
    answer = response.get_json()
    assert answer["route_id"] == route
    assert answer["published_trips"] is False
    assert [
        (f["from_station_id"], f["to_station_id"], f["section_code"], f["price"])
        for f in answer["fares"]
    ] == [
        (a, b, "economy", "10.00"),
        (a, c, "first", "9.50"),
        (b, c, "economy", "4.00"),
    ]
    assert answer["fares"][0] == {
        "from_station_id": a,
        "to_station_id": b,
        "section_code": "economy",
        "price": "10.00",
        "currency": "EUR",
        "pending_price": None,
        "status": "active",
        "proposed_by_id": None,
        "approved_by_id": None,
        "approved_at": None,
    }


def test_operator_reads_and_sets_only_its_companys_fares(app, client, actors):
    mine, other = make_company(app), make_company(app)
    own, (a, b, _c) = a_route(app, mine)
    foreign, (x, y, _z) = a_route(app, other)
    operator = operator_of(actors, mine)

    assert client.get(fares_url(own), headers=operator["headers"]).status_code == 200
    assert put(client, own, [fare(a, b)], operator["headers"]).status_code == 200
    assert_problem(client.get(fares_url(foreign), headers=operator["headers"]), 404)
    assert_problem(put(client, foreign, [fare(x, y)], operator["headers"]), 404)
    assert stored(app, foreign) == {}


def test_customer_and_anonymous_cannot_read(app, client, actors):
    route, _stops = a_route(app)
    assert_problem(
        client.get(fares_url(route), headers=actors.headers("customer")), 403
    )
    assert_problem(client.get(fares_url(route)), 401)


def test_fares_of_an_unknown_route_are_404(app, client, actors):
    headers = actors.headers("admin")
    assert_problem(client.get(fares_url(999), headers=headers), 404)
    assert_problem(put(client, 999, [], headers), 404)


# --- set (no published trips: at once) -------------------------------------------


@pytest.mark.parametrize("role", ["admin", "operation"])
def test_without_published_trips_prices_apply_at_once(app, client, actors, role):
    route, (a, b, c) = a_route(app)

    response = put(
        client, route, [fare(a, b, "12.00"), fare(a, c, "0.00")], actors.headers(role)
    )

    assert response.status_code == 200, response.get_json()
    assert [f["status"] for f in response.get_json()["fares"]] == ["active"] * 2
    assert sold(app, route, a, b) == Decimal("12.00")
    assert sold(app, route, a, c) == Decimal("0.00")
    assert sold(app, route, b, c) is None  # a pair without a fare is not sold
    assert sold(app, route, a, b, "first") is None
    again = put(client, route, [fare(a, b, "13.00")], actors.headers(role))
    assert [f["price"] for f in again.get_json()["fares"]] == ["13.00"]
    assert stored(app, route) == {(a, b, "economy"): (Decimal("13.00"), None, None)}
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="fares.set").all()[-1]
        assert entry.details == {
            "published_trips": False,
            "applied": 1,
            "proposed": 0,
            "removed": 1,
        }


def test_past_and_cancelled_trips_do_not_publish_a_route(app, client, actors):
    route, (a, b, _c) = a_route(app)
    publish(app, route, [a, b], days_ahead=-3)
    publish(app, route, [a, b], days_ahead=5, status="cancelled")

    response = put(client, route, [fare(a, b, "7.00")], actors.headers("admin"))

    assert response.get_json()["published_trips"] is False
    assert sold(app, route, a, b) == Decimal("7.00")


@pytest.mark.parametrize("role", [*READ_ONLY, "customer"])
def test_other_roles_cannot_set_fares(app, client, actors, role):
    route, (a, b, _c) = a_route(app)
    assert_problem(put(client, route, [fare(a, b)], actors.headers(role)), 403)
    assert stored(app, route) == {}


def test_anonymous_cannot_set_fares(app, client):
    route, (a, b, _c) = a_route(app)
    assert_problem(put(client, route, [fare(a, b)], {}), 401)


def test_pairs_must_run_forwards_on_the_route(app, client, actors):
    route, (a, b, c) = a_route(app)
    elsewhere = make_station(app)
    headers = actors.headers("admin")

    response = put(
        client,
        route,
        [fare(a, b), fare(c, a), fare(b, b), fare(a, elsewhere), fare(a, b)],
        headers,
    )

    errors = assert_problem(response, 422)["errors"]
    assert set(errors) == {
        "fares.1.to_station_id",
        "fares.2.to_station_id",
        "fares.3.to_station_id",
        "fares.4",
    }
    assert "not a stop" in errors["fares.3.to_station_id"][0]
    assert stored(app, route) == {}


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"price": "-1.00"}, "price"),
        ({"price": 10}, "price"),
        ({"price": "1.234"}, "price"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"section_code": ""}, "section_code"),
        ({"section_code": "first class"}, "section_code"),
        ({"from_station_id": "1"}, "from_station_id"),
    ],
)
def test_fare_fields_are_validated(app, client, actors, entry, field):
    route, (a, b, _c) = a_route(app)
    response = put(client, route, [fare(a, b) | entry], actors.headers("admin"))
    assert f"fares.0.{field}" in assert_problem(response, 422)["errors"]


def test_the_body_needs_the_fares_list(app, client, actors):
    route, _stops = a_route(app)
    response = client.put(fares_url(route), json={}, headers=actors.headers("admin"))
    assert "fares" in assert_problem(response, 422)["errors"]


# --- maker-checker ---------------------------------------------------------------


def published_route(app, client, actors):
    """A route with fares a->b 10.00 and a->c 15.00 set before its trips were
    published; returns (route, stops)."""
    route, stops = a_route(app)
    a, b, c = stops
    put(
        client,
        route,
        [fare(a, b, "10.00"), fare(a, c, "15.00")],
        actors.headers("admin"),
    )
    publish(app, route, stops)
    return route, stops


def test_with_published_trips_changes_wait_for_approval(app, client, actors):
    route, (a, b, c) = published_route(app, client, actors)
    proposer = actors.employee("operation")

    response = put(
        client,
        route,
        [fare(a, b, "8.00"), fare(a, c, "15.00"), fare(b, c, "6.00")],
        proposer["headers"],
    )

    assert response.status_code == 200
    answer = response.get_json()
    assert answer["published_trips"] is True
    rows = {(f["from_station_id"], f["to_station_id"]): f for f in answer["fares"]}
    assert rows[(a, b)]["price"] == "10.00"
    assert rows[(a, b)]["pending_price"] == "8.00"
    assert rows[(a, b)]["status"] == "pending_approval"
    assert rows[(a, b)]["proposed_by_id"] == proposer["id"]
    assert rows[(a, c)]["status"] == "active"
    assert rows[(b, c)]["price"] is None
    assert rows[(b, c)]["status"] == "pending_approval"
    # Only approved prices are sold.
    assert sold(app, route, a, b) == Decimal("10.00")
    assert sold(app, route, b, c) is None


def test_an_operation_head_who_did_not_propose_approves(app, client, actors):
    route, (a, b, c) = published_route(app, client, actors)
    proposer = actors.employee("operation")
    put(
        client,
        route,
        [fare(a, b, "8.00"), fare(a, c, "15.00"), fare(b, c, "6.00")],
        proposer["headers"],
    )
    head = actors.employee("operation_head")

    response = client.post(f"{fares_url(route)}/approve", headers=head["headers"])

    assert response.status_code == 200, response.get_json()
    rows = {
        (f["from_station_id"], f["to_station_id"]): f
        for f in response.get_json()["fares"]
    }
    assert rows[(a, b)]["price"] == "8.00"
    assert rows[(a, b)]["pending_price"] is None
    assert rows[(a, b)]["status"] == "active"
    assert rows[(a, b)]["approved_by_id"] == head["id"]
    assert rows[(a, b)]["approved_at"] is not None
    assert rows[(a, c)]["approved_by_id"] is None  # unchanged, not re-approved
    assert sold(app, route, a, b) == Decimal("8.00")
    assert sold(app, route, b, c) == Decimal("6.00")
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="fares.approved").one()
        assert entry.actor_id == head["id"]
        assert entry.entity_type == "transport_route" and entry.entity_id == route
        changes = {
            (c["from_station_id"], c["to_station_id"]): c
            for c in entry.details["fares"]
        }
        assert changes[(a, b)] | {} == {
            "from_station_id": a,
            "to_station_id": b,
            "section_code": "economy",
            "currency": "EUR",
            "price": "10.00",
            "pending_price": "8.00",
            "proposed_by_id": proposer["id"],
        }
        assert changes[(b, c)]["price"] is None
    again = client.post(f"{fares_url(route)}/approve", headers=head["headers"])
    assert assert_problem(again, 409)["type"] == "/problems/nothing-pending"


def test_the_proposer_cannot_approve_maker_checker(app, client, actors):
    route, (a, b, c) = published_route(app, client, actors)
    admin = actors.employee("admin")
    put(client, route, [fare(a, b, "1.00"), fare(a, c, "15.00")], admin["headers"])

    own = client.post(f"{fares_url(route)}/approve", headers=admin["headers"])
    other = client.post(
        f"{fares_url(route)}/approve", headers=actors.employee("admin")["headers"]
    )

    assert assert_problem(own, 403)["type"] == "/problems/maker-checker"
    assert other.status_code == 200
    assert sold(app, route, a, b) == Decimal("1.00")


def test_a_proposer_promoted_to_operation_head_still_cannot_approve(
    app, client, actors
):
    route, (a, b, c) = published_route(app, client, actors)
    proposer = actors.employee("operation")
    put(client, route, [fare(a, b, "1.00"), fare(a, c, "15.00")], proposer["headers"])
    with app.app_context():
        db.session.get(Employee, proposer["id"]).role = "operation_head"
        db.session.commit()

    response = client.post(f"{fares_url(route)}/approve", headers=proposer["headers"])

    assert assert_problem(response, 403)["type"] == "/problems/maker-checker"
    assert sold(app, route, a, b) == Decimal("10.00")


@pytest.mark.parametrize("role", ["operation", "hr", "sales", "finance", "customer"])
def test_only_approvers_approve_or_reject(app, client, actors, role):
    route, (a, b, c) = published_route(app, client, actors)
    put(
        client,
        route,
        [fare(a, b, "1.00"), fare(a, c, "15.00")],
        actors.headers("admin"),
    )
    headers = actors.headers(role)

    assert_problem(client.post(f"{fares_url(route)}/approve", headers=headers), 403)
    assert_problem(client.post(f"{fares_url(route)}/reject", headers=headers), 403)
    assert stored(app, route)[(a, b, "economy")][1] == Decimal("1.00")


def test_operators_and_anonymous_cannot_approve(app, client, actors):
    company = make_company(app)
    route, _stops = a_route(app, company)
    operator = operator_of(actors, company)
    url = f"{fares_url(route)}/approve"
    assert_problem(client.post(url, headers=operator["headers"]), 403)
    assert_problem(client.post(url), 401)
    assert_problem(client.post(f"{fares_url(route)}/reject"), 401)


def test_approving_an_unknown_route_is_404(app, client, actors):
    headers = actors.headers("operation_head")
    assert_problem(client.post(f"{fares_url(999)}/approve", headers=headers), 404)
    assert_problem(client.post(f"{fares_url(999)}/reject", headers=headers), 404)


def test_reject_drops_the_pending_prices(app, client, actors):
    route, (a, b, c) = published_route(app, client, actors)
    put(
        client,
        route,
        [fare(a, b, "8.00"), fare(a, c, "15.00"), fare(b, c, "6.00")],
        actors.headers("operation"),
    )
    head = actors.employee("operation_head")

    response = client.post(f"{fares_url(route)}/reject", headers=head["headers"])

    assert response.status_code == 200
    assert [f["status"] for f in response.get_json()["fares"]] == ["active"] * 2
    assert stored(app, route) == {
        (a, b, "economy"): (Decimal("10.00"), None, None),
        (a, c, "economy"): (Decimal("15.00"), None, None),
    }
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="fares.rejected").one()
        assert entry.actor_id == head["id"]
        assert len(entry.details["fares"]) == 2
    again = client.post(f"{fares_url(route)}/reject", headers=head["headers"])
    assert assert_problem(again, 409)["type"] == "/problems/nothing-pending"


def test_resending_the_table_keeps_pending_proposals(app, client, actors):
    route, (a, b, c) = published_route(app, client, actors)
    proposer = actors.employee("operation")
    put(client, route, [fare(a, b, "8.00"), fare(a, c, "15.00")], proposer["headers"])
    other = actors.employee("operation")

    current = put(
        client, route, [fare(a, b, "10.00"), fare(a, c, "15.00")], other["headers"]
    )
    pending = put(
        client, route, [fare(a, b, "8.00"), fare(a, c, "15.00")], other["headers"]
    )

    assert current.status_code == pending.status_code == 200
    assert stored(app, route)[(a, b, "economy")] == (
        Decimal("10.00"),
        Decimal("8.00"),
        proposer["id"],
    )


def test_removing_a_pair_stops_its_sale_at_once(app, client, actors):
    route, (a, b, c) = published_route(app, client, actors)

    response = put(client, route, [fare(a, c, "15.00")], actors.headers("operation"))

    assert response.status_code == 200
    assert sold(app, route, a, b) is None
    assert sold(app, route, a, c) == Decimal("15.00")


def test_currency_of_a_sold_fare_is_locked_while_trips_are_published(
    app, client, actors
):
    route, (a, b, c) = published_route(app, client, actors)

    response = put(
        client,
        route,
        [fare(a, b, "10.00", currency="GBP"), fare(a, c, "15.00")],
        actors.headers("admin"),
    )

    assert assert_problem(response, 409)["type"] == "/problems/fare-currency-locked"
    assert stored(app, route)[(a, b, "economy")] == (Decimal("10.00"), None, None)


def test_without_published_trips_a_put_applies_pending_prices(app, client, actors):
    route, (a, b, c) = published_route(app, client, actors)
    put(
        client,
        route,
        [fare(a, b, "8.00"), fare(a, c, "15.00")],
        actors.headers("operation"),
    )
    with app.app_context():
        db.session.execute(update(Trip).values(status="cancelled"))
        db.session.commit()

    response = put(
        client,
        route,
        [fare(a, b, "9.00", currency="GBP"), fare(a, c, "15.00")],
        actors.headers("operation"),
    )

    assert response.get_json()["published_trips"] is False
    assert stored(app, route)[(a, b, "economy")] == (Decimal("9.00"), None, None)
    with app.app_context():
        assert fare_service.fare_for(route, a, b, "economy").currency == "GBP"


def test_two_approvers_cannot_both_apply(app, client, actors, monkeypatch):
    """The conditional UPDATE: when another approver applies the prices between
    this request's read and its UPDATE, nothing is applied twice and the request
    gets 409."""
    route, (a, b, c) = published_route(app, client, actors)
    put(
        client,
        route,
        [fare(a, b, "8.00"), fare(a, c, "12.00")],
        actors.headers("operation"),
    )
    first = actors.employee("operation_head")
    read = fare_service._pending

    def read_then_lose_the_race(route_id):
        pending = read(route_id)
        db.session.execute(
            update(Fare)
            .where(
                Fare.route_id == route_id,
                Fare.from_station_id == a,
                Fare.to_station_id == c,
            )
            .values(
                price=Fare.pending_price,
                pending_price=None,
                proposed_by_id=None,
                approved_by_id=first["id"],
            )
            .execution_options(synchronize_session=False)
        )
        return pending

    monkeypatch.setattr(fare_service, "_pending", read_then_lose_the_race)
    second = actors.employee("operation_head")

    response = client.post(f"{fares_url(route)}/approve", headers=second["headers"])

    assert assert_problem(response, 409)["type"] == "/problems/concurrent-change"
    # The request's own changes were rolled back: nothing approved by `second`.
    with app.app_context():
        assert (
            db.session.query(Fare).filter_by(approved_by_id=second["id"]).count() == 0
        )
        assert (
            db.session.query(AuditEntry).filter_by(action="fares.approved").count() == 0
        )


def test_fare_for_ignores_other_routes_and_sections(app, client, actors):
    route, (a, b, _c) = a_route(app)
    other, _stops = a_route(app)
    put(client, route, [fare(a, b, "5.00", "first")], actors.headers("admin"))

    assert sold(app, route, a, b, "first") == Decimal("5.00")
    assert sold(app, route, a, b, "economy") is None
    assert sold(app, other, a, b, "first") is None
    with app.app_context():
        assert fare_service.fare_for(route, b, a, "first") is None


@pytest.mark.postgres
def test_simultaneous_approvals_apply_once_on_postgres(app, client, actors):
    """Six operation heads approve at once against a multi-process gunicorn: the
    route row lock and the conditional UPDATE let exactly one apply the prices;
    the others get 409 and one audit entry is written."""
    route, (a, b, c) = published_route(app, client, actors)
    put(
        client,
        route,
        [fare(a, b, "8.00"), fare(a, c, "12.00")],
        actors.headers("operation"),
    )
    heads = [actors.employee("operation_head") for _ in range(6)]
    barrier = threading.Barrier(len(heads))

    def approve(head):
        with requests.Session() as session:
            barrier.wait(timeout=30)
            response = session.post(
                f"{base_url}{fares_url(route)}/approve",
                headers=head["headers"],
                timeout=60,
            )
            return response.status_code

    with (
        gunicorn_server(workers=3, threads=2) as base_url,
        ThreadPoolExecutor(max_workers=len(heads)) as pool,
    ):
        codes = list(pool.map(approve, heads))

    assert sorted(codes) == [200] + [409] * (len(heads) - 1), codes
    assert stored(app, route)[(a, b, "economy")][:2] == (Decimal("8.00"), None)
    with app.app_context():
        assert (
            db.session.query(AuditEntry).filter_by(action="fares.approved").count() == 1
        )
