"""POST /api/v1/bookings/<id>/payments and GET /api/v1/payments: who pays how,
deposits and confirmation, overpayment, late payments on lapsed holds (seats
re-taken or 409 with nothing charged), wallet debits, idempotency, listings
(docs/design.md "Lifecycles": booking, invoice, wallet).

The bookings are built straight in the database with their invoice
(tests/factories.py `make_invoiced_booking`) so these tests do not depend on how
POST /bookings evolves; `book_via_api` goes through POST /bookings and issues the
invoice only when booking creation did not.
"""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from models import (
    Booking,
    CreditNote,
    Departure,
    Invoice,
    WalletEntry,
)
from services.payments import billing
from tests.factories import API, pay
from tests.factories import make_invoiced_booking as make_booking
from tests.factories import make_plain_departure as make_departure
from tests.payments.conftest import booking_state, fund_wallet, wallet_state

D = Decimal


# --- helpers (the factories are in tests/factories.py) --------------------------------


def book_via_api(app, client, headers, *, departure_id, seats=1) -> int:
    """Book through POST /bookings; issue the invoice and set the deposit only when
    booking creation did not (yet) do it. Returns the booking id."""
    resp = client.post(
        f"{API}/bookings",
        json={"departure_id": departure_id, "seats": seats},
        headers=headers,
    )
    assert resp.status_code == 201, resp.get_json()
    booking_id = resp.get_json()["id"]
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        if booking.deposit_amount == 0:
            percent = booking.departure.package.deposit_percent
            booking.deposit_amount = (booking.total_amount * percent / 100).quantize(
                D("0.01")
            )
        if (
            db.session.scalar(select(Invoice).where(Invoice.booking_id == booking_id))
            is None
        ):
            billing.issue_invoice(booking)
        db.session.commit()
    return booking_id


# --- paying: the happy paths ----------------------------------------------------------


def test_pay_card_terminal_in_full_confirms_held_booking(app, client, actors, mailbox):
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = make_booking(app, customer_id=me["id"], total="1000.00")

    resp = pay(client, till, booking_id, "1000.00", reference="pi_3MtwBw")

    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    with app.app_context():
        invoice_id = db.session.scalar(
            select(Invoice.id).where(Invoice.booking_id == booking_id)
        )
    assert body["booking_id"] == booking_id
    assert body["invoice_id"] == invoice_id
    assert body["customer_id"] == me["id"]
    assert (body["amount"], body["currency"], body["method"]) == (
        "1000.00",
        "EUR",
        "card",
    )
    assert body["reference"] == "pi_3MtwBw"
    assert body["recorded_by_id"] == actors.account("finance")["id"]
    assert body["booking"]["status"] == "confirmed"
    assert (body["booking"]["amount_paid"], body["booking"]["amount_due"]) == (
        "1000.00",
        "0.00",
    )
    state = booking_state(app, booking_id)
    assert state["status"] == "confirmed"
    assert state["amount_paid"] == D("1000.00")
    assert state["confirmed_at"] is not None and state["hold_expires_at"] is None
    assert state["payments"] == 1
    mails = mailbox.to(me["email"])
    assert len(mails) == 1 and "confirmed" in mails[0]["Subject"]


def test_pay_deposit_then_balance_in_parts(app, client, actors, mailbox):
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = make_booking(
        app, customer_id=me["id"], total="1000.00", deposit="300.00"
    )

    below = pay(client, till, booking_id, "299.99")
    assert below.status_code == 422
    assert "deposit" in below.get_json()["errors"]["amount"][0]
    assert booking_state(app, booking_id)["status"] == "held"

    deposit = pay(client, till, booking_id, "300.00", reference="pi_1")
    assert deposit.status_code == 201
    assert deposit.get_json()["booking"]["status"] == "confirmed"
    assert deposit.get_json()["booking"]["amount_due"] == "700.00"
    body = mailbox.to(me["email"])[-1].get_body(("plain",)).get_content()
    assert "700.00 EUR is due" in body

    part = pay(client, till, booking_id, "50.00", reference="pi_2")
    assert part.status_code == 201
    rest = pay(client, till, booking_id, "650.00", reference="pi_3")
    assert rest.status_code == 201
    assert rest.get_json()["booking"]["amount_due"] == "0.00"
    state = booking_state(app, booking_id)
    assert (state["status"], state["amount_paid"], state["payments"]) == (
        "confirmed",
        D("1000.00"),
        3,
    )
    assert len(mailbox.to(me["email"])) == 1  # confirmed once


