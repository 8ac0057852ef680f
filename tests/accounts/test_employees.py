"""/api/v1/employees: creation, listing, viewing, editing and deactivation
(docs/design.md "Accounts and roles", roles matrix rows for employees)."""

import threading
from unittest.mock import ANY

import pytest
from sqlalchemy import select

from auth.passwords import verify_password
from core.errors import Conflict
from core.extensions import db
from models import AuditEntry, Employee, TransportCompany
from services.accounts.employees import deactivate_employee, update_employee
from tests.accounts.conftest import ROLES
from tests.conftest import PASSWORD
from tests.factories import item_ids, one_page_meta

URL = "/api/v1/employees"


def matrix(allowed: set, ok: int) -> list:
    """(role, expected status) for every role plus anonymous."""
    rows = [(role, ok if role in allowed else 403) for role in ROLES]
    return [*rows, ("anonymous", 401)]


def new_employee(**overrides) -> dict:
    """A valid POST /employees body, with `overrides` applied."""
    body = {
        "name": "Nina Novak",
        "email": "Nina.Novak@Staff.test",
        "phone": "+386 1 234 567",
        "role": "sales",
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


def row(app, employee_id: int) -> Employee | None:
    """The employee as stored (detached), or None."""
    with app.app_context():
        employee = db.session.get(Employee, employee_id)
        if employee is not None:
            db.session.expunge(employee)
        return employee


def count(app) -> int:
    """How many employees are stored."""
    with app.app_context():
        return len(db.session.scalars(select(Employee.id)).all())


# --- create -------------------------------------------------------------------------


def test_create_employee_as_admin_returns_201_without_password(app, client, actors):
    response = client.post(URL, json=new_employee(), headers=actors.headers("admin"))

    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "Nina Novak"
    assert body["email"] == "nina.novak@staff.test"
    assert body["role"] == "sales"
    assert body["active"] is True
    assert "password" not in body and "password_hash" not in body
    stored = row(app, body["id"])
    assert stored.email == "nina.novak@staff.test"
    assert stored.phone == "+386 1 234 567"
    assert verify_password(stored.password_hash, PASSWORD)


def test_create_employee_then_login_with_initial_password(client, actors):
    client.post(URL, json=new_employee(), headers=actors.headers("admin"))

    login = {
        "email": "nina.novak@staff.test",
        "password": PASSWORD,
        "account": "employee",
    }
    response = client.post("/api/v1/auth/login", json=login)

    assert response.status_code == 200
    assert response.get_json()["access_token"]


def test_create_employee_duplicate_email_any_case_is_409(app, client, actors):
    headers = actors.headers("admin")
    assert client.post(URL, json=new_employee(), headers=headers).status_code == 201
    before = count(app)

    response = client.post(
        URL, json=new_employee(email="NINA.novak@staff.TEST"), headers=headers
    )

    assert response.status_code == 409
    assert response.get_json()["type"] == "/problems/email-taken"
    assert count(app) == before


@pytest.mark.parametrize("role", ["customer", "superuser", "ADMIN", ""])
def test_create_employee_role_outside_the_six_is_422(app, client, actors, role):
    headers = actors.headers("admin")
    before = count(app)

    response = client.post(URL, json=new_employee(role=role), headers=headers)

    assert response.status_code == 422
    assert "role" in response.get_json()["errors"]
    assert count(app) == before


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"phone": "call me"}, "phone"),
        ({"name": "Nina\x00"}, "name"),
        ({"email": "nina\x00@staff.test"}, "email"),
        ({"active": False}, "active"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_create_employee_invalid_body_is_422(app, client, actors, overrides, field):
    headers = actors.headers("admin")
    before = count(app)

    response = client.post(URL, json=new_employee(**overrides), headers=headers)

    assert response.status_code == 422
    body = response.get_json()
    assert body["type"] == "/problems/validation-error"
    assert field in body["errors"]
    assert count(app) == before


@pytest.mark.parametrize("field", ["name", "email", "role", "password"])
def test_create_employee_missing_required_field_is_422(client, actors, field):
    body = new_employee()
    del body[field]

    response = client.post(URL, json=body, headers=actors.headers("admin"))

    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_create_employee_anonymous_with_bad_body_is_401(client):
    response = client.post(URL, json={"role": "nope"})

    assert response.status_code == 401


@pytest.mark.parametrize("role, status", matrix({"admin"}, 201))
def test_create_employee_role_matrix(app, client, actors, role, status):
    headers = actors.headers(role)
    before = count(app)

    response = client.post(URL, json=new_employee(), headers=headers)

    assert response.status_code == status
    assert count(app) == before + (1 if status == 201 else 0)


# --- list ---------------------------------------------------------------------------


def seed_staff(actors) -> dict:
    """A few employees with known names, emails, roles and activity."""
    return {
        "ana": actors.employee("sales", name="Ana Kovac", email="ana@staff.test"),
        "bor": actors.employee("finance", name="Bor Zupan", email="bor@staff.test"),
        "cene": actors.employee(
            "sales", name="Cene Mlakar", email="cene_50%@staff.test", active=False
        ),
    }


def test_list_employees_newest_first_with_meta(client, actors):
    staff = seed_staff(actors)
    headers = actors.headers("hr")

    response = client.get(URL, headers=headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body["meta"] == one_page_meta(4)
    hr_id = actors.account("hr")["id"]
    assert item_ids(response) == [
        hr_id,
        staff["cene"]["id"],
        staff["bor"]["id"],
        staff["ana"]["id"],
    ]
    assert all(
        "password" not in item and "password_hash" not in item for item in body["items"]
    )


def test_list_employees_q_matches_name_and_email_case_insensitively(client, actors):
    staff = seed_staff(actors)
    headers = actors.headers("admin")

    by_name = client.get(f"{URL}?q=KOVAC", headers=headers)
    by_email = client.get(f"{URL}?q=BOR@STAFF", headers=headers)

    assert item_ids(by_name) == [staff["ana"]["id"]]
    assert item_ids(by_email) == [staff["bor"]["id"]]


def test_list_employees_q_treats_wildcards_literally(client, actors):
    staff = seed_staff(actors)
    headers = actors.headers("admin")

    percent = client.get(f"{URL}?q=50%25", headers=headers)
    underscore = client.get(f"{URL}?q=_", headers=headers)

    assert item_ids(percent) == [staff["cene"]["id"]]
    assert item_ids(underscore) == [staff["cene"]["id"]]


def test_list_employees_filters_by_role_and_active(client, actors):
    staff = seed_staff(actors)
    headers = actors.headers("admin")

    sales = client.get(f"{URL}?role=sales", headers=headers)
    inactive = client.get(f"{URL}?active=false", headers=headers)
    active_sales = client.get(f"{URL}?role=sales&active=true", headers=headers)

    assert item_ids(sales) == [staff["cene"]["id"], staff["ana"]["id"]]
    assert item_ids(inactive) == [staff["cene"]["id"]]
    assert item_ids(active_sales) == [staff["ana"]["id"]]


@pytest.mark.parametrize("q", ["a\x00", "x" * 101])
def test_list_employees_invalid_q_is_422(client, actors, q):
    response = client.get(URL, query_string={"q": q}, headers=actors.headers("hr"))

    assert response.status_code == 422
    assert "query.q" in response.get_json()["errors"]


def test_list_employees_unknown_role_filter_is_422(client, actors):
    response = client.get(f"{URL}?role=pilot", headers=actors.headers("admin"))

    assert response.status_code == 422
    assert "query.role" in response.get_json()["errors"]


def test_list_employees_sort_by_name_and_reverse_email(client, actors):
    staff = seed_staff(actors)
    headers = actors.headers("admin")
    admin_id = actors.account("admin")["id"]

    by_name = client.get(f"{URL}?sort=name", headers=headers)
    by_email_desc = client.get(f"{URL}?sort=-email", headers=headers)

    # "Admin 4" < "Ana Kovac" < "Bor Zupan" < "Cene Mlakar"
    expected = [admin_id, staff["ana"]["id"], staff["bor"]["id"], staff["cene"]["id"]]
    assert item_ids(by_name) == expected
    emails = [item["email"] for item in by_email_desc.get_json()["items"]]
    assert emails == sorted(emails, reverse=True)


def test_list_employees_sort_by_unknown_field_is_422(client, actors):
    response = client.get(f"{URL}?sort=password_hash", headers=actors.headers("admin"))

    assert response.status_code == 422
    assert "query.sort" in response.get_json()["errors"]


def test_list_employees_paginates(client, actors):
    seed_staff(actors)
    headers = actors.headers("admin")

    first = client.get(f"{URL}?per_page=3", headers=headers).get_json()
    second = client.get(f"{URL}?per_page=3&page=2", headers=headers).get_json()

    assert first["meta"] == {
        "page": 1,
        "per_page": 3,
        "total": 4,
        "pages": 2,
        "has_more": True,
        "next_cursor": ANY,
        "total_is_estimate": False,
    }
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert {i["id"] for i in first["items"]}.isdisjoint(
        {i["id"] for i in second["items"]}
    )


def test_list_employees_per_page_over_100_is_422(client, actors):
    response = client.get(f"{URL}?per_page=101", headers=actors.headers("admin"))

    assert response.status_code == 422
    assert "query.per_page" in response.get_json()["errors"]


@pytest.mark.parametrize("role, status", matrix({"admin", "hr"}, 200))
def test_list_employees_role_matrix(client, actors, role, status):
    response = client.get(URL, headers=actors.headers(role))

    assert response.status_code == status


# --- view ---------------------------------------------------------------------------


def test_get_employee_returns_profile(client, actors):
    target = actors.employee("finance", name="Fin Ance", phone="+1 555 0100")

    response = client.get(f"{URL}/{target['id']}", headers=actors.headers("hr"))

    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == target["id"]
    assert body["role"] == "finance"
    assert body["phone"] == "+1 555 0100"
    assert "password_hash" not in body


@pytest.mark.parametrize("employee_id", [999999, 2147483647])
def test_get_employee_unknown_id_is_404(client, actors, employee_id):
    response = client.get(f"{URL}/{employee_id}", headers=actors.headers("admin"))

    assert response.status_code == 404


def test_get_employee_id_beyond_32_bits_is_404(client, actors):
    response = client.get(f"{URL}/2147483648", headers=actors.headers("admin"))

    assert response.status_code == 404


@pytest.mark.parametrize("role, status", matrix({"admin", "hr"}, 200))
def test_get_employee_role_matrix(client, actors, role, status):
    target = actors.employee("operation")

    response = client.get(f"{URL}/{target['id']}", headers=actors.headers(role))

    assert response.status_code == status


# --- edit ---------------------------------------------------------------------------


def test_patch_employee_admin_changes_role_and_contact(app, client, actors):
    target = actors.employee("sales")

    response = client.patch(
        f"{URL}/{target['id']}",
        json={"role": "finance", "email": "New.Mail@Staff.test", "name": " Renamed "},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 200
    assert response.get_json()["role"] == "finance"
    stored = row(app, target["id"])
    assert (stored.role, stored.email, stored.name) == (
        "finance",
        "new.mail@staff.test",
        "Renamed",
    )


def test_patch_employee_role_change_applies_to_existing_tokens(client, actors):
    target = actors.employee("hr")
    admin = actors.headers("admin")
    assert client.get(URL, headers=target["headers"]).status_code == 200

    client.patch(f"{URL}/{target['id']}", json={"role": "sales"}, headers=admin)

    assert client.get(URL, headers=target["headers"]).status_code == 403


def test_patch_employee_hr_changes_contact_data(app, client, actors):
    target = actors.employee("sales")

    response = client.patch(
        f"{URL}/{target['id']}",
        json={"phone": "+1 555 0199", "name": "New Name"},
        headers=actors.headers("hr"),
    )

    assert response.status_code == 200
    assert response.get_json()["phone"] == "+1 555 0199"
    stored = row(app, target["id"])
    assert (stored.phone, stored.name, stored.role) == (
        "+1 555 0199",
        "New Name",
        "sales",
    )


@pytest.mark.parametrize(
    "body", [{"role": "admin"}, {"active": False}, {"role": "sales"}]
)
def test_patch_employee_hr_sending_role_or_active_is_403(app, client, actors, body):
    target = actors.employee("sales")

    response = client.patch(
        f"{URL}/{target['id']}",
        json={**body, "name": "Sneaky"},
        headers=actors.headers("hr"),
    )

    assert response.status_code == 403
    stored = row(app, target["id"])
    assert (stored.role, stored.active, stored.name) == ("sales", True, "Sales 1")


def test_patch_employee_hr_editing_an_admin_is_403(app, client, actors):
    admin = actors.account("admin")

    response = client.patch(
        f"{URL}/{admin['id']}",
        json={"email": "hr-owned@staff.test"},
        headers=actors.headers("hr"),
    )

    assert response.status_code == 403
    assert row(app, admin["id"]).email == admin["email"]


def test_patch_employee_email_taken_any_case_is_409(app, client, actors):
    actors.employee("sales", email="taken@staff.test")
    target = actors.employee("finance")

    response = client.patch(
        f"{URL}/{target['id']}",
        json={"email": "TAKEN@staff.test"},
        headers=actors.headers("hr"),
    )

    assert response.status_code == 409
    assert row(app, target["id"]).email == target["email"]


def test_patch_employee_keeping_own_email_is_200(client, actors):
    target = actors.employee("finance")

    response = client.patch(
        f"{URL}/{target['id']}",
        json={"email": target["email"].upper()},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 200
    assert response.get_json()["email"] == target["email"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "nope"}, "email"),
        ({"role": "customer"}, "role"),
        ({"active": "sometimes"}, "active"),
        ({"name": ""}, "name"),
        ({"password": PASSWORD + "x"}, "password"),
        ({"id": 5}, "id"),
    ],
)
def test_patch_employee_invalid_body_is_422(client, actors, body, field):
    target = actors.employee("sales")

    response = client.patch(
        f"{URL}/{target['id']}", json=body, headers=actors.headers("admin")
    )

    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_patch_employee_unknown_id_is_404(client, actors):
    response = client.patch(
        f"{URL}/424242", json={"name": "X"}, headers=actors.headers("admin")
    )

    assert response.status_code == 404


@pytest.mark.parametrize("body", [{"role": "hr"}, {"active": False}])
def test_patch_employee_admin_demoting_or_deactivating_self_is_409(
    app, client, actors, body
):
    actors.employee("admin")  # another active admin: only the self rule applies
    me = actors.account("admin")

    response = client.patch(f"{URL}/{me['id']}", json=body, headers=me["headers"])

    assert response.status_code == 409
    stored = row(app, me["id"])
    assert (stored.role, stored.active) == ("admin", True)


def test_patch_employee_admin_demotes_another_admin(app, client, actors):
    other = actors.employee("admin")

    response = client.patch(
        f"{URL}/{other['id']}",
        json={"role": "finance"},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 200
    assert row(app, other["id"]).role == "finance"


def test_patch_employee_admin_reactivates_employee(app, client, actors):
    target = actors.employee("sales", active=False)

    response = client.patch(
        f"{URL}/{target['id']}", json={"active": True}, headers=actors.headers("admin")
    )

    assert response.status_code == 200
    assert row(app, target["id"]).active is True


def test_patch_employee_deactivation_stops_tokens(app, client, actors):
    target = actors.employee("hr")

    response = client.patch(
        f"{URL}/{target['id']}", json={"active": False}, headers=actors.headers("admin")
    )

    assert response.status_code == 200
    assert client.get(URL, headers=target["headers"]).status_code == 401
    assert row(app, target["id"]).tokens_valid_after is not None


@pytest.mark.parametrize("role, status", matrix({"admin", "hr"}, 200))
def test_patch_employee_contact_role_matrix(app, client, actors, role, status):
    target = actors.employee("operation")

    response = client.patch(
        f"{URL}/{target['id']}",
        json={"phone": "+1 555 0123"},
        headers=actors.headers(role),
    )

    assert response.status_code == status
    expected = "+1 555 0123" if status == 200 else None
    assert row(app, target["id"]).phone == expected


@pytest.mark.parametrize("role, status", matrix({"admin"}, 200))
def test_patch_employee_role_change_role_matrix(app, client, actors, role, status):
    target = actors.employee("operation")

    response = client.patch(
        f"{URL}/{target['id']}", json={"role": "finance"}, headers=actors.headers(role)
    )

    assert response.status_code == status
    assert row(app, target["id"]).role == ("finance" if status == 200 else "operation")


# --- deactivate ---------------------------------------------------------------------


def test_delete_employee_deactivates_and_tokens_stop_at_once(app, client, actors):
    target = actors.employee("hr")
    assert client.get(URL, headers=target["headers"]).status_code == 200

    response = client.delete(f"{URL}/{target['id']}", headers=actors.headers("admin"))

    assert response.status_code == 204
    assert response.data == b""
    stored = row(app, target["id"])
    assert stored is not None and stored.active is False
    refused = client.get(URL, headers=target["headers"])
    assert refused.status_code == 401
    assert refused.get_json()["status"] == 401


def test_delete_employee_refuses_password_login_afterwards(client, actors):
    target = actors.employee("sales")
    client.delete(f"{URL}/{target['id']}", headers=actors.headers("admin"))

    login = {"email": target["email"], "password": PASSWORD, "account": "employee"}
    response = client.post("/api/v1/auth/login", json=login)

    assert response.status_code == 401


def test_delete_employee_already_inactive_is_204(app, client, actors):
    target = actors.employee("sales", active=False)

    response = client.delete(f"{URL}/{target['id']}", headers=actors.headers("admin"))

    assert response.status_code == 204
    assert row(app, target["id"]).active is False


def test_delete_employee_another_admin_is_204(app, client, actors):
    other = actors.employee("admin")

    response = client.delete(f"{URL}/{other['id']}", headers=actors.headers("admin"))

    assert response.status_code == 204
    assert row(app, other["id"]).active is False
    assert client.get(URL, headers=other["headers"]).status_code == 401


def test_delete_employee_self_is_409(app, client, actors):
    actors.employee("admin")
    me = actors.account("admin")

    response = client.delete(f"{URL}/{me['id']}", headers=me["headers"])

    assert response.status_code == 409
    assert row(app, me["id"]).active is True


def test_delete_employee_unknown_id_is_404(client, actors):
    response = client.delete(f"{URL}/424242", headers=actors.headers("admin"))

    assert response.status_code == 404


def test_deactivate_employee_last_active_admin_is_409(app, actors):
    """Admin B's request was authorised, then B was deactivated concurrently: B may
    no longer remove A, the last active admin."""
    a = actors.employee("admin")
    b = actors.employee("admin")
    with app.app_context():
        actor = db.session.get(Employee, b["id"])
        db.session.expunge(actor)
        db.session.get(Employee, b["id"]).active = False
        db.session.commit()
        with pytest.raises(Conflict) as raised:
            deactivate_employee(employee_id=a["id"], actor=actor)
    assert raised.value.code == "last-admin"
    assert row(app, a["id"]).active is True


def test_update_employee_demoting_last_active_admin_is_409(app, actors):
    a = actors.employee("admin")
    b = actors.employee("admin")
    with app.app_context():
        actor = db.session.get(Employee, b["id"])
        db.session.expunge(actor)
        db.session.get(Employee, b["id"]).active = False
        db.session.commit()
        with pytest.raises(Conflict) as raised:
            update_employee(employee_id=a["id"], changes={"role": "hr"}, actor=actor)
    assert raised.value.code == "last-admin"
    assert row(app, a["id"]).role == "admin"


@pytest.mark.parametrize("role, status", matrix({"admin"}, 204))
def test_delete_employee_role_matrix(app, client, actors, role, status):
    target = actors.employee("operation")

    response = client.delete(f"{URL}/{target['id']}", headers=actors.headers(role))

    assert response.status_code == status
    assert row(app, target["id"]).active is (status != 204)


@pytest.mark.postgres
def test_delete_employee_admins_removing_each_other_concurrently_keep_one(app, actors):
    """Two admins deactivate each other at the same instant, several times: exactly
    one of them stays active every time (row locks + conditional UPDATE)."""
    for _ in range(5):
        a, b = actors.employee("admin"), actors.employee("admin")
        barrier = threading.Barrier(2)
        statuses = {}

        def remove(me, other, barrier=barrier, statuses=statuses):
            client = app.test_client()
            barrier.wait()
            response = client.delete(f"{URL}/{other['id']}", headers=me["headers"])
            statuses[me["id"]] = response.status_code

        threads = [
            threading.Thread(target=remove, args=(a, b)),
            threading.Thread(target=remove, args=(b, a)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        survivors = [e for e in (a, b) if row(app, e["id"]).active]
        assert len(survivors) == 1, statuses
        assert sorted(statuses.values())[0] == 204
        assert sorted(statuses.values())[1] in (401, 409)
        with app.app_context():  # leave no active admin behind for the next round
            db.session.get(Employee, survivors[0]["id"]).active = False
            db.session.commit()


# --- operators and their transport company -------------------------------------------
# docs/transport.md "Companies and operators": an operator belongs to exactly one
# active transport company, set by an admin; no other role has one.


def transport_company(app, code: str, active: bool = True) -> int:
    """A transport company straight in the database; returns its id."""
    with app.app_context():
        company = TransportCompany(
            name=f"Company {code}", code=code, country="IE", active=active
        )
        db.session.add(company)
        db.session.commit()
        return company.id


def audit_actions_of(app, employee_id: int) -> list[tuple[str, dict | None]]:
    """(action, details) of the audit entries on one employee, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(AuditEntry.action, AuditEntry.details)
            .where(
                AuditEntry.entity_type == "employee",
                AuditEntry.entity_id == employee_id,
            )
            .order_by(AuditEntry.id)
        )
        return [(action, details) for action, details in rows]


def test_create_operator_with_its_company(app, client, actors):
    company_id = transport_company(app, "EMC")

    response = client.post(
        URL,
        json=new_employee(role="operator", company_id=company_id),
        headers=actors.headers("admin"),
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["company_id"] == company_id
    assert row(app, response.get_json()["id"]).company_id == company_id
    created = audit_actions_of(app, response.get_json()["id"])
    assert created[0][0] == "employee.created"
    assert created[0][1]["company_id"] == company_id


def test_employee_answers_show_company_id(app, client, actors):
    company_id = transport_company(app, "EMC")
    operator = actors.employee("operator", company_id=company_id)
    sales = actors.employee("sales")
    headers = actors.headers("admin")

    assert (
        client.get(f"{URL}/{operator['id']}", headers=headers).get_json()["company_id"]
        == company_id
    )
    assert (
        client.get(f"{URL}/{sales['id']}", headers=headers).get_json()["company_id"]
        is None
    )
    listed = client.get(f"{URL}?company_id={company_id}", headers=headers)
    assert item_ids(listed) == [operator["id"]]
    # The operator learns its company from its own profile.
    me = client.get("/api/v1/auth/me", headers=operator["headers"]).get_json()
    assert me["profile"]["company_id"] == company_id


@pytest.mark.parametrize(
    ("role", "company", "reason"),
    [
        ("operator", None, "Required"),
        ("operator", "missing", "No active transport company"),
        ("operator", "inactive", "No active transport company"),
        ("sales", "active", "Only an operator"),
        ("admin", "active", "Only an operator"),
    ],
)
def test_create_employee_company_rules_are_422(
    app, client, actors, role, company, reason
):
    ids = {
        None: None,
        "missing": 999,
        "inactive": transport_company(app, "OFF", active=False),
        "active": transport_company(app, "ON"),
    }
    headers = actors.headers("admin")
    before = count(app)

    response = client.post(
        URL, json=new_employee(role=role, company_id=ids[company]), headers=headers
    )

    assert response.status_code == 422
    assert reason in response.get_json()["errors"]["company_id"][0]
    assert count(app) == before


def test_create_operator_without_company_field_is_422(client, actors):
    response = client.post(
        URL, json=new_employee(role="operator"), headers=actors.headers("admin")
    )

    assert response.status_code == 422
    assert "company_id" in response.get_json()["errors"]


def test_make_an_employee_an_operator_and_back(app, client, actors):
    company_id = transport_company(app, "EMC")
    target = actors.employee("sales")
    headers = actors.headers("admin")

    no_company = client.patch(
        f"{URL}/{target['id']}", json={"role": "operator"}, headers=headers
    )
    promoted = client.patch(
        f"{URL}/{target['id']}",
        json={"role": "operator", "company_id": company_id},
        headers=headers,
    )
    demoted = client.patch(
        f"{URL}/{target['id']}", json={"role": "finance"}, headers=headers
    )

    assert no_company.status_code == 422
    assert "company_id" in no_company.get_json()["errors"]
    assert promoted.status_code == 200
    assert promoted.get_json()["company_id"] == company_id
    # Leaving the operator role clears the company.
    assert demoted.status_code == 200
    assert demoted.get_json()["company_id"] is None
    stored = row(app, target["id"])
    assert (stored.role, stored.company_id) == ("finance", None)
    actions = [action for action, _ in audit_actions_of(app, target["id"])]
    assert actions == [
        "employee.role_changed",
        "employee.company_changed",
        "employee.role_changed",
        "employee.company_changed",
    ]


def test_move_an_operator_to_another_company(app, client, actors):
    first = transport_company(app, "ONE")
    second = transport_company(app, "TWO")
    closed = transport_company(app, "SHUT", active=False)
    operator = actors.employee("operator", company_id=first)
    headers = actors.headers("admin")

    moved = client.patch(
        f"{URL}/{operator['id']}", json={"company_id": second}, headers=headers
    )
    to_closed = client.patch(
        f"{URL}/{operator['id']}", json={"company_id": closed}, headers=headers
    )
    to_none = client.patch(
        f"{URL}/{operator['id']}", json={"company_id": None}, headers=headers
    )
    renamed = client.patch(
        f"{URL}/{operator['id']}", json={"name": "Still Operator"}, headers=headers
    )

    assert moved.status_code == 200
    assert moved.get_json()["company_id"] == second
    assert to_closed.status_code == 422
    assert to_none.status_code == 422
    assert renamed.status_code == 200
    assert row(app, operator["id"]).company_id == second
    changed = [d for a, d in audit_actions_of(app, operator["id"]) if "company" in a]
    assert changed == [{"from": first, "to": second}]


def test_operator_of_a_deactivated_company_keeps_it_on_other_edits(app, client, actors):
    company_id = transport_company(app, "EMC")
    operator = actors.employee("operator", company_id=company_id)
    with app.app_context():
        db.session.get(TransportCompany, company_id).active = False
        db.session.commit()

    response = client.patch(
        f"{URL}/{operator['id']}",
        json={"role": "operator", "company_id": company_id, "phone": "+1 555 0101"},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 200
    assert response.get_json()["company_id"] == company_id


def test_company_id_on_another_role_is_422(app, client, actors):
    company_id = transport_company(app, "EMC")
    target = actors.employee("sales")

    response = client.patch(
        f"{URL}/{target['id']}",
        json={"company_id": company_id},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 422
    assert row(app, target["id"]).company_id is None


def test_hr_cannot_set_an_operator_company(app, client, actors):
    first = transport_company(app, "ONE")
    second = transport_company(app, "TWO")
    operator = actors.employee("operator", company_id=first)

    response = client.patch(
        f"{URL}/{operator['id']}",
        json={"company_id": second},
        headers=actors.headers("hr"),
    )

    assert response.status_code == 403
    assert row(app, operator["id"]).company_id == first


def test_the_database_refuses_an_operator_without_company(app, password_hash):
    """The `operator_company` CHECK backs the rule (models/account.py)."""
    from sqlalchemy.exc import IntegrityError

    company_id = transport_company(app, "EMC")
    with app.app_context():
        for role, company in (("operator", None), ("sales", company_id)):
            db.session.add(
                Employee(
                    name="Bad",
                    email=f"bad-{role}@staff.test",
                    role=role,
                    company_id=company,
                    password_hash=password_hash,
                )
            )
            with pytest.raises(IntegrityError):
                db.session.commit()
            db.session.rollback()
