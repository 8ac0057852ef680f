"""POST /departures/<id>/cancel and `flask departures cancel`: preview without side
effects, then every live booking cancelled and refunded in full in one transaction,
seats back, invoices voided, one mail per booking (docs/design.md
"Resource map": POST /departures/<id>/cancel)."""

from decimal import Decimal

import pytest

from core.extensions import db
from models import Booking, Departure
from tests.booking.conftest import (
    booking_state,
    db_snapshot,
    invoice_of,
    seats_taken,
    wallet_of,
)
from tests.factories import make_cancellable_departure, make_paid_booking, refunds_of

URL = "/api/v1/departures/{}/cancel"


def scenario(app, actors) -> dict:
    """A departure 20 days out with: a paid confirmed booking (card), a deposit-paid
    booking (wallet + card), an unpaid live hold, a lapsed hold, and an already
    cancelled booking. Returns ids and customers."""
    alice, bob, carol, dave = (actors.customer() for _ in range(4))
    dep = make_cancellable_departure(app, start_in_days=20, price="500.00", capacity=20)
    ids = {
        "paid": make_paid_booking(
            app, departure_id=dep, customer_id=alice["id"], seats=2
        ),
        "deposit": make_paid_booking(
            app,
            departure_id=dep,
            customer_id=bob["id"],
            seats=2,
            deposit_percent=40,
            payments=[("wallet", "100.00"), ("card", "300.00")],
        ),
        "hold": make_paid_booking(
            app, departure_id=dep, customer_id=carol["id"], seats=1, status="held"
        ),
        "lapsed": make_paid_booking(
            app,
            departure_id=dep,
            customer_id=dave["id"],
            seats=3,
            status="held",
            hold_lapsed=True,
        ),
        "old": make_paid_booking(
            app,
            departure_id=dep,
            customer_id=dave["id"],
            seats=1,
            status="cancelled",
            payments=[],
        ),
    }
    return {
        "departure": dep,
        "ids": ids,
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "dave": dave,
    }


def cancel_departure(client, headers, departure_id, **body):
    return client.post(URL.format(departure_id), json=body, headers=headers)


def test_preview_lists_bookings_without_side_effects(app, client, actors, mailbox):
    s = scenario(app, actors)
    before = db_snapshot(app)

    resp = cancel_departure(
        client,
        actors.headers("operation_head"),
        s["departure"],
        reason="Storm season",
        preview=True,
    )

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["cancelled"] is False
    assert (body["departure_id"], body["currency"], body["reason"]) == (
        s["departure"],
        "EUR",
        "Storm season",
    )
    assert [
        (b["booking_id"], b["status"], b["refund_amount"], b["refund_to"])
        for b in body["bookings"]
    ] == [
        (s["ids"]["paid"], "confirmed", "1000.00", "original"),
        (s["ids"]["deposit"], "confirmed", "400.00", "original"),
        (s["ids"]["hold"], "held", "0.00", "original"),
    ]
    assert body["bookings"][0]["customer_id"] == s["alice"]["id"]
    assert body["bookings"][0]["reference"].startswith("ET-")
    assert body["total_refund"] == "1400.00"
    assert db_snapshot(app) == before
    with app.app_context():
        assert db.session.get(Departure, s["departure"]).status == "scheduled"
    assert mailbox.messages == []


def test_execute_cancels_and_refunds_everything(app, client, actors, mailbox):
    s = scenario(app, actors)
    ids = s["ids"]
    assert seats_taken(app, s["departure"]) == 8
    admin = actors.account("admin")

    resp = cancel_departure(
        client, admin["headers"], s["departure"], reason="Storm season"
    )

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["cancelled"] is True
    assert body["total_refund"] == "1400.00"
    assert [
        (b["booking_id"], b["status"], b["refund_amount"]) for b in body["bookings"]
    ] == [
        (ids["paid"], "cancelled", "1000.00"),
        (ids["deposit"], "cancelled", "400.00"),
        (ids["hold"], "cancelled", "0.00"),
    ]
    with app.app_context():
        departure = db.session.get(Departure, s["departure"])
        assert (departure.status, departure.seats_taken) == ("cancelled", 0)
        assert db.session.get(Booking, ids["lapsed"]).status == "expired"
    for key in ("paid", "deposit", "hold"):
        state = booking_state(app, ids[key])
        assert (state["status"], state["penalty_amount"]) == (
            "cancelled",
            Decimal("0.00"),
        )
        assert state["amount_refunded"] == state["amount_paid"]
        assert state["cancelled_by_id"] == admin["id"]
        assert state["cancel_reason"] == "Storm season"
        assert invoice_of(app, ids[key])["status"] == "void"
    assert invoice_of(app, ids["lapsed"])["status"] == "void"
    assert booking_state(app, ids["old"])["cancel_reason"] is None  # untouched
    assert [
        (r["method"], r["status"], r["amount"]) for r in refunds_of(app, ids["deposit"])
    ] == [
        ("wallet", "completed", Decimal("100.00")),
        ("card", "pending", Decimal("300.00")),
    ]
    assert wallet_of(app, s["bob"]["id"])[0] == Decimal("100.00")
    for who, amount in (("alice", "1000.00"), ("bob", "400.00"), ("carol", "0.00")):
        [mail] = mailbox.to(s[who]["email"])
        assert mail["Subject"].startswith("Departure cancelled")
        text = mail.get_body(("plain",)).get_content()
        assert "Storm season" in text and f"{amount} EUR" in text
    assert mailbox.to(s["dave"]["email"]) == []


