"""The committed docs/openapi.json matches the spec the app serves.

Both sides go through scripts/export_openapi.py `normalise` (sorted keys, indent 2,
every key kept, `servers` included, one trailing newline) before they are compared.
"""

import difflib
import json

import pytest

from scripts.export_openapi import normalise
from tests import ROOT

COMMITTED = ROOT / "docs" / "openapi.json"
FIX = "docs/openapi.json is out of date: run `make openapi` and commit the result"


def _served(client) -> str:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return normalise(response.get_json())


def test_committed_spec_matches_served_spec(client):
    assert COMMITTED.is_file(), "docs/openapi.json is missing: run `make openapi`"
    committed = COMMITTED.read_text(encoding="utf-8")
    served = _served(client)
    if committed != served:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                served.splitlines(keepends=True),
                "docs/openapi.json (committed)",
                "/api/v1/openapi.json (served)",
                n=2,
            )
        )
        lines = diff.splitlines()
        shown = "\n".join(lines[:80]) + ("\n..." if len(lines) > 80 else "")
        raise AssertionError(f"{FIX}\n{shown}")


def test_committed_spec_is_in_normal_form():
    text = COMMITTED.read_text(encoding="utf-8")
    assert text == normalise(json.loads(text)), FIX


def test_cli_export_equals_served_spec(app, client, tmp_path):
    target = tmp_path / "spec.json"
    result = app.test_cli_runner().invoke(args=["openapi", "write", str(target)])
    assert result.exit_code == 0, result.output
    assert normalise(json.loads(target.read_text(encoding="utf-8"))) == _served(client)


def test_normalise_keeps_servers_and_sorts():
    servers = [{"url": "/", "description": "This server"}, {"url": "/v2"}]
    spec = {
        "paths": {},
        "servers": servers,
        "openapi": "3.0.3",
        "info": {"version": "v1", "title": "T"},
    }
    text = normalise(spec)
    assert json.loads(text)["servers"] == servers  # list order kept
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert list(json.loads(text)) == ["info", "openapi", "paths", "servers"]
    assert text == normalise(json.loads(text))


def test_committed_spec_keeps_the_served_servers(client):
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    served = client.get("/api/v1/openapi.json").get_json()
    assert (
        committed["servers"]
        == served["servers"]
        == [{"url": "/", "description": "This server (paths start at its root)"}]
    )


def test_postman_files_match_a_fresh_build():
    from scripts.build_postman import outputs

    for path, text in outputs(COMMITTED).items():
        assert path.is_file(), f"{path.name} is missing: run `make postman`"
        assert path.read_text(encoding="utf-8") == text, (
            f"docs/postman/{path.name} is out of date: run `make postman` and commit it"
        )


def test_postman_walkthrough_refuses_an_operation_missing_from_the_spec():
    from scripts.build_postman import BuildError, build

    spec = json.loads(COMMITTED.read_text(encoding="utf-8"))
    del spec["paths"]["/api/v1/bookings/{booking_id}/cancellation-quote"]
    with pytest.raises(BuildError, match="cancellation-quote"):
        build(spec)
