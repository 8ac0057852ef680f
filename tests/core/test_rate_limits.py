"""Request rate limits on login, OTP requests, password reset and registration
(docs/design.md "API conventions"): 429 problems with Retry-After, budgets per
address and per account, shared through Redis by several gunicorn workers."""

import concurrent.futures
import os
import uuid
from pathlib import Path

import pytest
import requests

from app import create_app
from core.extensions import db
from tests.core.conftest import assert_problem
from tests.live import gunicorn_server

AUTH = "/api/v1/auth"
GENEROUS = "1000 per minute"
LIMIT_NAMES = (
    "RATELIMIT_LOGIN",
    "RATELIMIT_LOGIN_PER_ACCOUNT",
    "RATELIMIT_OTP",
    "RATELIMIT_OTP_PER_ACCOUNT",
    "RATELIMIT_PASSWORD_RESET",
    "RATELIMIT_PASSWORD_RESET_PER_ACCOUNT",
    "RATELIMIT_REGISTER",
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def make_app(app):
    """Build a second app on the session's database and mail server with its own
    (memory) rate-limit counters; `limits` override RATELIMIT_* values, every other
    limit is generous."""
    built = []

    def make(**overrides):
        settings = {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAIL_SERVER": app.config["MAIL_SERVER"],
            "MAIL_PORT": app.config["MAIL_PORT"],
            **{name: GENEROUS for name in LIMIT_NAMES},
            **overrides,
        }
        application = create_app("testing", settings)
        built.append(application)
        return application

    yield make
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def body_for(path, n, email=None):
    """A request body for `path`; attempt `n` gets its own email unless given."""
    email = email or f"someone{n}@example.test"
    account = {"email": email, "account": "customer"}
    return {
        "/login": {**account, "password": "wrong-password"},
        "/login/otp": account,
        "/login/otp/verify": {**account, "otp": "000000"},
        "/password/forgot": account,
        "/password/reset": {
            **account,
            "otp": "000000",
            "new_password": "a-new-password",
        },
        "/register": {
            "name": f"Person {n}",
            "email": email,
            "password": "a-password-1",
        },
        "/otp": {"purpose": "password_change"},
    }[path]


def assert_rate_limited(response):
    body = assert_problem(response, 429)
    assert body["type"] == "/problems/rate-limited"
    assert body["title"] == "Too Many Requests"
    assert "Retry-After" in body["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    return body


@pytest.mark.parametrize(
    "path, setting",
    [
        ("/login", "RATELIMIT_LOGIN"),
        ("/login/otp/verify", "RATELIMIT_LOGIN"),
        ("/login/otp", "RATELIMIT_OTP"),
        ("/password/forgot", "RATELIMIT_PASSWORD_RESET"),
        ("/password/reset", "RATELIMIT_PASSWORD_RESET"),
        ("/register", "RATELIMIT_REGISTER"),
    ],
)
def test_per_address_limit_answers_429_problem_with_retry_after(
    make_app, path, setting
):
    client = make_app(**{setting: "2 per minute"}).test_client()
    first = [client.post(f"{AUTH}{path}", json=body_for(path, n)) for n in range(2)]
    assert all(r.status_code != 429 for r in first)
    assert all("Retry-After" not in r.headers for r in first)
    refused = client.post(f"{AUTH}{path}", json=body_for(path, 3))
    assert_rate_limited(refused)
    assert refused.headers["X-Request-ID"]
    assert refused.headers["X-Content-Type-Options"] == "nosniff"


def test_authenticated_otp_request_limited_per_address(make_app, actors):
    client = make_app(RATELIMIT_OTP="2 per minute").test_client()
    headers = [actors.employee("sales")["headers"] for _ in range(3)]
    answers = [
        client.post(f"{AUTH}/otp", json=body_for("/otp", 0), headers=h) for h in headers
    ]
    assert [r.status_code for r in answers[:2]] == [202, 202]
    assert_rate_limited(answers[2])


def test_unauthenticated_attempts_count_before_the_token_check(make_app):
    client = make_app(RATELIMIT_OTP="1 per minute").test_client()
    assert client.post(f"{AUTH}/otp", json={}).status_code == 401
    assert_rate_limited(client.post(f"{AUTH}/otp", json={}))


def test_bad_bodies_count_too(make_app):
    client = make_app(RATELIMIT_LOGIN="2 per minute").test_client()
    assert client.post(f"{AUTH}/login", json={"bogus": 1}).status_code == 422
    assert (
        client.post(f"{AUTH}/login", data="x", content_type="text/plain").status_code
        == 415
    )
    assert client.post(f"{AUTH}/login", json={}).status_code == 422
    assert_rate_limited(client.post(f"{AUTH}/login", json={}))


@pytest.mark.parametrize(
    "path, setting",
    [
        ("/login", "RATELIMIT_LOGIN_PER_ACCOUNT"),
        ("/login/otp", "RATELIMIT_OTP_PER_ACCOUNT"),
        ("/password/reset", "RATELIMIT_PASSWORD_RESET_PER_ACCOUNT"),
    ],
)
def test_per_account_limit_follows_the_email_across_addresses(make_app, path, setting):
    client = make_app(**{setting: "2 per minute"}).test_client()
    for n, address in enumerate(("10.0.0.1", "10.0.0.2")):
        response = client.post(
            f"{AUTH}{path}",
            json=body_for(path, n, email="Target@Example.test"),
            environ_base={"REMOTE_ADDR": address},
        )
        assert response.status_code != 429
    refused = client.post(
        f"{AUTH}{path}",
        json=body_for(path, 2, email=" target@example.TEST "),
        environ_base={"REMOTE_ADDR": "10.0.0.3"},
    )
    assert_rate_limited(refused)
    other = client.post(
        f"{AUTH}{path}", json=body_for(path, 3, email="other@example.test")
    )
    assert other.status_code != 429


def test_login_and_code_login_share_one_budget(make_app):
    client = make_app(RATELIMIT_LOGIN="2 per minute").test_client()
    assert client.post(f"{AUTH}/login", json=body_for("/login", 1)).status_code == 401
    verify = client.post(
        f"{AUTH}/login/otp/verify", json=body_for("/login/otp/verify", 2)
    )
    assert verify.status_code != 429
    assert_rate_limited(client.post(f"{AUTH}/login", json=body_for("/login", 3)))


def test_budgets_are_per_client_address(make_app):
    client = make_app(RATELIMIT_LOGIN="1 per minute").test_client()
    for address in ("10.0.0.1", "10.0.0.2"):
        response = client.post(
            f"{AUTH}/login",
            json=body_for("/login", 1),
            environ_base={"REMOTE_ADDR": address},
        )
        assert response.status_code == 401
    again = client.post(
        f"{AUTH}/login",
        json=body_for("/login", 2),
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert_rate_limited(again)


def test_forwarded_for_ignored_unless_a_proxy_is_trusted(make_app):
    spoofing = make_app(RATELIMIT_LOGIN="1 per minute").test_client()
    for n in range(2):
        last = spoofing.post(
            f"{AUTH}/login",
            json=body_for("/login", n),
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
    assert_rate_limited(last)
    proxied = make_app(RATELIMIT_LOGIN="1 per minute", TRUSTED_PROXIES=1).test_client()
    for n in range(2):
        response = proxied.post(
            f"{AUTH}/login",
            json=body_for("/login", n),
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        assert response.status_code == 401


def test_limits_switched_off(make_app):
    client = make_app(
        RATELIMIT_LOGIN="1 per minute", RATELIMIT_ENABLED=False
    ).test_client()
    answers = [
        client.post(f"{AUTH}/login", json=body_for("/login", n)) for n in range(4)
    ]
    assert [r.status_code for r in answers] == [401] * 4


def test_unlimited_endpoints_are_not_counted(make_app):
    client = make_app(RATELIMIT_LOGIN="1 per minute").test_client()
    for _ in range(3):
        assert client.get("/health").status_code == 200
        assert client.get(f"{AUTH}/me").status_code == 401
    assert client.post(f"{AUTH}/login", json=body_for("/login", 1)).status_code == 401


def test_session_app_limits_stay_on_but_generous(app):
    assert app.config["RATELIMIT_ENABLED"] is True
    assert "easytravels.limiter" in app.extensions


# --- two gunicorn workers sharing one budget through Redis -------------------------


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    return client


def _fire_logins(base_url, attempts):
    """`attempts` simultaneous login attempts, each on a fresh connection."""

    def attempt(n):
        return requests.post(
            f"{base_url}{AUTH}/login", json=body_for("/login", n), timeout=20
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=attempts) as pool:
        return list(pool.map(attempt, range(attempts)))


def _fire_until_both_workers_served(base_url, access_log, rounds=30, attempts=12):
    """Rounds of simultaneous login attempts until the access log shows two worker
    pids (at most `rounds`; the budget is per hour, so a slow, loaded machine never
    sees the window roll over); all statuses. A 429 is answered so fast that one
    sync worker can take a whole round on a busy machine, hence the retries."""
    statuses = []
    for _ in range(rounds):
        statuses += _fire_logins(base_url, attempts)
        if len(_served_pids(access_log)) == 2:
            break
    return statuses


def _served_pids(access_log: Path) -> set[str]:
    """Worker pids of the POST lines in a gunicorn access log written as
    "%(p)s %(m)s"."""
    lines = access_log.read_text().splitlines()
    return {line.split()[0] for line in lines if line.split()[1:2] == ["POST"]}


def _server_env(app, storage, prefix, access_log):
    return {
        "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_LOGIN": "5 per hour",
        "RATELIMIT_LOGIN_PER_ACCOUNT": GENEROUS,
        "GUNICORN_CMD_ARGS": (
            f"--access-logfile {access_log} --access-logformat '%(p)s %(m)s'"
        ),
    }


@pytest.mark.redis
def test_two_workers_share_one_budget_through_redis(app, tmp_path):
    redis_client = _redis_or_skip()
    prefix = f"et-test-{uuid.uuid4().hex}"
    access_log = tmp_path / "access.log"
    try:
        env = _server_env(app, REDIS_URL, prefix, access_log)
        with gunicorn_server(workers=2, env=env) as base_url:
            statuses = _fire_until_both_workers_served(base_url, access_log)
        assert statuses.count(401) == 5
        assert statuses.count(429) == len(statuses) - 5 >= 7
        assert len(_served_pids(access_log)) == 2, "both workers answered"
        assert any(redis_client.scan_iter(match=f"*{prefix}*")), (
            "counters live in Redis"
        )
    finally:
        for key in redis_client.scan_iter(match=f"*{prefix}*"):
            redis_client.delete(key)


def test_two_workers_with_memory_storage_have_two_budgets(app, tmp_path):
    """The control experiment: the same attempts against per-process counters get
    more than one budget through, so the Redis test above proves the sharing."""
    access_log = tmp_path / "access.log"
    env = _server_env(app, "memory://", "et-test", access_log)
    with gunicorn_server(workers=2, env=env) as base_url:
        statuses = _fire_until_both_workers_served(base_url, access_log)
    assert len(_served_pids(access_log)) == 2
    assert 5 < statuses.count(401) <= 10
    assert set(statuses) <= {401, 429}
