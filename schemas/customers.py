"""Customer schemas (DESIGN.md "Resource map": customer fields)."""

from marshmallow import Schema, fields, validate

from schemas.common import Money, PageArgs

PHONE = validate.Regexp(r"^\+?[0-9 ()\-]{5,32}$", error="Use digits, spaces, + ( ) -.")
# PostgreSQL refuses NUL characters in text (a 500 otherwise): one regex per field so
# the OpenAPI spec keeps both `pattern` and `maxLength`.
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")
NAME = [
    validate.Length(min=1, max=120),
    validate.Regexp(
        r"^[^\x00]*[^\s\x00][^\x00]*$", error="Must not be blank or contain NUL characters."
    ),
]
ADDRESS = [validate.Length(max=500), NO_NUL]
SEARCH = [validate.Length(max=100), NO_NUL]
PASSWORD = validate.Length(min=8, max=128)


class CustomerSchema(Schema):
    """A customer as the API shows it (never the password)."""

    id = fields.Integer(dump_only=True)
    name = fields.String()
    email = fields.Email()
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    active = fields.Boolean()
    wallet_balance = Money(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class CustomerRegisterSchema(Schema):
    """Self-registration: no role, no active flag, a password of 8+ characters."""

    name = fields.String(required=True, validate=NAME)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=PHONE)
    address = fields.String(allow_none=True, validate=ADDRESS)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)


class CustomerCreateSchema(Schema):
    """Staff (sales, admin) register a customer; the password is optional (the
    customer can set one through the OTP reset flow)."""

    name = fields.String(required=True, validate=NAME)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=PHONE)
    address = fields.String(allow_none=True, validate=ADDRESS)
    password = fields.String(load_only=True, validate=PASSWORD)


class CustomerUpdateSchema(Schema):
    """Partial update of a customer's contact data (`active` for staff only)."""

    name = fields.String(validate=NAME)
    email = fields.Email(validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=PHONE)
    address = fields.String(allow_none=True, validate=ADDRESS)
    active = fields.Boolean()


class CustomerQueryArgs(PageArgs):
    """`?q=` searches name, email and phone; `active=` filters; `sort=` one of name,
    email, created_at (`-` prefix reverses; default newest first)."""

    q = fields.String(validate=SEARCH)
    active = fields.Boolean()
    sort = fields.String(validate=validate.Length(max=30))
