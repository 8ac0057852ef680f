"""One error shape everywhere: RFC 9457 problem details for every failure."""

import logging

import pytest

from app import create_app
from tests.core.conftest import assert_problem


def test_unknown_path_404_problem(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_wrong_method_405_with_allow(client):
    response = client.put("/api/v1/auth/login", json={})
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_malformed_json_400(client):
    response = client.post(
        "/api/v1/auth/login", data='{"email": ', content_type="application/json"
    )
    body = assert_problem(response, 400)
    assert body["type"] == "/problems/malformed-json"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml"],
)
def test_wrong_content_type_415(client, content_type):
    response = client.post(
        "/api/v1/auth/login", data="email=a", content_type=content_type
    )
    assert_problem(response, 415)


def test_validation_422_lists_fields(client):
    response = client.post(
        "/api/v1/auth/login",
        json={"email": 5, "password": "x", "account": "robot", "extra": 1},
    )
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"email", "account", "extra"}
    assert all(isinstance(v, list) for v in body["errors"].values())


def test_json_array_body_422(client):
    response = client.post("/api/v1/auth/login", json=[1, 2])
    assert_problem(response, 422)


def test_query_validation_errors_prefixed(client, actors):
    response = client.get(
        "/api/v1/employees?per_page=1000", headers=actors.headers("admin")
    )
    body = assert_problem(response, 422)
    assert "query.per_page" in body["errors"]


@pytest.mark.parametrize("ident", ["2147483648", "99999999999999999999", "-1", "abc"])
def test_out_of_range_ids_404(client, actors, ident):
    response = client.get(f"/api/v1/employees/{ident}", headers=actors.headers("admin"))
    assert_problem(response, 404)


def test_unauthenticated_bad_body_gets_401_not_422(client):
    response = client.post("/api/v1/auth/otp", json={"bogus": True})
    assert_problem(response, 401)


def test_unexpected_error_500_problem_without_traceback(caplog):
    application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @application.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR):
        response = application.test_client().get("/boom")
    body = assert_problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert body["type"] == "/problems/internal-error"
    assert any(r.exc_info for r in caplog.records), "the traceback is logged"


def test_integrity_error_409_problem():
    from sqlalchemy.exc import IntegrityError

    application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @application.get("/dup")
    def dup():
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    body = assert_problem(application.test_client().get("/dup"), 409)
    assert "UNIQUE" not in body["detail"]
