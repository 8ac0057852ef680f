"""Departures of a package: create, list, read, edit, delete (docs/design.md
"Lifecycles": departure; "Resource map": /packages/<id>/departures, /departures)."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from core.extensions import db
from models import Booking, Departure
from tests.catalogue.conftest import EDITORS, EVERYONE, package_status
from tests.factories import day, make_api_departure, make_package, post_departure

PACKAGES = "/api/v1/packages"
URL = "/api/v1/departures"
DENIED = ["hr", "sales", "finance", "customer", "anonymous"]


def stored(app, dep_id: int) -> dict | None:
    """The departure row as a dict, or None when gone."""
    with app.app_context():
        departure = db.session.get(Departure, dep_id)
        if departure is None:
            return None
        return {c.name: getattr(departure, c.name) for c in Departure.__table__.columns}


def set_columns(app, dep_id: int, **values) -> None:
    """Write columns straight into the departure row (seats taken by bookings...)."""
    with app.app_context():
        departure = db.session.get(Departure, dep_id)
        for key, value in values.items():
            setattr(departure, key, value)
        db.session.commit()


def add_booking(app, dep_id: int, customer_id: int) -> None:
    """A held booking of one seat on the departure, straight in the database."""
    with app.app_context():
        db.session.add(
            Booking(
                reference="ETDEP00001",
                customer_id=customer_id,
                departure_id=dep_id,
                seats=1,
                status="held",
                currency="USD",
                unit_price=Decimal("1200.00"),
                total_amount=Decimal("1200.00"),
            )
        )
        db.session.execute(
            update(Departure).where(Departure.id == dep_id).values(seats_taken=1)
        )
        db.session.commit()


# --- create ---------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_create_departure_defaults_price_and_currency(client, actors, app, role):
    package_id = make_package(client, actors)

    response = post_departure(client, actors, package_id, role=role)

    assert response.status_code == 201
    body = response.get_json()
    assert body == {
        "id": body["id"],
        "package_id": package_id,
        "start_date": day(30),
        "end_date": day(33),
        "capacity": 20,
        "price": "1200.00",
        "prices": {"adult": "1200.00"},
        "category_capacities": {},
        "category_seats_left": {},
        "min_party_size": 1,
        "currency": "USD",
        "seats_taken": 0,
        "seats_left": 20,
        "booking_cutoff": None,
        "status": "scheduled",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    row = stored(app, body["id"])
    assert row["price"] == Decimal("1200.00") and row["currency"] == "USD"
    assert row["status"] == "scheduled" and row["seats_taken"] == 0


def test_create_departure_with_price_and_cutoff(client, actors, app):
    package_id = make_package(client, actors)
    cutoff = f"{day(25)}T12:00:00+02:00"

    response = post_departure(
        client, actors, package_id, price="999.50", booking_cutoff=cutoff
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["price"] == "999.50" and body["prices"] == {"adult": "999.50"}
    assert body["booking_cutoff"] == f"{day(25)}T10:00:00+00:00"
    assert stored(app, body["id"])["booking_cutoff"] == datetime.fromisoformat(cutoff)


def test_create_departure_on_published_package_keeps_it_published(client, actors, app):
    package_id = make_package(client, actors)

    post_departure(client, actors, package_id)

    assert package_status(app, package_id) == "published"


def test_create_departure_on_draft_package_is_allowed(client, actors, app):
    package_id = make_package(client, actors, publish=False)

    assert post_departure(client, actors, package_id).status_code == 201
    assert package_status(app, package_id) == "draft"


@pytest.mark.parametrize("role", DENIED)
def test_create_departure_as_other_role_is_denied(client, actors, app, role):
    package_id = make_package(client, actors)

    response = post_departure(client, actors, package_id, role=role)

    assert response.status_code == (401 if role == "anonymous" else 403)
    with app.app_context():
        assert db.session.query(Departure).count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end_date": day(29)}, "end_date"),
        ({"start_date": day(-1), "end_date": day(2)}, "start_date"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -5}, "capacity"),
        ({"price": "-1.00"}, "price"),
        ({"booking_cutoff": f"{day(20)}T10:00:00"}, "booking_cutoff"),
        ({"booking_cutoff": f"{day(31)}T10:00:00+00:00"}, "booking_cutoff"),
        ({"start_date": "not-a-date"}, "start_date"),
        ({"seats_taken": 3}, "seats_taken"),
        ({"currency": "EUR"}, "currency"),
    ],
)
def test_create_departure_invalid_is_422(client, actors, app, overrides, field):
    package_id = make_package(client, actors)

    response = post_departure(client, actors, package_id, **overrides)

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    with app.app_context():
        assert db.session.query(Departure).count() == 0


def test_create_departure_missing_fields_is_422(client, actors):
    package_id = make_package(client, actors)

    response = client.post(
        f"{PACKAGES}/{package_id}/departures",
        json={},
        headers=actors.headers("operation"),
    )

    assert response.status_code == 422
    assert {"start_date", "end_date", "capacity"} <= set(response.get_json()["errors"])


def test_create_departure_today_is_allowed(client, actors):
    package_id = make_package(client, actors)

    assert (
        post_departure(
            client, actors, package_id, start_date=day(0), end_date=day(0)
        ).status_code
        == 201
    )


def test_create_departure_on_archived_package_is_409(client, actors):
    package_id = make_package(client, actors)
    client.post(f"{PACKAGES}/{package_id}/archive", headers=actors.headers("admin"))

    assert post_departure(client, actors, package_id).status_code == 409


def test_create_departure_unknown_package_is_404(client, actors):
    assert post_departure(client, actors, 999).status_code == 404


# --- list and read --------------------------------------------------------------


@pytest.mark.parametrize("role", EVERYONE)
def test_list_departures_of_published_package_by_start_date(client, actors, role):
    package_id = make_package(client, actors)
    late = make_api_departure(
        client, actors, package_id, start_date=day(60), end_date=day(63)
    )
    early = make_api_departure(
        client, actors, package_id, start_date=day(10), end_date=day(13)
    )

    response = client.get(
        f"{PACKAGES}/{package_id}/departures", headers=actors.headers(role)
    )

    assert response.status_code == 200
    assert [d["id"] for d in response.get_json()["items"]] == [early, late]
    assert response.get_json()["meta"]["total"] == 2


def test_list_departures_sort_and_paginate(client, actors):
    package_id = make_package(client, actors)
    made = [
        make_api_departure(
            client, actors, package_id, start_date=day(n), end_date=day(n)
        )
        for n in (5, 10, 15)
    ]

    response = client.get(
        f"{PACKAGES}/{package_id}/departures?sort=-start_date&per_page=2"
    )

    assert [d["id"] for d in response.get_json()["items"]] == [made[2], made[1]]
    assert response.get_json()["meta"]["pages"] == 2


def test_list_departures_status_filter(client, actors, app):
    package_id = make_package(client, actors)
    kept = make_api_departure(client, actors, package_id)
    cancelled = make_api_departure(client, actors, package_id)
    set_columns(app, cancelled, status="cancelled")

    response = client.get(f"{PACKAGES}/{package_id}/departures?status=scheduled")

    assert [d["id"] for d in response.get_json()["items"]] == [kept]


@pytest.mark.parametrize("role", ["customer", "anonymous"])
def test_list_departures_of_unpublished_package_is_404_for_public(client, actors, role):
    package_id = make_package(client, actors, publish=False)
    make_api_departure(client, actors, package_id)

    response = client.get(
        f"{PACKAGES}/{package_id}/departures", headers=actors.headers(role)
    )

    assert response.status_code == 404


def test_list_departures_of_unpublished_package_for_staff(client, actors):
    package_id = make_package(client, actors, publish=False)
    dep = make_api_departure(client, actors, package_id)

    response = client.get(
        f"{PACKAGES}/{package_id}/departures", headers=actors.headers("hr")
    )

    assert [d["id"] for d in response.get_json()["items"]] == [dep]


@pytest.mark.parametrize("role", EVERYONE)
def test_get_departure_of_published_package(client, actors, role):
    dep = make_api_departure(client, actors, make_package(client, actors))

    response = client.get(f"{URL}/{dep}", headers=actors.headers(role))

    assert response.status_code == 200
    assert response.get_json()["id"] == dep and response.get_json()["seats_left"] == 20


@pytest.mark.parametrize("role", ["customer", "anonymous"])
def test_get_departure_of_hidden_package_is_404_for_public(client, actors, role):
    dep = make_api_departure(
        client, actors, make_package(client, actors, publish=False)
    )

    assert client.get(f"{URL}/{dep}", headers=actors.headers(role)).status_code == 404
    assert (
        client.get(f"{URL}/{dep}", headers=actors.headers("sales")).status_code == 200
    )


def test_get_departure_unknown_is_404(client):
    assert client.get(f"{URL}/999").status_code == 404
    assert client.get(f"{URL}/99999999999").status_code == 404


# --- edit -----------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_update_departure_fields(client, actors, app, role):
    package_id = make_package(client, actors)
    dep = make_api_departure(client, actors, package_id)

    response = client.patch(
        f"{URL}/{dep}",
        json={
            "price": "1100",
            "capacity": 25,
            "end_date": day(34),
            "booking_cutoff": None,
        },
        headers=actors.headers(role),
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["price"] == "1100.00" and body["prices"] == {"adult": "1100.00"}
    assert (
        body["capacity"] == 25
        and body["seats_left"] == 25
        and body["end_date"] == day(34)
    )
    row = stored(app, dep)
    assert row["capacity"] == 25 and row["price"] == Decimal("1100.00")
    # A price change is approved like package content (maker-checker).
    assert package_status(app, package_id) == "pending_approval"


@pytest.mark.parametrize("role", DENIED)
def test_update_departure_as_other_role_is_denied(client, actors, app, role):
    dep = make_api_departure(client, actors, make_package(client, actors))

    response = client.patch(
        f"{URL}/{dep}", json={"capacity": 2}, headers=actors.headers(role)
    )

    assert response.status_code == (401 if role == "anonymous" else 403)
    assert stored(app, dep)["capacity"] == 20


def test_update_departure_capacity_below_seats_taken_is_409(client, actors, app):
    dep = make_api_departure(client, actors, make_package(client, actors))
    set_columns(app, dep, seats_taken=5)

    denied = client.patch(
        f"{URL}/{dep}", json={"capacity": 4}, headers=actors.headers("admin")
    )
    allowed = client.patch(
        f"{URL}/{dep}", json={"capacity": 5}, headers=actors.headers("admin")
    )

    assert denied.status_code == 409
    assert denied.get_json()["seats_taken"] == 5
    assert allowed.status_code == 200 and allowed.get_json()["seats_left"] == 0
    assert stored(app, dep)["capacity"] == 5


def test_update_departure_capacity_conflict_changes_nothing_else(client, actors, app):
    dep = make_api_departure(client, actors, make_package(client, actors))
    set_columns(app, dep, seats_taken=5)

    response = client.patch(
        f"{URL}/{dep}",
        json={"capacity": 1, "price": "1.00"},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 409
    row = stored(app, dep)
    assert row["capacity"] == 20 and row["price"] == Decimal("1200.00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_date": day(29)}, "end_date"),
        ({"start_date": day(-3)}, "start_date"),
        ({"start_date": day(40)}, "end_date"),
        ({"capacity": 0}, "capacity"),
        ({"booking_cutoff": f"{day(31)}T00:00:00+00:00"}, "booking_cutoff"),
        ({"status": "cancelled"}, "status"),
        ({"price": None}, "price"),
    ],
)
def test_update_departure_invalid_is_422(client, actors, app, changes, field):
    dep = make_api_departure(client, actors, make_package(client, actors))

    response = client.patch(
        f"{URL}/{dep}", json=changes, headers=actors.headers("operation")
    )

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    row = stored(app, dep)
    assert row["start_date"].isoformat() == day(30) and row["status"] == "scheduled"


def test_update_cancelled_departure_is_409(client, actors, app):
    dep = make_api_departure(client, actors, make_package(client, actors))
    set_columns(app, dep, status="cancelled")

    response = client.patch(
        f"{URL}/{dep}", json={"capacity": 30}, headers=actors.headers("admin")
    )

    assert response.status_code == 409
    assert stored(app, dep)["capacity"] == 20


def test_update_departure_unknown_is_404(client, actors):
    response = client.patch(
        f"{URL}/999", json={"capacity": 3}, headers=actors.headers("admin")
    )

    assert response.status_code == 404


# --- delete ---------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_delete_departure_without_bookings(client, actors, app, role):
    package_id = make_package(client, actors)
    dep = make_api_departure(client, actors, package_id)

    response = client.delete(f"{URL}/{dep}", headers=actors.headers(role))

    assert response.status_code == 204
    assert stored(app, dep) is None
    assert package_status(app, package_id) == "published"


def test_delete_departure_with_bookings_is_409(client, actors, app):
    dep = make_api_departure(client, actors, make_package(client, actors))
    add_booking(app, dep, actors.account("customer")["id"])

    response = client.delete(f"{URL}/{dep}", headers=actors.headers("admin"))

    assert response.status_code == 409
    assert stored(app, dep) is not None


@pytest.mark.parametrize("role", DENIED)
def test_delete_departure_as_other_role_is_denied(client, actors, app, role):
    dep = make_api_departure(client, actors, make_package(client, actors))

    response = client.delete(f"{URL}/{dep}", headers=actors.headers(role))

    assert response.status_code == (401 if role == "anonymous" else 403)
    assert stored(app, dep) is not None


def test_delete_departure_unknown_is_404(client, actors):
    assert (
        client.delete(f"{URL}/999", headers=actors.headers("admin")).status_code == 404
    )


def test_get_departure_lapsed_hold_not_counted_before_any_sweep(client, app, actors):
    """docs/design.md "Rules with numbers": an expired hold never counts as taken."""
    from datetime import date, timedelta
    from decimal import Decimal

    from core.extensions import db
    from models import Booking, Customer, Departure, Package
    from models.base import utcnow

    with app.app_context():
        pkg = Package(
            title="Lapse",
            destination="Oslo",
            duration_days=2,
            base_price=Decimal("100"),
            currency="EUR",
            status="published",
        )
        cust = Customer(name="Late Payer", email="late@example.test")
        db.session.add_all([pkg, cust])
        db.session.flush()
        dep = Departure(
            package_id=pkg.id,
            start_date=date.today() + timedelta(days=30),
            end_date=date.today() + timedelta(days=31),
            capacity=10,
            seats_taken=7,
            price=Decimal("100"),
            currency="EUR",
        )
        db.session.add(dep)
        db.session.flush()
        for n, (seats, minutes) in enumerate([(3, -1), (4, 10)]):
            db.session.add(
                Booking(
                    reference=f"ET-LAPSE{n}",
                    customer_id=cust.id,
                    departure_id=dep.id,
                    seats=seats,
                    status="held",
                    currency="EUR",
                    unit_price=Decimal("100"),
                    total_amount=Decimal(100 * seats),
                    hold_expires_at=utcnow() + timedelta(minutes=minutes),
                )
            )
        db.session.commit()
        dep_id = dep.id
    body = client.get(f"/api/v1/departures/{dep_id}").get_json()
    assert (body["seats_taken"], body["seats_left"]) == (4, 6)
    listed = client.get(f"/api/v1/packages/{body['package_id']}/departures").get_json()
    assert listed["items"][0]["seats_left"] == 6


# --- price categories, category limits, minimum party -----------------------------


def categories(app, dep_id: int) -> dict:
    """`{category: (price, capacity, seats_taken)}` of the stored category rows."""
    from models import DepartureCategory

    with app.app_context():
        rows = db.session.scalars(
            db.select(DepartureCategory).where(DepartureCategory.departure_id == dep_id)
        ).all()
        return {r.category: (r.price, r.capacity, r.seats_taken) for r in rows}


def set_category(app, dep_id: int, category: str, **values) -> None:
    """Write columns straight into one category row."""
    from models import DepartureCategory

    with app.app_context():
        db.session.execute(
            update(DepartureCategory)
            .where(
                DepartureCategory.departure_id == dep_id,
                DepartureCategory.category == category,
            )
            .values(**values)
        )
        db.session.commit()


def test_create_departure_with_categories_limits_and_min_party(client, actors, app):
    package_id = make_package(client, actors)

    response = post_departure(
        client,
        actors,
        package_id,
        capacity=30,
        min_party_size=2,
        prices={"adult": "900.00", "child": "450.50", "business": "1500"},
        category_capacities={"business": 4, "child": None},
    )

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["price"] == "900.00"
    assert body["prices"] == {
        "adult": "900.00",
        "business": "1500.00",
        "child": "450.50",
    }
    assert body["category_capacities"] == {"business": 4}
    assert body["category_seats_left"] == {"business": 4}
    assert body["min_party_size"] == 2
    assert categories(app, body["id"]) == {
        "adult": (Decimal("900.00"), None, 0),
        "business": (Decimal("1500.00"), 4, 0),
        "child": (Decimal("450.50"), None, 0),
    }
    assert stored(app, body["id"])["price"] == Decimal("900.00")


def test_create_departure_price_only_stores_adult_category(client, actors, app):
    dep = make_api_departure(
        client, actors, make_package(client, actors), price="700.00"
    )

    assert categories(app, dep) == {"adult": (Decimal("700.00"), None, 0)}


def test_create_departure_price_and_matching_prices_accepted(client, actors):
    response = post_departure(
        client,
        actors,
        make_package(client, actors),
        price="500",
        prices={"adult": "500.00", "child": "250.00"},
    )

    assert response.status_code == 201
    assert response.get_json()["prices"] == {"adult": "500.00", "child": "250.00"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"prices": {"child": "100.00"}}, "prices"),
        ({"prices": {"adult": "100.00", "Child": "50.00"}}, "prices"),
        ({"prices": {"adult": "100.00", "kid-s": "50.00"}}, "prices"),
        ({"prices": {"adult": "-1.00"}}, "prices"),
        ({"prices": {"adult": None}}, "prices"),
        ({"prices": {}}, "prices"),
        ({"price": "100.00", "prices": {"adult": "90.00"}}, "price"),
        ({"category_capacities": {"child": 2}}, "category_capacities"),
        (
            {
                "prices": {"adult": "1", "child": "1"},
                "category_capacities": {"child": 21},
            },
            "category_capacities",
        ),
        ({"category_capacities": {"adult": -1}}, "category_capacities"),
        ({"category_capacities": {"adult": "2"}}, "category_capacities"),
        ({"min_party_size": 0}, "min_party_size"),
        ({"min_party_size": 21}, "min_party_size"),
    ],
)
def test_create_departure_invalid_categories_is_422(
    client, actors, app, overrides, field
):
    package_id = make_package(client, actors)

    response = post_departure(client, actors, package_id, **overrides)

    assert response.status_code == 422, response.get_json()
    assert any(key.startswith(field) for key in response.get_json()["errors"])
    with app.app_context():
        assert db.session.query(Departure).count() == 0


def test_update_departure_price_only_changes_adult_category(client, actors, app):
    dep = make_api_departure(
        client,
        actors,
        make_package(client, actors),
        prices={"adult": "100.00", "child": "60.00"},
    )

    response = client.patch(
        f"{URL}/{dep}", json={"price": "120"}, headers=actors.headers("operation")
    )

    assert response.status_code == 200
    assert response.get_json()["prices"] == {"adult": "120.00", "child": "60.00"}
    assert categories(app, dep)["adult"][0] == Decimal("120.00")
    assert stored(app, dep)["price"] == Decimal("120.00")


def test_update_departure_prices_replace_set_and_limits(client, actors, app):
    dep = make_api_departure(
        client,
        actors,
        make_package(client, actors),
        prices={"adult": "100.00", "child": "60.00"},
    )

    response = client.patch(
        f"{URL}/{dep}",
        json={
            "prices": {"adult": "110.00", "economy": "80.00"},
            "category_capacities": {"economy": 5},
            "min_party_size": 3,
        },
        headers=actors.headers("admin"),
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["price"] == "110.00"
    assert body["prices"] == {"adult": "110.00", "economy": "80.00"}
    assert body["category_capacities"] == {"economy": 5}
    assert body["min_party_size"] == 3
    assert categories(app, dep) == {
        "adult": (Decimal("110.00"), None, 0),
        "economy": (Decimal("80.00"), 5, 0),
    }
    assert stored(app, dep)["min_party_size"] == 3


def test_update_departure_remove_category_limit_with_null(client, actors, app):
    dep = make_api_departure(
        client,
        actors,
        make_package(client, actors),
        prices={"adult": "100", "child": "50"},
        category_capacities={"child": 3},
    )

    response = client.patch(
        f"{URL}/{dep}",
        json={"category_capacities": {"child": None}},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 200
    assert response.get_json()["category_capacities"] == {}
    assert categories(app, dep)["child"] == (Decimal("50.00"), None, 0)


def test_update_category_capacity_below_seats_taken_is_409(client, actors, app):
    dep = make_api_departure(
        client,
        actors,
        make_package(client, actors),
        prices={"adult": "100", "child": "50"},
        category_capacities={"child": 6},
    )
    set_columns(app, dep, seats_taken=4)
    set_category(app, dep, "child", seats_taken=4)

    denied = client.patch(
        f"{URL}/{dep}",
        json={"category_capacities": {"child": 3}, "capacity": 15},
        headers=actors.headers("admin"),
    )
    allowed = client.patch(
        f"{URL}/{dep}",
        json={"category_capacities": {"child": 4}},
        headers=actors.headers("admin"),
    )

    assert denied.status_code == 409
    assert denied.get_json()["type"] == "/problems/capacity-below-seats-taken"
    assert (denied.get_json()["category"], denied.get_json()["seats_taken"]) == (
        "child",
        4,
    )
    assert stored(app, dep)["capacity"] == 20  # the whole edit rolled back
    assert allowed.status_code == 200
    assert allowed.get_json()["category_seats_left"] == {"child": 0}
    assert categories(app, dep)["child"] == (Decimal("50.00"), 4, 4)


def test_update_removing_category_in_use_is_409(client, actors, app):
    dep = make_api_departure(
        client,
        actors,
        make_package(client, actors),
        prices={"adult": "100", "child": "50"},
    )
    set_category(app, dep, "child", seats_taken=1)

    response = client.patch(
        f"{URL}/{dep}",
        json={"prices": {"adult": "100"}},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 409
    assert response.get_json()["type"] == "/problems/category-in-use"
    assert set(categories(app, dep)) == {"adult", "child"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prices": {"child": "10"}}, "prices"),
        ({"category_capacities": {"business": 2}}, "category_capacities"),
        ({"category_capacities": {"child": 25}}, "category_capacities"),
        ({"capacity": 5}, "capacity"),  # below the child limit of 8
        ({"min_party_size": 21}, "min_party_size"),
        ({"price": "10", "prices": {"adult": "11", "child": "5"}}, "price"),
    ],
)
def test_update_departure_invalid_categories_is_422(
    client, actors, app, changes, field
):
    dep = make_api_departure(
        client,
        actors,
        make_package(client, actors),
        prices={"adult": "100", "child": "50"},
        category_capacities={"child": 8},
    )

    response = client.patch(
        f"{URL}/{dep}", json=changes, headers=actors.headers("admin")
    )

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert categories(app, dep) == {
        "adult": (Decimal("100.00"), None, 0),
        "child": (Decimal("50.00"), 8, 0),
    }


def reapprove(client, actors, package_id: int) -> None:
    """The operation head approves the package again (after a departure's prices by
    `operation` sent it back to approval)."""
    response = client.post(
        f"{PACKAGES}/{package_id}/approve", headers=actors.headers("operation_head")
    )
    assert response.status_code == 200, response.get_json()


def test_update_prices_never_change_existing_bookings(client, actors, app):
    package_id = make_package(client, actors)
    dep = make_api_departure(
        client, actors, package_id, prices={"adult": "100", "child": "50"}
    )
    reapprove(client, actors, package_id)
    cust = actors.customer()
    booked = client.post(
        "/api/v1/bookings",
        headers=cust["headers"],
        json={
            "departure_id": dep,
            "seats": 2,
            "travellers": [
                {"name": "A", "birth_date": "1980-01-01"},
                {"name": "B", "birth_date": "2015-01-01", "category": "child"},
            ],
        },
    )
    assert booked.status_code == 201, booked.get_json()

    client.patch(
        f"{URL}/{dep}",
        json={"prices": {"adult": "300", "child": "200"}},
        headers=actors.headers("admin"),
    )

    body = client.get(
        f"/api/v1/bookings/{booked.get_json()['id']}", headers=cust["headers"]
    ).get_json()
    assert body["total_amount"] == "150.00"
    assert body["price_snapshot"] == {"adult": "100.00", "child": "50.00"}
    assert [t["unit_price"] for t in body["travellers"]] == ["100.00", "50.00"]


def test_get_departure_category_seats_left_ignores_lapsed_holds(client, app, actors):
    from models.base import utcnow
    from models.booking import Traveller

    package_id = make_package(client, actors)
    dep = make_api_departure(
        client,
        actors,
        package_id,
        capacity=10,
        prices={"adult": "100", "child": "50"},
        category_capacities={"child": 4},
    )
    reapprove(client, actors, package_id)
    cust = actors.customer()
    set_columns(app, dep, seats_taken=4)
    set_category(app, dep, "child", seats_taken=3)
    set_category(app, dep, "adult", seats_taken=1)
    with app.app_context():
        for n, (minutes, kinds) in enumerate(
            [(-1, ["child", "child"]), (10, ["child", "adult"])]
        ):
            db.session.add(
                Booking(
                    reference=f"ET-CAT{n}",
                    customer_id=cust["id"],
                    departure_id=dep,
                    seats=len(kinds),
                    status="held",
                    currency="USD",
                    unit_price=Decimal("100"),
                    total_amount=Decimal("150"),
                    hold_expires_at=utcnow() + timedelta(minutes=minutes),
                    travellers=[
                        Traveller(
                            name="T",
                            birth_date=datetime(2015, 1, 1).date(),
                            category=kind,
                        )
                        for kind in kinds
                    ],
                )
            )
        db.session.commit()

    body = client.get(f"{URL}/{dep}").get_json()

    assert (body["seats_taken"], body["seats_left"]) == (2, 8)
    assert body["category_seats_left"] == {"child": 3}  # 4 - (3 taken - 2 lapsed)


def test_update_departure_without_category_rows_counts_live_seats(client, actors, app):
    """A departure made before categories existed gets rows that start from the
    seats its live bookings already hold."""
    from models import DepartureCategory

    dep = make_api_departure(client, actors, make_package(client, actors), capacity=10)
    with app.app_context():
        db.session.execute(
            DepartureCategory.__table__.delete().where(
                DepartureCategory.departure_id == dep
            )
        )
        db.session.commit()
    add_booking(app, dep, actors.account("customer")["id"])  # 1 adult seat, held

    too_small = client.patch(
        f"{URL}/{dep}",
        json={"category_capacities": {"adult": 0}},
        headers=actors.headers("admin"),
    )
    response = client.patch(
        f"{URL}/{dep}",
        json={
            "prices": {"adult": "99", "child": "9"},
            "category_capacities": {"adult": 5},
        },
        headers=actors.headers("admin"),
    )

    assert too_small.status_code == 409
    assert too_small.get_json()["seats_taken"] == 1
    assert response.status_code == 200, response.get_json()
    assert categories(app, dep) == {
        "adult": (Decimal("99.00"), 5, 1),
        "child": (Decimal("9.00"), None, 0),
    }
    assert response.get_json()["category_seats_left"] == {"adult": 4}
