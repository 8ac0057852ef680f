"""Server-side cache of anonymous package reads in Redis (docs/api.md "HTTP caching").

On only when `CATALOGUE_CACHE_URL` names a Redis (`redis://host:6379/3`); empty, the
default, is off. routes/common/caching.py stores the JSON body of a 200 answered to an
ANONYMOUS caller by a view that shows no live data (the package list and a package),
under its ETag, which digests the catalogue version, its change time, the audience
and the path with its query: a version bump makes every older entry unreachable, so
nothing is ever invalidated by hand, and `CATALOGUE_CACHE_TTL` seconds only bound
how long unreachable entries take memory. Answers that show seats (departures) and
anything sent to a caller with a token (personal or staff data) are never stored.

The key also names the language of the answer (core.i18n.current_locale): package
titles and descriptions are served in the caller's language (docs/i18n.md
"Catalogue translations"), so an English and a German answer to one URL are two
entries, whatever the ETag.

Redis is an optimisation, never a dependency: when it is unreachable or slow
(`SOCKET_TIMEOUT` seconds) the request is answered from the database and a warning
is logged.
"""

import logging

import redis
from flask import current_app

from core.i18n import current_locale

EXTENSION_KEY = "easytravels.catalogue_cache"
KEY_PREFIX = "easytravels:catalogue:"
SOCKET_TIMEOUT = 0.25
# The language catalogue texts are written in (BABEL_DEFAULT_LOCALE).
ORIGINAL_LOCALE = "en"

log = logging.getLogger(__name__)


def _client() -> redis.Redis | None:
    """The Redis client of this app for CATALOGUE_CACHE_URL, or None when it is off.
    One client (with its connection pool) per app and URL, made on first use."""
    url = current_app.config.get("CATALOGUE_CACHE_URL")
    if not url:
        return None
    clients = current_app.extensions.setdefault(EXTENSION_KEY, {})
    if url not in clients:
        clients[url] = redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
        )
    return clients[url]


def key(etag: str, locale: str = ORIGINAL_LOCALE) -> str:
    """The Redis key of the body whose ETag is `etag` (quoted entity-tag) in
    `locale` (one of LANGUAGES; default the original language of the catalogue).
    English keeps the key it had before answers were translated."""
    if locale == ORIGINAL_LOCALE:
        return KEY_PREFIX + etag.strip('"')
    return KEY_PREFIX + locale + ":" + etag.strip('"')


def get(etag: str) -> bytes | None:
    """The stored body for `etag` in the language of the current request; None
    when off, missing or Redis fails."""
    client = _client()
    if client is None:
        return None
    try:
        return client.get(key(etag, current_locale()))
    except redis.RedisError as exc:
        log.warning("catalogue cache read failed: %s", exc)
        return None


def put(etag: str, body: bytes) -> None:
    """Store `body` under `etag` and the language of the current request for
    CATALOGUE_CACHE_TTL seconds (no-op when off; a Redis failure is logged, never
    raised)."""
    client = _client()
    if client is None:
        return
    try:
        ttl = current_app.config["CATALOGUE_CACHE_TTL"]
        client.set(key(etag, current_locale()), body, ex=ttl)
    except redis.RedisError as exc:
        log.warning("catalogue cache write failed: %s", exc)
