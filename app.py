"""Easy Travels API application factory.

Run with `flask --app app run` or `gunicorn 'app:create_app()'`; nothing builds an
app at import time (docs/architecture.md "Stack notes").
"""

import os
import sqlite3

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, check_documents, check_secrets, engine_options
from core.errors import N_, APIError, problem, register_error_handlers
from core.extensions import api, db, jwt, mail, migrate
from core.json_output import FastJSONProvider

JSON_METHODS = {"POST", "PUT", "PATCH"}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """Foreign keys on and a busy timeout for every SQLite connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the Flask application.

    `config_name` is `development`, `testing` or `production` (default: the
    `APP_CONFIG` environment variable, else `development`); `overrides` is a dict of
    config values applied last (tests). Raises RuntimeError when a secret is missing
    or the public development default (outside `testing` and `make run` on loopback,
    config.check_secrets), or weak in production.
    """
    name = config_name or os.environ.get("APP_CONFIG", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"APP_CONFIG must be one of {sorted(CONFIGS)}, not {name!r}")
    app = Flask(__name__)
    app.json = FastJSONProvider(app)
    app.config.from_object(CONFIGS[name])
    app.config.update(overrides or {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    app.json.sort_keys = False
    check_secrets(name, app.config)
    check_documents(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_dashboard(app)
    register_error_handlers(app)
    register_request_guards(app)
    register_http_policies(app)
    register_commands(app)
    register_workers(app)
    bootstrap_admin(app)
    return app


def register_workers(app: Flask) -> None:
    """The Celery app (app.extensions["celery"]) and, with EMBEDDED_WORKER, the
    in-process outbox relay and scheduler (services/jobs/tasks.py)."""
    from services.jobs.tasks import celery_init_app, init_embedded_worker

    celery_init_app(app)
    init_embedded_worker(app)


def configure_logging(app: Flask) -> None:
    """Request ids and redaction in every log record; text or JSON lines to stderr
    (core/observability.py); the request-id hooks run first so every line has the id."""
    from core import observability

    observability.configure_logging(app)
    observability.init_request_ids(app)


def register_http_policies(app: Flask) -> None:
    """Trusted proxy headers, rate limits, security headers and CORS
    (core/rate_limits.py, core/security.py). Runs after the blueprints exist (the
    limiter wraps their views)."""
    from core.rate_limits import init_limits
    from core.security import init_cors, init_security_headers

    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    init_limits(app)
    init_security_headers(app)
    init_cors(app)


def register_extensions(app: Flask) -> None:
    """Initialise db, migrations, JWT, mail and the smorest Api."""
    from auth.tokens import register_jwt_callbacks
    from models.schema_filter import include_name

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, include_name=include_name)
    jwt.init_app(app)
    mail.init_app(app)
    from core.i18n import init_i18n

    init_i18n(app)
    from schemas.common import Money

    api.register_field(Money, "string", "decimal")
    from core.openapi_doc import ProblemDocPlugin

    api.init_app(
        app,
        spec_kwargs={
            "extra_plugins": [ProblemDocPlugin(app)],
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                    }
                }
            },
        },
    )
    with app.app_context():
        register_jwt_callbacks()


def register_blueprints(app: Flask) -> None:
    """Mount every resource blueprint under /api/v1 (health stays at the root)."""
    from routes import BLUEPRINTS

    for blueprint, prefix in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=prefix)
    from core.swagger_ui import init_swagger_ui_assets

    init_swagger_ui_assets(app)


def register_dashboard(app: Flask) -> None:
    """Serve the staff dashboard (a client of the API) at /dashboard."""
    from dashboard import init_dashboard

    init_dashboard(app)


def register_request_guards(app: Flask) -> None:
    """Refuse oversized (413), too deeply nested or non-Unicode JSON (400) bodies
    (core/input_limits.py), then non-JSON bodies with 415, before any view runs."""
    from core.input_limits import init_input_limits, upload_limit

    init_input_limits(app)

    @app.before_request
    def _require_json_body():
        if request.method not in JSON_METHODS:
            return None
        has_body = (request.content_length or 0) > 0 or request.headers.get(
            "Transfer-Encoding"
        )
        if has_body and not request.is_json and upload_limit() is None:
            return problem(
                415,
                N_("Send the request body as JSON (Content-Type: application/json)."),
                code="unsupported-media-type",
            )
        return None


def register_commands(app: Flask) -> None:
    """Attach the `flask` CLI commands (create-admin, seed-demo, bookings ...)."""
    from cli import register

    register(app)


def bootstrap_admin(app: Flask) -> None:
    """Create the first admin from ADMIN_EMAIL / ADMIN_PASSWORD when none exists.

    Skipped silently while the schema does not exist yet (before `db upgrade`).
    Safe when several workers start at once
    (services.accounts.employees.ensure_first_admin); logs one "admin bootstrap:" line
    per process.
    """
    if not (app.config.get("ADMIN_EMAIL") and app.config.get("ADMIN_PASSWORD")):
        return
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from services.accounts.employees import ensure_first_admin

    with app.app_context():
        try:
            if not inspect(db.engine).has_table("employees"):
                return  # before `flask db upgrade`
            created = ensure_first_admin(
                email=app.config["ADMIN_EMAIL"],
                password=app.config["ADMIN_PASSWORD"],
                name=app.config["ADMIN_NAME"],
            )
            app.logger.info(
                "admin bootstrap: %s", "admin created" if created else "an admin exists"
            )
        except (SQLAlchemyError, APIError) as exc:
            # Another process may be creating the same admin right now; serving
            # requests matters more than this start-up step (one admin either way).
            db.session.rollback()
            app.logger.warning("admin bootstrap skipped: %s", exc.__class__.__name__)
        finally:
            db.session.remove()
