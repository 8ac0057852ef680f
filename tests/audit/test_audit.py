"""The audit log (docs/design.md "Resource map": GET /audit): every
audited action leaves one entry with its actor, record and details after the HTTP
call; a refused action leaves none; failed logins are kept without the password;
only admins read the log, with filters and pagination; the table is append-only in
the ORM and in the database (SQLite and PostgreSQL, create_all and migrations)."""

import json
from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import pytest
from flask import g
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from core.extensions import db
from models import AuditEntry, Enquiry
from models.audit import AppendOnlyViolation
from routes.common.request_facts import request_facts
from services.audit import audit
from tests.conftest import PASSWORD, TEST_DB_URL, empty_tables, flask_cli
from tests.factories import CANCEL_URL, make_cancellable_departure, make_paid_booking

API = "/api/v1"
AUDIT = f"{API}/audit"


def rows(app, action=None, **filters) -> list[dict]:
    """Audit entries as dicts, oldest first, optionally of one `action`."""
    with app.app_context():
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        for name, value in filters.items():
            stmt = stmt.where(getattr(AuditEntry, name) == value)
        return [
            {c.name: getattr(entry, c.name) for c in AuditEntry.__table__.columns}
            for entry in db.session.scalars(stmt)
        ]


def one(app, action, **filters) -> dict:
    found = rows(app, action, **filters)
    assert len(found) == 1, (action, found, rows(app))
    return found[0]


def actor_of(entry) -> tuple:
    return entry["actor_type"], entry["actor_id"], entry["actor_email"]


def entity_of(entry) -> tuple:
    return entry["entity_type"], entry["entity_id"]


# --- logins ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["employee", "customer"])
def test_login_success_recorded(app, client, actors, kind):
    me = actors.employee("sales") if kind == "employee" else actors.customer()

    resp = client.post(
        f"{API}/auth/login",
        json={"email": me["email"], "password": PASSWORD, "account": kind},
    )

    assert resp.status_code == 200
    entry = one(app, "auth.login")
    assert actor_of(entry) == (kind, me["id"], me["email"])
    assert entity_of(entry) == (kind, me["id"])
    assert entry["details"] == {"method": "password"}
    assert entry["ip"] == "127.0.0.1"
    assert entry["occurred_at"].tzinfo is not None


def test_entry_carries_the_request_id_of_the_request(app, client, actors):
    me = actors.customer()

    resp = client.post(
        f"{API}/auth/login",
        headers={"X-Request-ID": "audit-req-42"},
        json={"email": me["email"], "password": PASSWORD, "account": "customer"},
    )

    assert resp.status_code == 200
    assert one(app, "auth.login")["request_id"] == "audit-req-42"


@pytest.mark.parametrize("kind", ["employee", "customer"])
def test_login_wrong_password_recorded_without_password(app, client, actors, kind):
    me = actors.employee("finance") if kind == "employee" else actors.customer()
    secret = "not-the-password-XYZ"

    resp = client.post(
        f"{API}/auth/login",
        json={"email": me["email"].upper(), "password": secret, "account": kind},
    )

    assert resp.status_code == 401
    entry = one(app, "auth.login_failed")
    assert actor_of(entry) == (kind, me["id"], me["email"])
    assert entity_of(entry) == (kind, me["id"])
    assert entry["details"] == {"method": "password", "reason": "wrong-password"}
    assert secret not in json.dumps(entry, default=str)
    assert rows(app, "auth.login") == []


def test_login_unknown_email_recorded_with_email_tried(app, client):
    resp = client.post(
        f"{API}/auth/login",
        json={
            "email": "Nobody@Example.test",
            "password": "whatever-123",
            "account": "employee",
        },
    )

    assert resp.status_code == 401
    entry = one(app, "auth.login_failed")
    assert actor_of(entry) == ("employee", None, "nobody@example.test")
    assert entity_of(entry) == ("employee", None)
    assert entry["details"]["reason"] == "unknown-account"
    assert "whatever-123" not in json.dumps(entry, default=str)


