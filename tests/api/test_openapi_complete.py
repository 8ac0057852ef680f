"""The served OpenAPI spec describes every operation completely (docs/design.md
"API conventions").

Walks /api/v1/openapi.json: summaries, success responses with schemas, bearer
security with 401/403, the error responses core/openapi_doc.py adds (all in the RFC 9457
problem shape), examples on every request body field and response field, bounds on
integer query parameters, the Idempotency-Key header, 429 on rate-limited views and
the create -> read/update links.
"""

from tests.openapi_walk import operations, resolve

PROBLEM_MIME = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
IDEMPOTENT = {
    ("post", "/api/v1/bookings"),
    ("post", "/api/v1/bookings/{booking_id}/payments"),
    ("post", "/api/v1/bookings/{booking_id}/payment-intents"),
    ("post", "/api/v1/bookings/{booking_id}/cancel"),
    ("post", "/api/v1/departures/{departure_id}/cancel"),
    ("post", "/api/v1/transport/trips/{trip_id}/cancel"),
    ("post", "/api/v1/customers/{customer_id}/wallet"),
}
RATE_LIMITED = {
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/login/otp"),
    ("post", "/api/v1/auth/login/otp/verify"),
    ("post", "/api/v1/auth/otp"),
    ("post", "/api/v1/auth/password/forgot"),
    ("post", "/api/v1/auth/password/reset"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/email"),
    ("post", "/api/v1/auth/email/confirm"),
    ("post", "/api/v1/auth/phone/confirm"),
    ("post", "/api/v1/enquiries"),
    ("post", "/api/v1/bookings/{booking_id}/payment-intents"),
}


def is_protected(operation):
    security = operation.get("security") or []
    return bool(security) and {} not in security


def has_input(item, operation):
    parameters = item.get("parameters", []) + operation.get("parameters", [])
    return "requestBody" in operation or any(p["in"] == "query" for p in parameters)


def test_spec_has_every_operation(spec):
    assert len(operations(spec)) >= 70


def test_every_operation_has_a_summary(spec):
    missing = [
        f"{m.upper()} {p}" for m, p, op in operations(spec) if not op.get("summary")
    ]
    assert missing == []


def test_every_operation_has_a_success_response_with_a_schema(spec):
    bad = []
    for method, path, operation in operations(spec):
        success = {c: r for c, r in operation["responses"].items() if c.startswith("2")}
        ok = any(
            code == "204"
            or any("schema" in media for media in r.get("content", {}).values())
            for code, r in success.items()
        )
        if not ok:
            bad.append(f"{method.upper()} {path}")
    assert bad == []


def test_protected_operations_have_bearer_security_401_and_403(spec):
    protected = [(m, p, op) for m, p, op in operations(spec) if is_protected(op)]
    assert len(protected) > 40
    for method, path, operation in protected:
        assert operation["security"] == [{"bearerAuth": []}], (method, path)
        assert {"401", "403"} <= set(operation["responses"]), (method, path)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_optional_login_operations_document_the_optional_token_and_401(spec):
    operation = spec["paths"]["/api/v1/packages"]["get"]
    assert operation["security"] == [{"bearerAuth": []}, {}]
    assert "401" in operation["responses"] and "403" not in operation["responses"]


def test_operations_with_an_id_in_the_path_have_404(spec):
    bad = [
        f"{m} {p}"
        for m, p, op in operations(spec)
        if "{" in p and "404" not in op["responses"]
    ]
    assert bad == []


def test_operations_with_parameters_or_a_body_have_422(spec):
    bad = [
        f"{m} {p}"
        for m, p, op in operations(spec)
        if has_input(spec["paths"][p], op) and "422" not in op["responses"]
    ]
    assert bad == []


def test_operations_with_a_json_body_have_400_and_415(spec):
    bad = [
        f"{m} {p}"
        for m, p, op in operations(spec)
        if "requestBody" in op and not {"400", "415"} <= set(op["responses"])
    ]
    assert bad == []


def test_every_operation_has_500_and_503_and_no_catch_all_default(spec):
    for method, path, operation in operations(spec):
        assert {"500", "503"} <= set(operation["responses"]), (method, path)
        assert "default" not in operation["responses"], (method, path)


def test_declared_conflicts_keep_their_description(spec):
    conflict = spec["paths"]["/api/v1/bookings"]["post"]["responses"]["409"]
    assert conflict["description"] == "Not bookable or seats gone"


def test_every_error_response_is_a_problem(spec):
    for method, path, operation in operations(spec):
        for code, response in operation["responses"].items():
            if int(code) < 400:
                continue
            response = resolve(spec, response)
            assert list(response["content"]) == [PROBLEM_MIME], (method, path, code)
            media = response["content"][PROBLEM_MIME]
            if media["schema"] != {"$ref": PROBLEM_REF}:
                # A view's own problem (the GTFS import's feed errors) keeps
                # every member of the generic one.
                own = resolve(spec, media["schema"])
                problem = resolve(spec, {"$ref": PROBLEM_REF})
                assert set(problem["required"]) <= set(own["required"]), (
                    method,
                    path,
                    code,
                )
                assert set(problem["properties"]) <= set(own["properties"])
            assert media["example"]["status"] == int(code), (method, path, code)


def test_problem_schema_has_the_rfc_9457_members_and_allows_extensions(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem["additionalProperties"] is True
    assert "Error" not in spec["components"]["schemas"]


def test_rate_limited_operations_have_429_with_retry_after(spec):
    for method, path, operation in operations(spec):
        has_429 = "429" in operation["responses"]
        assert has_429 == ((method, path) in RATE_LIMITED), (method, path)
        if has_429:
            headers = resolve(spec, operation["responses"]["429"])["headers"]
            assert "Retry-After" in headers


def test_idempotent_operations_declare_the_idempotency_key_header(spec):
    found = set()
    for method, path, operation in operations(spec):
        names = [
            p["name"] for p in operation.get("parameters", []) if p["in"] == "header"
        ]
        if "Idempotency-Key" in names:
            found.add((method, path))
            parameter = next(
                p for p in operation["parameters"] if p["name"] == "Idempotency-Key"
            )
            assert parameter["required"] is False
            assert parameter["schema"]["maxLength"] == 255
            assert {"400", "409"} <= set(operation["responses"])
            assert "requestBody" in operation  # the body is kept beside the header
    assert found == IDEMPOTENT


def test_integer_query_parameters_have_bounds(spec):
    bad = []
    for method, path, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if (
                parameter["in"] == "query"
                and schema.get("type") == "integer"
                and ("minimum" not in schema or "maximum" not in schema)
            ):
                bad.append(f"{method} {path} {parameter['name']}")
    assert bad == []


def test_list_operations_return_the_pagination_envelope_and_take_page_args(spec):
    lists = 0
    for _method, path, operation in operations(spec):
        schema = (
            operation["responses"]
            .get("200", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
        )
        if not schema.get("$ref", "").endswith("Page"):
            continue
        lists += 1
        page = resolve(spec, schema)
        assert set(page["properties"]) == {"items", "meta"}, path
        names = {p["name"]: p["schema"] for p in operation["parameters"]}
        assert names["per_page"]["maximum"] == 100 and names["page"]["minimum"] == 1, (
            path
        )
    assert lists >= 10


def test_sort_parameters_are_enums(spec):
    for _method, path, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "sort":
                assert parameter["schema"]["enum"], path


def missing_examples(spec, schema, seen, where=""):
    """Properties (recursively, through refs, arrays and allOf) with neither an
    `example` nor an `enum`."""
    schema = resolve(spec, schema)
    if schema.get("type") == "array":
        return missing_examples(spec, schema.get("items", {}), seen, where)
    missing = []
    for name, prop in schema.get("properties", {}).items():
        target = prop.get("items", prop) if prop.get("type") == "array" else prop
        refs = [target] if "$ref" in target else target.get("allOf", [])
        if refs:
            for ref in refs:
                if ref.get("$ref") and ref["$ref"] not in seen:
                    seen.add(ref["$ref"])
                    missing += missing_examples(
                        spec, ref, seen, ref["$ref"].split("/")[-1]
                    )
            continue
        if "example" not in prop and "enum" not in prop:
            missing.append(f"{where}.{name}")
    return missing


def body_schema(body: dict) -> dict:
    """The schema of a request body: its JSON one, else (a file upload such as
    POST /transport/gtfs, multipart/form-data) its only media type's."""
    content = body["content"]
    return (content.get("application/json") or next(iter(content.values())))["schema"]


def test_every_request_body_field_has_an_example(spec):
    missing = []
    for _method, path, operation in operations(spec):
        body = operation.get("requestBody")
        if body:
            schema = body_schema(body)
            missing += missing_examples(spec, schema, set(), schema.get("$ref", path))
    assert sorted(set(missing)) == []


def test_every_response_field_has_an_example(spec):
    missing = []
    for _method, path, operation in operations(spec):
        for code, response in operation["responses"].items():
            media = resolve(spec, response).get("content", {}).get("application/json")
            if code.startswith("2") and media:
                schema = media["schema"]
                missing += missing_examples(
                    spec, schema, set(), schema.get("$ref", path)
                )
    assert sorted(set(missing)) == []


def test_a_body_that_requires_nothing_is_optional(spec):
    assert (
        spec["paths"]["/api/v1/packages/{package_id}"]["patch"]["requestBody"][
            "required"
        ]
        is False
    )
    assert spec["paths"]["/api/v1/bookings"]["post"]["requestBody"]["required"] is True


def test_creates_link_to_reads_and_updates_of_what_they_create(spec):
    links = spec["paths"]["/api/v1/packages"]["post"]["responses"]["201"]["links"]
    get = links["get_packages_package_id"]
    assert get["operationRef"] == "#/paths/~1api~1v1~1packages~1{package_id}/get"
    assert get["parameters"] == {"package_id": "$response.body#/id"}
    assert "patch_packages_package_id" in links
    departure = spec["paths"]["/api/v1/packages/{package_id}/departures"]["post"]
    assert "get_departures_departure_id" in departure["responses"]["201"]["links"]
    for link in links.values():
        pointer = link["operationRef"].removeprefix("#/paths/").rsplit("/", 1)
        path = pointer[0].replace("~1", "/").replace("~0", "~")
        assert pointer[1] in spec["paths"][path]


def test_decimal_strings_are_documented_as_strings(spec):
    prices = spec["components"]["schemas"]["DepartureCreate"]["properties"]["prices"]
    assert prices["minProperties"] == 1 and prices["maxProperties"] == 10
    assert prices["additionalProperties"]["type"] == "string"
    for name, schema in spec["components"]["schemas"].items():
        for prop_name, prop in schema.get("properties", {}).items():
            if prop.get("format") == "decimal":
                assert prop["type"] == "string", (name, prop_name)


def is_free_text(schema):
    """True for a string schema that is neither an enum nor a formatted value."""
    return (
        schema.get("type") == "string"
        and "enum" not in schema
        and not schema.get("format")
    )


def walk_strings(spec, schema, where, found, seen):
    """Append to `found` the (where, schema) of every free-text string in `schema`
    (through refs, arrays, writable properties and dict values); `seen` holds the
    refs already walked."""
    if isinstance(schema, dict) and "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen.add(schema["$ref"])
    schema = resolve(spec, schema)
    if schema.get("type") == "array":
        walk_strings(spec, schema.get("items", {}), where, found, seen)
    elif schema.get("type") == "object":
        for name, prop in schema.get("properties", {}).items():
            if not prop.get("readOnly"):
                walk_strings(spec, prop, f"{where}.{name}", found, seen)
        if isinstance(schema.get("additionalProperties"), dict):
            walk_strings(
                spec, schema["additionalProperties"], f"{where}.*", found, seen
            )
    elif is_free_text(schema):
        found.append((where, schema))


def request_strings(spec):
    """(where, schema) of every free-text string a request can carry: body properties
    (through refs, arrays and dict values) and query parameters."""
    found, seen = [], set()
    for method, path, operation in operations(spec):
        where = f"{method} {path}"
        body = operation.get("requestBody")
        if body:
            schema = body_schema(body)
            walk_strings(spec, schema, where, found, seen)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                name = f"{where} ?{parameter['name']}"
                walk_strings(spec, parameter["schema"], name, found, seen)
    return found


def test_free_text_request_strings_refuse_nul_characters(spec):
    """PostgreSQL text cannot hold NUL: every free-text input says so in a pattern
    that Python and ECMA-262 read alike (anchored, no \\A \\Z \\s)."""
    import re

    strings = request_strings(spec)
    assert len(strings) > 30
    bad = []
    for where, schema in strings:
        pattern = schema.get("pattern")
        if where.endswith((".password", ".new_password")):
            continue  # hashed, never stored as text
        if where == "get /api/v1/packages ?q":
            continue  # full-text search keeps only the words: NUL dropped, not stored
        if (
            not pattern
            or re.search(pattern, "Lisbon\x00")
            or "\\A" in pattern
            or "\\s" in pattern
        ):
            bad.append(f"{where}: {pattern}")
    assert bad == []
