"""Application factory, configuration, health, OpenAPI, CLI and admin bootstrap."""

import pytest
from sqlalchemy import select

from app import create_app
from config import DEV_SECRET, normalise_database_url
from core.extensions import db
from models import Employee


def test_health_up(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_health_ready_checks_database(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_health_ready_503_when_database_unreachable():
    application = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
        },
    )
    response = application.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"


def test_openapi_spec_and_docs_served(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    body = spec.get_json()
    assert body["openapi"].startswith("3.")
    assert "/api/v1/auth/login" in body["paths"]
    assert body["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert body["paths"]["/api/v1/auth/me"]["get"]["security"] == [{"bearerAuth": []}]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.data.lower()


@pytest.mark.parametrize(
    "secrets",
    [
        {},
        {"SECRET_KEY": DEV_SECRET, "JWT_SECRET_KEY": DEV_SECRET},
        {"SECRET_KEY": "x" * 31, "JWT_SECRET_KEY": "y" * 40},
        {"SECRET_KEY": "x" * 40, "JWT_SECRET_KEY": "short"},
    ],
)
def test_production_refuses_default_or_short_secrets(monkeypatch, secrets):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    overrides = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
    overrides.update({k: v for k, v in secrets.items()})
    if not secrets:
        overrides.update({"SECRET_KEY": DEV_SECRET, "JWT_SECRET_KEY": DEV_SECRET})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", overrides)


def test_production_starts_with_strong_secrets():
    application = create_app(
        "production",
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "s" * 48,
            "JWT_SECRET_KEY": "j" * 48,
        },
    )
    assert application.config["TESTING"] is False


def test_unknown_config_name_refused():
    with pytest.raises(RuntimeError, match="APP_CONFIG"):
        create_app("staging")


@pytest.mark.parametrize(
    "url,expected",
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_uses_psycopg3(url, expected):
    assert normalise_database_url(url) == expected


def test_create_admin_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "Boss@Example.test",
            "--password",
            "long-password",
            "--name",
            "Boss",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        admin = db.session.scalar(
            select(Employee).where(Employee.email == "boss@example.test")
        )
        assert admin.role == "admin" and admin.password_hash.startswith("scrypt:")
    again = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "boss@example.test",
            "--password",
            "long-password",
        ]
    )
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_create_admin_short_password_refused(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "a@example.test", "--password", "short"]
    )
    assert result.exit_code != 0


def test_admin_bootstrap_from_environment(app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "ADMIN_EMAIL": "first@example.test",
        "ADMIN_PASSWORD": "first-admin-pw",
    }
    create_app("testing", settings)
    create_app("testing", {**settings, "ADMIN_EMAIL": "second@example.test"})
    with app.app_context():
        admins = db.session.scalars(
            select(Employee).where(Employee.role == "admin")
        ).all()
        assert [a.email for a in admins] == ["first@example.test"]
    response = app.test_client().post(
        "/api/v1/auth/login",
        json={
            "email": "first@example.test",
            "password": "first-admin-pw",
            "account": "employee",
        },
    )
    assert response.status_code == 200
