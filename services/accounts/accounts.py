"""Login, logout, password change/reset and passwordless login flows
(docs/design.md "Resource map" /auth, "Rules with numbers": OTP, passwords, tokens)."""

import logging
import threading
import time
from types import SimpleNamespace

from flask import current_app

from auth import otp as otp_service
from auth.passwords import burn_verification, hash_password, verify_password
from auth.tokens import issue_tokens
from core.errors import APIError, ValidationFailed
from core.extensions import db
from core.i18n import _, in_locale
from models.base import utcnow
from services.accounts.customers import find_customer_by_email
from services.accounts.employees import find_employee_by_email
from services.audit import audit
from services.messaging import sms
from services.messaging.mail import MailError, send_mail

log = logging.getLogger(__name__)

FINDERS = {"customer": find_customer_by_email, "employee": find_employee_by_email}


class InvalidCredentials(APIError):
    """401: one answer for unknown email, wrong password and inactive account."""

    def __init__(self):
        super().__init__(
            401, _("Invalid email or password."), code="invalid-credentials"
        )


def find_account(account_type: str, email: str):
    """The active Employee or Customer with this email, or None."""
    account = FINDERS[account_type](email)
    return account if account is not None and account.active else None


def _login_refusal(found, password: str) -> str | None:
    """Why a password login fails (`unknown-account`, `inactive`, `wrong-password`),
    or None when it succeeds. Only the audit log sees the reason."""
    if found is None or not found.active or not found.password_hash:
        burn_verification(password)  # the same time as a real check: no enumeration
        if found is None:
            return "unknown-account"
        return "inactive" if not found.active else "wrong-password"
    if not verify_password(found.password_hash, password):
        return "wrong-password"
    return None


def _audit_login_failed(
    account_type: str, email: str, found, reason: str, method: str, facts
) -> None:
    """Record and commit a refused login (the request itself fails): the email tried,
    the account when one has it, the reason; never the password or code."""
    audit.record(
        "auth.login_failed",
        entity_type=account_type,
        entity_id=found.id if found is not None else None,
        facts=facts,
        actor=found,
        actor_type=account_type,
        actor_email=email.strip().lower(),
        details={"method": method, "reason": reason},
    )
    db.session.commit()


def login(
    *, email: str, password: str, account: str, facts: audit.RequestFacts | None = None
) -> dict:
    """Check a password and return fresh tokens (see auth.tokens.issue_tokens).

    Success and failure are both audited with the request `facts`. Raises
    InvalidCredentials (401).
    """
    found = FINDERS[account](email)
    reason = _login_refusal(found, password)
    if reason is not None:
        _audit_login_failed(account, email, found, reason, "password", facts)
        raise InvalidCredentials()
    audit.record(
        "auth.login",
        entity_type=account,
        entity_id=found.id,
        facts=facts,
        actor=found,
        details={"method": "password"},
    )
    db.session.commit()
    return issue_tokens(found)


def _language(account, locale: str | None) -> str | None:
    """The language of a message to `account`: its own `locale`, else `locale`
    (the request's, passed by the route), else the default (docs/i18n.md)."""
    return getattr(account, "locale", None) or locale


def _mail_code(account, purpose: str, code: str, locale: str | None = None) -> None:
    """Mail the code to the account's address in its language (`_language`); a
    failed send voids it (503 `mail-unavailable`)."""
    minutes = current_app.config["OTP_TTL_MINUTES"]
    with in_locale(_language(account, locale)):
        subject = str(otp_service.SUBJECTS[purpose])
        body = (
            _("Hello %(name)s,", name=account.name)
            + "\n\n"
            + _(
                "Your code is %(code)s. It is valid for %(minutes)s minutes and can "
                "be used once.",
                code=code,
                minutes=minutes,
            )
            + "\n\n"
            + _("If you did not ask for it, ignore this mail.")
        )
        unavailable = _("The code could not be mailed; try again later.")
    try:
        send_mail(account.email, subject, body)
    except MailError as exc:
        otp_service.void_codes(account, purpose)
        raise APIError(503, unavailable, code="mail-unavailable") from exc


