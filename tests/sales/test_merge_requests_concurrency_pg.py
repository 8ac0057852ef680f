"""Merge requests under real concurrency on PostgreSQL, against a multi-process
gunicorn (docs/security.md "Merging customers"; services/sales/merge_requests.py):
simultaneous approvals of one request merge once and move the wallet credit once
(the conditional UPDATE on `status = 'pending'`), and simultaneous requests for one
unrelated pair file one request (the pair's row locks)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from core.extensions import db
from models import AuditEntry, Customer, CustomerMergeRequest
from services.payments import wallet
from tests.live import gunicorn_server

pytestmark = pytest.mark.postgres

API = "/api/v1"


def post_together(base_url: str, calls: list[tuple[str, dict, dict | None]]) -> list:
    """POST every (path, headers, json) from its own thread, all released by one
    barrier; `(status, json)` in the same order."""
    barrier = threading.Barrier(len(calls))

    def post(call):
        path, headers, body = call
        with requests.Session() as session:
            barrier.wait(timeout=30)
            resp = session.post(
                f"{base_url}{API}{path}", headers=headers, json=body, timeout=60
            )
            return resp.status_code, resp.json()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(post, calls))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_concurrent_approvals_merge_once(app, client, actors):
    keep, gone = actors.customer(), actors.customer()
    with app.app_context():
        for customer_id, amount in ((keep["id"], "10.00"), (gone["id"], "40.00")):
            wallet.post_entry(
                customer_id=customer_id,
                amount=Decimal(amount),
                kind="adjustment",
                reason="Goodwill",
            )
        db.session.commit()
    filed = client.post(
        f"{API}/customers/{keep['id']}/merge",
        headers=actors.headers("sales"),
        json={"from_customer_id": gone["id"]},
    )
    assert filed.status_code == 202, filed.json
    checkers = [actors.employee(role) for role in ("finance", "admin") * 3]
    path = f"/customer-merge-requests/{filed.json['id']}/approve"
    calls = [(path, checker["headers"], None) for checker in checkers * 2]

    with gunicorn_server(workers=3, threads=4) as base_url:
        results = post_together(base_url, calls)

    codes = [status for status, _ in results]
    assert codes.count(200) == 1, results
    assert codes.count(409) == len(calls) - 1, results
    with app.app_context():
        assert db.session.get(Customer, keep["id"]).wallet_balance == Decimal("50.00")
        source = db.session.get(Customer, gone["id"])
        assert (source.merged_into_id, source.wallet_balance) == (
            keep["id"],
            Decimal("0.00"),
        )
        assert count(AuditEntry, AuditEntry.action == "customer.merged") == 1
        assert (
            db.session.get(CustomerMergeRequest, filed.json["id"]).status == "approved"
        )


def test_concurrent_requests_for_one_pair_file_one(app, actors):
    keep, gone = actors.customer(), actors.customer()
    makers = [actors.employee(role) for role in ("sales", "admin") * 4]
    path = f"/customers/{keep['id']}/merge"
    calls = [(path, m["headers"], {"from_customer_id": gone["id"]}) for m in makers]

    with gunicorn_server(workers=3, threads=4) as base_url:
        results = post_together(base_url, calls)

    codes = [status for status, _ in results]
    assert codes.count(202) == 1, results
    filed = next(body for status, body in results if status == 202)
    refused = [body for status, body in results if status == 409]
    assert len(refused) == len(calls) - 1, results
    assert {(b["type"], b["merge_request_id"]) for b in refused} == {
        ("/problems/merge-request-pending", filed["id"])
    }
    with app.app_context():
        assert count(CustomerMergeRequest) == 1
