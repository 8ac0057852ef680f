"""POST /transport/trips/<id>/cancel: a trip cancelled with every booking on it in
one transaction, each refunded once in full, seats freed, tickets cancelled, one
mail per booking and the `trip.cancelled` webhook; a preview changes nothing; a
retry is 409 (docs/transport.md "Cancelling a trip"). Also what PATCH status
`cancelled` answers once tickets are sold (`sold_tickets`)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import delete, func, select, update

from core.extensions import db
from models import (
    AuditEntry,
    Booking,
    CreditNote,
    OutboxMessage,
    Payment,
    Refund,
    SeatSegment,
    Ticket,
    Trip,
    WalletEntry,
    WebhookEndpoint,
)
from models.base import utcnow
from services.messaging import webhooks
from services.transport import trips as trip_service
from tests.factories import refunds_of
from tests.live import gunicorn_server
from tests.transport.conftest import (
    TRANSPORT,
    book_trip_in_db,
    make_line,
    operator_of,
    pay_trip_booking_in_db,
)

URL = f"{TRANSPORT}/trips/{{}}/cancel"


def set_hold(app, booking_id, minutes) -> None:
    """Make a held booking's hold end `minutes` from now (negative: lapsed)."""
    with app.app_context():
        db.session.execute(
            update(Booking)
            .where(Booking.id == booking_id)
            .values(hold_expires_at=utcnow() + timedelta(minutes=minutes))
        )
        db.session.commit()


def scenario(app, actors, *, days_ahead=30) -> dict:
    """A trip (A -> B -> C, 3 rows x 4 seats) with: alice's confirmed booking of
    two passengers A-C paid in cash (40.00), bob's confirmed booking A-B paid
    from his wallet (10.00), carol's live unpaid hold B-C, dave's lapsed hold
    A-C, and erin's booking cancelled earlier (no seats, ticket cancelled)."""
    line = make_line(app, rows=3, days_ahead=days_ahead)
    trip = line["trip_id"]
    people = {name: actors.customer() for name in ("alice", "bob", "carol", "dave")}
    people["erin"] = actors.customer()
    ids = {
        "paid": book_trip_in_db(
            app, trip, people["alice"]["id"], seats=("1A", "1B"), price="20.00"
        ),
        "wallet": book_trip_in_db(
            app, trip, people["bob"]["id"], to_seq=1, seats=("2A",), price="10.00"
        ),
        "hold": book_trip_in_db(
            app,
            trip,
            people["carol"]["id"],
            from_seq=1,
            seats=("2A",),
            status="held",
            price="12.00",
        ),
        "lapsed": book_trip_in_db(
            app, trip, people["dave"]["id"], seats=("3A",), status="held"
        ),
        "old": book_trip_in_db(app, trip, people["erin"]["id"], seats=("3B",)),
    }
    pay_trip_booking_in_db(app, ids["paid"], "cash")
    pay_trip_booking_in_db(app, ids["wallet"], "wallet")
    set_hold(app, ids["hold"], 15)
    set_hold(app, ids["lapsed"], -1)
    with app.app_context():
        db.session.execute(
            update(Booking).where(Booking.id == ids["old"]).values(status="cancelled")
        )
        db.session.execute(
            update(Ticket)
            .where(Ticket.booking_id == ids["old"])
            .values(status="cancelled")
        )
        db.session.execute(
            delete(SeatSegment).where(SeatSegment.booking_id == ids["old"])
        )
        db.session.commit()
    return {"line": line, "trip": trip, "ids": ids, **people}


def cancel(client, headers, trip_id, **body):
    return client.post(URL.format(trip_id), json=body, headers=headers)


def snapshot(app) -> dict:
    """Everything a trip cancellation could change."""
    with app.app_context():
        counts = {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (
                Refund,
                WalletEntry,
                CreditNote,
                Payment,
                OutboxMessage,
                SeatSegment,
                AuditEntry,
            )
        }
        return {
            "counts": counts,
            "bookings": list(
                db.session.execute(
                    select(
                        Booking.id,
                        Booking.status,
                        Booking.amount_refunded,
                        Booking.penalty_amount,
                    ).order_by(Booking.id)
                )
            ),
            "tickets": list(
                db.session.execute(select(Ticket.id, Ticket.status).order_by(Ticket.id))
            ),
            "trips": list(db.session.execute(select(Trip.id, Trip.status))),
        }


