"""Completes every operation of the OpenAPI spec in one place (docs/design.md
"API conventions").

flask-smorest documents what the decorators say: the success response, the request
body, query parameters and the 422 of `@blp.arguments`. The error responses the
app's shared machinery can give are the same rules for every operation, so they are
added here, by an apispec plugin that runs on each operation as flask-smorest
registers it, rather than by an `alt_response` on every view:

- 401 where the operation takes a bearer token (required or optional), 403 where one
  is required (`auth/decorators.py` writes `security`);
- 404 where the path names a resource (`{..._id}`);
- 422 where there are query parameters or a body; 400 (malformed JSON) and 415 (not
  JSON, `app.py` request guard) where there is a JSON body;
- 409 on every write: declared conflicts keep their description, and the
  IntegrityError handler (core/errors.py) can answer 409 to any write;
- 400 and 409 where the `Idempotency-Key` header is honoured
  (routes/common/idempotency.py: a malformed key, the same key still in flight);
- 429 with `Retry-After` on rate-limited views (`core.rate_limits.rate_limited`
  marks);
- on cached catalogue reads (`routes/common/caching.py` marks): the ETag, Last-Modified,
  Cache-Control and Vary headers of the 200, a 304 Not Modified, and the
  If-None-Match / If-Modified-Since request headers;
- 500 and 503 everywhere (unexpected error; database unreachable).

Every error response is `application/problem+json` with `core.errors.ProblemSchema`
(RFC 9457) and an example. A request body whose schema requires no property is
documented as optional: an empty body is an empty object (e.g. a PATCH that changes
nothing). No `default` response: the status codes listed are the complete set
(schemathesis checks responses against them, see `make fuzz`).

OpenAPI links tie a create to the operations on what it created: a 201 whose body
is schema `X` links to every operation with an `{x_id}` path parameter, passing
`$response.body#/id` (e.g. POST /packages -> GET/PATCH/DELETE /packages/{package_id},
POST /packages/{package_id}/departures -> /departures/{departure_id}/...). Clients and
schemathesis' stateful phase follow them (create -> get -> update).

Ids, timestamps, dates and currencies without an example get a generic one
(`generic_example`); every other field carries its own example in schemas/. Two
field conversions apispec leaves out are added as well: a `Decimal(as_string=True)`
is a decimal *string* in JSON (apispec says `number`), and a `Dict` with a `Length`
validator has `minProperties` / `maxProperties`.

Code generators (openapi-python-client, OpenAPI Generator) read three more things,
also added here for every operation rather than by hand in each route:

- `operationId`: derived from the path and method (`operation_id`): GET /packages
  -> `listPackages`, GET /packages/{package_id} -> `getPackage`, POST /bookings ->
  `createBooking`, POST /bookings/{booking_id}/cancel -> `cancelBooking`, GET
  /reports/revenue/monthly -> `getRevenueMonthlyReport`; `OPERATION_IDS` names the
  operations the rule reads badly for (auth, health); a view's own
  `@blp.doc(operationId=...)` wins;
- a `description` on every response (the HTTP reason phrase when the view gives
  none), with a status given both as `200` and `"200"` merged into one response;
- `required` on response schemas: every property of a schema that only responses
  use is always present in the JSON the app sends (marshmallow dumps every field,
  `null` when empty), so it is listed as required; a field that may be left out
  says so with `metadata={"may_be_absent": True}`. Schemas that requests use too
  keep their input `required` list, plus their read-only properties
  (OpenAPI 3.0.3, Schema Object `readOnly`: "required ... on the response only").
  This runs on the finished document (`ProblemDocPlugin.finalise`), when every
  operation is known.

The finished document also passes Redocly's `recommended` lint rules (`redocly lint`
with tools/redocly/redocly.yaml), so `finalise` adds three things the decorators
leave out:

- `servers`: one relative server, `/` (`SERVERS`). The paths already start with
  /api/v1 or /health, so the server adds no prefix; a relative URL is resolved
  against where the document is served (OpenAPI 3.0.3, Server Object), so the same
  document is right on every machine (rule `no-empty-servers`);
- `security: []` on every public operation, the ones no decorator of
  auth/decorators.py marks (login, register, the one-time codes, password reset,
  the health probes, the payment provider's webhook): an empty list says "no
  token" outright, where a missing `security` would mean "the document's default"
  (OpenAPI 3.0.3, Operation Object `security`; rule `security-defined`). Skipped
  when the document has a root `security`, which such operations inherit;
- no unused component schema: flask-smorest registers its `PaginationMetadata`
  (the X-Pagination header's schema) although no operation of this API uses it;
  a component schema that no operation reaches is dropped (rule
  `no-unused-components`).
"""

