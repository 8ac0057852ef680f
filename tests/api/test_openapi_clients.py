"""The served OpenAPI document is one code generators accept.

openapi-spec-validator passes it; every operation has a unique camelCase
`operationId`; every response has a description; response schemas list their
always-present properties as `required`; enumerated fields are enums; report CSV is
documented as `text/csv` beside the JSON. These walk every operation, so an endpoint
added later without these is caught here.
"""

import re

import pytest
from openapi_spec_validator import validate

from core.openapi_doc import operation_id
from models.account import ROLES
from models.billing import PAYMENT_METHODS, REFUND_DESTINATIONS, WALLET_ENTRY_KINDS
from models.booking import BOOKING_STATUSES
from models.package import PACKAGE_STATUSES
from schemas.booking.bookings import POLICY_TIERS
from services.booking.bookings import CANCELLATION_POLICY
from tests.openapi_walk import operations, resolve

CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
# Property names that always hold one of a fixed set of values.
ENUM_NAMES = {
    "status",
    "role",
    "method",
    "tier",
    "kind",
    "refund_to",
    "author_type",
    "transport_mode",
    "basis",
    "report",
    "token_type",
    "type",
}
NOT_ENUMS = {("Problem", "type")}  # RFC 9457: a URI reference, open-ended


def test_served_spec_passes_openapi_spec_validator(spec):
    validate(spec)  # raises OpenAPIValidationError with the first problem


def test_validator_rejects_a_response_without_description(spec):
    import copy

    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    broken = copy.deepcopy(spec)
    del broken["paths"]["/api/v1/packages"]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_operation_has_a_unique_camel_case_operation_id(spec):
    seen: dict[str, str] = {}
    for method, path, operation in operations(spec):
        where = f"{method.upper()} {path}"
        identifier = operation.get("operationId")
        assert identifier and CAMEL.match(identifier), (where, identifier)
        assert identifier not in seen, (
            f"{where} and {seen.get(identifier)}: {identifier}"
        )
        seen[identifier] = where
    assert len(seen) == len(operations(spec))


@pytest.mark.parametrize(
    "method, path, expected",
    [
        ("get", "/api/v1/packages", "listPackages"),
        ("post", "/api/v1/packages", "createPackage"),
        ("get", "/api/v1/packages/{package_id}", "getPackage"),
        ("patch", "/api/v1/packages/{package_id}", "updatePackage"),
        ("post", "/api/v1/packages/{package_id}/submit", "submitPackage"),
        ("get", "/api/v1/packages/{package_id}/departures", "listPackageDepartures"),
        ("post", "/api/v1/bookings", "createBooking"),
        ("post", "/api/v1/bookings/{booking_id}/cancel", "cancelBooking"),
        (
            "get",
            "/api/v1/bookings/{booking_id}/cancellation-quote",
            "getBookingCancellationQuote",
        ),
        ("get", "/api/v1/enquiries", "listEnquiries"),
        ("post", "/api/v1/enquiries/{enquiry_id}/notes", "createEnquiryNote"),
        ("get", "/api/v1/reports/revenue/monthly", "getRevenueMonthlyReport"),
        ("post", "/api/v1/auth/login", "login"),
    ],
)
def test_operation_ids_are_readable(spec, method, path, expected):
    assert spec["paths"][path][method]["operationId"] == expected


def test_operation_id_rule_names_new_paths():
    assert operation_id("/api/v1/quotes", "get", {}) == "listQuotes"
    assert operation_id("/api/v1/quotes/{quote_id}", "delete", {}) == "deleteQuote"
    created = {"responses": {"201": {}}}
    assert (
        operation_id("/api/v1/bookings/{booking_id}/payment-intents", "post", created)
        == "createBookingPaymentIntent"
    )
    action = {"responses": {"200": {}}}
    assert (
        operation_id("/api/v1/quotes/{quote_id}/accept", "post", action)
        == "acceptQuote"
    )


def test_every_response_has_a_description(spec):
    missing = []
    for method, path, operation in operations(spec):
        for code, response in operation["responses"].items():
            if not resolve(spec, response).get("description"):
                missing.append(f"{method.upper()} {path} {code}")
    assert missing == []
    for name, response in spec["components"].get("responses", {}).items():
        assert response.get("description"), name


