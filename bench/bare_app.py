"""The BARE baseline for bench/load.py: a tiny Flask app with no ORM, no schemas, no
auth, no logging, that answers each load scenario with ONE SQL statement over
psycopg (a bare Flask endpoint that runs the same single query
under the same gunicorn config).

It reads the same tables as the service (built by its migrations) and returns
JSON shaped like the service's page envelope (`{"items": [...], "meta": {...}}`),
so the ratio service / bare is what the service's layers cost on top of the
database work a response needs:

    GET  /bare/packages?page=&per_page=      published packages, newest first
    GET  /bare/packages?after_created_at=&after_id=&per_page=
                                             the page after that package (keyset:
                                             no OFFSET, no total), for the deep page
    GET  /bare/packages/<id>                 one published package
    GET  /bare/search?q=&page=&per_page=     the same plus the full-text match
    GET  /bare/customers?page=&per_page=     customers, newest first
    GET  /bare/bookings?page=&per_page=      bookings, newest first, with their
                                             departure's package, invoice and
                                             travellers (as a staff member sees them)
    GET  /bare/bookings/<id>                 one booking, the same columns
    POST /bare/book {"departure_id", "customer_id", "seats"}
                                             conditional seat UPDATE + INSERT, one
                                             statement (a data-modifying CTE)

Each list statement returns the page and its total in one round trip (the total
as an uncorrelated scalar subquery, which PostgreSQL runs once, bounded at 10,001
rows like the service's count: above that the service asks the planner for an
estimate, which the bare app leaves out), with each
package's itinerary as a JSON array, like the service's response. Search uses the
very expression of the GIN index `ix_packages_search_fts`
(`to_tsvector('english', search_document)`, models/package.py) and
`plainto_tsquery('english', q)`, as services/catalogue/search.py does.

What the bare app does NOT do, and the service does: verify a bearer token and
load its account (customer list, booking), validate the query with marshmallow,
check the departure is bookable, take category seats, expire lapsed holds, issue
an invoice with a sequential number, write the booking-held mail, add security
headers, request ids and an access log line. That is the point of the ratio.

Run (the bench does this): `DATABASE_URL=postgresql://... gunicorn -w 4
-b 127.0.0.1:8001 bench.bare_app:app` from the project root. One autocommit
connection per worker process, opened on first use (after gunicorn forks).
"""

import os
import secrets
from datetime import date, datetime
from decimal import Decimal

import psycopg
from flask import Flask, jsonify, request
from psycopg.rows import dict_row

app = Flask(__name__)
MAX_PER_PAGE = 100
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_connection: dict = {}

