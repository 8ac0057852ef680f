"""The public development secret is refused at start everywhere except `testing`
and a `make run` development server on loopback (config.check_secrets;
docs/security.md): anyone can forge a bearer token signed with a published key."""

import os
import subprocess
import sys
import time

import jwt as pyjwt
import pytest
import requests

from app import create_app
from config import DEV_SECRET, DEV_SECRET_FLAG
from tests import ROOT
from tests.live import free_port

DB = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
DEFAULTS = {"SECRET_KEY": DEV_SECRET, "JWT_SECRET_KEY": DEV_SECRET}


@pytest.fixture(autouse=True)
def _no_flag(monkeypatch):
    monkeypatch.delenv(DEV_SECRET_FLAG, raising=False)
    monkeypatch.setattr(sys, "argv", ["pytest"])


@pytest.mark.parametrize("name", ["development", "production"])
@pytest.mark.parametrize("which", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_default_secret_refused(name, which):
    overrides = {
        **DB,
        "SECRET_KEY": "s" * 48,
        "JWT_SECRET_KEY": "j" * 48,
        which: DEV_SECRET,
    }
    with pytest.raises(RuntimeError, match=which):
        create_app(name, overrides)


def test_testing_accepts_the_default():
    assert create_app("testing", {**DB, **DEFAULTS}).config["TESTING"] is True


def test_development_on_loopback_by_make_run_accepts_the_default(monkeypatch):
    monkeypatch.setenv(DEV_SECRET_FLAG, "1")
    monkeypatch.setattr(
        sys, "argv", ["flask", "--app", "app", "run", "--host", "127.0.0.1"]
    )
    create_app("development", {**DB, **DEFAULTS})


def test_development_flag_with_public_host_is_refused(monkeypatch):
    monkeypatch.setenv(DEV_SECRET_FLAG, "1")
    monkeypatch.setattr(
        sys, "argv", ["flask", "--app", "app", "run", "--host", "0.0.0.0"]
    )
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("development", {**DB, **DEFAULTS})


def test_development_with_own_secrets_starts():
    create_app(
        "development", {**DB, "SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40}
    )


def _flask_run(env_extra: dict, tmp_path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "JWT_SECRET_KEY", DEV_SECRET_FLAG, "ADMIN_EMAIL")
    }
    env.update(
        {
            "APP_CONFIG": "development",
            "DATABASE_URL": f"sqlite:///{tmp_path}/dev.db",
            "MAIL_SERVER": "",
            **env_extra,
        }
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "app",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}"


def test_development_server_without_secrets_does_not_start(tmp_path):
    """`flask run` in development with the default secret (and no make-run flag)
    exits with the reason instead of serving forgeable tokens."""
    process, _ = _flask_run({}, tmp_path)
    try:
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:  # it served instead of refusing: stop it
            process.kill()
            process.wait(timeout=30)
    assert process.returncode != 0
    assert "SECRET_KEY and JWT_SECRET_KEY must be set" in output


def test_token_forged_with_the_default_secret_is_refused_over_http(tmp_path):
    """A development server with its own secrets refuses a token an attacker signed
    with the published default key."""
    process, base_url = _flask_run(
        {"SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40}, tmp_path
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base_url}/health", timeout=1)
                break
            except requests.RequestException:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.3)
        now = int(time.time())
        forged = pyjwt.encode(
            {
                "sub": "employee:1",
                "iat": now,
                "nbf": now,
                "exp": now + 600,
                "type": "access",
                "jti": "x",
                "fresh": False,
                "role": "admin",
                "account": "employee",
                "sid": "x",
            },
            DEV_SECRET,
            algorithm="HS256",
        )
        response = requests.get(
            f"{base_url}/api/v1/auth/me",
            headers={"Authorization": f"Bearer {forged}"},
            timeout=10,
        )
        assert response.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=30)
