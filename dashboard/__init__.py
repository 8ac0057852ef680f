"""The staff dashboard: a single-page app served at /dashboard.

The page is a client of the public JSON API (`/api/v1/...`) with the same bearer
tokens as any other client; this blueprint only serves the built files (HTML,
JavaScript, CSS) from `dashboard/static/`, built from `dashboard/web/` by
`make dashboard`. It reads no data and authorises nothing itself.
"""

from pathlib import Path

from flask import Blueprint, Flask, Response, send_from_directory

STATIC_DIR = Path(__file__).resolve().parent / "static"
# The page loads its own scripts and styles only (no CDN, no inline script) and
# talks to this origin's API only (CSP Level 3; OWASP Secure Headers Project).
DASHBOARD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Built asset names carry a content hash, so a browser may keep them for a year.
ASSET_MAX_AGE = 365 * 24 * 3600

blp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@blp.get("", strict_slashes=False)
def index() -> Response:
    """The dashboard's HTML page (the app routes by URL fragment, `#/...`)."""
    response = send_from_directory(STATIC_DIR, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = DASHBOARD_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    """A built JavaScript or CSS file; 404 when it does not exist."""
    response = send_from_directory(
        STATIC_DIR / "assets", filename, max_age=ASSET_MAX_AGE
    )
    response.headers["Content-Security-Policy"] = DASHBOARD_CSP
    response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}, immutable"
    return response


def init_dashboard(app: Flask) -> None:
    """Mount the dashboard blueprint at /dashboard."""
    app.register_blueprint(blp)
