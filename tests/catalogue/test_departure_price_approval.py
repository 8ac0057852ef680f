"""Maker-checker on departure prices (docs/design.md "Rules with numbers": prices,
category prices and capacity cuts of a published package's departures are approved
like package content; existing bookings keep their copied prices). Before, operation
could PATCH a published package's departure to 1.00, or create a 0.00 departure, and
the next booking paid that with no approval."""

import pytest

from tests.catalogue.conftest import package_status
from tests.factories import day, make_api_departure, make_package, post_departure

PACKAGES = "/api/v1/packages"
URL = "/api/v1/departures"
BOOKINGS = "/api/v1/bookings"


def book(client, headers, dep: int, seats: int = 1):
    return client.post(
        BOOKINGS, json={"departure_id": dep, "seats": seats}, headers=headers
    )


def approve(client, actors, package_id: int, role: str = "operation_head"):
    return client.post(f"{PACKAGES}/{package_id}/approve", headers=actors.headers(role))


def test_price_cut_waits_for_another_approver_and_bookings_keep_prices(
    client, actors, app
):
    package_id = make_package(client, actors, base_price="1200.00")
    dep = make_api_departure(client, actors, package_id)
    customer = actors.headers("customer")
    earlier = book(client, customer, dep)
    assert (
        earlier.status_code == 201 and earlier.get_json()["total_amount"] == "1200.00"
    )

    patched = client.patch(
        f"{URL}/{dep}", json={"price": "1.00"}, headers=actors.headers("operation")
    )

    assert patched.status_code == 200
    assert package_status(app, package_id) == "pending_approval"
    refused = book(client, customer, dep)
    assert refused.status_code == 409
    assert refused.get_json()["type"] == "/problems/package-not-bookable"
    assert client.get(f"{URL}/{dep}").status_code == 404  # hidden until approved
    own = approve(client, actors, package_id, role="operation")
    assert own.status_code == 403  # operation is no approver anyway
    assert approve(client, actors, package_id).status_code == 200
    assert book(client, customer, dep).get_json()["total_amount"] == "1.00"
    kept = client.get(f"{BOOKINGS}/{earlier.get_json()['id']}", headers=customer)
    assert kept.get_json()["total_amount"] == "1200.00"


def test_approver_who_changed_the_price_cannot_approve_it(client, actors, app):
    package_id = make_package(client, actors)
    dep = make_api_departure(client, actors, package_id)
    client.patch(
        f"{URL}/{dep}",
        json={"prices": {"adult": "900.00", "child": "400.00"}},
        headers=actors.headers("operation_head"),
    )
    assert package_status(app, package_id) == "pending_approval"
    response = approve(client, actors, package_id)
    assert response.status_code == 403
    assert response.get_json()["type"] == "/problems/maker-checker"
    assert approve(client, actors, package_id, role="admin").status_code == 200


@pytest.mark.parametrize(
    "changes,needs_approval",
    [
        ({"capacity": 10}, True),
        ({"prices": {"adult": "1200.00", "child": "600.00"}}, True),
        ({"capacity": 30}, False),
        ({"booking_cutoff": None, "end_date": day(34)}, False),
        ({"price": "1200.00"}, False),
    ],
)
def test_which_departure_edits_need_approval(
    client, actors, app, changes, needs_approval
):
    package_id = make_package(client, actors, base_price="1200.00")
    dep = make_api_departure(client, actors, package_id)
    response = client.patch(
        f"{URL}/{dep}", json=changes, headers=actors.headers("operation")
    )
    assert response.status_code == 200, response.get_json()
    expected = "pending_approval" if needs_approval else "published"
    assert package_status(app, package_id) == expected


def test_new_departure_priced_off_the_base_price_needs_approval(client, actors, app):
    package_id = make_package(client, actors, base_price="1200.00")
    assert post_departure(client, actors, package_id).status_code == 201
    assert package_status(app, package_id) == "published"
    assert post_departure(client, actors, package_id, price="1.00").status_code == 201
    assert package_status(app, package_id) == "pending_approval"


@pytest.mark.parametrize(
    "body", [{"price": "0.00"}, {"prices": {"adult": "10", "child": "0"}}]
)
def test_zero_price_is_refused(client, actors, app, body):
    package_id = make_package(client, actors, publish=False)
    created = post_departure(client, actors, package_id, **body)
    assert created.status_code == 422
    assert "ALLOW_ZERO_PRICES" in str(created.get_json()["errors"])
    dep = make_api_departure(client, actors, package_id)
    patched = client.patch(
        f"{URL}/{dep}", json=body, headers=actors.headers("operation")
    )
    assert patched.status_code == 422


def test_zero_price_allowed_by_configuration_still_needs_approval(client, actors, app):
    package_id = make_package(client, actors)
    app.config["ALLOW_ZERO_PRICES"] = True
    try:
        created = post_departure(client, actors, package_id, price="0.00")
    finally:
        app.config["ALLOW_ZERO_PRICES"] = False
    assert created.status_code == 201
    assert package_status(app, package_id) == "pending_approval"
