"""GET /bookings/<id>/cancellation-quote and POST /bookings/<id>/cancel: tiered
penalty from the money kept at the time of the request, seats back, refunds to the
wallet or the original methods, credit notes, idempotency, mail and the roles matrix
(docs/design.md "Rules with numbers": cancellation tiers).

The bookings come from tests/factories.py (`make_paid_booking`: bookings with
payments and an invoice inserted straight into the database), so these tests do not
depend on the booking and payment endpoints.
"""

import threading
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from core.extensions import db
from models import (
    Booking,
)
from services.booking import cancellations as cancellation_service
from tests.booking.conftest import (
    booking_state,
    db_snapshot,
    invoice_of,
    seats_taken,
    wallet_of,
)
from tests.factories import CANCEL_URL, refunds_of
from tests.factories import make_cancellable_departure as make_departure
from tests.factories import make_paid_booking as make_booking

QUOTE = "/api/v1/bookings/{}/cancellation-quote"
DAY = 24


# --- helpers (the factories are in tests/factories.py, shared readers in conftest.py)

D = Decimal


# --- quote: tiers ----------------------------------------------------------------

# (start in days from today, tier, percent) for the usual case; the departure starts
# at 00:00 UTC, so "N days" means between (N-1)*24 and N*24 hours. The assertion
# follows the hours the quote reports (exactly N*24 only at midnight UTC).
TIER_CASES = [
    (45, "30_days_or_more", 10),
    (31, "30_days_or_more", 10),  # 30 days + some hours: at least 720 h
    (30, "14_to_29_days", 25),  # 29 days 0-23 h
    (15, "14_to_29_days", 25),
    (14, "7_to_13_days", 50),  # 13 days 0-23 h
    (8, "7_to_13_days", 50),
    (7, "2_to_6_days", 75),  # 6 days 0-23 h
    (3, "2_to_6_days", 75),  # 48-72 h
    (2, "under_48_hours", 100),  # 24-48 h
    (1, "under_48_hours", 100),
]
THRESHOLDS = [
    (720, "30_days_or_more", 10),
    (336, "14_to_29_days", 25),
    (168, "7_to_13_days", 50),
    (48, "2_to_6_days", 75),
    (0, "under_48_hours", 100),
]


def tier_for_hours(hours: int) -> tuple[str, int]:
    """The tier docs/design.md "Rules with numbers" gives for `hours` whole hours
    before the start."""
    return next((tier, pct) for limit, tier, pct in THRESHOLDS if hours >= limit)


@pytest.mark.parametrize("days,tier,percent", TIER_CASES)
def test_quote_tier_by_days_before_departure(app, client, actors, days, tier, percent):
    me = actors.customer()
    dep = make_departure(app, start_in_days=days, price="1000.00")
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], seats=2)

    resp = client.get(QUOTE.format(bid), headers=me["headers"])

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (days - 1) * DAY <= body["hours_before_departure"] <= days * DAY
    expected = tier_for_hours(body["hours_before_departure"])
    if body["hours_before_departure"] != days * DAY:  # not exactly midnight UTC
        assert expected == (tier, percent)
    assert (body["tier"], body["penalty_percent"]) == expected
    penalty = (D("2000.00") * expected[1] / 100).quantize(
        D("0.01"), rounding=ROUND_HALF_UP
    )
    assert body["penalty_amount"] == f"{penalty:.2f}"
    assert body["refund_amount"] == f"{D('2000.00') - penalty:.2f}"
    assert body["kept_amount"] == "2000.00"
    assert body["currency"] == "EUR"
    assert body["cancellable"] is True
    assert body["booking_id"] == bid


def quote_at(app, booking_id, before: timedelta) -> dict:
    """The service quote at `before` ahead of the departure start (exact instants)."""
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        start = datetime.combine(
            booking.departure.start_date, datetime.min.time(), tzinfo=UTC
        )
        return cancellation_service.cancellation_quote(
            account=booking.customer, booking_id=booking_id, now=start - before
        )


