"""Package lifecycle and maker-checker (docs/design.md "Lifecycles": package;
"Accounts and roles": maker-checker)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.extensions import db
from models import Booking, Departure, Package

URL = "/api/v1/packages"
ALL_STATES = ["draft", "pending_approval", "published", "rejected", "archived"]
BODY = {
    "title": "Alpine Rail",
    "destination": "Zermatt",
    "transport_mode": "train",
    "duration_days": 2,
    "base_price": "400.00",
    "itinerary": [{"day_number": 1, "title": "Glacier Express"}],
}


def create(client, headers, **overrides) -> int:
    """Create a draft with `headers`; returns its id."""
    response = client.post(URL, json={**BODY, **overrides}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def act(client, package_id: int, action: str, headers, **body):
    """POST /packages/<id>/<action> (with a JSON body when given)."""
    return client.post(
        f"{URL}/{package_id}/{action}", json=body or None, headers=headers
    )


def package_in(client, actors, state: str) -> int:
    """A package by `operation` brought to `state` by `operation_head`."""
    package_id = create(client, actors.headers("operation"))
    head = actors.headers("operation_head")
    steps = {
        "draft": [],
        "pending_approval": ["submit"],
        "published": ["submit", "approve"],
        "rejected": ["submit", "reject"],
        "archived": ["archive"],
    }[state]
    for step in steps:
        headers = actors.headers("operation") if step == "submit" else head
        body = {"reason": "Needs photos"} if step == "reject" else {}
        assert act(client, package_id, step, headers, **body).status_code == 200
    return package_id


def stored(app, package_id: int) -> dict:
    """The package row as a dict."""
    with app.app_context():
        package = db.session.get(Package, package_id)
        return {c.name: getattr(package, c.name) for c in Package.__table__.columns}


def edit(client, package_id: int, headers, **changes):
    """PATCH the package."""
    return client.patch(
        f"{URL}/{package_id}", json=changes or {"title": "Edited"}, headers=headers
    )


# --- submit ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "operation", "operation_head"])
def test_submit_draft_moves_to_pending(client, actors, app, role):
    package_id = create(client, actors.headers("operation"))

    response = act(client, package_id, "submit", actors.headers(role))

    assert response.status_code == 200
    assert response.get_json()["status"] == "pending_approval"
    assert response.get_json()["submitted_at"] is not None
    row = stored(app, package_id)
    assert row["status"] == "pending_approval" and row["submitted_at"] is not None


@pytest.mark.parametrize("role", ["hr", "sales", "finance", "customer", "anonymous"])
def test_submit_as_other_role_is_denied(client, actors, app, role):
    package_id = create(client, actors.headers("operation"))

    response = act(client, package_id, "submit", actors.headers(role))

    assert response.status_code == (401 if role == "anonymous" else 403)
    assert stored(app, package_id)["status"] == "draft"


def test_submit_without_itinerary_is_409(client, actors, app):
    package_id = create(client, actors.headers("operation"), itinerary=[])

    response = act(client, package_id, "submit", actors.headers("operation"))

    assert response.status_code == 409
    assert "itinerary" in response.get_json()["detail"]
    assert stored(app, package_id)["status"] == "draft"


@pytest.mark.parametrize(
    "state", ["pending_approval", "published", "rejected", "archived"]
)
def test_submit_from_other_state_is_409(client, actors, app, state):
    package_id = package_in(client, actors, state)

    response = act(client, package_id, "submit", actors.headers("admin"))

    assert response.status_code == 409
    assert stored(app, package_id)["status"] == state


def test_submit_unknown_package_is_404(client, actors):
    assert act(client, 999, "submit", actors.headers("operation")).status_code == 404


# --- approve --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "operation_head"])
def test_approve_pending_publishes(client, actors, app, role):
    package_id = package_in(client, actors, "pending_approval")
    approver = actors.employee(role)

    response = act(client, package_id, "approve", approver["headers"])

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "published"
    assert body["approved_by_id"] == approver["id"] and body["approved_at"] is not None
    row = stored(app, package_id)
    assert row["status"] == "published" and row["approved_by_id"] == approver["id"]


@pytest.mark.parametrize(
    "role", ["operation", "hr", "sales", "finance", "customer", "anonymous"]
)
def test_approve_as_other_role_is_denied(client, actors, app, role):
    package_id = package_in(client, actors, "pending_approval")

    response = act(client, package_id, "approve", actors.headers(role))

    assert response.status_code == (401 if role == "anonymous" else 403)
    assert stored(app, package_id)["status"] == "pending_approval"


@pytest.mark.parametrize("state", ["draft", "published", "rejected", "archived"])
def test_approve_from_other_state_is_409(client, actors, app, state):
    package_id = package_in(client, actors, state)

    response = act(
        client, package_id, "approve", actors.employee("operation_head")["headers"]
    )

    assert response.status_code == 409
    assert stored(app, package_id)["status"] == state


def test_approve_by_creator_is_forbidden(client, actors, app):
    maker = actors.employee("operation_head")
    package_id = create(client, maker["headers"])
    act(client, package_id, "submit", maker["headers"])

    response = act(client, package_id, "approve", maker["headers"])

    assert response.status_code == 403
    assert "maker-checker" in response.get_json()["detail"]
    assert stored(app, package_id)["status"] == "pending_approval"


def test_approve_by_another_operation_head_succeeds(client, actors, app):
    maker = actors.employee("operation_head")
    package_id = create(client, maker["headers"])
    act(client, package_id, "submit", maker["headers"])
    checker = actors.employee("operation_head")

    response = act(client, package_id, "approve", checker["headers"])

    assert response.status_code == 200
    assert stored(app, package_id)["approved_by_id"] == checker["id"]


def test_approve_by_admin_creator_is_forbidden(client, actors, app):
    admin = actors.employee("admin")
    package_id = create(client, admin["headers"])
    act(client, package_id, "submit", admin["headers"])

    response = act(client, package_id, "approve", admin["headers"])

    assert response.status_code == 403
    assert stored(app, package_id)["status"] == "pending_approval"


def test_approve_by_admin_who_last_edited_is_forbidden(client, actors, app):
    package_id = package_in(client, actors, "pending_approval")
    admin = actors.employee("admin")
    assert (
        edit(client, package_id, admin["headers"]).get_json()["status"]
        == "pending_approval"
    )

    denied = act(client, package_id, "approve", admin["headers"])
    allowed = act(client, package_id, "approve", actors.employee("admin")["headers"])

    assert denied.status_code == 403
    assert allowed.status_code == 200
    assert stored(app, package_id)["status"] == "published"


def test_submitter_who_did_not_edit_may_approve(client, actors, app):
    package_id = create(client, actors.headers("operation"))
    head = actors.employee("operation_head")
    act(client, package_id, "submit", head["headers"])

    response = act(client, package_id, "approve", head["headers"])

    assert response.status_code == 200
    assert stored(app, package_id)["approved_by_id"] == head["id"]


# --- reject ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "operation_head"])
def test_reject_pending_with_reason(client, actors, app, role):
    package_id = package_in(client, actors, "pending_approval")

    response = act(
        client,
        package_id,
        "reject",
        actors.employee(role)["headers"],
        reason="Prices are wrong",
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "rejected"
    assert response.get_json()["rejection_reason"] == "Prices are wrong"
    row = stored(app, package_id)
    assert row["status"] == "rejected" and row["rejection_reason"] == "Prices are wrong"


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": "   "}])
def test_reject_without_reason_is_422(client, actors, app, body):
    package_id = package_in(client, actors, "pending_approval")

    response = client.post(
        f"{URL}/{package_id}/reject",
        json=body,
        headers=actors.headers("operation_head"),
    )

    assert response.status_code == 422
    assert "reason" in response.get_json()["errors"]
    assert stored(app, package_id)["status"] == "pending_approval"


@pytest.mark.parametrize(
    "role", ["operation", "hr", "sales", "finance", "customer", "anonymous"]
)
def test_reject_as_other_role_is_denied(client, actors, app, role):
    package_id = package_in(client, actors, "pending_approval")
    response = act(client, package_id, "reject", actors.headers(role), reason="No")

    assert response.status_code == (401 if role == "anonymous" else 403)
    assert stored(app, package_id)["status"] == "pending_approval"


def test_reject_by_author_is_forbidden(client, actors, app):
    maker = actors.employee("operation_head")
    package_id = create(client, maker["headers"])
    act(client, package_id, "submit", maker["headers"])

    response = act(client, package_id, "reject", maker["headers"], reason="Oops")

    assert response.status_code == 403
    assert stored(app, package_id)["status"] == "pending_approval"


@pytest.mark.parametrize("state", ["draft", "published", "rejected", "archived"])
def test_reject_from_other_state_is_409(client, actors, app, state):
    package_id = package_in(client, actors, state)

    response = act(
        client, package_id, "reject", actors.employee("admin")["headers"], reason="x"
    )

    assert response.status_code == 409
    assert stored(app, package_id)["status"] == state


# --- edits move the status ------------------------------------------------------


def test_edit_rejected_goes_back_to_draft(client, actors, app):
    package_id = package_in(client, actors, "rejected")
    editor = actors.employee("operation")

    response = edit(client, package_id, editor["headers"])

    assert response.status_code == 200
    assert response.get_json()["status"] == "draft"
    assert response.get_json()["rejection_reason"] is None
    row = stored(app, package_id)
    assert row["status"] == "draft" and row["rejection_reason"] is None
    assert row["revision_author_id"] == editor["id"]
    assert act(client, package_id, "submit", editor["headers"]).status_code == 200


def test_edit_pending_stays_pending_and_editor_cannot_approve(client, actors, app):
    package_id = package_in(client, actors, "pending_approval")
    head = actors.employee("operation_head")

    response = edit(client, package_id, head["headers"])

    assert response.get_json()["status"] == "pending_approval"
    assert stored(app, package_id)["last_edited_by_id"] == head["id"]
    assert act(client, package_id, "approve", head["headers"]).status_code == 403


def test_edit_published_goes_back_to_pending_and_is_hidden(client, actors, app):
    package_id = package_in(client, actors, "published")
    customer = actors.headers("customer")
    assert client.get(f"{URL}/{package_id}", headers=customer).status_code == 200

    response = edit(
        client, package_id, actors.headers("operation"), base_price="450.00"
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "pending_approval" and body["approved_by_id"] is None
    assert client.get(f"{URL}/{package_id}", headers=customer).status_code == 404
    assert client.get(f"{URL}/{package_id}").status_code == 404
    assert client.get(URL).get_json()["items"] == []
    assert (
        client.get(URL, headers=actors.headers("sales")).get_json()["meta"]["total"]
        == 1
    )
    row = stored(app, package_id)
    assert row["status"] == "pending_approval" and row["base_price"] == Decimal(
        "450.00"
    )


def test_edit_published_keeps_existing_bookings_untouched(client, actors, app):
    package_id = package_in(client, actors, "published")
    booking_id = _book(app, package_id, actors.account("customer")["id"])

    edit(client, package_id, actors.headers("operation"), base_price="999.00")

    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert booking.unit_price == Decimal("400.00") and booking.status == "confirmed"


def test_edit_published_starts_a_revision_by_the_editor(client, actors, app):
    maker = actors.employee("operation_head")
    package_id = create(client, maker["headers"])
    act(client, package_id, "submit", maker["headers"])
    first_checker = actors.employee("operation_head")
    assert (
        act(client, package_id, "approve", first_checker["headers"]).status_code == 200
    )

    edit(client, package_id, first_checker["headers"])

    assert stored(app, package_id)["revision_author_id"] == first_checker["id"]
    assert (
        act(client, package_id, "approve", first_checker["headers"]).status_code == 403
    )
    assert act(client, package_id, "approve", maker["headers"]).status_code == 200
    assert stored(app, package_id)["approved_by_id"] == maker["id"]


def test_edit_published_without_change_stays_published(client, actors, app):
    package_id = package_in(client, actors, "published")

    response = edit(
        client, package_id, actors.headers("operation"), title=BODY["title"]
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "published"
    assert stored(app, package_id)["status"] == "published"


def test_edit_archived_is_409(client, actors, app):
    package_id = package_in(client, actors, "archived")

    response = edit(client, package_id, actors.headers("admin"))

    assert response.status_code == 409
    assert stored(app, package_id)["title"] == BODY["title"]


# --- archive --------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", ["draft", "pending_approval", "published", "rejected"]
)
@pytest.mark.parametrize("role", ["admin", "operation_head"])
def test_archive_from_any_live_state(client, actors, app, state, role):
    package_id = package_in(client, actors, state)

    response = act(client, package_id, "archive", actors.employee(role)["headers"])

    assert response.status_code == 200
    assert response.get_json()["status"] == "archived"
    assert stored(app, package_id)["status"] == "archived"


def test_archive_archived_is_409(client, actors):
    package_id = package_in(client, actors, "archived")

    assert (
        act(client, package_id, "archive", actors.headers("admin")).status_code == 409
    )


@pytest.mark.parametrize(
    "role", ["operation", "hr", "sales", "finance", "customer", "anonymous"]
)
def test_archive_as_other_role_is_denied(client, actors, app, role):
    package_id = package_in(client, actors, "published")

    response = act(client, package_id, "archive", actors.headers(role))

    assert response.status_code == (401 if role == "anonymous" else 403)
    assert stored(app, package_id)["status"] == "published"


def test_archived_package_is_hidden_from_customers(client, actors):
    package_id = package_in(client, actors, "published")
    act(client, package_id, "archive", actors.headers("operation_head"))

    assert (
        client.get(
            f"{URL}/{package_id}", headers=actors.headers("customer")
        ).status_code
        == 404
    )
    assert client.get(URL).get_json()["items"] == []
    staff_view = client.get(f"{URL}/{package_id}", headers=actors.headers("finance"))
    assert staff_view.get_json()["status"] == "archived"


@pytest.mark.parametrize("action", ["submit", "approve", "reject", "archive"])
def test_action_on_unknown_package_is_404(client, actors, action):
    response = act(client, 999, action, actors.headers("admin"), reason="x")

    assert response.status_code == 404


def _book(app, package_id: int, customer_id: int) -> int:
    """A confirmed booking on a new departure of the package, straight in the DB."""
    with app.app_context():
        start = datetime.now(UTC).date() + timedelta(days=40)
        departure = Departure(
            package_id=package_id,
            start_date=start,
            end_date=start,
            capacity=5,
            seats_taken=1,
            price=Decimal("400.00"),
            currency="EUR",
        )
        db.session.add(departure)
        db.session.flush()
        booking = Booking(
            reference="ETTEST0001",
            customer_id=customer_id,
            departure_id=departure.id,
            seats=1,
            status="confirmed",
            currency="EUR",
            unit_price=Decimal("400.00"),
            total_amount=Decimal("400.00"),
            amount_paid=Decimal("400.00"),
        )
        db.session.add(booking)
        db.session.commit()
        return booking.id
