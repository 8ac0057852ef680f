"""Merging customers who share no email or phone waits for a second employee
(docs/security.md "Merging customers"; services/sales/merge_requests.py), over
HTTP: the request is filed and nothing moves, the requester cannot approve it
(role or maker-checker), an admin or finance employee approves (the merge happens,
audited) or rejects it; a pair whose email or phone match still merges at once."""

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from core.errors import APIError
from core.extensions import db
from models import AuditEntry, Booking, Customer, CustomerMergeRequest, Employee
from services.payments import wallet
from services.sales import customer_merge, merge_requests
from tests.factories import make_departure, one_page_meta

API = "/api/v1"
REQUESTS = f"{API}/customer-merge-requests"


def ask_merge(client, headers, keep_id, gone_id, **body):
    """POST /customers/<keep>/merge {from_customer_id: gone, ...}."""
    return client.post(
        f"{API}/customers/{keep_id}/merge",
        headers=headers,
        json={"from_customer_id": gone_id, **body},
    )


def book(client, headers, customer_id, departure_id):
    response = client.post(
        f"{API}/bookings",
        headers=headers,
        json={"departure_id": departure_id, "seats": 1, "customer_id": customer_id},
    )
    assert response.status_code == 201, response.json
    return response.json


def credit(app, customer_id, amount):
    with app.app_context():
        wallet.post_entry(
            customer_id=customer_id,
            amount=Decimal(amount),
            kind="adjustment",
            reason="Goodwill",
        )
        db.session.commit()


def customer_state(app, customer_id):
    """(active, merged_into_id, wallet_balance) of a customer in the database."""
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        return customer.active, customer.merged_into_id, customer.wallet_balance


def audit_rows(app, action):
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action)
        ).all()


def decide(client, headers, request_id, verb, **body):
    return client.post(
        f"{REQUESTS}/{request_id}/{verb}",
        headers=headers,
        json=body or None,
    )


def test_unrelated_pair_waits_for_a_checker_then_merges(app, client, actors):
    sales = actors.account("sales")
    finance = actors.account("finance")
    keep = actors.customer(phone="+44 20 7946 0958")
    gone = actors.customer(phone="+1 555 123 4567")
    departure = make_departure(app, capacity=10)
    moved = book(client, sales["headers"], gone["id"], departure)
    credit(app, keep["id"], "10.00")
    credit(app, gone["id"], "40.00")

    filed = ask_merge(
        client, sales["headers"], keep["id"], gone["id"], reason="Same passport"
    )
    assert filed.status_code == 202, filed.json
    request_id = filed.json["id"]
    assert filed.headers["Location"] == f"{REQUESTS}/{request_id}"
    assert {
        key: filed.json[key]
        for key in (
            "customer_id",
            "from_customer_id",
            "status",
            "reason",
            "requested_by_id",
            "decided_by_id",
        )
    } == {
        "customer_id": keep["id"],
        "from_customer_id": gone["id"],
        "status": "pending",
        "reason": "Same passport",
        "requested_by_id": sales["id"],
        "decided_by_id": None,
    }
    # Nothing moved: both records, their wallets and the booking are untouched.
    assert customer_state(app, gone["id"]) == (True, None, Decimal("40.00"))
    assert customer_state(app, keep["id"]) == (True, None, Decimal("10.00"))
    with app.app_context():
        assert db.session.get(Booking, moved["id"]).customer_id == gone["id"]
    assert audit_rows(app, "customer.merged") == []
    assert len(audit_rows(app, "customer_merge_request.created")) == 1
    assert client.get(f"{API}/auth/me", headers=gone["headers"]).status_code == 200

    shown = client.get(filed.headers["Location"], headers=finance["headers"])
    assert shown.status_code == 200 and shown.json == filed.json

    by_requester = decide(client, sales["headers"], request_id, "approve")
    assert by_requester.status_code == 403
    assert customer_state(app, gone["id"]) == (True, None, Decimal("40.00"))

    approved = decide(client, finance["headers"], request_id, "approve")
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved"
    assert approved.json["decided_by_id"] == finance["id"]
    assert approved.json["decided_at"] is not None
    assert customer_state(app, gone["id"]) == (False, keep["id"], Decimal("0.00"))
    assert customer_state(app, keep["id"]) == (True, None, Decimal("50.00"))
    with app.app_context():
        assert db.session.get(Booking, moved["id"]).customer_id == keep["id"]
    [merged] = audit_rows(app, "customer.merged")
    assert (merged.actor_id, merged.actor_email, merged.entity_id) == (
        finance["id"],
        finance["email"],
        keep["id"],
    )
    assert merged.details["merge_request_id"] == request_id
    assert merged.details["requested_by_id"] == sales["id"]
    assert merged.details["requested_by_email"] == sales["email"]
    assert merged.details["bookings"] == [moved["id"]]
    [decision] = audit_rows(app, "customer_merge_request.approved")
    assert (decision.actor_id, decision.entity_id) == (finance["id"], request_id)
    assert client.get(f"{API}/auth/me", headers=gone["headers"]).status_code == 401

    again = decide(client, finance["headers"], request_id, "approve")
    assert again.status_code == 409
    assert again.json["type"] == "/problems/invalid-transition"
    assert len(audit_rows(app, "customer.merged")) == 1


