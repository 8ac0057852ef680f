"""Configuration classes, read from the environment (and `.env`).

`APP_CONFIG` selects the class: `development` (default), `testing` or `production`.
Every variable is documented in docs/configuration.md and `.env.example`.
"""

import os
from datetime import timedelta
from typing import ClassVar

from dotenv import load_dotenv

load_dotenv()

DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production"
MIN_SECRET_BYTES = 32
GENEROUS_LIMIT = "100000 per minute"


def _bool(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _limit(name: str, default: str) -> str:
    """A rate-limit string (Flask-Limiter notation) from the environment."""
    return os.environ.get(name) or default


def _list(name: str) -> list[str]:
    """A comma-separated environment variable as a list of non-empty, stripped items."""
    return [
        item.strip() for item in os.environ.get(name, "").split(",") if item.strip()
    ]


def normalise_database_url(url: str) -> str:
    """Point bare `postgres://` / `postgresql://` URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(config) -> dict:
    """SQLALCHEMY_ENGINE_OPTIONS completed for the configured database: on
    PostgreSQL, libpq `connect_timeout` (DB_CONNECT_TIMEOUT s), `statement_timeout`
    (DB_STATEMENT_TIMEOUT_MS, when > 0) and the pool's `pool_timeout`
    (DB_POOL_TIMEOUT s); options already set win. Other databases: unchanged."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if not str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        return options
    options.setdefault("pool_timeout", config["DB_POOL_TIMEOUT"])
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("connect_timeout", config["DB_CONNECT_TIMEOUT"])
    if config["DB_STATEMENT_TIMEOUT_MS"] > 0:
        connect_args.setdefault(
            "options", f"-c statement_timeout={config['DB_STATEMENT_TIMEOUT_MS']}"
        )
    options["connect_args"] = connect_args
    return options


class Config:
    """Defaults shared by every environment."""

    # Unset or empty: the public development default, refused at start except under
    # `testing` and `make run` on loopback (check_secrets).
    SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY") or DEV_SECRET
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", "sqlite:///easytravels.db")
    )
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    # Database fault bounds on PostgreSQL (engine_options): seconds
    # to connect, to wait for a pooled connection, milliseconds per statement (0 =
    # no limit; gunicorn.conf.py sets 15000 for the web workers only, so migrations
    # and bulk CLI jobs are not cut). Past them a request answers 503 with
    # Retry-After: DB_RETRY_AFTER seconds (core/errors.py).
    DB_CONNECT_TIMEOUT = int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))
    DB_POOL_TIMEOUT = int(os.environ.get("DB_POOL_TIMEOUT", "10"))
    DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "0"))
    DB_RETRY_AFTER = int(os.environ.get("DB_RETRY_AFTER", "5"))

    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=15)
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=30)
    JWT_TOKEN_LOCATION: ClassVar[list[str]] = ["headers"]

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Easy Travels <no-reply@easytravels.local>"
    )
    # Seconds of SMTP silence (connect, TLS, any reply) before a send fails
    # (services/messaging/mail.py); an OTP request then answers 503.
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT_SECONDS", "10"))

    # One-time codes by SMS (services/messaging/sms.py): "twilio" sends through
    # Twilio's Messages API (at TWILIO_API_BASE when set: a local stand-in), "log"
    # writes the message to the log (development; refused in production), empty
    # sends none (an SMS code request then answers 503). National numbers are read
    # in DEFAULT_PHONE_REGION (ISO 3166-1 alpha-2).
    SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "log").strip().lower()
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
    TWILIO_FROM = os.environ.get("TWILIO_FROM", "")
    TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "").rstrip("/")
    SMS_TIMEOUT = float(os.environ.get("SMS_TIMEOUT_SECONDS", "10"))
    DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "IE").upper()

    # The seller on invoices and credit notes (docs/documents.md "Invoices").
    COMPANY_NAME = os.environ.get("COMPANY_NAME", "Easy Travels Ltd")
    COMPANY_ADDRESS = os.environ.get(
        "COMPANY_ADDRESS", "1 Example Street\nDublin D01 X2Y3\nIreland"
    )
    COMPANY_VAT_ID = os.environ.get("COMPANY_VAT_ID", "IE1234567X")
    COMPANY_REGISTRATION = os.environ.get("COMPANY_REGISTRATION", "CRO 123456")
    COMPANY_EMAIL = os.environ.get("COMPANY_EMAIL", "accounts@easytravels.example")
    # Tax (docs/documents.md "Tax"): prices are tax-inclusive at a package's or
    # route's `tax_rate` (percent), DEFAULT_TAX_RATE when it has none; TAX_MODE
    # `standard` shows the tax on every line, `margin` shows none and carries the
    # travel agents' margin-scheme note (EU VAT Directive 2006/112/EC, arts. 306-310).
    DEFAULT_TAX_RATE = os.environ.get("DEFAULT_TAX_RATE", "13.5")
    TAX_MODE = os.environ.get("TAX_MODE", "standard").strip().lower()

    # Languages (docs/i18n.md): answers, mail and documents in the account's
    # `locale`, else the request's Accept-Language, else BABEL_DEFAULT_LOCALE.
    LANGUAGES = ("en", "de", "es")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = "translations"

    # Rate limits (core/rate_limits.py, Flask-Limiter notation, several joined by ";"):
    # per client address and, where an email is submitted, per account.
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "easytravels")
    RATELIMIT_STRATEGY = os.environ.get("RATELIMIT_STRATEGY", "fixed-window")
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis down: per-process counters
    RATELIMIT_LOGIN = _limit("RATELIMIT_LOGIN", "10 per minute;100 per hour")
    RATELIMIT_LOGIN_PER_ACCOUNT = _limit(
        "RATELIMIT_LOGIN_PER_ACCOUNT", "5 per minute;30 per hour"
    )
    RATELIMIT_OTP = _limit("RATELIMIT_OTP", "5 per minute;30 per hour")
    RATELIMIT_OTP_PER_ACCOUNT = _limit(
        "RATELIMIT_OTP_PER_ACCOUNT", "3 per minute;10 per hour"
    )
    RATELIMIT_PASSWORD_RESET = _limit(
        "RATELIMIT_PASSWORD_RESET", "5 per minute;30 per hour"
    )
    RATELIMIT_PASSWORD_RESET_PER_ACCOUNT = _limit(
        "RATELIMIT_PASSWORD_RESET_PER_ACCOUNT", "3 per minute;10 per hour"
    )
    RATELIMIT_REGISTER = _limit("RATELIMIT_REGISTER", "5 per minute;50 per hour")
    # Per signed-in account (the token's identity), counting accepted requests only:
    # enquiries raised (sales capacity is finite) and card payment intents started
    # (each is a provider call; card testing).
    RATELIMIT_ENQUIRIES_PER_ACCOUNT = _limit(
        "RATELIMIT_ENQUIRIES_PER_ACCOUNT", "10 per hour"
    )
    RATELIMIT_PAYMENT_INTENTS_PER_ACCOUNT = _limit(
        "RATELIMIT_PAYMENT_INTENTS_PER_ACCOUNT", "10 per hour"
    )

    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are
    # trusted (werkzeug ProxyFix); 0 = none, the socket peer is the client.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # Browser dashboards allowed to call /api/* (CORS), comma-separated origins
    # such as https://dash.example.com; empty = no CORS headers at all.
    CORS_ORIGINS = _list("CORS_ORIGINS")
    # Strict-Transport-Security (only meaningful behind HTTPS): production only.
    HSTS_ENABLED = _bool("HSTS_ENABLED", False)
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", "31536000"))
    # Logs: "text" lines or "json" objects (one per line); level; one access line
    # per request (method, path, status, duration, client, request id).
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
    ACCESS_LOG = _bool("ACCESS_LOG", True)
    # Without MAIL_SERVER, write outgoing mail (one-time codes included) to the log.
    # A development aid only: production never logs mail.
    MAIL_TO_LOG = True
    ADMIN_EMAIL = os.environ.get("ADMIN_EMAIL", "")
    ADMIN_PASSWORD = os.environ.get("ADMIN_PASSWORD", "")
    ADMIN_NAME = os.environ.get("ADMIN_NAME", "Administrator")
    BOOKING_HOLD_MINUTES = int(os.environ.get("BOOKING_HOLD_MINUTES", "15"))
    # Customers (never staff) book at most this many seats at once, and hold at most
    # MAX_HELD_SEATS_PER_CUSTOMER unpaid seats per departure
    # (services/booking/booking_limits.py). Departures may carry a 0.00 price only when
    # this is true (free seats on purpose); otherwise a zero price is refused with 422
    # (services/catalogue/departures.py).
    ALLOW_ZERO_PRICES = _bool("ALLOW_ZERO_PRICES", False)
    MAX_SEATS_PER_BOOKING = int(os.environ.get("MAX_SEATS_PER_BOOKING", "10"))
    MAX_HELD_SEATS_PER_CUSTOMER = int(
        os.environ.get("MAX_HELD_SEATS_PER_CUSTOMER", "10")
    )
    DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "EUR")
    BALANCE_DUE_DAYS = int(os.environ.get("BALANCE_DUE_DAYS", "30"))
    # Hours staff have to react to a new enquiry before it is flagged overdue.
    ENQUIRY_FIRST_RESPONSE_HOURS = int(
        os.environ.get("ENQUIRY_FIRST_RESPONSE_HOURS", "24")
    )
    # A customer raises at most this many open enquiries (new, contacted, quoted,
    # on_hold...) at once: one account cannot take the whole sales team
    # (services/sales/enquiries.py; 409 open-enquiries-limit). Staff are not limited.
    MAX_OPEN_ENQUIRIES_PER_CUSTOMER = int(
        os.environ.get("MAX_OPEN_ENQUIRIES_PER_CUSTOMER", "5")
    )
    # At most this many card payment intents of one booking may be open (pending or
    # declined, younger than an hour) at once (services/payments/card_payments.py;
    # 429 too-many-open-intents with Retry-After).
    MAX_OPEN_INTENTS_PER_BOOKING = int(
        os.environ.get("MAX_OPEN_INTENTS_PER_BOOKING", "3")
    )

    # Card payments through the payment provider (services/payments/provider.py):
    # Stripe's API, or another server speaking it at STRIPE_API_BASE (a local
    # localstripe in development and tests). Enabled when any STRIPE_* variable is set;
    # otherwise the card payment endpoints answer 503.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")

    # HTTP caching of catalogue reads (routes/common/caching.py, docs/api.md
    # "HTTP caching"): max-age in seconds of anonymous answers
    # (`Cache-Control: public, max-age=N`); CATALOGUE_CACHE_URL (redis://...) turns on
    # the server-side cache of anonymous package lists for CATALOGUE_CACHE_TTL seconds
    # (empty: off).
    CATALOGUE_CACHE_MAX_AGE = int(os.environ.get("CATALOGUE_CACHE_MAX_AGE", "60"))
    CATALOGUE_CACHE_URL = os.environ.get("CATALOGUE_CACHE_URL", "")
    CATALOGUE_CACHE_TTL = int(os.environ.get("CATALOGUE_CACHE_TTL", "30"))

    # Largest request body in bytes (Flask/Werkzeug setting): longer bodies get a 413
    # problem before they are read (core/input_limits.py).
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))
    # GTFS feeds (POST /transport/gtfs, a ZIP upload): the largest upload, and the
    # most its files may hold once unzipped (a ZIP bomb guard).
    GTFS_MAX_UPLOAD_BYTES = int(
        os.environ.get("GTFS_MAX_UPLOAD_BYTES", str(64 * 1024 * 1024))
    )
    GTFS_MAX_FEED_BYTES = int(
        os.environ.get("GTFS_MAX_FEED_BYTES", str(512 * 1024 * 1024))
    )

    # Work off the request path (services/messaging/outbox.py, services/jobs/tasks.py,
    # docs/outbox.md). CELERY_BROKER_URL: redis://... or
    # amqp://...; empty = no broker: EMBEDDED_WORKER runs relay and schedule in a thread
    # of the server.
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "") or None
    EMBEDDED_WORKER = _bool("EMBEDDED_WORKER", False)
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8"))
    OUTBOX_BACKOFF_SECONDS = int(os.environ.get("OUTBOX_BACKOFF_SECONDS", "30"))
    OUTBOX_BACKOFF_MAX_SECONDS = int(
        os.environ.get("OUTBOX_BACKOFF_MAX_SECONDS", "3600")
    )
    OUTBOX_LEASE_SECONDS = int(os.environ.get("OUTBOX_LEASE_SECONDS", "120"))
    OUTBOX_RELAY_INTERVAL_SECONDS = float(
        os.environ.get("OUTBOX_RELAY_INTERVAL_SECONDS", "2")
    )
    OUTBOX_BATCH_SIZE = int(os.environ.get("OUTBOX_BATCH_SIZE", "100"))
    # Outgoing webhooks: loopback/private targets refused unless true (SSRF guard).
    WEBHOOK_ALLOW_PRIVATE_TARGETS = _bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
    # Absolute base of resource URLs in webhook payloads (empty: paths only).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
    # Ticket barcodes are signed with Ed25519 (services/transport/ticket_signing.py):
    # the base64url of a 32-byte private seed; empty derives the seed from SECRET_KEY.
    TICKET_SIGNING_KEY = os.environ.get("TICKET_SIGNING_KEY", "")
    # Balance reminders (days before balance_due_date) and the unpaid-balance
    # cancellation BALANCE_CANCEL_GRACE_DAYS after it (BALANCE_AUTO_CANCEL=false: off).
    BALANCE_REMINDER_DAYS: ClassVar[list[int]] = [
        int(day) for day in _list("BALANCE_REMINDER_DAYS") or ["14", "7", "3"]
    ]
    BALANCE_AUTO_CANCEL = _bool("BALANCE_AUTO_CANCEL", True)
    BALANCE_CANCEL_GRACE_DAYS = int(os.environ.get("BALANCE_CANCEL_GRACE_DAYS", "7"))

    OTP_TTL_MINUTES = 10
    # Seconds every anonymous code request (forgot password, sign-in code) lasts,
    # whether or not the account exists, so timing reveals no account; the mail to a
    # real account is sent within it or finishes in the background.
    OTP_REQUEST_SECONDS = float(os.environ.get("OTP_REQUEST_SECONDS", "0.25"))
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
    # Served by the app itself from the pinned flask-swagger-ui package
    # (core/swagger_ui.py).
    OPENAPI_SWAGGER_UI_URL = "/api/docs/assets/"
    JSON_SORT_KEYS = False