def sms_number(account) -> str | None:
    """The account's phone in E.164 (national numbers read in
    DEFAULT_PHONE_REGION), or None when it has no usable phone."""
    return sms.e164(account.phone, current_app.config["DEFAULT_PHONE_REGION"])


def _sms_code(account, purpose: str, code: str, locale: str | None = None) -> None:
    """Text the code to the account's phone in its language (`_language`); a
    failed send voids it (503 `sms-unavailable`, like `mail-unavailable`)."""
    minutes = current_app.config["OTP_TTL_MINUTES"]
    with in_locale(_language(account, locale)):
        body = _(
            "%(subject)s: %(code)s. Valid %(minutes)s minutes, single use. If you "
            "did not ask for it, ignore this message.",
            subject=otp_service.SUBJECTS[purpose],
            code=code,
            minutes=minutes,
        )
        unavailable = _("The code could not be sent by SMS; try again later.")
    try:
        number = sms_number(account)
        if number is None:
            raise sms.SmsError("the account has no usable phone")
        sms.send_sms(number, body)
    except sms.SmsError as exc:
        otp_service.void_codes(account, purpose)
        raise APIError(503, unavailable, code="sms-unavailable") from exc


SENDERS = {"email": _mail_code, "sms": _sms_code}


def _check_sms_phone(account, purpose: str) -> None:
    """ValidationFailed (422, `errors.phone`) unless the account's phone can get
    this code by SMS: a usable number, confirmed by its holder except for the code
    that confirms it (docs/security.md "One-time codes by SMS")."""
    if sms_number(account) is None:
        problem = _("The account has no phone number that can receive SMS.")
    elif purpose != "phone_confirm" and account.phone_confirmed_at is None:
        problem = _(
            "Confirm your phone first: ask for a phone_confirm code by SMS and "
            "send it to POST /auth/phone/confirm."
        )
    else:
        return
    raise ValidationFailed({"phone": [problem]}, detail=problem)


def confirm_phone(
    account, *, otp: str, facts: audit.RequestFacts | None = None
) -> dict:
    """Mark the account's phone confirmed with the code texted to it (purpose
    `phone_confirm`) and commit, audited; from then on it may receive sign-in
    codes (docs/security.md "One-time codes by SMS"). Returns the profile.
    Raises OtpInvalid (400) for a wrong, used or expired code."""
    otp_service.consume_code(account, "phone_confirm", otp)
    account.phone_confirmed_at = utcnow()
    audit.record(
        f"{account.account_type}.phone_confirmed",
        entity_type=account.account_type,
        entity_id=account.id,
        facts=facts,
        actor=account,
        details={"phone": account.phone},
    )
    db.session.commit()
    return profile(account)


def request_code(
    account, purpose: str, *, channel: str = "email", locale: str | None = None
) -> None:
    """Issue a code for a logged-in account and send it (after the commit) by
    `channel`: "email" to its address, "sms" to its phone, in the account's
    language, else `locale` (the request's).

    Raises ValidationFailed (422, `errors.phone`) for "sms" without a usable phone
    (before any code is issued), OtpRateLimited (429), or APIError 503 when the mail
    or SMS cannot be sent.
    """
    if channel == "sms":
        _check_sms_phone(account, purpose)
    code = otp_service.issue_code(account, purpose)
    SENDERS[channel](account, purpose, code, locale)


def request_code_by_email(
    *,
    email: str,
    account: str,
    purpose: str,
    channel: str = "email",
    locale: str | None = None,
) -> None:
    """Send a code by `channel` ("email", or "sms" to the account's phone) when the
    account exists, in its language, else `locale` (the request's); silent
    otherwise, silent when it has no usable phone for "sms", silent when the
    account's send budget is spent, and silent when the send fails, so neither the
    answer nor its timing reveals an account: the call always lasts
    OTP_REQUEST_SECONDS (the send runs in a thread, awaited within that budget, and
    left to finish in the background when the provider is slower)."""
    deadline = time.monotonic() + current_app.config["OTP_REQUEST_SECONDS"]
    try:
        found = find_account(account, email)
        if found is None or (channel == "sms" and not _texts_codes(found)):
            return
        try:
            code = otp_service.issue_code(found, purpose)
        except otp_service.OtpRateLimited:
            log.info("otp request over budget for a %s account", account)
            return
        _send_code_in_background(
            found, purpose, code, channel, deadline, _language(found, locale)
        )
    finally:
        time.sleep(max(0.0, deadline - time.monotonic()))