def response_schemas(spec):
    """Names of the component schemas a 2xx JSON response refers to, transitively."""
    found, todo = set(), []
    for _method, _path, operation in operations(spec):
        for code, response in operation["responses"].items():
            media = resolve(spec, response).get("content", {}).get("application/json")
            if code.startswith("2") and media:
                todo.append(media["schema"])
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in found:
                    found.add(name)
                    todo.append(spec["components"]["schemas"][name])
            todo.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            todo.extend(node)
    return found


def test_response_schemas_list_required_properties(spec):
    schemas = spec["components"]["schemas"]
    names = response_schemas(spec)
    assert len(names) > 50
    with_required = [n for n in names if schemas[n].get("required")]
    # Only schemas without properties (free-form) may list none, and the
    # translation objects: each language carries only the texts given for it
    # (docs/i18n.md "Catalogue translations").
    partial = {"NameTranslation", "TextTranslation"}
    bare = [n for n in names if schemas[n].get("properties") and n not in with_required]
    assert sorted(set(bare) - partial) == []
    assert all(name in schemas for name in partial)
    booking = schemas["Booking"]
    assert {"id", "reference", "status", "amount_due", "hold_expires_at"} <= set(
        booking["required"]
    )
    # A field that may be left out is not required (refresh answers carry no
    # refresh token; /health has no `database`).
    assert "refresh_token" not in schemas["Token"]["required"]
    assert "database" not in schemas["Health"]["required"]
    # Input schemas keep their own required list; a booking body is a package's
    # (departure_id, seats) or a trip's (trip_id, stations, section, passengers),
    # so none of them is required on its own (the API answers 422 naming them).
    assert set(schemas["ScheduleCreate"]["required"]) >= {"route_id", "weekdays"}
    create = schemas["BookingCreate"]
    assert "required" not in create
    assert {"departure_id", "seats", "trip_id", "passengers"} <= set(
        create["properties"]
    )


def test_enumerated_fields_are_enums(spec):
    bad = []
    for name in response_schemas(spec):
        for prop, definition in (
            spec["components"]["schemas"][name].get("properties", {}).items()
        ):
            if (
                prop in ENUM_NAMES
                and (name, prop) not in NOT_ENUMS
                and definition.get("type") == "string"
                and not definition.get("enum")
            ):
                bad.append(f"{name}.{prop}")
    assert bad == []
    schemas = spec["components"]["schemas"]
    assert schemas["Booking"]["properties"]["status"]["enum"] == list(BOOKING_STATUSES)
    assert schemas["Package"]["properties"]["status"]["enum"] == list(PACKAGE_STATUSES)
    assert schemas["Payment"]["properties"]["method"]["enum"] == list(PAYMENT_METHODS)
    assert schemas["Cancellation"]["properties"]["refund_to"]["enum"] == list(
        REFUND_DESTINATIONS
    )
    assert schemas["WalletEntry"]["properties"]["kind"]["enum"] == list(
        WALLET_ENTRY_KINDS
    )
    assert set(ROLES) <= set(schemas["Employee"]["properties"]["role"]["enum"])
    assert schemas["RevenueMonthReport"]["properties"]["report"]["enum"] == [
        "revenue.monthly"
    ]


def test_policy_tier_enum_matches_the_cancellation_policy():
    assert list(POLICY_TIERS) == [tier["tier"] for tier in CANCELLATION_POLICY]


def test_reports_document_json_csv_and_pdf(spec):
    reports = [
        (p, op) for m, p, op in operations(spec) if p.startswith("/api/v1/reports/")
    ]
    assert len(reports) >= 13
    for path, operation in reports:
        content = operation["responses"]["200"]["content"]
        assert list(content) == ["application/json", "text/csv", "application/pdf"]
        assert content["application/json"]["schema"]["$ref"].endswith("Report"), path
        assert content["text/csv"]["schema"] == {"type": "string"}, path
        pdf = {"type": "string", "format": "binary"}
        assert content["application/pdf"]["schema"] == pdf, path


def test_report_status_enum_matches_the_invoice_statuses():
    from schemas.reporting.reports import COLUMN_ENUMS
    from services.payments.billing import INVOICE_STATUSES

    assert COLUMN_ENUMS["status"] == INVOICE_STATUSES
