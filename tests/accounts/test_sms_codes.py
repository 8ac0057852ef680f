"""One-time codes by SMS through a real local Twilio-compatible server
(tests/twilio_support.py): password change and sign-in with a texted code, E.164
numbers, no enumeration, provider failure, the shared send budget, the development
log sink and the production settings check (docs/security.md "One-time codes by
SMS")."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config import ProductionConfig
from core.extensions import db
from models import OtpCode
from tests.accounts.conftest import AUTH, login
from tests.conftest import StallingSmtp
from tests.twilio_support import ACCOUNT_SID, AUTH_TOKEN, FROM

# Accounts whose holder confirmed the phone (POST /auth/phone/confirm) get codes.
CONFIRMED = datetime(2026, 1, 1, tzinfo=UTC)
MOBILE = "+353 87 123 4567"
MOBILE_E164 = "+353871234567"


def wait_for_messages(server, number: str, count: int = 1) -> list[dict]:
    """The messages to `number` once `count` have arrived (the anonymous request
    may leave its send to finish in the background); at most 5 s."""
    deadline = time.monotonic() + 5
    while len(server.to(number)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return server.to(number)


def text_password_code(client, headers):
    """POST /auth/otp asking a password-change code by SMS."""
    return client.post(
        f"{AUTH}/otp",
        json={"purpose": "password_change", "channel": "sms"},
        headers=headers,
    )


def codes(app) -> list[OtpCode]:
    with app.app_context():
        return db.session.scalars(select(OtpCode).order_by(OtpCode.id)).all()


def test_password_change_code_by_sms_reaches_twilio_and_changes_the_password(
    client, actors, sms_server, mailbox
):
    emp = actors.employee("sales", phone=MOBILE, phone_confirmed_at=CONFIRMED)
    response = text_password_code(client, emp["headers"])
    assert response.status_code == 202
    assert response.get_json() == {
        "detail": "A code has been sent to your phone by SMS."
    }
    [message] = sms_server.to(MOBILE_E164)
    assert message["from"] == FROM and message["status"] == "queued"
    assert "password change code" in message["body"]
    [request] = sms_server.requests
    assert request["auth"] == (ACCOUNT_SID, AUTH_TOKEN)
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert mailbox.to(emp["email"]) == []

    body = {"otp": sms_server.last_code(MOBILE_E164), "new_password": "texted-password"}
    changed = client.post(f"{AUTH}/password", json=body, headers=emp["headers"])
    assert changed.status_code == 204
    assert login(client, emp["email"], "texted-password").status_code == 200


def test_sign_in_code_by_sms_logs_in(client, actors, sms_server):
    cust = actors.customer(phone=MOBILE, phone_confirmed_at=CONFIRMED)
    request = {"email": cust["email"], "account": "customer", "channel": "sms"}
    response = client.post(f"{AUTH}/login/otp", json=request)
    assert response.status_code == 202
    [message] = wait_for_messages(sms_server, MOBILE_E164)
    assert "sign-in code" in message["body"]

    verify = client.post(
        f"{AUTH}/login/otp/verify",
        json={
            "email": cust["email"],
            "account": "customer",
            "otp": sms_server.last_code(MOBILE_E164),
        },
    )
    assert verify.status_code == 200
    assert verify.get_json()["access_token"] and verify.get_json()["refresh_token"]


def test_sign_in_by_sms_same_answer_for_unknown_and_phoneless_accounts(
    client, actors, sms_server, app
):
    with_phone = actors.customer(phone=MOBILE, phone_confirmed_at=CONFIRMED)
    without_phone = actors.customer()
    answers = [
        client.post(
            f"{AUTH}/login/otp",
            json={"email": email, "account": "customer", "channel": "sms"},
        )
        for email in (
            with_phone["email"],
            "nobody@example.test",
            without_phone["email"],
        )
    ]
    assert {a.status_code for a in answers} == {202}
    assert len({a.get_data() for a in answers}) == 1
    assert len(wait_for_messages(sms_server, MOBILE_E164)) == 1
    time.sleep(0.1)
    assert len(sms_server.messages) == 1
    assert [c.account_id for c in codes(app)] == [with_phone["id"]]


@pytest.mark.parametrize(
    ("region", "phone", "expected"),
    [
        ("IE", "087 123 4567", "+353871234567"),
        ("IE", "00353 87 123 4567", "+353871234567"),
        ("GB", "020 7946 0958", "+442079460958"),
    ],
)
def test_national_numbers_are_sent_in_e164(
    client, actors, sms_server, app, monkeypatch, region, phone, expected
):
    monkeypatch.setitem(app.config, "DEFAULT_PHONE_REGION", region)
    emp = actors.employee("hr", phone=phone, phone_confirmed_at=CONFIRMED)
    response = text_password_code(client, emp["headers"])
    assert response.status_code == 202
    assert [m["to"] for m in sms_server.messages] == [expected]


@pytest.mark.parametrize("phone", [None, "", "12", "not a number"])
def test_sms_code_without_a_usable_phone_is_422(client, actors, sms_server, app, phone):
    emp = actors.employee("finance", phone=phone, phone_confirmed_at=CONFIRMED)
    response = text_password_code(client, emp["headers"])
    assert response.status_code == 422
    assert "phone" in response.get_json()["errors"]
    assert sms_server.messages == [] and codes(app) == []


def test_provider_failure_is_503_and_the_code_is_void(client, actors, sms_server, app):
    emp = actors.employee("sales", phone=MOBILE, phone_confirmed_at=CONFIRMED)
    sms_server.fail_status = 500
    response = text_password_code(client, emp["headers"])
    assert response.status_code == 503
    assert response.get_json()["type"] == "/problems/sms-unavailable"
    [code] = codes(app)
    assert code.voided_at is not None
    assert sms_server.messages == [] and len(sms_server.requests) == 1


def test_silent_provider_is_503_after_the_timeout(
    client, actors, sms_server, app, monkeypatch
):
    emp = actors.employee("sales", phone=MOBILE, phone_confirmed_at=CONFIRMED)
    with StallingSmtp() as silent:  # accepts the connection, never answers
        monkeypatch.setitem(
            app.config, "TWILIO_API_BASE", f"http://127.0.0.1:{silent.port}"
        )
        monkeypatch.setitem(app.config, "SMS_TIMEOUT", 0.5)
        started = time.monotonic()
        response = text_password_code(client, emp["headers"])
    assert response.status_code == 503
    assert time.monotonic() - started < 5
    assert codes(app)[0].voided_at is not None


def test_provider_failure_on_sign_in_is_silent_and_voids_the_code(
    client, actors, sms_server, app
):
    cust = actors.customer(phone=MOBILE, phone_confirmed_at=CONFIRMED)
    sms_server.fail_status = 500
    response = client.post(
        f"{AUTH}/login/otp",
        json={"email": cust["email"], "account": "customer", "channel": "sms"},
    )
    assert response.status_code == 202
    deadline = time.monotonic() + 5
    while codes(app)[0].voided_at is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert codes(app)[0].voided_at is not None


def test_no_sms_provider_is_503(client, actors, sms_server, app, monkeypatch):
    emp = actors.employee("sales", phone=MOBILE, phone_confirmed_at=CONFIRMED)
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "")  # production without SMS
    response = text_password_code(client, emp["headers"])
    assert response.status_code == 503
    assert response.get_json()["type"] == "/problems/sms-unavailable"
    assert sms_server.requests == []


def test_sms_and_mail_codes_share_the_send_budget(client, actors, sms_server, mailbox):
    emp = actors.employee("finance", phone=MOBILE, phone_confirmed_at=CONFIRMED)
    sms = {"purpose": "password_change", "channel": "sms"}
    assert (
        client.post(f"{AUTH}/otp", json=sms, headers=emp["headers"]).status_code == 202
    )
    again = client.post(f"{AUTH}/otp", json=sms, headers=emp["headers"])
    assert again.status_code == 429
    assert 0 < int(again.headers["Retry-After"]) <= 60
    by_mail = client.post(
        f"{AUTH}/otp", json={"purpose": "password_change"}, headers=emp["headers"]
    )
    assert by_mail.status_code == 429
    assert len(sms_server.messages) == 1 and mailbox.to(emp["email"]) == []


def test_sms_code_counts_wrong_tries_like_a_mailed_one(client, actors, sms_server):
    emp = actors.employee("sales", phone=MOBILE, phone_confirmed_at=CONFIRMED)
    text_password_code(client, emp["headers"])
    code = sms_server.last_code(MOBILE_E164)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        body = {"otp": wrong, "new_password": "never-stored-1"}
        client.post(f"{AUTH}/password", json=body, headers=emp["headers"])
    body = {"otp": code, "new_password": "never-stored-1"}
    late = client.post(f"{AUTH}/password", json=body, headers=emp["headers"])
    assert late.status_code == 400


@pytest.mark.parametrize("channel", ["fax", "", "SMS", None])
def test_unknown_channel_is_422(client, actors, channel):
    emp = actors.employee("sales", phone=MOBILE, phone_confirmed_at=CONFIRMED)
    logged_in = client.post(
        f"{AUTH}/otp",
        json={"purpose": "password_change", "channel": channel},
        headers=emp["headers"],
    )
    anonymous = client.post(
        f"{AUTH}/login/otp",
        json={"email": emp["email"], "account": "employee", "channel": channel},
    )
    for response in (logged_in, anonymous):
        assert response.status_code == 422
        assert "channel" in response.get_json()["errors"]


def test_log_provider_writes_the_code_to_the_log(
    client, actors, app, caplog, monkeypatch
):
    emp = actors.employee("hr", phone=MOBILE, phone_confirmed_at=CONFIRMED)
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "log")
    with caplog.at_level("INFO", logger="easytravels.sms"):
        response = text_password_code(client, emp["headers"])
    assert response.status_code == 202
    [record] = [r for r in caplog.records if r.name == "easytravels.sms.outbox"]
    assert MOBILE_E164 in record.getMessage()
    assert "password change code: " in record.getMessage()
    assert record.getMessage().split("code: ")[1][:6].isdigit()


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"SMS_PROVIDER": "log"}, "SMS_PROVIDER=log is not allowed"),
        ({"SMS_PROVIDER": "carrier-pigeon"}, "is not allowed"),
        (
            {"SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": "AC1"},
            "TWILIO_AUTH_TOKEN, TWILIO_FROM are not set",
        ),
    ],
)
def test_production_refuses_unsafe_sms_settings(settings, error):
    with pytest.raises(RuntimeError, match=error):
        ProductionConfig.validate_sms(settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"SMS_PROVIDER": ""},
        {
            "SMS_PROVIDER": "twilio",
            "TWILIO_ACCOUNT_SID": "AC1",
            "TWILIO_AUTH_TOKEN": "t",
            "TWILIO_FROM": "+15005550006",
        },
    ],
)
def test_production_accepts_no_sms_or_complete_twilio_settings(settings):
    ProductionConfig.validate_sms(settings)


def test_twilio_edge_in_the_environment_does_not_move_the_base_url(
    client, actors, sms_server, monkeypatch
):
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    emp = actors.employee("sales", phone=MOBILE, phone_confirmed_at=CONFIRMED)
    response = text_password_code(client, emp["headers"])
    assert response.status_code == 202
    assert len(sms_server.to(MOBILE_E164)) == 1


# --- the phone is confirmed by its holder ---------------------------------------


def sign_in_by_sms(client, email):
    return client.post(
        f"{AUTH}/login/otp",
        json={"email": email, "account": "customer", "channel": "sms"},
    )


def test_a_phone_set_by_staff_never_receives_a_sign_in_code(
    client, actors, sms_server, app
):
    cust = actors.customer()
    sales = actors.headers("sales")
    changed = client.patch(
        f"/api/v1/customers/{cust['id']}", json={"phone": MOBILE}, headers=sales
    )
    assert changed.status_code == 200, changed.json

    answer = sign_in_by_sms(client, cust["email"])
    time.sleep(0.3)

    assert answer.status_code == 202
    assert sms_server.messages == [] and codes(app) == []


def test_an_unconfirmed_phone_gets_no_password_code(client, actors, sms_server, app):
    emp = actors.employee("sales", phone=MOBILE)

    response = text_password_code(client, emp["headers"])

    assert response.status_code == 422
    assert "Confirm your phone" in response.get_json()["errors"]["phone"][0]
    assert sms_server.messages == []


def test_the_holder_confirms_the_phone_then_signs_in_by_sms(
    client, actors, sms_server, app
):
    cust = actors.customer(phone=MOBILE)
    asked = client.post(
        f"{AUTH}/otp",
        json={"purpose": "phone_confirm", "channel": "sms"},
        headers=cust["headers"],
    )
    assert asked.status_code == 202, asked.json
    code = sms_server.last_code(MOBILE_E164)

    confirmed = client.post(
        f"{AUTH}/phone/confirm", json={"otp": code}, headers=cust["headers"]
    )
    sms_server.reset()
    with app.app_context():  # past the one-send-a-minute budget
        for sent in db.session.scalars(select(OtpCode)):
            sent.created_at -= timedelta(minutes=2)
        db.session.commit()
    answer = sign_in_by_sms(client, cust["email"])
    [message] = wait_for_messages(sms_server, MOBILE_E164)

    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["profile"]["phone_confirmed_at"]
    assert answer.status_code == 202 and "sign-in code" in message["body"]


def test_changing_the_phone_clears_its_confirmation(client, actors, sms_server, app):
    cust = actors.customer(phone=MOBILE, phone_confirmed_at=CONFIRMED)
    sales = actors.headers("sales")

    client.patch(
        f"/api/v1/customers/{cust['id']}",
        json={"phone": "+353 87 765 4321"},
        headers=sales,
    )
    shown = client.get(f"/api/v1/customers/{cust['id']}", headers=sales).json
    answer = sign_in_by_sms(client, cust["email"])
    time.sleep(0.3)

    assert shown["phone_confirmed_at"] is None
    assert answer.status_code == 202 and sms_server.messages == []


def test_a_wrong_confirmation_code_confirms_nothing(client, actors, sms_server):
    cust = actors.customer(phone=MOBILE)
    client.post(
        f"{AUTH}/otp",
        json={"purpose": "phone_confirm", "channel": "sms"},
        headers=cust["headers"],
    )

    wrong = client.post(
        f"{AUTH}/phone/confirm", json={"otp": "000000"}, headers=cust["headers"]
    )
    me = client.get(f"{AUTH}/me", headers=cust["headers"]).json

    assert wrong.status_code == 400
    assert me["profile"]["phone_confirmed_at"] is None


def test_a_phone_is_confirmed_by_sms_only(client, actors, sms_server):
    cust = actors.customer(phone=MOBILE)

    response = client.post(
        f"{AUTH}/otp",
        json={"purpose": "phone_confirm", "channel": "email"},
        headers=cust["headers"],
    )

    assert response.status_code == 422
    assert "channel" in response.get_json()["errors"]
