"""Schemas of transport companies and amenities (docs/transport.md "Companies and
operators", "Amenities"). The country and timezone checks that need reference data
(ISO 3166-1, IANA) are the service's; here only their shape."""

from marshmallow import Schema, fields, validate

from schemas.accounts.customers import NAME, PHONE, SEARCH
from schemas.common import PageArgs, StrictBoolean, sort_field

# GTFS agency_id / our own short code: letters, digits, `.`, `_`, `-`.
COMPANY_CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
    error="Use 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit.",
)
# ISO 3166-1 alpha-2; the service checks the code exists (422 otherwise).
COUNTRY = validate.Regexp(
    r"^[A-Za-z]{2}$", error="Use an ISO 3166-1 alpha-2 code such as IE."
)
# An IANA zone name such as Europe/Dublin; the service checks it exists.
TIMEZONE = validate.Regexp(
    r"^[A-Za-z0-9_+\-/]{1,64}$", error="Use an IANA timezone such as Europe/Dublin."
)
WEBSITE = validate.Length(max=255)
AMENITY_CODE = validate.Regexp(
    r"^[a-z0-9][a-z0-9_]{0,31}$",
    error="Use 1-32 lower-case letters, digits or '_' (e.g. wifi).",
)


class CompanySchema(Schema):
    """A transport company (GTFS agency) as the API shows it."""

    id = fields.Integer(dump_only=True)
    name = fields.String(metadata={"example": "Emerald Coaches"})
    code = fields.String(metadata={"example": "EMC"})
    email = fields.String(allow_none=True, metadata={"example": "ops@emerald.test"})
    phone = fields.String(allow_none=True, metadata={"example": "+353 1 555 2000"})
    country = fields.String(metadata={"example": "IE"})
    website = fields.String(
        allow_none=True, metadata={"example": "https://emerald.test"}
    )
    timezone = fields.String(metadata={"example": "Europe/Dublin"})
    active = fields.Boolean(metadata={"example": True})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class CompanyCreateSchema(Schema):
    """A new company (admin): `code` unique, `country` ISO 3166-1 alpha-2,
    `timezone` IANA (default UTC), `active` true unless given."""

    name = fields.String(
        required=True, validate=NAME, metadata={"example": "Emerald Coaches"}
    )
    code = fields.String(
        required=True, validate=COMPANY_CODE, metadata={"example": "EMC"}
    )
    email = fields.Email(
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"example": "ops@emerald.test"},
    )
    phone = fields.String(
        allow_none=True, validate=PHONE, metadata={"example": "+353 1 555 2000"}
    )
    country = fields.String(required=True, validate=COUNTRY, metadata={"example": "IE"})
    website = fields.URL(
        allow_none=True,
        schemes={"http", "https"},
        validate=WEBSITE,
        metadata={"example": "https://emerald.test"},
    )
    timezone = fields.String(
        load_default="UTC", validate=TIMEZONE, metadata={"example": "Europe/Dublin"}
    )
    active = StrictBoolean(load_default=True, metadata={"example": True})


class CompanyUpdateSchema(Schema):
    """Partial update (admin); `active: false` deactivates the company."""

    name = fields.String(validate=NAME, metadata={"example": "Emerald Coaches"})
    code = fields.String(validate=COMPANY_CODE, metadata={"example": "EMC"})
    email = fields.Email(
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"example": "ops@emerald.test"},
    )
    phone = fields.String(
        allow_none=True, validate=PHONE, metadata={"example": "+353 1 555 2000"}
    )
    country = fields.String(validate=COUNTRY, metadata={"example": "IE"})
    website = fields.URL(
        allow_none=True,
        schemes={"http", "https"},
        validate=WEBSITE,
        metadata={"example": "https://emerald.test"},
    )
    timezone = fields.String(validate=TIMEZONE, metadata={"example": "Europe/Dublin"})
    active = StrictBoolean(metadata={"example": False})


class CompanyQueryArgs(PageArgs):
    """`?q=` over name and code, `active=` filter; `sort=` one of name, code,
    created_at (`-` prefix reverses; default name)."""

    q = fields.String(validate=SEARCH)
    active = fields.Boolean()
    sort = sort_field("name", "code", "created_at")


class AmenitySchema(Schema):
    """An on-board service (`wifi`, `meal`, `power`, `toilet`, `wheelchair`)."""

    id = fields.Integer(dump_only=True)
    code = fields.String(metadata={"example": "wifi"})
    name = fields.String(metadata={"example": "Wi-Fi"})


class AmenityCreateSchema(Schema):
    """A new amenity (admin): `code` unique, lower case."""

    code = fields.String(
        required=True, validate=AMENITY_CODE, metadata={"example": "wifi"}
    )
    name = fields.String(required=True, validate=NAME, metadata={"example": "Wi-Fi"})


class AmenityUpdateSchema(Schema):
    """Partial update of an amenity (admin)."""

    code = fields.String(validate=AMENITY_CODE, metadata={"example": "wifi"})
    name = fields.String(validate=NAME, metadata={"example": "Wi-Fi"})


class AmenityQueryArgs(PageArgs):
    """`?q=` over code and name; sorted by code."""

    q = fields.String(validate=SEARCH)
