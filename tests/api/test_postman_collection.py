"""The committed Postman collection runs as a whole from a fresh import
(scripts/build_postman.py; `make newman` runs it against a live server in CI).

Checked here on the built files: a collection-level pre-request script logs in with
the environment's credentials; every id a request needs was stored by an earlier
request of the run; every generated request carries tests; destructive requests
come last, the logout at the very end.
"""

import json
import re

import pytest

from tests import ROOT

COLLECTION = ROOT / "docs" / "postman" / "easy-travels.postman_collection.json"
ENVIRONMENT = ROOT / "docs" / "postman" / "easy-travels.postman_environment.json"
VARIABLE = re.compile(r"\{\{(\w+)\}\}")
STORED = re.compile(r"""pm\.environment\.set\(\s*["'](\w+)["']""")


@pytest.fixture(scope="module")
def collection():
    return json.loads(COLLECTION.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def environment():
    document = json.loads(ENVIRONMENT.read_text(encoding="utf-8"))
    return {value["key"]: value["value"] for value in document["values"]}


def requests_in_order(collection):
    """(folder name, item) of every request, in run order."""
    return [
        (folder["name"], item)
        for folder in collection["item"]
        for item in folder["item"]
    ]


def script(item, listen):
    return "\n".join(
        line
        for event in item.get("event", [])
        if event["listen"] == listen
        for line in event["script"]["exec"]
    )


def used_variables(item):
    """Environment variables the request's URL, path variables, headers and body use."""
    request = item["request"]
    text = json.dumps(
        [request["url"], request.get("header", []), request.get("body", {})]
    )
    return set(VARIABLE.findall(text))


def test_collection_logs_in_before_requests_when_no_token_is_stored(
    collection, environment
):
    prerequest = "\n".join(
        line
        for event in collection["event"]
        if event["listen"] == "prerequest"
        for line in event["script"]["exec"]
    )
    assert 'pm.environment.get("staffAccessToken")' in prerequest
    assert "/api/v1/auth/login" in prerequest and "pm.sendRequest" in prerequest
    assert 'pm.variables.get("staffEmail")' in prerequest
    assert 'pm.variables.get("demoPassword")' in prerequest
    assert ".exp * 1000" in prerequest  # an expired token counts as none
    assert collection["auth"]["bearer"][0]["value"] == "{{staffAccessToken}}"
    # A fresh import: no token stored, the demo credentials as defaults.
    assert environment["staffAccessToken"] == ""
    assert environment["staffEmail"] == "admin@easytravels.test"
    assert environment["demoPassword"] == "demo-password-1"


def test_every_id_a_request_needs_was_stored_by_an_earlier_request(
    collection, environment
):
    stored = {key for key, value in environment.items() if value}
    missing = []
    for folder, item in requests_in_order(collection):
        stored |= set(STORED.findall(script(item, "prerequest")))
        for variable in sorted(used_variables(item)):
            if variable not in stored:
                missing.append(f"{folder} / {item['name']}: {{{{{variable}}}}}")
        stored |= set(STORED.findall(script(item, "test")))
    assert missing == []


def test_generated_requests_test_their_status(collection):
    generated = [(f, i) for f, i in requests_in_order(collection) if f != "Walkthrough"]
    assert len(generated) >= 70
    for _folder, item in generated:
        tests = script(item, "test")
        assert 'pm.test("no server error"' in tests, item["name"]
        assert 'pm.test("a documented status"' in tests, item["name"]
        if item["request"]["method"] == "GET":
            assert 'pm.test("read succeeds"' in tests, item["name"]


def test_creates_store_the_new_id(collection):
    items = {
        item["request"]["url"]["raw"].split("}}", 1)[1]
        + " "
        + item["request"]["method"]: item
        for _f, item in requests_in_order(collection)
    }
    assert 'pm.environment.set("packageId"' in script(
        items["/api/v1/packages POST"], "test"
    )
    assert 'pm.environment.set("bookingId"' in script(
        items["/api/v1/bookings POST"], "test"
    )


def test_destructive_requests_run_last_and_logout_at_the_very_end(collection):
    folders = collection["item"]
    assert folders[0]["name"] == "Walkthrough"
    last = folders[-1]
    assert last["name"] == "Destructive requests (run last)"
    methods = [item["request"]["method"] for item in last["item"]]
    assert methods.count("DELETE") >= 5
    assert last["item"][-1]["request"]["url"]["raw"].endswith("/api/v1/auth/logout")
    assert 'pm.environment.unset("staffAccessToken")' in script(
        last["item"][-1], "test"
    )
    for folder in folders[1:-1]:
        for item in folder["item"]:
            raw = item["request"]["url"]["raw"]
            assert item["request"]["method"] != "DELETE", raw
            assert not raw.endswith(("/cancel", "/archive", "/logout")), raw


def test_walkthrough_requests_are_numbered_in_run_order(collection):
    names = [item["name"] for item in collection["item"][0]["item"]]
    assert [name[:3] for name in names] == [f"{n:02d} " for n in range(len(names))]


def test_walkthrough_steps_come_in_groups():
    from scripts.postman_walkthrough import STEP_GROUPS, STEPS

    assert len(STEP_GROUPS) >= 5
    assert [step for group in STEP_GROUPS for step in group()] == STEPS
    assert all(not re.match(r"\d\d ", step["name"]) for step in STEPS)


def test_a_new_resource_gets_its_id_variable_filled_by_its_create():
    from scripts.build_postman import build

    spec = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    spec["components"]["schemas"]["Quote"] = {
        "type": "object",
        "properties": {"id": {"type": "integer", "readOnly": True}},
    }
    created = {
        "description": "Created",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Quote"}}
        },
    }
    spec["paths"]["/api/v1/quotes"] = {
        "post": {
            "tags": ["bookings"],
            "summary": "Create a quote",
            "responses": {"201": created},
        }
    }
    spec["paths"]["/api/v1/quotes/{quote_id}"] = {
        "get": {
            "tags": ["bookings"],
            "summary": "Show a quote",
            "parameters": [
                {
                    "name": "quote_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "responses": {"200": created},
        }
    }
    collection, environment = build(spec)
    assert "quoteId" in {value["key"] for value in environment["values"]}
    stored = {value["key"] for value in environment["values"] if value["value"]}
    for _folder, item in requests_in_order(collection):
        stored |= set(STORED.findall(script(item, "prerequest")))
        assert used_variables(item) <= stored, item["name"]
        stored |= set(STORED.findall(script(item, "test")))
    assert "quoteId" in stored