@pytest.mark.parametrize(
    "before,tier,percent,hours",
    [
        (timedelta(days=30), "30_days_or_more", 10, 720),  # exactly 30 days
        (timedelta(days=30) - timedelta(seconds=1), "14_to_29_days", 25, 719),
        (timedelta(days=29, hours=23), "14_to_29_days", 25, 719),
        (timedelta(days=14), "14_to_29_days", 25, 336),
        (timedelta(days=14) - timedelta(seconds=1), "7_to_13_days", 50, 335),
        (timedelta(days=7), "7_to_13_days", 50, 168),
        (timedelta(days=6, hours=23), "2_to_6_days", 75, 167),
        (timedelta(hours=48), "2_to_6_days", 75, 48),
        (timedelta(hours=47), "under_48_hours", 100, 47),
        (timedelta(seconds=1), "under_48_hours", 100, 0),
    ],
)
def test_quote_exact_tier_boundaries(app, actors, before, tier, percent, hours):
    me = actors.customer()
    dep = make_departure(app, start_in_days=60, price="333.33")
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], seats=1)

    quote = quote_at(app, bid, before)

    assert (quote["tier"], quote["penalty_percent"]) == (tier, percent)
    assert quote["hours_before_departure"] == hours
    penalty = (D("333.33") * percent / 100).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert quote["penalty_amount"] == penalty
    assert quote["refund_amount"] == D("333.33") - penalty
    assert quote["cancellable"] is True


def test_quote_rounds_half_up(app, actors):
    me = actors.customer()
    dep = make_departure(app, start_in_days=60, price="100.05")
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], seats=1)

    quote = quote_at(app, bid, timedelta(days=20))  # 25 % of 100.05 = 25.0125

    assert quote["penalty_amount"] == D("25.01")
    quote = quote_at(app, bid, timedelta(days=40))  # 10 % of 100.05 = 10.005 -> 10.01
    assert quote["penalty_amount"] == D("10.01")
    assert quote["refund_amount"] == D("90.04")


@pytest.mark.parametrize("before", [timedelta(0), timedelta(hours=-5)])
def test_quote_at_or_after_start_not_cancellable(app, actors, before):
    me = actors.customer()
    dep = make_departure(app, start_in_days=60)
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], seats=1)

    quote = quote_at(app, bid, before)

    assert quote["cancellable"] is False
    assert quote["tier"] == "departure_started"
    assert quote["refund_amount"] == D("0.00")


def test_quote_after_departure_started_via_api(app, client, actors):
    me = actors.customer()
    dep = make_departure(app, start_in_days=0)  # started at 00:00 UTC today
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], seats=1)

    resp = client.get(QUOTE.format(bid), headers=me["headers"])

    assert resp.status_code == 200
    body = resp.get_json()
    assert body["cancellable"] is False
    assert body["hours_before_departure"] < 0
    assert body["refund_amount"] == "0.00"


def test_quote_unpaid_hold_is_free(app, client, actors):
    me = actors.customer()
    dep = make_departure(app, start_in_days=1)  # under 48 hours: would be 100 %
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], status="held")

    body = client.get(QUOTE.format(bid), headers=me["headers"]).get_json()

    assert body["tier"] == "unpaid_hold"
    assert (body["penalty_percent"], body["penalty_amount"]) == (0, "0.00")
    assert (body["refund_amount"], body["kept_amount"]) == ("0.00", "0.00")
    assert body["cancellable"] is True


def test_quote_deposit_penalty_from_amount_paid(app, client, actors):
    me = actors.customer()
    dep = make_departure(app, start_in_days=20, price="1000.00")
    bid = make_booking(
        app,
        departure_id=dep,
        customer_id=me["id"],
        seats=2,
        deposit_percent=30,
        payments=[("card", "600.00")],
    )

    body = client.get(QUOTE.format(bid), headers=me["headers"]).get_json()

    assert body["tier"] == "14_to_29_days"
    assert body["kept_amount"] == "600.00"
    assert body["penalty_amount"] == "150.00"  # 25 % of 600 paid, not of 2000
    assert body["refund_amount"] == "450.00"