@pytest.mark.parametrize(
    "role, method",
    [
        ("finance", "bank_transfer"),
        ("finance", "cash"),
        ("finance", "card"),
        ("admin", "cash"),
        ("admin", "bank_transfer"),
    ],
)
def test_pay_staff_records_payment(app, client, actors, role, method):
    customer = actors.customer()
    booking_id = make_booking(app, customer_id=customer["id"], total="400.00")
    staff = actors.account(role)

    resp = pay(
        client,
        staff["headers"],
        booking_id,
        "400.00",
        method=method,
        reference="BANK-REF-1" if method != "cash" else None,
    )

    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["recorded_by_id"] == staff["id"]
    assert resp.get_json()["customer_id"] == customer["id"]
    assert booking_state(app, booking_id)["status"] == "confirmed"


def test_pay_wallet_debits_the_wallet(app, client, actors):
    me = actors.customer()
    fund_wallet(app, me["id"], "500.00")
    booking_id = make_booking(app, customer_id=me["id"], total="300.00")

    resp = pay(client, me["headers"], booking_id, "300.00", method="wallet")

    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["method"] == "wallet"
    assert wallet_state(app, me["id"]) == (D("200.00"), D("200.00"), 2)
    with app.app_context():
        entry = db.session.scalars(
            select(WalletEntry).order_by(WalletEntry.id.desc())
        ).first()
        assert (entry.kind, entry.amount, entry.balance_after) == (
            "payment_debit",
            D("-300.00"),
            D("200.00"),
        )
        assert (entry.booking_id, entry.payment_id) == (
            booking_id,
            resp.get_json()["id"],
        )


def test_pay_via_booking_endpoint(app, client, actors, mailbox):
    dep = make_departure(app, price="500.00", deposit_percent=20)
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = book_via_api(app, client, me["headers"], departure_id=dep, seats=2)

    resp = pay(client, till, booking_id, "200.00")

    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["booking"]["status"] == "confirmed"
    assert resp.get_json()["booking"]["amount_due"] == "800.00"
    assert any("confirmed" in m["Subject"] for m in mailbox.to(me["email"]))


# --- paying: refusals -----------------------------------------------------------------


def test_pay_overpayment_refused(app, client, actors):
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = make_booking(
        app,
        customer_id=me["id"],
        total="1000.00",
        deposit="100.00",
        status="confirmed",
        amount_paid="900.00",
    )

    resp = pay(client, till, booking_id, "100.01")

    assert resp.status_code == 422
    assert "Overpayment refused" in resp.get_json()["errors"]["amount"][0]
    state = booking_state(app, booking_id)
    assert (state["amount_paid"], state["payments"]) == (D("900.00"), 0)


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00", "1.005", "abc", None])
def test_pay_invalid_amount_422(app, client, actors, amount):
    me = actors.customer()
    booking_id = make_booking(app, customer_id=me["id"], total="100.00")

    resp = pay(client, me["headers"], booking_id, amount)

    assert resp.status_code == 422
    assert "amount" in resp.get_json()["errors"]
    assert booking_state(app, booking_id)["payments"] == 0


def test_pay_validation_errors_per_field(app, client, actors):
    me = actors.customer()
    booking_id = make_booking(app, customer_id=me["id"], total="100.00")

    resp = client.post(
        f"{API}/bookings/{booking_id}/payments",
        json={"method": "cheque", "extra": 1},
        headers=me["headers"],
    )

    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert set(errors) == {"amount", "method", "extra"}


def test_pay_card_without_reference_422(app, client, actors):
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = make_booking(app, customer_id=me["id"], total="100.00")

    resp = pay(client, till, booking_id, "100.00", reference=None)

    assert resp.status_code == 422
    assert "reference" in resp.get_json()["errors"]
    assert booking_state(app, booking_id)["payments"] == 0