def trip_state(app, trip_id) -> dict:
    """The trip's status, its seat rows and its tickets' statuses."""
    with app.app_context():
        return {
            "status": db.session.get(Trip, trip_id).status,
            "seat_rows": db.session.scalar(
                select(func.count())
                .select_from(SeatSegment)
                .where(SeatSegment.trip_id == trip_id)
            ),
            "tickets": sorted(
                db.session.scalars(
                    select(Ticket.status).where(Ticket.trip_id == trip_id)
                )
            ),
        }


def booking_row(app, booking_id) -> Booking:
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        db.session.expunge(booking)
        return booking


def test_preview_lists_bookings_without_side_effects(app, client, actors, mailbox):
    s = scenario(app, actors)
    ids = s["ids"]
    before = snapshot(app)

    resp = cancel(
        client,
        actors.headers("operation_head"),
        s["trip"],
        reason="Coach broke down",
        preview=True,
    )

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["trip_id"], body["cancelled"], body["reason"]) == (
        s["trip"],
        False,
        "Coach broke down",
    )
    assert [
        (b["booking_id"], b["status"], b["passengers"], b["refund_amount"])
        for b in body["bookings"]
    ] == [
        (ids["paid"], "confirmed", 2, "40.00"),
        (ids["wallet"], "confirmed", 1, "10.00"),
        (ids["hold"], "held", 1, "0.00"),
    ]
    assert body["bookings"][0]["customer_id"] == s["alice"]["id"]
    assert body["bookings"][0]["reference"].startswith("ET-")
    assert (body["total_refund"], body["currency"], body["refund_to"]) == (
        "50.00",
        "EUR",
        "original",
    )
    assert snapshot(app) == before
    assert mailbox.messages == []


def test_cancel_refunds_every_booking_once_in_full(app, client, actors, mailbox):
    s = scenario(app, actors)
    ids = s["ids"]
    operator = operator_of(actors, s["line"]["company_id"])
    assert trip_state(app, s["trip"])["seat_rows"] == 2 * 2 + 1 + 1 + 2

    resp = cancel(client, operator["headers"], s["trip"], reason="Coach broke down")

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["cancelled"] is True
    assert [
        (b["booking_id"], b["status"], b["refund_amount"], b["refund_to"])
        for b in body["bookings"]
    ] == [
        (ids["paid"], "cancelled", "40.00", "original"),
        (ids["wallet"], "cancelled", "10.00", "original"),
        (ids["hold"], "cancelled", "0.00", "original"),
    ]
    assert (body["total_refund"], body["currency"]) == ("50.00", "EUR")
    # the trip, its seats and its tickets
    assert trip_state(app, s["trip"]) == {
        "status": "cancelled",
        "seat_rows": 0,
        "tickets": ["cancelled"] * 4,
    }
    # every live booking cancelled and refunded in full, by the operator
    for key in ("paid", "wallet", "hold"):
        booking = booking_row(app, ids[key])
        assert (booking.status, booking.penalty_amount) == ("cancelled", Decimal("0"))
        assert booking.amount_refunded == booking.amount_paid
        assert booking.cancelled_by_id == operator["id"]
        assert booking.cancel_reason == "Coach broke down"
    assert booking_row(app, ids["lapsed"]).status == "expired"
    assert booking_row(app, ids["old"]).cancel_reason is None  # untouched
    # one refund each, to the original method (cash and wallet)
    assert [(r["method"], r["amount"]) for r in refunds_of(app, ids["paid"])] == [
        ("cash", Decimal("40.00"))
    ]
    assert [
        (r["destination"], r["method"], r["status"], r["amount"])
        for r in refunds_of(app, ids["wallet"])
    ] == [("original", "wallet", "completed", Decimal("10.00"))]
    assert refunds_of(app, ids["hold"]) == []
    # one mail per booking, naming the reason and the refund
    for who, amount in (("alice", "40.00"), ("bob", "10.00"), ("carol", "0.00")):
        [mail] = mailbox.to(s[who]["email"])
        assert mail["Subject"].startswith("Trip cancelled")
        text = mail.get_body(("plain",)).get_content()
        assert "Coach broke down" in text and f"{amount} EUR" in text
    assert mailbox.to(s["dave"]["email"]) == mailbox.to(s["erin"]["email"]) == []
    # audited once, by the operator
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "trip.cancelled")
        )
        assert (entry.entity_type, entry.entity_id, entry.actor_id) == (
            "transport_trip",
            s["trip"],
            operator["id"],
        )
        assert entry.details["booking_ids"] == [ids["paid"], ids["wallet"], ids["hold"]]