def test_quote_has_no_side_effects(app, client, actors):
    me = actors.customer()
    dep = make_departure(app, start_in_days=20)
    bid = make_booking(
        app,
        departure_id=dep,
        customer_id=me["id"],
        payments=[("wallet", "500.00"), ("card", "1500.00")],
    )
    before = db_snapshot(app)

    for _ in range(3):
        assert client.get(QUOTE.format(bid), headers=me["headers"]).status_code == 200

    assert db_snapshot(app) == before


@pytest.mark.parametrize("status", ["completed", "cancelled", "expired"])
def test_quote_booking_not_live_conflict(app, client, actors, status):
    me = actors.customer()
    dep = make_departure(app)
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], status=status)

    resp = client.get(QUOTE.format(bid), headers=me["headers"])

    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/booking-not-cancellable"


def test_quote_lapsed_hold_conflict(app, client, actors):
    me = actors.customer()
    dep = make_departure(app)
    bid = make_booking(
        app, departure_id=dep, customer_id=me["id"], status="held", hold_lapsed=True
    )

    resp = client.get(QUOTE.format(bid), headers=me["headers"])

    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/booking-expired"


def test_quote_other_customers_booking_404(app, client, actors):
    owner, other = actors.customer(), actors.customer()
    dep = make_departure(app)
    bid = make_booking(app, departure_id=dep, customer_id=owner["id"])

    assert client.get(QUOTE.format(bid), headers=other["headers"]).status_code == 404
    assert client.get(QUOTE.format(999999), headers=owner["headers"]).status_code == 404


@pytest.mark.parametrize(
    "role,expected",
    [
        ("admin", 200),
        ("sales", 200),
        ("hr", 403),
        ("operation", 403),
        ("operation_head", 403),
        ("finance", 403),
        ("anonymous", 401),
    ],
)
def test_quote_roles(app, client, actors, role, expected):
    owner = actors.customer()
    dep = make_departure(app)
    bid = make_booking(app, departure_id=dep, customer_id=owner["id"])

    resp = client.get(QUOTE.format(bid), headers=actors.headers(role))

    assert resp.status_code == expected


# --- cancel ------------------------------------------------------------------------


def cancel(client, headers, booking_id, **body):
    return client.post(CANCEL_URL.format(booking_id), json=body, headers=headers)


def test_cancel_unpaid_hold_is_free_and_seats_come_back(app, client, actors, mailbox):
    me = actors.customer()
    dep = make_departure(app, start_in_days=1)
    bid = make_booking(
        app, departure_id=dep, customer_id=me["id"], status="held", seats=3
    )
    assert seats_taken(app, dep) == 3

    resp = cancel(client, me["headers"], bid, reason="changed plans")

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["booking"]["status"] == "cancelled"
    assert body["booking"]["hold_expires_at"] is None
    assert (body["tier"], body["penalty_amount"], body["refund_amount"]) == (
        "unpaid_hold",
        "0.00",
        "0.00",
    )
    assert body["refunds"] == []
    assert seats_taken(app, dep) == 0
    state = booking_state(app, bid)
    assert state["status"] == "cancelled"
    assert state["penalty_amount"] == D("0.00")
    assert state["cancel_reason"] == "changed plans"
    assert state["cancelled_by_id"] is None and state["cancelled_at"] is not None
    assert invoice_of(app, bid) == {"status": "void", "credited": D("3000.00")}
    [mail] = mailbox.to(me["email"])
    assert mail["Subject"].endswith("cancelled")


