"""/api/v1/transport/companies and /transport/amenities (docs/transport.md
"Companies and operators", "Amenities"): every role, an operator confined to its own
company (another's is 404), validation (422) and conflicts (409)."""

import pytest
from sqlalchemy import select

from core.extensions import db
from models import Amenity, AuditEntry, TransportCompany, Vehicle
from tests.factories import assert_problem, item_ids, one_page_meta
from tests.transport.conftest import (
    TRANSPORT,
    make_company,
    make_route,
    make_station,
    make_vehicle,
    operator_of,
)

COMPANIES = f"{TRANSPORT}/companies"
AMENITIES = f"{TRANSPORT}/amenities"
STAFF_READERS = ("admin", "hr", "sales", "operation", "operation_head", "finance")


def headers_of(app, actors, role: str, company_id: int) -> dict:
    """Bearer headers of `role`; `operator` works for `company_id`,
    `other_operator` for a company of its own."""
    if role == "operator":
        return operator_of(actors, company_id)["headers"]
    if role == "other_operator":
        return operator_of(actors, make_company(app))["headers"]
    return actors.headers(role)


def company_body(**overrides) -> dict:
    """A valid POST /transport/companies body."""
    body = {
        "name": "Emerald Coaches",
        "code": "EMC",
        "email": "Ops@Emerald.test",
        "phone": "+353 1 555 2000",
        "country": "IE",
        "website": "https://emerald.test",
        "timezone": "Europe/Dublin",
    }
    body.update(overrides)
    return body


def stored(app, company_id) -> TransportCompany | None:
    """The company as stored (detached), or None."""
    with app.app_context():
        company = db.session.get(TransportCompany, company_id)
        if company is not None:
            db.session.expunge(company)
        return company