@pytest.mark.parametrize(
    "role, method",
    [
        ("customer", "bank_transfer"),
        ("customer", "cash"),
        ("finance", "wallet"),
        ("admin", "wallet"),
    ],
)
def test_pay_method_not_open_to_role_403(app, client, actors, role, method):
    owner = actors.account("customer") if role == "customer" else actors.customer()
    fund_wallet(app, owner["id"], "100.00")
    booking_id = make_booking(app, customer_id=owner["id"], total="100.00")

    resp = pay(client, actors.headers(role), booking_id, "100.00", method=method)

    assert resp.status_code == 403
    assert resp.get_json()["type"] == "/problems/method-not-allowed"
    assert booking_state(app, booking_id)["payments"] == 0
    assert wallet_state(app, owner["id"])[0] == D("100.00")


@pytest.mark.parametrize("role", ["sales", "hr", "operation", "operation_head"])
def test_pay_role_not_allowed_403(app, client, actors, role):
    customer = actors.customer()
    booking_id = make_booking(app, customer_id=customer["id"], total="100.00")

    resp = pay(client, actors.headers(role), booking_id, "100.00", method="cash")

    assert resp.status_code == 403
    assert booking_state(app, booking_id)["payments"] == 0


def test_pay_anonymous_401(app, client, actors):
    customer = actors.customer()
    booking_id = make_booking(app, customer_id=customer["id"], total="100.00")

    assert pay(client, {}, booking_id, "100.00").status_code == 401


def test_pay_another_customers_booking_404(app, client, actors):
    owner, other = actors.customer(), actors.customer()
    booking_id = make_booking(app, customer_id=owner["id"], total="100.00")

    resp = pay(client, other["headers"], booking_id, "100.00")

    assert resp.status_code == 404
    assert booking_state(app, booking_id)["payments"] == 0
    assert pay(client, other["headers"], 999_999, "1.00").status_code == 404


@pytest.mark.parametrize("status", ["cancelled", "completed"])
def test_pay_cancelled_or_completed_409(app, client, actors, status):
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = make_booking(
        app, customer_id=me["id"], total="100.00", status=status, take_seats=False
    )

    resp = pay(client, till, booking_id, "100.00")

    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/booking-not-payable"
    assert booking_state(app, booking_id)["payments"] == 0


def test_pay_wallet_insufficient_funds_409_nothing_written(app, client, actors):
    me = actors.customer()
    fund_wallet(app, me["id"], "99.99")
    booking_id = make_booking(app, customer_id=me["id"], total="100.00")

    resp = pay(client, me["headers"], booking_id, "100.00", method="wallet")

    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/insufficient-funds"
    assert resp.get_json()["balance"] == "99.99"
    state = booking_state(app, booking_id)
    assert (state["status"], state["amount_paid"], state["payments"]) == (
        "held",
        D("0.00"),
        0,
    )
    assert wallet_state(app, me["id"]) == (D("99.99"), D("99.99"), 1)


def test_pay_wallet_other_currency_422(app, client, actors):
    me = actors.customer()
    fund_wallet(app, me["id"], "500.00")
    booking_id = make_booking(app, customer_id=me["id"], total="100.00", currency="USD")

    resp = pay(client, me["headers"], booking_id, "100.00", method="wallet")

    assert resp.status_code == 422
    assert "method" in resp.get_json()["errors"]
    assert wallet_state(app, me["id"])[0] == D("500.00")


# --- late payments on lapsed holds ----------------------------------------------------


def test_pay_lapsed_unswept_hold_retakes_seats(app, client, actors, mailbox):
    dep = make_departure(app, capacity=3)
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = make_booking(
        app, customer_id=me["id"], departure_id=dep, seats=2, hold_minutes=-5
    )

    resp = pay(client, till, booking_id, "1000.00")

    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["booking"]["status"] == "confirmed"
    state = booking_state(app, booking_id)
    assert (state["status"], state["seats_taken"], state["payments"]) == (
        "confirmed",
        2,
        1,
    )
    assert len(mailbox.to(me["email"])) == 1
    with app.app_context():  # revived in place: its invoice was never voided
        assert db.session.scalar(select(func.count()).select_from(CreditNote)) == 0
        invoice = db.session.scalar(
            select(Invoice).where(Invoice.booking_id == booking_id)
        )
        assert billing.invoice_status(invoice) == "paid"


