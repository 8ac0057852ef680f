"""GET/POST /api/v1/customers/<id>/wallet: balance and ledger (newest first,
paginated), staff adjustments with a reason, never negative, ledger sum == balance,
ownership and roles (docs/design.md "Lifecycles": wallet)."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from models import WalletEntry
from tests.factories import API, make_invoiced_booking, one_page_meta, pay
from tests.payments.conftest import fund_wallet, wallet_state

D = Decimal


def wallet_url(customer_id) -> str:
    return f"{API}/customers/{customer_id}/wallet"


def adjust(client, headers, customer_id, amount, reason="goodwill"):
    return client.post(
        wallet_url(customer_id),
        json={"amount": amount, "reason": reason},
        headers=headers,
    )


def test_get_own_wallet_ledger_newest_first(app, client, actors):
    me = actors.customer()
    fund_wallet(app, me["id"], "100.00")
    booking_id = make_invoiced_booking(app, customer_id=me["id"], total="30.00")
    assert (
        pay(client, me["headers"], booking_id, "30.00", method="wallet").status_code
        == 201
    )

    resp = client.get(wallet_url(me["id"]), headers=me["headers"])

    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["customer_id"], body["balance"], body["currency"]) == (
        me["id"],
        "70.00",
        "EUR",
    )
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in body["entries"]] == [
        ("payment_debit", "-30.00", "70.00"),
        ("adjustment", "100.00", "100.00"),
    ]
    debit = body["entries"][0]
    assert debit["booking_id"] == booking_id and debit["payment_id"] is not None
    assert debit["refund_id"] is None and debit["reason"].startswith(
        "Payment for booking"
    )
    assert body["meta"] == one_page_meta(2)


def test_get_wallet_paginates(app, client, actors):
    me = actors.customer()
    for amount in ("1.00", "2.00", "3.00"):
        fund_wallet(app, me["id"], amount)

    body = client.get(
        f"{wallet_url(me['id'])}?per_page=2&page=2", headers=me["headers"]
    ).get_json()

    assert [e["amount"] for e in body["entries"]] == ["1.00"]
    assert body["meta"] == {
        "page": 2,
        "per_page": 2,
        "total": 3,
        "pages": 2,
        "has_more": False,
        "next_cursor": None,
        "total_is_estimate": False,
    }
    assert body["balance"] == "6.00"


def test_get_empty_wallet(app, client, actors):
    me = actors.customer()
    body = client.get(
        wallet_url(me["id"]), headers=actors.headers("finance")
    ).get_json()
    assert (body["balance"], body["entries"], body["meta"]["total"]) == ("0.00", [], 0)


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_get_wallet_staff_sees_any(app, client, actors, role):
    customer = actors.customer()
    fund_wallet(app, customer["id"], "12.34")

    resp = client.get(wallet_url(customer["id"]), headers=actors.headers(role))

    assert resp.status_code == 200 and resp.get_json()["balance"] == "12.34"
    assert (
        client.get(wallet_url(999999), headers=actors.headers(role)).status_code == 404
    )


@pytest.mark.parametrize("role", ["sales", "hr", "operation", "operation_head"])
def test_wallet_other_roles_403(app, client, actors, role):
    customer = actors.customer()
    headers = actors.headers(role)

    assert client.get(wallet_url(customer["id"]), headers=headers).status_code == 403
    assert adjust(client, headers, customer["id"], "10.00").status_code == 403
    assert wallet_state(app, customer["id"])[0] == D("0.00")


def test_get_wallet_of_another_customer_404(app, client, actors):
    owner, other = actors.customer(), actors.customer()
    fund_wallet(app, owner["id"], "5.00")

    assert (
        client.get(wallet_url(owner["id"]), headers=other["headers"]).status_code == 404
    )


def test_wallet_anonymous_401(app, client, actors):
    customer = actors.customer()
    assert client.get(wallet_url(customer["id"])).status_code == 401
    assert adjust(client, {}, customer["id"], "5.00").status_code == 401


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_adjust_wallet_credit_and_debit(app, client, actors, role):
    customer = actors.customer()
    staff = actors.account(role)

    credit = adjust(
        client, staff["headers"], customer["id"], "40.00", "Compensation for delay"
    )
    debit = adjust(client, staff["headers"], customer["id"], "-15.50", "Correction")

    assert (credit.status_code, debit.status_code) == (201, 201)
    body = debit.get_json()
    assert (body["kind"], body["amount"], body["balance_after"]) == (
        "adjustment",
        "-15.50",
        "24.50",
    )
    assert (body["reason"], body["created_by_id"], body["currency"]) == (
        "Correction",
        staff["id"],
        "EUR",
    )
    assert wallet_state(app, customer["id"]) == (D("24.50"), D("24.50"), 2)


def test_adjust_wallet_beyond_balance_409_nothing_written(app, client, actors):
    customer = actors.customer()
    fund_wallet(app, customer["id"], "10.00")

    resp = adjust(client, actors.headers("finance"), customer["id"], "-10.01")

    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/insufficient-funds"
    assert (resp.get_json()["balance"], resp.get_json()["currency"]) == ("10.00", "EUR")
    assert wallet_state(app, customer["id"]) == (D("10.00"), D("10.00"), 1)


def test_adjust_wallet_down_to_zero(app, client, actors):
    customer = actors.customer()
    fund_wallet(app, customer["id"], "10.00")

    resp = adjust(client, actors.headers("admin"), customer["id"], "-10.00")

    assert resp.status_code == 201 and resp.get_json()["balance_after"] == "0.00"
    assert wallet_state(app, customer["id"]) == (D("0.00"), D("0.00"), 2)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": "0", "reason": "x"}, "amount"),
        ({"amount": "0.00", "reason": "x"}, "amount"),
        ({"amount": "1.001", "reason": "x"}, "amount"),
        ({"amount": "-99999999999.00", "reason": "x"}, "amount"),
        ({"amount": "ten", "reason": "x"}, "amount"),
        ({"amount": "5.00"}, "reason"),
        ({"amount": "5.00", "reason": "   "}, "reason"),
        ({"amount": "5.00", "reason": "x", "balance": "1000.00"}, "balance"),
    ],
)
def test_adjust_wallet_validation_422(app, client, actors, body, field):
    customer = actors.customer()

    resp = client.post(
        wallet_url(customer["id"]), json=body, headers=actors.headers("finance")
    )

    assert resp.status_code == 422
    assert field in resp.get_json()["errors"]
    assert wallet_state(app, customer["id"]) == (D("0.00"), D("0.00"), 0)


def test_adjust_wallet_unknown_customer_404(app, client, actors):
    assert adjust(client, actors.headers("finance"), 999999, "5.00").status_code == 404


def test_customer_cannot_set_own_balance(app, client, actors):
    me = actors.customer()

    post = adjust(client, me["headers"], me["id"], "1000.00")
    patch = client.patch(
        f"{API}/customers/{me['id']}",
        json={"wallet_balance": "1000.00"},
        headers=me["headers"],
    )

    assert post.status_code == 403
    assert patch.status_code == 422
    assert wallet_state(app, me["id"]) == (D("0.00"), D("0.00"), 0)


def test_ledger_sum_equals_balance_after_mixed_activity(app, client, actors):
    me = actors.customer()
    finance = actors.headers("finance")
    assert adjust(client, finance, me["id"], "250.00").status_code == 201
    b1 = make_invoiced_booking(app, customer_id=me["id"], total="120.00")
    b2 = make_invoiced_booking(app, customer_id=me["id"], total="200.00")
    assert pay(client, me["headers"], b1, "120.00", method="wallet").status_code == 201
    assert pay(client, me["headers"], b2, "200.00", method="wallet").status_code == 409
    assert adjust(client, finance, me["id"], "-30.00").status_code == 201
    assert adjust(client, finance, me["id"], "-100.01").status_code == 409

    balance, ledger_sum, lines = wallet_state(app, me["id"])
    assert balance == ledger_sum == D("100.00") and lines == 3
    with app.app_context():
        entries = db.session.scalars(
            select(WalletEntry)
            .where(WalletEntry.customer_id == me["id"])
            .order_by(WalletEntry.id)
        ).all()
        running = D("0.00")
        for entry in entries:
            running += entry.amount
            assert entry.balance_after == running >= 0
