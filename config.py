"""Configuration classes, read from the environment (and `.env`).

`APP_CONFIG` selects the class: `development` (default), `testing` or `production`.
Every variable is documented in README.md ("Configuration") and `.env.example`.
"""

import os
from datetime import timedelta

from dotenv import load_dotenv

load_dotenv()

DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production"
MIN_SECRET_BYTES = 32


def _bool(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Point bare `postgres://` / `postgresql://` URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Defaults shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET)
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY", DEV_SECRET)
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", "sqlite:///easytravels.db")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=15)
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=30)
    JWT_TOKEN_LOCATION = ["headers"]

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Easy Travels <no-reply@easytravels.local>"
    )

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    ADMIN_EMAIL = os.environ.get("ADMIN_EMAIL", "")
    ADMIN_PASSWORD = os.environ.get("ADMIN_PASSWORD", "")
    ADMIN_NAME = os.environ.get("ADMIN_NAME", "Administrator")
    BOOKING_HOLD_MINUTES = int(os.environ.get("BOOKING_HOLD_MINUTES", "15"))
    DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "EUR")
    BALANCE_DUE_DAYS = int(os.environ.get("BALANCE_DUE_DAYS", "30"))

    OTP_TTL_MINUTES = 10
    OTP_MAX_ATTEMPTS = 5
    OTP_SENDS_PER_MINUTE = 1
    OTP_SENDS_PER_HOUR = 5
    PASSWORD_MIN_LENGTH = 8

    API_TITLE = "Easy Travels API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "v1/openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"
    JSON_SORT_KEYS = False


class DevelopmentConfig(Config):
    """Local development: SQLite under instance/, mail written to the log without SMTP."""

    DEBUG = False


class TestingConfig(Config):
    """pytest: `TEST_DATABASE_URL` (PostgreSQL in CI) or a SQLite file the fixtures pick."""

    TESTING = True
    # pytest fixtures pass their own URL; for the CLI under APP_CONFIG=testing,
    # TEST_DATABASE_URL wins, then DATABASE_URL, then an in-memory SQLite.
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("TEST_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or "sqlite:///:memory:"
    )
    MAIL_SUPPRESS_SEND = False


class ProductionConfig(Config):
    """Production: secrets must come from the environment (checked by `validate`)."""

    @staticmethod
    def validate(config: dict) -> None:
        """Refuse to start with a missing, default or short secret.

        Raises RuntimeError naming the variable; the rule is issue #2 item 1
        (at least 32 bytes, never the development default).
        """
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            value = config.get(name) or ""
            if value == DEV_SECRET or len(value.encode()) < MIN_SECRET_BYTES:
                raise RuntimeError(
                    f"{name} must be set to a random value of at least "
                    f"{MIN_SECRET_BYTES} bytes in production"
                )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
