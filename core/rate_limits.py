"""Request rate limits on the authentication endpoints (docs/design.md
"API conventions": 429).

Flask-Limiter counts attempts per client address (`request.remote_addr`, the real
client once ProxyFix trusts the reverse proxy, see `TRUSTED_PROXIES`) and, for the
endpoints that name an account, per submitted email. Counters live in
`RATELIMIT_STORAGE_URI`: `memory://` is per process, `redis://...` is one budget
shared by every worker and host (docs/architecture.md "Stack notes").

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

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from core.errors import problem

EXTENSION_KEY = "easytravels.limiter"
MARK = "_rate_limit_group"

# group -> (per-address limit config name, per-account limit config name, message)
GROUPS = {
    "login": (
        "RATELIMIT_LOGIN",
        "RATELIMIT_LOGIN_PER_ACCOUNT",
        "Too many login attempts; wait for the time in Retry-After.",
    ),
    "otp": (
        "RATELIMIT_OTP",
        "RATELIMIT_OTP_PER_ACCOUNT",
        "Too many one-time code requests; wait for the time in Retry-After.",
    ),
    "password-reset": (
        "RATELIMIT_PASSWORD_RESET",
        "RATELIMIT_PASSWORD_RESET_PER_ACCOUNT",
        "Too many password reset requests; wait for the time in Retry-After.",
    ),
    "register": (
        "RATELIMIT_REGISTER",
        None,
        "Too many registrations from this address; wait for the time in Retry-After.",
    ),
}
REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}


def rate_limited(group: str):
    """Mark a view method as limited by `group` (a key of GROUPS: "login", "otp",
    "password-reset", "register"); `init_limits` applies the limits.

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
    for method, group in marks:
        address_limit, account_limit, message = GROUPS[group]
        view = limiter.shared_limit(
            _config_limit(address_limit),
            scope=group,
            methods=[method],
            error_message=message,
        )(view)
        if account_limit:
            view = limiter.shared_limit(
                _config_limit(account_limit),
                scope=f"{group}-account",
                key_func=account_key,
                exempt_when=_no_email,
                methods=[method],
                error_message=message,
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