def test_an_admin_cannot_approve_their_own_merge_request(app, client, actors):
    admin = actors.account("admin")
    keep, gone = actors.customer(), actors.customer()
    filed = ask_merge(client, admin["headers"], keep["id"], gone["id"])
    assert filed.status_code == 202, filed.json
    request_id = filed.json["id"]
    for verb, body in (("approve", {}), ("reject", {"reason": "Mine"})):
        own = decide(client, admin["headers"], request_id, verb, **body)
        assert own.status_code == 403, (verb, own.json)
        assert own.json["type"] == "/problems/maker-checker"
    shown = client.get(f"{REQUESTS}/{request_id}", headers=admin["headers"])
    assert shown.json["status"] == "pending"
    assert customer_state(app, gone["id"])[:2] == (True, None)
    other_admin = actors.employee("admin")
    approved = decide(client, other_admin["headers"], request_id, "approve")
    assert approved.status_code == 200, approved.json
    assert customer_state(app, gone["id"])[:2] == (False, keep["id"])


def test_a_matching_phone_or_email_merges_at_once(app, client, actors):
    sales = actors.headers("sales")
    keep = actors.customer(phone="+44 20 7946 0958")
    gone = actors.customer(phone="020-7946-0958")
    by_phone = ask_merge(client, sales, keep["id"], gone["id"])
    assert by_phone.status_code == 200, by_phone.json
    assert by_phone.json["id"] == keep["id"]
    assert customer_state(app, gone["id"])[:2] == (False, keep["id"])

    first = actors.customer(email="Ines.Faria@Example.test")
    second = actors.customer(email="ines.faria@example.test", phone="+351 912 345 678")
    by_email = ask_merge(client, sales, first["id"], second["id"])
    assert by_email.status_code == 200, by_email.json
    assert by_email.json["phone"] == "+351 912 345 678"
    assert customer_state(app, second["id"])[:2] == (False, first["id"])

    assert [e.details["matched_on"] for e in audit_rows(app, "customer.merged")] == [
        ["phone"],
        ["email"],
    ]
    listed = client.get(REQUESTS, headers=sales)
    assert listed.status_code == 200 and listed.json["items"] == []