class DevelopmentConfig(Config):
    """Local development: SQLite under instance/, mail written to the log (no SMTP)."""

    DEBUG = False
    # The embedded default: `flask run` relays the outbox and runs the schedule
    # itself when no broker is configured, and may call local webhook receivers.
    EMBEDDED_WORKER = _bool("EMBEDDED_WORKER", not os.environ.get("CELERY_BROKER_URL"))
    WEBHOOK_ALLOW_PRIVATE_TARGETS = _bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", True)


class TestingConfig(Config):
    """pytest: `TEST_DATABASE_URL` (PostgreSQL in CI) or a SQLite file from fixtures."""

    TESTING = True
    # pytest fixtures pass their own URL; for the CLI under APP_CONFIG=testing,
    # TEST_DATABASE_URL wins, then DATABASE_URL, then an in-memory SQLite.
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("TEST_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or "sqlite:///:memory:"
    )
    MAIL_SUPPRESS_SEND = False
    WEBHOOK_ALLOW_PRIVATE_TARGETS = _bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", True)
    # Limits stay on in tests, generous enough for the whole suite from 127.0.0.1
    # against one session-wide app; tests/core/test_rate_limits.py sets tight ones.
    RATELIMIT_LOGIN = _limit("RATELIMIT_LOGIN", GENEROUS_LIMIT)
    RATELIMIT_LOGIN_PER_ACCOUNT = _limit("RATELIMIT_LOGIN_PER_ACCOUNT", GENEROUS_LIMIT)
    RATELIMIT_OTP = _limit("RATELIMIT_OTP", GENEROUS_LIMIT)
    RATELIMIT_OTP_PER_ACCOUNT = _limit("RATELIMIT_OTP_PER_ACCOUNT", GENEROUS_LIMIT)
    RATELIMIT_PASSWORD_RESET = _limit("RATELIMIT_PASSWORD_RESET", GENEROUS_LIMIT)
    RATELIMIT_PASSWORD_RESET_PER_ACCOUNT = _limit(
        "RATELIMIT_PASSWORD_RESET_PER_ACCOUNT", GENEROUS_LIMIT
    )
    RATELIMIT_REGISTER = _limit("RATELIMIT_REGISTER", GENEROUS_LIMIT)
    RATELIMIT_ENQUIRIES_PER_ACCOUNT = _limit(
        "RATELIMIT_ENQUIRIES_PER_ACCOUNT", GENEROUS_LIMIT
    )
    RATELIMIT_PAYMENT_INTENTS_PER_ACCOUNT = _limit(
        "RATELIMIT_PAYMENT_INTENTS_PER_ACCOUNT", GENEROUS_LIMIT
    )