def test_login_inactive_account_recorded(app, client, actors):
    me = actors.employee("sales", active=False)

    resp = client.post(
        f"{API}/auth/login",
        json={"email": me["email"], "password": PASSWORD, "account": "employee"},
    )

    assert resp.status_code == 401
    entry = one(app, "auth.login_failed")
    assert entry["actor_id"] == me["id"] and entry["details"]["reason"] == "inactive"


def test_otp_login_failure_and_success_recorded(app, client, actors, mailbox):
    me = actors.customer()
    body = {"email": me["email"], "account": "customer"}
    assert client.post(f"{API}/auth/login/otp", json=body).status_code == 202
    code = mailbox.last_code(me["email"])
    wrong = "000000" if code != "000000" else "111111"

    assert (
        client.post(
            f"{API}/auth/login/otp/verify", json={**body, "otp": wrong}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"{API}/auth/login/otp/verify", json={**body, "otp": code}
        ).status_code
        == 200
    )

    failed = one(app, "auth.login_failed")
    assert actor_of(failed) == ("customer", me["id"], me["email"])
    assert failed["details"] == {"method": "otp", "reason": "invalid-code"}
    assert wrong not in json.dumps(failed["details"])
    assert one(app, "auth.login")["details"] == {"method": "otp"}


def test_password_reset_recorded(app, client, actors, mailbox):
    me = actors.customer()
    body = {"email": me["email"], "account": "customer"}
    client.post(f"{API}/auth/password/forgot", json=body)
    code = mailbox.last_code(me["email"])

    resp = client.post(
        f"{API}/auth/password/reset",
        json={**body, "otp": code, "new_password": "brand-new-pass-1"},
    )

    assert resp.status_code == 204
    entry = one(app, "auth.password_changed")
    assert actor_of(entry) == ("customer", me["id"], me["email"])
    assert entry["details"] == {"via": "reset"}
    assert "brand-new-pass-1" not in json.dumps(entry, default=str)


# --- employees and customers -----------------------------------------------------


def test_employee_created_recorded(app, client, actors):
    admin = actors.account("admin")

    resp = client.post(
        f"{API}/employees",
        headers=admin["headers"],
        json={
            "name": "New Hire",
            "email": "hire@staff.test",
            "role": "sales",
            "password": "initial-pass-1",
        },
    )

    assert resp.status_code == 201
    entry = one(app, "employee.created")
    assert actor_of(entry) == ("employee", admin["id"], admin["email"])
    assert entity_of(entry) == ("employee", resp.get_json()["id"])
    assert entry["details"] == {"email": "hire@staff.test", "role": "sales"}


def test_role_change_recorded_with_from_and_to(app, client, actors):
    admin = actors.account("admin")
    target = actors.employee("sales")

    resp = client.patch(
        f"{API}/employees/{target['id']}",
        json={"role": "finance"},
        headers=admin["headers"],
    )

    assert resp.status_code == 200
    entry = one(app, "employee.role_changed")
    assert actor_of(entry)[:2] == ("employee", admin["id"])
    assert entity_of(entry) == ("employee", target["id"])
    assert entry["details"] == {"from": "sales", "to": "finance"}
    assert rows(app, "employee.updated") == []


def test_deactivation_and_reactivation_recorded(app, client, actors):
    admin = actors.account("admin")
    target = actors.employee("operation")
    url = f"{API}/employees/{target['id']}"

    assert (
        client.patch(url, json={"active": False}, headers=admin["headers"]).status_code
        == 200
    )
    assert (
        client.patch(url, json={"active": True}, headers=admin["headers"]).status_code
        == 200
    )
    assert client.delete(url, headers=admin["headers"]).status_code == 204
    assert client.delete(url, headers=admin["headers"]).status_code == 204  # idempotent

    actions = [(e["action"], e["details"]) for e in rows(app, entity_type="employee")]
    assert actions == [
        ("employee.deactivated", None),
        ("employee.reactivated", None),
        ("employee.deactivated", {"via": "delete"}),
    ]


