"""What the catalogue tests share: the role lists (EDITORS may edit packages and
departures, STAFF are all employees, EVERYONE adds customers and anonymous callers),
`publish` / `published` (a package through maker-checker, for the package and
caching tests) and `package_status` (the stored status, for the departure tests).

Fixtures come from tests/conftest.py (`app`, `client`, `actors`); packages and
departures made through the API from tests/factories.py (`make_package`,
`create_package`, `post_departure`, `make_api_departure`, `day`).
"""

from core.extensions import db
from models import Package
from tests.factories import PACKAGES_URL, create_package

EDITORS = ["admin", "operation", "operation_head"]
STAFF = ["admin", "hr", "sales", "operation", "operation_head", "finance"]
EVERYONE = [*STAFF, "customer", "anonymous"]


def package_status(app, package_id: int) -> str:
    """The stored status of a package."""
    with app.app_context():
        return db.session.get(Package, package_id).status


def publish(client, actors, package_id: int) -> None:
    """Submit (operation) and approve (operation_head) a draft package."""
    submitted = client.post(
        f"{PACKAGES_URL}/{package_id}/submit", headers=actors.headers("operation")
    )
    assert submitted.status_code == 200, submitted.get_json()
    approved = client.post(
        f"{PACKAGES_URL}/{package_id}/approve", headers=actors.headers("operation_head")
    )
    assert approved.status_code == 200, approved.get_json()


def published(client, actors, **overrides) -> dict:
    """A published package created by `operation`."""
    package = create_package(client, actors, **overrides)
    publish(client, actors, package["id"])
    return package
