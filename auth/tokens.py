"""JWT set-up: identities, token issue, revocation and the 401 problem responses.

Access and refresh tokens of one login share a session id (`sid` claim); logout
stores the sid in `revoked_sessions`, which revokes both (docs/design.md
"Rules with numbers": tokens).
"""

import time
import uuid
from datetime import UTC, datetime

from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import exists, false, select

from core.errors import problem
from core.extensions import db, jwt
from core.i18n import _
from models import Customer, Employee, RevokedSession

ACCOUNT_MODELS = {"employee": Employee, "customer": Customer}
ISSUED_US_CLAIM = "iat_us"


def _claims(account, sid: str) -> dict:
    """Custom claims of every token: session id, account type, role and the issue
    time in integer microseconds since the epoch (`iat_us`): the standard `iat`
    (RFC 7519 section 4.1.6) has whole seconds, too coarse for the cutoff below."""
    return {
        "sid": sid,
        "account": account.account_type,
        "role": account.role,
        ISSUED_US_CLAIM: time.time_ns() // 1000,
    }


def issued_before_cutoff(payload: dict, cutoff: datetime | None) -> bool:
    """True when the token `payload` was issued at or before `cutoff` (an aware
    datetime: the account's `tokens_valid_after`, set by a password or email change,
    a reset or a deactivation). Compared in microseconds; a token without `iat_us`
    counts as issued at the end of its `iat` second, so a same-second token dies."""
    if cutoff is None:
        return False
    if cutoff.tzinfo is None:
        cutoff = cutoff.replace(tzinfo=UTC)
    cutoff_us = int(cutoff.timestamp()) * 1_000_000 + cutoff.microsecond
    issued_us = payload.get(ISSUED_US_CLAIM)
    if not isinstance(issued_us, int):
        issued_us = int(payload["iat"]) * 1_000_000 + 999_999
    return issued_us <= cutoff_us


def issue_tokens(account, sid: str | None = None) -> dict:
    """Create an access and a refresh token for `account` (Employee or Customer).

    Returns `{"access_token", "refresh_token", "token_type", "expires_in"}`;
    `expires_in` is the access token lifetime in seconds.
    """
    sid = sid or str(uuid.uuid4())
    claims = _claims(account, sid)
    access = create_access_token(identity=account.identity, additional_claims=claims)
    refresh = create_refresh_token(identity=account.identity, additional_claims=claims)
    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
    }


def access_token_for(account, sid: str) -> dict:
    """A new access token in an existing session `sid` (the refresh flow)."""
    claims = _claims(account, sid)
    access = create_access_token(identity=account.identity, additional_claims=claims)
    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
    }


def revoke_session(jwt_payload: dict) -> None:
    """Revoke the session of a decoded token; idempotent. Commits."""
    sid = jwt_payload.get("sid")
    if not sid or db.session.get(RevokedSession, sid):
        return
    refresh_life = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    issued = datetime.fromtimestamp(jwt_payload["iat"], tz=UTC)
    db.session.add(RevokedSession(sid=sid, expires_at=issued + refresh_life))
    db.session.commit()


def load_account(identity: str):
    """Load the Employee or Customer for a JWT subject `"<type>:<id>"`, or None."""
    kind, _sep, raw_id = identity.partition(":")
    model = ACCOUNT_MODELS.get(kind)
    if model is None or not raw_id.isdigit():
        return None
    return db.session.get(model, int(raw_id))


def _account_and_revocation(payload: dict) -> tuple:
    """`(account or None, revoked)` for a decoded token in ONE query: the account row
    of `sub` with an EXISTS on `revoked_sessions` for its `sid` (docs/design.md
    "Rules with numbers": tokens). The revocation is read from the database on every
    request, so a logout is refused at once by every worker. When the account does
    not exist the revocation is looked up on its own (a rare path), so a revoked
    token still answers `token-revoked` first. The answer is kept in `g` for the
    user lookup of the same request."""
    cached = g.get("_token_account")
    if cached is not None and cached[0] is payload:
        return cached[1], cached[2]
    sid = payload.get("sid")
    revoked_clause = (
        exists().where(RevokedSession.sid == sid) if sid else false()
    ).label("revoked")
    kind, _sep, raw_id = str(payload.get("sub", "")).partition(":")
    model = ACCOUNT_MODELS.get(kind)
    row = None
    if model is not None and raw_id.isdigit() and int(raw_id) <= 2_147_483_647:
        row = db.session.execute(
            select(model, revoked_clause).where(model.id == int(raw_id))
        ).first()
    if row is not None:
        account, revoked = row[0], bool(row[1])
    else:
        account = None
        revoked = bool(sid and db.session.get(RevokedSession, sid))
    g._token_account = (payload, account, revoked)
    return account, revoked


def _unauthorized(detail: str, code: str = "unauthorized"):
    return problem(401, detail, code=code, headers={"WWW-Authenticate": "Bearer"})


def register_jwt_callbacks() -> None:
    """Install the loaders that look up the account and answer 401 problems."""

    @jwt.user_lookup_loader
    def _lookup(_header, payload):
        account, _revoked_session = _account_and_revocation(payload)
        if account is None or not account.active:
            return None
        if issued_before_cutoff(payload, account.tokens_valid_after):
            return None
        return account

    @jwt.token_in_blocklist_loader
    def _revoked(_header, payload):
        return _account_and_revocation(payload)[1]

    @jwt.user_lookup_error_loader
    def _lookup_failed(_header, _payload):
        return _unauthorized(
            _("The account is unknown, inactive or its tokens were reset.")
        )

    @jwt.unauthorized_loader
    def _missing(reason):
        return _unauthorized(_("A bearer access token is required."))

    @jwt.invalid_token_loader
    def _invalid(reason):
        return _unauthorized(_("The token is invalid."), "invalid-token")

    @jwt.expired_token_loader
    def _expired(_header, _payload):
        return _unauthorized(_("The token has expired."), "token-expired")

    @jwt.revoked_token_loader
    def _revoked_response(_header, _payload):
        return _unauthorized(_("The token has been revoked."), "token-revoked")

    @jwt.needs_fresh_token_loader
    def _not_fresh(_header, _payload):
        return _unauthorized(_("A fresh token is required."))

    @jwt.token_verification_failed_loader
    def _failed(_header, _payload):
        return _unauthorized(_("The token was refused."), "invalid-token")
