"""core/json_output.py: JSON responses have exactly the bytes of Flask's standard
encoder, whether orjson or the fallback wrote them."""

import dataclasses
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from core.json_output import FastJSONProvider, fast_body


@dataclasses.dataclass
class Point:
    x: int
    y: str


SAMPLES = [
    {"items": [{"id": 1, "title": "Alpine", "price": "1200.00"}], "meta": {"n": 3}},
    {"b": 2, "a": 1},  # insertion order kept (sort_keys off)
    [None, True, False, 0, -7, 2**63 - 1, "", 'quote " and \\ backslash / slash'],
    {"control": "tab\there\nnew\r\x01\x1f\x08\x0c", "del": "x\x7fy"},
    {"name": "Zoë 東京 \u2028 😀"},
    {"money": Decimal("12.50"), "day": date(2026, 3, 4)},
    {"when": datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC), "id": uuid.UUID(int=5)},
    {"point": Point(1, "a")},
    {1: "int key"},
    {"big": 2**70},
    {"floats": [0.5, 1e-05, 1e16, 12.75]},
    {"looks": "3e5 and 2E-3"},
    "plain string",
    None,
]


def _apps(sort_keys=False):
    fast, plain = Flask("fast"), Flask("plain")
    fast.json = FastJSONProvider(fast)
    plain.json = DefaultJSONProvider(plain)
    fast.json.sort_keys = plain.json.sort_keys = sort_keys
    return fast, plain


@pytest.mark.parametrize("obj", SAMPLES, ids=range(len(SAMPLES)))
def test_response_bytes_equal_flask_default(obj):
    fast, plain = _apps()
    with fast.app_context():
        ours = fast.json.response(obj)
    with plain.app_context():
        theirs = plain.json.response(obj)
    assert ours.get_data() == theirs.get_data()
    assert ours.mimetype == theirs.mimetype == "application/json"


def test_orjson_writes_the_plain_cases():
    assert fast_body({"a": [1, "b", None]}, DefaultJSONProvider.default) == (
        b'{"a":[1,"b",null]}\n'
    )
    assert fast_body({"name": "Zoë"}, DefaultJSONProvider.default) is None
    assert fast_body({1: "x"}, DefaultJSONProvider.default) is None


def test_sorted_and_debug_output_keep_flask_behaviour():
    fast, plain = _apps(sort_keys=True)
    obj = {"b": 1, "a": {"d": 2, "c": 3}}
    with fast.app_context():
        ours = fast.json.response(obj).get_data()
    with plain.app_context():
        theirs = plain.json.response(obj).get_data()
    assert ours == theirs == b'{"a":{"c":3,"d":2},"b":1}\n'
    fast.debug = plain.debug = True
    fast.json.sort_keys = plain.json.sort_keys = False
    with fast.app_context():
        ours = fast.json.response(obj).get_data()
    with plain.app_context():
        theirs = plain.json.response(obj).get_data()
    assert ours == theirs


def test_problem_response_unchanged(client):
    answer = client.get("/api/v1/packages/999999")
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["status"] == 404
