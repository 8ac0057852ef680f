"""The OTP try limit under real concurrency (docs/design.md "Rules with numbers": OTP, 5
wrong tries void the code): 30 simultaneous wrong guesses against one code, sent to
a 4-worker gunicorn on PostgreSQL, count as 30 tries (one atomic counter) and the
code is void afterwards, so the right code no longer works (auth/otp.py)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from core.extensions import db
from models import OtpCode
from tests import live
from tests.accounts.conftest import AUTH
from tests.live import gunicorn_server

pytestmark = pytest.mark.postgres

GUESSES = 30


def test_thirty_parallel_wrong_guesses_count_thirty_tries_and_void_the_code(
    app, client, actors, mailbox, monkeypatch
):
    monkeypatch.setattr(live, "START_TIMEOUT", 120.0)  # 4 workers on a busy machine
    customer = actors.customer()
    body = {"email": customer["email"], "account": "customer"}
    client.post(f"{AUTH}/password/forgot", json=body)
    code = mailbox.last_code(customer["email"])
    wrong = [f"{(int(code) + n) % 10**6:06d}" for n in range(1, GUESSES + 1)]
    barrier = threading.Barrier(GUESSES)

    def guess(otp: str) -> int:
        with requests.Session() as session:
            barrier.wait(timeout=60)
            return session.post(
                f"{base_url}{AUTH}/password/reset",
                json={**body, "otp": otp, "new_password": "guessed-password-1"},
                timeout=120,
            ).status_code

    with (
        gunicorn_server(workers=4, threads=2) as base_url,
        ThreadPoolExecutor(max_workers=GUESSES) as pool,
    ):
        statuses = list(pool.map(guess, wrong))

    assert statuses == [400] * GUESSES
    with app.app_context():
        stored = db.session.scalar(select(OtpCode))
        assert stored.attempts == GUESSES
        assert stored.voided_at is not None and stored.used_at is None
    late = client.post(
        f"{AUTH}/password/reset",
        json={**body, "otp": code, "new_password": "guessed-password-1"},
    )
    assert late.status_code == 400