def test_execute_refund_to_wallet(app, client, actors):
    s = scenario(app, actors)

    resp = cancel_departure(
        client,
        actors.headers("admin"),
        s["departure"],
        reason="Operator failure",
        refund_to="wallet",
    )

    assert resp.status_code == 200
    assert {b["refund_to"] for b in resp.get_json()["bookings"]} == {"wallet"}
    assert wallet_of(app, s["alice"]["id"])[0] == Decimal("1000.00")
    assert wallet_of(app, s["bob"]["id"])[0] == Decimal("400.00")
    assert [r["status"] for r in refunds_of(app, s["ids"]["paid"])] == ["completed"]


def test_execute_twice_conflict(app, client, actors):
    s = scenario(app, actors)
    headers = actors.headers("admin")
    assert (
        cancel_departure(client, headers, s["departure"], reason="x").status_code == 200
    )

    again = cancel_departure(client, headers, s["departure"], reason="x")
    preview = cancel_departure(
        client, headers, s["departure"], reason="x", preview=True
    )

    assert again.status_code == preview.status_code == 409
    assert again.get_json()["type"] == "/problems/departure-cancelled"
    assert len(refunds_of(app, s["ids"]["paid"])) == 1


def test_execute_started_departure_conflict(app, client, actors):
    me = actors.customer()
    dep = make_cancellable_departure(app, start_in_days=0)
    bid = make_paid_booking(app, departure_id=dep, customer_id=me["id"])

    resp = cancel_departure(client, actors.headers("admin"), dep, reason="late")

    assert resp.status_code == 409
    assert booking_state(app, bid)["status"] == "confirmed"


def test_execute_failure_rolls_everything_back(app, client, actors, monkeypatch):
    s = scenario(app, actors)
    before = db_snapshot(app)
    from models import OutboxMessage
    from services.payments import refunds

    real = refunds.issue_refunds
    calls = []

    def failing(booking, **kwargs):
        calls.append(booking.id)
        if len(calls) == 2:
            raise RuntimeError("payment provider down")
        return real(booking, **kwargs)

    monkeypatch.setattr(refunds, "issue_refunds", failing)

    resp = cancel_departure(client, actors.headers("admin"), s["departure"], reason="x")

    assert resp.status_code == 500
    assert db_snapshot(app) == before
    with app.app_context():
        assert db.session.get(Departure, s["departure"]).status == "scheduled"
        # the first booking's mail was queued, then rolled back with everything else
        assert db.session.scalars(db.select(OutboxMessage)).all() == []


def test_empty_departure(app, client, actors):
    dep = make_cancellable_departure(app)

    body = cancel_departure(
        client, actors.headers("admin"), dep, reason="No demand"
    ).get_json()

    assert (body["cancelled"], body["bookings"], body["total_refund"]) == (
        True,
        [],
        "0.00",
    )


def test_unknown_departure_404(app, client, actors):
    resp = cancel_departure(client, actors.headers("admin"), 999999, reason="x")
    assert resp.status_code == 404


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x", "preview": "yes?"}, "preview"),
        ({"reason": "x", "refund_to": "cash"}, "refund_to"),
        ({"reason": "x", "force": 1}, "force"),
    ],
)
def test_invalid_body_422(app, client, actors, body, field):
    dep = make_cancellable_departure(app)

    resp = client.post(URL.format(dep), json=body, headers=actors.headers("admin"))

    assert resp.status_code == 422
    assert field in resp.get_json()["errors"]


@pytest.mark.parametrize(
    "role,expected",
    [
        ("admin", 200),
        ("operation_head", 200),
        ("operation", 403),
        ("sales", 403),
        ("finance", 403),
        ("hr", 403),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
def test_roles(app, client, actors, role, expected):
    me = actors.customer()
    dep = make_cancellable_departure(app)
    bid = make_paid_booking(app, departure_id=dep, customer_id=me["id"])

    resp = cancel_departure(client, actors.headers(role), dep, reason="x")

    assert resp.status_code == expected
    assert booking_state(app, bid)["status"] == (
        "cancelled" if expected == 200 else "confirmed"
    )


# --- CLI ---------------------------------------------------------------------------


def test_cli_preview_then_execute(app, actors, mailbox):
    s = scenario(app, actors)
    runner = app.test_cli_runner()
    before = db_snapshot(app)

    preview = runner.invoke(
        args=[
            "departures",
            "cancel",
            str(s["departure"]),
            "--reason",
            "Strike",
            "--preview",
        ]
    )

    assert preview.exit_code == 0, preview.output
    assert "PREVIEW" in preview.output and "total refund 1400.00 EUR" in preview.output
    assert db_snapshot(app) == before

    done = runner.invoke(
        args=[
            "departures",
            "cancel",
            str(s["departure"]),
            "--reason",
            "Strike",
            "--refund-to",
            "wallet",
        ]
    )

    assert done.exit_code == 0, done.output
    assert "CANCELLED" in done.output and "3 booking(s)" in done.output
    with app.app_context():
        assert db.session.get(Departure, s["departure"]).seats_taken == 0
    assert booking_state(app, s["ids"]["paid"])["cancelled_by_id"] is None
    assert wallet_of(app, s["alice"]["id"])[0] == Decimal("1000.00")
    assert len(mailbox.to(s["alice"]["email"])) == 1

    again = runner.invoke(
        args=["departures", "cancel", str(s["departure"]), "--reason", "x"]
    )
    assert again.exit_code != 0
    assert "already cancelled" in again.output


def test_cli_unknown_departure_and_blank_reason_fail(app):
    runner = app.test_cli_runner()

    missing = runner.invoke(args=["departures", "cancel", "999999", "--reason", "x"])
    blank = runner.invoke(args=["departures", "cancel", "1", "--reason", "  "])

    assert missing.exit_code != 0 and "not found" in missing.output
    assert blank.exit_code != 0 and "reason" in blank.output
