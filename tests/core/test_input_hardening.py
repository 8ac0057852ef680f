"""Hostile request bodies get a 4xx problem, never a 500 (docs/security.md;
docs/design.md "API conventions": errors): deeply nested JSON, a lone UTF-16
surrogate, a datetime that overflows when converted to UTC, a body over
MAX_CONTENT_LENGTH (413, refused before parsing), non-ASCII digits in decimal
fields."""

import pytest

from tests.factories import make_package, post_departure

AUTH = "/api/v1/auth"


def assert_problem(response, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.content_type.startswith("application/problem+json")
    assert response.get_json()["status"] == status


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        '{"a":' * 5_000 + "1" + "}" * 5_000,
        '{"email": "a@b.test", "password": "x", "account": "customer", "x": '
        + "[" * 3_000
        + "]" * 3_000
        + "}",
    ],
    ids=["100k-brackets", "5k-objects", "deep-value"],
)
def test_login_deeply_nested_json_is_400(client, body):
    response = client.post(f"{AUTH}/login", data=body, content_type="application/json")
    assert_problem(response, 400)


def test_register_lone_surrogate_in_name_is_400(client):
    body = (
        '{"name": "Ann \\ud800", "email": "ann@example.test", '
        '"password": "long-password-1"}'
    )
    response = client.post(
        f"{AUTH}/register", data=body, content_type="application/json"
    )
    assert_problem(response, 400)


def test_register_paired_surrogates_are_fine(client):
    body = (
        '{"name": "Ann \\ud83d\\ude00", "email": "ann@example.test", '
        '"password": "long-password-1"}'
    )
    response = client.post(
        f"{AUTH}/register", data=body, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.get_json()["name"] == "Ann \U0001f600"


@pytest.mark.parametrize(
    "cutoff",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
    ],
)
def test_departure_booking_cutoff_out_of_utc_range_is_422(client, actors, cutoff):
    package_id = make_package(client, actors, publish=False)
    response = post_departure(client, actors, package_id, booking_cutoff=cutoff)
    assert_problem(response, 422)
    assert "booking_cutoff" in str(response.get_json()["errors"])


def test_body_over_max_content_length_is_413_before_parsing(client, app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    body = b'{"email": "' + b"a" * (50 * 1024 * 1024) + b'"}'
    response = client.post(f"{AUTH}/login", data=body, content_type="application/json")
    assert_problem(response, 413)


def test_body_just_under_max_content_length_is_parsed(client):
    body = '{"email": "a@b.test", "password": "x", "account": "customer", "pad": "'
    body += "a" * (1024 * 1024 - len(body) - 2) + '"}'
    response = client.post(f"{AUTH}/login", data=body, content_type="application/json")
    assert_problem(response, 422)  # parsed; the unknown field is refused


@pytest.mark.parametrize(
    "price", ["\uff11\uff12\uff10\uff10.\uff10\uff10", "١٢٠٠", "12\u00b3"]
)
def test_decimal_fields_refuse_non_ascii_digits(client, actors, price):
    package_id = make_package(client, actors, publish=False)
    response = post_departure(client, actors, package_id, price=price)
    assert_problem(response, 422)
    assert "price" in response.get_json()["errors"]
