"""Packages: create, read, edit, delete, visibility, list filters and pagination
(docs/design.md "Resource map": /packages; "Accounts and roles" matrix)."""

from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import pytest

from core.extensions import db
from models import Departure, ItineraryDay, Package
from tests.catalogue.conftest import EDITORS, EVERYONE, STAFF, published
from tests.factories import assert_problem, create_package, item_ids, package_body

URL = "/api/v1/packages"
NON_EDITORS = ["hr", "sales", "finance", "customer"]


def stored(app, package_id: int) -> dict | None:
    """The package row and its itinerary day numbers, or None when gone."""
    with app.app_context():
        package = db.session.get(Package, package_id)
        if package is None:
            return None
        row = {c.name: getattr(package, c.name) for c in Package.__table__.columns}
        row["days"] = [day.day_number for day in package.itinerary]
        return row


def add_departure(app, package_id: int, days_ahead: int = 30) -> int:
    """Insert a scheduled departure straight into the database; returns its id."""
    with app.app_context():
        package = db.session.get(Package, package_id)
        start = datetime.now(UTC).date() + timedelta(days=days_ahead)
        departure = Departure(
            package_id=package_id,
            start_date=start,
            end_date=start + timedelta(days=2),
            capacity=10,
            price=package.base_price,
            currency=package.currency,
        )
        db.session.add(departure)
        db.session.commit()
        return departure.id


# --- create ---------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_create_package_as_editor_is_draft(client, actors, app, role):
    response = client.post(URL, json=package_body(), headers=actors.headers(role))

    assert response.status_code == 201
    body = response.get_json()
    author = actors.account(role)["id"]
    assert body["status"] == "draft"
    assert body["base_price"] == "850.00"
    assert body["currency"] == app.config["DEFAULT_CURRENCY"]
    assert body["deposit_percent"] == 100
    assert body["created_by_id"] == author and body["last_edited_by_id"] == author
    assert body["approved_by_id"] is None and body["rejection_reason"] is None
    assert [d["day_number"] for d in body["itinerary"]] == [1, 2]
    assert body["itinerary"][1] == {
        "day_number": 2,
        "title": "Boat trip",
        "description": "",
        "location": "Balos",
        "translations": None,
    }
    row = stored(app, body["id"])
    assert row["status"] == "draft" and row["revision_author_id"] == author
    assert row["days"] == [1, 2]
    assert "Balos" in row["search_document"] and "Check in." in row["search_document"]


@pytest.mark.parametrize("role", NON_EDITORS)
def test_create_package_as_other_role_is_forbidden(client, actors, app, role):
    response = client.post(URL, json=package_body(), headers=actors.headers(role))

    assert response.status_code == 403
    with app.app_context():
        assert db.session.query(Package).count() == 0


def test_create_package_anonymous_with_bad_body_is_401(client):
    response = client.post(URL, json={"title": ""})

    assert response.status_code == 401
    assert response.get_json()["status"] == 401


def test_create_package_missing_fields_is_422(client, actors):
    response = client.post(URL, json={}, headers=actors.headers("operation"))

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"title", "destination", "duration_days", "base_price"} <= set(errors)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("transport_mode", "boat"),
        ("deposit_percent", 0),
        ("deposit_percent", 101),
        ("base_price", "-1.00"),
        ("base_price", "abc"),
        ("currency", "eur"),
        ("duration_days", 0),
        ("title", "   "),
        ("status", "published"),
        ("created_by_id", 1),
        ("description", "nul \x00 byte"),
        ("origin", "\x00"),
    ],
)
def test_create_package_invalid_field_is_422(client, actors, app, field, value):
    response = client.post(
        URL, json=package_body(**{field: value}), headers=actors.headers("admin")
    )

    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    with app.app_context():
        assert db.session.query(Package).count() == 0


def test_create_package_itinerary_day_beyond_duration_is_422(client, actors):
    days = [{"day_number": 1, "title": "A"}, {"day_number": 4, "title": "B"}]
    response = client.post(
        URL, json=package_body(itinerary=days), headers=actors.headers("operation")
    )

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["itinerary.1.day_number"]


def test_create_package_duplicate_day_number_is_422(client, actors):
    days = [{"day_number": 1, "title": "A"}, {"day_number": 1, "title": "B"}]
    response = client.post(
        URL, json=package_body(itinerary=days), headers=actors.headers("operation")
    )

    assert response.status_code == 422
    assert "itinerary.1.day_number" in response.get_json()["errors"]