class ProductionConfig(Config):
    """Production: secrets must come from the environment (checked by `validate`),
    JSON logs, HSTS, and mail is never written to the log."""

    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    HSTS_ENABLED = _bool("HSTS_ENABLED", True)
    MAIL_TO_LOG = False
    SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "").strip().lower()

    @staticmethod
    def validate(config: dict) -> None:
        """Refuse to start with a missing, default or short secret.

        Raises RuntimeError naming the variable; the rule is docs/design.md
        "Running and configuration" (at least 32 bytes, never the development default).
        """
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            value = config.get(name) or ""
            if value == DEV_SECRET or len(value.encode()) < MIN_SECRET_BYTES:
                raise RuntimeError(
                    f"{name} must be set to a random value of at least "
                    f"{MIN_SECRET_BYTES} bytes in production"
                )
        ProductionConfig.validate_card_payments(config)
        ProductionConfig.validate_sms(config)

    @staticmethod
    def validate_card_payments(config: dict) -> None:
        """With card payments enabled (any STRIPE_* variable set), refuse to start
        without STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (an unsigned webhook
        would let anyone confirm bookings). Raises RuntimeError naming them."""
        names = (
            "STRIPE_SECRET_KEY",
            "STRIPE_PUBLISHABLE_KEY",
            "STRIPE_WEBHOOK_SECRET",
            "STRIPE_API_BASE",
        )
        if not any(config.get(name) for name in names):
            return
        missing = [
            n
            for n in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
            if not config.get(n)
        ]
        if missing:
            raise RuntimeError(
                f"card payments are enabled but {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set in production"
            )

    @staticmethod
    def validate_sms(config: dict) -> None:
        """Refuse to start with SMS_PROVIDER `log` (production never logs a code,
        like MAIL_TO_LOG), an unknown provider, or `twilio` without
        TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM. Empty is allowed
        (no SMS). Raises RuntimeError naming the variables."""
        provider = config.get("SMS_PROVIDER") or ""
        if not provider:
            return
        if provider != "twilio":
            raise RuntimeError(
                f"SMS_PROVIDER={provider} is not allowed in production "
                "(use twilio, or leave it empty for no SMS)"
            )
        names = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")
        missing = [name for name in names if not config.get(name)]
        if missing:
            raise RuntimeError(
                f"SMS_PROVIDER=twilio but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set in production"
            )


