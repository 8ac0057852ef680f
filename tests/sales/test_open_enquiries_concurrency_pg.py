"""The open-enquiries limit under real concurrency (docs/security.md "Open enquiries
per customer"): simultaneous POST /enquiries of one customer against a multi-process
gunicorn on PostgreSQL never leave them with more than MAX_OPEN_ENQUIRIES_PER_CUSTOMER
open enquiries, because the check locks the customer's row first."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from core.extensions import db
from models import Enquiry
from tests.live import gunicorn_server

pytestmark = pytest.mark.postgres

URL = "/api/v1/enquiries"
PARALLEL = 12


def raise_together(base_url: str, headers: dict, n: int) -> list:
    """POST /enquiries `n` times as the same customer, each from its own thread,
    all released by one barrier; the status codes."""
    barrier = threading.Barrier(n)

    def post(i):
        with requests.Session() as session:
            barrier.wait(timeout=30)
            resp = session.post(
                f"{base_url}{URL}",
                headers=headers,
                json={"subject": f"Parallel {i}", "message": "Any dates in May?"},
                timeout=60,
            )
            return resp.status_code

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(post, range(n)))


def test_parallel_enquiries_of_one_customer_keep_the_limit(app, client, actors):
    limit = app.config["MAX_OPEN_ENQUIRIES_PER_CUSTOMER"]
    me = actors.customer()
    for n in range(limit - 1):
        response = client.post(
            URL, json={"subject": f"Q{n}", "message": "?"}, headers=me["headers"]
        )
        assert response.status_code == 201, response.json

    with gunicorn_server(workers=3, threads=4) as base_url:
        codes = raise_together(base_url, me["headers"], PARALLEL)

    assert sorted(codes) == [201] + [409] * (PARALLEL - 1), codes
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Enquiry)
                .where(Enquiry.customer_id == me["id"])
            )
            == limit
        )
