"""GET /api/v1/invoices and /invoices/<id>: derived status (pending, paid, overdue,
void), amounts, credit notes and payments, filters (the status filter in SQL agrees
with services.payments.billing.invoice_status), ownership and roles
(docs/design.md "Lifecycles": invoice)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from models import Booking, Invoice
from services.payments import billing
from tests.factories import API, make_invoiced_booking, now, pay

D = Decimal
STATUSES = ("pending", "paid", "overdue", "void")


def invoice_of(app, booking_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Invoice.id).where(Invoice.booking_id == booking_id)
        )


def adjust(app, booking_id, *, refunded=None, credits=(), status=None) -> None:
    """Set the booking's refunded money / status and issue credit notes, directly."""
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        if refunded is not None:
            booking.amount_refunded = D(refunded)
        if status is not None:
            booking.status = status
        invoice = db.session.scalar(
            select(Invoice).where(Invoice.booking_id == booking_id)
        )
        for amount in credits:
            billing.credit(invoice, D(amount), "test credit")
        db.session.commit()


def python_statuses(app) -> dict[int, str]:
    """billing.invoice_status of every invoice, by id."""
    with app.app_context():
        return {
            inv.id: billing.invoice_status(inv)
            for inv in db.session.scalars(select(Invoice))
        }