def audit_actions(app, entity_type: str) -> list[str]:
    """The audit actions recorded on `entity_type`, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity_type == entity_type)
                .order_by(AuditEntry.id)
            )
        )


# --- companies: read ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [*((role, 200) for role in STAFF_READERS), ("customer", 403), ("anonymous", 401)],
)
def test_company_list_and_item_by_role(app, client, actors, role, status):
    first = make_company(app, name="Alpha Rail", code="ALR")
    second = make_company(app, name="Beta Bus", code="BEB")
    headers = actors.headers(role)

    listing = client.get(COMPANIES, headers=headers)
    item = client.get(f"{COMPANIES}/{second}", headers=headers)

    assert listing.status_code == status
    assert item.status_code == status
    if status == 200:
        assert item_ids(listing) == [first, second]
        assert listing.get_json()["meta"] == one_page_meta(2)
        assert item.get_json()["code"] == "BEB"


def test_operator_sees_only_its_own_company(app, client, actors):
    own = make_company(app, name="Own Lines", code="OWN")
    other = make_company(app, name="Other Lines", code="OTH")
    headers = operator_of(actors, own)["headers"]

    listing = client.get(COMPANIES, headers=headers)
    mine = client.get(f"{COMPANIES}/{own}", headers=headers)
    theirs = client.get(f"{COMPANIES}/{other}", headers=headers)

    assert item_ids(listing) == [own]
    assert listing.get_json()["meta"]["total"] == 1
    assert mine.status_code == 200
    assert mine.get_json()["name"] == "Own Lines"
    assert_problem(theirs, 404)
    # A filter cannot widen the operator's view.
    assert item_ids(client.get(f"{COMPANIES}?q=Other", headers=headers)) == []


def test_company_list_filters_sorts_and_pages(app, client, actors):
    alpha = make_company(app, name="Alpha Rail", code="ALR")
    beta = make_company(app, name="Beta Bus", code="BEB", active=False)
    gamma = make_company(app, name="Gamma Ferries", code="GAF")
    headers = actors.headers("sales")

    def ids(query):
        response = client.get(f"{COMPANIES}?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return item_ids(response)

    assert ids("") == [alpha, beta, gamma]
    assert ids("active=true") == [alpha, gamma]
    assert ids("active=false") == [beta]
    assert ids("q=bus") == [beta]
    assert ids("q=gaf") == [gamma]
    assert ids("sort=-name") == [gamma, beta, alpha]
    assert ids("sort=code") == [alpha, beta, gamma]
    assert ids("per_page=2&page=2") == [gamma]
    assert_problem(client.get(f"{COMPANIES}?sort=email", headers=headers), 422)


def test_unknown_company_is_404(client, actors):
    assert_problem(client.get(f"{COMPANIES}/999", headers=actors.headers("admin")), 404)


# --- companies: create --------------------------------------------------------------


def test_admin_creates_a_company(app, client, actors):
    response = client.post(
        COMPANIES, json=company_body(country="ie"), headers=actors.headers("admin")
    )

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in company_body()} == {
        **company_body(),
        "email": "ops@emerald.test",
    }
    assert body["active"] is True
    company = stored(app, body["id"])
    assert (company.code, company.country, company.timezone) == (
        "EMC",
        "IE",
        "Europe/Dublin",
    )
    assert audit_actions(app, "transport_company") == ["transport_company.created"]


def test_company_defaults_timezone_utc_and_optional_contacts(client, actors):
    response = client.post(
        COMPANIES,
        json={"name": "Plain Co", "code": "PLN", "country": "FR"},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["timezone"] == "UTC"
    assert body["active"] is True
    assert body["email"] is None and body["website"] is None


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("operation", 403),
        ("operator", 403),
        ("sales", 403),
        ("hr", 403),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
def test_only_admin_creates_companies(app, client, actors, role, status):
    own = make_company(app)
    headers = headers_of(app, actors, role, own)

    response = client.post(COMPANIES, json=company_body(), headers=headers)

    assert_problem(response, status)
    with app.app_context():
        assert (
            db.session.scalar(
                select(TransportCompany.id).where(TransportCompany.code == "EMC")
            )
            is None
        )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "IRL"}, "country"),
        ({"country": None}, "country"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "Europe/Nowhere"}, "timezone"),
        ({"website": "ftp://emerald.test"}, "website"),
        ({"email": "not-an-email"}, "email"),
        ({"code": "has space"}, "code"),
        ({"name": "   "}, "name"),
        ({"active": "yes"}, "active"),
    ],
)
def test_company_validation_is_422(client, actors, overrides, field):
    response = client.post(
        COMPANIES, json=company_body(**overrides), headers=actors.headers("admin")
    )

    body = assert_problem(response, 422)
    assert field in str(body["errors"]), body


@pytest.mark.parametrize("missing", ["name", "code", "country"])
def test_company_required_fields(client, actors, missing):
    body = company_body()
    del body[missing]

    response = client.post(COMPANIES, json=body, headers=actors.headers("admin"))

    assert missing in str(assert_problem(response, 422)["errors"])


def test_company_code_taken_is_409(app, client, actors):
    make_company(app, code="EMC")

    response = client.post(
        COMPANIES, json=company_body(), headers=actors.headers("admin")
    )

    assert assert_problem(response, 409)["type"] == "/problems/code-taken"


# --- companies: edit, deactivate, delete ---------------------------------------------


def test_admin_edits_and_deactivates_a_company(app, client, actors):
    company_id = make_company(app, code="OLD")
    headers = actors.headers("admin")

    edited = client.patch(
        f"{COMPANIES}/{company_id}",
        json={"name": "New Name", "code": "NEW", "country": "pt", "phone": None},
        headers=headers,
    )
    off = client.patch(
        f"{COMPANIES}/{company_id}", json={"active": False}, headers=headers
    )

    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["country"] == "PT"
    assert off.status_code == 200
    assert off.get_json()["active"] is False
    company = stored(app, company_id)
    assert (company.name, company.code, company.active) == ("New Name", "NEW", False)
    assert audit_actions(app, "transport_company") == [
        "transport_company.updated",
        "transport_company.deactivated",
    ]
    active_ids = item_ids(client.get(f"{COMPANIES}?active=true", headers=headers))
    assert company_id not in active_ids


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("operation", 403),
        ("operator", 403),
        ("other_operator", 403),
        ("finance", 403),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
def test_only_admin_edits_and_deletes_companies(app, client, actors, role, status):
    company_id = make_company(app, name="Kept")
    headers = headers_of(app, actors, role, company_id)

    patched = client.patch(
        f"{COMPANIES}/{company_id}", json={"name": "Changed"}, headers=headers
    )
    deleted = client.delete(f"{COMPANIES}/{company_id}", headers=headers)

    assert_problem(patched, status)
    assert_problem(deleted, status)
    assert stored(app, company_id).name == "Kept"


@pytest.mark.parametrize(
    ("changes", "status", "kind"),
    [
        ({"country": "QQ"}, 422, "/problems/validation-error"),
        ({"timezone": "Nowhere/City"}, 422, "/problems/validation-error"),
        ({"code": "TAKEN"}, 409, "/problems/code-taken"),
        ({"active": None}, 422, "/problems/validation-error"),
    ],
)
def test_company_edit_refusals(app, client, actors, changes, status, kind):
    make_company(app, code="TAKEN")
    company_id = make_company(app, code="MINE")

    response = client.patch(
        f"{COMPANIES}/{company_id}", json=changes, headers=actors.headers("admin")
    )

    assert assert_problem(response, status)["type"] == kind
    assert stored(app, company_id).code == "MINE"


def test_company_keeps_its_own_code_on_edit(app, client, actors):
    company_id = make_company(app, code="SAME")

    response = client.patch(
        f"{COMPANIES}/{company_id}",
        json={"code": "SAME", "name": "Renamed"},
        headers=actors.headers("admin"),
    )

    assert response.status_code == 200
    assert response.get_json()["name"] == "Renamed"


def test_admin_deletes_an_unused_company(app, client, actors):
    company_id = make_company(app)

    response = client.delete(
        f"{COMPANIES}/{company_id}", headers=actors.headers("admin")
    )

    assert response.status_code == 204
    assert stored(app, company_id) is None
    assert audit_actions(app, "transport_company") == ["transport_company.deleted"]
    missing = client.delete(
        f"{COMPANIES}/{company_id}", headers=actors.headers("admin")
    )
    assert_problem(missing, 404)


@pytest.mark.parametrize("record", ["vehicle", "route", "operator"])
def test_company_with_records_cannot_be_deleted(app, client, actors, record):
    company_id = make_company(app)
    if record == "vehicle":
        make_vehicle(app, company_id)
    elif record == "route":
        make_route(app, company_id, [make_station(app), make_station(app)])
    else:
        operator_of(actors, company_id)

    response = client.delete(
        f"{COMPANIES}/{company_id}", headers=actors.headers("admin")
    )

    assert assert_problem(response, 409)["type"] == "/problems/company-in-use"
    assert stored(app, company_id) is not None


# --- amenities ---------------------------------------------------------------------


def make_amenity(app, code: str, name: str | None = None) -> int:
    """An amenity straight in the database; returns its id."""
    with app.app_context():
        amenity = Amenity(code=code, name=name or code.title())
        db.session.add(amenity)
        db.session.commit()
        return amenity.id


@pytest.mark.parametrize(
    ("role", "status"),
    [
        *((role, 200) for role in STAFF_READERS),
        ("operator", 200),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
def test_amenity_reads_by_role(app, client, actors, role, status):
    wifi = make_amenity(app, "wifi", "Wi-Fi")
    meal = make_amenity(app, "meal", "Meal")
    headers = headers_of(app, actors, role, make_company(app))

    listing = client.get(AMENITIES, headers=headers)
    item = client.get(f"{AMENITIES}/{wifi}", headers=headers)

    assert listing.status_code == status
    assert item.status_code == status
    if status == 200:
        assert item_ids(listing) == [meal, wifi]
        assert item.get_json() == {"id": wifi, "code": "wifi", "name": "Wi-Fi"}


def test_amenity_search_and_unknown(app, client, actors):
    make_amenity(app, "wifi", "Wi-Fi")
    power = make_amenity(app, "power", "Power sockets")
    headers = actors.headers("sales")

    assert item_ids(client.get(f"{AMENITIES}?q=sock", headers=headers)) == [power]
    assert_problem(client.get(f"{AMENITIES}/999", headers=headers), 404)


def test_admin_manages_amenities(app, client, actors):
    headers = actors.headers("admin")

    created = client.post(
        AMENITIES, json={"code": "wheelchair", "name": "Wheelchair"}, headers=headers
    )
    amenity_id = created.get_json()["id"]
    renamed = client.patch(
        f"{AMENITIES}/{amenity_id}",
        json={"name": "Wheelchair space", "code": "wheelchair_space"},
        headers=headers,
    )
    deleted = client.delete(f"{AMENITIES}/{amenity_id}", headers=headers)

    assert created.status_code == 201
    assert renamed.status_code == 200
    assert renamed.get_json() == {
        "id": amenity_id,
        "code": "wheelchair_space",
        "name": "Wheelchair space",
    }
    assert deleted.status_code == 204
    with app.app_context():
        assert db.session.get(Amenity, amenity_id) is None
    assert audit_actions(app, "amenity") == [
        "amenity.created",
        "amenity.updated",
        "amenity.deleted",
    ]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("operation", 403),
        ("operator", 403),
        ("sales", 403),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
def test_only_admin_writes_amenities(app, client, actors, role, status):
    amenity_id = make_amenity(app, "meal", "Meal")
    headers = headers_of(app, actors, role, make_company(app))

    assert_problem(
        client.post(AMENITIES, json={"code": "wifi", "name": "Wi-Fi"}, headers=headers),
        status,
    )
    assert_problem(
        client.patch(f"{AMENITIES}/{amenity_id}", json={"name": "X"}, headers=headers),
        status,
    )
    assert_problem(client.delete(f"{AMENITIES}/{amenity_id}", headers=headers), status)
    with app.app_context():
        assert db.session.get(Amenity, amenity_id).name == "Meal"


@pytest.mark.parametrize(
    "body",
    [
        {"code": "Wi Fi", "name": "Wi-Fi"},
        {"code": "WIFI", "name": "Wi-Fi"},
        {"code": "wifi"},
        {"name": "Wi-Fi"},
        {"code": "wifi", "name": ""},
    ],
)
def test_amenity_validation_is_422(client, actors, body):
    response = client.post(AMENITIES, json=body, headers=actors.headers("admin"))

    assert_problem(response, 422)


def test_amenity_code_taken_is_409(app, client, actors):
    make_amenity(app, "wifi")
    meal = make_amenity(app, "meal")
    headers = actors.headers("admin")

    created = client.post(
        AMENITIES, json={"code": "wifi", "name": "W"}, headers=headers
    )
    renamed = client.patch(
        f"{AMENITIES}/{meal}", json={"code": "wifi"}, headers=headers
    )

    assert assert_problem(created, 409)["type"] == "/problems/code-taken"
    assert assert_problem(renamed, 409)["type"] == "/problems/code-taken"


def test_amenity_a_vehicle_uses_cannot_be_deleted(app, client, actors):
    amenity_id = make_amenity(app, "wifi")
    vehicle_id = make_vehicle(app, make_company(app))
    with app.app_context():
        vehicle = db.session.get(Vehicle, vehicle_id)
        vehicle.amenities.append(db.session.get(Amenity, amenity_id))
        db.session.commit()

    response = client.delete(
        f"{AMENITIES}/{amenity_id}", headers=actors.headers("admin")
    )

    assert assert_problem(response, 409)["type"] == "/problems/amenity-in-use"
    with app.app_context():
        assert db.session.get(Amenity, amenity_id) is not None
