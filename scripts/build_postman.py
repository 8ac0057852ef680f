"""Build the Postman collection and environment from docs/openapi.json.

    python scripts/build_postman.py          # writes docs/postman/*.json (make postman)
    python scripts/build_postman.py --check  # exit 1 when the committed files differ

The collection (Postman format v2.1) runs green as a whole, from a fresh import
with its environment, against a fresh demo database (`make newman` runs all of it):
- a collection-level pre-request script logs staff in (`staffEmail` /
  `demoPassword` from the environment, the demo admin by default) whenever no
  unexpired `staffAccessToken` is stored, so no request runs without a token;
- "Walkthrough": the ordered story of scripts/postman_walkthrough.py, each request
  with Postman tests (status, key fields) that store ids and tokens in the environment
  for the next request;
- one folder per OpenAPI tag with one request per operation, generated from the spec:
  path parameters bound to environment variables ({{packageId}} ...) that the
  walkthrough (or a create earlier in the run: a 201 stores its `id`) filled in,
  query parameters listed (disabled) with their bounds, a JSON body built from the
  request schema (examples, defaults, enums, formats), bearer auth
  `{{staffAccessToken}}` on protected operations (inherited from the collection) and
  none on public ones. Every generated request tests that the answer is not a
  server error and has a status its operation documents; reads (GET) must succeed
  (2xx). Destructive requests (DELETEs, cancel, archive, log out) are gathered in
  a last folder, the logout at its end (its test forgets the revoked tokens). The
  login request's test script stores the tokens, staff or customer by its
  `account`.

The output is byte-stable: no timestamps or random ids (ids are UUID5 of fixed
names), keys in a fixed order, JSON with indent 2 and a trailing newline; building
twice from the same spec gives the same bytes (tests/api/test_openapi_export.py
checks the committed files against a fresh build).
"""

import argparse
import json
import re
import sys
import uuid
from pathlib import Path

if __package__:  # imported as scripts.build_postman (tests)
    from .postman_walkthrough import APPROVER_EMAIL, STAFF_EMAIL, STEPS
else:  # run as a script: its folder is sys.path[0]
    from postman_walkthrough import APPROVER_EMAIL, STAFF_EMAIL, STEPS

ROOT = Path(__file__).resolve().parent.parent

SPEC = ROOT / "docs" / "openapi.json"
OUT_DIR = ROOT / "docs" / "postman"
COLLECTION_FILE = "easy-travels.postman_collection.json"
ENVIRONMENT_FILE = "easy-travels.postman_environment.json"
SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://easytravels.test/postman")
METHOD_ORDER = ["get", "post", "put", "patch", "delete", "head", "options"]
DEMO_PASSWORD = "demo-password-1"  # demo/seed.py DEMO_PASSWORD, public demo data

# Environment variables, in file order: (key, initial value, description).
ENV_VARIABLES = [
    ("baseUrl", "http://127.0.0.1:5000", "server root, no trailing slash (make run)"),
    (
        "stripeBase",
        "http://127.0.0.1:8420",
        "the local payment provider (make run's localstripe)",
    ),
    ("staffEmail", STAFF_EMAIL, "demo employee used as staff (flask seed-demo)"),
    ("approverEmail", APPROVER_EMAIL, "demo operation head, the second pair of eyes"),
    (
        "demoPassword",
        DEMO_PASSWORD,
        "password of every demo account (demo/seed.py)",
    ),
    ("staffAccessToken", "", "set by a staff login"),
    ("staffRefreshToken", "", "set by a staff login"),
    ("approverAccessToken", "", "set by the operation head's login"),
    ("customerAccessToken", "", "set by a customer login (and refresh)"),
    ("customerRefreshToken", "", "set by a customer login"),
    (
        "customerEmail",
        "customer@easytravels.test",
        "walkthrough: a new customer per run",
    ),
    ("customerPassword", DEMO_PASSWORD, "walkthrough: that customer's password"),
    ("staffId", "", "captured: the staff employee's id"),
    ("employeeId", "", "path parameter of /employees/{employee_id}"),
    ("customerId", "", "captured: the registered customer"),
    ("packageId", "", "captured: the package created"),
    ("departureId", "", "captured: its departure"),
    ("bookingId", "", "captured: the booking"),
    ("bookingReference", "", "captured: its ET-XXXXXX reference"),
    ("invoiceId", "", "captured: the booking's invoice"),
    ("paymentId", "", "captured: the card payment"),
    ("refundId", "", "captured: the wallet refund"),
    ("enquiryId", "", "captured: the enquiry"),
    ("noteId", "", "captured: the staff note"),
    ("amountDue", "", "captured: what the booking asked"),
    ("refundAmount", "", "captured: the quoted refund"),
    ("paymentKey", "", "walkthrough: Idempotency-Key of the payment"),
    ("runTag", "", "walkthrough: random tag per run"),
    ("searchWord", "", "walkthrough: a word only the new itinerary holds"),
    ("startDate", "", "walkthrough: departure start (today + 60 days)"),
    ("endDate", "", "walkthrough: departure end"),
]
SECRET_VARIABLES = {
    "demoPassword",
    "customerPassword",
    "staffAccessToken",
    "staffRefreshToken",
    "approverAccessToken",
    "customerAccessToken",
    "customerRefreshToken",
}

