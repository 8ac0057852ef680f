"""Account languages and buyer details (docs/i18n.md "Choosing the language",
docs/documents.md): `locale` on customers and employees, stored from
Accept-Language on self-registration, validated (en, de, es), settable on
PATCH /auth/me; `billing_address` and `vat_id` on customers."""

import pytest

from tests.accounts.conftest import AUTH
from tests.factories import assert_problem

CUSTOMERS = "/api/v1/customers"
EMPLOYEES = "/api/v1/employees"


def register(client, email, accept=None, **extra):
    headers = {"Accept-Language": accept} if accept else {}
    return client.post(
        f"{AUTH}/register",
        json={"name": "Greta", "email": email, "password": "a-password-1", **extra},
        headers=headers,
    )


@pytest.mark.parametrize(
    "accept,expected",
    [("de", "de"), ("es-MX,es;q=0.9", "es"), ("fr", "en"), (None, "en")],
)
def test_self_registration_stores_the_request_language(client, accept, expected):
    response = register(client, f"greta-{expected}@example.test", accept)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["locale"] == expected
    assert response.headers["Content-Language"] == expected


def test_self_registration_locale_in_the_body_wins(client):
    response = register(client, "greta@example.test", "de", locale="es")
    assert response.status_code == 201
    assert response.get_json()["locale"] == "es"


@pytest.mark.parametrize("bad", ["fr", "DE", "de-DE", "", 7])
def test_locale_must_be_a_supported_language(client, actors, bad):
    assert_problem(register(client, "x@example.test", locale=bad), 422)
    staff = actors.headers("sales")
    body = assert_problem(
        client.post(
            CUSTOMERS,
            json={"name": "A", "email": "a@example.test", "locale": bad},
            headers=staff,
        ),
        422,
    )
    assert "locale" in body["errors"]
    me = actors.customer()
    body = assert_problem(
        client.patch(
            f"{CUSTOMERS}/{me['id']}", json={"locale": bad}, headers=me["headers"]
        ),
        422,
    )
    assert list(body["errors"]) == ["locale"]
    body = assert_problem(
        client.patch(f"{AUTH}/me", json={"locale": bad}, headers=me["headers"]), 422
    )
    assert list(body["errors"]) == ["locale"]


def test_customer_edits_own_locale_and_buyer_details(client, actors):
    me = actors.customer()
    response = client.get(f"{CUSTOMERS}/{me['id']}", headers=me["headers"])
    assert response.get_json()["locale"] is None
    assert response.get_json()["billing_address"] is None
    assert response.get_json()["vat_id"] is None
    response = client.patch(
        f"{CUSTOMERS}/{me['id']}",
        json={
            "locale": "de",
            "billing_address": "Berg GmbH\nHafenstraße 1\n20457 Hamburg",
            "vat_id": "de123456789",
        },
        headers=me["headers"],
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["locale"], body["vat_id"]) == ("de", "DE123456789")
    assert body["billing_address"].startswith("Berg GmbH\n")
    # the account's language now answers, whatever Accept-Language says
    response = client.get(
        f"{AUTH}/me", headers={**me["headers"], "Accept-Language": "es"}
    )
    assert response.headers["Content-Language"] == "de"
    assert response.get_json()["profile"]["locale"] == "de"
    response = client.patch(
        f"{CUSTOMERS}/{me['id']}", json={"locale": None}, headers=me["headers"]
    )
    assert response.get_json()["locale"] is None


@pytest.mark.parametrize(
    "field,value",
    [
        ("vat_id", "DE 123"),
        ("vat_id", "X"),
        ("vat_id", "A" * 21),
        ("billing_address", "x" * 1001),
        ("billing_address", "a\x00b"),
    ],
)
def test_buyer_details_validated(client, actors, field, value):
    staff = actors.headers("sales")
    body = assert_problem(
        client.post(
            CUSTOMERS,
            json={"name": "A", "email": "a@example.test", field: value},
            headers=staff,
        ),
        422,
    )
    assert list(body["errors"]) == [field]


def test_staff_create_and_update_customer_with_locale_and_buyer(client, actors):
    staff = actors.headers("sales")
    response = client.post(
        CUSTOMERS,
        json={
            "name": "Lucía Gómez",
            "email": "lucia@example.test",
            "locale": "es",
            "billing_address": "Calle Mayor 1\n28013 Madrid",
            "vat_id": "ESB12345678",
        },
        headers={**staff, "Accept-Language": "de"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["locale"], body["vat_id"]) == ("es", "ESB12345678")
    # staff registration without a locale leaves it null (the customer's choice)
    response = client.post(
        CUSTOMERS,
        json={"name": "Nobody", "email": "nobody@example.test"},
        headers={**staff, "Accept-Language": "de"},
    )
    assert response.get_json()["locale"] is None
    response = client.patch(
        f"{CUSTOMERS}/{body['id']}",
        json={"locale": "en", "vat_id": None},
        headers=actors.headers("admin"),
    )
    assert (response.get_json()["locale"], response.get_json()["vat_id"]) == (
        "en",
        None,
    )


def test_employee_locale_on_create_update_and_answers(client, actors):
    admin = actors.headers("admin")
    response = client.post(
        EMPLOYEES,
        json={
            "name": "Jonas Weber",
            "email": "jonas@staff.test",
            "role": "sales",
            "password": "a-password-1",
            "locale": "de",
        },
        headers=admin,
    )
    assert response.status_code == 201, response.get_json()
    employee = response.get_json()
    assert employee["locale"] == "de"
    response = client.patch(
        f"{EMPLOYEES}/{employee['id']}",
        json={"locale": "es"},
        headers=actors.headers("hr"),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["locale"] == "es"
    listed = client.get(EMPLOYEES, headers=admin).get_json()["items"]
    assert {e["id"]: e["locale"] for e in listed}[employee["id"]] == "es"
    body = assert_problem(
        client.post(
            EMPLOYEES,
            json={
                "name": "X",
                "email": "x@staff.test",
                "role": "sales",
                "password": "a-password-1",
                "locale": "it",
            },
            headers=admin,
        ),
        422,
    )
    assert list(body["errors"]) == ["locale"]


def test_employee_sets_own_locale_on_me(client, actors):
    me = actors.employee("operation")
    response = client.patch(f"{AUTH}/me", json={"locale": "es"}, headers=me["headers"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["type"], body["profile"]["locale"]) == ("employee", "es")
    assert response.headers["Content-Language"] == "es"
    response = client.patch(f"{AUTH}/me", json={"locale": None}, headers=me["headers"])
    assert response.get_json()["profile"]["locale"] is None
    assert_problem(client.patch(f"{AUTH}/me", json={}, headers=me["headers"]), 422)
    assert_problem(client.patch(f"{AUTH}/me", json={"locale": "de"}), 401)