def test_pay_swept_expired_booking_retakes_seats_same_invoice(app, client, actors):
    dep = make_departure(app, capacity=3)
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = make_booking(
        app,
        customer_id=me["id"],
        departure_id=dep,
        seats=2,
        status="expired",
        take_seats=False,
    )
    with app.app_context():  # the sweep voids the invoice with a credit note
        invoice = db.session.scalar(
            select(Invoice).where(Invoice.booking_id == booking_id)
        )
        billing.credit(invoice, invoice.total_amount, "Hold expired")
        db.session.commit()
        invoice_id = invoice.id

    resp = pay(client, till, booking_id, "1000.00")

    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["invoice_id"] == invoice_id
    state = booking_state(app, booking_id)
    assert (state["status"], state["seats_taken"]) == ("confirmed", 2)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 1
        assert db.session.scalar(select(func.count()).select_from(CreditNote)) == 1
    # The revived booking is live again: its expiry credit no longer applies.
    invoice_body = client.get(
        f"/api/v1/invoices/{invoice_id}", headers=me["headers"]
    ).get_json()
    assert invoice_body["status"] == "paid"
    listed = client.get(
        "/api/v1/invoices?status=paid", headers=me["headers"]
    ).get_json()
    assert [item["id"] for item in listed["items"]] == [invoice_id]


def test_pay_lapsed_hold_seats_gone_409_nothing_charged(app, client, actors):
    dep = make_departure(app, capacity=2)
    me, rival = actors.customer(), actors.customer()
    fund_wallet(app, me["id"], "1000.00")
    late_id = make_booking(
        app, customer_id=me["id"], departure_id=dep, seats=2, hold_minutes=-1
    )
    # Another booking sweeps the lapsed hold and takes the seats.
    rival_id = book_via_api(app, client, rival["headers"], departure_id=dep, seats=1)

    resp = pay(client, me["headers"], late_id, "1000.00", method="wallet")

    assert resp.status_code == 409
    body = resp.get_json()
    assert body["type"] == "/problems/seats-unavailable"
    assert (body["seats_left"], body["seats_requested"]) == (1, 2)
    state = booking_state(app, late_id)
    assert (state["status"], state["amount_paid"], state["payments"]) == (
        "expired",
        D("0.00"),
        0,
    )
    assert state["seats_taken"] == 1
    assert wallet_state(app, me["id"]) == (D("1000.00"), D("1000.00"), 1)
    assert booking_state(app, rival_id)["status"] == "held"


def test_pay_expired_booking_on_cancelled_departure_409(app, client, actors):
    dep = make_departure(app, capacity=3)
    me = actors.customer()
    fund_wallet(app, me["id"], "1000.00")
    booking_id = make_booking(
        app, customer_id=me["id"], departure_id=dep, status="expired", take_seats=False
    )
    with app.app_context():
        db.session.get(Departure, dep).status = "cancelled"
        db.session.commit()

    resp = pay(client, me["headers"], booking_id, "1000.00", method="wallet")

    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/departure-cancelled"
    state = booking_state(app, booking_id)
    assert (state["status"], state["seats_taken"], state["payments"]) == (
        "expired",
        0,
        0,
    )
    assert wallet_state(app, me["id"])[0] == D("1000.00")


def test_pay_lapsed_hold_below_deposit_422_seats_untouched(app, client, actors):
    dep = make_departure(app, capacity=2)
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = make_booking(
        app,
        customer_id=me["id"],
        departure_id=dep,
        seats=2,
        hold_minutes=-1,
        deposit="500.00",
    )

    resp = pay(client, till, booking_id, "100.00")

    assert resp.status_code == 422
    state = booking_state(app, booking_id)
    assert (state["status"], state["seats_taken"], state["payments"]) == ("held", 2, 0)


