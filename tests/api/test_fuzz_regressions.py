"""Regression tests for what schemathesis found against the live server
(scripts/fuzz.py, `make fuzz`). Each test names the finding; each checks the answer
the API gives and that the served spec documents exactly that answer.
"""

import io

import pytest

from core.errors import problem
from core.extensions import db
from models import Employee
from services.accounts import customers as customer_service
from services.accounts import employees as employee_service
from services.booking import bookings as booking_service
from services.catalogue import departures as departure_service
from services.catalogue import packages as package_service
from services.payments import invoices as invoice_service
from services.payments import payments as payment_service
from services.payments import refunds as refund_service
from services.sales import enquiries as enquiry_service

API = "/api/v1"
PROBLEM_MIME = "application/problem+json"
PACKAGE = {
    "title": "Island Hopping",
    "destination": "Crete",
    "duration_days": 3,
    "base_price": "850.00",
}


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get(f"{API}/openapi.json").get_json()


def documented(spec, method, path, status):
    """The spec's response object for `status` of `method path` (refs followed), or
    None when that status is not documented."""
    response = spec["paths"][path][method]["responses"].get(str(status))
    while isinstance(response, dict) and "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
    return response


def assert_documented_problem(spec, method, path, response):
    """`response` is a problem whose status, media type and members the spec lists."""
    doc = documented(spec, method, path, response.status_code)
    assert doc is not None, f"{response.status_code} not documented for {method} {path}"
    assert response.mimetype == PROBLEM_MIME and list(doc["content"]) == [PROBLEM_MIME]
    body = response.get_json()
    assert body["status"] == response.status_code
    assert {"type", "title", "status", "detail"} <= set(body)


# ST105 "Undocumented Content-Type": every error left as application/problem+json
# while the spec said application/json with flask-smorest's {code, status, message}.
@pytest.mark.parametrize(
    "method, url, path, headers_role, body",
    [
        ("get", "/packages/2147483647", "/api/v1/packages/{package_id}", None, None),
        ("get", "/auth/me", "/api/v1/auth/me", None, None),
        ("get", "/customers?per_page=101", "/api/v1/customers", "admin", None),
        ("get", "/customers", "/api/v1/customers", "customer", None),
        ("post", "/packages", "/api/v1/packages", "admin", "not json"),
    ],
)
def test_error_answers_are_the_documented_problem(
    client, actors, spec, method, url, path, headers_role, body
):
    headers = actors.headers(headers_role) if headers_role else {}
    kwargs = {"headers": headers}
    if body is not None:
        kwargs.update(data=body, content_type="text/plain")
    response = getattr(client, method)(f"{API}{url}", **kwargs)
    assert response.status_code in (401, 403, 404, 415, 422)
    assert_documented_problem(spec, method, path, response)


# ST103 "Undocumented status code": a wrong password is 401, which login did not list.
def test_login_with_a_wrong_password_is_a_documented_401(client, spec):
    response = client.post(
        f"{API}/auth/login",
        json={
            "email": "nobody@example.com",
            "password": "wrong",
            "account": "customer",
        },
    )
    assert response.status_code == 401
    assert_documented_problem(spec, "post", "/api/v1/auth/login", response)


