"""gunicorn settings for Easy Travels API, read from the environment.

    APP_CONFIG=production DATABASE_URL=postgresql://... gunicorn   # or: make serve

gunicorn loads ./gunicorn.conf.py by itself when started from the project root
(the test helpers in tests/live.py too; their command-line flags win). Variables:

    BIND                  address(es) to listen on, comma-separated   127.0.0.1:8000
    WEB_CONCURRENCY       worker processes        2 x CPU cores + 1, at most 8
    GUNICORN_THREADS      threads per worker (> 1 selects the gthread worker)     1
    GUNICORN_TIMEOUT      seconds a worker may stay silent before it is killed   30
    GUNICORN_GRACEFUL_TIMEOUT  seconds to finish requests on SIGTERM / reload    30
    GUNICORN_KEEPALIVE    seconds to keep an idle proxy connection (gthread)      5
    GUNICORN_MAX_REQUESTS recycle a worker after this many requests (0 = never)   0
    GUNICORN_ACCESS_LOG   "-" = stdout, a file path, or unset (see below)
    GUNICORN_LOG_LEVEL    gunicorn's own log level                             info
    FORWARDED_ALLOW_IPS   proxies whose X-Forwarded-Proto gunicorn trusts  127.0.0.1,::1
    GUNICORN_CONTROL_SOCKET  path of gunicorn's control socket; unset = none
    DB_STATEMENT_TIMEOUT_MS  per-statement limit for the web workers          15000

The app writes one access line per request itself (core/observability.py, ACCESS_LOG,
with the request id; JSON in production), so gunicorn's access log is off unless
GUNICORN_ACCESS_LOG is set or ACCESS_LOG=0; its format carries the X-Request-ID the
app puts on every response. The app is not preloaded: each worker opens its own
database connections after the fork (docs/architecture.md "Stack notes").
"""

import multiprocessing
import os

MAX_DEFAULT_WORKERS = 8


def _int(name: str, default: int) -> int:
    """An integer environment variable, `default` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _app_access_log_on() -> bool:
    """Whether the app writes its own access lines (config.py ACCESS_LOG)."""
    return os.environ.get("ACCESS_LOG", "1").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


wsgi_app = "app:create_app()"
proc_name = "easytravels"
bind = [part.strip() for part in os.environ.get("BIND", "127.0.0.1:8000").split(",")]
workers = _int(
    "WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, MAX_DEFAULT_WORKERS)
)
threads = _int("GUNICORN_THREADS", 1)
preload_app = False

# A request bounded by the database timeouts (config.py DB_*) answers 503 well
# before the worker timeout kills it.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # worker heartbeats off a possibly slow disk

# Who may set the scheme by X-Forwarded-Proto for gunicorn itself; the app's view of
# client address, scheme and host comes from werkzeug ProxyFix (TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or (
    None if _app_access_log_on() else "-"
)
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s "%(a)s"'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# gunicorn >= 25 opens a control socket at one fixed path per user by default;
# several servers on one host (tests, bench, drills) would fight over it.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None
if control_socket is None:
    del control_socket

# Web requests get a statement timeout; CLI jobs (migrations, seeds) do not.
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "15000")

# In production gunicorn's own lines (start-up, worker exits, its access log when on)
# come out in the app's JSON shape too, so every line of the service parses.
if os.environ.get("APP_CONFIG") == "production":
    from core.observability import gunicorn_logconfig

    logconfig_dict = gunicorn_logconfig(os.environ.get("LOG_FORMAT", "json") == "json")
    if not accesslog:  # the app's own access line is enough: no second line per request
        logconfig_dict["loggers"]["gunicorn.access"].update(
            level="CRITICAL", handlers=[]
        )
