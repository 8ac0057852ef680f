"""HTTP caching of catalogue reads: the `@catalogue_cached` view decorator
(docs/design.md "API conventions": HTTP caching; docs/api.md "HTTP caching").

Validators (RFC 9110 §8.8):
- Package reads carry no live data, so their strong ETag is a digest of the
  catalogue version (services.catalogue.catalogue), the caller's audience (`public`:
  anonymous and customers, who see published packages only; `staff`, who see every
  status), the language of the answer (core.i18n.current_locale: titles and
  descriptions are translated, docs/i18n.md "Catalogue translations") and the
  request's path and query. It is computed before the view runs: an
  `If-None-Match` naming it is answered 304 without reading the catalogue (`*` and
  `If-Modified-Since` are evaluated after the view, which may answer 404 or 422).
  The version is read before the view's queries: a change committed in between
  gives a body newer than its ETag, never older, so a later If-None-Match with that
  ETag no longer matches and the client gets the new body.
- Departure reads show live seats, which bookings and lapsing holds change without
  bumping the version; their ETag is a digest of the audience, path, query and the
  serialised body, computed after the view ran (it saves the transfer, not the
  query).
- Last-Modified is the catalogue's `changed_at`, or for departures the latest of it,
  the departures' `updated_at` and the lapse of a hold not swept yet, as an
  HTTP-date.

Conditional requests (RFC 9110 §13.1.2, §13.1.3, §13.2.2): `If-None-Match` (a list
or `*`, weak comparison) is evaluated first; `If-Modified-Since` only when the
request has no `If-None-Match`. A match is `304 Not Modified` with an empty body,
the ETag, Cache-Control and Vary (RFC 9110 §15.4.5).

Cache-Control: anonymous answers are `public, max-age=CATALOGUE_CACHE_MAX_AGE`;
answers to a caller with a token are `private, no-cache` (staff see drafts, and a
shared cache must never hand them on); every answer has `Vary: Authorization`.
Every other response of the API keeps core/security.py's `no-store`.

Server-side, anonymous answers of views without live data can come from Redis
(core/catalogue_cache.py, on when CATALOGUE_CACHE_URL is set), keyed by their ETag.
"""

import hashlib
from datetime import datetime
from functools import wraps

from flask import current_app, make_response, request
from flask_smorest.utils import get_appcontext
from werkzeug.http import http_date

from auth.decorators import caller
from core import catalogue_cache
from core.i18n import current_locale
from models.account import is_staff
from services.catalogue import catalogue

# Read by core/openapi_doc.py to document the headers and the 304 of marked views.
CACHE_MARK = "_catalogue_cached"
# Bump when the JSON of packages changes shape, so version-based ETags issued by an
# older release no longer match.
REPRESENTATION_REVISION = "1"


def audience(account) -> str:
    """`staff` for an employee (sees every package status), `public` otherwise:
    customers and anonymous callers see the same published catalogue
    (docs/design.md "Accounts and roles")."""
    return "staff" if is_staff(account) else "public"