# An invalid token on an endpoint that also serves anonymous callers is 401, which
# the spec did not list (it did not mention the token at all).
def test_invalid_token_on_an_optional_login_endpoint_is_a_documented_401(client, spec):
    response = client.get(
        f"{API}/packages", headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert response.status_code == 401
    assert_documented_problem(spec, "get", "/api/v1/packages", response)
    assert spec["paths"]["/api/v1/packages"]["get"]["security"] == [
        {"bearerAuth": []},
        {},
    ]


# ST202 "Schema-valid request rejected": `sort` was any string up to 30 characters in
# the spec, but only some columns are sortable (422 for the rest).
SORTS = [
    ("/api/v1/bookings", booking_service.SORTABLE, "admin"),
    ("/api/v1/customers", customer_service.SORTABLE, "admin"),
    ("/api/v1/employees", employee_service.SORTABLE, "admin"),
    ("/api/v1/enquiries", enquiry_service.SORTABLE, "admin"),
    ("/api/v1/invoices", invoice_service.SORTABLE, "finance"),
    ("/api/v1/packages", package_service.SORTABLE, "admin"),
    ("/api/v1/payments", payment_service.SORTABLE, "finance"),
    ("/api/v1/refunds", refund_service.SORTABLE, "finance"),
    ("/api/v1/packages/{package_id}/departures", departure_service.SORTABLE, "admin"),
]


@pytest.mark.parametrize("path, sortable, role", SORTS)
def test_sort_enum_in_the_spec_is_what_the_service_sorts_by(
    client, actors, spec, path, sortable, role
):
    parameters = spec["paths"][path]["get"]["parameters"]
    enum = next(p for p in parameters if p["name"] == "sort")["schema"]["enum"]
    assert sorted(enum) == sorted([*sortable, *(f"-{name}" for name in sortable)])
    url = path.replace("{package_id}", str(_package_id(client, actors)))
    for value in (sortable[0], f"-{sortable[-1]}"):
        assert (
            client.get(
                url, query_string={"sort": value}, headers=actors.headers(role)
            ).status_code
            == 200
        )
    refused = client.get(
        url, query_string={"sort": "--id"}, headers=actors.headers(role)
    )
    assert refused.status_code == 422
    assert "query.sort" in refused.get_json()["errors"]


def _package_id(client, actors) -> int:
    response = client.post(
        f"{API}/packages", json=PACKAGE, headers=actors.headers("admin")
    )
    assert response.status_code == 201
    return response.get_json()["id"]


# ST202: `prices: {}` is refused (at least the adult price) but the spec did not say
# so (apispec leaves a Dict's Length validator out).
def test_empty_prices_are_refused_and_documented_as_min_properties(
    client, actors, spec
):
    properties = spec["components"]["schemas"]["DepartureCreate"]["properties"]
    assert properties["prices"]["minProperties"] == 1
    package_id = _package_id(client, actors)
    response = client.post(
        f"{API}/packages/{package_id}/departures",
        json={
            "start_date": "2031-05-01",
            "end_date": "2031-05-03",
            "capacity": 10,
            "prices": {},
        },
        headers=actors.headers("admin"),
    )
    assert response.status_code == 422
    assert "prices" in response.get_json()["errors"]


# ST108 "Response violates schema": a Decimal(as_string=True) report column such as
# the funnel's conversion_rate was documented as a number, sent as "12.5".
def test_decimal_string_report_columns_are_documented_as_strings(client, actors, spec):
    customer = actors.customer()
    raised = client.post(
        f"{API}/enquiries",
        json={
            "customer_id": customer["id"],
            "subject": "Trip",
            "message": "Breakfast?",
        },
        headers=actors.headers("sales"),
    )
    assert raised.status_code == 201
    response = client.get(
        f"{API}/reports/enquiries/funnel", headers=actors.headers("admin")
    )
    assert response.status_code == 200
    rows = response.get_json()["rows"]
    assert rows and all(isinstance(row["conversion_rate"], str) for row in rows)
    row_schema = spec["components"]["schemas"]["EnquiriesFunnelRow"]
    assert row_schema["properties"]["conversion_rate"]["type"] == "string"


# ST201 "Schema-violating request accepted": a PATCH without a body changed nothing
# and answered 200 while the spec said the body was required.
def test_patch_without_a_body_is_a_documented_no_op(client, actors, spec):
    package_id = _package_id(client, actors)
    response = client.patch(
        f"{API}/packages/{package_id}", headers=actors.headers("admin")
    )
    assert response.status_code == 200
    assert response.get_json()["title"] == PACKAGE["title"]
    body = spec["paths"]["/api/v1/packages/{package_id}"]["patch"]["requestBody"]
    assert body["required"] is False


# ST201: `"active": 0` (an integer, not a JSON boolean) deactivated an employee.
@pytest.mark.parametrize("value", [0, 1, "false", "yes", None])
def test_employee_active_takes_only_json_booleans(app, client, actors, value):
    employee = actors.employee("sales")
    response = client.patch(
        f"{API}/employees/{employee['id']}",
        json={"active": value},
        headers=actors.headers("admin"),
    )
    assert response.status_code == 422
    assert "active" in response.get_json()["errors"]
    with app.app_context():
        assert db.session.get(Employee, employee["id"]).active is True


@pytest.mark.parametrize(
    "url_role_body",
    [
        ("/customers/{customer}", "admin", {"active": "false"}),
        ("/packages", "admin", {**PACKAGE, "duration_days": "3"}),
        ("/packages", "admin", {**PACKAGE, "duration_days": 3.0}),
        ("/packages", "admin", {**PACKAGE, "deposit_percent": True}),
    ],
)
def test_body_booleans_and_integers_are_strict_json_types(
    client, actors, url_role_body
):
    url, role, body = url_role_body
    url = url.replace("{customer}", str(actors.customer()["id"]))
    method = client.patch if "customers" in url else client.post
    response = method(f"{API}{url}", json=body, headers=actors.headers(role))
    assert response.status_code == 422, response.get_json()


# The 409 for a refused enquiry transition carried `"status": "<enquiry status>"`,
# replacing the problem's HTTP status (an integer by RFC 9457 and the spec).
def test_enquiry_transition_conflict_keeps_the_problem_status(client, actors, spec):
    customer = actors.customer()
    raised = client.post(
        f"{API}/enquiries",
        json={
            "customer_id": customer["id"],
            "subject": "Trip",
            "message": "Breakfast?",
        },
        headers=actors.headers("sales"),
    )
    enquiry_id = raised.get_json()["id"]
    moved = client.patch(
        f"{API}/enquiries/{enquiry_id}",
        json={"stage": "contacted"},
        headers=actors.headers("admin"),
    )
    assert moved.status_code == 200
    response = client.patch(
        f"{API}/enquiries/{enquiry_id}",
        json={"stage": "new"},
        headers=actors.headers("admin"),
    )
    assert response.status_code == 409
    body = response.get_json()
    assert body["status"] == 409
    assert body["current_stage"] == "contacted" and "new" not in body["allowed"]
    assert_documented_problem(spec, "patch", "/api/v1/enquiries/{enquiry_id}", response)


def test_problem_extra_members_never_replace_the_rfc_9457_members(app):
    with app.test_request_context():
        response = problem(
            409,
            "Refused.",
            code="conflict",
            extra={
                "type": "x",
                "title": "y",
                "status": "new",
                "detail": "z",
                "instance": "/i",
                "seats_left": 0,
            },
        )
    body = response.get_json()
    assert body == {
        "type": "/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "Refused.",
        "seats_left": 0,
    }
    assert list(body)[:4] == ["type", "title", "status", "detail"]


# 500 on PostgreSQL (text cannot hold NUL): free-text fields without a NUL check
# reached the database. Now 422 on the field, and the spec's `pattern` says so. The
# body is validated before any lookup, so unknown ids are fine here.
NUL_INPUTS = [
    (
        "post",
        "/enquiries",
        "sales",
        {"customer_id": 1, "subject": "Tr\x00ip", "message": "x"},
        "subject",
    ),
    ("post", "/enquiries/2147483647/notes", "sales", {"body": "a\x00b"}, "body"),
    (
        "post",
        "/customers/2147483647/wallet",
        "finance",
        {"amount": "10.00", "reason": "a\x00b"},
        "reason",
    ),
    ("post", "/bookings/2147483647/cancel", "admin", {"reason": "a\x00b"}, "reason"),
    (
        "post",
        "/bookings/2147483647/payments",
        "finance",
        {"amount": "10.00", "method": "card", "reference": "a\x00b"},
        "reference",
    ),
    (
        "post",
        "/refunds/2147483647/complete",
        "finance",
        {"reference": "a\x00b"},
        "reference",
    ),
    (
        "post",
        "/bookings",
        "admin",
        {
            "departure_id": 1,
            "seats": 1,
            "customer_id": 1,
            "travellers": [{"name": "Cl\x00ara", "birth_date": "1990-01-01"}],
        },
        "travellers.0.name",
    ),
    ("get", "/enquiries?q=lis%00bon", "admin", None, "query.q"),
]


@pytest.mark.parametrize("method, url, role, body, field", NUL_INPUTS)
def test_nul_characters_in_free_text_are_a_422_on_the_field(
    client, actors, method, url, role, body, field
):
    headers = actors.headers(role) if role else {}
    kwargs = (
        {"headers": headers} if body is None else {"headers": headers, "json": body}
    )
    response = getattr(client, method)(f"{API}{url}", **kwargs)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


# ST202 in the stateful phase: a note body "\n\x1f" was schema-valid (ECMA-262's \S,
# the dialect of JSON Schema `pattern`, matches \x1f) but refused as blank (Python's
# \s includes \x1c-\x1f). The patterns now spell the space characters out, so both
# dialects agree; a leading space before a name is fine in both.
def test_blank_means_the_same_to_the_spec_and_the_api(client, actors, spec):
    import re

    pattern = spec["components"]["schemas"]["NoteCreate"]["properties"]["body"][
        "pattern"
    ]
    assert "\\s" not in pattern and "\\A" not in pattern
    assert re.search(pattern, "\n\x1f") is None
    response = client.post(
        f"{API}/enquiries/2147483647/notes",
        json={"body": "\n\x1f"},
        headers=actors.headers("sales"),
    )
    assert response.status_code == 422
    name = spec["components"]["schemas"]["Traveller"]["properties"]["name"]["pattern"]
    assert re.search(name, " Clara")
    booked = client.post(
        f"{API}/bookings",
        json={
            "departure_id": 2147483647,
            "seats": 1,
            "customer_id": 1,
            "travellers": [{"name": " Clara", "birth_date": "1990-01-01"}],
        },
        headers=actors.headers("admin"),
    )
    assert "travellers.0.name" not in (booked.get_json().get("errors") or {})


# ST201: `"base_price": 0` (a JSON number) was accepted; money travels as decimal
# strings (docs/design.md "Rules with numbers"), and the spec says `type: string`.
@pytest.mark.parametrize("value", [0, 1200, 12.5])
def test_money_as_a_json_number_is_a_422(client, actors, spec, value):
    package_id = _package_id(client, actors)
    response = client.patch(
        f"{API}/packages/{package_id}",
        json={"base_price": value},
        headers=actors.headers("admin"),
    )
    assert response.status_code == 422
    assert "base_price" in response.get_json()["errors"]
    assert (
        spec["components"]["schemas"]["PackageUpdate"]["properties"]["base_price"][
            "type"
        ]
        == "string"
    )
    wallet = client.post(
        f"{API}/customers/{actors.customer()['id']}/wallet",
        json={"amount": value, "reason": "Goodwill"},
        headers=actors.headers("finance"),
    )
    assert wallet.status_code == 422 and "amount" in wallet.get_json()["errors"]


MAX = "9999999999.99"


# ST108 (SQLite: a wallet_balance beyond the documented money pattern) and a 500 on
# PostgreSQL (numeric field overflow): two maximal credits overflowed the wallet.
def test_a_credit_beyond_the_largest_balance_is_a_409_and_writes_nothing(
    client, actors
):
    customer = actors.customer()
    url = f"{API}/customers/{customer['id']}/wallet"
    first = client.post(
        url,
        json={"amount": MAX, "reason": "Goodwill"},
        headers=actors.headers("finance"),
    )
    assert first.status_code == 201
    second = client.post(
        url,
        json={"amount": "0.01", "reason": "Goodwill"},
        headers=actors.headers("finance"),
    )
    assert second.status_code == 409
    assert second.get_json()["type"] == "/problems/wallet-limit"
    assert second.get_json()["balance"] == MAX
    wallet = client.get(url, headers=actors.headers("finance")).get_json()
    assert wallet["balance"] == MAX and wallet["meta"]["total"] == 1
    debit = client.post(
        url,
        json={"amount": "-0.99", "reason": "Fix"},
        headers=actors.headers("finance"),
    )
    assert debit.status_code == 201


# A 500 on PostgreSQL (numeric field overflow), an undocumented total on SQLite: 50
# seats at the largest price made a total no money column holds.
def test_a_booking_total_beyond_the_largest_amount_is_a_422(client, actors):
    staff = actors.headers("operation")
    package = client.post(
        f"{API}/packages",
        json={
            **PACKAGE,
            "base_price": MAX,
            "itinerary": [{"day_number": 1, "title": "Go"}],
        },
        headers=staff,
    ).get_json()
    departure = client.post(
        f"{API}/packages/{package['id']}/departures",
        json={"start_date": "2031-01-01", "end_date": "2031-01-03", "capacity": 100},
        headers=staff,
    ).get_json()
    assert (
        client.post(f"{API}/packages/{package['id']}/submit", headers=staff).status_code
        == 200
    )
    approved = client.post(
        f"{API}/packages/{package['id']}/approve",
        headers=actors.headers("operation_head"),
    )
    assert approved.status_code == 200
    customer = actors.customer()
    too_many = client.post(
        f"{API}/bookings",
        json={"departure_id": departure["id"], "seats": 2},
        headers=customer["headers"],
    )
    assert too_many.status_code == 422
    assert "seats" in too_many.get_json()["errors"]
    one = client.post(
        f"{API}/bookings",
        json={"departure_id": departure["id"], "seats": 1},
        headers=customer["headers"],
    )
    assert one.status_code == 201 and one.get_json()["total_amount"] == MAX
    seats = client.get(f"{API}/departures/{departure['id']}", headers=staff).get_json()
    assert seats["seats_taken"] == 1


# ST103 "Undocumented status code": a GTFS import naming an unknown company is 404
# (the company is checked before the archive is read), which the spec did not list.
def test_gtfs_import_for_an_unknown_company_is_a_documented_404(client, actors, spec):
    response = client.post(
        f"{API}/transport/gtfs",
        query_string={"company_id": 2147483646},
        data={"file": (io.BytesIO(b"feed.zip"), "file")},
        content_type="multipart/form-data",
        headers=actors.headers("admin"),
    )

    assert response.status_code == 404
    assert_documented_problem(spec, "post", "/api/v1/transport/gtfs", response)


# The other transport operations whose path names no record but whose query or body
# does (an unknown route, an operator naming another company) answer 404 too.
@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/transport/gtfs.zip"),
        ("post", "/api/v1/transport/routes"),
        ("post", "/api/v1/transport/trips"),
        ("post", "/api/v1/transport/schedules"),
        ("post", "/api/v1/transport/vehicles"),
    ],
)
def test_transport_writes_naming_a_record_document_404(spec, method, path):
    assert documented(spec, method, path, 404) is not None