def test_a_checker_rejects_and_nothing_moves(app, client, actors):
    sales = actors.account("sales")
    finance = actors.account("finance")
    keep, gone = actors.customer(), actors.customer()
    credit(app, gone["id"], "25.00")
    request_id = ask_merge(client, sales["headers"], keep["id"], gone["id"]).json["id"]

    assert decide(client, finance["headers"], request_id, "reject").status_code == 422
    assert (
        decide(client, sales["headers"], request_id, "reject", reason="No").status_code
        == 403
    )
    rejected = decide(
        client, finance["headers"], request_id, "reject", reason="Two people"
    )
    assert rejected.status_code == 200, rejected.json
    assert (rejected.json["status"], rejected.json["rejection_reason"]) == (
        "rejected",
        "Two people",
    )
    assert rejected.json["decided_by_id"] == finance["id"]
    assert customer_state(app, gone["id"]) == (True, None, Decimal("25.00"))
    [entry] = audit_rows(app, "customer_merge_request.rejected")
    assert (entry.actor_id, entry.details["reason"]) == (finance["id"], "Two people")
    late = decide(client, actors.headers("admin"), request_id, "approve")
    assert late.status_code == 409
    assert audit_rows(app, "customer.merged") == []
    # The request stays on file: its customers are deactivated, never deleted.
    deleted = client.delete(f"{API}/customers/{gone['id']}", headers=sales["headers"])
    assert (deleted.status_code, deleted.json["type"]) == (
        409,
        "/problems/customer-in-merge-request",
    )
    # A decided request no longer blocks a new one for the same pair.
    anew = ask_merge(client, sales["headers"], keep["id"], gone["id"])
    assert anew.status_code == 202


def test_one_pending_request_per_pair(app, client, actors):
    sales = actors.headers("sales")
    keep, gone = actors.customer(), actors.customer()
    first = ask_merge(client, sales, keep["id"], gone["id"])
    assert first.status_code == 202
    for target, source in ((keep, gone), (gone, keep)):
        repeat = ask_merge(client, sales, target["id"], source["id"])
        assert repeat.status_code == 409, repeat.json
        assert (repeat.json["type"], repeat.json["merge_request_id"]) == (
            "/problems/merge-request-pending",
            first.json["id"],
        )
    with app.app_context():
        assert len(db.session.scalars(select(CustomerMergeRequest)).all()) == 1


def test_refusals_come_before_a_request_is_filed(app, client, actors):
    sales = actors.headers("sales")
    keep, gone = actors.customer(), actors.customer()
    departure = make_departure(app, capacity=10)
    book(client, sales, keep["id"], departure)
    book(client, sales, gone["id"], departure)
    clash = ask_merge(client, sales, keep["id"], gone["id"])
    assert clash.status_code == 409
    assert (clash.json["type"], clash.json["departure_ids"]) == (
        "/problems/merge-conflict",
        [departure],
    )
    assert ask_merge(client, sales, keep["id"], keep["id"]).status_code == 422
    assert ask_merge(client, sales, keep["id"], 999_999).status_code == 422
    assert ask_merge(client, sales, 999_999, keep["id"]).status_code == 404
    assert client.get(REQUESTS, headers=sales).json["items"] == []


def test_approval_is_refused_when_the_bookings_changed(app, client, actors):
    sales = actors.headers("sales")
    finance = actors.headers("finance")
    keep, gone = actors.customer(), actors.customer()
    request_id = ask_merge(client, sales, keep["id"], gone["id"]).json["id"]
    departure = make_departure(app, capacity=10)
    book(client, sales, keep["id"], departure)
    clash = book(client, sales, gone["id"], departure)

    refused = decide(client, finance, request_id, "approve")
    assert refused.status_code == 409, refused.json
    assert refused.json["type"] == "/problems/merge-conflict"
    shown = client.get(f"{REQUESTS}/{request_id}", headers=finance).json
    assert (shown["status"], shown["decided_by_id"]) == ("pending", None)
    assert customer_state(app, gone["id"])[:2] == (True, None)
    assert audit_rows(app, "customer_merge_request.approved") == []

    with app.app_context():
        db.session.get(Booking, clash["id"]).status = "cancelled"
        db.session.commit()
    approved = decide(client, finance, request_id, "approve")
    assert approved.status_code == 200, approved.json
    assert customer_state(app, gone["id"])[:2] == (False, keep["id"])