AUTH_TOKENS = {
    "staff": "staffAccessToken",
    "approver": "approverAccessToken",
    "customer": "customerAccessToken",
    "customer_refresh": "customerRefreshToken",
}

# Hand-written additions to generated requests, keyed by (method, path).
LOGIN_BODY = {
    "email": "{{staffEmail}}",
    "password": "{{demoPassword}}",
    "account": "employee",
}
LOGIN_TESTS = """
pm.test("status is 200", () => pm.response.to.have.status(200));
const body = pm.response.json();
pm.test("tokens returned", () => {
    pm.expect(body.access_token).to.be.a("string").and.not.empty;
    pm.expect(body.refresh_token).to.be.a("string").and.not.empty;
});
// Store the tokens where the other requests look for them: staff or customer.
const sent = JSON.parse(pm.variables.replaceIn(pm.request.body.raw));
const who = sent.account === "customer" ? "customer" : "staff";
pm.environment.set(who + "AccessToken", body.access_token);
pm.environment.set(who + "RefreshToken", body.refresh_token);
"""
REFRESH_TESTS = """
pm.test("status is 200", () => pm.response.to.have.status(200));
pm.environment.set("staffAccessToken", pm.response.json().access_token);
"""
LOGOUT_TESTS = """
pm.test("status is 204", () => pm.response.to.have.status(204));
// The session is revoked: forget its tokens, so the next request logs in again.
pm.environment.unset("staffAccessToken");
pm.environment.unset("staffRefreshToken");
"""
OVERRIDES = {
    ("post", "/api/v1/auth/login"): {"body": LOGIN_BODY, "tests": LOGIN_TESTS},
    ("post", "/api/v1/auth/refresh"): {
        "auth": "staffRefreshToken",
        "tests": REFRESH_TESTS,
    },
    ("post", "/api/v1/auth/logout"): {"tests": LOGOUT_TESTS},
    # Both parameters are optional, but one of them is needed (422 without).
    ("get", "/api/v1/customers/duplicates"): {"query": {"email": "{{customerEmail}}"}},
    # Staff name the company to export (the demo data's coach line is the first).
    ("get", "/api/v1/transport/gtfs.zip"): {"query": {"company_id": "1"}},
    # Two stations of the demo data (London Victoria to Paris Bercy by coach).
    ("get", "/api/v1/transport/search"): {
        "query": {"from": "GBLONVIC", "to": "FRPARBER", "date": "2030-06-01"}
    },
    # A package booking (the body may be a departure's or a trip's, not both).
    ("post", "/api/v1/bookings"): {
        "body": {"customer_id": 7, "departure_id": 7, "seats": 2}
    },
    # The demo coach line's first trip (Dublin - London - Paris), sold seats on it
    # and its first ticket: the transport folder creates its own trip later.
    ("get", "/api/v1/transport/trips/{trip_id}/seats"): {
        "path": {"trip_id": "1"},
        "query": {
            "from_station_id": "1",
            "to_station_id": "3",
            "section_code": "standard",
        },
    },
    ("get", "/api/v1/reports/transport/trips/{trip_id}/load"): {
        "path": {"trip_id": "1"}
    },
    ("get", "/api/v1/tickets/{number}"): {"path": {"number": "1"}},
    ("get", "/api/v1/tickets/{number}.pdf"): {"path": {"number": "1"}},
    # Documents of the demo data: booking 1 is confirmed (Clara Byrne's), invoice
    # 2 has credit note 1 (a lapsed hold).
    ("get", "/api/v1/bookings/{booking_id}/confirmation.pdf"): {
        "path": {"booking_id": "1"}
    },
    ("get", "/api/v1/invoices/{invoice_id}/credit-notes/{note_id}.pdf"): {
        "path": {"invoice_id": "2", "note_id": "1"}
    },
}
LOGOUT_PATH = "/api/v1/auth/logout"

