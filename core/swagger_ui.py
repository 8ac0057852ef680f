"""Swagger UI's assets served by the service itself, from a pinned package.

flask-smorest renders the page at /api/docs (`OPENAPI_SWAGGER_UI_PATH`); the page
loads `swagger-ui.css`, `swagger-ui-standalone-preset.js` and `swagger-ui-bundle.js`
from `OPENAPI_SWAGGER_UI_URL`. That URL points here, at /api/docs/assets/, which
serves the files of the Swagger UI distribution shipped inside the `flask-swagger-ui`
package (pinned in requirements.txt; its `dist/VERSION` names the Swagger UI
release). No CDN is involved, so the page works on a network without internet and
the Content-Security-Policy of the page admits only this origin (core/security.py).
"""

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask, send_from_directory

ASSETS_URL = "/api/docs/assets/"
ASSETS_DIR = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
ASSET_MAX_AGE = 3600  # seconds; the files change only with the package pin

blp = Blueprint("swagger-ui-assets", __name__)


@blp.get(f"{ASSETS_URL}<path:filename>")
def asset(filename: str):
    """One file of the Swagger UI distribution (404 when there is no such file)."""
    return send_from_directory(ASSETS_DIR, filename, max_age=ASSET_MAX_AGE)


def swagger_ui_version() -> str:
    """The Swagger UI release of the bundled files, e.g. `v5.34.0`."""
    return (ASSETS_DIR / "VERSION").read_text(encoding="utf-8").strip()


def init_swagger_ui_assets(app: Flask) -> None:
    """Serve the assets when the page is on and points at them (the default)."""
    if app.config.get("OPENAPI_SWAGGER_UI_URL") == ASSETS_URL:
        app.register_blueprint(blp)