def test_a_second_call_is_409_and_refunds_nothing_again(app, client, actors):
    s = scenario(app, actors)
    headers = actors.headers("admin")
    assert cancel(client, headers, s["trip"], reason="x").status_code == 200
    after_first = snapshot(app)

    again = cancel(client, headers, s["trip"], reason="x")
    preview = cancel(client, headers, s["trip"], reason="x", preview=True)

    assert again.status_code == preview.status_code == 409
    assert again.get_json()["type"].endswith("/trip-cancelled")
    assert snapshot(app) == after_first
    assert len(refunds_of(app, s["ids"]["paid"])) == 1


@pytest.mark.postgres
def test_concurrent_cancels_refund_once(app, actors):
    """Eight simultaneous cancels of one trip on a 2-worker gunicorn: one 200, the
    others 409 `trip-cancelled`, every booking refunded once."""
    s = scenario(app, actors)
    headers = [actors.headers("admin"), actors.headers("operation_head")]
    barrier = threading.Barrier(8)

    def post(n):
        with requests.Session() as session:
            barrier.wait(timeout=30)
            resp = session.post(
                f"{base_url}{URL.format(s['trip'])}",
                json={"reason": f"race {n}"},
                headers=headers[n % 2],
                timeout=60,
            )
            return resp.status_code, resp.json()

    with (
        gunicorn_server(workers=2, threads=4) as base_url,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        results = list(pool.map(post, range(8)))

    codes = sorted(status for status, _ in results)
    assert codes == [200] + [409] * 7, results
    assert all(
        body["type"].endswith("/trip-cancelled")
        for status, body in results
        if status == 409
    )
    assert [len(refunds_of(app, s["ids"][key])) for key in ("paid", "wallet")] == [1, 1]
    assert trip_state(app, s["trip"])["seat_rows"] == 0


def test_refund_to_wallet(app, client, actors):
    s = scenario(app, actors)

    resp = cancel(
        client, actors.headers("admin"), s["trip"], reason="Strike", refund_to="wallet"
    )

    assert resp.status_code == 200
    assert {b["refund_to"] for b in resp.get_json()["bookings"]} == {"wallet"}
    with app.app_context():
        balances = {
            who: db.session.scalar(
                select(func.sum(WalletEntry.amount)).where(
                    WalletEntry.customer_id == s[who]["id"]
                )
            )
            for who in ("alice", "bob")
        }
    assert balances == {"alice": Decimal("40.00"), "bob": Decimal("10.00")}
    assert [r["status"] for r in refunds_of(app, s["ids"]["paid"])] == ["completed"]


def test_the_webhook_event_is_queued(app, client, actors):
    s = scenario(app, actors)
    with app.app_context():
        db.session.add(
            WebhookEndpoint(
                url="https://hooks.example.com/in",
                event_types=["trip.cancelled"],
                secret=webhooks.new_secret(),
            )
        )
        db.session.commit()

    assert (
        cancel(client, actors.headers("admin"), s["trip"], reason="x").status_code
        == 200
    )

    with app.app_context():
        [event] = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "webhook")
        )
        assert (event.topic, event.payload["type"]) == ("trip.cancelled",) * 2
        data = event.payload["data"]
        assert (data["type"], data["id"]) == ("trip", s["trip"])
        assert data["url"].endswith(f"/api/v1/transport/trips/{s['trip']}")


def test_failure_rolls_everything_back(app, client, actors, monkeypatch):
    s = scenario(app, actors)
    before = snapshot(app)
    from services.payments import refunds

    real = refunds.issue_refunds
    calls = []

    def failing(booking, **kwargs):
        calls.append(booking.id)
        if len(calls) == 2:
            raise RuntimeError("payment provider down")
        return real(booking, **kwargs)

    monkeypatch.setattr(refunds, "issue_refunds", failing)

    resp = cancel(client, actors.headers("admin"), s["trip"], reason="x")

    assert resp.status_code == 500
    assert snapshot(app) == before


def test_a_departed_trip_is_409(app, client, actors):
    line = make_line(app, days_ahead=-1)
    me = actors.customer()
    booking_id = book_trip_in_db(app, line["trip_id"], me["id"])

    resp = cancel(client, actors.headers("admin"), line["trip_id"], reason="late")

    assert resp.status_code == 409
    assert resp.get_json()["type"].endswith("/trip-departed")
    assert booking_row(app, booking_id).status == "confirmed"
    assert trip_state(app, line["trip_id"])["status"] == "scheduled"


