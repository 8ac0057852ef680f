"""Enquiries and their note threads: /api/v1/enquiries (docs/design.md "Lifecycles":
enquiry; "Accounts and roles": create enquiry, work enquiries)."""

from datetime import date, timedelta
from unittest.mock import ANY

import pytest
from sqlalchemy import func, select

from core.extensions import db
from models import Booking, Departure, Enquiry, EnquiryLostReason, EnquiryNote, Package
from models.enquiry import ENQUIRY_TRANSITIONS
from services.sales import lost_reasons
from tests.factories import (
    assert_problem,
    make_bare_package,
    make_departure,
    one_page_meta,
    raise_enquiry,
)

URL = "/api/v1/enquiries"
ROLES = [
    "admin",
    "hr",
    "sales",
    "operation",
    "operation_head",
    "finance",
    "customer",
    "anonymous",
]
DENIED_STAFF = ["hr", "operation", "operation_head", "finance"]


# --- helpers -------------------------------------------------------------------------


def add_note(client, headers, enquiry_id, body="A note"):
    """Post a note through the API; returns the response."""
    return client.post(
        f"{URL}/{enquiry_id}/notes", json={"body": body}, headers=headers
    )


def reason_id(app, code="other"):
    """The id of a default lost reason."""
    with app.app_context():
        lost_reasons.ensure_defaults()
        return db.session.scalar(
            select(EnquiryLostReason.id).where(EnquiryLostReason.code == code)
        )


def make_booking(app, client, actors, customer_id, **departure):
    """A held booking for the customer (made by sales through the API); its id."""
    departure_id = make_departure(app, **departure)
    response = client.post(
        "/api/v1/bookings",
        headers=actors.headers("sales"),
        json={"departure_id": departure_id, "seats": 1, "customer_id": customer_id},
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def set_status(app, enquiry_id, stage):
    """Force an enquiry's stage in the database (test setup): `lost` gets the reason
    `other`, `won` a booking of its customer."""
    rid = reason_id(app)
    with app.app_context():
        enquiry = db.session.get(Enquiry, enquiry_id)
        enquiry.lost_reason_id = rid if stage == "lost" else None
        if stage == "won" and enquiry.booking_id is None:
            booking = Booking(
                reference=f"ET-T{enquiry_id:05d}",
                customer_id=enquiry.customer_id,
                departure_id=_any_departure(app),
                seats=1,
                status="confirmed",
                currency="EUR",
                unit_price=1,
                total_amount=1,
                amount_paid=1,
            )
            db.session.add(booking)
            db.session.flush()
            enquiry.booking_id = booking.id
        enquiry.stage = stage
        db.session.commit()


def _any_departure(app):
    """A departure id to hang forced test bookings on (inside an app context)."""
    existing = db.session.scalar(select(Departure.id).limit(1))
    if existing is not None:
        return existing
    package = Package(
        title="Forced",
        destination="X",
        duration_days=1,
        base_price=1,
        currency="EUR",
        status="published",
    )
    departure = Departure(
        package=package,
        start_date=date.today() + timedelta(days=90),
        end_date=date.today() + timedelta(days=91),
        capacity=50,
        price=1,
        currency="EUR",
    )
    db.session.add_all([package, departure])
    db.session.flush()
    return departure.id


def stored(app, enquiry_id):
    """The enquiry row as a dict, or None when it does not exist."""
    with app.app_context():
        enquiry = db.session.get(Enquiry, enquiry_id)
        if enquiry is None:
            return None
        return {
            "status": enquiry.stage,
            "assigned_to_id": enquiry.assigned_to_id,
            "subject": enquiry.subject,
            "message": enquiry.message,
            "customer_id": enquiry.customer_id,
            "package_id": enquiry.package_id,
            "created_by_id": enquiry.created_by_id,
        }


def counts(app):
    """(number of enquiries, number of notes) in the database."""
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Enquiry)),
            db.session.scalar(select(func.count()).select_from(EnquiryNote)),
        )