def listed(client, headers, query="") -> list[dict]:
    resp = client.get(f"{API}/invoices?per_page=100{query}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


@pytest.fixture
def invoice_zoo(app, actors):
    """One invoice per derived status and the edge cases around them; returns
    `{name: (invoice id, expected status)}`."""
    cid = actors.account("customer")["id"]
    yesterday = now().date() - timedelta(days=1)
    zoo = {}

    def add(name, expected, **kw):
        after = {k: kw.pop(k) for k in ("refunded", "credits", "set_status") if k in kw}
        booking_id = make_invoiced_booking(app, customer_id=cid, **kw)
        if after:
            adjust(
                app,
                booking_id,
                refunded=after.get("refunded"),
                credits=after.get("credits", ()),
                status=after.get("set_status"),
            )
        zoo[name] = (invoice_of(app, booking_id), expected)

    add("unpaid_future", "pending")
    add("unpaid_due_today", "pending", due_date=now().date())
    add("unpaid_past_due", "overdue", due_date=yesterday)
    add(
        "deposit_paid_past_due",
        "overdue",
        status="confirmed",
        deposit="300.00",
        amount_paid="300.00",
        due_date=yesterday,
    )
    add(
        "deposit_paid_future",
        "pending",
        status="confirmed",
        deposit="300.00",
        amount_paid="300.00",
    )
    add(
        "fully_paid_past_due",
        "paid",
        status="confirmed",
        amount_paid="1000.00",
        due_date=yesterday,
    )
    add(
        "expired_voided",
        "void",
        status="expired",
        take_seats=False,
        credits=["1000.00"],
        due_date=yesterday,
    )
    add(
        "cancelled_penalty_kept",
        "paid",
        status="confirmed",
        amount_paid="1000.00",
        refunded="900.00",
        credits=["900.00"],
        set_status="cancelled",
    )
    add(
        "cancelled_refund_pending_paid",
        "paid",
        status="confirmed",
        amount_paid="400.00",
        deposit="400.00",
        refunded="300.00",
        credits=["900.00"],
        set_status="cancelled",
    )
    # Cents that binary floats get wrong (0.7 + 0.1 < 0.8 in IEEE 754).
    add(
        "cents_void",
        "void",
        total="0.80",
        status="expired",
        take_seats=False,
        credits=["0.70", "0.10"],
    )
    add(
        "cents_paid",
        "paid",
        total="0.80",
        deposit="0.80",
        status="confirmed",
        amount_paid="0.80",
        refunded="0.70",
        credits=["0.70"],
        due_date=yesterday,
        set_status="cancelled",
    )
    return zoo


def test_invoice_status_derivation(app, client, actors, invoice_zoo):
    headers = actors.headers("finance")
    by_python = python_statuses(app)

    for name, (invoice_id, expected) in invoice_zoo.items():
        detail = client.get(f"{API}/invoices/{invoice_id}", headers=headers).get_json()
        assert (name, detail["status"]) == (name, expected)
        assert (name, by_python[invoice_id]) == (name, expected)


def test_list_invoices_status_filter_matches_derived_status(
    app, client, actors, invoice_zoo
):
    headers = actors.headers("finance")

    every = {item["id"]: item["status"] for item in listed(client, headers)}
    assert every == {
        invoice_id: expected for invoice_id, expected in invoice_zoo.values()
    }
    for status in STATUSES:
        ids = {item["id"] for item in listed(client, headers, f"&status={status}")}
        expected = {iid for iid, exp in invoice_zoo.values() if exp == status}
        assert (status, ids) == (status, expected)


def test_get_invoice_shows_amounts_credit_notes_and_payments(app, client, actors):
    me = actors.customer()
    booking_id = make_invoiced_booking(
        app, customer_id=me["id"], total="1000.00", deposit="250.00"
    )
    till = actors.headers("finance")  # card terminal payments recorded by finance
    assert pay(client, till, booking_id, "250.00", reference="pi_a").status_code == 201
    assert pay(client, till, booking_id, "150.00", reference="pi_b").status_code == 201
    adjust(app, booking_id, credits=["100.00"])
    invoice_id = invoice_of(app, booking_id)

    resp = client.get(f"{API}/invoices/{invoice_id}", headers=me["headers"])

    assert resp.status_code == 200
    body = resp.get_json()
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        reference = invoice.booking.reference
        assert body["number"] == invoice.number and invoice.number.startswith("INV-")
        assert body["due_date"] == invoice.due_date.isoformat()
    assert body["booking_id"] == booking_id and body["booking_reference"] == reference
    assert body["customer_id"] == me["id"]
    assert body["issue_date"] == now().date().isoformat()
    assert (body["currency"], body["total_amount"], body["status"]) == (
        "EUR",
        "1000.00",
        "pending",
    )
    assert (body["credited_amount"], body["amount_paid"], body["amount_refunded"]) == (
        "100.00",
        "400.00",
        "0.00",
    )
    assert body["balance_due"] == "500.00"
    assert [(n["amount"], n["reason"]) for n in body["credit_notes"]] == [
        ("100.00", "test credit")
    ]
    assert body["credit_notes"][0]["number"].startswith("CN-")
    assert [(p["amount"], p["reference"]) for p in body["payments"]] == [
        ("250.00", "pi_a"),
        ("150.00", "pi_b"),
    ]
    assert all(p["invoice_id"] == invoice_id for p in body["payments"])


def test_list_invoices_customer_sees_own(app, client, actors):
    alice, bob = actors.customer(), actors.customer()
    a1 = make_invoiced_booking(app, customer_id=alice["id"])
    a2 = make_invoiced_booking(app, customer_id=alice["id"])
    make_invoiced_booking(app, customer_id=bob["id"])

    mine = listed(client, alice["headers"])
    sneaky = listed(client, alice["headers"], f"&customer_id={bob['id']}")

    assert [item["booking_id"] for item in mine] == [a2, a1]  # newest first
    assert sneaky == []


def test_list_invoices_staff_filters(app, client, actors):
    alice, bob = actors.customer(), actors.customer()
    a1 = make_invoiced_booking(app, customer_id=alice["id"])
    b1 = make_invoiced_booking(app, customer_id=bob["id"])

    for role in ("finance", "admin"):
        headers = actors.headers(role)
        assert {i["booking_id"] for i in listed(client, headers)} == {a1, b1}
        by_customer = listed(client, headers, f"&customer_id={bob['id']}")
        assert [i["booking_id"] for i in by_customer] == [b1]
        assert [
            i["customer_id"] for i in listed(client, headers, f"&booking_id={a1}")
        ] == [alice["id"]]


def test_list_invoices_paginates(app, client, actors):
    me = actors.customer()
    ids = [make_invoiced_booking(app, customer_id=me["id"]) for _ in range(3)]

    resp = client.get(
        f"{API}/invoices?per_page=2&page=2", headers=me["headers"]
    ).get_json()

    assert resp["meta"] == {
        "page": 2,
        "per_page": 2,
        "total": 3,
        "pages": 2,
        "has_more": False,
        "next_cursor": None,
        "total_is_estimate": False,
    }
    assert [item["booking_id"] for item in resp["items"]] == [ids[0]]


def test_get_invoice_of_another_customer_404(app, client, actors):
    owner, other = actors.customer(), actors.customer()
    invoice_id = invoice_of(app, make_invoiced_booking(app, customer_id=owner["id"]))

    assert (
        client.get(f"{API}/invoices/{invoice_id}", headers=other["headers"]).status_code
        == 404
    )
    assert (
        client.get(f"{API}/invoices/{invoice_id}", headers=owner["headers"]).status_code
        == 200
    )
    missing = client.get(f"{API}/invoices/999999", headers=actors.headers("finance"))
    assert missing.status_code == 404


@pytest.mark.parametrize("role", ["sales", "hr", "operation", "operation_head"])
def test_invoices_other_roles_403(app, client, actors, role):
    customer = actors.customer()
    invoice_id = invoice_of(app, make_invoiced_booking(app, customer_id=customer["id"]))
    headers = actors.headers(role)

    assert client.get(f"{API}/invoices", headers=headers).status_code == 403
    assert (
        client.get(f"{API}/invoices/{invoice_id}", headers=headers).status_code == 403
    )


def test_invoices_anonymous_401(app, client):
    assert client.get(f"{API}/invoices").status_code == 401


def test_list_invoices_bad_status_422(app, client, actors):
    resp = client.get(
        f"{API}/invoices?status=settled", headers=actors.headers("finance")
    )
    assert resp.status_code == 422
    assert "query.status" in resp.get_json()["errors"]