# Set by `make run` only when it serves on a loopback address (Makefile): the one
# case where development may run with the public default secret.
DEV_SECRET_FLAG = "ALLOW_DEV_SECRET_ON_LOOPBACK"
LOOPBACK_HOSTS = ("127.", "localhost", "::1", "[::1]")


def _flask_run_host(argv: list[str]) -> str | None:
    """The `--host`/`-h` value of a `flask run` command line, else None."""
    if "run" not in argv:
        return None
    for index, arg in enumerate(argv):
        if arg in ("--host", "-h") and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--host="):
            return arg.split("=", 1)[1]
    return os.environ.get("FLASK_RUN_HOST")


def dev_secret_allowed(environ=None, argv=None) -> bool:
    """True when this is a `make run` development server on loopback: the
    ALLOW_DEV_SECRET_ON_LOOPBACK flag is set and no non-loopback `--host` is given."""
    import sys

    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    if environ.get(DEV_SECRET_FLAG) != "1":
        return False
    host = _flask_run_host(argv)
    return host is None or host.startswith(LOOPBACK_HOSTS)


def check_secrets(config_name: str, config: dict) -> None:
    """Refuse to start with the public development secret (or none) in SECRET_KEY or
    JWT_SECRET_KEY, except under `testing` and a `make run` development server on
    loopback (anyone can forge tokens signed with a published key). Production also
    needs 32+ bytes (ProductionConfig.validate). Raises RuntimeError naming the
    variables and how to set them."""
    if config_name == "testing":
        return
    if config_name == "production":
        ProductionConfig.validate(config)
        return
    weak = [
        n
        for n in ("SECRET_KEY", "JWT_SECRET_KEY")
        if config.get(n) in (None, "", DEV_SECRET)
    ]
    if not weak or dev_secret_allowed():
        return
    raise RuntimeError(
        f"{' and '.join(weak)} must be set to a random value (e.g. "
        "`python -c 'import secrets; print(secrets.token_hex(32))'`): the development "
        "default is public and is only accepted by `make run` on a loopback address."
    )


def check_documents(config: dict) -> None:
    """Refuse to start with a TAX_MODE other than `standard` or `margin` or a
    DEFAULT_TAX_RATE that is not a percentage from 0 to 100 (invoices would show a
    wrong tax; docs/documents.md "Tax"). Raises RuntimeError naming the variable."""
    from decimal import Decimal, InvalidOperation

    if config.get("TAX_MODE") not in ("standard", "margin"):
        raise RuntimeError(
            f"TAX_MODE must be `standard` or `margin`, not {config.get('TAX_MODE')!r}"
        )
    try:
        rate = Decimal(str(config.get("DEFAULT_TAX_RATE")))
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not Decimal(0) <= rate <= 100:
        raise RuntimeError(
            "DEFAULT_TAX_RATE must be a percentage from 0 to 100 (e.g. 13.5), not "
            f"{config.get('DEFAULT_TAX_RATE')!r}"
        )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