def notes_of(app, enquiry_id):
    """Bodies of the stored notes of an enquiry, by id."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(EnquiryNote.body)
                .where(EnquiryNote.enquiry_id == enquiry_id)
                .order_by(EnquiryNote.id)
            )
        )


# --- create --------------------------------------------------------------------------


def test_create_customer_contact_us_is_new_and_own(app, client, actors):
    me = actors.customer()
    response = client.post(
        URL,
        json={"subject": "Visa help", "message": "Do I need a visa?"},
        headers=me["headers"],
    )
    assert response.status_code == 201
    body = response.json
    assert body["customer_id"] == me["id"]
    assert body["status"] == "new"
    assert body["package_id"] is None
    assert body["assigned_to_id"] is None
    assert body["created_by_id"] is None
    assert body["notes"] == []
    assert stored(app, body["id"]) == {
        "status": "new",
        "assigned_to_id": None,
        "subject": "Visa help",
        "message": "Do I need a visa?",
        "customer_id": me["id"],
        "package_id": None,
        "created_by_id": None,
    }


def test_create_customer_with_own_id_and_published_package(app, client, actors):
    me = actors.customer()
    package_id = make_bare_package(app)
    response = client.post(
        URL,
        json={
            "customer_id": me["id"],
            "package_id": package_id,
            "subject": "Dates",
            "message": "Any June dates?",
        },
        headers=me["headers"],
    )
    assert response.status_code == 201
    assert response.json["package_id"] == package_id
    assert stored(app, response.json["id"])["package_id"] == package_id


def test_create_customer_for_another_customer_is_422(app, client, actors):
    me, other = actors.customer(), actors.customer()
    response = client.post(
        URL,
        json={"customer_id": other["id"], "subject": "S", "message": "M"},
        headers=me["headers"],
    )
    assert response.status_code == 422
    assert "customer_id" in response.json["errors"]
    assert counts(app) == (0, 0)


def test_create_customer_unpublished_package_is_422(app, client, actors):
    me = actors.customer()
    for status in ("draft", "pending_approval", "archived"):
        package_id = make_bare_package(app, status=status)
        response = client.post(
            URL,
            json={"package_id": package_id, "subject": "S", "message": "M"},
            headers=me["headers"],
        )
        assert response.status_code == 422, status
        assert "package_id" in response.json["errors"]
    assert counts(app) == (0, 0)


@pytest.mark.parametrize("role", ["admin", "sales"])
def test_create_staff_for_customer_records_creator(app, client, actors, role):
    customer = actors.customer()
    staff = actors.account(role)
    package_id = make_bare_package(app, status="draft")
    response = client.post(
        URL,
        json={
            "customer_id": customer["id"],
            "package_id": package_id,
            "subject": "Phone call",
            "message": "Wants a quote",
        },
        headers=staff["headers"],
    )
    assert response.status_code == 201
    assert response.json["customer_id"] == customer["id"]
    assert response.json["created_by_id"] == staff["id"]
    row = stored(app, response.json["id"])
    assert row["created_by_id"] == staff["id"]
    assert row["package_id"] == package_id
    assert row["status"] == "new"


def test_create_staff_without_customer_id_is_422(app, client, actors):
    response = client.post(
        URL, json={"subject": "S", "message": "M"}, headers=actors.headers("sales")
    )
    assert response.status_code == 422
    assert "customer_id" in response.json["errors"]
    assert counts(app) == (0, 0)


def test_create_staff_unknown_customer_is_422(app, client, actors):
    response = client.post(
        URL,
        json={"customer_id": 999999, "subject": "S", "message": "M"},
        headers=actors.headers("admin"),
    )
    assert response.status_code == 422
    assert "customer_id" in response.json["errors"]
    assert counts(app) == (0, 0)


@pytest.mark.parametrize("role", ["sales", "customer"])
def test_create_unknown_package_is_422(app, client, actors, role):
    customer_id = actors.account("customer")["id"]
    response = client.post(
        URL,
        json={
            "customer_id": customer_id,
            "package_id": 424242,
            "subject": "S",
            "message": "M",
        },
        headers=actors.headers(role),
    )
    assert response.status_code == 422
    assert "package_id" in response.json["errors"]
    assert counts(app) == (0, 0)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"message": "M"}, "subject"),
        ({"subject": "S"}, "message"),
        ({"subject": "   ", "message": "M"}, "subject"),
        ({"subject": "x" * 201, "message": "M"}, "subject"),
        ({"subject": "S", "message": ""}, "message"),
        ({"subject": "S", "message": "M", "status": "closed"}, "status"),
        ({"subject": "S", "message": "M", "assigned_to_id": 1}, "assigned_to_id"),
        ({"subject": "S", "message": "M", "customer_id": "abc"}, "customer_id"),
        ({"subject": "S", "message": "M", "customer_id": 0}, "customer_id"),
        ({"subject": "S", "message": "M", "package_id": -1}, "package_id"),
        ({"subject": "S", "message": "M", "package_id": 2**40}, "package_id"),
        ({"subject": 5, "message": "M"}, "subject"),
    ],
)
def test_create_invalid_body_is_422_per_field(app, client, actors, body, field):
    body = {"customer_id": actors.account("customer")["id"], **body}
    response = client.post(URL, json=body, headers=actors.headers("sales"))
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert field in response.json["errors"]
    assert counts(app) == (0, 0)


def test_create_anonymous_with_bad_body_is_401(app, client):
    response = client.post(URL, json={"nonsense": True})
    assert response.status_code == 401
    assert counts(app) == (0, 0)


# --- open enquiries per customer (docs/security.md "Open enquiries per customer") ---


def raise_own(client, customer, n=1):
    """The customer raises an enquiry for themselves; returns the response."""
    return client.post(
        URL,
        json={"subject": f"Question {n}", "message": "Is breakfast included?"},
        headers=customer["headers"],
    )


def lose(client, actors, enquiry_id):
    """Sales marks the enquiry lost with the reason `other` (over the API)."""
    sales = actors.headers("sales")
    listed = client.get("/api/v1/enquiry-lost-reasons", headers=sales)
    assert listed.status_code == 200
    other = next(r["id"] for r in listed.json if r["code"] == "other")
    response = client.patch(
        f"{URL}/{enquiry_id}",
        json={"stage": "lost", "lost_reason_id": other},
        headers=sales,
    )
    assert response.status_code == 200, response.json
    assert response.json["stage"] == "lost"


def test_customer_open_enquiries_limit_is_409_before_any_write(app, client, actors):
    limit = app.config["MAX_OPEN_ENQUIRIES_PER_CUSTOMER"]
    me = actors.customer()
    for n in range(limit):
        assert raise_own(client, me, n).status_code == 201
    assert counts(app) == (limit, 0)

    response = raise_own(client, me, limit)

    body = assert_problem(response, 409)
    assert body["type"] == "/problems/open-enquiries-limit"
    assert body["title"] == "Conflict"
    assert (body["limit"], body["open_enquiries"]) == (limit, limit)
    assert "MAX_OPEN_ENQUIRIES_PER_CUSTOMER" in body["detail"]
    assert counts(app) == (limit, 0)
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Enquiry)
                .where(Enquiry.customer_id == me["id"])
            )
            == limit
        )


def test_customer_limit_counts_only_open_stages(app, client, actors):
    limit = app.config["MAX_OPEN_ENQUIRIES_PER_CUSTOMER"]
    me = actors.customer()
    ids = [raise_own(client, me, n).json["id"] for n in range(limit)]
    set_status(app, ids[0], "won")
    set_status(app, ids[1], "on_hold")
    set_status(app, ids[2], "quoted")

    # won no longer counts: one slot is free; on_hold and quoted still count
    assert raise_own(client, me, limit).status_code == 201
    assert raise_own(client, me, limit + 1).status_code == 409


def test_closing_an_enquiry_frees_a_slot(app, client, actors):
    limit = app.config["MAX_OPEN_ENQUIRIES_PER_CUSTOMER"]
    me = actors.customer()
    ids = [raise_own(client, me, n).json["id"] for n in range(limit)]
    assert raise_own(client, me, limit).status_code == 409

    lose(client, actors, ids[0])

    again = raise_own(client, me, limit)
    assert again.status_code == 201, again.json
    assert again.json["customer_id"] == me["id"]
    assert raise_own(client, me, limit + 1).status_code == 409


def test_staff_are_not_limited_for_a_customer(app, client, actors):
    limit = app.config["MAX_OPEN_ENQUIRIES_PER_CUSTOMER"]
    me = actors.customer()
    for n in range(limit):
        assert raise_own(client, me, n).status_code == 201

    by_sales = raise_enquiry(client, actors, me["id"])

    assert by_sales["customer_id"] == me["id"]
    assert by_sales["stage"] == "new"
    assert counts(app) == (limit + 1, 0)
    assert raise_own(client, me, limit + 1).status_code == 409


def test_limit_is_per_customer_and_from_config(app, client, actors, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_OPEN_ENQUIRIES_PER_CUSTOMER", 1)
    first, second = actors.customer(), actors.customer()
    assert raise_own(client, first).status_code == 201
    assert raise_own(client, second).status_code == 201

    refused = raise_own(client, first, 2)

    body = assert_problem(refused, 409)
    assert (body["limit"], body["open_enquiries"]) == (1, 1)


# --- role matrix ---------------------------------------------------------------------

PARTIES_ALL = ("admin", "sales", "customer")
ALLOWED = {
    # action: (method, path suffix, body, roles allowed, success status)
    "list": ("GET", "", None, PARTIES_ALL, 200),
    "create": ("POST", "", "create", PARTIES_ALL, 201),
    "detail": ("GET", "/{id}", None, PARTIES_ALL, 200),
    "update": ("PATCH", "/{id}", {"subject": "Changed"}, ("admin", "sales"), 200),
    "delete": ("DELETE", "/{id}", None, ("admin", "sales"), 204),
    "notes_list": ("GET", "/{id}/notes", None, PARTIES_ALL, 200),
    "notes_create": ("POST", "/{id}/notes", {"body": "Hello"}, PARTIES_ALL, 201),
}


def snapshot(app, enquiry_id):
    """Everything a denied request must leave untouched."""
    return counts(app), stored(app, enquiry_id)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ALLOWED))
def test_role_matrix(app, client, actors, action, role):
    method, suffix, body, allowed, success = ALLOWED[action]
    customer = actors.account("customer")
    enquiry = raise_enquiry(client, actors, customer["id"])
    if body == "create":
        body = {"customer_id": customer["id"], "subject": "S", "message": "M"}
    before = snapshot(app, enquiry["id"])
    response = client.open(
        URL + suffix.format(id=enquiry["id"]),
        method=method,
        json=body,
        headers=actors.headers(role),
    )
    expected = success if role in allowed else 401 if role == "anonymous" else 403
    assert response.status_code == expected, response.json
    if expected in (401, 403):
        assert response.json["status"] == expected
        assert snapshot(app, enquiry["id"]) == before
    elif method != "GET":
        assert snapshot(app, enquiry["id"]) != before


# --- list ----------------------------------------------------------------------------


def test_list_staff_sees_all_newest_first_paginated(app, client, actors):
    first, second = actors.customer(), actors.customer()
    ids = [
        raise_enquiry(client, actors, c["id"], subject=f"S{n}")["id"]
        for n, c in enumerate([first, second, first])
    ]
    response = client.get(f"{URL}?per_page=2", headers=actors.headers("admin"))
    assert response.status_code == 200
    assert [e["id"] for e in response.json["items"]] == [ids[2], ids[1]]
    assert response.json["meta"] == {
        "page": 1,
        "per_page": 2,
        "total": 3,
        "pages": 2,
        "has_more": True,
        "next_cursor": ANY,
        "total_is_estimate": False,
    }
    assert "notes" not in response.json["items"][0]
    page2 = client.get(f"{URL}?per_page=2&page=2", headers=actors.headers("admin"))
    assert [e["id"] for e in page2.json["items"]] == [ids[0]]


def test_list_customer_sees_only_own(app, client, actors):
    me, other = actors.customer(), actors.customer()
    mine = raise_enquiry(client, actors, me["id"])["id"]
    raise_enquiry(client, actors, other["id"])
    response = client.get(URL, headers=me["headers"])
    assert response.status_code == 200
    assert [e["id"] for e in response.json["items"]] == [mine]
    assert response.json["meta"]["total"] == 1


def test_list_customer_filter_on_other_customer_is_empty(app, client, actors):
    me, other = actors.customer(), actors.customer()
    raise_enquiry(client, actors, me["id"])
    raise_enquiry(client, actors, other["id"])
    response = client.get(f"{URL}?customer_id={other['id']}", headers=me["headers"])
    assert response.status_code == 200
    assert response.json["items"] == []
    assert response.json["meta"]["total"] == 0


def test_list_customer_status_filter_applies(app, client, actors):
    me = actors.customer()
    new_id = raise_enquiry(client, actors, me["id"])["id"]
    done_id = raise_enquiry(client, actors, me["id"])["id"]
    set_status(app, done_id, "on_hold")
    response = client.get(f"{URL}?status=new", headers=me["headers"])
    assert [e["id"] for e in response.json["items"]] == [new_id]


def test_list_filters_status_assigned_to_and_customer(app, client, actors):
    first, second = actors.customer(), actors.customer()
    seller = actors.employee("admin")  # not in the round-robin pool
    a = raise_enquiry(client, actors, first["id"])["id"]
    b = raise_enquiry(client, actors, second["id"])["id"]
    c = raise_enquiry(client, actors, first["id"])["id"]
    headers = actors.headers("admin")
    assigned = client.patch(
        f"{URL}/{b}", json={"assigned_to_id": seller["id"]}, headers=headers
    )
    assert assigned.status_code == 200
    set_status(app, b, "contacted")
    set_status(app, c, "lost")

    def ids(query):
        response = client.get(f"{URL}?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [e["id"] for e in response.json["items"]]

    assert ids("status=new") == [a]
    assert ids("status=contacted") == [b]
    assert ids(f"assigned_to={seller['id']}") == [b]
    assert ids(f"customer_id={first['id']}") == [c, a]
    assert ids(f"customer_id={first['id']}&status=lost") == [c]
    assert ids(f"customer_id={second['id']}&status=new") == []


def test_list_q_matches_subject_or_message_case_insensitively(app, client, actors):
    customer = actors.customer()
    by_subject = raise_enquiry(client, actors, customer["id"], subject="SAFARI dates")[
        "id"
    ]
    by_message = raise_enquiry(
        client, actors, customer["id"], subject="Other", message="a kenyan Safari?"
    )["id"]
    raise_enquiry(client, actors, customer["id"], subject="Cruise", message="Boat")
    response = client.get(f"{URL}?q=safari", headers=actors.headers("sales"))
    assert response.status_code == 200
    assert [e["id"] for e in response.json["items"]] == [by_message, by_subject]


def test_list_q_treats_wildcards_literally(app, client, actors):
    customer = actors.customer()
    literal = raise_enquiry(client, actors, customer["id"], subject="100% refund?")[
        "id"
    ]
    raise_enquiry(client, actors, customer["id"], subject="1000 euros")
    response = client.get(f"{URL}?q=0%25", headers=actors.headers("sales"))
    assert [e["id"] for e in response.json["items"]] == [literal]


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=open", "query.status"),
        ("assigned_to=abc", "query.assigned_to"),
        ("customer_id=0", "query.customer_id"),
        ("per_page=101", "query.per_page"),
        ("sort=subject", "query.sort"),
    ],
)
def test_list_invalid_query_is_422(app, client, actors, query, field):
    response = client.get(f"{URL}?{query}", headers=actors.headers("sales"))
    assert response.status_code == 422
    assert field in response.json["errors"]


# --- detail --------------------------------------------------------------------------


def test_detail_includes_notes_oldest_first(app, client, actors):
    me = actors.customer()
    enquiry_id = raise_enquiry(client, actors, me["id"])["id"]
    assert (
        add_note(client, actors.headers("sales"), enquiry_id, "first").status_code
        == 201
    )
    assert add_note(client, me["headers"], enquiry_id, "second").status_code == 201
    for headers in (actors.headers("admin"), me["headers"]):
        response = client.get(f"{URL}/{enquiry_id}", headers=headers)
        assert response.status_code == 200
        assert response.json["id"] == enquiry_id
        assert [n["body"] for n in response.json["notes"]] == ["first", "second"]
        assert [n["author_type"] for n in response.json["notes"]] == [
            "employee",
            "customer",
        ]


def test_detail_other_customers_enquiry_is_404(app, client, actors):
    owner, stranger = actors.customer(), actors.customer()
    enquiry_id = raise_enquiry(client, actors, owner["id"])["id"]
    response = client.get(f"{URL}/{enquiry_id}", headers=stranger["headers"])
    assert response.status_code == 404
    assert response.json["status"] == 404


@pytest.mark.parametrize("enquiry_id", [987654, 2147483647, 2147483648, 99999999999])
def test_detail_unknown_id_is_404(app, client, actors, enquiry_id):
    response = client.get(f"{URL}/{enquiry_id}", headers=actors.headers("sales"))
    assert response.status_code == 404


# --- update: stage transitions ------------------------------------------------------

STAGES = ["new", "contacted", "quoted", "on_hold", "lost", "won"]
ALLOWED_TRANSITIONS = [
    (a, b) for a, targets in ENQUIRY_TRANSITIONS.items() for b in targets if b != "won"
]
FORBIDDEN_TRANSITIONS = [
    (a, b)
    for a in STAGES
    for b in STAGES
    if a != b and b != "won" and (a, b) not in ALLOWED_TRANSITIONS
]


def stage_body(app, target):
    """The PATCH body moving to `target` (lost needs a reason)."""
    if target == "lost":
        return {"stage": "lost", "lost_reason_id": reason_id(app, "price")}
    return {"stage": target}


@pytest.mark.parametrize("current, target", ALLOWED_TRANSITIONS)
def test_update_stage_allowed_transition(app, client, actors, current, target):
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    set_status(app, enquiry_id, current)
    response = client.patch(
        f"{URL}/{enquiry_id}",
        json=stage_body(app, target),
        headers=actors.headers("sales"),
    )
    assert response.status_code == 200, response.json
    assert response.json["stage"] == target
    assert stored(app, enquiry_id)["status"] == target
    history = response.json["stage_history"]
    assert (history[-1]["from_stage"], history[-1]["to_stage"]) == (current, target)


@pytest.mark.parametrize("current, target", FORBIDDEN_TRANSITIONS)
def test_update_stage_forbidden_transition_is_409(app, client, actors, current, target):
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    set_status(app, enquiry_id, current)
    response = client.patch(
        f"{URL}/{enquiry_id}",
        json={**stage_body(app, target), "subject": "Not saved"},
        headers=actors.headers("admin"),
    )
    assert response.status_code == 409
    assert response.json["status"] == 409
    assert response.json["current_stage"] == current
    assert stored(app, enquiry_id)["status"] == current
    assert stored(app, enquiry_id)["subject"] == "Trip question"


def test_forbidden_transitions_cover_the_rest():
    assert len(ALLOWED_TRANSITIONS) + len(FORBIDDEN_TRANSITIONS) == 25
    assert ("won", "contacted") in FORBIDDEN_TRANSITIONS
    assert ("new", "new") not in FORBIDDEN_TRANSITIONS
    assert ("lost", "contacted") in ALLOWED_TRANSITIONS


@pytest.mark.parametrize("stage", STAGES)
def test_update_same_stage_is_a_noop(app, client, actors, stage):
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    set_status(app, enquiry_id, stage)
    response = client.patch(
        f"{URL}/{enquiry_id}",
        json={"stage": stage} if stage != "won" else {},
        headers=actors.headers("sales"),
    )
    assert response.status_code == 200
    assert stored(app, enquiry_id)["status"] == stage


# --- update: assignment and fields ---------------------------------------------------


@pytest.mark.parametrize("role", ["sales", "admin"])
def test_update_manual_assign_keeps_stage_and_history(app, client, actors, role):
    sales = actors.account("sales")
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    assignee = actors.employee(role)
    response = client.patch(
        f"{URL}/{enquiry_id}",
        json={"assigned_to_id": assignee["id"]},
        headers=actors.headers("admin"),
    )
    assert response.status_code == 200
    assert response.json["assigned_to_id"] == assignee["id"]
    assert response.json["stage"] == "new"
    history = [
        (a["method"], a["previous_employee_id"], a["employee_id"])
        for a in response.json["assignments"]
    ]
    assert history == [
        ("round_robin", None, sales["id"]),
        ("manual", sales["id"], assignee["id"]),
    ]
    row = stored(app, enquiry_id)
    assert (row["assigned_to_id"], row["status"]) == (assignee["id"], "new")


def test_update_unassign_with_null_keeps_stage(app, client, actors):
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    set_status(app, enquiry_id, "contacted")
    response = client.patch(
        f"{URL}/{enquiry_id}",
        json={"assigned_to_id": None},
        headers=actors.headers("sales"),
    )
    assert response.status_code == 200
    assert response.json["assigned_to_id"] is None
    assert response.json["assignments"][-1]["method"] == "manual"
    row = stored(app, enquiry_id)
    assert (row["assigned_to_id"], row["status"]) == (None, "contacted")


@pytest.mark.parametrize(
    "kind", ["hr", "finance", "operation", "inactive_sales", "unknown"]
)
def test_update_assign_to_unassignable_employee_is_422(app, client, actors, kind):
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    before = stored(app, enquiry_id)
    if kind == "unknown":
        assignee_id = 777777
    elif kind == "inactive_sales":
        assignee_id = actors.employee("sales", active=False)["id"]
    else:
        assignee_id = actors.employee(kind)["id"]
    response = client.patch(
        f"{URL}/{enquiry_id}",
        json={"assigned_to_id": assignee_id},
        headers=actors.headers("admin"),
    )
    assert response.status_code == 422
    assert "assigned_to_id" in response.json["errors"]
    assert stored(app, enquiry_id) == before


def test_update_subject_and_message(app, client, actors):
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    response = client.patch(
        f"{URL}/{enquiry_id}",
        json={"subject": "  New subject ", "message": "New text"},
        headers=actors.headers("sales"),
    )
    assert response.status_code == 200
    assert response.json["subject"] == "New subject"
    row = stored(app, enquiry_id)
    assert (row["subject"], row["message"], row["status"]) == (
        "New subject",
        "New text",
        "new",
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"status": "open"}, "status"),
        ({"status": None}, "status"),
        ({"customer_id": 1}, "customer_id"),
        ({"package_id": 1}, "package_id"),
        ({"created_by_id": 1}, "created_by_id"),
        ({"subject": ""}, "subject"),
        ({"assigned_to_id": "me"}, "assigned_to_id"),
        ({"assigned_to_id": 0}, "assigned_to_id"),
    ],
)
def test_update_invalid_body_is_422(app, client, actors, body, field):
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    response = client.patch(
        f"{URL}/{enquiry_id}", json=body, headers=actors.headers("sales")
    )
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert stored(app, enquiry_id)["subject"] == "Trip question"


def test_update_customer_own_enquiry_is_403(app, client, actors):
    me = actors.customer()
    enquiry_id = raise_enquiry(client, actors, me["id"])["id"]
    response = client.patch(
        f"{URL}/{enquiry_id}", json={"status": "closed"}, headers=me["headers"]
    )
    assert response.status_code == 403
    assert stored(app, enquiry_id)["status"] == "new"


def test_update_unknown_enquiry_is_404(app, client, actors):
    response = client.patch(
        f"{URL}/5555", json={"subject": "x"}, headers=actors.headers("sales")
    )
    assert response.status_code == 404


# --- delete --------------------------------------------------------------------------


def test_delete_removes_enquiry_and_its_notes(app, client, actors):
    me = actors.customer()
    enquiry_id = raise_enquiry(client, actors, me["id"])["id"]
    kept_id = raise_enquiry(client, actors, me["id"])["id"]
    add_note(client, actors.headers("sales"), enquiry_id, "staff")
    add_note(client, me["headers"], enquiry_id, "customer")
    add_note(client, me["headers"], kept_id, "other thread")
    assert counts(app) == (2, 3)
    response = client.delete(f"{URL}/{enquiry_id}", headers=actors.headers("admin"))
    assert response.status_code == 204
    assert response.data == b""
    assert stored(app, enquiry_id) is None
    assert notes_of(app, enquiry_id) == []
    assert counts(app) == (1, 1)
    assert (
        client.get(f"{URL}/{enquiry_id}", headers=actors.headers("admin")).status_code
        == 404
    )


def test_delete_unknown_enquiry_is_404(app, client, actors):
    response = client.delete(f"{URL}/31337", headers=actors.headers("sales"))
    assert response.status_code == 404


def test_delete_customer_own_enquiry_is_403(app, client, actors):
    me = actors.customer()
    enquiry_id = raise_enquiry(client, actors, me["id"])["id"]
    response = client.delete(f"{URL}/{enquiry_id}", headers=me["headers"])
    assert response.status_code == 403
    assert stored(app, enquiry_id) is not None


# --- notes ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "sales"])
def test_notes_create_staff_note(app, client, actors, role):
    staff = actors.employee(role, name="Sam Seller")
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    response = add_note(client, staff["headers"], enquiry_id, "Called the customer")
    assert response.status_code == 201
    note = response.json
    assert note["body"] == "Called the customer"
    assert note["enquiry_id"] == enquiry_id
    assert note["author_type"] == "employee"
    assert note["author_employee_id"] == staff["id"]
    assert note["author_customer_id"] is None
    assert note["author_name"] == "Sam Seller"
    assert note["created_at"]
    assert notes_of(app, enquiry_id) == ["Called the customer"]
    assert stored(app, enquiry_id)["status"] == "new"


def test_notes_create_customer_reply(app, client, actors):
    me = actors.customer(name="Cora Customer")
    enquiry_id = raise_enquiry(client, actors, me["id"])["id"]
    set_status(app, enquiry_id, "contacted")
    response = add_note(client, me["headers"], enquiry_id, "Thanks!")
    assert response.status_code == 201
    assert response.json["author_type"] == "customer"
    assert response.json["author_customer_id"] == me["id"]
    assert response.json["author_employee_id"] is None
    assert response.json["author_name"] == "Cora Customer"
    assert notes_of(app, enquiry_id) == ["Thanks!"]
    assert stored(app, enquiry_id)["status"] == "contacted"


def test_notes_customer_reply_resumes_on_hold_enquiry(app, client, actors):
    me = actors.customer()
    enquiry_id = raise_enquiry(client, actors, me["id"])["id"]
    set_status(app, enquiry_id, "on_hold")
    response = add_note(client, me["headers"], enquiry_id, "Still broken")
    assert response.status_code == 201
    assert stored(app, enquiry_id)["status"] == "contacted"


@pytest.mark.parametrize("stage", ["lost", "won"])
def test_notes_customer_on_closed_enquiry_is_409(app, client, actors, stage):
    me = actors.customer()
    enquiry_id = raise_enquiry(client, actors, me["id"])["id"]
    set_status(app, enquiry_id, stage)
    response = add_note(client, me["headers"], enquiry_id, "Hello?")
    assert response.status_code == 409
    assert notes_of(app, enquiry_id) == []
    assert stored(app, enquiry_id)["status"] == stage


def test_notes_staff_on_closed_enquiry_is_allowed(app, client, actors):
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    set_status(app, enquiry_id, "lost")
    response = add_note(client, actors.headers("sales"), enquiry_id, "Spam, ignored")
    assert response.status_code == 201
    assert notes_of(app, enquiry_id) == ["Spam, ignored"]
    assert stored(app, enquiry_id)["status"] == "lost"


def test_notes_other_customers_enquiry_is_404(app, client, actors):
    owner, stranger = actors.customer(), actors.customer()
    enquiry_id = raise_enquiry(client, actors, owner["id"])["id"]
    add_note(client, actors.headers("sales"), enquiry_id, "private to owner")
    listed = client.get(f"{URL}/{enquiry_id}/notes", headers=stranger["headers"])
    posted = add_note(client, stranger["headers"], enquiry_id, "intrusion")
    assert listed.status_code == 404
    assert posted.status_code == 404
    assert notes_of(app, enquiry_id) == ["private to owner"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_notes_unknown_enquiry_is_404(app, client, actors, method):
    response = client.open(
        f"{URL}/4040/notes",
        method=method,
        json={"body": "x"} if method == "POST" else None,
        headers=actors.headers("sales"),
    )
    assert response.status_code == 404
    assert counts(app) == (0, 0)


def test_notes_list_oldest_first_and_reversible(app, client, actors):
    me = actors.customer()
    enquiry_id = raise_enquiry(client, actors, me["id"])["id"]
    other_id = raise_enquiry(client, actors, me["id"])["id"]
    for n, headers in enumerate(
        [actors.headers("sales"), me["headers"], actors.headers("admin")]
    ):
        assert add_note(client, headers, enquiry_id, f"n{n}").status_code == 201
    add_note(client, me["headers"], other_id, "elsewhere")
    response = client.get(f"{URL}/{enquiry_id}/notes", headers=me["headers"])
    assert response.status_code == 200
    assert [n["body"] for n in response.json["items"]] == ["n0", "n1", "n2"]
    assert response.json["meta"] == one_page_meta(3)
    reverse = client.get(
        f"{URL}/{enquiry_id}/notes?sort=-created_at&per_page=2",
        headers=actors.headers("sales"),
    )
    assert [n["body"] for n in reverse.json["items"]] == ["n2", "n1"]
    assert reverse.json["meta"]["pages"] == 2


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": " \n "}, "body"),
        ({"body": None}, "body"),
        ({"body": "x" * 10001}, "body"),
        ({"body": "ok", "author_type": "employee"}, "author_type"),
    ],
)
def test_notes_create_invalid_body_is_422(app, client, actors, body, field):
    me = actors.customer()
    enquiry_id = raise_enquiry(client, actors, me["id"])["id"]
    response = client.post(
        f"{URL}/{enquiry_id}/notes", json=body, headers=me["headers"]
    )
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert notes_of(app, enquiry_id) == []


def test_notes_list_invalid_sort_is_422(app, client, actors):
    enquiry_id = raise_enquiry(client, actors, actors.customer()["id"])["id"]
    response = client.get(
        f"{URL}/{enquiry_id}/notes?sort=body", headers=actors.headers("sales")
    )
    assert response.status_code == 422
    assert "query.sort" in response.json["errors"]


def test_note_touches_enquiry_updated_at(app, client, actors):
    enquiry = raise_enquiry(client, actors, actors.customer()["id"])
    add_note(client, actors.headers("sales"), enquiry["id"])
    after = client.get(f"{URL}/{enquiry['id']}", headers=actors.headers("sales")).json
    assert after["updated_at"] > enquiry["updated_at"]