def test_an_empty_trip(app, client, actors):
    line = make_line(app)

    body = cancel(
        client, actors.headers("admin"), line["trip_id"], reason="No demand"
    ).get_json()

    assert (body["cancelled"], body["bookings"], body["total_refund"]) == (
        True,
        [],
        "0.00",
    )
    assert body["currency"] is None
    assert trip_state(app, line["trip_id"])["status"] == "cancelled"


def test_unknown_trip_404(client, actors):
    resp = cancel(client, actors.headers("admin"), 999999, reason="x")

    assert resp.status_code == 404


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "a\x00b"}, "reason"),
        ({"reason": "x" * 1001}, "reason"),
        ({"reason": "x", "preview": "yes?"}, "preview"),
        ({"reason": "x", "refund_to": "cash"}, "refund_to"),
        ({"reason": "x", "force": 1}, "force"),
    ],
)
def test_invalid_body_422(app, client, actors, body, field):
    line = make_line(app)

    resp = client.post(
        URL.format(line["trip_id"]), json=body, headers=actors.headers("admin")
    )

    assert resp.status_code == 422
    assert field in resp.get_json()["errors"]


@pytest.mark.parametrize(
    "role,expected",
    [
        ("admin", 200),
        ("operation_head", 200),
        ("own operator", 200),
        ("other operator", 404),
        ("operation", 403),
        ("sales", 403),
        ("finance", 403),
        ("hr", 403),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
def test_roles(app, client, actors, role, expected):
    line = make_line(app)
    me = actors.customer()
    booking_id = book_trip_in_db(app, line["trip_id"], me["id"])
    if role.endswith("operator"):
        company = (
            line["company_id"]
            if role == "own operator"
            else make_line(app)["company_id"]
        )
        headers = operator_of(actors, company)["headers"]
    else:
        headers = actors.headers(role)

    resp = cancel(client, headers, line["trip_id"], reason="x")

    assert resp.status_code == expected
    assert booking_row(app, booking_id).status == (
        "cancelled" if expected == 200 else "confirmed"
    )


# --- PATCH status cancelled and sold_tickets -----------------------------------------


def test_patch_cancel_with_tickets_points_to_the_cancel_endpoint(app, client, actors):
    line = make_line(app)
    me = actors.customer()
    book_trip_in_db(app, line["trip_id"], me["id"])

    resp = client.patch(
        f"{TRANSPORT}/trips/{line['trip_id']}",
        json={"status": "cancelled"},
        headers=actors.headers("admin"),
    )

    assert resp.status_code == 409
    problem = resp.get_json()
    assert problem["type"].endswith("/trip-has-tickets")
    assert f"/api/v1/transport/trips/{line['trip_id']}/cancel" in problem["detail"]
    assert problem["cancel_url"] == f"/api/v1/transport/trips/{line['trip_id']}/cancel"
    assert trip_state(app, line["trip_id"])["status"] == "scheduled"


def test_sold_tickets_counts_tickets_and_live_holds(app, client, actors):
    s = scenario(app, actors)
    trip_id = s["trip"]
    empty = make_line(app)["trip_id"]

    with app.app_context():
        # alice 2 tickets + bob 1 + carol's live hold 1 passenger; dave's lapsed
        # hold and erin's cancelled ticket do not count
        assert trip_service.sold_tickets(trip_id) == 4
        assert trip_service.sold_tickets(empty) == 0
    assert (
        cancel(client, actors.headers("admin"), trip_id, reason="x").status_code == 200
    )
    with app.app_context():
        assert trip_service.sold_tickets(trip_id) == 0


def test_a_live_hold_alone_blocks_patch_cancel(app, client, actors):
    line = make_line(app)
    me = actors.customer()
    hold = book_trip_in_db(app, line["trip_id"], me["id"], status="held")
    set_hold(app, hold, 10)
    url = f"{TRANSPORT}/trips/{line['trip_id']}"
    admin = actors.headers("admin")

    blocked = client.patch(url, json={"status": "cancelled"}, headers=admin)
    set_hold(app, hold, -1)
    allowed = client.patch(url, json={"status": "cancelled"}, headers=admin)

    assert blocked.status_code == 409
    assert allowed.status_code == 200, allowed.get_json()