# Collection-level scripts, run around every request of the collection.
COLLECTION_PREREQUEST = """
// Log staff in when no unexpired access token is stored (a fresh import, an
// expired token, or after "Log out"): credentials from the environment, the demo
// admin by default. Postman sends the request after this login has answered.
const stored = pm.environment.get("staffAccessToken");
const email = pm.variables.get("staffEmail") || "@@STAFF_EMAIL@@";
const expiresAt = (jwt) => {
    try {
        let part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
        part += "===".slice((part.length + 3) % 4);
        return JSON.parse(require("atob")(part)).exp * 1000;
    } catch (error) {
        return 0;
    }
};
if (!stored || expiresAt(stored) < Date.now() + 30000) {
    pm.sendRequest({
        url: pm.variables.get("baseUrl") + "/api/v1/auth/login",
        method: "POST",
        header: { "Content-Type": "application/json" },
        body: {
            mode: "raw",
            raw: JSON.stringify({
                email: email,
                password: pm.variables.get("demoPassword") || "@@DEMO_PASSWORD@@",
                account: "employee",
            }),
        },
    }, (error, response) => {
        if (error || response.code !== 200) {
            console.warn("staff login failed:", error || response.code);
            return;
        }
        const body = response.json();
        pm.environment.set("staffAccessToken", body.access_token);
        pm.environment.set("staffRefreshToken", body.refresh_token);
        console.info("collection pre-request: logged in as " + email);
    });
}
"""


class BuildError(Exception):
    """The spec or the walkthrough cannot be turned into a collection."""


def camel(name: str) -> str:
    """`package_id` -> `packageId` (environment variable names)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def script_lines(source: str) -> list[str]:
    """A JavaScript source as Postman's `exec` list, without outer blank lines."""
    return source.strip("\n").splitlines()


def event(listen: str, source: str) -> dict:
    """A Postman event (`prerequest` or `test`) running `source`."""
    return {
        "listen": listen,
        "script": {"type": "text/javascript", "exec": script_lines(source)},
    }


def bearer(variable: str) -> dict:
    """Bearer auth with the token in environment variable `variable`."""
    return {
        "type": "bearer",
        "bearer": [{"key": "token", "value": "{{" + variable + "}}", "type": "string"}],
    }


def url(
    path: str, query: list[dict] | None = None, variables: list[dict] | None = None
) -> dict:
    """A Postman URL object under {{baseUrl}} for `path` (may hold :params and
    {{vars}})."""
    raw = "{{baseUrl}}" + path
    if query:
        raw += "?" + "&".join(
            f"{q['key']}={q['value']}" for q in query if not q.get("disabled")
        )
        raw = raw.rstrip("?")
    result = {"raw": raw, "host": ["{{baseUrl}}"], "path": path.strip("/").split("/")}
    if query:
        result["query"] = query
    if variables:
        result["variable"] = variables
    return result


def json_body(body) -> dict:
    """A raw JSON request body from a dict (pretty-printed) or a ready string."""
    raw = (
        body
        if isinstance(body, str)
        else json.dumps(body, indent=2, ensure_ascii=False)
    )
    return {"mode": "raw", "raw": raw, "options": {"raw": {"language": "json"}}}


