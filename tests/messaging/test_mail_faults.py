"""SMTP faults: a mail server that is down, or that accepts the TCP
connection and then never answers, turns an OTP request into 503 in the problem
shape within MAIL_TIMEOUT and leaves no usable code; booking mail (the "seats held"
notice) goes through the outbox, so a hanging SMTP server never holds the booking.
tests/accounts/test_otp.py covers the plain "connection refused" case."""

import contextlib
import time

import pytest
from sqlalchemy import select

from core.extensions import db
from models import Booking, OtpCode, OutboxMessage
from tests.conftest import StallingSmtp
from tests.factories import make_plain_departure

AUTH = "/api/v1/auth"
MAIL_TIMEOUT = 1.0
# The request may take MAIL_TIMEOUT for the stalled step plus a little work.
BOUND = MAIL_TIMEOUT + 3.0


@contextlib.contextmanager
def mail_pointed_at(app, port: int):
    """Point Flask-Mail at `port` with MAIL_TIMEOUT seconds; restore afterwards."""
    state = app.extensions["mail"]
    original_port, original_timeout = state.port, app.config.get("MAIL_TIMEOUT")
    state.port, app.config["MAIL_TIMEOUT"] = port, MAIL_TIMEOUT
    try:
        yield
    finally:
        state.port, app.config["MAIL_TIMEOUT"] = original_port, original_timeout


def timed_post(client, path, **kwargs):
    """POST and return (response, seconds it took)."""
    started = time.monotonic()
    response = client.post(path, **kwargs)
    return response, time.monotonic() - started


def assert_no_usable_code(app):
    with app.app_context():
        codes = db.session.scalars(select(OtpCode)).all()
        assert codes and all(code.voided_at is not None for code in codes)


@pytest.mark.parametrize(
    "greeting",
    [None, b"220 stall.test ESMTP\r\n"],
    ids=["silent-after-connect", "silent-after-greeting"],
)
def test_otp_smtp_hangs_503_within_timeout_and_no_usable_code(
    client, actors, app, mailbox, greeting
):
    emp = actors.employee("sales")
    with StallingSmtp(greeting) as server, mail_pointed_at(app, server.port):
        response, took = timed_post(
            client,
            f"{AUTH}/otp",
            json={"purpose": "password_change"},
            headers=emp["headers"],
        )
        assert server.accepted, "the client never reached the stalling server"
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 503 and body["type"] == "/problems/mail-unavailable"
    assert MAIL_TIMEOUT * 0.9 <= took < BOUND
    assert_no_usable_code(app)
    assert mailbox.messages == []


def test_otp_login_request_smtp_hangs_202_in_budget_and_no_usable_code(
    client, actors, app, mailbox
):
    """The anonymous code request answers like one for an unknown email (202 after
    OTP_REQUEST_SECONDS: a 503 would reveal the account); the send gives up in the
    background within MAIL_TIMEOUT and voids the code."""
    cust = actors.customer()
    with StallingSmtp() as server, mail_pointed_at(app, server.port):
        response, took = timed_post(
            client,
            f"{AUTH}/login/otp",
            json={"email": cust["email"], "account": "customer"},
        )
        assert response.status_code == 202
        assert took < app.config["OTP_REQUEST_SECONDS"] + 0.5
        time.sleep(MAIL_TIMEOUT + 1.0)
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        with app.app_context():
            if all(c.voided_at for c in db.session.scalars(select(OtpCode)).all()):
                break
        time.sleep(0.1)
    assert_no_usable_code(app)


def test_otp_smtp_back_after_hang_code_mailed(client, actors, app, mailbox):
    emp = actors.employee("sales")
    with StallingSmtp() as server, mail_pointed_at(app, server.port):
        first = client.post(
            f"{AUTH}/otp", json={"purpose": "password_change"}, headers=emp["headers"]
        )
    assert first.status_code == 503
    app.config["OTP_SENDS_PER_MINUTE"], saved = 10, app.config["OTP_SENDS_PER_MINUTE"]
    try:
        again = client.post(
            f"{AUTH}/otp", json={"purpose": "password_change"}, headers=emp["headers"]
        )
    finally:
        app.config["OTP_SENDS_PER_MINUTE"] = saved
    assert again.status_code in (200, 202, 204), again.get_json()
    assert len(mailbox.to(emp["email"])) == 1


def test_booking_smtp_hangs_booking_still_created(client, actors, app, mailbox):
    cust = actors.customer()
    departure_id = make_plain_departure(app, capacity=5)
    with StallingSmtp() as server, mail_pointed_at(app, server.port):
        response, took = timed_post(
            client,
            "/api/v1/bookings",
            json={"departure_id": departure_id, "seats": 2},
            headers=cust["headers"],
        )
        # the request never touched SMTP: the mail waits in the outbox
        assert server.accepted == []
    assert response.status_code == 201, response.get_json()
    assert took < MAIL_TIMEOUT  # no SMTP wait at all (bench/outbox_latency.py measures)
    with app.app_context():
        booking = db.session.get(Booking, response.get_json()["id"])
        assert booking.status == "held" and booking.departure.seats_taken == 2
        [row] = db.session.scalars(select(OutboxMessage)).all()
        assert (row.topic, row.state) == ("booking_held", "pending")
    assert len(mailbox.to(cust["email"])) == 1  # delivered once SMTP answers
