"""Services take the request facts as arguments (docs/architecture.md "Layers"):
no module under services/ reads the HTTP request, the request globals or the JWT
itself. The route layer builds a services.audit.audit.RequestFacts
(routes/common/request_facts.py) and passes it down.

`.importlinter` forbids services -> auth.decorators and flask_jwt_extended; it cannot
tell `from flask import request` from `from flask import current_app` (one external
package), so this test reads the imports of every services/ module with `ast`.
It also finds cycles between service modules across domains, which import-linter's
per-domain `acyclic_siblings` contract does not look for.
"""

import ast
from pathlib import Path

import grimp
import pytest

from routes.common.request_facts import request_facts
from services.audit.audit import RequestFacts
from tests import ROOT

SERVICES = sorted((ROOT / "services").rglob("*.py"))

# Names of flask that belong to the request: reading them is the route layer's job.
REQUEST_NAMES = {"request", "g", "session", "has_request_context"}
# click too: CLI commands and their progress bars live with the CLI (cli.py); the
# seed services take a `progress` factory instead (demo.progress.NoProgress).
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
            reads_observability = node.module == "core.observability" or (
                node.module == "core"
                and "observability" in {alias.name for alias in node.names}
            )
            if reads_observability and path.name not in OBSERVABILITY_ALLOWED:
                found.append(f"from {node.module} import ...")
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


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.relative_to(ROOT).as_posix())
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


def service_import_graph() -> dict[str, set[str]]:
    """Each services module and the services modules it imports (at the top or
    inside a function: an import hidden in a function still makes a cycle)."""
    graph = grimp.build_graph("services")
    return {
        module: {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if imported != module
        }
        for module in graph.modules
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_cycle_between_service_modules():
    assert cycles(service_import_graph()) == []


def test_the_cycle_check_finds_a_cycle_across_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