def test_a_decision_that_lost_the_race_merges_nothing(app, actors, monkeypatch):
    """The conditional UPDATE on `status = 'pending'`: a second approver who read
    the request while it was pending gets 409 once the first decision landed."""
    requester = actors.employee("sales")
    keep, gone = actors.customer(), actors.customer()
    with app.app_context():
        request = CustomerMergeRequest(
            customer_id=keep["id"],
            from_customer_id=gone["id"],
            status="pending",
            requested_by_id=requester["id"],
        )
        db.session.add(request)
        db.session.commit()
        request_id = request.id
    finance = actors.employee("finance")
    read = merge_requests.get_merge_request

    def read_then_lose(ident):
        found = read(ident)
        db.session.execute(  # the other approver's decision, committed meanwhile
            update(CustomerMergeRequest)
            .where(CustomerMergeRequest.id == ident)
            .values(status="rejected")
            .execution_options(synchronize_session=False)
        )
        return found

    monkeypatch.setattr(merge_requests, "get_merge_request", read_then_lose)
    with app.app_context():
        approver = db.session.get(Employee, finance["id"])
        with pytest.raises(APIError) as refusal:
            merge_requests.approve_merge_request(request_id=request_id, actor=approver)
        assert (refusal.value.status, refusal.value.code) == (409, "concurrent-change")
    assert customer_state(app, gone["id"])[:2] == (True, None)


def test_the_service_refuses_an_unrelated_pair_without_approval(app, actors):
    keep, gone = actors.customer(), actors.customer()
    admin = actors.employee("admin")
    with app.app_context():
        actor = db.session.get(Employee, admin["id"])
        with pytest.raises(APIError) as refusal:
            customer_merge.merge_customers(
                actor=actor, customer_id=keep["id"], from_customer_id=gone["id"]
            )
        assert (refusal.value.status, refusal.value.code) == (
            403,
            "merge-needs-approval",
        )
    assert customer_state(app, gone["id"])[:2] == (True, None)


def test_who_sees_and_decides_merge_requests(app, client, actors):
    sales = actors.headers("sales")
    keep, gone = actors.customer(), actors.customer()
    request_id = ask_merge(client, sales, keep["id"], gone["id"]).json["id"]
    me = actors.customer()
    calls = (
        ("GET", REQUESTS, None),
        ("GET", f"{REQUESTS}/{request_id}", None),
        ("POST", f"{REQUESTS}/{request_id}/approve", None),
        ("POST", f"{REQUESTS}/{request_id}/reject", {"reason": "No"}),
        ("POST", f"{API}/customers/{me['id']}/merge", {"from_customer_id": keep["id"]}),
    )
    for role_headers in (me["headers"], actors.headers("operation")):
        for method, path, body in calls:
            denied = client.open(path, method=method, json=body, headers=role_headers)
            assert denied.status_code == 403, (method, path, denied.json)
    for role in ("admin", "sales", "finance"):
        assert client.get(REQUESTS, headers=actors.headers(role)).status_code == 200
    assert client.get(f"{REQUESTS}/999999", headers=sales).status_code == 404
    assert client.get(REQUESTS).status_code == 401
    assert customer_state(app, gone["id"])[:2] == (True, None)


def test_list_filters_and_pages(app, client, actors):
    sales = actors.headers("sales")
    finance = actors.headers("finance")
    hub = actors.customer()
    others = [actors.customer() for _ in range(3)]
    ids = [ask_merge(client, sales, hub["id"], c["id"]).json["id"] for c in others]
    decide(client, finance, ids[0], "reject", reason="Two people")

    everything = client.get(REQUESTS, headers=finance)
    assert [r["id"] for r in everything.json["items"]] == ids[::-1]
    assert everything.json["meta"] == one_page_meta(3)
    pending = client.get(f"{REQUESTS}?status=pending", headers=finance)
    assert [r["id"] for r in pending.json["items"]] == ids[:0:-1]
    one = client.get(f"{REQUESTS}?customer_id={others[1]['id']}", headers=finance)
    assert [r["id"] for r in one.json["items"]] == [ids[1]]
    first_page = client.get(f"{REQUESTS}?per_page=2", headers=finance).json
    assert first_page["meta"]["has_more"] is True and len(first_page["items"]) == 2
    rest = client.get(
        f"{REQUESTS}?per_page=2&cursor={first_page['meta']['next_cursor']}",
        headers=finance,
    ).json
    assert [r["id"] for r in rest["items"]] == [ids[0]]
    assert client.get(f"{REQUESTS}?status=merged", headers=finance).status_code == 422
