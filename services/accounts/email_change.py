"""Changing an account's email address safely (docs/design.md "Accounts and roles";
OWASP Authentication Cheat Sheet, "Changing a user's registered email address").

An email address is the key to the password-reset and sign-in-code flows, so whoever
sets it can take the account over. Therefore:

- a person changing their own address (POST /auth/email, or PATCH of their own
  record) gets a one-time code mailed to the NEW address; the change takes effect
  only when they confirm it while logged in (POST /auth/email/confirm);
- staff who could take an account over (hr for employees, sales for customers)
  changing someone else's address start the same pending change: the code goes to
  the new address and only the account holder, logged in, can confirm it;
- the admin's change of someone else's address applies at once (the admin can
  already create and deactivate any account; nothing is gained by a takeover);
- when a change takes effect, the OLD address is told, and every session of the
  account ends (`tokens_valid_after`); the confirming caller gets fresh tokens.

The codes reuse auth/otp.py (purpose "email_change", 10 minutes, single use, 5 tries,
send budget per account).
"""

import logging

from auth import otp as otp_service
from auth.tokens import issue_tokens
from core.errors import APIError, Conflict
from core.extensions import db
from core.i18n import _, in_locale
from models import Customer, Employee
from models.base import utcnow
from services.audit import audit
from services.messaging.mail import MailError, send_mail
from services.shared.records import commit_or_conflict

log = logging.getLogger(__name__)
PURPOSE = "email_change"
MODELS = {"employee": Employee, "customer": Customer}


def _normalise(email: str) -> str:
    return email.strip().lower()


def _taken(account, email: str) -> bool:
    """True when another account of the same type already uses `email`."""
    model = MODELS[account.account_type]
    other = db.session.scalar(db.select(model).where(model.email == email))
    return other is not None and other.id != account.id


def _email_taken() -> Conflict:
    return Conflict(_("Another account already uses this email."), code="email-taken")


def applies_directly(account, actor) -> bool:
    """Whether `actor` may set `account`'s email without confirmation: only an
    admin changing someone else's account."""
    is_self = actor.account_type == account.account_type and actor.id == account.id
    return not is_self and getattr(actor, "role", None) == "admin"


def start_change(
    account,
    new_email: str,
    *,
    actor,
    facts: audit.RequestFacts | None = None,
    locale: str | None = None,
) -> bool:
    """Mail a confirmation code to `new_email` for `account` (pending change),
    audited as done by `actor` with the request `facts`; the mail is in the
    account's language, else `locale` (the request's; docs/i18n.md).

    Returns False when `new_email` is already the account's address (nothing to
    do). Commits the code. Raises Conflict (409) when another account of the type
    uses the address, OtpRateLimited (429), APIError 503 when the mail fails.
    """
    email = _normalise(new_email)
    if email == account.email:
        return False
    if _taken(account, email):
        raise _email_taken()
    code = otp_service.issue_code(account, PURPOSE, new_email=email)
    audit.record(
        "account.email_change_requested",
        entity_type=account.account_type,
        entity_id=account.id,
        facts=facts,
        actor=actor,
        details={"new_email": email},
    )
    db.session.commit()
    _mail_code(account, email, code, locale)
    return True


def _mail_code(account, email: str, code: str, locale: str | None = None) -> None:
    """Mail the confirmation code to the new address, in the account's language
    (else `locale`, the request's); a failed send voids it (503)."""
    with in_locale(account.locale or locale):
        subject = str(otp_service.SUBJECTS[PURPOSE])
        body = (
            _("Hello %(name)s,", name=account.name)
            + "\n\n"
            + _(
                "Someone asked to make %(email)s the email address of your Easy "
                "Travels account. Your code is %(code)s; sign in to your account "
                "and confirm it (POST /api/v1/auth/email/confirm) within 10 "
                "minutes.",
                email=email,
                code=code,
            )
            + "\n\n"
            + _("If you did not ask for it, ignore this mail: nothing changes.")
        )
        unavailable = _("The code could not be mailed; try again later.")
    try:
        send_mail(email, subject, body)
    except MailError as exc:
        otp_service.void_codes(account, PURPOSE)
        raise APIError(503, unavailable, code="mail-unavailable") from exc


def apply_change(
    account,
    new_email: str,
    *,
    actor,
    via: str,
    facts: audit.RequestFacts | None = None,
) -> str:
    """Set the address, end every session of the account and audit (by `actor`,
    with the request `facts`); does not commit. Returns the old address. Raises
    Conflict (409) when the address is taken."""
    email = _normalise(new_email)
    if _taken(account, email):
        raise _email_taken()
    old = account.email
    account.email = email
    account.tokens_valid_after = utcnow()
    audit.record(
        "account.email_changed",
        entity_type=account.account_type,
        entity_id=account.id,
        facts=facts,
        actor=actor,
        details={"old_email": old, "new_email": email, "via": via},
    )
    return old


def tell_old_address(account, old_email: str, locale: str | None = None) -> None:
    """After the commit: tell the previous address that the email changed, in the
    account's language (else `locale`); a mail failure is logged, never undoes the
    change."""
    with in_locale(account.locale or locale):
        subject = _("Your Easy Travels email address was changed")
        body = (
            _("Hello %(name)s,", name=account.name)
            + "\n\n"
            + _(
                "The email address of your Easy Travels account was changed from "
                "%(old)s to %(new)s, and every session was signed out. If you did "
                "not ask for this, contact us at once.",
                old=old_email,
                new=account.email,
            )
        )
    try:
        send_mail(old_email, subject, body)
    except MailError:
        log.warning("email-change notice to the old address not sent")


def confirm_change(
    account,
    *,
    otp: str,
    facts: audit.RequestFacts | None = None,
    locale: str | None = None,
) -> dict:
    """The logged-in account holder confirms the mailed code: the pending address
    becomes the account's email, the old address is told, all sessions end and
    fresh tokens are returned (see auth.tokens.issue_tokens). The notice to the
    old address is in the account's language, else `locale` (the request's).

    Raises OtpInvalid (400), Conflict (409) when the address was taken meanwhile.
    """
    row = otp_service.consume_code(account, PURPOSE, otp)
    old = apply_change(
        account, row.new_email, actor=account, via="confirmed-code", facts=facts
    )
    commit_or_conflict(
        _("Another account already uses this email."), code="email-taken"
    )
    tell_old_address(account, old, locale)
    return issue_tokens(account)
