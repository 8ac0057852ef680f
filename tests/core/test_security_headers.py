"""Security headers on every response, errors and 404s included."""

import base64
import hashlib
import re

import pytest

from app import create_app
from core.extensions import db

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NO_STORE = "no-store"
API_CSP = "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize(
    "method, path, status, cache_control",
    [
        ("get", "/health", 200, NO_STORE),
        # The anonymous catalogue is the one publicly cacheable answer
        # (routes/common/caching.py); everything else is never stored.
        ("get", "/api/v1/packages", 200, "public, max-age=60"),
        ("get", "/api/v1/openapi.json", 200, NO_STORE),
        ("get", "/api/v1/nothing-here", 404, NO_STORE),
        ("get", "/api/v1/auth/me", 401, NO_STORE),
        ("delete", "/api/v1/auth/login", 405, NO_STORE),
        ("post", "/api/v1/auth/login", 422, NO_STORE),
    ],
)
def test_every_response_has_the_security_headers(
    client, method, path, status, cache_control
):
    response = getattr(client, method)(path, json={})
    assert response.status_code == status
    for name, value in EXPECTED.items():
        assert response.headers[name] == value
    assert response.headers["Cache-Control"] == cache_control
    assert response.headers["Content-Security-Policy"] == API_CSP
    assert "Strict-Transport-Security" not in response.headers


def test_authenticated_responses_are_not_stored(client, actors):
    response = client.get("/api/v1/auth/me", headers=actors.headers("finance"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_docs_page_csp_admits_its_own_assets_and_inline_script_only(client, app):
    response = client.get("/api/docs")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert app.config["OPENAPI_SWAGGER_UI_URL"] == "/api/docs/assets/"
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert directives["script-src"].startswith("'self' 'sha256-")
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert "'unsafe-inline'" not in directives["script-src"]
    inline = re.findall(
        r"<script>(.*?)</script>", response.get_data(as_text=True), re.DOTALL
    )
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in directives["script-src"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_production_adds_hsts(app):
    production = create_app(
        "production",
        {
            "SECRET_KEY": "s" * 40,
            "JWT_SECRET_KEY": "j" * 40,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        },
    )
    try:
        response = production.test_client().get("/api/v1/nothing-here")
    finally:
        with production.app_context():
            db.session.remove()
            db.engine.dispose()
    assert response.status_code == 404
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
