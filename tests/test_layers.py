"""Services take the request facts as arguments (docs/architecture.md "Layers"):
no module under services/ reads the HTTP request, the request globals or the JWT
itself. The route layer builds a services.audit.RequestFacts (routes/request_facts.py)
and passes it down.

`.importlinter` forbids services -> auth.decorators and flask_jwt_extended; it cannot
tell `from flask import request` from `from flask import current_app` (one external
package), so this test reads the imports of every services/ module with `ast`.
"""

import ast
from pathlib import Path

import pytest

from routes.request_facts import request_facts
from services.audit import RequestFacts

ROOT = Path(__file__).resolve().parent.parent
SERVICES = sorted((ROOT / "services").glob("*.py"))

# Names of flask that belong to the request: reading them is the route layer's job.
REQUEST_NAMES = {"request", "g", "session", "has_request_context"}
# click too: CLI commands and their progress bars live with the CLI (cli.py); the
# seed services take a `progress` factory instead (services.common.NoProgress).
FORBIDDEN_MODULES = ("auth.decorators", "flask_jwt_extended", "flask.globals", "click")
# The causing request id stamped on outbox rows (read from observability, which
# reads `g`) so that worker logs carry it; threading it through every enqueue is
# left for later. Any other service reading it is refused.
OBSERVABILITY_ALLOWED = {"outbox.py"}


def _offences(path: Path) -> list[str]:
    """The request-reading imports and attribute reads of one module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "flask":
                names = {alias.name for alias in node.names} & REQUEST_NAMES
                found += [f"from flask import {name}" for name in sorted(names)]
            if node.module.startswith(FORBIDDEN_MODULES):
                found.append(f"from {node.module} import ...")
            if node.module == "observability" and path.name not in (
                OBSERVABILITY_ALLOWED
            ):
                found.append("from observability import ...")
        elif isinstance(node, ast.Import):
            found += [
                f"import {alias.name}"
                for alias in node.names
                if alias.name.startswith(FORBIDDEN_MODULES)
            ]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "flask"
            and node.attr in REQUEST_NAMES
        ):
            found.append(f"flask.{node.attr}")
    return found


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_service_does_not_read_the_request(path):
    assert _offences(path) == []


def test_the_check_finds_request_reads(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text(
        "import flask\nfrom flask import current_app, g, request\n"
        "from auth.decorators import caller\nx = flask.request\nimport click\n"
    )
    assert _offences(module) == [
        "from flask import g",
        "from flask import request",
        "from auth.decorators import ...",
        "import click",
        "flask.request",
    ]


def test_request_facts_outside_a_request_are_empty(app):
    with app.app_context():
        assert request_facts() == RequestFacts()


def test_request_facts_of_an_anonymous_request(app):
    environ = {"REMOTE_ADDR": "2001:db8::7"}
    with app.test_request_context("/", environ_base=environ):
        facts = request_facts()
    assert (facts.actor, facts.ip) == (None, "2001:db8::7")
