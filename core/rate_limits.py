"""Request rate limits (docs/design.md "API conventions": 429): on the
authentication endpoints, and on the writes one signed-in account could use to hog
staff or the payment provider.

Flask-Limiter counts attempts per client address (`request.remote_addr`, the real
client once ProxyFix trusts the reverse proxy, see `TRUSTED_PROXIES`) and per
account: for the endpoints that name an account in the body, per submitted email;
for the signed-in writes (enquiries raised, card payment intents started), per
token identity (`customer:12`, `employee:3`), counting only the requests that were
accepted (a 2xx answer), so a refused or invalid request costs nothing. Counters
live in `RATELIMIT_STORAGE_URI`: `memory://` is per process, `redis://...` is one
budget shared by every worker and host (docs/architecture.md "Stack notes").

Views are marked where they are defined (`@rate_limited("login")` on the method);
`init_limits(app)` builds one Limiter per application and wraps that application's
marked views. Flask-Limiter keeps its storage on the extension object, so one
module-level instance would make every app built in the same process (tests) share,
and overwrite, one storage and one on/off switch.

A refused request is a 429 problem (`type` `/problems/rate-limited`) with
`Retry-After` in seconds.
"""

import hashlib
import math
import time
from typing import NamedTuple

from flask import Flask, current_app, g, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from core.errors import N_, problem

EXTENSION_KEY = "easytravels.limiter"
MARK = "_rate_limit_group"


class Group(NamedTuple):
    """One kind of limited request: the config names of its per-address and
    per-account limits (None: no such limit), how the account is found (`email`
    in the body, or the signed-in `token`) and the 429's message."""

    address_limit: str | None
    account_limit: str | None
    account_by: str
    message: str


GROUPS = {
    "login": Group(
        "RATELIMIT_LOGIN",
        "RATELIMIT_LOGIN_PER_ACCOUNT",
        "email",
        N_("Too many login attempts; wait for the time in Retry-After."),
    ),
    "otp": Group(
        "RATELIMIT_OTP",
        "RATELIMIT_OTP_PER_ACCOUNT",
        "email",
        N_("Too many one-time code requests; wait for the time in Retry-After."),
    ),
    "password-reset": Group(
        "RATELIMIT_PASSWORD_RESET",
        "RATELIMIT_PASSWORD_RESET_PER_ACCOUNT",
        "email",
        N_("Too many password reset requests; wait for the time in Retry-After."),
    ),
    "register": Group(
        "RATELIMIT_REGISTER",
        None,
        "email",
        N_(
            "Too many registrations from this address; wait for the time in "
            "Retry-After."
        ),
    ),
    "enquiry": Group(
        None,
        "RATELIMIT_ENQUIRIES_PER_ACCOUNT",
        "token",
        N_(
            "Too many enquiries raised from this account; wait for the time in "
            "Retry-After."
        ),
    ),
    "payment-intent": Group(
        None,
        "RATELIMIT_PAYMENT_INTENTS_PER_ACCOUNT",
        "token",
        N_(
            "Too many card payments started from this account; wait for the time "
            "in Retry-After."
        ),
    ),
}
REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}


def rate_limited(group: str):
    """Mark a view method as limited by `group` (a key of GROUPS: "login", "otp",
    "password-reset", "register", "enquiry", "payment-intent"); `init_limits`
    applies the limits.

    Put it above the flask-smorest decorators so attempts with a bad body count too.
    Raises ValueError for an unknown group.
    """
    if group not in GROUPS:
        raise ValueError(f"unknown rate-limit group {group!r}")

    def mark(view):
        setattr(view, MARK, group)
        return view

    return mark