def test_cancel_deposit_penalty_from_amount_paid_not_total(app, client, actors):
    me = actors.customer()
    dep = make_departure(app, start_in_days=60, price="1000.00")
    bid = make_booking(
        app,
        departure_id=dep,
        customer_id=me["id"],
        seats=2,
        deposit_percent=30,
        payments=[("card", "600.00")],
    )

    body = cancel(client, me["headers"], bid).get_json()

    assert (body["tier"], body["penalty_amount"], body["refund_amount"]) == (
        "30_days_or_more",
        "60.00",
        "540.00",
    )
    assert body["refund_to"] == "original"
    assert [
        (r["destination"], r["method"], r["status"], r["amount"])
        for r in body["refunds"]
    ] == [("original", "card", "pending", "540.00")]
    state = booking_state(app, bid)
    assert (
        state["amount_paid"],
        state["amount_refunded"],
        state["penalty_amount"],
    ) == (D("600.00"), D("540.00"), D("60.00"))
    # total 2000 - penalty 60 credited; the 60 kept pays what is left: paid.
    assert invoice_of(app, bid) == {"status": "paid", "credited": D("1940.00")}
    assert seats_taken(app, dep) == 0


def test_cancel_to_wallet_is_instant_with_ledger_entry(app, client, actors, mailbox):
    me = actors.customer()
    dep = make_departure(app, start_in_days=20, price="1000.00")
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], seats=1)

    resp = cancel(client, me["headers"], bid, refund_to="wallet")

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["penalty_amount"], body["refund_amount"]) == ("250.00", "750.00")
    [refund] = body["refunds"]
    assert (
        refund["destination"],
        refund["method"],
        refund["status"],
        refund["amount"],
    ) == ("wallet", "wallet", "completed", "750.00")
    assert refund["completed_at"] is not None
    balance, lines = wallet_of(app, me["id"])
    assert balance == D("750.00")
    assert lines == [("refund_credit", D("750.00"), refund["id"])]
    assert invoice_of(app, bid)["status"] == "paid"
    [mail] = mailbox.to(me["email"])
    text = mail.get_body(("plain",)).get_content()
    assert (
        "Penalty kept: 250.00 EUR" in text
        and "Refund: 750.00 EUR to your wallet" in text
    )


@pytest.mark.parametrize(
    "days,expected",
    [
        # 25 %: penalty 250, refund 750 = the card's 700 (newest) + 50 of the wallet's.
        (
            20,
            [
                ("original", "wallet", "completed", D("50.00")),
                ("original", "card", "pending", D("700.00")),
            ],
        ),
        # 10 %: penalty 100, refund 900 = card 700 + wallet 200.
        (
            60,
            [
                ("original", "wallet", "completed", D("200.00")),
                ("original", "card", "pending", D("700.00")),
            ],
        ),
    ],
)
def test_cancel_mixed_wallet_and_card_split(app, client, actors, days, expected):
    me = actors.customer()
    dep = make_departure(app, start_in_days=days, price="1000.00")
    bid = make_booking(
        app,
        departure_id=dep,
        customer_id=me["id"],
        seats=1,
        payments=[("wallet", "300.00"), ("card", "700.00")],
    )

    resp = cancel(client, me["headers"], bid, refund_to="original")

    assert resp.status_code == 200, resp.get_json()
    got = [
        (r["destination"], r["method"], r["status"], r["amount"])
        for r in refunds_of(app, bid)
    ]
    assert got == expected
    balance, lines = wallet_of(app, me["id"])
    assert balance == expected[0][3]
    assert lines[-1][:2] == ("refund_credit", expected[0][3])
    assert booking_state(app, bid)["amount_refunded"] == sum(r[3] for r in expected)


def test_cancel_card_payments_split_newest_first(app, client, actors):
    me = actors.customer()
    dep = make_departure(app, start_in_days=20, price="1000.00")
    bid = make_booking(
        app,
        departure_id=dep,
        customer_id=me["id"],
        seats=1,
        payments=[("bank_transfer", "600.00"), ("card", "400.00")],
    )

    cancel(client, actors.headers("sales"), bid)

    # refund 750: the newest payment (card 400) first, then 350 of the transfer.
    got = [(r["method"], r["status"], r["amount"]) for r in refunds_of(app, bid)]
    assert got == [
        ("card", "pending", D("400.00")),
        ("bank_transfer", "pending", D("350.00")),
    ]