def test_contact_edit_recorded_with_field_names(app, client, actors):
    hr = actors.account("hr")
    target = actors.employee("sales", name="Same Name")

    resp = client.patch(
        f"{API}/employees/{target['id']}",
        json={"phone": "+1 555 0199", "name": "Same Name"},
        headers=hr["headers"],
    )

    assert resp.status_code == 200
    entry = one(app, "employee.updated")
    assert entry["actor_id"] == hr["id"] and entry["details"] == {"fields": ["phone"]}


def test_refused_self_demotion_leaves_no_entry(app, client, actors):
    admin = actors.account("admin")

    resp = client.patch(
        f"{API}/employees/{admin['id']}",
        json={"role": "sales"},
        headers=admin["headers"],
    )

    assert resp.status_code == 409
    assert rows(app) == []


def test_customer_deleted_and_deactivated_recorded(app, client, actors):
    sales = actors.account("sales")
    gone, paused = actors.customer(), actors.customer()

    assert (
        client.patch(
            f"{API}/customers/{paused['id']}",
            json={"active": False},
            headers=sales["headers"],
        ).status_code
        == 200
    )
    assert (
        client.delete(
            f"{API}/customers/{gone['id']}", headers=sales["headers"]
        ).status_code
        == 204
    )

    deleted = one(app, "customer.deleted")
    assert actor_of(deleted)[:2] == ("employee", sales["id"])
    assert entity_of(deleted) == ("customer", gone["id"])
    assert deleted["details"] == {"email": gone["email"]}
    assert entity_of(one(app, "customer.deactivated")) == ("customer", paused["id"])


def test_refused_customer_delete_leaves_no_entry(app, client, actors):
    me = actors.customer()
    make_paid_booking(
        app, departure_id=make_cancellable_departure(app), customer_id=me["id"]
    )

    resp = client.delete(f"{API}/customers/{me['id']}", headers=actors.headers("admin"))

    assert resp.status_code == 409
    assert rows(app) == []


# --- packages, departures, enquiries ---------------------------------------------