def submitted_email() -> str:
    """The request body's `email`, stripped and lower-cased; "" when there is none."""
    data = request.get_json(silent=True)
    email = data.get("email") if isinstance(data, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


def account_key() -> str:
    """Per-account counter key: a digest of the submitted email, so raw addresses
    never reach the limiter's storage or log."""
    digest = hashlib.sha256(submitted_email().encode()).hexdigest()
    return f"email:{digest[:32]}"


def _no_email() -> bool:
    """True when the body names no account (e.g. /auth/otp): no per-account limit."""
    return not submitted_email()


def token_identity() -> str:
    """The signed-in account's token identity (`customer:12`), or "" when the
    request carries no valid access token (the view then answers 401 itself; the
    limiter leaves such requests alone). Computed once per request."""
    if "rate_limit_identity" not in g:
        try:
            verify_jwt_in_request(optional=True)
            identity = get_jwt_identity()
        except Exception:  # any token problem is the view's to answer
            identity = None
        g.rate_limit_identity = str(identity) if identity else ""
    return g.rate_limit_identity


def identity_key() -> str:
    """Per-account counter key of a signed-in request."""
    return f"account:{token_identity()}"


def _anonymous() -> bool:
    """True when the request carries no valid token: no per-account limit."""
    return not token_identity()


def _accepted(response) -> bool:
    """Deduct only for an accepted request (2xx): refusals cost nothing."""
    return response.status_code < 300


def _config_limit(name: str):
    """A limit provider that reads `name` from the current app's config per request."""
    return lambda: current_app.config[name]


def init_limits(app: Flask) -> Limiter:
    """Build the app's Limiter from its RATELIMIT_* config, wrap its marked views and
    answer breaches with a 429 problem. Call after the blueprints are registered."""
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", REDIS_OPTIONS)
    limiter = Limiter(get_remote_address, app=app)
    app.extensions[EXTENSION_KEY] = limiter
    limited = set()
    for endpoint, view in list(app.view_functions.items()):
        marks = _marks(view)
        if marks:
            app.view_functions[endpoint] = _wrap(limiter, view, marks)
            limited.add(endpoint)
    # Every other endpoint skips the limiter's per-request bookkeeping.
    limiter.request_filter(lambda: request.endpoint not in limited)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    return limiter


def _marks(view) -> list[tuple[str, str]]:
    """(method, group) pairs of a MethodView-based view function's marked methods."""
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return [(m, getattr(view, MARK)) for m in ("post",) if hasattr(view, MARK)]
    marks = []
    for method in sorted(view_class.methods or ()):
        group = getattr(getattr(view_class, method.lower(), None), MARK, None)
        if group:
            marks.append((method.lower(), group))
    return marks


def _wrap(limiter: Limiter, view, marks):
    """Apply each group's shared per-address and per-account limits to `view`."""
    for method, name in marks:
        group = GROUPS[name]
        if group.address_limit:
            view = limiter.shared_limit(
                _config_limit(group.address_limit),
                scope=name,
                methods=[method],
                error_message=group.message,
            )(view)
        if group.account_limit and group.account_by == "email":
            view = limiter.shared_limit(
                _config_limit(group.account_limit),
                scope=f"{name}-account",
                key_func=account_key,
                exempt_when=_no_email,
                methods=[method],
                error_message=group.message,
            )(view)
        elif group.account_limit:
            view = limiter.shared_limit(
                _config_limit(group.account_limit),
                scope=f"{name}-account",
                key_func=identity_key,
                exempt_when=_anonymous,
                deduct_when=_accepted,
                methods=[method],
                error_message=group.message,
            )(view)
    return view


def retry_after_seconds() -> int:
    """Whole seconds until the breached window of this request resets (at least 1)."""
    limiter = current_app.extensions.get(EXTENSION_KEY)
    current = limiter.current_limit if limiter is not None else None
    if current is None:
        return 60
    return max(1, math.ceil(current.window.reset_time - time.time()))


def _too_many_requests(error: RateLimitExceeded):
    """429 in the problem shape with Retry-After (RFC 6585 section 4, RFC 9110
    section 10.2.3)."""
    return problem(
        429,
        error.description,
        code="rate-limited",
        headers={"Retry-After": str(retry_after_seconds())},
    )
