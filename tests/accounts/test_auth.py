"""Login, tokens, refresh, logout, /auth/me, self-registration and account state."""

from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token
from sqlalchemy import select

from core.extensions import db
from models import Customer, Employee, RevokedSession
from tests.accounts.conftest import login
from tests.conftest import PASSWORD


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_login_employee_returns_tokens(client, actors):
    emp = actors.employee("sales")
    response = login(client, emp["email"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["access_token"] and body["refresh_token"]


def test_login_email_is_case_insensitive(client, actors):
    emp = actors.employee("hr")
    assert login(client, emp["email"].upper()).status_code == 200


@pytest.mark.parametrize(
    "email,password,account",
    [
        ("nobody@example.test", PASSWORD, "employee"),
        (None, "wrong-password", "employee"),
        (None, PASSWORD, "customer"),  # an employee email is not a customer login
    ],
)
def test_login_bad_credentials_401_same_answer(
    client, actors, email, password, account
):
    emp = actors.employee("sales")
    response = login(client, email or emp["email"], password, account)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "Invalid email or password."


def test_login_customer_without_password_refused(client, app):
    with app.app_context():
        db.session.add(Customer(name="No Pass", email="nopass@example.test"))
        db.session.commit()
    assert login(client, "nopass@example.test", PASSWORD, "customer").status_code == 401


def test_login_inactive_account_refused(client, actors, app):
    emp = actors.employee("sales", active=False)
    assert login(client, emp["email"]).status_code == 401


def test_me_shows_type_role_profile_without_password(client, actors):
    emp = actors.employee("finance")
    body = client.get("/api/v1/auth/me", headers=emp["headers"]).get_json()
    assert body["type"] == "employee"
    assert body["role"] == "finance"
    assert body["profile"]["email"] == emp["email"]
    assert "password" not in body["profile"] and "password_hash" not in body["profile"]


def test_me_customer(client, actors):
    cust = actors.customer()
    body = client.get("/api/v1/auth/me", headers=cust["headers"]).get_json()
    assert (body["type"], body["role"]) == ("customer", "customer")
    assert body["profile"]["id"] == cust["id"]


def test_me_without_token_401(client):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json()["status"] == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-jwt", "Bearer ", "Basic abc", "Bearer a.b.c"],
)
def test_me_bad_token_401_problem(client, header):
    response = client.get("/api/v1/auth/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_expired_token_401(client, app, actors):
    emp = actors.employee("hr")
    with app.test_request_context():
        token = create_access_token(
            identity=f"employee:{emp['id']}",
            expires_delta=timedelta(seconds=-10),
            additional_claims={"sid": "x"},
        )
    response = client.get("/api/v1/auth/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["type"] == "/problems/token-expired"


def test_refresh_gives_new_access_token(client, actors):
    emp = actors.employee("sales")
    tokens = login(client, emp["email"]).get_json()
    response = client.post(
        "/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])
    )
    assert response.status_code == 200
    new_access = response.get_json()["access_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(new_access)).status_code == 200


def test_refresh_with_access_token_refused(client, actors):
    emp = actors.employee("sales")
    tokens = login(client, emp["email"]).get_json()
    response = client.post(
        "/api/v1/auth/refresh", headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 401


def test_access_token_cannot_be_used_as_refresh_and_vice_versa(client, actors):
    emp = actors.employee("sales")
    tokens = login(client, emp["email"]).get_json()
    assert (
        client.get(
            "/api/v1/auth/me", headers=bearer(tokens["refresh_token"])
        ).status_code
        == 401
    )


def test_logout_revokes_access_and_refresh(client, actors, app):
    emp = actors.employee("sales")
    tokens = login(client, emp["email"]).get_json()
    assert (
        client.post(
            "/api/v1/auth/logout", headers=bearer(tokens["access_token"])
        ).status_code
        == 204
    )
    assert (
        client.get(
            "/api/v1/auth/me", headers=bearer(tokens["access_token"])
        ).status_code
        == 401
    )
    refreshed = client.post(
        "/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])
    )
    assert refreshed.status_code == 401
    assert refreshed.get_json()["type"] == "/problems/token-revoked"
    with app.app_context():
        assert (
            db.session.scalar(select(db.func.count()).select_from(RevokedSession)) == 1
        )


def test_logout_other_sessions_stay_valid(client, actors):
    emp = actors.employee("sales")
    first = login(client, emp["email"]).get_json()
    second = login(client, emp["email"]).get_json()
    client.post("/api/v1/auth/logout", headers=bearer(first["access_token"]))
    assert (
        client.get(
            "/api/v1/auth/me", headers=bearer(second["access_token"])
        ).status_code
        == 200
    )


def test_logout_without_token_401(client):
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_deactivated_account_tokens_stop_at_once(client, actors, app):
    emp = actors.employee("operation")
    assert client.get("/api/v1/auth/me", headers=emp["headers"]).status_code == 200
    with app.app_context():
        db.session.get(Employee, emp["id"]).active = False
        db.session.commit()
    assert client.get("/api/v1/auth/me", headers=emp["headers"]).status_code == 401


def test_register_customer_201_and_can_login(client, app):
    response = client.post(
        "/api/v1/auth/register",
        json={
            "name": "Ada",
            "email": "Ada@Example.test",
            "password": "long-enough",
            "phone": "+44 20 7946 0000",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "ada@example.test"
    assert "password" not in body
    with app.app_context():
        stored = db.session.scalar(
            select(Customer).where(Customer.email == "ada@example.test")
        )
        assert stored.password_hash.startswith("scrypt:")
        assert "long-enough" not in stored.password_hash
    assert (
        login(client, "ada@example.test", "long-enough", "customer").status_code == 200
    )


@pytest.mark.parametrize(
    "extra", [{"role": "admin"}, {"active": False}, {"account": "employee"}]
)
def test_register_never_accepts_role_or_privileges(client, app, extra):
    body = {
        "name": "Eve",
        "email": "eve@example.test",
        "password": "long-enough",
        **extra,
    }
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == list(extra)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Customer)) == 0
        assert db.session.scalar(select(db.func.count()).select_from(Employee)) == 0


def test_register_duplicate_email_409(client, actors):
    cust = actors.customer()
    response = client.post(
        "/api/v1/auth/register",
        json={"name": "Dup", "email": cust["email"].upper(), "password": "long-enough"},
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": "A", "email": "not-an-email", "password": "long-enough"}, "email"),
        ({"name": "A", "email": "a@example.test", "password": "short"}, "password"),
        ({"name": "", "email": "a@example.test", "password": "long-enough"}, "name"),
        ({"name": 12, "email": "a@example.test", "password": "long-enough"}, "name"),
        ({"email": "a@example.test", "password": "long-enough"}, "name"),
    ],
)
def test_register_validation_422_per_field(client, body, field):
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
