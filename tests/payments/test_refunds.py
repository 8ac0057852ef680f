"""GET /refunds, GET /refunds/<id>, POST /refunds/<id>/complete: who sees refunds,
filters, and finance completing refunds to the original method exactly once
(docs/design.md "Resource map": /refunds; roles matrix row "record payment /
refund")."""

import threading
from decimal import Decimal

import pytest

from core.extensions import db
from models import Refund
from tests.factories import cancelled_booking, one_page_meta

LIST = "/api/v1/refunds"
ONE = "/api/v1/refunds/{}"
COMPLETE = "/api/v1/refunds/{}/complete"


def refund_row(app, refund_id) -> Refund:
    with app.app_context():
        refund = db.session.get(Refund, refund_id)
        db.session.expunge(refund)
        return refund


# --- complete --------------------------------------------------------------------


def test_complete_original_refund_by_finance(app, client, actors):
    me = actors.customer()
    [pending] = cancelled_booking(app, client, actors, me)
    assert (pending["status"], pending["method"], pending["amount"]) == (
        "pending",
        "card",
        Decimal("900.00"),
    )
    finance = actors.account("finance")

    resp = client.post(
        COMPLETE.format(pending["id"]),
        json={"reference": "PSP-REF-1"},
        headers=finance["headers"],
    )

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["status"], body["reference"], body["completed_by_id"]) == (
        "completed",
        "PSP-REF-1",
        finance["id"],
    )
    assert body["completed_at"] is not None and body["amount"] == "900.00"
    row = refund_row(app, pending["id"])
    assert (row.status, row.reference, row.completed_by_id) == (
        "completed",
        "PSP-REF-1",
        finance["id"],
    )


def test_complete_twice_conflict(app, client, actors):
    me = actors.customer()
    [pending] = cancelled_booking(app, client, actors, me)
    url = COMPLETE.format(pending["id"])
    assert client.post(url, json={}, headers=actors.headers("admin")).status_code == 200
    first = refund_row(app, pending["id"])

    resp = client.post(
        url, json={"reference": "again"}, headers=actors.headers("finance")
    )

    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/refund-completed"
    row = refund_row(app, pending["id"])
    assert (row.reference, row.completed_by_id, row.completed_at) == (
        None,
        first.completed_by_id,
        first.completed_at,
    )


def test_complete_wallet_refund_conflict(app, client, actors):
    me = actors.customer()
    [done] = cancelled_booking(app, client, actors, me, refund_to="wallet")
    assert done["status"] == "completed"

    resp = client.post(
        COMPLETE.format(done["id"]), json={}, headers=actors.headers("finance")
    )

    assert resp.status_code == 409


def test_complete_without_body_and_unknown_404(app, client, actors):
    me = actors.customer()
    [pending] = cancelled_booking(app, client, actors, me)
    headers = actors.headers("finance")

    assert (
        client.post(COMPLETE.format(999999), json={}, headers=headers).status_code
        == 404
    )
    assert (
        client.post(COMPLETE.format(pending["id"]), headers=headers).status_code == 200
    )


@pytest.mark.parametrize(
    "body,field",
    [
        ({"reference": ""}, "reference"),
        ({"reference": "x" * 121}, "reference"),
        ({"status": "completed"}, "status"),
    ],
)
def test_complete_invalid_body_422(app, client, actors, body, field):
    me = actors.customer()
    [pending] = cancelled_booking(app, client, actors, me)

    resp = client.post(
        COMPLETE.format(pending["id"]), json=body, headers=actors.headers("finance")
    )

    assert resp.status_code == 422
    assert field in resp.get_json()["errors"]
    assert refund_row(app, pending["id"]).status == "pending"