def _texts_codes(account) -> bool:
    """May `account` get a sign-in or reset code by SMS: a usable phone that its
    holder confirmed (a phone set by staff never receives one)."""
    return account.phone_confirmed_at is not None and sms_number(account) is not None


def _send_code_in_background(
    account,
    purpose: str,
    code: str,
    channel: str,
    deadline: float,
    locale: str | None,
) -> None:
    """Send the code by `channel` in `locale` from a thread with its own app
    context; wait for it until `deadline` (time.monotonic). A failed send voids
    the code (logged)."""
    app = current_app._get_current_object()
    who = SimpleNamespace(
        account_type=account.account_type,
        id=account.id,
        name=account.name,
        email=account.email,
        phone=account.phone,
        locale=locale,
    )

    def send():
        with app.app_context():
            try:
                SENDERS[channel](who, purpose, code, locale)
            except APIError:
                log.warning(
                    "code %s for a %s account not sent", channel, who.account_type
                )

    worker = threading.Thread(target=send, name=f"otp-{channel}", daemon=True)
    worker.start()
    worker.join(timeout=max(0.0, deadline - time.monotonic()))


def set_password(
    account,
    new_password: str,
    *,
    via: str = "change",
    facts: audit.RequestFacts | None = None,
) -> None:
    """Store a new password hash and end the account's other sessions; audited as
    `auth.password_changed` with `via` ("change" or "reset") and the request
    `facts`. Commits."""
    account.password_hash = hash_password(new_password)
    account.tokens_valid_after = utcnow()
    audit.record(
        "auth.password_changed",
        entity_type=account.account_type,
        entity_id=account.id,
        facts=facts,
        actor=account,
        details={"via": via},
    )
    db.session.commit()


def change_password(
    account, *, otp: str, new_password: str, facts: audit.RequestFacts | None = None
) -> None:
    """Logged-in password change with a mailed code. Raises OtpInvalid (400)."""
    otp_service.consume_code(account, "password_change", otp)
    set_password(account, new_password, facts=facts)


def reset_password(
    *,
    email: str,
    account: str,
    otp: str,
    new_password: str,
    facts: audit.RequestFacts | None = None,
) -> None:
    """Forgotten-password reset with a mailed code. Raises OtpInvalid (400)."""
    found = find_account(account, email)
    otp_service.consume_code(found, "password_reset", otp)
    set_password(found, new_password, via="reset", facts=facts)


def login_with_code(
    *, email: str, account: str, otp: str, facts: audit.RequestFacts | None = None
) -> dict:
    """Passwordless login: a valid mailed code gives fresh tokens. Success and
    failure are audited with the request `facts`. Raises OtpInvalid."""
    found = find_account(account, email)
    try:
        otp_service.consume_code(found, "login", otp)
    except otp_service.OtpInvalid:
        db.session.rollback()
        _audit_login_failed(account, email, found, "invalid-code", "otp", facts)
        raise
    audit.record(
        "auth.login",
        entity_type=account,
        entity_id=found.id,
        facts=facts,
        actor=found,
        details={"method": "otp"},
    )
    db.session.commit()
    return issue_tokens(found)


def profile(account) -> dict:
    """`/auth/me`: `{"type", "role", "profile"}` where `profile` is the account model
    itself (the response schema shapes it by account type)."""
    return {"type": account.account_type, "role": account.role, "profile": account}


def set_locale(account, locale: str | None) -> dict:
    """Set the caller's own `locale` (`en`, `de`, `es`, or None to follow the
    request's Accept-Language; docs/i18n.md "Choosing the language") and commit;
    answers like `profile`. Any account may change its own language."""
    account.locale = locale
    db.session.commit()
    return profile(account)
