"""Schemas of the /auth endpoints."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models.account import ROLES
from schemas.accounts.customers import PASSWORD, CustomerSchema, locale_field
from schemas.accounts.employees import EmployeeSchema

ACCOUNT_TYPES = ("customer", "employee")
ACCOUNT = fields.String(
    required=True,
    validate=validate.OneOf(ACCOUNT_TYPES),
    metadata={"example": "customer"},
)
OTP = fields.String(
    required=True,
    validate=validate.Regexp(r"^[0-9]{6}$", error="The code has 6 digits."),
    metadata={"example": "123456"},
)
CHANNEL = fields.String(
    load_default="email",
    validate=validate.OneOf(["email", "sms"]),
    metadata={
        "example": "email",
        "description": "Where the code goes: `email` (default) to the account's "
        "address, `sms` to its phone (E.164).",
    },
)


class LoginSchema(Schema):
    """Password login for a customer or an employee."""

    email = fields.Email(required=True, metadata={"example": "clara.byrne@example.com"})
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=128),
        metadata={"example": "demo-password-1"},
    )
    account = ACCOUNT


class TokenSchema(Schema):
    """Bearer tokens; `expires_in` is the access token lifetime in seconds."""

    access_token = fields.String(
        metadata={
            "example": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJzdWIiOiJjdXN0b21lcjoxMiJ9.c2lnbmF0dXJl"
        }
    )
    refresh_token = fields.String(
        required=False,
        metadata={
            "may_be_absent": True,
            "example": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJ0eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
        },
    )
    token_type = fields.String(metadata={"enum": ["Bearer"]})
    expires_in = fields.Integer(metadata={"example": 900})


def _dump_profile(account) -> dict:
    """The account's own output schema: employee or customer fields."""
    schema = (
        EmployeeSchema() if account.account_type == "employee" else CustomerSchema()
    )
    return schema.dump(account)


class MeSchema(Schema):
    """Who the caller is: account type, role and profile."""

    type = fields.String(metadata={"enum": list(ACCOUNT_TYPES)})
    role = fields.String(metadata={"enum": [*ROLES, "customer"], "example": "sales"})
    profile = fields.Function(
        lambda me: _dump_profile(me["profile"]),
        metadata={
            "type": "object",
            "example": {
                "id": 4,
                "name": "Sofia Marin",
                "email": "sofia.marin@easytravels.test",
                "phone": "+353 1 555 1004",
                "active": True,
            },
        },
    )


class MeUpdateSchema(Schema):
    """What an account changes about itself here: its language (`locale`; null:
    follow Accept-Language). Other profile fields have their own endpoints."""

    locale = locale_field(required=True)


class OtpRequestSchema(Schema):
    """A logged-in account asks for a password-change code (by mail or SMS), or for
    a code texted to its phone that confirms the phone (`phone_confirm`, SMS
    only; then POST /auth/phone/confirm)."""

    purpose = fields.String(
        required=True,
        validate=validate.OneOf(["password_change", "phone_confirm"]),
        metadata={"example": "password_change"},
    )
    channel = CHANNEL

    @validates_schema
    def _phone_by_sms(self, data, **kwargs):
        """A phone is confirmed by a code texted to it."""
        if data.get("purpose") == "phone_confirm" and data.get("channel") != "sms":
            raise ValidationError(
                "A phone is confirmed by a code sent to it: use channel sms.",
                "channel",
            )


class PhoneConfirmSchema(Schema):
    """The code texted to the account's phone (purpose `phone_confirm`)."""

    otp = OTP


class PasswordChangeSchema(Schema):
    """Set a new password with the mailed code."""

    otp = OTP
    new_password = fields.String(
        required=True,
        load_only=True,
        validate=PASSWORD,
        metadata={"example": "a-longer-passphrase-42"},
    )


class AccountEmailSchema(Schema):
    """An account by email and type (forgot password, passwordless login)."""

    email = fields.Email(required=True, metadata={"example": "clara.byrne@example.com"})
    account = ACCOUNT


class OtpLoginRequestSchema(AccountEmailSchema):
    """Ask for a sign-in code by mail or SMS (passwordless login)."""

    channel = CHANNEL


class PasswordResetSchema(AccountEmailSchema):
    """Reset a forgotten password with the mailed code."""

    otp = OTP
    new_password = fields.String(
        required=True,
        load_only=True,
        validate=PASSWORD,
        metadata={"example": "a-longer-passphrase-42"},
    )


class OtpLoginSchema(AccountEmailSchema):
    """Passwordless login with the mailed code."""

    otp = OTP


class AcceptedSchema(Schema):
    """A request accepted for processing (the code goes out if the account exists)."""

    detail = fields.String(
        metadata={"example": "If the account exists, a code has been mailed to it."}
    )


class EmailChangeSchema(Schema):
    """A logged-in account asks to change its email: a code goes to the new address."""

    email = fields.Email(
        required=True,
        validate=validate.Length(max=254),
        metadata={"example": "clara.new@example.com"},
    )


class EmailConfirmSchema(Schema):
    """The account holder confirms the code mailed to the new address."""

    otp = OTP
