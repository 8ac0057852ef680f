"""Account takeover paths (docs/security.md): email changes need a code mailed to
the new address and confirmed by the account holder (the old address is told; every
session ends), and a password change or reset kills every token issued before it,
also one issued in the same second (services/accounts/email_change.py, auth/tokens.py).
"""

import time

from flask_jwt_extended import decode_token

from auth.tokens import issue_tokens
from core.extensions import db
from models import Customer, Employee, OtpCode
from tests.accounts.conftest import AUTH
from tests.conftest import PASSWORD

ATTACKER_MAILBOX = "attacker@evil.test"


def reset_by_mail(client, mailbox, email: str, account: str) -> int:
    """Ask for a reset code for `email` and use it if one arrives; the status of the
    reset (or 0 when no code was mailed)."""
    before = len(mailbox.to(email))
    client.post(f"{AUTH}/password/forgot", json={"email": email, "account": account})
    if len(mailbox.to(email)) == before:
        return 0
    code = mailbox.last_code(email)
    return client.post(
        f"{AUTH}/password/reset",
        json={
            "email": email,
            "account": account,
            "otp": code,
            "new_password": "taken-over-1",
        },
    ).status_code


def stored_email(app, model, account_id: int) -> str:
    with app.app_context():
        return db.session.get(model, account_id).email


def test_hr_changing_finance_email_cannot_take_the_account_over(
    app, client, actors, mailbox
):
    finance = actors.employee("finance")
    hr = actors.headers("hr")

    response = client.patch(
        f"/api/v1/employees/{finance['id']}",
        json={"email": ATTACKER_MAILBOX},
        headers=hr,
    )

    assert response.status_code == 200
    assert response.json["email"] == finance["email"]
    assert stored_email(app, Employee, finance["id"]) == finance["email"]
    # The code went to the new address, but only finance (logged in) can use it.
    code = mailbox.last_code(ATTACKER_MAILBOX)
    confirm = client.post(f"{AUTH}/email/confirm", json={"otp": code}, headers=hr)
    assert confirm.status_code == 400
    assert reset_by_mail(client, mailbox, ATTACKER_MAILBOX, "employee") == 0
    login = client.post(
        f"{AUTH}/login",
        json={
            "email": ATTACKER_MAILBOX,
            "password": "taken-over-1",
            "account": "employee",
        },
    )
    assert login.status_code == 401


def test_sales_changing_customer_email_cannot_take_the_account_over(
    app, client, actors, mailbox
):
    customer = actors.customer()
    sales = actors.headers("sales")

    response = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"email": ATTACKER_MAILBOX},
        headers=sales,
    )

    assert response.status_code == 200
    assert stored_email(app, Customer, customer["id"]) == customer["email"]
    assert reset_by_mail(client, mailbox, ATTACKER_MAILBOX, "customer") == 0


def test_staff_started_change_applies_when_the_holder_confirms(
    app, client, actors, mailbox
):
    finance = actors.employee("finance")
    client.patch(
        f"/api/v1/employees/{finance['id']}",
        json={"email": "fin.new@staff.test"},
        headers=actors.headers("hr"),
    )
    code = mailbox.last_code("fin.new@staff.test")

    confirm = client.post(
        f"{AUTH}/email/confirm", json={"otp": code}, headers=finance["headers"]
    )

    assert confirm.status_code == 200
    assert stored_email(app, Employee, finance["id"]) == "fin.new@staff.test"
    assert len(mailbox.to(finance["email"])) == 1  # the old address is told


