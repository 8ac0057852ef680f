"""OTP flows over a real SMTP server (aiosmtpd): password change, forgot/reset,
passwordless login; single use, 5 wrong tries, expiry, send limits, no enumeration
(docs/design.md "Rules with numbers": OTP)."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.extensions import db
from models import Employee, OtpCode
from models.base import utcnow
from tests.accounts.conftest import AUTH, login
from tests.conftest import PASSWORD


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_password_change_mail_reaches_smtp_and_code_works_once(
    client, actors, mailbox, app
):
    emp = actors.employee("sales")
    response = client.post(
        f"{AUTH}/otp", json={"purpose": "password_change"}, headers=emp["headers"]
    )
    assert response.status_code == 202
    messages = mailbox.to(emp["email"])
    assert len(messages) == 1
    assert "password change" in messages[0]["Subject"]
    code = mailbox.last_code(emp["email"])
    with app.app_context():
        stored = db.session.scalar(select(OtpCode))
        assert stored.code_hash != code and len(stored.code_hash) == 64
        assert stored.expires_at - stored.created_at == timedelta(minutes=10)

    body = {"otp": code, "new_password": "brand-new-password"}
    assert (
        client.post(f"{AUTH}/password", json=body, headers=emp["headers"]).status_code
        == 204
    )
    assert login(client, emp["email"], "brand-new-password").status_code == 200
    assert login(client, emp["email"], PASSWORD).status_code == 401
    # Old tokens were ended by the password change; a fresh login is needed.
    fresh = login(client, emp["email"], "brand-new-password").get_json()["access_token"]
    again = client.post(
        f"{AUTH}/password",
        json={"otp": code, "new_password": "another-password"},
        headers={"Authorization": f"Bearer {fresh}"},
    )
    assert again.status_code == 400
    assert again.get_json()["type"] == "/problems/otp-invalid"


def test_password_change_requires_login(client):
    assert (
        client.post(f"{AUTH}/otp", json={"purpose": "password_change"}).status_code
        == 401
    )
    body = {"otp": "123456", "new_password": "whatever-long"}
    assert client.post(f"{AUTH}/password", json=body).status_code == 401


def test_password_change_short_password_422_and_code_not_spent(client, actors, mailbox):
    cust = actors.customer()
    client.post(
        f"{AUTH}/otp", json={"purpose": "password_change"}, headers=cust["headers"]
    )
    code = mailbox.last_code(cust["email"])
    short = client.post(
        f"{AUTH}/password",
        json={"otp": code, "new_password": "short"},
        headers=cust["headers"],
    )
    assert short.status_code == 422
    assert "new_password" in short.get_json()["errors"]
    ok = client.post(
        f"{AUTH}/password",
        json={"otp": code, "new_password": "long-enough-now"},
        headers=cust["headers"],
    )
    assert ok.status_code == 204


def test_five_wrong_tries_void_the_code(client, actors, mailbox, app):
    cust = actors.customer()
    client.post(
        f"{AUTH}/password/forgot", json={"email": cust["email"], "account": "customer"}
    )
    code = mailbox.last_code(cust["email"])
    body = {
        "email": cust["email"],
        "account": "customer",
        "new_password": "new-password-1",
    }
    for _ in range(5):
        response = client.post(
            f"{AUTH}/password/reset", json={**body, "otp": wrong_code(code)}
        )
        assert response.status_code == 400
    response = client.post(f"{AUTH}/password/reset", json={**body, "otp": code})
    assert response.status_code == 400
    with app.app_context():
        stored = db.session.scalar(select(OtpCode))
        # Every guess counts (the sixth too), only the first five are checked.
        assert (
            stored.attempts == 6
            and stored.voided_at is not None
            and stored.used_at is None
        )
    assert login(client, cust["email"], "new-password-1", "customer").status_code == 401


def test_four_wrong_tries_then_right_code_works(client, actors, mailbox):
    cust = actors.customer()
    client.post(
        f"{AUTH}/password/forgot", json={"email": cust["email"], "account": "customer"}
    )
    code = mailbox.last_code(cust["email"])
    body = {
        "email": cust["email"],
        "account": "customer",
        "new_password": "new-password-1",
    }
    for _ in range(4):
        client.post(f"{AUTH}/password/reset", json={**body, "otp": wrong_code(code)})
    assert (
        client.post(f"{AUTH}/password/reset", json={**body, "otp": code}).status_code
        == 204
    )
    assert login(client, cust["email"], "new-password-1", "customer").status_code == 200


def test_expired_code_refused(client, actors, mailbox, app):
    emp = actors.employee("hr")
    client.post(
        f"{AUTH}/password/forgot", json={"email": emp["email"], "account": "employee"}
    )
    code = mailbox.last_code(emp["email"])
    with app.app_context():
        db.session.execute(
            update(OtpCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    body = {
        "email": emp["email"],
        "account": "employee",
        "otp": code,
        "new_password": "new-pass-123",
    }
    response = client.post(f"{AUTH}/password/reset", json=body)
    assert response.status_code == 400
    assert login(client, emp["email"], PASSWORD).status_code == 200


def test_forgot_answers_the_same_for_unknown_email(client, actors, mailbox):
    emp = actors.employee("sales")
    known = client.post(
        f"{AUTH}/password/forgot", json={"email": emp["email"], "account": "employee"}
    )
    unknown = client.post(
        f"{AUTH}/password/forgot",
        json={"email": "ghost@example.test", "account": "employee"},
    )
    wrong_kind = client.post(
        f"{AUTH}/password/forgot", json={"email": emp["email"], "account": "customer"}
    )
    assert known.status_code == unknown.status_code == wrong_kind.status_code == 202
    assert known.get_json() == unknown.get_json() == wrong_kind.get_json()
    assert len(mailbox.messages) == 1
    assert mailbox.to("ghost@example.test") == []


def test_forgot_over_budget_still_202_but_no_mail(client, actors, mailbox):
    emp = actors.employee("sales")
    body = {"email": emp["email"], "account": "employee"}
    first = client.post(f"{AUTH}/password/forgot", json=body)
    second = client.post(f"{AUTH}/password/forgot", json=body)
    assert first.status_code == second.status_code == 202
    assert len(mailbox.to(emp["email"])) == 1


def test_otp_send_limit_one_per_minute_429_with_retry_after(client, actors, mailbox):
    emp = actors.employee("finance")
    payload = {"purpose": "password_change"}
    assert (
        client.post(f"{AUTH}/otp", json=payload, headers=emp["headers"]).status_code
        == 202
    )
    response = client.post(f"{AUTH}/otp", json=payload, headers=emp["headers"])
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.mimetype == "application/problem+json"
    assert len(mailbox.to(emp["email"])) == 1


def test_otp_send_limit_five_per_hour(client, actors, mailbox, app):
    emp = actors.employee("finance")
    payload = {"purpose": "password_change"}
    for minutes_ago in (50, 40, 30, 20, 10):
        assert (
            client.post(f"{AUTH}/otp", json=payload, headers=emp["headers"]).status_code
            == 202
        )
        with app.app_context():  # age the newest code so only the hourly budget applies
            newest = db.session.scalar(select(OtpCode).order_by(OtpCode.id.desc()))
            newest.created_at = utcnow() - timedelta(minutes=minutes_ago)
            db.session.commit()
    response = client.post(f"{AUTH}/otp", json=payload, headers=emp["headers"])
    assert response.status_code == 429
    # The oldest of the five was sent 50 minutes ago: free again in 10 minutes.
    assert 590 < int(response.headers["Retry-After"]) <= 600


def test_new_code_voids_the_previous_one(client, actors, mailbox, app):
    cust = actors.customer()
    body = {"email": cust["email"], "account": "customer"}
    client.post(f"{AUTH}/login/otp", json=body)
    first = mailbox.last_code(cust["email"])
    with app.app_context():
        db.session.execute(
            update(OtpCode).values(created_at=utcnow() - timedelta(minutes=2))
        )
        db.session.commit()
    client.post(f"{AUTH}/login/otp", json=body)
    second = mailbox.last_code(cust["email"])
    if first != second:
        assert (
            client.post(
                f"{AUTH}/login/otp/verify", json={**body, "otp": first}
            ).status_code
            == 400
        )
    assert (
        client.post(
            f"{AUTH}/login/otp/verify", json={**body, "otp": second}
        ).status_code
        == 200
    )


def test_passwordless_login_gives_tokens_once(client, actors, mailbox):
    emp = actors.employee("operation")
    body = {"email": emp["email"], "account": "employee"}
    assert client.post(f"{AUTH}/login/otp", json=body).status_code == 202
    assert "sign-in" in mailbox.to(emp["email"])[-1]["Subject"]
    code = mailbox.last_code(emp["email"])
    response = client.post(f"{AUTH}/login/otp/verify", json={**body, "otp": code})
    assert response.status_code == 200
    token = response.get_json()["access_token"]
    me = client.get(
        f"{AUTH}/me", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert me["profile"]["id"] == emp["id"]
    assert (
        client.post(f"{AUTH}/login/otp/verify", json={**body, "otp": code}).status_code
        == 400
    )


def test_login_code_cannot_reset_password(client, actors, mailbox):
    cust = actors.customer()
    client.post(
        f"{AUTH}/login/otp", json={"email": cust["email"], "account": "customer"}
    )
    code = mailbox.last_code(cust["email"])
    body = {
        "email": cust["email"],
        "account": "customer",
        "otp": code,
        "new_password": "x" * 10,
    }
    assert client.post(f"{AUTH}/password/reset", json=body).status_code == 400


def test_login_otp_unknown_email_same_answer_no_mail(client, mailbox):
    response = client.post(
        f"{AUTH}/login/otp", json={"email": "no@example.test", "account": "customer"}
    )
    assert response.status_code == 202
    assert mailbox.messages == []
    verify = client.post(
        f"{AUTH}/login/otp/verify",
        json={"email": "no@example.test", "account": "customer", "otp": "123456"},
    )
    assert verify.status_code == 400


def test_reset_sets_password_for_customer_registered_without_one(client, app, mailbox):
    from models import Customer

    with app.app_context():
        db.session.add(Customer(name="Walk In", email="walkin@example.test"))
        db.session.commit()
    client.post(
        f"{AUTH}/password/forgot",
        json={"email": "walkin@example.test", "account": "customer"},
    )
    code = mailbox.last_code("walkin@example.test")
    body = {
        "email": "walkin@example.test",
        "account": "customer",
        "otp": code,
        "new_password": "my-first-pass",
    }
    assert client.post(f"{AUTH}/password/reset", json=body).status_code == 204
    assert (
        login(client, "walkin@example.test", "my-first-pass", "customer").status_code
        == 200
    )


@pytest.mark.parametrize("otp", ["12345", "1234567", "abcdef", 123456, None])
def test_otp_format_validated_422(client, otp):
    body = {"email": "a@example.test", "account": "customer", "otp": otp}
    response = client.post(f"{AUTH}/login/otp/verify", json=body)
    assert response.status_code == 422
    assert "otp" in response.get_json()["errors"]


def test_smtp_down_503_and_no_usable_code(client, actors, app, mailbox):
    emp = actors.employee("sales")
    original = app.extensions["mail"].port
    app.extensions["mail"].port = 1  # nothing listens there
    try:
        response = client.post(
            f"{AUTH}/otp", json={"purpose": "password_change"}, headers=emp["headers"]
        )
    finally:
        app.extensions["mail"].port = original
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    with app.app_context():
        codes = db.session.scalars(select(OtpCode)).all()
        assert len(codes) == 1 and codes[0].voided_at is not None


def test_dev_without_smtp_writes_mail_to_log(caplog, actors, app, mailbox):
    emp = actors.employee("hr")
    app.config["MAIL_SERVER"] = ""
    try:
        with caplog.at_level("INFO", logger="easytravels.mail"):
            response = app.test_client().post(
                f"{AUTH}/password/forgot",
                json={"email": emp["email"], "account": "employee"},
            )
    finally:
        app.config["MAIL_SERVER"] = "127.0.0.1"
    assert response.status_code == 202
    assert mailbox.messages == []
    assert any("Your code is" in record.getMessage() for record in caplog.records)
    with app.app_context():
        assert db.session.get(Employee, emp["id"]) is not None
