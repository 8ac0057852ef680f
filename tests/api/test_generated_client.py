"""A Python client generated from the served spec by openapi-python-client works.

The generator must accept the document without a warning (it stops on a response
without a description, and warns on what it cannot model); the generated client then
runs scripts/client_scenario.py (customer: login, list and search packages, book,
quote, cancel; admin: employees, a report) against the app on the demo data, through
httpx's WSGI transport, so it runs on SQLite and PostgreSQL alike. `make
client-check` runs the same scenario against a live server (CI).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from demo.seed import seed_demo
from scripts.client_scenario import GeneratedClient, Scenario
from tests import ROOT

PACKAGE = "easy_travels_test_client"


@pytest.fixture(scope="module")
def generated(app, tmp_path_factory):
    """The client generated from /api/v1/openapi.json into a temporary directory."""
    directory = tmp_path_factory.mktemp("generated-client")
    spec = directory / "openapi.json"
    spec.write_text(
        json.dumps(app.test_client().get("/api/v1/openapi.json").get_json())
    )
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(directory / PACKAGE),
            "--config",
            str(ROOT / "tools" / "openapi-client" / "config.yaml"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr
    return directory


def test_generator_names_functions_after_operation_ids(generated):
    modules = {path.stem for path in (generated / PACKAGE / "api").rglob("*.py")}
    assert {
        "list_packages",
        "get_package",
        "create_booking",
        "cancel_booking",
        "submit_package",
        "get_booking_cancellation_quote",
    } <= modules


def test_generated_client_runs_the_scenario(app, generated, capsys):
    with app.app_context():
        seed_demo(echo=lambda _line: None)
    transport = httpx.WSGITransport(app=app)
    scenario = Scenario(
        GeneratedClient(generated, PACKAGE, transport), "http://testserver"
    )
    scenario.customer_books_and_cancels()
    scenario.admin_reads()
    assert scenario.steps == 10
    assert "cancelled" in capsys.readouterr().out