def test_cancel_twice_conflict(app, client, actors):
    me = actors.customer()
    dep = make_departure(app)
    bid = make_booking(app, departure_id=dep, customer_id=me["id"])
    assert cancel(client, me["headers"], bid).status_code == 200

    resp = cancel(client, me["headers"], bid)

    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/booking-not-cancellable"
    assert len(refunds_of(app, bid)) == 1
    assert seats_taken(app, dep) == 0


@pytest.mark.parametrize("status", ["expired", "completed"])
def test_cancel_not_live_conflict(app, client, actors, status):
    me = actors.customer()
    dep = make_departure(app)
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], status=status)
    before = db_snapshot(app)

    resp = cancel(client, me["headers"], bid)

    assert resp.status_code == 409
    assert db_snapshot(app) == before


def test_cancel_lapsed_hold_conflict_without_changes(app, client, actors):
    me = actors.customer()
    dep = make_departure(app)
    bid = make_booking(
        app, departure_id=dep, customer_id=me["id"], status="held", hold_lapsed=True
    )
    before = db_snapshot(app)

    resp = cancel(client, me["headers"], bid)

    assert resp.status_code == 409
    assert resp.get_json()["detail"] == "The booking's hold has already expired."
    assert db_snapshot(app) == before


def test_cancel_after_departure_started_conflict(app, client, actors):
    me = actors.customer()
    dep = make_departure(app, start_in_days=0)
    bid = make_booking(app, departure_id=dep, customer_id=me["id"])
    before = db_snapshot(app)

    resp = cancel(client, actors.headers("admin"), bid, waive_penalty=True)

    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/departure-started"
    assert db_snapshot(app) == before


@pytest.mark.parametrize("role", ["admin", "sales"])
def test_cancel_staff_waive_gives_full_refund(app, client, actors, role):
    me = actors.customer()
    staff = actors.account(role)
    dep = make_departure(app, start_in_days=1, price="1000.00")  # would be 100 %
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], seats=1)

    resp = cancel(
        client, staff["headers"], bid, waive_penalty=True, reason="hotel closed"
    )

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["tier"], body["penalty_amount"], body["refund_amount"]) == (
        "waived",
        "0.00",
        "1000.00",
    )
    assert body["refunds"][0]["created_by_id"] == staff["id"]
    state = booking_state(app, bid)
    assert state["cancelled_by_id"] == staff["id"]
    assert state["amount_refunded"] == D("1000.00")
    assert invoice_of(app, bid) == {"status": "void", "credited": D("1000.00")}


def test_cancel_staff_without_waiver_pays_the_tier(app, client, actors):
    me = actors.customer()
    dep = make_departure(app, start_in_days=1, price="1000.00")
    bid = make_booking(app, departure_id=dep, customer_id=me["id"], seats=1)

    body = cancel(client, actors.headers("sales"), bid).get_json()

    assert (body["penalty_amount"], body["refund_amount"], body["refunds"]) == (
        "1000.00",
        "0.00",
        [],
    )
    assert invoice_of(app, bid) == {"status": "paid", "credited": D("0.00")}


def test_cancel_customer_waiver_forbidden(app, client, actors):
    me = actors.customer()
    dep = make_departure(app)
    bid = make_booking(app, departure_id=dep, customer_id=me["id"])

    resp = cancel(client, me["headers"], bid, waive_penalty=True)

    assert resp.status_code == 403
    assert resp.get_json()["type"] == "/problems/waive-forbidden"
    assert booking_state(app, bid)["status"] == "confirmed"