def _package(client, headers) -> int:
    resp = client.post(
        f"{API}/packages",
        headers=headers,
        json={
            "title": "Audit Tour",
            "destination": "Rome",
            "duration_days": 2,
            "base_price": "300.00",
            "itinerary": [{"day_number": 1, "title": "Day one", "description": "Walk"}],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_package_workflow_recorded(app, client, actors):
    maker = actors.account("operation")
    checker = actors.account("operation_head")
    pid = _package(client, maker["headers"])
    base = f"{API}/packages/{pid}"

    assert client.post(f"{base}/submit", headers=maker["headers"]).status_code == 200
    assert (
        client.post(
            f"{base}/reject",
            json={"reason": "Prices missing"},
            headers=checker["headers"],
        ).status_code
        == 200
    )
    assert (
        client.patch(
            base, json={"title": "Audit Tour II"}, headers=maker["headers"]
        ).status_code
        == 200
    )
    assert client.post(f"{base}/submit", headers=maker["headers"]).status_code == 200
    assert client.post(f"{base}/approve", headers=checker["headers"]).status_code == 200
    assert client.post(f"{base}/archive", headers=checker["headers"]).status_code == 200

    got = [(e["action"], e["actor_id"], e["details"]) for e in rows(app, entity_id=pid)]
    assert got == [
        ("package.submitted", maker["id"], {"from": "draft", "to": "pending_approval"}),
        (
            "package.rejected",
            checker["id"],
            {"from": "pending_approval", "to": "rejected", "reason": "Prices missing"},
        ),
        ("package.submitted", maker["id"], {"from": "draft", "to": "pending_approval"}),
        (
            "package.approved",
            checker["id"],
            {"from": "pending_approval", "to": "published"},
        ),
        ("package.archived", checker["id"], {"from": "published", "to": "archived"}),
    ]
    assert {e["entity_type"] for e in rows(app)} == {"package"}


def test_maker_cannot_approve_and_leaves_no_entry(app, client, actors):
    maker = actors.account("operation_head")
    pid = _package(client, maker["headers"])
    client.post(f"{API}/packages/{pid}/submit", headers=maker["headers"])

    resp = client.post(f"{API}/packages/{pid}/approve", headers=maker["headers"])

    assert resp.status_code == 403
    assert rows(app, "package.approved") == []


def test_package_deleted_recorded(app, client, actors):
    op = actors.account("operation")
    pid = _package(client, op["headers"])

    assert (
        client.delete(f"{API}/packages/{pid}", headers=op["headers"]).status_code == 204
    )

    entry = one(app, "package.deleted")
    assert entity_of(entry) == ("package", pid) and entry["actor_id"] == op["id"]
    assert entry["details"] == {"title": "Audit Tour", "status": "draft"}


def test_departure_deleted_recorded(app, client, actors):
    op = actors.account("operation_head")
    dep = make_cancellable_departure(app)

    assert (
        client.delete(f"{API}/departures/{dep}", headers=op["headers"]).status_code
        == 204
    )

    entry = one(app, "departure.deleted")
    assert entity_of(entry) == ("departure", dep) and entry["actor_id"] == op["id"]
    assert set(entry["details"]) == {"package_id", "start_date"}


def test_enquiry_deleted_recorded(app, client, actors):
    me = actors.customer()
    with app.app_context():
        enquiry = Enquiry(
            customer_id=me["id"], subject="Visa?", message="Do I need one?"
        )
        db.session.add(enquiry)
        db.session.commit()
        eid = enquiry.id
    sales = actors.account("sales")

    assert (
        client.delete(f"{API}/enquiries/{eid}", headers=sales["headers"]).status_code
        == 204
    )

    entry = one(app, "enquiry.deleted")
    assert entity_of(entry) == ("enquiry", eid) and entry["actor_id"] == sales["id"]
    assert entry["details"] == {"customer_id": me["id"], "subject": "Visa?"}


# --- money -----------------------------------------------------------------------


def test_payment_recorded(app, client, actors):
    finance = actors.account("finance")
    me = actors.customer()
    bid = make_paid_booking(
        app,
        departure_id=make_cancellable_departure(app, price="500.00"),
        customer_id=me["id"],
        seats=1,
        status="held",
    )

    resp = client.post(
        f"{API}/bookings/{bid}/payments",
        headers=finance["headers"],
        json={"amount": "500.00", "method": "bank_transfer", "reference": "BT-9"},
    )

    assert resp.status_code == 201, resp.get_json()
    entry = one(app, "payment.recorded")
    assert actor_of(entry) == ("employee", finance["id"], finance["email"])
    assert entity_of(entry) == ("payment", resp.get_json()["id"])
    assert entry["details"] == {
        "booking_id": bid,
        "booking_reference": resp.get_json()["booking"]["reference"],
        "amount": "500.00",
        "currency": "EUR",
        "method": "bank_transfer",
        "reference": "BT-9",
        "confirmed": True,
    }


def test_refused_payment_leaves_no_entry(app, client, actors):
    me = actors.customer()
    bid = make_paid_booking(
        app,
        departure_id=make_cancellable_departure(app),
        customer_id=me["id"],
        status="cancelled",
        payments=[],
    )

    resp = client.post(
        f"{API}/bookings/{bid}/payments",
        headers=actors.headers("finance"),
        json={"amount": "10.00", "method": "cash"},
    )

    assert resp.status_code == 409
    assert rows(app) == []


def test_wallet_payment_without_funds_leaves_no_entry(app, client, actors):
    me = actors.customer()
    bid = make_paid_booking(
        app,
        departure_id=make_cancellable_departure(app, price="500.00"),
        customer_id=me["id"],
        seats=1,
        status="held",
    )

    resp = client.post(
        f"{API}/bookings/{bid}/payments",
        headers=me["headers"],
        json={"amount": "500.00", "method": "wallet"},
    )

    assert resp.status_code == 409
    assert rows(app) == []


def test_idempotent_replay_records_once(app, client, actors):
    me = actors.customer()
    bid = make_paid_booking(
        app,
        departure_id=make_cancellable_departure(app, price="500.00"),
        customer_id=me["id"],
        seats=1,
        status="held",
    )
    finance = actors.account("finance")  # a card terminal payment recorded by finance
    headers = {**finance["headers"], "Idempotency-Key": "audit-once"}
    body = {"amount": "500.00", "method": "card", "reference": "terminal-1"}

    first = client.post(f"{API}/bookings/{bid}/payments", headers=headers, json=body)
    second = client.post(f"{API}/bookings/{bid}/payments", headers=headers, json=body)

    assert (first.status_code, second.status_code) == (201, 201)
    assert actor_of(one(app, "payment.recorded"))[:2] == ("employee", finance["id"])


def test_booking_cancellation_and_refunds_recorded(app, client, actors):
    me = actors.customer()
    bid = make_paid_booking(
        app,
        departure_id=make_cancellable_departure(app, start_in_days=60),
        customer_id=me["id"],
        seats=1,
    )

    resp = client.post(
        CANCEL_URL.format(bid),
        json={"refund_to": "original", "reason": "Ill"},
        headers=me["headers"],
    )

    assert resp.status_code == 200, resp.get_json()
    cancelled = one(app, "booking.cancelled")
    assert actor_of(cancelled) == ("customer", me["id"], me["email"])
    assert entity_of(cancelled) == ("booking", bid)
    details = cancelled["details"]
    assert (details["from"], details["penalty_amount"], details["refund_amount"]) == (
        "confirmed",
        "100.00",
        "900.00",
    )
    assert (details["refund_to"], details["waived"], details["reason"]) == (
        "original",
        False,
        "Ill",
    )
    [refund] = resp.get_json()["refunds"]
    issued = one(app, "refund.issued")
    assert entity_of(issued) == ("refund", refund["id"])
    assert issued["details"] == {
        "booking_id": bid,
        "amount": "900.00",
        "currency": "EUR",
        "destination": "original",
        "method": "card",
        "status": "pending",
    }

    finance = actors.account("finance")
    done = client.post(
        f"{API}/refunds/{refund['id']}/complete",
        json={"reference": "PSP-1"},
        headers=finance["headers"],
    )

    assert done.status_code == 200
    completed = one(app, "refund.completed")
    assert actor_of(completed)[:2] == ("employee", finance["id"])
    assert entity_of(completed) == ("refund", refund["id"])
    assert completed["details"]["amount"] == "900.00"
    assert completed["details"]["reference"] == "PSP-1"


def test_second_refund_completion_leaves_no_entry(app, client, actors):
    me = actors.customer()
    bid = make_paid_booking(
        app, departure_id=make_cancellable_departure(app), customer_id=me["id"], seats=1
    )
    [refund] = client.post(
        CANCEL_URL.format(bid), json={"refund_to": "original"}, headers=me["headers"]
    ).get_json()["refunds"]
    url = f"{API}/refunds/{refund['id']}/complete"
    headers = actors.headers("finance")

    assert client.post(url, json={}, headers=headers).status_code == 200
    assert client.post(url, json={}, headers=headers).status_code == 409
    assert len(rows(app, "refund.completed")) == 1


def test_departure_cancellation_recorded(app, client, actors):
    head = actors.account("operation_head")
    alice, bob = actors.customer(), actors.customer()
    dep = make_cancellable_departure(app, start_in_days=20, price="500.00")
    b1 = make_paid_booking(app, departure_id=dep, customer_id=alice["id"], seats=2)
    b2 = make_paid_booking(app, departure_id=dep, customer_id=bob["id"], seats=1)

    resp = client.post(
        f"{API}/departures/{dep}/cancel",
        headers=head["headers"],
        json={"reason": "Storm", "refund_to": "wallet"},
    )

    assert resp.status_code == 200, resp.get_json()
    entry = one(app, "departure.cancelled")
    assert actor_of(entry)[:2] == ("employee", head["id"])
    assert entity_of(entry) == ("departure", dep)
    assert entry["details"] == {
        "reason": "Storm",
        "refund_to": "wallet",
        "booking_ids": [b1, b2],
        "total_refund": "1500.00",
        "currency": "EUR",
    }
    cancelled = rows(app, "booking.cancelled")
    assert [e["entity_id"] for e in cancelled] == [b1, b2]
    assert all(
        e["details"]["waived"] and e["actor_id"] == head["id"] for e in cancelled
    )
    assert len(rows(app, "refund.issued")) == 2


def test_departure_cancellation_from_cli_is_by_system(app, actors):
    me = actors.customer()
    dep = make_cancellable_departure(app, start_in_days=20)
    make_paid_booking(app, departure_id=dep, customer_id=me["id"], seats=1)

    result = app.test_cli_runner().invoke(
        args=["departures", "cancel", str(dep), "--reason", "Strike"]
    )

    assert result.exit_code == 0, result.output
    entry = one(app, "departure.cancelled")
    assert actor_of(entry) == ("system", None, None)
    assert (entry["ip"], entry["request_id"]) == (None, None)


def test_wallet_adjustment_recorded_and_refused_one_not(app, client, actors):
    finance = actors.account("finance")
    me = actors.customer()
    url = f"{API}/customers/{me['id']}/wallet"

    assert (
        client.post(
            url,
            json={"amount": "25.00", "reason": "Goodwill"},
            headers=finance["headers"],
        ).status_code
        == 201
    )
    assert (
        client.post(
            url,
            json={"amount": "-30.00", "reason": "Too much"},
            headers=finance["headers"],
        ).status_code
        == 409
    )

    entry = one(app, "wallet.adjusted")
    assert actor_of(entry)[:2] == ("employee", finance["id"])
    assert entity_of(entry) == ("customer", me["id"])
    details = entry["details"]
    assert (details["amount"], details["balance_after"], details["currency"]) == (
        "25.00",
        "25.00",
        "EUR",
    )
    assert details["reason"] == "Goodwill" and isinstance(
        details["wallet_entry_id"], int
    )


# --- reading the log -------------------------------------------------------------


@pytest.mark.parametrize(
    "role,expected",
    [
        ("admin", 200),
        ("hr", 403),
        ("sales", 403),
        ("operation", 403),
        ("operation_head", 403),
        ("finance", 403),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
def test_audit_log_admin_only(client, actors, role, expected):
    resp = client.get(AUDIT, headers=actors.headers(role))

    assert resp.status_code == expected
    if expected != 200:
        assert resp.mimetype == "application/problem+json"


def _seed(app) -> dict:
    """Five entries at known times (2030-01-01..05 10:00 UTC), oldest first."""
    day = datetime(2030, 1, 1, 10, tzinfo=UTC)
    specs = [
        ("employee", 7, "package.approved", "package", 1),
        ("employee", 7, "refund.issued", "refund", 2),
        ("customer", 3, "booking.cancelled", "booking", 3),
        ("employee", 8, "refund.completed", "refund", 2),
        ("system", None, "departure.cancelled", "departure", 4),
    ]
    with app.app_context():
        entries = [
            AuditEntry(
                occurred_at=day + timedelta(days=i),
                actor_type=t,
                actor_id=a,
                action=action,
                entity_type=et,
                entity_id=eid,
                details={"n": i},
            )
            for i, (t, a, action, et, eid) in enumerate(specs)
        ]
        db.session.add_all(entries)
        db.session.commit()
        return [e.id for e in entries]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", [4, 3, 2, 1, 0]),
        ("actor_type=employee", [3, 1, 0]),
        ("actor_type=employee&actor_id=7", [1, 0]),
        ("action=refund.issued", [1]),
        ("action=refund.", [3, 1]),
        ("entity_type=refund&entity_id=2", [3, 1]),
        ("entity_id=4", [4]),
        ("date_from=2030-01-02&date_to=2030-01-04", [3, 2, 1]),
        ("date_from=2030-01-02T10:00:01%2B00:00", [4, 3, 2]),
        ("date_to=2030-01-02T10:00:00Z", [1, 0]),
        ("date_to=2030-01-02T12:00:00%2B02:00", [1, 0]),
        ("actor_type=system&action=refund.", []),
    ],
)
def test_audit_log_filters(app, client, actors, query, expected):
    ids = _seed(app)

    resp = client.get(f"{AUDIT}?{query}", headers=actors.headers("admin"))

    assert resp.status_code == 200, resp.get_json()
    assert [item["id"] for item in resp.get_json()["items"]] == [
        ids[i] for i in expected
    ]


@pytest.mark.parametrize(
    "query",
    [
        "date_to=9999-12-31",
        "date_from=0001-01-01",
        "date_to=2101-01-01T00:00:00Z",
        "date_from=1999-12-31",
    ],
)
def test_audit_far_dates_are_422_not_500(client, actors, query):
    resp = client.get(f"{AUDIT}?{query}", headers=actors.headers("admin"))
    assert resp.status_code == 422, resp.get_json()
    field = query.split("=")[0]
    assert "2000-01-01" in str(resp.get_json()["errors"][f"query.{field}"])


def test_audit_dates_at_the_bounds_are_200(client, actors):
    resp = client.get(
        f"{AUDIT}?date_from=2000-01-01&date_to=2100-12-31",
        headers=actors.headers("admin"),
    )
    assert resp.status_code == 200, resp.get_json()


def test_audit_log_shape_and_pagination(app, client, actors):
    ids = _seed(app)
    headers = actors.headers("admin")

    first = client.get(f"{AUDIT}?per_page=2", headers=headers).get_json()
    last = client.get(f"{AUDIT}?per_page=2&page=3", headers=headers).get_json()

    assert first["meta"] == {
        "page": 1,
        "per_page": 2,
        "total": 5,
        "pages": 3,
        "has_more": True,
        "next_cursor": ANY,
        "total_is_estimate": False,
    }
    assert [i["id"] for i in first["items"]] == [ids[4], ids[3]]
    assert [i["id"] for i in last["items"]] == [ids[0]]
    item = first["items"][1]
    assert item == {
        "id": ids[3],
        "occurred_at": "2030-01-04T10:00:00+00:00",
        "actor_type": "employee",
        "actor_id": 8,
        "actor_email": None,
        "action": "refund.completed",
        "entity_type": "refund",
        "entity_id": 2,
        "details": {"n": 3},
        "request_id": None,
        "ip": None,
    }


@pytest.mark.parametrize(
    "query,field",
    [
        ("actor_type=robot", "actor_type"),
        ("date_from=yesterday", "date_from"),
        ("date_to=2030-13-01", "date_to"),
        ("entity_id=0", "entity_id"),
        ("per_page=101", "per_page"),
    ],
)
def test_audit_log_bad_query_422(client, actors, query, field):
    resp = client.get(f"{AUDIT}?{query}", headers=actors.headers("admin"))

    assert resp.status_code == 422
    assert any(field in key for key in resp.get_json()["errors"])


def test_audit_log_has_no_write_methods(client, actors):
    headers = actors.headers("admin")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert (
            client.open(AUDIT, method=method, json={}, headers=headers).status_code
            == 405
        )


def test_record_takes_request_id_and_ip(app):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        g.request_id = "req-" + "x" * 200
        entry = audit.record(
            "test.thing",
            entity_type="thing",
            entity_id=1,
            facts=request_facts(),
            details={"at": datetime(2030, 1, 1, tzinfo=UTC)},
        )
        db.session.commit()
        assert (entry.request_id, entry.ip) == ("req-" + "x" * 124, "203.0.113.9")
        assert entry.details == {"at": "2030-01-01T00:00:00+00:00"}
        assert entry.actor_type == "system"


# --- append-only -----------------------------------------------------------------


def _one_entry(app) -> int:
    with app.app_context():
        entry = audit.record("test.thing", entity_type="thing", entity_id=1, facts=None)
        db.session.commit()
        return entry.id


def test_orm_refuses_update_and_delete(app):
    entry_id = _one_entry(app)
    with app.app_context():
        entry = db.session.get(AuditEntry, entry_id)
        entry.action = "test.changed"
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEntry, entry_id))
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()
    assert [r["action"] for r in rows(app)] == ["test.thing"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET action = 'test.changed'",
        "UPDATE audit_entries SET details = NULL WHERE id = :id",
        "DELETE FROM audit_entries WHERE id = :id",
    ],
)
def test_database_refuses_update_and_delete(app, statement):
    entry_id = _one_entry(app)
    with (
        app.app_context(),
        pytest.raises(DBAPIError, match="append-only"),
        db.engine.begin() as conn,
    ):
        conn.execute(text(statement), {"id": entry_id})
    assert [r["action"] for r in rows(app)] == ["test.thing"]


