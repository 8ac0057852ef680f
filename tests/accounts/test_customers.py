"""/api/v1/customers: registration by staff, listing, viewing, editing, deactivation
and deletion (docs/design.md "Accounts and roles", "Rules with numbers": deleting a
customer)."""

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from auth.passwords import verify_password
from core.extensions import db
from models import (
    AuditEntry,
    Booking,
    Customer,
    Departure,
    Enquiry,
    EnquiryNote,
    OtpCode,
    Package,
)
from models.base import utcnow
from tests.accounts.conftest import ROLES
from tests.conftest import PASSWORD
from tests.factories import item_ids, one_page_meta

URL = "/api/v1/customers"


def matrix(allowed: set, ok: int, customer: int = 403) -> list:
    """(role, expected status) for every role plus anonymous; `customer` is what a
    customer gets for someone else's record (404) or a forbidden action (403)."""
    rows = [
        (role, ok if role in allowed else 403) for role in ROLES if role != "customer"
    ]
    return [*rows, ("customer", customer), ("anonymous", 401)]


def new_customer(**overrides) -> dict:
    """A valid POST /customers body, with `overrides` applied."""
    body = {
        "name": "Mia Horvat",
        "email": "Mia.Horvat@Example.test",
        "phone": "+385 1 555 0100",
        "address": "Ilica 1, Zagreb",
    }
    body.update(overrides)
    return body


def row(app, customer_id: int) -> Customer | None:
    """The customer as stored (detached), or None."""
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        if customer is not None:
            db.session.expunge(customer)
        return customer