def bind_ids(body):
    """Top-level integer `<name>_id` fields that have an environment variable become
    that variable, unquoted (`"departure_id": {{departureId}}`): the request then
    reuses the ids the walkthrough captured. Returns the raw JSON text."""
    if not isinstance(body, dict):
        return body
    known = {key for key, _value, _text in ENV_VARIABLES}
    marked = {}
    for name, value in body.items():
        variable = camel(name)
        if name.endswith("_id") and isinstance(value, int) and variable in known:
            marked[name] = f"@@{variable}@@"
        else:
            marked[name] = value
    raw = json.dumps(marked, indent=2, ensure_ascii=False)
    return re.sub(r'"@@(\w+)@@"', r"{{\1}}", raw)


class SpecReader:
    """Resolves $refs and builds example values from the OpenAPI 3.0 document."""

    def __init__(self, spec: dict):
        self.spec = spec

    def resolve(self, node):
        """Follow local `$ref`s (`#/components/...`) until a plain object remains."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                raise BuildError(f"cannot resolve $ref {ref!r}")
            seen.add(ref)
            node = self.spec
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def example(
        self,
        schema: dict,
        depth: int = 0,
        required_only: bool = False,
        all_top_level: bool = False,
    ):
        """An example value for `schema`: its example, default, first enum value, or a
        value by type and format; objects list the required properties and the ones
        that have an example (all writable ones when `required_only` is False, or for
        this object only when `all_top_level`)."""
        schema = self.resolve(schema)
        if all_top_level:
            return self._object(schema, depth, required_only, everything=True)
        for key in ("example", "default"):
            if key in schema:
                return schema[key]
        if schema.get("enum"):
            return schema["enum"][0]
        if "allOf" in schema or schema.get("oneOf") or schema.get("anyOf"):
            return self._composite(schema, depth, required_only)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if kind == "object":
            return self._object(schema, depth, required_only)
        if kind == "array":
            if depth > 4:
                return []
            return [self.example(schema.get("items", {}), depth + 1, required_only)]
        return self._scalar(kind, schema)

    def _composite(self, schema: dict, depth: int, required_only: bool):
        """The example of an `allOf` (its parts' objects merged), else of the first
        `oneOf` / `anyOf` alternative."""
        if "allOf" in schema:
            merged: dict = {}
            for part in schema["allOf"]:
                value = self.example(part, depth + 1, required_only)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        key = "oneOf" if schema.get("oneOf") else "anyOf"
        return self.example(schema[key][0], depth + 1, required_only)

    def _scalar(self, kind: str, schema: dict):
        """An example integer, number, boolean or string (by type and bounds)."""
        if kind == "integer":
            return max(1, schema.get("minimum", 1))
        if kind == "number":
            return schema.get("minimum", 1)
        if kind == "boolean":
            return False
        return self._string(schema)

    def _object(
        self, schema: dict, depth: int, required_only: bool, everything: bool = False
    ) -> dict:
        if depth > 4:
            return {}
        required = set(schema.get("required", []))
        result = {}
        for name, prop in schema.get("properties", {}).items():
            prop_schema = self.resolve(prop)
            if prop_schema.get("readOnly"):
                continue
            wanted = (
                everything
                or name in required
                or not required_only
                or "example" in prop_schema
            )
            if wanted:
                result[name] = self.example(prop_schema, depth + 1, required_only)
        return result

    @staticmethod
    def _string(schema: dict) -> str:
        fmt = schema.get("format")
        by_format = {
            "date": "2030-06-01",
            "date-time": "2030-06-01T09:00:00+00:00",
            "email": "someone@example.com",
            "decimal": "100.00",
            "uri": "https://example.com",
            "url": "https://example.com",
            "uuid": "00000000-0000-4000-8000-000000000000",
            "password": "a-long-password",
        }
        if fmt in by_format:
            return by_format[fmt]
        size = max(schema.get("minLength", 0), 6)
        size = min(size, schema.get("maxLength", size))
        return ("string-" * (size // 7 + 1))[:size] or "x"


def describe_parameter(reader: SpecReader, parameter: dict) -> str:
    """One line for Postman: the description plus the bounds of the schema."""
    schema = reader.resolve(parameter.get("schema", {}))
    parts = [parameter.get("description", "").strip()]
    bounds = []
    for key in ("type", "format"):
        if key in schema:
            bounds.append(str(schema[key]))
    for key, label in (
        ("minimum", ">="),
        ("maximum", "<="),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("default", "default"),
    ):
        if key in schema:
            bounds.append(f"{label} {schema[key]}")
    if schema.get("enum"):
        bounds.append("one of " + ", ".join(map(str, schema["enum"])))
    if parameter.get("required"):
        bounds.append("required")
    if bounds:
        parts.append("(" + "; ".join(bounds) + ")")
    return " ".join(p for p in parts if p)


def environment_variables(spec: dict) -> list[tuple[str, str, str]]:
    """ENV_VARIABLES plus one empty variable per path parameter of the spec that has
    none yet (`{quote_id}` -> `quoteId`), which a create of that resource fills in
    during the run (`created_variable`)."""
    variables = list(ENV_VARIABLES)
    known = {key for key, _value, _text in variables}
    for path in sorted(spec.get("paths", {})):
        for name in re.findall(r"\{([^}]+)\}", path):
            if camel(name) not in known:
                known.add(camel(name))
                variables.append(
                    (
                        camel(name),
                        "",
                        f"captured: the id a create of "
                        f"{name.removesuffix('_id')} answered (201)",
                    )
                )
    return variables


def item_variable(spec: dict, path: str) -> str | None:
    """The environment variable of the items a collection path holds: `{endpoint_id}`
    of `/webhooks/endpoints/{endpoint_id}` for `/webhooks/endpoints`, of a top-level
    `/api/v1/payment-intents/{attempt_id}` for `/bookings/{booking_id}/payment-intents`,
    or of an action on an item (`/outbox/{message_id}/retry` for `/outbox`)."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if "{" in last:
        return None
    for tail in ("", "/.+"):  # the item itself first, else an action on it
        for base in (path.rstrip("/"), "/api/v1/" + last):
            pattern = re.compile(re.escape(base) + r"/\{([^}]+)\}" + tail)
            for other in sorted(spec.get("paths", {})):
                match = pattern.fullmatch(other)
                if match:
                    return camel(match.group(1))
    return None


def created_variable(reader: SpecReader, operation: dict, path: str = "") -> str | None:
    """The environment variable a 201 answer's `id` goes to: `packageId` for a
    `Package` (or `PackageDetail`) body, when the environment has that variable;
    else the variable of the path's items (`item_variable`)."""
    created = operation.get("responses", {}).get("201")
    if not created:
        return None
    schema = (
        reader.resolve(created)
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
    )
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    name = ref.rsplit("/", 1)[-1].removesuffix("Detail")
    variable = name[:1].lower() + name[1:] + "Id"
    known = {key for key, _value, _text in environment_variables(reader.spec)}
    if variable in known:
        return variable
    fallback = item_variable(reader.spec, path) if path else None
    return fallback if fallback in known else None


def generated_tests(
    reader: SpecReader, method: str, operation: dict, path: str = ""
) -> str:
    """Postman tests of a generated request: no server error, a status the
    operation documents, success for reads; a create stores the new id, a list
    read stores its first item's id when the run has none yet (resources the run
    does not create: outbox messages, webhook deliveries ...)."""
    codes = sorted(
        int(code) for code in operation.get("responses", {}) if code.isdigit()
    )
    source = (
        'pm.test("no server error", () => '
        "pm.expect(pm.response.code).to.be.below(500));\n"
        f'pm.test("a documented status", () => pm.expect({json.dumps(codes)})'
        ".to.include(pm.response.code));\n"
    )
    if method == "get":
        source += (
            'pm.test("read succeeds", () => pm.expect(pm.response.code)'
            ".to.be.within(200, 299));\n"
        )
        listed = item_variable(reader.spec, path) if path else None
        if listed:
            source += (
                f'if (pm.response.code === 200 && !pm.environment.get("{listed}")) {{\n'
                "    const items = pm.response.json().items;\n"
                "    if (Array.isArray(items) && items.length) {\n"
                f'        pm.environment.set("{listed}", items[0].id);\n'
                "    }\n}\n"
            )
    variable = created_variable(reader, operation, path)
    if variable:
        source += (
            f'if (pm.response.code === 201) {{\n    pm.environment.set("{variable}", '
            "pm.response.json().id);\n}\n"
        )
    return source


DESTRUCTIVE_ACTIONS = {"cancel", "archive", "logout"}
DESTRUCTIVE_FOLDER = "Destructive requests (run last)"


def is_destructive(method: str, path: str) -> bool:
    """DELETEs and the actions that end what the run created (cancel a booking or a
    departure, archive a package, log out): they run after every other request."""
    return method == "delete" or (
        method == "post" and path.rsplit("/", 1)[-1] in DESTRUCTIVE_ACTIONS
    )


def parameter_entries(
    reader: SpecReader, path: str, parameters: list[dict], override: dict
) -> tuple[list[dict], list[dict], list[dict]]:
    """The Postman path variables, query parameters and headers of an operation's
    `parameters` (its own and its path item's); every `{name}` of `path` gets a
    variable even when no parameter describes it."""
    variables, query, headers = [], [], []
    given = override.get("query", {})
    fixed = override.get("path", {})
    for parameter in parameters:
        name, where = parameter["name"], parameter["in"]
        text = describe_parameter(reader, parameter)
        if where == "path":
            value = fixed.get(name, "{{" + camel(name) + "}}")
            variables.append({"key": name, "value": value, "description": text})
        elif where == "query" and name in given:
            query.append(
                {
                    "key": name,
                    "value": given[name],
                    "description": text,
                    "disabled": False,
                }
            )
        elif where == "query":
            value = reader.example(parameter.get("schema", {}))
            query.append(
                {
                    "key": name,
                    "value": str(value).lower()
                    if isinstance(value, bool)
                    else str(value),
                    "description": text,
                    "disabled": not parameter.get("required"),
                }
            )
        elif where == "header":
            headers.append(
                {
                    "key": name,
                    "value": "{{$guid}}"
                    if "idempotency" in name.lower()
                    else str(reader.example(parameter.get("schema", {}))),
                    "description": text,
                    "disabled": not parameter.get("required"),
                }
            )
    for name in re.findall(r"\{([^}]+)\}", path):
        if name not in {v["key"] for v in variables}:
            variables.append(
                {"key": name, "value": "{{" + camel(name) + "}}", "description": ""}
            )
    return variables, query, headers


def body_example(reader: SpecReader, media: dict, override: dict):
    """The JSON body of a generated request: the override's, the media type's
    example (or first of its examples), else one built from the schema (every
    writable field when the schema requires none: PATCH ...)."""
    if "body" in override:
        return override["body"]
    if "example" in media:
        return media["example"]
    if media.get("examples"):
        first = sorted(media["examples"])[0]
        return reader.resolve(media["examples"][first]).get("value", {})
    body = reader.example(media.get("schema", {}), required_only=True)
    if body == {}:  # nothing required (PATCH ...): show every writable field
        body = reader.example(
            media.get("schema", {}),
            depth=1,
            required_only=True,
            all_top_level=True,
        )
    return body


def operation_request(
    reader: SpecReader, method: str, path: str, operation: dict, path_item: dict
) -> dict:
    """The Postman item for one OpenAPI operation."""
    override = OVERRIDES.get((method, path), {})
    parameters = [reader.resolve(p) for p in path_item.get("parameters", [])]
    parameters += [reader.resolve(p) for p in operation.get("parameters", [])]
    postman_path = re.sub(r"\{([^}]+)\}", r":\1", path)
    variables, query, headers = parameter_entries(reader, path, parameters, override)
    request: dict = {"method": method.upper(), "header": headers}
    body_spec = operation.get("requestBody")
    if body_spec:
        body_spec = reader.resolve(body_spec)
        media = body_spec.get("content", {}).get("application/json")
        if media is not None:
            body = body_example(reader, media, override)
            request["header"] = [
                *headers,
                {"key": "Content-Type", "value": "application/json"},
            ]
            request["body"] = json_body(bind_ids(body))
    request["url"] = url(postman_path, query, variables)
    if "auth" in override:
        request["auth"] = bearer(override["auth"])
    elif not operation.get("security", reader.spec.get("security")):
        request["auth"] = {"type": "noauth"}
    summary = " ".join((operation.get("summary") or f"{method.upper()} {path}").split())
    summary = summary.rstrip(".")
    description = "\n\n".join(
        part
        for part in (
            f"`{method.upper()} {path}`",
            operation.get("description", "").strip(),
        )
        if part
    )
    request["description"] = description
    item = {"name": summary, "request": request}
    tests = override.get("tests", "").strip("\n")
    item["event"] = [
        event(
            "test",
            generated_tests(reader, method, operation, path)
            + (tests + "\n" if tests else ""),
        )
    ]
    return item


def resource_folders(reader: SpecReader) -> list[dict]:
    """One folder per tag (in the spec's tag order, then untagged), each request in
    path order and then GET, POST, PUT, PATCH; then one folder with the destructive
    requests (`is_destructive`): the actions (cancel, archive), the DELETEs, the
    logout last, so that nothing the run still uses is gone before it is used."""
    spec = reader.spec
    tags = [tag["name"] for tag in spec.get("tags", [])]
    descriptions = {
        tag["name"]: tag.get("description", "") for tag in spec.get("tags", [])
    }
    folders: dict[str, list] = {name: [] for name in tags}
    destructive = []
    order = sorted(
        (
            path == LOGOUT_PATH,
            method == "delete",
            path,
            METHOD_ORDER.index(method),
            method,
        )
        for path in spec.get("paths", {})
        for method in spec["paths"][path]
        if method in METHOD_ORDER
    )
    for _logout, _delete, path, _rank, method in order:
        path_item = spec["paths"][path]
        operation = path_item[method]
        item = operation_request(reader, method, path, operation, path_item)
        if is_destructive(method, path):
            destructive.append(item)
        else:
            tag = (operation.get("tags") or ["other"])[0]
            folders.setdefault(tag, []).append(item)
    result = [
        {"name": name, "description": descriptions.get(name, ""), "item": items}
        for name, items in folders.items()
        if items
    ]
    if destructive:
        result.append(
            {
                "name": DESTRUCTIVE_FOLDER,
                "description": "DELETEs and the actions that end a resource (cancel, "
                "archive, log out), after every other request so the run reads what it "
                "created first; the logout comes last (its test forgets the revoked "
                "staff tokens).",
                "item": destructive,
            }
        )
    return result


def operation_index(spec: dict) -> list[tuple[str, re.Pattern]]:
    """(method, compiled path pattern) for every operation of the spec."""
    index = []
    for path, item in spec.get("paths", {}).items():
        pattern = re.compile(
            "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
        )
        for method in item:
            if method in METHOD_ORDER:
                index.append((method, pattern))
    return index


def walkthrough_item(step: dict, index: list) -> dict:
    """The Postman request of one walkthrough step; BuildError when its operation is
    not in the spec."""
    method = step["method"].lower()
    concrete = re.sub(r"\{\{[^}]+\}\}", "1", step["path"])
    if not any(m == method and p.match(concrete) for m, p in index):
        raise BuildError(
            f"walkthrough step {step['name']!r}: {method.upper()} "
            f"{step['path']} is not an operation of docs/openapi.json"
        )
    headers = [{"key": k, "value": v} for k, v in step.get("headers", [])]
    request: dict = {"method": method.upper(), "header": headers}
    if "body" in step:
        request["header"] = [
            *headers,
            {"key": "Content-Type", "value": "application/json"},
        ]
        request["body"] = json_body(step["body"])
    query = [{"key": k, "value": v} for k, v in step.get("query", [])]
    request["url"] = url(step["path"], query)
    token = AUTH_TOKENS.get(step.get("auth"))
    request["auth"] = bearer(token) if token else {"type": "noauth"}
    request["description"] = "\n\n".join(
        part
        for part in (f"`{method.upper()} {step['path']}`", step.get("description", ""))
        if part
    )
    status = step["status"]
    checks = (
        f'pm.test("status is {status}", () => pm.response.to.have.status({status}));\n'
    )
    if status != 204:
        checks += (
            'pm.test("answers JSON", () => pm.expect(pm.response.headers.get('
            '"Content-Type")).to.match(/json/));\n'
        )
    else:
        checks += (
            'pm.test("no body", () => pm.expect(pm.response.text()).to.eql(""));\n'
        )
    events = []
    if step.get("prerequest"):
        events.append(event("prerequest", step["prerequest"]))
    events.append(event("test", checks + step.get("tests", "")))
    return {"name": step["name"], "event": events, "request": request}


def build(spec: dict) -> tuple[dict, dict]:
    """(collection, environment) as dicts, from the decoded OpenAPI document."""
    reader = SpecReader(spec)
    index = operation_index(spec)
    info = spec.get("info", {})
    walkthrough = {
        "name": "Walkthrough",
        "description": (
            "The whole story in order; it runs first and stores the ids the other "
            "folders use. Needs the demo data (`flask --app app seed-demo`). Source: "
            "scripts/postman_walkthrough.py."
        ),
        "item": [
            walkthrough_item({**step, "name": f"{number:02d} {step['name']}"}, index)
            for number, step in enumerate(STEPS)
        ],
    }
    collection = {
        "info": {
            "_postman_id": str(uuid.uuid5(NAMESPACE, "collection")),
            "name": info.get("title", "Easy Travels API"),
            "description": (
                f"{info.get('title', 'Easy Travels API')} {info.get('version', '')}. "
                "Generated by scripts/build_postman.py from docs/openapi.json (`make "
                "postman`); do not edit by hand. Select the environment "
                "easy-travels.postman_environment.json, set `baseUrl`, then run the "
                "whole collection (against a fresh demo database: `make newman`) or "
                "single requests: a collection-level pre-request script logs staff in "
                "(`staffEmail` / `demoPassword`) whenever no valid token is stored. "
                "Protected requests send `{{staffAccessToken}}`; switch a request's "
                "auth to `{{customerAccessToken}}` to act as the customer."
            ),
            "schema": SCHEMA_URL,
        },
        "auth": bearer("staffAccessToken"),
        "event": [
            event(
                "prerequest",
                COLLECTION_PREREQUEST.replace("@@STAFF_EMAIL@@", STAFF_EMAIL).replace(
                    "@@DEMO_PASSWORD@@", DEMO_PASSWORD
                ),
            )
        ],
        "item": [walkthrough, *resource_folders(reader)],
    }
    environment = {
        "id": str(uuid.uuid5(NAMESPACE, "environment")),
        "name": "Easy Travels (local)",
        "values": [
            {
                "key": key,
                "value": value,
                "type": "secret" if key in SECRET_VARIABLES else "default",
                "enabled": True,
                "description": text,
            }
            for key, value, text in environment_variables(spec)
        ],
        "_postman_variable_scope": "environment",
    }
    return collection, environment


def render(document: dict) -> str:
    """The committed text of a Postman file: indent 2, key order kept, newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def outputs(spec_path: Path = SPEC) -> dict[Path, str]:
    """{file: text} of both Postman files built from `spec_path`."""
    collection, environment = build(json.loads(spec_path.read_text(encoding="utf-8")))
    return {
        OUT_DIR / COLLECTION_FILE: render(collection),
        OUT_DIR / ENVIRONMENT_FILE: render(environment),
    }


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check compare) docs/postman/*.json; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=SPEC)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when the committed files differ from a fresh build",
    )
    args = parser.parse_args(argv)
    try:
        files = outputs(args.spec)
    except BuildError as exc:
        print(f"build_postman: {exc}", file=sys.stderr)
        return 1
    stale = [
        path
        for path, text in files.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if args.check:
        for path in stale:
            print(
                f"{path.relative_to(ROOT)} is out of date: run `make postman`",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        state = "written" if path in stale else "unchanged"
        print(f"{path.relative_to(ROOT)}: {state}")
    collection = json.loads(files[OUT_DIR / COLLECTION_FILE])
    counts = ", ".join(f"{f['name']} {len(f['item'])}" for f in collection["item"])
    print(f"folders: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
