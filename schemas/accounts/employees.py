"""Employee schemas (docs/design.md "Resource map": employee fields)."""

from marshmallow import Schema, fields, validate

from models.account import ROLES
from schemas.accounts.customers import (
    NAME,
    PASSWORD,
    PHONE,
    SEARCH,
    locale_field,
    phone_confirmed_field,
)
from schemas.common import ID, PageArgs, StrictBoolean, sort_field

# An operator's transport company (docs/transport.md "Companies and operators").
COMPANY_ID = {
    "strict": True,
    "validate": ID,
    "metadata": {
        "example": 3,
        "description": "The transport company of an `operator` (required for "
        "that role, refused for any other).",
    },
}


class EmployeeSchema(Schema):
    """An employee as the API shows it (never the password)."""

    id = fields.Integer(dump_only=True)
    name = fields.String(metadata={"example": "Sofia Marin"})
    email = fields.Email(metadata={"example": "sofia.marin@easytravels.test"})
    phone = fields.String(allow_none=True, metadata={"example": "+353 1 555 1004"})
    phone_confirmed_at = phone_confirmed_field()
    role = fields.String(validate=validate.OneOf(ROLES))
    company_id = fields.Integer(
        allow_none=True,
        metadata={"example": None, "description": "An operator's transport company."},
    )
    locale = locale_field()
    active = fields.Boolean(metadata={"example": True})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class EmployeeCreateSchema(Schema):
    """Admin creates an employee with an initial password."""

    name = fields.String(
        required=True,
        validate=NAME,
        metadata={"example": "Sofia Marin"},
    )
    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        metadata={"example": "sofia.marin@easytravels.test"},
    )
    phone = fields.String(
        allow_none=True,
        validate=PHONE,
        metadata={"example": "+353 1 555 1004"},
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    company_id = fields.Integer(allow_none=True, **COMPANY_ID)
    locale = locale_field()
    password = fields.String(
        required=True,
        load_only=True,
        validate=PASSWORD,
        metadata={"example": "a-longer-passphrase-42"},
    )


class EmployeeUpdateSchema(Schema):
    """Partial update: contact data (admin, hr); `role`, `active` and `company_id`
    (admin only)."""

    name = fields.String(validate=NAME, metadata={"example": "Sofia Marin"})
    email = fields.Email(
        validate=validate.Length(max=254),
        metadata={"example": "sofia.marin@easytravels.test"},
    )
    phone = fields.String(
        allow_none=True,
        validate=PHONE,
        metadata={"example": "+353 1 555 1004"},
    )
    role = fields.String(validate=validate.OneOf(ROLES))
    company_id = fields.Integer(allow_none=True, **COMPANY_ID)
    locale = locale_field()
    active = StrictBoolean(metadata={"example": True})


class EmployeeQueryArgs(PageArgs):
    """`?q=` over name and email, `role=`, `active=` and `company_id=` filters;
    `sort=` one of name, email, created_at (`-` prefix reverses; default newest
    first)."""

    q = fields.String(validate=SEARCH)
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    company_id = fields.Integer(validate=ID)
    sort = sort_field("name", "email", "created_at")