# --- idempotency ----------------------------------------------------------------------


def test_pay_same_idempotency_key_twice_one_payment(app, client, actors, mailbox):
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = make_booking(app, customer_id=me["id"], total="100.00")
    headers = {**till, "Idempotency-Key": "pay-once-123"}

    first = pay(client, headers, booking_id, "100.00")
    second = pay(client, headers, booking_id, "100.00")

    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.get_json() == first.get_json()
    assert booking_state(app, booking_id)["payments"] == 1
    assert len(mailbox.to(me["email"])) == 1


def test_pay_same_idempotency_key_other_body_422(app, client, actors):
    me = actors.customer()
    till = actors.headers("finance")  # card terminal: staff record card money
    booking_id = make_booking(
        app, customer_id=me["id"], total="100.00", deposit="10.00"
    )
    headers = {**till, "Idempotency-Key": "pay-key-xyz"}

    assert pay(client, headers, booking_id, "10.00").status_code == 201
    resp = pay(client, headers, booking_id, "20.00")

    assert resp.status_code == 422
    assert resp.get_json()["type"] == "/problems/idempotency-key-reused"
    assert booking_state(app, booking_id)["amount_paid"] == D("10.00")


# --- GET /payments --------------------------------------------------------------------


def _seed_payments(app, client, actors):
    """Two customers, three payments: (alice card 100 at the terminal, alice wallet 50,
    bob cash 70)."""
    alice, bob = actors.customer(), actors.customer()
    fund_wallet(app, alice["id"], "50.00")
    a1 = make_booking(app, customer_id=alice["id"], total="100.00")
    a2 = make_booking(app, customer_id=alice["id"], total="50.00")
    b1 = make_booking(app, customer_id=bob["id"], total="70.00")
    assert pay(client, actors.headers("finance"), a1, "100.00").status_code == 201
    assert (
        pay(client, alice["headers"], a2, "50.00", method="wallet").status_code == 201
    )
    assert (
        pay(client, actors.headers("finance"), b1, "70.00", method="cash").status_code
        == 201
    )
    return alice, bob, (a1, a2, b1)


def test_list_payments_finance_sees_all_with_filters(app, client, actors):
    _alice, bob, (a1, a2, b1) = _seed_payments(app, client, actors)
    headers = actors.headers("finance")

    every = client.get(f"{API}/payments", headers=headers).get_json()
    by_booking = client.get(
        f"{API}/payments?booking_id={a2}", headers=headers
    ).get_json()
    by_customer = client.get(f"{API}/payments?customer_id={bob['id']}", headers=headers)
    by_method = client.get(f"{API}/payments?method=card", headers=headers).get_json()

    assert every["meta"]["total"] == 3
    assert [p["booking_id"] for p in every["items"]] == [b1, a2, a1]  # newest first
    assert [p["method"] for p in by_booking["items"]] == ["wallet"]
    assert [p["amount"] for p in by_customer.get_json()["items"]] == ["70.00"]
    assert [p["booking_id"] for p in by_method["items"]] == [a1]


def test_list_payments_customer_sees_own(app, client, actors):
    alice, bob, (a1, a2, _b1) = _seed_payments(app, client, actors)

    mine = client.get(f"{API}/payments", headers=alice["headers"]).get_json()
    sneaky = client.get(
        f"{API}/payments?customer_id={bob['id']}", headers=alice["headers"]
    )

    assert {p["booking_id"] for p in mine["items"]} == {a1, a2}
    assert sneaky.get_json()["items"] == []


@pytest.mark.parametrize("role", ["sales", "hr", "operation", "operation_head"])
def test_list_payments_other_roles_403(app, client, actors, role):
    assert (
        client.get(f"{API}/payments", headers=actors.headers(role)).status_code == 403
    )


def test_list_payments_bad_filter_422(app, client, actors):
    resp = client.get(f"{API}/payments?method=cheque", headers=actors.headers("admin"))
    assert resp.status_code == 422
    assert "query.method" in resp.get_json()["errors"]