def test_cancel_other_customers_booking_404(app, client, actors):
    owner, other = actors.customer(), actors.customer()
    dep = make_departure(app)
    bid = make_booking(app, departure_id=dep, customer_id=owner["id"])

    resp = cancel(client, other["headers"], bid)

    assert resp.status_code == 404
    assert booking_state(app, bid)["status"] == "confirmed"


@pytest.mark.parametrize(
    "role,expected",
    [
        ("admin", 200),
        ("sales", 200),
        ("hr", 403),
        ("operation", 403),
        ("operation_head", 403),
        ("finance", 403),
        ("anonymous", 401),
    ],
)
def test_cancel_roles(app, client, actors, role, expected):
    owner = actors.customer()
    dep = make_departure(app)
    bid = make_booking(app, departure_id=dep, customer_id=owner["id"])

    resp = cancel(client, actors.headers(role), bid)

    assert resp.status_code == expected
    assert booking_state(app, bid)["status"] == (
        "cancelled" if expected == 200 else "confirmed"
    )


@pytest.mark.parametrize(
    "body,field",
    [
        ({"refund_to": "bank"}, "refund_to"),
        ({"waive_penalty": "maybe"}, "waive_penalty"),
        ({"reason": "x" * 1001}, "reason"),
        ({"penalty": "0"}, "penalty"),
    ],
)
def test_cancel_invalid_body_422(app, client, actors, body, field):
    me = actors.customer()
    dep = make_departure(app)
    bid = make_booking(app, departure_id=dep, customer_id=me["id"])

    resp = cancel(client, me["headers"], bid, **body)

    assert resp.status_code == 422
    assert field in resp.get_json()["errors"]
    assert booking_state(app, bid)["status"] == "confirmed"


def test_cancel_wallet_refund_in_other_currency_422(app, client, actors):
    me = actors.customer()
    dep = make_departure(app, currency="USD")
    bid = make_booking(app, departure_id=dep, customer_id=me["id"])

    resp = cancel(client, me["headers"], bid, refund_to="wallet")

    assert resp.status_code == 422
    assert "refund_to" in resp.get_json()["errors"]
    assert booking_state(app, bid)["status"] == "confirmed"


def test_cancel_idempotent_same_key_same_answer(app, client, actors, mailbox):
    me = actors.customer()
    dep = make_departure(app, start_in_days=20)
    bid = make_booking(app, departure_id=dep, customer_id=me["id"])
    headers = {**me["headers"], "Idempotency-Key": "cancel-1"}

    first = client.post(
        CANCEL_URL.format(bid), json={"refund_to": "wallet"}, headers=headers
    )
    second = client.post(
        CANCEL_URL.format(bid), json={"refund_to": "wallet"}, headers=headers
    )

    assert first.status_code == second.status_code == 200
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(refunds_of(app, bid)) == 1
    assert wallet_of(app, me["id"])[0] == D("1500.00")
    assert len(mailbox.to(me["email"])) == 1
    other = client.post(
        CANCEL_URL.format(bid), json={"refund_to": "original"}, headers=headers
    )
    assert other.status_code == 422


def test_cancel_invoice_missing_still_cancels(app, client, actors):
    me = actors.customer()
    dep = make_departure(app)
    bid = make_booking(
        app, departure_id=dep, customer_id=me["id"], status="held", invoice=False
    )

    resp = cancel(client, me["headers"], bid)

    assert resp.status_code == 200
    assert booking_state(app, bid)["status"] == "cancelled"


@pytest.mark.postgres
def test_cancel_concurrent_requests_only_one_wins(app, actors):
    me = actors.customer()
    dep = make_departure(app, start_in_days=20)
    bid = make_booking(app, departure_id=dep, customer_id=me["id"])
    barrier, codes = threading.Barrier(4), []

    def attempt():
        local = app.test_client()
        barrier.wait()
        codes.append(cancel(local, me["headers"], bid).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes) == [200, 409, 409, 409]
    assert len(refunds_of(app, bid)) == 1
    assert seats_taken(app, dep) == 0
    assert booking_state(app, bid)["amount_refunded"] == D("1500.00")