@pytest.mark.postgres
def test_postgres_refuses_truncate_and_purge_never_allows_update(app):
    _one_entry(app)
    with app.app_context():
        with (
            pytest.raises(DBAPIError, match="append-only"),
            db.engine.begin() as conn,
        ):
            conn.execute(text("TRUNCATE audit_entries"))
        with (
            pytest.raises(DBAPIError, match="append-only"),
            db.engine.begin() as conn,
        ):
            conn.execute(text("SET LOCAL easytravels.audit_purge = 'on'"))
            conn.execute(text("UPDATE audit_entries SET action = 'x'"))
    assert len(rows(app)) == 1


def _assert_migrated_table_append_only(url: str, engine_url: str) -> None:
    upgraded = flask_cli("db", "upgrade", url=url)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = create_engine(engine_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_entries"
                    " (occurred_at, actor_type, action, entity_type) "
                    "VALUES (CURRENT_TIMESTAMP, 'system', 'test.thing', 'thing')"
                )
            )
        for statement in (
            "UPDATE audit_entries SET action = 'x'",
            "DELETE FROM audit_entries",
        ):
            with (
                pytest.raises(DBAPIError, match="append-only"),
                engine.begin() as conn,
            ):
                conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(
                text("SELECT action FROM audit_entries")
            ).scalars().all() == ["test.thing"]
    finally:
        engine.dispose()
    assert flask_cli("db", "downgrade", "base", url=url).returncode == 0


def test_migrated_sqlite_table_is_append_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    _assert_migrated_table_append_only(url, url)


@pytest.mark.postgres
def test_migrated_postgres_table_is_append_only():
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(TEST_DB_URL)
    name = f"{base.database}_audit_mig"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.set(drivername="postgresql", database=name).render_as_string(
        hide_password=False
    )
    try:
        _assert_migrated_table_append_only(
            url, url.replace("postgresql://", "postgresql+psycopg://")
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_purge_fixture_still_empties_the_table(app):
    """tests/conftest.py `empty_tables` gets through the triggers (the next test of
    this module starts with an empty log); and the triggers are back after it."""
    _one_entry(app)
    empty_tables(app)
    assert rows(app) == []
    _one_entry(app)
    with (
        app.app_context(),
        pytest.raises(DBAPIError, match="append-only"),
        db.engine.begin() as conn,
    ):
        conn.execute(text("DELETE FROM audit_entries"))


def test_record_without_facts_is_by_system_with_no_request_data(app):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        g.request_id = "req-1"
        entry = audit.record("test.thing", entity_type="thing", entity_id=1, facts=None)
        db.session.commit()
        assert (entry.actor_type, entry.request_id, entry.ip) == ("system", None, None)
