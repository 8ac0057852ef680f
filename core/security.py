"""Browser-facing response policy: security headers on every response
and CORS for the configured dashboard origins.

The API serves JSON to API clients; nothing it returns should be framed, sniffed,
cached by a shared cache or run as a document, so the defaults are the strictest
(OWASP Secure Headers Project). The one HTML page, the Swagger UI at /api/docs,
gets a Content-Security-Policy that admits its assets (`OPENAPI_SWAGGER_UI_URL`:
this origin, core/swagger_ui.py, or a CDN when configured so) and its single inline
start-up script by hash.
"""

import base64
import hashlib
import re

from flask import Flask, Response, request
from flask_cors import CORS

API_CSP = "default-src 'none'; frame-ancestors 'none'"
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-Request-ID",
    "If-None-Match",
    "If-Modified-Since",
]
CORS_EXPOSE_HEADERS = [
    "X-Request-ID",
    "Retry-After",
    "Location",
    "Idempotent-Replayed",
    "ETag",
]
CORS_MAX_AGE = 600


def docs_csp(response: Response, cdn_url: str) -> str:
    """CSP for the Swagger UI page: scripts and styles from `cdn_url` (`'self'` when
    it is a path on this origin) plus the page's inline scripts by SHA-256 hash
    (CSP Level 3 "hash-source"), the spec fetched from this origin, no framing."""
    if cdn_url.startswith("/"):
        cdn_url = "'self'"
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in INLINE_SCRIPT.findall(response.get_data(as_text=True))
    )
    return (
        f"default-src 'none'; script-src {cdn_url} {hashes}; "
        f"style-src {cdn_url} 'unsafe-inline'; img-src 'self' data: {cdn_url}; "
        "connect-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def init_security_headers(app: Flask) -> None:
    """Add the security headers to every response, errors and 404s included;
    headers a view set itself (e.g. its own Cache-Control) are kept. HSTS
    (RFC 6797) only when HSTS_ENABLED (production)."""

    @app.after_request
    def _security_headers(response):
        # One pass over the names already set: werkzeug's `setdefault` probes each
        # name with a KeyError (an exception object per missing header).
        present = {name.lower() for name, _ in response.headers.items()}
        for name, value in STATIC_HEADERS.items():
            if name.lower() not in present:
                response.headers.add(name, value)
        if "content-security-policy" not in present:
            is_docs_page = (
                request.blueprint == "api-docs" and response.mimetype == "text/html"
            )
            if is_docs_page and not response.direct_passthrough:
                csp = docs_csp(response, app.config["OPENAPI_SWAGGER_UI_URL"])
            else:
                csp = API_CSP
            response.headers.add("Content-Security-Policy", csp)
        if (
            app.config.get("HSTS_ENABLED")
            and "strict-transport-security" not in present
        ):
            response.headers.add(
                "Strict-Transport-Security", f"max-age={app.config['HSTS_MAX_AGE']}"
            )
        return response


def init_cors(app: Flask) -> None:
    """Answer CORS (simple and preflight requests) on /api/* for CORS_ORIGINS only;
    with none configured, no CORS header is ever sent. Bearer tokens, no cookies:
    credentials are not allowed."""
    origins = app.config.get("CORS_ORIGINS") or []
    if isinstance(origins, str):
        origins = [o.strip() for o in origins.split(",") if o.strip()]
    if not origins:
        return
    CORS(
        app,
        # Provider webhooks are server-to-server: never answered for browsers.
        resources={r"^/api/(?!v1/webhooks/).*": {"origins": origins}},
        allow_headers=CORS_ALLOW_HEADERS,
        expose_headers=CORS_EXPOSE_HEADERS,
        supports_credentials=False,
        max_age=CORS_MAX_AGE,
    )