def test_create_package_day_zero_and_missing_title_is_422(client, actors):
    days = [{"day_number": 0, "title": "A"}, {"day_number": 2}]
    response = client.post(
        URL, json=package_body(itinerary=days), headers=actors.headers("operation")
    )

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "itinerary.0.day_number" in errors and "itinerary.1.title" in errors


def test_create_package_with_explicit_currency_and_deposit(client, actors):
    body = create_package(
        client, actors, currency="USD", deposit_percent=30, base_price="1200"
    )

    assert body["currency"] == "USD"
    assert body["deposit_percent"] == 30
    assert body["base_price"] == "1200.00"


# --- read -----------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_get_package_draft_as_staff(client, actors, role):
    package = create_package(client, actors)

    response = client.get(f"{URL}/{package['id']}", headers=actors.headers(role))

    assert response.status_code == 200
    assert response.get_json()["status"] == "draft"


@pytest.mark.parametrize("role", ["customer", "anonymous"])
def test_get_package_draft_as_public_is_404(client, actors, role):
    package = create_package(client, actors)

    response = client.get(f"{URL}/{package['id']}", headers=actors.headers(role))

    assert response.status_code == 404


@pytest.mark.parametrize("role", EVERYONE)
def test_get_package_published_as_anyone(client, actors, role):
    package = published(client, actors)

    response = client.get(f"{URL}/{package['id']}", headers=actors.headers(role))

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "published" and len(body["itinerary"]) == 2


@pytest.mark.parametrize("package_id", [999, 2147483647])
def test_get_package_unknown_is_404(client, actors, package_id):
    response = client.get(f"{URL}/{package_id}", headers=actors.headers("admin"))

    assert response.status_code == 404
    assert response.get_json()["type"] == "/problems/not-found"


def test_get_package_id_beyond_32_bits_is_404(client):
    assert client.get(f"{URL}/2147483648").status_code == 404