def count(app, model=Customer) -> int:
    """How many rows of `model` are stored."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def add_enquiry_with_notes(app, customer_id: int) -> int:
    """An enquiry of the customer with a customer message and a staff note."""
    with app.app_context():
        enquiry = Enquiry(customer_id=customer_id, subject="Visa?", message="Needed?")
        enquiry.notes = [
            EnquiryNote(
                body="Hello", author_type="customer", author_customer_id=customer_id
            ),
            EnquiryNote(body="Checking", author_type="employee"),
        ]
        db.session.add(enquiry)
        db.session.commit()
        return enquiry.id


def add_booking(app, customer_id: int, status: str = "confirmed") -> int:
    """A booking of one seat on a departure of a published package."""
    with app.app_context():
        package = Package(
            title="Crete week",
            destination="Crete",
            duration_days=7,
            base_price=Decimal("900.00"),
            currency="EUR",
            status="published",
        )
        db.session.add(package)
        db.session.flush()
        departure = Departure(
            package_id=package.id,
            start_date=date.today() + timedelta(days=40),
            end_date=date.today() + timedelta(days=46),
            capacity=10,
            seats_taken=1 if status in ("held", "confirmed") else 0,
            price=Decimal("900.00"),
            currency="EUR",
        )
        db.session.add(departure)
        db.session.flush()
        booking = Booking(
            reference=f"ET{customer_id:06d}",
            customer_id=customer_id,
            departure_id=departure.id,
            seats=1,
            status=status,
            currency="EUR",
            unit_price=Decimal("900.00"),
            total_amount=Decimal("900.00"),
        )
        db.session.add(booking)
        db.session.commit()
        return booking.id


# --- create -------------------------------------------------------------------------


def test_create_customer_as_sales_sets_registered_by(app, client, actors):
    sales = actors.account("sales")

    response = client.post(URL, json=new_customer(), headers=sales["headers"])

    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "mia.horvat@example.test"
    assert body["name"] == "Mia Horvat"
    assert body["address"] == "Ilica 1, Zagreb"
    assert body["active"] is True
    assert body["wallet_balance"] == "0.00"
    assert "password" not in body and "password_hash" not in body
    stored = row(app, body["id"])
    assert stored.registered_by_id == sales["id"]
    assert stored.password_hash is None


def test_create_customer_with_password_can_log_in(app, client, actors):
    response = client.post(
        URL, json=new_customer(password=PASSWORD), headers=actors.headers("admin")
    )

    assert response.status_code == 201
    stored = row(app, response.get_json()["id"])
    assert verify_password(stored.password_hash, PASSWORD)
    assert stored.registered_by_id == actors.account("admin")["id"]
    login = {
        "email": "mia.horvat@example.test",
        "password": PASSWORD,
        "account": "customer",
    }
    assert client.post("/api/v1/auth/login", json=login).status_code == 200


def test_create_customer_duplicate_email_any_case_is_409(app, client, actors):
    actors.customer(email="mia.horvat@example.test")
    before = count(app)

    response = client.post(
        URL,
        json=new_customer(email="MIA.HORVAT@example.TEST"),
        headers=actors.headers("sales"),
    )

    assert response.status_code == 409
    assert response.get_json()["type"] == "/problems/email-taken"
    assert count(app) == before


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"role": "admin"}, "role"),
        ({"active": False}, "active"),
        ({"registered_by_id": 1}, "registered_by_id"),
        ({"wallet_balance": "100.00"}, "wallet_balance"),
        ({"name": "  "}, "name"),
        ({"phone": "ring ring"}, "phone"),
        ({"address": "x" * 501}, "address"),
        ({"name": "Mia\x00"}, "name"),
        ({"address": "Ilica\x00 1"}, "address"),
        ({"email": "mia\x00@example.test"}, "email"),
    ],
)
def test_create_customer_invalid_body_is_422(app, client, actors, overrides, field):
    headers = actors.headers("sales")
    before = count(app)

    response = client.post(URL, json=new_customer(**overrides), headers=headers)

    assert response.status_code == 422
    body = response.get_json()
    assert body["type"] == "/problems/validation-error"
    assert field in body["errors"]
    assert count(app) == before


@pytest.mark.parametrize("field", ["name", "email"])
def test_create_customer_missing_required_field_is_422(client, actors, field):
    body = new_customer()
    del body[field]

    response = client.post(URL, json=body, headers=actors.headers("sales"))

    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_create_customer_anonymous_with_bad_body_is_401(client):
    response = client.post(URL, json={"role": "admin"})

    assert response.status_code == 401


@pytest.mark.parametrize("role, status", matrix({"admin", "sales"}, 201))
def test_create_customer_role_matrix(app, client, actors, role, status):
    headers = actors.headers(role)
    before = count(app)

    response = client.post(URL, json=new_customer(), headers=headers)

    assert response.status_code == status
    assert count(app) == before + (1 if status == 201 else 0)


# --- list ---------------------------------------------------------------------------


def seed_customers(actors) -> dict:
    """Three customers with known names, emails, phones; the last one inactive."""
    return {
        "ana": actors.customer(
            name="Ana Kos", email="ana@example.test", phone="+386 40 111"
        ),
        "bor": actors.customer(
            name="Bor Lah", email="bor@example.test", phone="+386 40 222"
        ),
        "cvet": actors.customer(
            name="Cvet Novak", email="cvet@mail.test", phone="+1 212 333", active=False
        ),
    }


def test_list_customers_newest_first_with_meta(client, actors):
    people = seed_customers(actors)

    response = client.get(URL, headers=actors.headers("finance"))

    assert response.status_code == 200
    body = response.get_json()
    assert body["meta"] == one_page_meta(3)
    assert item_ids(response) == [
        people["cvet"]["id"],
        people["bor"]["id"],
        people["ana"]["id"],
    ]
    assert all("password_hash" not in item for item in body["items"])


@pytest.mark.parametrize(
    "q, who",
    [
        ("NOVAK", ["cvet"]),
        ("EXAMPLE.test", ["bor", "ana"]),
        ("40 222", ["bor"]),
        ("+1 2", ["cvet"]),
    ],
)
def test_list_customers_q_matches_name_email_and_phone(client, actors, q, who):
    people = seed_customers(actors)

    response = client.get(URL, query_string={"q": q}, headers=actors.headers("sales"))

    assert item_ids(response) == [people[name]["id"] for name in who]


def test_list_customers_q_treats_wildcards_literally(client, actors):
    seed_customers(actors)

    response = client.get(URL, query_string={"q": "%"}, headers=actors.headers("sales"))

    assert response.status_code == 200
    assert item_ids(response) == []


@pytest.mark.parametrize("q", ["a\x00", "x" * 101])
def test_list_customers_invalid_q_is_422(client, actors, q):
    response = client.get(URL, query_string={"q": q}, headers=actors.headers("sales"))

    assert response.status_code == 422
    assert "query.q" in response.get_json()["errors"]


def test_list_customers_filters_by_active(client, actors):
    people = seed_customers(actors)
    headers = actors.headers("admin")

    inactive = client.get(f"{URL}?active=false", headers=headers)
    active = client.get(f"{URL}?active=true", headers=headers)

    assert item_ids(inactive) == [people["cvet"]["id"]]
    assert item_ids(active) == [people["bor"]["id"], people["ana"]["id"]]


def test_list_customers_sort_and_pagination(client, actors):
    people = seed_customers(actors)
    headers = actors.headers("admin")

    page_two = client.get(f"{URL}?sort=-name&per_page=2&page=2", headers=headers)
    bad = client.get(f"{URL}?sort=wallet_balance", headers=headers)

    assert item_ids(page_two) == [people["ana"]["id"]]
    assert page_two.get_json()["meta"] == {
        "page": 2,
        "per_page": 2,
        "total": 3,
        "pages": 2,
        "has_more": False,
        "next_cursor": None,
        "total_is_estimate": False,
    }
    assert bad.status_code == 422
    assert "query.sort" in bad.get_json()["errors"]


@pytest.mark.parametrize("role, status", matrix({"admin", "sales", "finance"}, 200))
def test_list_customers_role_matrix(client, actors, role, status):
    response = client.get(URL, headers=actors.headers(role))

    assert response.status_code == status


# --- view ---------------------------------------------------------------------------


def test_get_customer_own_record_as_customer(client, actors):
    me = actors.customer(address="Main St 1")

    response = client.get(f"{URL}/{me['id']}", headers=me["headers"])

    assert response.status_code == 200
    assert response.get_json()["address"] == "Main St 1"


def test_get_customer_of_another_customer_is_404(client, actors):
    me = actors.customer()
    other = actors.customer()

    response = client.get(f"{URL}/{other['id']}", headers=me["headers"])

    assert response.status_code == 404
    assert "email" not in response.get_json()


def test_get_customer_unknown_id_is_404(client, actors):
    response = client.get(f"{URL}/987654", headers=actors.headers("sales"))

    assert response.status_code == 404


@pytest.mark.parametrize(
    "role, status", matrix({"admin", "sales", "finance"}, 200, customer=404)
)
def test_get_customer_role_matrix(client, actors, role, status):
    target = actors.customer()

    response = client.get(f"{URL}/{target['id']}", headers=actors.headers(role))

    assert response.status_code == status


# --- edit ---------------------------------------------------------------------------


def test_patch_customer_own_contact_data(app, client, actors, mailbox):
    me = actors.customer()

    response = client.patch(
        f"{URL}/{me['id']}",
        json={
            "address": "New Road 2",
            "phone": "+44 20 7946 0000",
            "email": "Me@New.test",
        },
        headers=me["headers"],
    )

    assert response.status_code == 200
    stored = row(app, me["id"])
    # The new email waits for the code mailed to it (services/accounts/email_change.py).
    assert (stored.address, stored.phone, stored.email) == (
        "New Road 2",
        "+44 20 7946 0000",
        me["email"],
    )
    assert len(mailbox.to("me@new.test")) == 1


@pytest.mark.parametrize("active", [True, False])
def test_patch_customer_own_active_flag_is_403(app, client, actors, active):
    me = actors.customer()

    response = client.patch(
        f"{URL}/{me['id']}",
        json={"active": active, "address": "X"},
        headers=me["headers"],
    )

    assert response.status_code == 403
    stored = row(app, me["id"])
    assert (stored.active, stored.address) == (True, None)


def test_patch_customer_of_another_customer_is_404(app, client, actors):
    me = actors.customer()
    other = actors.customer()

    response = client.patch(
        f"{URL}/{other['id']}", json={"name": "Mine"}, headers=me["headers"]
    )

    assert response.status_code == 404
    assert row(app, other["id"]).name != "Mine"


def test_patch_customer_email_taken_is_409(app, client, actors):
    actors.customer(email="taken@example.test")
    target = actors.customer()

    response = client.patch(
        f"{URL}/{target['id']}",
        json={"email": "Taken@Example.test"},
        headers=actors.headers("sales"),
    )

    assert response.status_code == 409
    assert row(app, target["id"]).email == target["email"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "bad"}, "email"),
        ({"role": "admin"}, "role"),
        ({"wallet_balance": "5.00"}, "wallet_balance"),
        ({"password": PASSWORD}, "password"),
        ({"name": ""}, "name"),
    ],
)
def test_patch_customer_invalid_body_is_422(client, actors, body, field):
    target = actors.customer()

    response = client.patch(
        f"{URL}/{target['id']}", json=body, headers=actors.headers("sales")
    )

    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_patch_customer_deactivation_stops_tokens_at_once(app, client, actors):
    target = actors.customer()
    assert (
        client.get(f"{URL}/{target['id']}", headers=target["headers"]).status_code
        == 200
    )

    response = client.patch(
        f"{URL}/{target['id']}", json={"active": False}, headers=actors.headers("sales")
    )

    assert response.status_code == 200
    assert response.get_json()["active"] is False
    refused = client.get(f"{URL}/{target['id']}", headers=target["headers"])
    assert refused.status_code == 401
    assert client.get("/api/v1/auth/me", headers=target["headers"]).status_code == 401
    stored = row(app, target["id"])
    assert stored.active is False and stored.tokens_valid_after is not None


def test_patch_customer_deactivated_cannot_log_in(client, actors):
    target = actors.customer()
    client.patch(
        f"{URL}/{target['id']}", json={"active": False}, headers=actors.headers("admin")
    )

    login = {"email": target["email"], "password": PASSWORD, "account": "customer"}
    response = client.post("/api/v1/auth/login", json=login)

    assert response.status_code == 401


def test_patch_customer_reactivation_by_staff(app, client, actors):
    target = actors.customer(active=False)

    response = client.patch(
        f"{URL}/{target['id']}", json={"active": True}, headers=actors.headers("admin")
    )

    assert response.status_code == 200
    assert row(app, target["id"]).active is True


@pytest.mark.parametrize("role, status", matrix({"admin", "sales"}, 200, customer=404))
def test_patch_customer_role_matrix(app, client, actors, role, status):
    target = actors.customer()

    response = client.patch(
        f"{URL}/{target['id']}",
        json={"phone": "+1 555 0123"},
        headers=actors.headers(role),
    )

    assert response.status_code == status
    expected = "+1 555 0123" if status == 200 else None
    assert row(app, target["id"]).phone == expected


# --- delete -------------------------------------------------------------------------


def test_delete_customer_removes_enquiries_notes_and_codes(app, client, actors):
    target = actors.customer()
    keep = actors.customer()
    add_enquiry_with_notes(app, target["id"])
    kept_enquiry = add_enquiry_with_notes(app, keep["id"])
    with app.app_context():
        db.session.add(
            OtpCode(
                account_type="customer",
                account_id=target["id"],
                purpose="password_reset",
                code_hash="0" * 64,
                expires_at=utcnow() + timedelta(minutes=10),
            )
        )
        db.session.commit()

    response = client.delete(f"{URL}/{target['id']}", headers=actors.headers("sales"))

    assert response.status_code == 204
    assert row(app, target["id"]) is None
    with app.app_context():
        enquiries = db.session.scalars(select(Enquiry.id)).all()
        notes = db.session.scalars(select(EnquiryNote.enquiry_id)).all()
        codes = db.session.scalars(select(OtpCode.account_id)).all()
    assert enquiries == [kept_enquiry]
    assert notes == [kept_enquiry, kept_enquiry]
    assert codes == []
    assert (
        client.get(f"{URL}/{target['id']}", headers=target["headers"]).status_code
        == 401
    )


@pytest.mark.parametrize("status", ["held", "confirmed", "cancelled", "expired"])
def test_delete_customer_with_a_booking_is_409(app, client, actors, status):
    target = actors.customer()
    add_enquiry_with_notes(app, target["id"])
    booking_id = add_booking(app, target["id"], status)

    response = client.delete(f"{URL}/{target['id']}", headers=actors.headers("admin"))

    assert response.status_code == 409
    body = response.get_json()
    assert body["type"] == "/problems/customer-has-bookings"
    assert "bookings" in body["detail"] and "financial records" in body["detail"]
    assert row(app, target["id"]) is not None
    assert count(app, Enquiry) == 1 and count(app, EnquiryNote) == 2
    with app.app_context():
        assert db.session.get(Booking, booking_id) is not None


def test_delete_customer_unknown_id_is_404(client, actors):
    response = client.delete(f"{URL}/987654", headers=actors.headers("admin"))

    assert response.status_code == 404


def test_delete_customer_new_customer_cannot_inherit_old_tokens(app, client, actors):
    """SQLite reuses a deleted customer's id for the next row: the deleted customer's
    tokens must not authenticate as the new account (tokens are checked at second
    resolution, hence the pause)."""
    old = actors.customer()
    client.delete(f"{URL}/{old['id']}", headers=actors.headers("admin"))
    time.sleep(1.1)
    created = client.post("/api/v1/auth/register", json=new_customer(password=PASSWORD))
    new_id = created.get_json()["id"]
    if new_id != old["id"]:  # PostgreSQL sequences never reuse ids: force the clash
        with app.app_context():
            db.session.get(Customer, new_id).id = old["id"]
            db.session.commit()

    response = client.get(f"{URL}/{old['id']}", headers=old["headers"])

    assert response.status_code == 401
    assert row(app, old["id"]).email == "mia.horvat@example.test"


@pytest.mark.parametrize("role, status", matrix({"admin", "sales"}, 204))
def test_delete_customer_role_matrix(app, client, actors, role, status):
    target = actors.customer()

    response = client.delete(f"{URL}/{target['id']}", headers=actors.headers(role))

    assert response.status_code == status
    assert (row(app, target["id"]) is None) is (status == 204)


def test_phone_change_is_audited(app, client, actors):
    customer = actors.customer(phone="+353 1 555 0100")
    sales = actors.employee("sales")
    resp = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"phone": "+353 1 555 0199"},
        headers=sales["headers"],
    )
    assert resp.status_code == 200, resp.get_json()
    same = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"phone": "+353 1 555 0199"},
        headers=sales["headers"],
    )
    assert same.status_code == 200
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer.phone_changed")
        ).all()
        assert [(e.actor_id, e.details) for e in entries] == [
            (
                sales["id"],
                {"old_phone": "+353 1 555 0100", "new_phone": "+353 1 555 0199"},
            )
        ]
