"""Employee schemas (DESIGN.md "Resource map": employee fields)."""

from marshmallow import Schema, fields, validate

from models.account import ROLES
from schemas.common import PageArgs
from schemas.customers import NAME, PASSWORD, PHONE, SEARCH


class EmployeeSchema(Schema):
    """An employee as the API shows it (never the password)."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    email = fields.Email()
    phone = fields.String(allow_none=True)
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class EmployeeCreateSchema(Schema):
    """Admin creates an employee with an initial password."""

    name = fields.String(required=True, validate=NAME)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=PHONE)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    password = fields.String(required=True, load_only=True, validate=PASSWORD)


class EmployeeUpdateSchema(Schema):
    """Partial update: contact data (admin, hr); `role` and `active` (admin only)."""

    name = fields.String(validate=NAME)
    email = fields.Email(validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=PHONE)
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()


class EmployeeQueryArgs(PageArgs):
    """`?q=` over name and email, `role=` and `active=` filters; `sort=` one of name,
    email, created_at (`-` prefix reverses; default newest first)."""

    q = fields.String(validate=SEARCH)
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    sort = fields.String(validate=validate.Length(max=30))