# --- edit -----------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_update_package_draft_stays_draft(client, actors, app, role):
    package = create_package(client, actors)

    response = client.patch(
        f"{URL}/{package['id']}",
        json={"title": "Island Hopping Deluxe", "base_price": "900"},
        headers=actors.headers(role),
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "draft"
    assert body["title"] == "Island Hopping Deluxe" and body["base_price"] == "900.00"
    assert body["last_edited_by_id"] == actors.account(role)["id"]
    row = stored(app, package["id"])
    assert row["title"] == "Island Hopping Deluxe"
    assert row["revision_author_id"] == actors.account("operation")["id"]
    assert "Deluxe" in row["search_document"]


@pytest.mark.parametrize("role", [*NON_EDITORS, "anonymous"])
def test_update_package_as_other_role_is_denied(client, actors, app, role):
    package = create_package(client, actors)

    response = client.patch(
        f"{URL}/{package['id']}", json={"title": "Hacked"}, headers=actors.headers(role)
    )

    assert response.status_code == (401 if role == "anonymous" else 403)
    assert stored(app, package["id"])["title"] == "Island Hopping"


def test_update_package_itinerary_replaces_all_days(client, actors, app):
    package = create_package(client, actors)
    days = [
        {"day_number": 2, "title": "Day two"},
        {"day_number": 3, "title": "Day three"},
    ]

    response = client.patch(
        f"{URL}/{package['id']}",
        json={"itinerary": days},
        headers=actors.headers("operation"),
    )

    assert response.status_code == 200
    assert [d["title"] for d in response.get_json()["itinerary"]] == [
        "Day two",
        "Day three",
    ]
    row = stored(app, package["id"])
    assert row["days"] == [2, 3]
    assert (
        "Day three" in row["search_document"] and "Balos" not in row["search_document"]
    )
    with app.app_context():
        assert db.session.query(ItineraryDay).count() == 2


def test_update_package_itinerary_beyond_duration_is_422(client, actors, app):
    package = create_package(client, actors)

    response = client.patch(
        f"{URL}/{package['id']}",
        json={"duration_days": 2, "itinerary": [{"day_number": 3, "title": "Late"}]},
        headers=actors.headers("operation"),
    )

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["itinerary.0.day_number"]
    assert stored(app, package["id"])["duration_days"] == 3


def test_update_package_duration_shorter_than_itinerary_is_422(client, actors, app):
    package = create_package(client, actors)

    response = client.patch(
        f"{URL}/{package['id']}",
        json={"duration_days": 1},
        headers=actors.headers("operation"),
    )

    assert response.status_code == 422
    assert "duration_days" in response.get_json()["errors"]
    assert stored(app, package["id"])["duration_days"] == 3


def test_update_package_status_field_is_422(client, actors, app):
    package = create_package(client, actors)

    response = client.patch(
        f"{URL}/{package['id']}",
        json={"status": "published"},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 422
    assert "status" in response.get_json()["errors"]
    assert stored(app, package["id"])["status"] == "draft"


def test_update_package_currency_with_departures_is_409(client, actors, app):
    package = create_package(client, actors)
    add_departure(app, package["id"])

    response = client.patch(
        f"{URL}/{package['id']}",
        json={"currency": "USD"},
        headers=actors.headers("operation"),
    )

    assert response.status_code == 409
    assert stored(app, package["id"])["currency"] == app.config["DEFAULT_CURRENCY"]


def test_update_package_unknown_is_404(client, actors):
    response = client.patch(
        f"{URL}/999", json={"title": "X"}, headers=actors.headers("admin")
    )

    assert response.status_code == 404


# --- delete ---------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_delete_package_draft(client, actors, app, role):
    package = create_package(client, actors)

    response = client.delete(f"{URL}/{package['id']}", headers=actors.headers(role))

    assert response.status_code == 204
    assert stored(app, package["id"]) is None
    with app.app_context():
        assert db.session.query(ItineraryDay).count() == 0


def test_delete_package_rejected(client, actors, app):
    package = create_package(client, actors)
    client.post(f"{URL}/{package['id']}/submit", headers=actors.headers("operation"))
    rejected = client.post(
        f"{URL}/{package['id']}/reject",
        json={"reason": "No"},
        headers=actors.headers("operation_head"),
    )
    assert rejected.get_json()["status"] == "rejected"

    response = client.delete(
        f"{URL}/{package['id']}", headers=actors.headers("operation")
    )

    assert response.status_code == 204
    assert stored(app, package["id"]) is None


@pytest.mark.parametrize("state", ["pending_approval", "published", "archived"])
def test_delete_package_not_draft_is_409(client, actors, app, state):
    package = create_package(client, actors)
    client.post(f"{URL}/{package['id']}/submit", headers=actors.headers("operation"))
    if state == "published":
        client.post(
            f"{URL}/{package['id']}/approve", headers=actors.headers("operation_head")
        )
    if state == "archived":
        client.post(
            f"{URL}/{package['id']}/archive", headers=actors.headers("operation_head")
        )
    assert stored(app, package["id"])["status"] == state

    response = client.delete(f"{URL}/{package['id']}", headers=actors.headers("admin"))

    assert response.status_code == 409
    assert "archive it instead" in response.get_json()["detail"]
    assert stored(app, package["id"])["status"] == state


def test_delete_package_with_departures_is_409(client, actors, app):
    package = create_package(client, actors)
    add_departure(app, package["id"])

    response = client.delete(
        f"{URL}/{package['id']}", headers=actors.headers("operation")
    )

    assert response.status_code == 409
    assert "archive it instead" in response.get_json()["detail"]
    assert stored(app, package["id"]) is not None


@pytest.mark.parametrize("role", [*NON_EDITORS, "anonymous"])
def test_delete_package_as_other_role_is_denied(client, actors, app, role):
    package = create_package(client, actors)

    response = client.delete(f"{URL}/{package['id']}", headers=actors.headers(role))

    assert response.status_code == (401 if role == "anonymous" else 403)
    assert stored(app, package["id"]) is not None


def test_delete_package_unknown_is_404(client, actors):
    assert (
        client.delete(f"{URL}/999", headers=actors.headers("admin")).status_code == 404
    )


# --- list -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["customer", "anonymous"])
def test_list_packages_public_sees_only_published(client, actors, role):
    draft = create_package(client, actors, title="Draft one")
    live = published(client, actors, title="Live one")

    response = client.get(URL, headers=actors.headers(role))

    assert response.status_code == 200
    assert item_ids(response) == [live["id"]]
    assert draft["id"] not in item_ids(response)
    assert response.get_json()["meta"]["total"] == 1


@pytest.mark.parametrize("role", STAFF)
def test_list_packages_staff_sees_all(client, actors, role):
    draft = create_package(client, actors)
    live = published(client, actors)

    response = client.get(URL, headers=actors.headers(role))

    assert response.status_code == 200
    assert item_ids(response) == [live["id"], draft["id"]]


def test_list_packages_status_filter_for_staff(client, actors):
    draft = create_package(client, actors)
    published(client, actors)

    response = client.get(f"{URL}?status=draft", headers=actors.headers("sales"))

    assert item_ids(response) == [draft["id"]]


def test_list_packages_customer_status_filter_stays_within_published(client, actors):
    create_package(client, actors)
    live = published(client, actors)

    drafts = client.get(f"{URL}?status=draft", headers=actors.headers("customer"))
    lives = client.get(f"{URL}?status=published", headers=actors.headers("customer"))

    assert drafts.status_code == 200 and item_ids(drafts) == []
    assert item_ids(lives) == [live["id"]]


def test_list_packages_unknown_status_is_422(client):
    response = client.get(f"{URL}?status=secret")

    assert response.status_code == 422
    assert "query.status" in response.get_json()["errors"]


def test_list_packages_paginates_newest_first(client, actors):
    made = [create_package(client, actors, title=f"P{n}")["id"] for n in range(5)]

    first = client.get(f"{URL}?per_page=2", headers=actors.headers("admin"))
    last = client.get(f"{URL}?per_page=2&page=3", headers=actors.headers("admin"))

    assert item_ids(first) == [made[4], made[3]]
    assert first.get_json()["meta"] == {
        "page": 1,
        "per_page": 2,
        "total": 5,
        "pages": 3,
        "has_more": True,
        "next_cursor": ANY,
        "total_is_estimate": False,
    }
    assert item_ids(last) == [made[0]]


@pytest.mark.parametrize("query", ["per_page=101", "page=0", "per_page=0"])
def test_list_packages_bad_paging_is_422(client, query):
    assert client.get(f"{URL}?{query}").status_code == 422


def test_list_packages_filter_destination_origin_transport(client, actors):
    crete = published(client, actors, destination="Crete", origin="Athens")
    rome = published(
        client, actors, destination="Rome", origin="Milan", transport_mode="train"
    )

    by_dest = client.get(f"{URL}?destination=cRe")
    by_origin = client.get(f"{URL}?origin=mil")
    by_mode = client.get(f"{URL}?transport_mode=train")

    assert item_ids(by_dest) == [crete["id"]]
    assert item_ids(by_origin) == [rome["id"]]
    assert item_ids(by_mode) == [rome["id"]]


def test_list_packages_destination_wildcards_are_literal(client, actors):
    published(client, actors, destination="Crete")

    assert item_ids(client.get(f"{URL}?destination=%25")) == []
    assert item_ids(client.get(f"{URL}?destination=_")) == []


def test_list_packages_filter_price_range(client, actors):
    cheap = published(client, actors, base_price="100.00")
    mid = published(client, actors, base_price="500.00")
    dear = published(client, actors, base_price="900.00")

    response = client.get(f"{URL}?min_price=100&max_price=500.00")

    assert sorted(item_ids(response)) == sorted([cheap["id"], mid["id"]])
    assert item_ids(client.get(f"{URL}?min_price=500.01")) == [dear["id"]]


@pytest.mark.parametrize("field", ["destination", "origin"])
def test_list_packages_nul_in_text_filter_is_422(client, field):
    response = client.get(f"{URL}?{field}=a%00b")

    assert response.status_code == 422
    assert f"query.{field}" in response.get_json()["errors"]


def test_list_packages_min_price_above_max_is_422(client):
    response = client.get(f"{URL}?min_price=500&max_price=100")

    assert response.status_code == 422
    assert "query.min_price" in response.get_json()["errors"]


def test_list_packages_filter_starts_after(client, actors, app):
    soon = published(client, actors)
    later = published(client, actors)
    published(client, actors)  # no departure at all
    add_departure(app, soon["id"], days_ahead=10)
    add_departure(app, later["id"], days_ahead=60)
    cutoff = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()

    response = client.get(f"{URL}?starts_after={cutoff}")

    assert item_ids(response) == [later["id"]]


def test_list_packages_starts_after_ignores_cancelled_departures(client, actors, app):
    package = published(client, actors)
    departure_id = add_departure(app, package["id"], days_ahead=60)
    with app.app_context():
        db.session.get(Departure, departure_id).status = "cancelled"
        db.session.commit()
    today = datetime.now(UTC).date().isoformat()

    assert item_ids(client.get(f"{URL}?starts_after={today}")) == []


def test_list_packages_filter_starts_before_and_window(client, actors, app):
    soon = published(client, actors)
    later = published(client, actors)
    add_departure(app, soon["id"], days_ahead=10)
    add_departure(app, later["id"], days_ahead=60)
    today = datetime.now(UTC).date()

    def on(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    assert item_ids(client.get(f"{URL}?starts_before={on(30)}")) == [soon["id"]]
    assert item_ids(
        client.get(f"{URL}?starts_after={on(5)}&starts_before={on(11)}")
    ) == [soon["id"]]
    assert (
        item_ids(client.get(f"{URL}?starts_after={on(11)}&starts_before={on(59)}"))
        == []
    )
    assert sorted(item_ids(client.get(f"{URL}?starts_before={on(60)}"))) == sorted(
        [soon["id"], later["id"]]
    )


def test_list_packages_starts_after_later_than_before_is_422(client):
    response = client.get(f"{URL}?starts_after=2030-02-01&starts_before=2030-01-01")

    assert response.status_code == 422
    assert "query.starts_after" in response.get_json()["errors"]


def test_list_packages_transport_leg_filters_combine_with_dates(client, actors, app):
    flight = published(
        client, actors, origin="Berlin", destination="Lisbon", transport_mode="flight"
    )
    bus = published(
        client, actors, origin="Berlin", destination="Lisbon", transport_mode="bus"
    )
    other = published(
        client, actors, origin="Paris", destination="Lisbon", transport_mode="flight"
    )
    for package in (flight, bus, other):
        add_departure(app, package["id"], days_ahead=20)
    late_flight = published(
        client, actors, origin="Berlin", destination="Lisbon", transport_mode="flight"
    )
    add_departure(app, late_flight["id"], days_ahead=90)
    window = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()

    response = client.get(
        f"{URL}?origin=berlin&destination=lisbon&transport_mode=flight&starts_before={window}"
    )

    assert response.status_code == 200
    assert item_ids(response) == [flight["id"]]
    body = response.get_json()["items"][0]
    assert (body["origin"], body["destination"], body["transport_mode"]) == (
        "Berlin",
        "Lisbon",
        "flight",
    )


@pytest.mark.parametrize("query", ["transport_mode=plane", "starts_before=soon"])
def test_list_packages_bad_transport_or_date_is_422(client, query):
    response = client.get(f"{URL}?{query}")

    assert response.status_code == 422
    assert f"query.{query.split('=')[0]}" in response.get_json()["errors"]


@pytest.mark.parametrize(
    "query",
    [
        "starts_after=9999-12-31",
        "starts_before=9999-12-31",
        "starts_after=0001-01-01",
        "starts_before=1999-12-31",
        "starts_after=2101-01-01",
    ],
)
def test_list_packages_far_start_dates_are_422(client, query):
    """docs/security.md "Bounded dates": date filters stay within 2000-2100."""
    response = client.get(f"{URL}?{query}")

    body = assert_problem(response, 422)
    field = f"query.{query.split('=')[0]}"
    assert body["errors"] == {field: ["Must be between 2000-01-01 and 2100-12-31."]}


def test_list_packages_start_dates_at_the_bounds_are_200(client, actors, app):
    package = published(client, actors)
    add_departure(app, package["id"], days_ahead=10)

    response = client.get(f"{URL}?starts_after=2000-01-01&starts_before=2100-12-31")

    assert response.status_code == 200
    assert item_ids(response) == [package["id"]]


def test_list_packages_sort_by_price(client, actors):
    dear = published(client, actors, base_price="900.00")
    cheap = published(client, actors, base_price="100.00")

    ascending = client.get(f"{URL}?sort=base_price")
    descending = client.get(f"{URL}?sort=-base_price")

    assert item_ids(ascending) == [cheap["id"], dear["id"]]
    assert item_ids(descending) == [dear["id"], cheap["id"]]


def test_list_packages_unknown_sort_is_422(client):
    response = client.get(f"{URL}?sort=search_document")

    assert response.status_code == 422
    assert "query.sort" in response.get_json()["errors"]