import copy
import re
from http import HTTPStatus

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from marshmallow import fields, validate

from core.errors import PROBLEM_MIME, ProblemSchema

PROBLEM = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM}"}
RATE_LIMIT_MARK = "_rate_limit_group"  # core.rate_limits.MARK
CACHE_MARK = "_catalogue_cached"  # routes.common.caching.CACHE_MARK
IDEMPOTENCY_HEADER = "Idempotency-Key"
WRITE_METHODS = {"post", "put", "patch", "delete"}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

# status -> (component name, description, problem example)
ERRORS = {
    400: (
        "BadRequest",
        "The body is not valid JSON, the Idempotency-Key header is malformed, or a "
        "one-time code is wrong or expired.",
        {
            "type": "/problems/malformed-json",
            "detail": "The request body is not valid JSON.",
        },
    ),
    401: (
        "Unauthorized",
        "No bearer token, or one that is invalid, expired or revoked.",
        {
            "type": "/problems/unauthorized",
            "detail": "A bearer access token is required.",
        },
    ),
    403: (
        "Forbidden",
        "The account's role or a business rule does not allow this.",
        {
            "type": "/problems/forbidden",
            "detail": "The role 'customer' may not do this.",
        },
    ),
    404: (
        "NotFound",
        "No such resource, or not the caller's to see.",
        {"type": "/problems/not-found", "detail": "Package not found."},
    ),
    409: (
        "Conflict",
        "The request conflicts with the current state (or a duplicate).",
        {
            "type": "/problems/integrity-conflict",
            "detail": "The change conflicts with existing data (a duplicate or a "
            "record in use).",
        },
    ),
    415: (
        "UnsupportedMediaType",
        "The body is not sent as application/json.",
        {
            "type": "/problems/unsupported-media-type",
            "detail": "Send the request body as JSON (Content-Type: application/json).",
        },
    ),
    422: (
        "UnprocessableContent",
        "A parameter or body field is not valid; `errors` names each one.",
        {
            "type": "/problems/validation-error",
            "detail": "The request is not valid; see `errors`.",
            "errors": {
                "seats": [
                    "Must be greater than or equal to 1 and less than or equal to 50."
                ]
            },
        },
    ),
    429: (
        "TooManyRequests",
        "Rate limit reached; retry after `Retry-After` seconds.",
        {
            "type": "/problems/rate-limited",
            "detail": "Too many login attempts; wait for the time in Retry-After.",
        },
    ),
    500: (
        "InternalServerError",
        "Unexpected server error (logged with the request id).",
        {
            "type": "/problems/internal-error",
            "detail": "The server encountered an internal error and was unable to "
            "complete your request. Either the server is overloaded or there is an "
            "error in the application.",
        },
    ),
    502: (
        "BadGateway",
        "The payment provider refused or failed the call; its message is in `detail`.",
        {
            "type": "/problems/provider-error",
            "detail": "The payment provider refused the refund: Charge already "
            "refunded.",
        },
    ),
    503: (
        "ServiceUnavailable",
        "A service the API depends on (database, mail) is unavailable; retry later.",
        {
            "type": "/problems/service-unavailable",
            "detail": "The database is not reachable.",
        },
    ),
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
RETRY_AFTER = {
    "description": "Seconds to wait before retrying (RFC 9110 section 10.2.3).",
    "schema": {"type": "integer", "minimum": 1, "example": 42},
}


API_PREFIX = "/api/v1"  # routes.API_PREFIX
# operationIds the path rule reads badly for, by (method, path under /api/v1).
OPERATION_IDS = {
    ("get", "/audit"): "listAuditEntries",
    ("post", "/auth/login"): "login",
    ("post", "/auth/login/otp"): "requestLoginCode",
    ("post", "/auth/login/otp/verify"): "loginWithCode",
    ("post", "/auth/logout"): "logout",
    ("get", "/auth/me"): "getCurrentAccount",
    ("post", "/auth/otp"): "requestPasswordChangeCode",
    ("post", "/auth/password"): "changePassword",
    ("post", "/auth/password/forgot"): "requestPasswordReset",
    ("post", "/auth/password/reset"): "resetPassword",
    ("post", "/auth/refresh"): "refreshAccessToken",
    ("post", "/auth/register"): "registerCustomer",
    ("post", "/customers/{customer_id}/wallet"): "adjustCustomerWallet",
    ("delete", "/employees/{employee_id}"): "deactivateEmployee",
    ("get", "/health"): "getHealth",
    ("get", "/health/ready"): "getReadiness",
}
# The document's `servers`: the server root, relative to where the document is
# served (the paths carry /api/v1 themselves).
SERVERS = [{"url": "/", "description": "This server (paths start at its root)"}]
ITEM_VERBS = {"get": "get", "put": "replace", "patch": "update", "delete": "delete"}
# A field that may be left out of a response: `metadata={ABSENT_MARK: True}`.
ABSENT_MARK = "may_be_absent"


def singular(word: str) -> str:
    """`enquiries` -> `enquiry`, `packages` -> `package`; other words unchanged."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def pascal(*words: str) -> str:
    """`("booking", "cancellation-quote")` -> `BookingCancellationQuote`."""
    return "".join(
        part[:1].upper() + part[1:]
        for word in words
        for part in re.split(r"[-_]", word)
        if part
    )


def operation_id(path: str, method: str, operation: dict) -> str:
    """A readable camelCase operationId for `method path`, stable as long as the
    path is: an explicit `OPERATION_IDS` entry, else by the path's shape:

    - `/reports/a/b` GET -> `getABReport`;
    - ending in a parameter: get/update/replace/delete + the nouns, each noun
      before a parameter singular (`/packages/{package_id}` -> `getPackage`);
    - ending in a name: GET lists a plural (`listPackageDepartures`) or gets a
      singular (`getBookingCancellationQuote`); POST creates when it answers 201
      (`createBooking`, `createPackageDeparture`); a POST on an item that answers
      200 is an action named by its last segment (`cancelBooking`,
      `submitPackage`); other methods: method + nouns.
    """
    short = path.removeprefix(API_PREFIX) or "/"
    if (method, short) in OPERATION_IDS:
        return OPERATION_IDS[(method, short)]
    segments = [segment for segment in short.strip("/").split("/") if segment]
    if segments[:1] == ["reports"] and method == "get":
        return "get" + pascal(*segments[1:]) + "Report"
    is_param = [segment.startswith("{") for segment in segments]
    nouns = [
        singular(segment)
        if index + 1 < len(segments) and is_param[index + 1]
        else segment
        for index, segment in enumerate(segments)
        if not is_param[index]
    ]
    if is_param[-1]:
        return ITEM_VERBS.get(method, method) + pascal(*nouns)
    *parents, leaf = nouns
    if method == "get":
        return ("list" if leaf.endswith("s") else "get") + pascal(*nouns)
    if method == "post":
        statuses = {str(code) for code in operation.get("responses", {})}
        after_item = len(segments) > 1 and is_param[-2]
        if "201" in statuses or not after_item:
            return "create" + pascal(*parents, singular(leaf))
        return leaf[:1].lower() + pascal(leaf)[1:] + pascal(*parents)
    return method + pascal(*nouns)


def merge_status_keys(responses: dict) -> dict:
    """The responses keyed by strings, a status given both as `200` (flask-smorest's
    `@blp.response`) and `"200"` (`@blp.doc`) merged into one: content types of
    both, the first description given."""
    merged: dict = {}
    for code, response in responses.items():
        key = str(code)
        if (
            key in merged
            and isinstance(response, dict)
            and isinstance(merged[key], dict)
        ):
            first = merged[key]
            content = {**first.get("content", {}), **response.get("content", {})}
            merged[key] = {**response, **first}
            if content:
                merged[key]["content"] = content
        else:
            merged[key] = response
    return merged


def _header(description: str, example: str) -> dict:
    """A string response header object with an example."""
    return {
        "description": description,
        "schema": {"type": "string"},
        "example": example,
    }


CACHE_HEADERS = {
    "ETag": _header(
        "Strong validator of this representation (RFC 9110 §8.8.3); send it back in "
        "If-None-Match to revalidate.",
        '"3f8a0c2e9b1d4a7f6e5c4b3a29180716"',
    ),
    "Last-Modified": _header(
        "When the catalogue (or, for departures, the newest departure shown) last "
        "changed, as an HTTP-date (RFC 9110 §8.8.2).",
        "Tue, 01 Dec 2026 17:00:00 GMT",
    ),
    "Cache-Control": _header(
        "`public, max-age=N` (CATALOGUE_CACHE_MAX_AGE) for anonymous callers, "
        "`private, no-cache` for a caller with a token.",
        "public, max-age=60",
    ),
    "Vary": _header(
        "Always names Authorization: the answer depends on who asks.", "Authorization"
    ),
}
NOT_MODIFIED = {
    "description": "Not Modified: the copy named by If-None-Match (or, without it, "
    "If-Modified-Since) is current; no body (RFC 9110 §15.4.5).",
    "headers": {
        name: CACHE_HEADERS[name] for name in ("ETag", "Cache-Control", "Vary")
    },
}
CONDITIONAL_PARAMETERS = [
    {
        "in": "header",
        "name": "If-None-Match",
        "required": False,
        "description": "ETags of copies the client holds, or `*` (RFC 9110 §13.1.2, "
        "weak comparison); a match answers 304.",
        "schema": {"type": "string", "example": '"3f8a0c2e9b1d4a7f6e5c4b3a29180716"'},
    },
    {
        "in": "header",
        "name": "If-Modified-Since",
        "required": False,
        "description": "HTTP-date of the client's copy, used only without "
        "If-None-Match (RFC 9110 §13.1.3); not modified since answers 304.",
        "schema": {"type": "string", "example": "Tue, 01 Dec 2026 17:00:00 GMT"},
    },
]


def document_caching(operation: dict) -> None:
    """Add the caching headers, the 304 and the conditional request headers to a
    cached catalogue read (routes/common/caching.py)."""
    responses = operation.setdefault("responses", {})
    ok = responses.get("200")
    if isinstance(ok, dict):
        ok.setdefault("headers", {}).update(copy.deepcopy(CACHE_HEADERS))
    responses["304"] = copy.deepcopy(NOT_MODIFIED)
    parameters = operation.setdefault("parameters", [])
    parameters.extend(copy.deepcopy(CONDITIONAL_PARAMETERS))


def describe_responses(responses: dict) -> None:
    """Give every response object without a `description` the status's reason
    phrase (OpenAPI 3.0.3: Response Object `description` is REQUIRED)."""
    for code, response in responses.items():
        if (
            isinstance(response, dict)
            and "$ref" not in response
            and not response.get("description")
        ):
            try:
                response["description"] = HTTPStatus(int(code)).phrase
            except ValueError:
                response["description"] = "Response"


def schema_refs(node, found: set[str] | None = None) -> set[str]:
    """Names of the component schemas `node` refers to, directly."""
    found = set() if found is None else found
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            schema_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            schema_refs(value, found)
    return found


def reachable(schemas: dict, names: set[str]) -> set[str]:
    """`names` and every component schema they refer to, transitively."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(schema_refs(schemas[name]))
    return seen


def mark_required(document: dict, absent: dict[str, set[str]]) -> None:
    """List as `required` the always-present properties of response schemas (module
    docstring); `absent` maps a schema name to property names that may be left out."""
    schemas = document.get("components", {}).get("schemas", {})
    inputs, outputs = set(), set()
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS or not isinstance(operation, dict):
                continue
            inputs |= schema_refs(operation.get("requestBody", {}))
            inputs |= schema_refs(operation.get("parameters", []))
            for code, response in operation.get("responses", {}).items():
                if str(code).startswith("2"):
                    outputs |= schema_refs(response)
    inputs, outputs = reachable(schemas, inputs), reachable(schemas, outputs)
    for name in sorted(outputs):
        schema = schemas[name]
        properties = schema.get("properties") or {}
        required = list(schema.get("required", []))
        for prop, definition in properties.items():
            if prop in required or prop in absent.get(name, set()):
                continue
            if name not in inputs or definition.get("readOnly"):
                required.append(prop)
        if required:
            schema["required"] = required


def mark_public(document: dict) -> None:
    """Give every operation without `security` an explicit `security: []` (public:
    no token), unless the document has a root `security` (module docstring)."""
    if "security" in document:
        return
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in METHODS and isinstance(operation, dict):
                operation.setdefault("security", [])


def drop_unused_schemas(document: dict) -> None:
    """Remove the component schemas that nothing outside `components.schemas`
    refers to, directly or through other schemas (module docstring)."""
    components = document.get("components", {})
    schemas = components.get("schemas", {})
    outside = {k: v for k, v in document.items() if k != "components"}
    others = {k: v for k, v in components.items() if k != "schemas"}
    used = reachable(schemas, schema_refs(outside) | schema_refs(others))
    for name in [name for name in schemas if name not in used]:
        del schemas[name]


def problem_response(status: int, description: str | None = None) -> dict:
    """The OpenAPI response object of a problem with `status` (a key of ERRORS);
    `description` overrides the generic one (e.g. a declared 409's reason)."""
    _name, generic, example = ERRORS[status]
    content = {
        "schema": PROBLEM_REF,
        "example": {
            "type": example["type"],
            "title": TITLES[status],
            "status": status,
            **{k: v for k, v in example.items() if k != "type"},
        },
    }
    response = {
        "description": description or generic,
        "content": {PROBLEM_MIME: content},
    }
    if status == 429:
        response["headers"] = {"Retry-After": RETRY_AFTER}
    return response


def declared_schema(response: dict) -> dict | None:
    """The schema a view declared for an error response (its first media type's),
    or None."""
    content = response.get("content") or {}
    first = next(iter(content.values()), None)
    return first.get("schema") if isinstance(first, dict) else None


def snake_case(name: str) -> str:
    """`DepartureCancellation` -> `departure_cancellation`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def add_link(response: dict, resource: str, path: str, method: str) -> None:
    """Add to a 201 `response` a link to `method path`, whose `{resource}_id` is the
    created object's `id` (OpenAPI 3.0 Link Object, by `operationRef`)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    name = re.sub(r"\W+", "_", f"{method}_{path.removeprefix('/api/v1/')}").strip("_")
    response.setdefault("links", {})[name] = {
        "operationRef": f"#/paths/{pointer}/{method}",
        "parameters": {f"{resource}_id": "$response.body#/id"},
    }


def decimal_string_property(_converter, field, ret=None, **_kwargs) -> dict:
    """apispec attribute function: `Decimal(as_string=True)` leaves as a JSON string
    such as "12.5", so document `type: string, format: decimal`."""
    if (
        isinstance(field, fields.Decimal)
        and field.as_string
        and (ret or {}).get("type") == "number"
    ):
        return {"type": "string", "format": "decimal"}
    return {}


# Examples for fields that name none, by the field's name or format: ids, times
# and currency look the same everywhere.
GENERIC_EXAMPLES = {"date-time": "2026-05-01T09:30:00+00:00", "date": "2026-09-12"}


def generic_example(_converter, field, ret=None, **_kwargs) -> dict:
    """apispec attribute function: an `example` for an id (`id`, `*_id`), a
    date-time, a date or a `currency` field that gives none; other fields carry their
    own `metadata={"example": ...}` in schemas/."""
    ret = ret or {}
    if (
        "example" in ret
        or "enum" in ret
        or ret.get("type") not in ("integer", "string")
    ):
        return {}
    name = field.data_key or field.name or ""
    if ret["type"] == "integer" and (name == "id" or name.endswith("_id")):
        return {"example": 7 if name == "id" else 42}
    if ret.get("format") in GENERIC_EXAMPLES:
        return {"example": GENERIC_EXAMPLES[ret["format"]]}
    if name == "currency":
        return {"example": "EUR"}
    return {}


def dict_length_properties(_converter, field, ret=None, **_kwargs) -> dict:
    """apispec attribute function: a `Dict` field's `Length(min, max)` validator as
    `minProperties` / `maxProperties`."""
    if not isinstance(field, fields.Dict):
        return {}
    bounds = {}
    for validator in field.validators:
        if isinstance(validator, validate.Length):
            if validator.min is not None:
                bounds["minProperties"] = validator.min
            if validator.max is not None:
                bounds["maxProperties"] = validator.max
    return bounds


class ProblemDocPlugin(BasePlugin):
    """apispec plugin adding the error responses above to every operation.

    `app` is the Flask app whose views are being documented: the plugin reads the
    rate-limit marks from its view classes (`rule.endpoint`).
    """

    def __init__(self, app=None):
        self.app = app
        self.spec = None
        self._producers: dict[str, list[dict]] = {}  # "package" -> 201 responses
        self._consumers: dict[str, list[tuple[str, str]]] = {}  # -> (path, method)
        self._absent: dict[
            str, set[str]
        ] = {}  # schema name -> may-be-absent properties

    def init_spec(self, spec) -> None:
        """Register the Problem schema and one response component per status."""
        super().init_spec(spec)
        self.spec = spec
        for plugin in spec.plugins:
            if isinstance(plugin, MarshmallowPlugin):
                plugin.converter.add_attribute_function(decimal_string_property)
                plugin.converter.add_attribute_function(dict_length_properties)
                plugin.converter.add_attribute_function(generic_example)
        spec.components.schema(PROBLEM, schema=ProblemSchema)
        for status, (name, _description, _example) in ERRORS.items():
            spec.components.response(name, problem_response(status), lazy=True)
        build = spec.to_dict
        spec.to_dict = lambda: self.finalise(build())

    def finalise(self, document: dict) -> dict:
        """The finished document with `required` on response schemas, `servers`,
        explicit `security: []` on public operations and no unused component schema
        (a copy: the spec's own state stays as registered, so it can be built
        again)."""
        document = copy.deepcopy(document)
        mark_required(document, self._absent)
        mark_public(document)
        drop_unused_schemas(document)
        document.setdefault("servers", copy.deepcopy(SERVERS))
        return document

    def schema_helper(self, name, _definition, **kwargs) -> dict | None:
        """Remember which dumped fields of schema `name` may be absent (ABSENT_MARK),
        and add the schema class's `openapi_extra` (what the fields cannot express,
        e.g. `x-required-any-of`: the required sets of a body of several shapes) to
        its component."""
        schema = kwargs.get("schema")
        if schema is None:
            return None
        instance = resolve_schema_instance(schema)
        self._absent[name] = {
            field.data_key or key
            for key, field in instance.fields.items()
            if field.metadata.get(ABSENT_MARK)
        }
        extra = getattr(type(instance), "openapi_extra", None)
        return copy.deepcopy(extra) if extra else None

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        """Complete each operation's responses and request body (see module doc)."""
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            operation["responses"] = merge_status_keys(operation.get("responses", {}))
            self._complete(path or "", method.lower(), operation, rule)
            if self._view_mark(rule, method.lower(), CACHE_MARK):
                document_caching(operation)
            describe_responses(operation["responses"])
            operation.setdefault(
                "operationId", operation_id(path or "/", method.lower(), operation)
            )
            self._collect_links(path or "", method.lower(), operation)

    def _collect_links(self, path: str, method: str, operation: dict) -> None:
        """Remember producers (201 with a schema ref) and consumers (`{x_id}` path
        parameters) and add the links between them seen so far (either side may be
        registered first)."""
        responses = operation.get("responses", {})
        created = responses.get(201) or responses.get("201")
        ref = ""
        if isinstance(created, dict):
            schema = (
                created.get("content", {}).get("application/json", {}).get("schema", {})
            )
            ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
        if ref:
            resource = snake_case(ref.rsplit("/", 1)[-1]).removesuffix("_detail")
            self._producers.setdefault(resource, []).append(created)
            for consumer in self._consumers.get(resource, []):
                add_link(created, resource, *consumer)
        for name in re.findall(r"{(\w+)_id}", path):
            self._consumers.setdefault(name, []).append((path, method))
            for produced in self._producers.get(name, []):
                add_link(produced, name, path, method)

    def _complete(self, path: str, method: str, operation: dict, rule) -> None:
        """Add the error responses `operation` can give; mark optional bodies."""
        responses = operation.setdefault("responses", {})
        responses.pop("default", None)
        for status in sorted(self._statuses(path, method, operation, rule)):
            declared = responses.pop(status, None) or responses.pop(str(status), None)
            if isinstance(declared, dict) and declared.get("description"):
                response = problem_response(status, declared["description"])
                schema = declared_schema(declared)
                if schema is not None and schema != PROBLEM_REF:
                    # A view's own problem schema (e.g. the GTFS import's list
                    # of feed errors) replaces the generic one.
                    response["content"][PROBLEM_MIME]["schema"] = schema
                responses[str(status)] = response
            else:
                responses[str(status)] = ERRORS[status][0]
        body = operation.get("requestBody")
        if body and not self._body_has_required(body):
            body["required"] = False

    def _statuses(self, path: str, method: str, operation: dict, rule) -> set[int]:
        """The error statuses of one operation (rules in the module docstring)."""
        statuses = {500, 503}
        security = operation.get("security")
        if security:
            statuses.add(401)
            if {} not in security:
                statuses.add(403)
        if "{" in path:
            statuses.add(404)
        parameters = operation.get("parameters", [])
        body = operation.get("requestBody")
        if body or any(
            p.get("in") == "query" for p in parameters if isinstance(p, dict)
        ):
            statuses.add(422)
        if body:
            statuses |= {400, 415}
        if method in WRITE_METHODS:
            statuses.add(409)
        if any(
            isinstance(p, dict) and p.get("name") == IDEMPOTENCY_HEADER
            for p in parameters
        ):
            statuses |= {400, 409}
        if self._rate_limited(rule, method):
            statuses.add(429)
        declared = operation.get("responses", {})
        statuses |= {int(code) for code in declared if str(code) in map(str, ERRORS)}
        return statuses

    def _rate_limited(self, rule, method: str) -> bool:
        """True when the view method behind `rule` carries a rate-limit mark."""
        return self._view_mark(rule, method, RATE_LIMIT_MARK)

    def _view_mark(self, rule, method: str, mark: str) -> bool:
        """True when the view method behind `rule` carries the attribute `mark`."""
        if self.app is None or rule is None:
            return False
        view = self.app.view_functions.get(rule.endpoint)
        view_class = getattr(view, "view_class", None)
        func = getattr(view_class, method, None) if view_class else view
        return bool(getattr(func, mark, None))

    def _body_has_required(self, body: dict) -> bool:
        """True when the JSON body schema (a component ref or inline) requires a
        property, or is not an object."""
        schema = body.get("content", {}).get("application/json", {}).get("schema", {})
        ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
        if ref:
            schema = self.spec.components.schemas.get(ref.rsplit("/", 1)[-1], {})
        if not isinstance(schema, dict) or schema.get("type", "object") != "object":
            return True
        # A body of one of several shapes (`x-required-any-of`: required sets,
        # from the schema's `openapi_extra`) needs one.
        if schema.get("x-required-any-of"):
            return True
        return bool(schema.get("required"))
