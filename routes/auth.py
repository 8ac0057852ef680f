"""Authentication endpoints (docs/design.md "Resource map": /auth)."""

from flask.views import MethodView
from flask_jwt_extended import current_user, get_jwt, verify_jwt_in_request

from auth.decorators import login_required
from auth.tokens import access_token_for, revoke_session
from core.i18n import _, _l, current_locale
from core.rate_limits import rate_limited
from routes.common.blueprint import Blueprint
from routes.common.request_facts import request_facts
from schemas.accounts.auth import (
    AcceptedSchema,
    AccountEmailSchema,
    EmailChangeSchema,
    EmailConfirmSchema,
    LoginSchema,
    MeSchema,
    MeUpdateSchema,
    OtpLoginRequestSchema,
    OtpLoginSchema,
    OtpRequestSchema,
    PasswordChangeSchema,
    PasswordResetSchema,
    PhoneConfirmSchema,
    TokenSchema,
)
from schemas.accounts.customers import CustomerRegisterSchema, CustomerSchema
from services.accounts import accounts, email_change
from services.accounts.customers import create_customer

blp = Blueprint("auth", __name__, description="Login, tokens, passwords and OTP")
# Lazy texts, translated into the caller's language when answered (`_said`).
ACCEPTED = _l("If the account exists, a code has been mailed to it.")
SENT = {
    "email": _l("A code has been mailed to your address."),
    "sms": _l("A code has been sent to your phone by SMS."),
}
ACCEPTED_BY = {
    "email": ACCEPTED,
    "sms": _l("If the account exists and has a phone, a code has been sent."),
}


def _said(text) -> dict:
    """An AcceptedSchema answer with `text` in the caller's language."""
    return {"detail": str(text)}


@blp.route("/register")
class Register(MethodView):
    @rate_limited("register")
    @blp.arguments(CustomerRegisterSchema)
    @blp.response(201, CustomerSchema)
    def post(self, data):
        """Register as a customer (no role can be chosen); without `locale`, the
        language of the request (Accept-Language) is stored."""
        data.setdefault("locale", current_locale())
        return create_customer(**data)


@blp.route("/login")
class Login(MethodView):
    @rate_limited("login")
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(
        401, description="Wrong email or password, or an inactive account"
    )
    def post(self, data):
        """Log in with email and password; returns access and refresh tokens."""
        return accounts.login(**data, facts=request_facts())


@blp.route("/refresh")
class Refresh(MethodView):
    @login_required(refresh=True)
    @blp.response(200, TokenSchema)
    def post(self):
        """Exchange a refresh token (as the bearer token) for a new access token."""
        return access_token_for(current_user, get_jwt()["sid"])


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self):
        """Revoke the session of the bearer token (access or refresh) and its pair."""
        verify_jwt_in_request(verify_type=False)
        revoke_session(get_jwt())


@blp.route("/me")
class Me(MethodView):
    @login_required
    @blp.response(200, MeSchema)
    def get(self):
        """Who am I: account type, role and profile."""
        return accounts.profile(current_user)

    @login_required
    @blp.arguments(MeUpdateSchema)
    @blp.response(200, MeSchema)
    def patch(self, data):
        """Set the caller's own language (`locale`: en, de, es; null follows
        Accept-Language) for mail, documents and answers."""
        return accounts.set_locale(current_user, data["locale"])


@blp.route("/otp")
class OtpRequest(MethodView):
    @rate_limited("otp")
    @login_required
    @blp.arguments(OtpRequestSchema)
    @blp.response(202, AcceptedSchema)
    def post(self, data):
        """Send a password-change code to the caller's own email or phone (SMS)."""
        accounts.request_code(
            current_user,
            data["purpose"],
            channel=data["channel"],
            locale=current_locale(),
        )
        return _said(SENT[data["channel"]])


@blp.route("/phone/confirm")
class PhoneConfirm(MethodView):
    @rate_limited("otp")
    @login_required
    @blp.arguments(PhoneConfirmSchema)
    @blp.response(200, MeSchema)
    def post(self, data):
        """Confirm the caller's phone with the code texted to it (purpose
        `phone_confirm`); only a confirmed phone gets sign-in codes by SMS."""
        return accounts.confirm_phone(current_user, **data, facts=request_facts())


@blp.route("/password")
class PasswordChange(MethodView):
    @login_required
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, data):
        """Change the caller's password with the mailed code (other sessions end)."""
        accounts.change_password(current_user, **data, facts=request_facts())


@blp.route("/password/forgot")
class PasswordForgot(MethodView):
    @rate_limited("password-reset")
    @blp.arguments(AccountEmailSchema)
    @blp.response(202, AcceptedSchema)
    def post(self, data):
        """Mail a reset code if the account exists; the answer is always the same."""
        accounts.request_code_by_email(
            **data, purpose="password_reset", locale=current_locale()
        )
        return _said(ACCEPTED)


@blp.route("/password/reset")
class PasswordReset(MethodView):
    @rate_limited("password-reset")
    @blp.arguments(PasswordResetSchema)
    @blp.response(204)
    def post(self, data):
        """Set a new password with the mailed reset code."""
        accounts.reset_password(**data, facts=request_facts())


@blp.route("/login/otp")
class OtpLoginRequest(MethodView):
    @rate_limited("otp")
    @blp.arguments(OtpLoginRequestSchema)
    @blp.response(202, AcceptedSchema)
    def post(self, data):
        """Send a sign-in code (mail or SMS) if the account exists; same answer."""
        accounts.request_code_by_email(**data, purpose="login", locale=current_locale())
        return _said(ACCEPTED_BY[data["channel"]])


@blp.route("/login/otp/verify")
class OtpLoginVerify(MethodView):
    @rate_limited("login")
    @blp.arguments(OtpLoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, data):
        """Log in with the mailed sign-in code."""
        return accounts.login_with_code(**data, facts=request_facts())


@blp.route("/email")
class EmailChange(MethodView):
    @rate_limited("otp")
    @login_required
    @blp.arguments(EmailChangeSchema)
    @blp.response(202, AcceptedSchema)
    def post(self, data):
        """Start changing the caller's email: a code is mailed to the new address."""
        email_change.start_change(
            current_user,
            data["email"],
            actor=current_user,
            facts=request_facts(),
            locale=current_locale(),
        )
        return _said(_("A code has been mailed to the new address."))


@blp.route("/email/confirm")
class EmailConfirm(MethodView):
    @rate_limited("otp")
    @login_required
    @blp.arguments(EmailConfirmSchema)
    @blp.response(200, TokenSchema)
    def post(self, data):
        """Confirm the pending email change with the mailed code; the old address is
        told, every session ends and fresh tokens are returned."""
        return email_change.confirm_change(
            current_user, **data, facts=request_facts(), locale=current_locale()
        )