def _tag(*parts) -> str:
    """A strong entity-tag (RFC 9110 §8.8.3): the quoted first 32 hex digits of the
    SHA-256 of `parts` joined by NUL."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
        digest.update(b"\0")
    return f'"{digest.hexdigest()[:32]}"'


def not_modified(etag: str, last_modified: datetime) -> bool:
    """True when the request's preconditions say the client's copy is current:
    `If-None-Match` matches `etag` by weak comparison (or is `*`); without
    `If-None-Match`, `If-Modified-Since` is a valid date no earlier than
    `last_modified` (compared at HTTP-date resolution, whole seconds). RFC 9110
    §13.1.2, §13.1.3 and the order of §13.2.2."""
    if "If-None-Match" in request.headers:
        return request.if_none_match.contains_weak(etag.strip('"'))
    since = request.if_modified_since
    if since is None:
        return False
    return last_modified.replace(microsecond=0) <= since


def _names_tags() -> bool:
    """True when the request has an If-None-Match listing entity-tags (not `*`)."""
    return "If-None-Match" in request.headers and not request.if_none_match.star_tag


def cache_control(account) -> str:
    """The Cache-Control of a catalogue answer to `account` (None: anonymous)."""
    if account is None:
        return f"public, max-age={current_app.config['CATALOGUE_CACHE_MAX_AGE']}"
    return "private, no-cache"


def _headers(response, *, etag: str, last_modified, account):
    """Set the validators and cache policy on `response` (a 200 or a 304)."""
    response.headers["ETag"] = etag
    if response.status_code != 304:
        response.headers["Last-Modified"] = http_date(last_modified)
    response.headers["Cache-Control"] = cache_control(account)
    response.vary.add("Authorization")
    return response


def _answer_304(*, etag: str, last_modified, account):
    """`304 Not Modified`: no body; ETag, Cache-Control and Vary as the 200 has them
    (RFC 9110 §15.4.5)."""
    response = current_app.response_class(status=304)
    return _headers(response, etag=etag, last_modified=last_modified, account=account)


def _seats_changed_at(dump) -> datetime | None:
    """When the seats of a dumped departure or page of departures last changed: the
    latest `updated_at` (every booking, cancellation and sweep writes the row) or
    the latest lapse of a hold not swept yet, whichever is later."""
    items = dump.get("items", []) if isinstance(dump, dict) else []
    if isinstance(dump, dict) and "updated_at" in dump:
        items = [dump]
    items = [item for item in items if isinstance(item, dict)]
    stamps = [
        datetime.fromisoformat(item["updated_at"])
        for item in items
        if item.get("updated_at")
    ]
    ids = [item["id"] for item in items if isinstance(item.get("id"), int)]
    stamps.append(catalogue.last_lapsed_hold(ids))
    return max(filter(None, stamps), default=None)


def catalogue_cached(*, live_seats: bool = False):
    """Decorate a catalogue GET view with validators, conditional 304s and its
    Cache-Control (module docstring). `live_seats`: the body shows seat counts, so
    the ETag is a digest of the body (computed after the view), never the
    catalogue version alone. Place it below the auth decorator (it reads the
    caller) and above `@blp.arguments` / `@blp.response`."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            account = caller()
            version = catalogue.current_version()
            seen_by = audience(account)
            if live_seats:
                return _live(view, args, kwargs, account, version, seen_by)
            etag = _tag(
                REPRESENTATION_REVISION,
                version.number,
                version.changed_at.isoformat(),
                seen_by,
                current_locale(),
                request.full_path,
            )
            # Only a tag this path issued at this version answers before the view;
            # `*` and If-Modified-Since wait for it, so a missing package or a bad
            # query stays a 404 / 422 (RFC 9110 §13.2.1: preconditions only apply
            # to what would be a 2xx).
            early = _names_tags() and not_modified(etag, version.changed_at)
            if not early:
                response = _cached_or_run(view, args, kwargs, account, etag)
            if early or not_modified(etag, version.changed_at):
                return _answer_304(
                    etag=etag, last_modified=version.changed_at, account=account
                )
            return _headers(
                response, etag=etag, last_modified=version.changed_at, account=account
            )

        setattr(wrapper, CACHE_MARK, True)
        return wrapper

    return decorator


def _cached_or_run(view, args, kwargs, account, etag):
    """The answer of a view without live data: for an anonymous caller from the
    server-side cache when it has it (catalogue_cache, keyed by the ETag), else by
    running the view (and storing an anonymous 200 there)."""
    if account is not None:
        return make_response(view(*args, **kwargs))
    body = catalogue_cache.get(etag)
    if body is not None:
        return current_app.response_class(body, mimetype="application/json")
    response = make_response(view(*args, **kwargs))
    if response.status_code == 200:
        catalogue_cache.put(etag, response.get_data())
    return response


def _live(view, args, kwargs, account, version, seen_by):
    """Run a view whose body shows live seats, then validate it by its body."""
    response = make_response(view(*args, **kwargs))
    if response.status_code != 200:
        return response
    etag = _tag(seen_by, current_locale(), request.full_path, response.get_data())
    newest = _seats_changed_at(get_appcontext().get("result_dump"))
    last_modified = max(filter(None, (version.changed_at, newest)))
    if not_modified(etag, last_modified):
        return _answer_304(etag=etag, last_modified=last_modified, account=account)
    return _headers(response, etag=etag, last_modified=last_modified, account=account)
