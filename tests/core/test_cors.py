"""CORS for the dashboard origins in CORS_ORIGINS, nothing by default."""

import pytest

from app import create_app
from core.extensions import db

DASHBOARD = "https://dash.example.com"
ME = "/api/v1/auth/me"


@pytest.fixture
def cors_client(app):
    """A client of an app on the session database allowing two dashboard origins
    (given as the comma-separated environment form)."""
    application = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "CORS_ORIGINS": f" {DASHBOARD} , https://ops.example.com",
        },
    )
    yield application.test_client()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def header_set(response, name):
    """A comma-separated header as a set of lower-cased names."""
    return {item.strip().lower() for item in response.headers[name].split(",")}


def preflight(client, origin, path=ME, method="GET", headers="Authorization"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_allowed_origin_gets_cors_on_simple_request(cors_client, actors):
    response = cors_client.get(
        ME, headers={"Origin": DASHBOARD, **actors.headers("sales")}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert "Origin" in response.headers["Vary"]
    exposed = header_set(response, "Access-Control-Expose-Headers")
    assert {"x-request-id", "retry-after", "location"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_allowed_origin_gets_cors_on_error_responses(cors_client):
    response = cors_client.get(ME, headers={"Origin": DASHBOARD})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD


def test_preflight_for_allowed_origin(cors_client):
    response = preflight(
        cors_client,
        "https://ops.example.com",
        path="/api/v1/bookings",
        method="POST",
        headers="Authorization, Content-Type, Idempotency-Key, X-Request-ID",
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://ops.example.com"
    allowed = header_set(response, "Access-Control-Allow-Headers")
    assert allowed == {
        "authorization",
        "content-type",
        "idempotency-key",
        "x-request-id",
    }
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_preflight_refuses_other_headers(cors_client):
    response = preflight(cors_client, DASHBOARD, headers="X-Evil")
    assert "Access-Control-Allow-Headers" not in response.headers


@pytest.mark.parametrize(
    "origin", ["https://evil.example.com", "https://dash.example.com.evil.test", "null"]
)
def test_other_origins_get_no_cors_headers(cors_client, origin):
    for response in (
        cors_client.get("/api/v1/packages", headers={"Origin": origin}),
        preflight(cors_client, origin),
    ):
        assert not [
            h for h, _ in response.headers.items() if h.startswith("Access-Control-")
        ]


def test_only_api_paths_answer_cors(cors_client):
    response = cors_client.get("/health", headers={"Origin": DASHBOARD})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_default_config_sends_no_cors_headers(client):
    assert client.application.config["CORS_ORIGINS"] == []
    for response in (
        client.get("/api/v1/packages", headers={"Origin": DASHBOARD}),
        preflight(client, DASHBOARD),
    ):
        assert not [
            h for h, _ in response.headers.items() if h.startswith("Access-Control-")
        ]


def test_cors_not_on_provider_webhook(cors_client):
    """The payment provider's webhook is server-to-server: no CORS answer for it,
    while the API keeps answering the dashboard."""
    hook = preflight(
        cors_client,
        DASHBOARD,
        path="/api/v1/webhooks/stripe",
        method="POST",
        headers="Content-Type",
    )
    assert "Access-Control-Allow-Origin" not in hook.headers
    api = preflight(cors_client, DASHBOARD)
    assert api.headers["Access-Control-Allow-Origin"] == DASHBOARD
