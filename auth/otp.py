"""One-time codes sent (by mail or SMS) for password change, password reset,
passwordless login, an email change and confirming a phone.

Rules (docs/design.md "Rules with numbers": OTP): 6 digits from `secrets`, stored as an
HMAC-SHA256 keyed with SECRET_KEY, valid 10 minutes, single use, voided after 5 wrong
tries, at most 1 send a minute and 5 an hour per account. Issuing a code voids the
account's earlier unused codes for the same purpose.
"""

import hashlib
import hmac
import math
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from core.errors import APIError
from core.extensions import db
from core.i18n import _, _l
from models import OtpCode
from models.base import utcnow

PURPOSES = (
    "password_change",
    "password_reset",
    "login",
    "email_change",
    "phone_confirm",
)
# Lazy: str() in the recipient's language (services.accounts, in_locale).
SUBJECTS = {
    "phone_confirm": _l("Your Easy Travels phone confirmation code"),
    "email_change": _l("Confirm your new Easy Travels email address"),
    "password_change": _l("Your Easy Travels password change code"),
    "password_reset": _l("Your Easy Travels password reset code"),
    "login": _l("Your Easy Travels sign-in code"),
}


class OtpRateLimited(APIError):
    """429: too many codes requested for this account; `retry_after` in seconds."""

    def __init__(self, retry_after: int):
        super().__init__(
            429,
            _("Too many codes requested; try again later."),
            code="otp-rate-limited",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class OtpInvalid(APIError):
    """400: the code is wrong, used, voided or expired (one answer for all)."""

    def __init__(self):
        super().__init__(
            400, _("The code is invalid or has expired."), code="otp-invalid"
        )


def _digest(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def _retry_after(account) -> int:
    """Seconds until another code may be sent, 0 when allowed now."""
    cfg = current_app.config
    now = utcnow()
    base = select(OtpCode.created_at).where(
        OtpCode.account_type == account.account_type, OtpCode.account_id == account.id
    )
    minute_ago = now - timedelta(minutes=1)
    hour_ago = now - timedelta(hours=1)
    recent = db.session.scalars(
        base.where(OtpCode.created_at > hour_ago).order_by(OtpCode.created_at.desc())
    ).all()
    waits = [0]
    in_minute = [t for t in recent if t > minute_ago]
    if len(in_minute) >= cfg["OTP_SENDS_PER_MINUTE"]:
        oldest = in_minute[cfg["OTP_SENDS_PER_MINUTE"] - 1]
        waits.append((oldest + timedelta(minutes=1) - now).total_seconds())
    if len(recent) >= cfg["OTP_SENDS_PER_HOUR"]:
        oldest = recent[cfg["OTP_SENDS_PER_HOUR"] - 1]
        waits.append((oldest + timedelta(hours=1) - now).total_seconds())
    return max(0, math.ceil(max(waits)))


def issue_code(account, purpose: str, *, new_email: str | None = None) -> str:
    """Create and commit a new code for `account`; return the plain code to mail.

    `new_email` (purpose "email_change") is the address the code goes to, applied
    when the code is confirmed. Raises OtpRateLimited when the per-minute or
    per-hour budget is spent.
    """
    wait = _retry_after(account)
    if wait:
        raise OtpRateLimited(wait)
    now = utcnow()
    db.session.execute(
        update(OtpCode)
        .where(
            OtpCode.account_type == account.account_type,
            OtpCode.account_id == account.id,
            OtpCode.purpose == purpose,
            OtpCode.used_at.is_(None),
            OtpCode.voided_at.is_(None),
        )
        .values(voided_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = timedelta(minutes=current_app.config["OTP_TTL_MINUTES"])
    db.session.add(
        OtpCode(
            account_type=account.account_type,
            account_id=account.id,
            purpose=purpose,
            code_hash=_digest(code),
            expires_at=now + ttl,
            created_at=now,
            new_email=new_email,
        )
    )
    db.session.commit()
    return code


def void_codes(account, purpose: str) -> None:
    """Void every open code of `account` for `purpose` (e.g. when the mail failed)."""
    db.session.execute(
        update(OtpCode)
        .where(
            OtpCode.account_type == account.account_type,
            OtpCode.account_id == account.id,
            OtpCode.purpose == purpose,
            OtpCode.used_at.is_(None),
            OtpCode.voided_at.is_(None),
        )
        .values(voided_at=utcnow())
    )
    db.session.commit()


def _count_try(otp_id: int) -> int:
    """Add one try to the code in a single atomic UPDATE ... RETURNING and commit it
    at once; return the new count. Parallel guesses each get their own number, so
    30 simultaneous guesses count as 30 tries."""
    attempts = db.session.execute(
        update(OtpCode)
        .where(OtpCode.id == otp_id)
        .values(attempts=OtpCode.attempts + 1)
        .returning(OtpCode.attempts)
    ).scalar_one()
    db.session.commit()
    return attempts


def _void(otp_id: int, now) -> None:
    """Void the code (idempotent) and commit."""
    db.session.execute(
        update(OtpCode)
        .where(OtpCode.id == otp_id, OtpCode.voided_at.is_(None))
        .values(voided_at=now)
    )
    db.session.commit()


def consume_code(account, purpose: str, code: str) -> OtpCode:
    """Check `code` for `account` and mark it used; does not commit on success.

    Every guess first takes a numbered try with an atomic counter (committed at
    once); only tries numbered 1..OTP_MAX_ATTEMPTS compare the code, so however many
    guesses run in parallel, at most 5 are ever checked, and the fifth wrong try (or
    any later one) voids the code. The caller commits together with the change the
    code authorises. Returns the code row (its `new_email` for an email change).
    Raises OtpInvalid for a missing account, a wrong, used, voided or expired code.
    """
    if account is None:
        raise OtpInvalid()
    now = utcnow()
    otp = db.session.scalar(
        select(OtpCode)
        .where(
            OtpCode.account_type == account.account_type,
            OtpCode.account_id == account.id,
            OtpCode.purpose == purpose,
            OtpCode.used_at.is_(None),
        )
        .order_by(OtpCode.created_at.desc(), OtpCode.id.desc())
        .limit(1)
    )
    if otp is None or otp.expires_at <= now:
        raise OtpInvalid()
    otp_id, code_hash = otp.id, otp.code_hash
    attempt = _count_try(otp_id)
    max_tries = current_app.config["OTP_MAX_ATTEMPTS"]
    if attempt > max_tries:
        _void(otp_id, now)
        raise OtpInvalid()
    if not hmac.compare_digest(code_hash, _digest(str(code))):
        if attempt >= max_tries:
            _void(otp_id, now)
        raise OtpInvalid()
    claimed = db.session.execute(
        update(OtpCode)
        .where(
            OtpCode.id == otp_id, OtpCode.used_at.is_(None), OtpCode.voided_at.is_(None)
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise OtpInvalid()
    return db.session.get(OtpCode, otp_id)
