"""Customer schemas (docs/design.md "Resource map": customer fields)."""

from marshmallow import Schema, fields, validate

from schemas.common import NO_NUL, NOT_BLANK, Money, PageArgs, StrictBoolean, sort_field

PHONE = validate.Regexp(r"^\+?[0-9 ()\-]{5,32}$", error="Use digits, spaces, + ( ) -.")
# PostgreSQL refuses NUL characters in text (a 500 otherwise): one regex per field so
# the OpenAPI spec keeps both `pattern` and `maxLength` (schemas.common NO_NUL).
NAME = [validate.Length(min=1, max=120), NOT_BLANK]
ADDRESS = [validate.Length(max=500), NO_NUL]
SEARCH = [validate.Length(max=100), NO_NUL]
PASSWORD = validate.Length(min=8, max=128)
# The languages of mail, documents and answers (config LANGUAGES, docs/i18n.md).
LOCALES = ("en", "de", "es")
BILLING_ADDRESS = [validate.Length(max=1000), NO_NUL]
VAT_ID = validate.Regexp(
    r"^[A-Za-z0-9]{2,20}$", error="Use 2 to 20 letters and digits, e.g. DE123456789."
)


def locale_field(**kwargs) -> fields.String:
    """An account's `locale`: `en`, `de` or `es`; null follows the request's
    Accept-Language (docs/i18n.md "Choosing the language")."""
    return fields.String(
        allow_none=True,
        validate=validate.OneOf(LOCALES),
        metadata={
            "example": "de",
            "description": "The language of the account's mail, documents and "
            "answers: en, de or es (null: the request's Accept-Language).",
        },
        **kwargs,
    )


def billing_address_field() -> fields.String:
    """`billing_address`: what invoices show as the buyer's address
    (docs/documents.md)."""
    return fields.String(
        allow_none=True,
        validate=BILLING_ADDRESS,
        metadata={
            "example": "Byrne Consulting Ltd\n12 Harbour Road\nDublin D02 X285",
            "description": "The buyer's address on invoices (null: `address`).",
        },
    )


def vat_id_field() -> fields.String:
    """`vat_id`: the buyer's VAT number on invoices (docs/documents.md)."""
    return fields.String(
        allow_none=True,
        validate=VAT_ID,
        metadata={
            "example": "IE6388047V",
            "description": "The buyer's VAT number on invoices (letters and "
            "digits, e.g. DE123456789).",
        },
    )


def phone_confirmed_field() -> fields.DateTime:
    """An account's `phone_confirmed_at` as answers show it (docs/security.md
    "One-time codes by SMS")."""
    return fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={
            "example": "2026-03-14T09:26:53+00:00",
            "description": "When the holder confirmed the phone with a texted code "
            "(null: never, or changed since); only a confirmed phone gets sign-in "
            "codes by SMS.",
        },
    )


class CustomerSchema(Schema):
    """A customer as the API shows it (never the password)."""

    id = fields.Integer(dump_only=True)
    name = fields.String(metadata={"example": "Clara Byrne"})
    email = fields.Email(metadata={"example": "clara.byrne@example.com"})
    phone = fields.String(allow_none=True, metadata={"example": "+353 1 555 0142"})
    phone_confirmed_at = phone_confirmed_field()
    address = fields.String(
        allow_none=True,
        metadata={"example": "12 Harbour Road, Dublin"},
    )
    billing_address = billing_address_field()
    vat_id = vat_id_field()
    locale = locale_field()
    active = fields.Boolean(metadata={"example": True})
    wallet_balance = Money(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    # Right after creation only: look-alike customers
    # (services/sales/customer_merge.py).
    duplicates = fields.List(
        fields.Dict(),
        dump_only=True,
        metadata={
            "may_be_absent": True,
            "example": [
                {
                    "id": 8,
                    "name": "C. Byrne",
                    "email": "cb@example.com",
                    "phone": "01 555 0142",
                    "active": True,
                    "matched_on": ["phone"],
                }
            ],
        },
    )
    merged_into_id = fields.Integer(dump_only=True, allow_none=True)


class _CustomerContactSchema(Schema):
    """The contact fields every new customer gives (docs/design.md "Resource map":
    field names)."""

    name = fields.String(
        required=True,
        validate=NAME,
        metadata={"example": "Clara Byrne"},
    )
    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        metadata={"example": "clara.byrne@example.com"},
    )
    phone = fields.String(
        allow_none=True,
        validate=PHONE,
        metadata={"example": "+353 1 555 0142"},
    )
    address = fields.String(
        allow_none=True,
        validate=ADDRESS,
        metadata={"example": "12 Harbour Road, Dublin"},
    )
    billing_address = billing_address_field()
    vat_id = vat_id_field()
    locale = locale_field()


class CustomerRegisterSchema(_CustomerContactSchema):
    """Self-registration: no role, no active flag, a password of 8+ characters."""

    password = fields.String(
        required=True,
        load_only=True,
        validate=PASSWORD,
        metadata={"example": "a-longer-passphrase-42"},
    )


class CustomerCreateSchema(_CustomerContactSchema):
    """Staff (sales, admin) register a customer; the password is optional (the
    customer can set one through the OTP reset flow)."""

    password = fields.String(
        load_only=True,
        validate=PASSWORD,
        metadata={"example": "a-longer-passphrase-42"},
    )


class CustomerUpdateSchema(Schema):
    """Partial update of a customer's contact data (`active` for staff only)."""

    name = fields.String(validate=NAME, metadata={"example": "Clara Byrne"})
    email = fields.Email(
        validate=validate.Length(max=254),
        metadata={"example": "clara.byrne@example.com"},
    )
    phone = fields.String(
        allow_none=True,
        validate=PHONE,
        metadata={"example": "+353 91 555 0199"},
    )
    address = fields.String(
        allow_none=True,
        validate=ADDRESS,
        metadata={"example": "3 Quay Street, Galway"},
    )
    billing_address = billing_address_field()
    vat_id = vat_id_field()
    locale = locale_field()
    active = StrictBoolean(metadata={"example": True})


class CustomerQueryArgs(PageArgs):
    """`?q=` searches name, email and phone; `active=` filters; `sort=` one of name,
    email, created_at (`-` prefix reverses; default newest first)."""

    q = fields.String(validate=SEARCH)
    active = fields.Boolean()
    sort = sort_field("name", "email", "created_at")