# The service counts at most 10,001 matching rows (services/shared/pagination.py
# count_bounded, docs/design.md "API conventions"); the bare app counts alike.
COUNT_BOUND = 10_001
ITINERARY = (
    "(SELECT coalesce(json_agg(json_build_object('day_number', d.day_number, "
    "'title', d.title, 'description', d.description, 'location', d.location) "
    "ORDER BY d.day_number), '[]'::json) FROM itinerary_days d "
    "WHERE d.package_id = p.id) AS itinerary"
)
PACKAGE_COLUMNS = (
    "p.id, p.title, p.description, p.destination, p.origin, p.transport_mode, "
    "p.duration_days, p.base_price, p.currency, p.deposit_percent, p.status, "
    "p.rejection_reason, p.created_by_id, p.last_edited_by_id, p.submitted_at, "
    "p.approved_by_id, p.approved_at, p.created_at, p.updated_at"
)
PACKAGES_SQL = (
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM packages WHERE status = 'published' "
    f"LIMIT {COUNT_BOUND}) s) AS total, "
    f"{PACKAGE_COLUMNS}, {ITINERARY} FROM packages p WHERE p.status = 'published' "
    "ORDER BY p.created_at DESC, p.id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
MATCH = "to_tsvector('english', {col}) @@ plainto_tsquery('english', %(q)s)"
SEARCH_SQL = (
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM packages WHERE status = 'published' "
    f"AND {MATCH.format(col='search_document')} LIMIT {COUNT_BOUND}) s) AS total, "
    f"{PACKAGE_COLUMNS}, {ITINERARY} "
    "FROM packages p WHERE p.status = 'published' AND "
    f"{MATCH.format(col='p.search_document')} "
    "ORDER BY p.created_at DESC, p.id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
PACKAGES_AFTER_SQL = (
    f"SELECT {PACKAGE_COLUMNS}, {ITINERARY} FROM packages p "
    "WHERE p.status = 'published' AND (p.created_at, p.id) < "
    "(%(after_created_at)s::timestamptz, %(after_id)s) "
    "ORDER BY p.created_at DESC, p.id DESC LIMIT %(limit)s"
)
PACKAGE_SQL = (
    f"SELECT {PACKAGE_COLUMNS}, {ITINERARY} FROM packages p "
    "WHERE p.id = %(id)s AND p.status = 'published'"
)
CUSTOMERS_SQL = (
    f"SELECT (SELECT count(*) FROM (SELECT 1 FROM customers LIMIT {COUNT_BOUND}) s) "
    "AS total, c.id, c.name, c.email, c.phone, "
    "c.address, c.active, c.wallet_balance, c.created_at, c.updated_at "
    "FROM customers c "
    "ORDER BY c.created_at DESC, c.id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
# A booking as the service shows it: its departure's package and date, its invoice
# and its travellers (schemas/booking/bookings.py BookingSchema).
BOOKING_SELECT = (
    "SELECT b.id, b.reference, b.status, b.customer_id, b.departure_id, "
    "dp.package_id, pk.title AS package_title, dp.start_date, b.seats, b.currency, "
    "b.unit_price, b.total_amount, b.amount_paid, "
    "b.total_amount - b.amount_paid AS amount_due, b.amount_refunded, "
    "b.deposit_amount, b.balance_due_date, b.penalty_amount, b.price_snapshot, "
    "i.id AS invoice_id, i.number AS invoice_number, b.cancellation_policy, "
    "b.hold_expires_at, (SELECT coalesce(json_agg(json_build_object('id', t.id, "
    "'name', t.name, 'birth_date', t.birth_date, 'category', t.category, "
    "'unit_price', t.unit_price) ORDER BY t.id), '[]'::json) "
    "FROM booking_travellers t WHERE t.booking_id = b.id) AS travellers, "
    "b.created_by_id, b.created_at, b.updated_at "
    "FROM bookings b JOIN departures dp ON dp.id = b.departure_id "
    "JOIN packages pk ON pk.id = dp.package_id "
    "LEFT JOIN invoices i ON i.booking_id = b.id"
)
BOOKINGS_SQL = (
    f"SELECT (SELECT count(*) FROM (SELECT 1 FROM bookings LIMIT {COUNT_BOUND}) s) "
    "AS total, "
    + BOOKING_SELECT.removeprefix("SELECT ")
    + " ORDER BY b.created_at DESC, b.id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
BOOKING_SQL = f"{BOOKING_SELECT} WHERE b.id = %(id)s"
# Take the seats only if they fit, and insert the held booking priced from the
# departure, in one statement: no row back means the seats did not fit.
BOOK_SQL = """
WITH taken AS (
    UPDATE departures SET seats_taken = seats_taken + %(seats)s, updated_at = now()
    WHERE id = %(departure_id)s AND status = 'scheduled'
      AND seats_taken + %(seats)s <= capacity
    RETURNING id, price, currency
)
INSERT INTO bookings (reference, customer_id, departure_id, seats, status, currency,
                      unit_price, total_amount, amount_paid, amount_refunded,
                      deposit_amount, hold_expires_at, created_at, updated_at)
SELECT %(reference)s, %(customer_id)s, taken.id, %(seats)s, 'held', taken.currency,
       taken.price, taken.price * %(seats)s, 0, 0, taken.price * %(seats)s,
       now() + interval '15 minutes', now(), now()
FROM taken
RETURNING id, reference, customer_id, departure_id, seats, status, currency,
          unit_price, total_amount, amount_paid, deposit_amount, hold_expires_at,
          created_at
"""


def _database_url() -> str:
    """DATABASE_URL as libpq wants it (no SQLAlchemy driver suffix)."""
    url = os.environ["DATABASE_URL"]
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def connection() -> psycopg.Connection:
    """This worker process's autocommit connection (reopened when it broke)."""
    conn = _connection.get(os.getpid())
    if conn is None or conn.closed or conn.broken:
        conn = psycopg.connect(_database_url(), autocommit=True, row_factory=dict_row)
        _connection.clear()
        _connection[os.getpid()] = conn
    return conn


def _plain(value):
    """JSON-ready value: ISO 8601 for dates and times, a string for Decimal."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def _paging() -> tuple[int, int]:
    """(page, per_page) from the query string, per_page capped like the service."""
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(MAX_PER_PAGE, max(1, int(request.args.get("per_page", 20))))
    except ValueError:
        page, per_page = 1, 20
    return page, per_page


def _page(sql: str, params: dict) -> dict:
    """Run one list statement; the envelope `{"items", "meta"}` of its rows."""
    page, per_page = _paging()
    params = {**params, "limit": per_page, "offset": (page - 1) * per_page}
    rows = connection().execute(sql, params).fetchall()
    total = rows[0]["total"] if rows else 0
    items = [{k: _plain(v) for k, v in row.items() if k != "total"} for row in rows]
    pages = -(-total // per_page) if total else 0
    return {
        "items": items,
        "meta": {"page": page, "per_page": per_page, "total": total, "pages": pages},
    }


def _one(sql: str, ident: int):
    """Run one single-row statement: 200 with the row, or 404."""
    row = connection().execute(sql, {"id": ident}).fetchone()
    if row is None:
        return jsonify({"status": 404, "detail": "Not found."}), 404
    return jsonify({k: _plain(v) for k, v in row.items()})


@app.get("/bare/packages")
def packages():
    """Published packages, newest first, one page; with `after_created_at` and
    `after_id` (the last package of the previous page) the next page by keyset."""
    after_id = request.args.get("after_id", type=int)
    if after_id is None:
        return jsonify(_page(PACKAGES_SQL, {}))
    _, per_page = _paging()
    params = {
        "after_created_at": request.args.get("after_created_at", ""),
        "after_id": after_id,
        "limit": per_page,
    }
    rows = connection().execute(PACKAGES_AFTER_SQL, params).fetchall()
    items = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return jsonify({"items": items, "meta": {"per_page": per_page}})


@app.get("/bare/packages/<int:package_id>")
def package(package_id: int):
    """One published package with its itinerary; 404 otherwise."""
    return _one(PACKAGE_SQL, package_id)


@app.get("/bare/search")
def search():
    """Published packages matching every word of `q` (full text), newest first."""
    return jsonify(_page(SEARCH_SQL, {"q": request.args.get("q", "")}))


@app.get("/bare/customers")
def customers():
    """Customers, newest first, one page."""
    return jsonify(_page(CUSTOMERS_SQL, {}))


@app.get("/bare/bookings")
def bookings():
    """Bookings, newest first, one page (every customer's, as staff see them)."""
    return jsonify(_page(BOOKINGS_SQL, {}))


@app.get("/bare/bookings/<int:booking_id>")
def booking(booking_id: int):
    """One booking with its package, invoice and travellers; 404 otherwise."""
    return _one(BOOKING_SQL, booking_id)


@app.post("/bare/book")
def book():
    """Hold `seats` on a departure for `customer_id`: 201 with the booking, 409 when
    the seats do not fit (or the departure is not scheduled)."""
    body = request.get_json(force=True, silent=True) or {}
    reference = "BR-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    params = {
        "seats": int(body.get("seats", 1)),
        "departure_id": int(body["departure_id"]),
        "customer_id": int(body["customer_id"]),
        "reference": reference,
    }
    row = connection().execute(BOOK_SQL, params).fetchone()
    if row is None:
        return jsonify({"status": 409, "detail": "Not enough seats left."}), 409
    return jsonify({k: _plain(v) for k, v in row.items()}), 201


@app.get("/health")
def health():
    """Liveness, for the bench's start-up wait."""
    return jsonify({"status": "ok"})
