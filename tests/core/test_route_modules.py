"""Every URL is served by the route module named after its URL family: the first
path segment after /api/v1, hyphens as underscores (`/bookings/**` in
routes/bookings.py, `/enquiry-lost-reasons/**` in routes/enquiry_lost_reasons.py),
or by a module of the package of that name (`/transport/**` in routes/transport/;
docs/architecture.md "Where things live")."""

import pytest

API_PREFIX = "/api/v1/"

# Rules served outside routes/, on purpose: (path prefix, serving module, reason).
EXCEPTIONS = (
    ("/static/", "flask.app", "Flask's own static files"),
    ("/dashboard", "dashboard", "the staff dashboard's built files, not an API"),
    ("/api/docs/assets/", "core.swagger_ui", "Swagger UI's pinned files"),
    ("/api/docs", "flask_smorest.spec", "the interactive API docs (Swagger UI)"),
    ("/api/v1/openapi.json", "flask_smorest.spec", "the OpenAPI document"),
)


def serving_module(app, rule) -> str:
    """The module that defines the view of `rule` (the MethodView class for
    flask-smorest resources)."""
    view = app.view_functions[rule.endpoint]
    owner = getattr(view, "view_class", view)
    return owner.__module__


def expected_module(path: str) -> str:
    """`routes.<segment>` for /api/v1/<segment>/..., `routes.health` for /health."""
    if path.startswith(API_PREFIX):
        segment = path[len(API_PREFIX) :].split("/")[0]
    else:
        segment = path.strip("/").split("/")[0]
    return "routes." + segment.replace("-", "_")


def test_every_rule_is_served_by_the_module_named_after_its_prefix(app):
    wrong = []
    for rule in app.url_map.iter_rules():
        module = serving_module(app, rule)
        exception = next((e for e in EXCEPTIONS if rule.rule.startswith(e[0])), None)
        if exception is not None:
            if not module.startswith(exception[1]):
                wrong.append(f"{rule.rule}: {module}, listed as {exception[1]}")
            continue
        expected = expected_module(rule.rule)
        if module != expected and not module.startswith(expected + "."):
            wrong.append(f"{rule.rule}: {module}, not {expected_module(rule.rule)}")
    assert wrong == []


def test_each_route_module_mounts_one_blueprint_at_its_own_prefix(app):
    from routes import BLUEPRINTS

    for blueprint, prefix in BLUEPRINTS:
        assert blueprint.import_name == expected_module(prefix + "/")
        rules = [
            r
            for r in app.url_map.iter_rules()
            if r.endpoint.startswith(blueprint.name + ".")
        ]
        assert rules, blueprint.name
        assert all(r.rule.startswith(prefix) for r in rules), blueprint.name


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("/api/v1/bookings/<int:booking_id>/payments", "routes.bookings"),
        ("/api/v1/enquiry-lost-reasons", "routes.enquiry_lost_reasons"),
        ("/health/ready", "routes.health"),
    ],
)
def test_expected_module_names_the_url_family(path, module):
    assert expected_module(path) == module
