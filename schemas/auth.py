"""Schemas of the /auth endpoints."""

from marshmallow import Schema, fields, validate

from schemas.customers import PASSWORD

ACCOUNT = fields.String(
    required=True,
    validate=validate.OneOf(["customer", "employee"]),
    metadata={"example": "customer"},
)
OTP = fields.String(
    required=True,
    validate=validate.Regexp(r"^[0-9]{6}$", error="The code has 6 digits."),
    metadata={"example": "123456"},
)


class LoginSchema(Schema):
    """Password login for a customer or an employee."""

    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))
    account = ACCOUNT


class TokenSchema(Schema):
    """Bearer tokens; `expires_in` is the access token lifetime in seconds."""

    access_token = fields.String()
    refresh_token = fields.String(required=False)
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"example": 900})


class MeSchema(Schema):
    """Who the caller is: account type, role and profile."""

    type = fields.String(metadata={"example": "employee"})
    role = fields.String(metadata={"example": "sales"})
    profile = fields.Dict()


class OtpRequestSchema(Schema):
    """A logged-in account asks for a password-change code."""

    purpose = fields.String(
        required=True, validate=validate.OneOf(["password_change"])
    )


class PasswordChangeSchema(Schema):
    """Set a new password with the mailed code."""

    otp = OTP
    new_password = fields.String(required=True, load_only=True, validate=PASSWORD)


class AccountEmailSchema(Schema):
    """An account by email and type (forgot password, passwordless login)."""

    email = fields.Email(required=True)
    account = ACCOUNT


class PasswordResetSchema(AccountEmailSchema):
    """Reset a forgotten password with the mailed code."""

    otp = OTP
    new_password = fields.String(required=True, load_only=True, validate=PASSWORD)


class OtpLoginSchema(AccountEmailSchema):
    """Passwordless login with the mailed code."""

    otp = OTP


class AcceptedSchema(Schema):
    """A request accepted for processing (the mail goes out if the account exists)."""

    detail = fields.String()