@pytest.mark.parametrize(
    "role,expected",
    [
        ("admin", 200),
        ("finance", 200),
        ("sales", 403),
        ("hr", 403),
        ("operation", 403),
        ("operation_head", 403),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
def test_complete_roles(app, client, actors, role, expected):
    me = actors.customer()
    [pending] = cancelled_booking(app, client, actors, me)

    resp = client.post(
        COMPLETE.format(pending["id"]), json={}, headers=actors.headers(role)
    )

    assert resp.status_code == expected
    status = refund_row(app, pending["id"]).status
    assert status == ("completed" if expected == 200 else "pending")


@pytest.mark.postgres
def test_complete_concurrent_only_one_wins(app, actors):
    client = app.test_client()
    me = actors.customer()
    [pending] = cancelled_booking(app, client, actors, me)
    headers = actors.headers("finance")
    barrier, codes = threading.Barrier(4), []

    def attempt():
        local = app.test_client()
        barrier.wait()
        codes.append(
            local.post(
                COMPLETE.format(pending["id"]), json={}, headers=headers
            ).status_code
        )

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes) == [200, 409, 409, 409]


# --- list and view ----------------------------------------------------------------


def test_list_finance_sees_all_newest_first_with_filters(app, client, actors):
    alice, bob = actors.customer(), actors.customer()
    a_refunds = cancelled_booking(
        app, client, actors, alice, payments=[("wallet", "200.00"), ("card", "800.00")]
    )
    b_refunds = cancelled_booking(app, client, actors, bob)
    headers = actors.headers("finance")

    body = client.get(LIST, headers=headers).get_json()

    all_ids = [r["id"] for r in a_refunds + b_refunds]
    assert [item["id"] for item in body["items"]] == sorted(all_ids, reverse=True)
    assert body["meta"] == one_page_meta(3)
    pending = client.get(LIST, query_string={"status": "pending"}, headers=headers)
    assert {r["status"] for r in pending.get_json()["items"]} == {"pending"}
    assert pending.get_json()["meta"]["total"] == 2
    by_customer = client.get(
        LIST, query_string={"customer_id": alice["id"]}, headers=headers
    )
    assert sorted(r["id"] for r in by_customer.get_json()["items"]) == sorted(
        r["id"] for r in a_refunds
    )
    one = b_refunds[0]
    with app.app_context():
        booking_id = db.session.get(Refund, one["id"]).booking_id
    by_booking = client.get(
        LIST, query_string={"booking_id": booking_id}, headers=headers
    )
    assert [r["id"] for r in by_booking.get_json()["items"]] == [one["id"]]
    item = by_booking.get_json()["items"][0]
    assert (item["booking_id"], item["customer_id"], item["currency"]) == (
        booking_id,
        bob["id"],
        "EUR",
    )


def test_list_customer_sees_only_own(app, client, actors):
    alice, bob = actors.customer(), actors.customer()
    mine = cancelled_booking(app, client, actors, alice)
    cancelled_booking(app, client, actors, bob)

    body = client.get(LIST, headers=alice["headers"]).get_json()
    filtered = client.get(
        LIST, query_string={"customer_id": bob["id"]}, headers=alice["headers"]
    ).get_json()

    assert [r["id"] for r in body["items"]] == [mine[0]["id"]]
    assert filtered["items"] == []


@pytest.mark.parametrize(
    "query,field",
    [
        ({"status": "done"}, "query.status"),
        ({"per_page": 101}, "query.per_page"),
        ({"sort": "reason"}, "query.sort"),
    ],
)
def test_list_invalid_query_422(app, client, actors, query, field):
    resp = client.get(LIST, query_string=query, headers=actors.headers("finance"))

    assert resp.status_code == 422
    assert field in resp.get_json()["errors"]


def test_list_sort_by_amount(app, client, actors):
    alice = actors.customer()
    refunds = cancelled_booking(
        app, client, actors, alice, payments=[("wallet", "200.00"), ("card", "800.00")]
    )

    body = client.get(
        LIST, query_string={"sort": "amount"}, headers=actors.headers("admin")
    ).get_json()

    assert [r["amount"] for r in body["items"]] == ["100.00", "800.00"]
    assert len(refunds) == 2


@pytest.mark.parametrize(
    "role,expected",
    [
        ("admin", 200),
        ("finance", 200),
        ("customer", 200),
        ("sales", 403),
        ("hr", 403),
        ("operation", 403),
        ("operation_head", 403),
        ("anonymous", 401),
    ],
)
def test_list_roles(app, client, actors, role, expected):
    assert client.get(LIST, headers=actors.headers(role)).status_code == expected


def test_get_own_and_others_404(app, client, actors):
    alice, bob = actors.customer(), actors.customer()
    [refund] = cancelled_booking(app, client, actors, alice)

    own = client.get(ONE.format(refund["id"]), headers=alice["headers"])
    other = client.get(ONE.format(refund["id"]), headers=bob["headers"])
    staff = client.get(ONE.format(refund["id"]), headers=actors.headers("finance"))
    sales = client.get(ONE.format(refund["id"]), headers=actors.headers("sales"))

    assert own.status_code == 200 and own.get_json()["amount"] == "900.00"
    assert own.get_json()["destination"] == "original"
    assert other.status_code == 404
    assert staff.status_code == 200
    assert sales.status_code == 403
    assert client.get(ONE.format(999999), headers=alice["headers"]).status_code == 404