def test_own_email_change_needs_the_code_tells_old_address_ends_sessions(
    app, client, actors, mailbox
):
    me = actors.customer()
    other_session = client.post(
        f"{AUTH}/login",
        json={"email": me["email"], "password": PASSWORD, "account": "customer"},
    ).json

    started = client.post(
        f"{AUTH}/email", json={"email": "Me.New@Example.test"}, headers=me["headers"]
    )
    assert started.status_code == 202
    assert stored_email(app, Customer, me["id"]) == me["email"]
    code = mailbox.last_code("me.new@example.test")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert (
        client.post(
            f"{AUTH}/email/confirm", json={"otp": wrong}, headers=me["headers"]
        ).status_code
        == 400
    )

    confirm = client.post(
        f"{AUTH}/email/confirm", json={"otp": code}, headers=me["headers"]
    )

    assert confirm.status_code == 200
    assert stored_email(app, Customer, me["id"]) == "me.new@example.test"
    notice = mailbox.to(me["email"])
    assert len(notice) == 1 and "changed" in notice[0]["Subject"]
    for old in (
        me["headers"]["Authorization"].split()[1],
        other_session["access_token"],
        other_session["refresh_token"],
    ):
        path = "/refresh" if old == other_session["refresh_token"] else "/me"
        method = client.post if path == "/refresh" else client.get
        assert (
            method(
                f"{AUTH}{path}", headers={"Authorization": f"Bearer {old}"}
            ).status_code
            == 401
        )
    fresh = {"Authorization": f"Bearer {confirm.json['access_token']}"}
    assert client.get(f"{AUTH}/me", headers=fresh).json["profile"]["email"] == (
        "me.new@example.test"
    )


def test_email_change_to_a_taken_address_is_409(client, actors):
    me = actors.customer()
    other = actors.customer()
    response = client.post(
        f"{AUTH}/email", json={"email": other["email"]}, headers=me["headers"]
    )
    assert response.status_code == 409


def test_admin_changes_another_email_at_once_and_old_address_is_told(
    app, client, actors, mailbox
):
    customer = actors.customer()
    response = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"email": "fixed@example.test"},
        headers=actors.headers("admin"),
    )
    assert response.status_code == 200
    assert response.json["email"] == "fixed@example.test"
    assert len(mailbox.to(customer["email"])) == 1
    assert client.get(f"{AUTH}/me", headers=customer["headers"]).status_code == 401


def test_password_reset_kills_a_token_issued_in_the_same_second(
    app, client, actors, mailbox
):
    """The cutoff used to compare whole seconds (`iat < int(cutoff)`): a session
    opened earlier in the same second as a reset survived it."""
    customer = actors.customer()
    body = {"email": customer["email"], "account": "customer"}
    for attempt in range(5):
        mailbox.clear()
        client.post(f"{AUTH}/password/forgot", json=body)
        code = mailbox.last_code(customer["email"])
        time.sleep(1 - time.time() % 1 + 0.01)  # the start of a new second
        with app.app_context():
            token = issue_tokens(db.session.get(Customer, customer["id"]))[
                "access_token"
            ]
        reset = client.post(
            f"{AUTH}/password/reset",
            json={**body, "otp": code, "new_password": f"new-pass-{attempt}"},
        )
        assert reset.status_code == 204
        with app.app_context():
            cutoff = db.session.get(Customer, customer["id"]).tokens_valid_after
            issued = decode_token(token, allow_expired=True)["iat"]
            db.session.execute(db.delete(OtpCode))  # the send budget, for a retry
            db.session.commit()
        if issued == int(cutoff.timestamp()):
            break  # the case the old whole-second comparison let through
    response = client.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_password_change_ends_other_sessions(client, actors, mailbox):
    me = actors.employee("sales")
    other = client.post(
        f"{AUTH}/login",
        json={"email": me["email"], "password": PASSWORD, "account": "employee"},
    ).json
    client.post(
        f"{AUTH}/otp", json={"purpose": "password_change"}, headers=me["headers"]
    )
    code = mailbox.last_code(me["email"])
    changed = client.post(
        f"{AUTH}/password",
        json={"otp": code, "new_password": "new-pass-77"},
        headers=me["headers"],
    )
    assert changed.status_code == 204
    assert (
        client.get(
            f"{AUTH}/me", headers={"Authorization": f"Bearer {other['access_token']}"}
        ).status_code
        == 401
    )
    assert (
        client.post(
            f"{AUTH}/refresh",
            headers={"Authorization": f"Bearer {other['refresh_token']}"},
        ).status_code
        == 401
    )
