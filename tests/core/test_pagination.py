"""Keyset (cursor) pagination, the bounded OFFSET and the bounded total of every list
(services.shared.pagination.paginate, docs/design.md "API conventions")."""

import math
import threading
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select, text

from core.extensions import db
from models import Customer
from models.base import utcnow
from services.shared.pagination import EXACT_TOTAL, paginate
from tests.conftest import ON_POSTGRES
from tests.factories import (
    create_package,
    day,
    make_api_departure,
    make_bare_package,
    make_package,
    raise_enquiry,
)
from tests.openapi_walk import operations, resolve

API = "/api/v1"
URL = f"{API}/customers"


def add_customers(app, count: int, *, prefix="c", names=None, age_days=1) -> list:
    """Insert `count` customers, all created `age_days` ago (one shared instant, so
    the id breaks every tie); names cycle through `names`. Returns their ids."""
    moment = utcnow() - timedelta(days=age_days)
    with app.app_context():
        rows = [
            Customer(
                name=(names[n % len(names)] if names else f"{prefix} {n}"),
                email=f"{prefix}{n}@page.test",
                created_at=moment,
            )
            for n in range(count)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def walk(client, headers, url, per_page):
    """Follow `next_cursor` from the first page of `url` to the end; returns the
    ids in order and the pages' meta."""
    sep = "&" if "?" in url else "?"
    response = client.get(f"{url}{sep}per_page={per_page}", headers=headers)
    seen, metas = [], []
    while True:
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen += [item["id"] for item in body["items"]]
        metas.append(body["meta"])
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            return seen, metas
        response = client.get(
            f"{url}{sep}per_page={per_page}&cursor={cursor}", headers=headers
        )


def everything(client, headers, url) -> list:
    """Every id of `url` in its order, by OFFSET pages of 100."""
    sep = "&" if "?" in url else "?"
    found, page = [], 1
    while True:
        body = client.get(
            f"{url}{sep}per_page=100&page={page}", headers=headers
        ).get_json()
        found += [item["id"] for item in body["items"]]
        if not body["meta"]["has_more"]:
            return found
        page += 1


def test_cursor_walk_returns_every_row_exactly_once(app, client, actors):
    admin = actors.headers("admin")
    old = add_customers(app, 23, prefix="old", age_days=2)
    new = add_customers(app, 5, prefix="new", age_days=1)

    seen, metas = walk(client, admin, URL, per_page=4)

    assert len(seen) == len(set(seen)) == 28
    assert seen == sorted(new, reverse=True) + sorted(old, reverse=True)
    assert metas[0]["page"] == 1
    assert all(meta["page"] is None for meta in metas[1:])
    assert [meta["has_more"] for meta in metas] == [True] * 6 + [False]
    assert all(meta["total"] == 28 and meta["pages"] == 7 for meta in metas)
    assert all(meta["total_is_estimate"] is False for meta in metas)


@pytest.mark.parametrize(
    "sort", ["name", "-name", "email", "created_at", "-created_at"]
)
def test_cursor_walk_follows_each_sort_with_id_tie_breaker(app, client, actors, sort):
    admin = actors.headers("admin")
    add_customers(app, 17, prefix="s", names=["Bea", "Al", "Cy", "Al"])

    seen, _ = walk(client, admin, f"{URL}?sort={sort}", per_page=3)

    assert len(seen) == len(set(seen)) == 17
    assert seen == everything(client, admin, f"{URL}?sort={sort}")


@pytest.mark.parametrize("sort", ["base_price", "-base_price", "title", "-updated_at"])
def test_cursor_walk_over_decimal_and_text_sorts(client, actors, sort):
    admin = actors.headers("admin")
    for n in range(7):
        create_package(client, actors, title=f"T{n % 3}", base_price=f"{n % 2}00.50")

    seen, _ = walk(client, admin, f"{API}/packages?sort={sort}", per_page=2)

    assert len(seen) == len(set(seen)) == 7
    assert seen == everything(client, admin, f"{API}/packages?sort={sort}")


def test_cursor_walk_over_dates_ascending(client, actors):
    admin = actors.headers("admin")
    package_id = make_package(client, actors)
    for n in range(5):
        make_api_departure(client, actors, package_id, start_date=day(30 + n % 2))
    url = f"{API}/packages/{package_id}/departures"

    seen, _ = walk(client, admin, url, per_page=2)

    assert len(seen) == len(set(seen)) == 5
    assert seen == everything(client, admin, url)


def test_mixed_directions_use_the_or_expansion(app, actors):
    add_customers(app, 11, prefix="m", names=["Ann", "Bo", "Ann"])
    with app.app_context(), app.test_request_context():
        stmt = select(Customer).order_by(Customer.name.asc(), Customer.id.desc())
        expected = [c.id for c in db.session.scalars(stmt)]
        seen, cursor = [], None
        while True:
            page = paginate(stmt, per_page=4, cursor=cursor)
            seen += [c.id for c in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == expected


def test_cursor_skips_nothing_when_newer_rows_arrive_between_pages(app, client, actors):
    admin = actors.headers("admin")
    existing = add_customers(app, 12, prefix="e", age_days=3)
    first = client.get(f"{URL}?per_page=5", headers=admin).get_json()
    seen = [item["id"] for item in first["items"]]
    cursor = first["meta"]["next_cursor"]
    batch = 0
    while cursor:
        batch += 1
        add_customers(app, 3, prefix=f"late{batch}-", age_days=0)
        body = client.get(f"{URL}?per_page=5&cursor={cursor}", headers=admin)
        seen += [item["id"] for item in body.get_json()["items"]]
        cursor = body.get_json()["meta"]["next_cursor"]

    assert batch == 2
    assert seen == sorted(existing, reverse=True)
    offset_page_two = client.get(f"{URL}?per_page=5&page=2", headers=admin)
    assert offset_page_two.get_json()["items"][0]["id"] not in existing  # shifted


@pytest.mark.postgres
def test_cursor_walk_while_another_connection_inserts(app, client, actors):
    """PostgreSQL: a thread inserts and commits newer customers on its own
    connection while the walk runs; the walk sees every older row exactly once."""
    admin = actors.headers("admin")
    existing = add_customers(app, 60, prefix="x", age_days=5)
    started, stop, inserted = threading.Event(), threading.Event(), []

    def writer():
        with app.app_context():
            engine = db.engine
        n = 0
        while not stop.is_set():
            with engine.begin() as conn:
                template = conn.execute(
                    text("SELECT * FROM customers ORDER BY id LIMIT 1")
                ).mappings()
                row = dict(next(iter(template)))
                row.pop("id")
                row.update(email=f"par{n}@page.test", created_at=utcnow())
                columns = ", ".join(row)
                values = ", ".join(f":{key}" for key in row)
                new_id = conn.execute(
                    text(
                        f"INSERT INTO customers ({columns}) VALUES ({values}) "
                        "RETURNING id"
                    ),
                    row,
                ).scalar()
            inserted.append(new_id)
            n += 1
            started.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(10)
        before = len(inserted)
        seen, _ = walk(client, admin, URL, per_page=7)
        during = len(inserted) - before
    finally:
        stop.set()
        thread.join(10)

    assert during > 0, "the writer inserted nothing while the walk ran"
    assert len(seen) == len(set(seen))
    older = [i for i in seen if i not in inserted]
    assert older == sorted(existing, reverse=True)


def test_page_depth_is_bounded_to_the_first_10000_rows(client, actors):
    admin = actors.headers("admin")

    within = client.get(f"{URL}?per_page=20&page=500", headers=admin)
    beyond = client.get(f"{URL}?per_page=20&page=501", headers=admin)
    wide = client.get(f"{URL}?per_page=100&page=101", headers=admin)

    assert within.status_code == 200
    assert within.get_json()["meta"]["page"] == 500
    for response in (beyond, wide):
        assert response.status_code == 422
        assert response.content_type == "application/problem+json"
        assert "cursor" in response.get_json()["errors"]["query.page"][0]
        assert "10,000" in response.get_json()["detail"]


def test_cursor_with_a_later_page_is_refused(app, client, actors):
    admin = actors.headers("admin")
    add_customers(app, 3)
    cursor = client.get(f"{URL}?per_page=1", headers=admin).json["meta"]["next_cursor"]

    response = client.get(f"{URL}?per_page=1&page=2&cursor={cursor}", headers=admin)
    first = client.get(f"{URL}?per_page=1&page=1&cursor={cursor}", headers=admin)

    assert response.status_code == 422
    assert "query.cursor" in response.get_json()["errors"]
    assert first.status_code == 200


def tampered(cursor: str) -> str:
    """`cursor` with one character of its payload changed."""
    body, signature = cursor.split(".")
    swap = "A" if body[5] != "A" else "B"
    return f"{body[:5]}{swap}{body[6:]}.{signature}"


def test_bad_cursors_are_422_problems_never_500(app, client, actors):
    admin = actors.headers("admin")
    add_customers(app, 4)
    cursor = client.get(f"{URL}?per_page=1", headers=admin).json["meta"]["next_cursor"]
    by_name = client.get(f"{URL}?per_page=1&sort=name", headers=admin).json["meta"][
        "next_cursor"
    ]

    cases = {
        "garbage": (URL, "not a cursor"),
        "no signature": (URL, "abc"),
        "bad signature": (URL, "abc.def"),
        "tampered": (URL, tampered(cursor)),
        "non-base64": (URL, "a!b.c"),
        "too long": (URL, "a" * 3000 + ".b"),
        "another sort": (f"{URL}?sort=-name", by_name),
        "another filter": (f"{URL}?q=c", cursor),
        "another list": (f"{API}/employees", cursor),
    }
    for name, (url, value) in cases.items():
        sep = "&" if "?" in url else "?"
        response = client.get(f"{url}{sep}cursor={quote(value)}", headers=admin)
        assert response.status_code == 422, (name, response.get_json())
        assert response.content_type == "application/problem+json", name
        assert "query.cursor" in str(response.get_json()["errors"]), name
    other_sort = client.get(f"{URL}?sort=-name&cursor={by_name}", headers=admin)
    assert "sort" in other_sort.get_json()["detail"]
    other_filter = client.get(f"{URL}?q=c&cursor={cursor}", headers=admin)
    assert "filters" in other_filter.get_json()["detail"]


def test_a_filtered_walk_keeps_its_filter_values_free(app, client, actors):
    """The cursor pins which filters a list has, not their values: a walk of
    `?q=alpha` continues with the same cursor shape."""
    admin = actors.headers("admin")
    alpha = add_customers(app, 5, prefix="alpha", age_days=2)
    add_customers(app, 5, prefix="beta", age_days=1)

    seen, _ = walk(client, admin, f"{URL}?q=alpha", per_page=2)

    assert seen == sorted(alpha, reverse=True)


def test_total_is_exact_below_the_bound(app, client, actors):
    admin = actors.headers("admin")
    add_customers(app, 3)

    meta = client.get(f"{URL}?per_page=2", headers=admin).get_json()["meta"]

    assert meta["total"] == 3
    assert meta["pages"] == 2
    assert meta["total_is_estimate"] is False
    assert meta["has_more"] is True and isinstance(meta["next_cursor"], str)


def bulk_customers(app, count: int) -> None:
    """Insert `count` customers in one INSERT ... SELECT (generate_series on
    PostgreSQL, a recursive CTE on SQLite), copies of one template row."""
    add_customers(app, 1, prefix="template")
    with app.app_context():
        columns = [
            c.name
            for c in Customer.__table__.columns
            if c.name not in ("id", "email", "created_at")
        ]
        names = ", ".join(columns)
        if ON_POSTGRES:
            sql = (
                f"INSERT INTO customers ({names}, email, created_at) "
                f"SELECT {names}, 'bulk' || g || '@page.test', "
                "created_at - g * interval '1 second' "
                "FROM customers, generate_series(1, :n) AS g"
            )
        else:
            sql = (
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g "
                "WHERE n < :n) "
                f"INSERT INTO customers ({names}, email, created_at) "
                f"SELECT {names}, 'bulk' || g.n || '@page.test', created_at "
                "FROM customers, g"
            )
        db.session.execute(text(sql), {"n": count})
        if ON_POSTGRES:
            db.session.execute(text("ANALYZE customers"))
        db.session.commit()


def test_total_above_the_bound(app, client, actors):
    """Above 10,000 rows: PostgreSQL answers the planner's estimate (flagged), for
    the whole table (pg_class.reltuples) and for a filter (EXPLAIN); SQLite counts
    exactly (not flagged). `page` stops at 10,000 rows, the cursor goes on."""
    admin = actors.headers("admin")
    bulk_customers(app, EXACT_TOTAL + 50)
    rows = EXACT_TOTAL + 51

    whole = client.get(f"{URL}?per_page=100", headers=admin).get_json()["meta"]
    filtered = client.get(f"{URL}?per_page=100&q=bulk", headers=admin).get_json()
    last_page = client.get(f"{URL}?per_page=100&page=100", headers=admin).get_json()
    onwards = client.get(
        f"{URL}?per_page=100&cursor={last_page['meta']['next_cursor']}", headers=admin
    ).get_json()

    for meta in (whole, filtered["meta"]):
        assert meta["pages"] == math.ceil(meta["total"] / 100)
        if ON_POSTGRES:
            assert meta["total_is_estimate"] is True
            assert meta["total"] > EXACT_TOTAL
        else:
            assert meta["total_is_estimate"] is False
    if ON_POSTGRES:
        assert abs(whole["total"] - rows) < rows * 0.2
    else:
        assert whole["total"] == rows
        assert filtered["meta"]["total"] == rows - 1
    assert len(onwards["items"]) == rows - 100 * 100
    assert onwards["meta"]["page"] is None
    assert not set(i["id"] for i in onwards["items"]) & set(
        i["id"] for i in last_page["items"]
    )


@pytest.mark.postgres
def test_far_above_the_bound_the_count_is_skipped(app, client, actors, monkeypatch):
    """PostgreSQL: when the table's statistics put it far above the bound, the
    list answers the estimate (flagged) without the bounded COUNT: the whole
    table's reltuples unfiltered, EXPLAIN's estimate for a filter that keeps most
    rows; a filter the planner puts below the margin is still counted exactly.
    The margin is lowered here instead of loading 100,000 rows."""
    from sqlalchemy import event

    import services.shared.pagination as common

    admin = actors.headers("admin")
    add_customers(app, 40, prefix="far")
    with app.app_context():
        db.session.execute(text("ANALYZE customers"))
        db.session.commit()
        engine = db.engine
    monkeypatch.setattr(common, "FAR_ABOVE", 20)
    monkeypatch.setattr(common, "_RELTUPLES", {})
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        whole = client.get(URL, headers=admin).get_json()["meta"]
        counted = [s for s in statements if "count(*)" in s]
        statements.clear()
        few = client.get(f"{URL}?q=far%201", headers=admin).get_json()["meta"]
        few_counted = [s for s in statements if "count(*)" in s]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert whole["total_is_estimate"] is True
    assert whole["total"] >= 40
    assert counted == []
    assert few["total_is_estimate"] is False
    assert few["total"] == len({f"far {n}" for n in range(40) if "far 1" in f"far {n}"})
    assert len(few_counted) == 1


def list_operations(spec):
    """(path, operation) of every GET answering a page envelope (items + meta)."""
    found = []
    for method, path, operation in operations(spec):
        schema = (
            operation["responses"]
            .get("200", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema")
        )
        properties = resolve(spec, schema or {}).get("properties", {})
        if method == "get" and "meta" in properties:
            found.append((path, operation))
    return found


def test_spec_documents_cursor_and_the_new_meta(spec):
    meta = spec["components"]["schemas"]["PageMeta"]["properties"]
    listed = list_operations(spec)

    assert len(listed) >= 18
    for path, operation in listed:
        names = [
            p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
        ]
        assert {"cursor", "page", "per_page"} <= set(names), path
    assert meta["has_more"]["type"] == "boolean"
    assert meta["total_is_estimate"]["type"] == "boolean"
    assert meta["next_cursor"]["type"] == "string"
    assert meta["next_cursor"]["nullable"] is True
    assert meta["page"]["nullable"] is True
    assert {"has_more", "next_cursor", "total_is_estimate"} <= set(
        spec["components"]["schemas"]["PageMeta"]["required"]
    )


def test_every_list_endpoint_passes_its_cursor_to_paginate(app, client, actors, spec):
    """Each list answers a foreign cursor with the service's 422 (so the route
    passes `cursor` on and the service's keyset runs), never a 500."""
    admin = actors.headers("admin")
    customer = actors.customer()
    package_id = make_bare_package(app)
    enquiry = raise_enquiry(client, actors, customer["id"])
    endpoint = client.post(
        f"{API}/webhooks/endpoints",
        json={
            "url": "https://hooks.example.com/in",
            "event_types": ["booking.created"],
        },
        headers=admin,
    )
    assert endpoint.status_code == 201, endpoint.get_json()
    ids = {
        "customer_id": customer["id"],
        "package_id": package_id,
        "enquiry_id": enquiry["id"],
        "endpoint_id": endpoint.get_json()["id"],
    }
    add_customers(app, 2)
    foreign = client.get(f"{URL}?per_page=1", headers=admin).json["meta"]["next_cursor"]

    for path, _ in list_operations(spec):
        url = path.format(**ids)
        plain = client.get(url, headers=admin)
        bad = client.get(url, query_string={"cursor": foreign}, headers=admin)
        if path in (f"{API}/customers", f"{API}/transport/search"):
            # customers: the cursor's own list; the trip search needs from, to and
            # date (its cursor is tested in tests/transport/test_search.py).
            continue
        assert plain.status_code == 200, (url, plain.get_json())
        assert bad.status_code == 422, (url, bad.get_json())
        assert "query.cursor" in bad.get_json()["errors"], url
