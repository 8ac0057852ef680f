"""GET /api/v1/reports/...: every report against a known data set whose
expected figures are computed here, in plain Python over the fixture's own
definitions (not by SQL), on SQLite and on PostgreSQL (the suite runs on both).

The data set: two EUR customers and a USD booking, four packages on three
destinations, payments in January-March 2025, a cancellation with a penalty and
two refunds (one completed to the wallet, one pending to the card), a lapsed and
unswept hold, a swept expiry with a credit note, a wallet ledger and enquiries
that do and do not turn into bookings.
"""

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.extensions import db
from models import (
    Booking,
    CreditNote,
    Customer,
    Departure,
    Employee,
    Enquiry,
    Invoice,
    Package,
    Payment,
    Refund,
    WalletEntry,
)
from models.base import utcnow
from tests.factories import assert_problem

API = "/api/v1/reports"
D = Decimal
TODAY = utcnow().date()
SOLD = ("confirmed", "completed")


def ts(y, m, d, h=12, minute=0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=UTC)


CUSTOMERS = {
    "alice": ("Alice Aherne", "alice@example.test"),
    "bob": ("Bob Byrne", "bob@example.test"),
    "cara": ("Cara Cole", "cara@example.test"),  # no activity at all
}
PACKAGES = {  # key: (title, destination, currency)
    "lisbon": ("Lisbon Break", "Lisbon, Portugal", "EUR"),
    "kyoto": ("Kyoto Temples", "Kyoto, Japan", "EUR"),
    "lisbon_food": ("Lisbon Food Tour", "Lisbon, Portugal", "EUR"),
    "nyc": ("New York Lights", "New York, USA", "USD"),
}
DEPARTURES = {  # key: (package, start date)
    "d1": ("lisbon", date(2025, 3, 10)),
    "d2": ("kyoto", date(2025, 4, 5)),
    "d3": ("lisbon_food", date(2025, 4, 20)),
    "d4": ("nyc", date(2025, 3, 15)),
}
# key: customer, departure, seats, status, total, created, extra fields
BOOKINGS = {
    "b1": dict(
        customer="alice",
        dep="d1",
        seats=2,
        status="confirmed",
        total="1000.00",
        created=ts(2025, 1, 5),
        paid="1000.00",
        due=date(2025, 1, 5),
    ),
    "b2": dict(
        customer="bob",
        dep="d1",
        seats=1,
        status="completed",
        total="500.00",
        created=ts(2025, 1, 20),
        paid="500.00",
        due=date(2025, 1, 20),
    ),
    "b3": dict(
        customer="alice",
        dep="d2",
        seats=3,
        status="cancelled",
        total="3000.00",
        created=ts(2025, 2, 10),
        paid="3000.00",
        refunded="2250.00",
        penalty="750.00",
        cancelled=ts(2025, 3, 1),
        due=date(2025, 2, 10),
        credit="2250.00",
    ),
    "b4": dict(
        customer="bob",
        dep="d2",
        seats=1,
        status="held",
        total="1000.00",
        created=ts(2025, 3, 20),
        hold=ts(2025, 3, 20, 12, 15),
        due=date(2025, 3, 20),
    ),
    "b5": dict(
        customer="alice",
        dep="d3",
        seats=2,
        status="expired",
        total="1600.00",
        created=ts(2025, 3, 25),
        expired=ts(2025, 3, 25, 12, 15),
        due=date(2025, 3, 25),
        credit="1600.00",
    ),
    "b6": dict(
        customer="bob",
        dep="d4",
        seats=2,
        status="confirmed",
        total="2000.00",
        created=ts(2025, 2, 14),
        paid="600.00",
        due=date(2025, 2, 20),
    ),
    "b7": dict(
        customer="alice",
        dep="d1",
        seats=1,
        status="confirmed",
        total="500.00",
        created=ts(2025, 3, 1, 15),
        paid="150.00",
        due=TODAY + timedelta(days=10),
    ),
}
PAYMENTS = [  # booking, amount, method, when
    ("b1", "1000.00", "card", ts(2025, 1, 5)),
    ("b2", "200.00", "bank_transfer", ts(2025, 1, 20)),
    ("b2", "300.00", "cash", ts(2025, 2, 3)),
    ("b3", "3000.00", "card", ts(2025, 2, 10)),
    ("b6", "600.00", "card", ts(2025, 2, 14)),
    ("b7", "150.00", "wallet", ts(2025, 3, 2)),
]
REFUNDS = [  # booking, amount, destination, status, created, completed
    ("b3", "1250.00", "wallet", "completed", ts(2025, 3, 1), ts(2025, 3, 1)),
    ("b3", "1000.00", "original", "pending", ts(2025, 3, 1), None),
]
WALLET = [  # customer, amount, kind, when
    ("alice", "1250.00", "refund_credit", ts(2025, 3, 1)),
    ("alice", "-150.00", "payment_debit", ts(2025, 3, 2)),
    ("alice", "-100.00", "adjustment", ts(2025, 4, 10)),
    ("bob", "80.00", "adjustment", ts(2025, 1, 15)),
    ("bob", "-80.00", "adjustment", ts(2025, 2, 15)),
]
ENQUIRIES = [  # customer, package, assignee, stage, created, winning booking
    ("alice", "lisbon", "sofia", "won", ts(2025, 1, 1), "b1"),
    ("bob", None, "sofia", "new", ts(2025, 3, 1), None),
    ("bob", "nyc", "samuel", "won", ts(2025, 2, 1), "b6"),
    ("alice", None, None, "contacted", ts(2025, 4, 1), None),
    ("alice", "kyoto", "samuel", "new", ts(2025, 2, 1), None),
]
SALES = {"sofia": "Sofia Marin", "samuel": "Samuel Okafor"}


@pytest.fixture
def data(app):
    """Insert the data set; returns the ids by key."""
    ids = {}
    with app.app_context():
        for key, (name, email) in CUSTOMERS.items():
            ids[key] = _add(Customer(name=name, email=email))
        for key, name in SALES.items():
            ids[key] = _add(
                Employee(name=name, email=f"{key}@staff.test", role="sales")
            )
        for key, (title, destination, currency) in PACKAGES.items():
            ids[key] = _add(
                Package(
                    title=title,
                    destination=destination,
                    duration_days=4,
                    base_price=D("500.00"),
                    currency=currency,
                    status="published",
                )
            )
        for key, (package, start) in DEPARTURES.items():
            ids[key] = _add(
                Departure(
                    package_id=ids[package],
                    start_date=start,
                    end_date=start + timedelta(days=3),
                    capacity=50,
                    seats_taken=_live_seats(key),
                    price=D("500.00"),
                    currency=PACKAGES[package][2],
                )
            )
        for n, (key, b) in enumerate(BOOKINGS.items(), start=1):
            currency = PACKAGES[DEPARTURES[b["dep"]][0]][2]
            ids[key] = _add(
                Booking(
                    reference=f"ET-TEST{n:02d}",
                    customer_id=ids[b["customer"]],
                    departure_id=ids[b["dep"]],
                    seats=b["seats"],
                    status=b["status"],
                    currency=currency,
                    unit_price=D(b["total"]) / b["seats"],
                    total_amount=D(b["total"]),
                    amount_paid=D(b.get("paid", "0")),
                    amount_refunded=D(b.get("refunded", "0")),
                    penalty_amount=D(b["penalty"]) if "penalty" in b else None,
                    hold_expires_at=b.get("hold"),
                    cancelled_at=b.get("cancelled"),
                    expired_at=b.get("expired"),
                    created_at=b["created"],
                    updated_at=b["created"],
                )
            )
            invoice = Invoice(
                number=f"INV-T-{n:04d}",
                booking_id=ids[key],
                customer_id=ids[b["customer"]],
                currency=currency,
                total_amount=D(b["total"]),
                issue_date=b["created"].date(),
                due_date=b["due"],
                created_at=b["created"],
            )
            ids[f"inv_{key}"] = _add(invoice)
            if "credit" in b:
                _add(
                    CreditNote(
                        number=f"CN-T-{n:04d}",
                        invoice_id=invoice.id,
                        amount=D(b["credit"]),
                        reason="test",
                    )
                )
        for key, amount, method, when in PAYMENTS:
            booking = BOOKINGS[key]
            _add(
                Payment(
                    booking_id=ids[key],
                    invoice_id=ids[f"inv_{key}"],
                    customer_id=ids[booking["customer"]],
                    amount=D(amount),
                    currency=_currency(key),
                    method=method,
                    created_at=when,
                )
            )
        for key, amount, destination, status, created, completed in REFUNDS:
            _add(
                Refund(
                    booking_id=ids[key],
                    customer_id=ids[BOOKINGS[key]["customer"]],
                    amount=D(amount),
                    currency=_currency(key),
                    destination=destination,
                    method="wallet" if destination == "wallet" else "card",
                    status=status,
                    created_at=created,
                    completed_at=completed,
                )
            )
        balances = defaultdict(D)
        for customer, amount, kind, when in WALLET:
            balances[customer] += D(amount)
            _add(
                WalletEntry(
                    customer_id=ids[customer],
                    amount=D(amount),
                    currency="EUR",
                    balance_after=balances[customer],
                    kind=kind,
                    reason="test",
                    created_at=when,
                )
            )
        for customer, balance in balances.items():
            db.session.get(Customer, ids[customer]).wallet_balance = balance
        for customer, package, assignee, stage, created, won in ENQUIRIES:
            _add(
                Enquiry(
                    customer_id=ids[customer],
                    package_id=ids.get(package),
                    assigned_to_id=ids.get(assignee),
                    subject="Question",
                    message="Tell me more",
                    stage=stage,
                    created_at=created,
                    updated_at=created,
                    booking_id=ids.get(won),
                    won_at=created + timedelta(days=3) if won else None,
                )
            )
        db.session.commit()
    return ids


def _add(obj) -> int:
    db.session.add(obj)
    db.session.flush()
    return obj.id


def _currency(booking_key: str) -> str:
    return PACKAGES[DEPARTURES[BOOKINGS[booking_key]["dep"]][0]][2]


def _live_seats(departure: str) -> int:
    return sum(
        b["seats"]
        for b in BOOKINGS.values()
        if b["dep"] == departure and b["status"] in ("held", "confirmed")
    )


def _in(moment, date_from=None, date_to=None) -> bool:
    """Is the timestamp or date `moment` inside the inclusive day range?"""
    day = moment.date() if isinstance(moment, datetime) else moment
    return (date_from is None or day >= date_from) and (
        date_to is None or day <= date_to
    )


def money(value) -> str:
    return str(D(value).quantize(D("0.01")))


# ---- expected figures, computed from the definitions above --------------------


def _package_of(booking_key):
    return DEPARTURES[BOOKINGS[booking_key]["dep"]][0]


def _dimension_key(dimension, booking_key, moment, ids):
    if dimension == "month":
        return (moment.strftime("%Y-%m"),)
    if dimension == "customer":
        name, email = CUSTOMERS[BOOKINGS[booking_key]["customer"]]
        return (ids[BOOKINGS[booking_key]["customer"]], name, email)
    package = _package_of(booking_key)
    if dimension == "destination":
        return (PACKAGES[package][1],)
    return (ids[package], PACKAGES[package][0], PACKAGES[package][1])


KEY_NAMES = {
    "month": ("month",),
    "customer": ("customer_id", "customer_name", "customer_email"),
    "destination": ("destination",),
    "package": ("package_id", "package_title", "destination"),
}


def expected_cash(dimension, ids, date_from=None, date_to=None, destination=None):
    groups = defaultdict(lambda: [0, D(0), 0, D(0)])

    def wanted(key):
        return destination is None or PACKAGES[_package_of(key)][1] == destination

    for key, amount, _method, when in PAYMENTS:
        if _in(when, date_from, date_to) and wanted(key):
            group = groups[(*_dimension_key(dimension, key, when, ids), _currency(key))]
            group[0] += 1
            group[1] += D(amount)
    for key, amount, _dest, status, _created, completed in REFUNDS:
        if status == "completed" and _in(completed, date_from, date_to) and wanted(key):
            group = groups[
                (*_dimension_key(dimension, key, completed, ids), _currency(key))
            ]
            group[2] += 1
            group[3] += D(amount)
    rows = []
    for key, (payments, received, refunds, refunded) in groups.items():
        row = dict(zip(KEY_NAMES[dimension], key[:-1]))
        row.update(
            currency=key[-1],
            payments=payments,
            received=money(received),
            refunds=refunds,
            refunded=money(refunded),
            net=money(received - refunded),
        )
        rows.append(row)
    if dimension == "month":
        return sorted(rows, key=lambda r: (r["month"], r["currency"]))
    first_key = KEY_NAMES[dimension][0]
    return sorted(rows, key=lambda r: (-D(r["net"]), r["currency"], r[first_key]))


def expected_booking_basis(dimension, ids, date_from=None, date_to=None):
    groups = defaultdict(lambda: [0, 0, D(0)])
    for key, b in BOOKINGS.items():
        start = DEPARTURES[b["dep"]][1]
        if b["status"] in SOLD and _in(start, date_from, date_to):
            group = groups[
                (*_dimension_key(dimension, key, start, ids), _currency(key))
            ]
            group[0] += 1
            group[1] += b["seats"]
            group[2] += D(b["total"])
    rows = []
    for key, (bookings, travellers, value) in groups.items():
        row = dict(zip(KEY_NAMES[dimension], key[:-1]))
        row.update(
            currency=key[-1],
            bookings=bookings,
            travellers=travellers,
            value=money(value),
        )
        rows.append(row)
    if dimension == "month":
        return sorted(rows, key=lambda r: (r["month"], r["currency"]))
    first_key = KEY_NAMES[dimension][0]
    return sorted(rows, key=lambda r: (-D(r["value"]), r["currency"], r[first_key]))


def _invoice_figures(ids):
    """Per invoice: (status, total, credited, kept, outstanding) by the rule of
    docs/design.md "Lifecycles": invoice, computed by hand."""
    out = {}
    for key, b in BOOKINGS.items():
        total = D(b["total"])
        credited = (
            D(b.get("credit", "0")) if b["status"] in ("expired", "cancelled") else D(0)
        )
        kept = D(b.get("paid", "0")) - D(b.get("refunded", "0"))
        if credited >= total > 0:
            status = "void"
        elif kept + credited >= total:
            status = "paid"
        elif b["due"] < TODAY:
            status = "overdue"
        else:
            status = "pending"
        out[key] = (status, total, credited, kept, max(total - credited - kept, D(0)))
    return out


def expected_summary(ids, date_from=None, date_to=None):
    groups = defaultdict(lambda: [0, D(0), D(0), D(0), D(0), []])
    for key, (status, total, credited, kept, outstanding) in _invoice_figures(
        ids
    ).items():
        if not _in(BOOKINGS[key]["created"], date_from, date_to):
            continue
        group = groups[(status, _currency(key))]
        group[0] += 1
        group[1] += total
        group[2] += credited
        group[3] += kept
        group[4] += outstanding
        group[5].append(ids[f"inv_{key}"])
    order = ("pending", "overdue", "paid", "void")
    rows = [
        dict(
            status=status,
            currency=currency,
            invoices=n,
            total=money(t),
            credited=money(c),
            paid=money(k),
            outstanding=money(o),
            invoice_ids=sorted(inv),
        )
        for (status, currency), (n, t, c, k, o, inv) in groups.items()
    ]
    return sorted(rows, key=lambda r: (order.index(r["status"]), r["currency"]))


# ---- helpers -------------------------------------------------------------------


def get_report(client, headers, path, **query):
    resp = client.get(f"{API}/{path}", headers=headers, query_string=query)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    return resp.get_json()


@pytest.fixture
def finance(actors):
    return actors.headers("finance")


# ---- revenue --------------------------------------------------------------------


@pytest.mark.parametrize(
    "dimension,path",
    [
        ("month", "revenue/monthly"),
        ("customer", "revenue/by-customer"),
        ("destination", "revenue/by-destination"),
        ("package", "revenue/by-package"),
    ],
)
def test_revenue_cash_basis(client, data, finance, dimension, path):
    body = get_report(client, finance, path)
    assert body["basis"] == "cash"
    assert body["report"] == (
        "revenue.monthly" if dimension == "month" else f"revenue.by-{dimension}"
    )
    assert body["rows"] == expected_cash(dimension, data)
    assert body["columns"] == list(body["rows"][0])


@pytest.mark.parametrize(
    "dimension,path",
    [
        ("month", "revenue/monthly"),
        ("customer", "revenue/by-customer"),
        ("destination", "revenue/by-destination"),
        ("package", "revenue/by-package"),
    ],
)
def test_revenue_booking_basis(client, data, finance, dimension, path):
    body = get_report(client, finance, path, basis="booking")
    assert body["basis"] == "booking"
    assert body["rows"] == expected_booking_basis(dimension, data)


def test_revenue_monthly_cash_figures_by_hand(client, data, finance):
    """The same figures spelled out, so the expected-value code is itself checked."""
    rows = get_report(client, finance, "revenue/monthly")["rows"]
    assert [
        (r["month"], r["currency"], r["received"], r["refunded"], r["net"])
        for r in rows
    ] == [
        ("2025-01", "EUR", "1200.00", "0.00", "1200.00"),
        ("2025-02", "EUR", "3300.00", "0.00", "3300.00"),
        ("2025-02", "USD", "600.00", "0.00", "600.00"),
        ("2025-03", "EUR", "150.00", "1250.00", "-1100.00"),
    ]


def test_revenue_filters(client, data, finance):
    feb = dict(date_from="2025-02-01", date_to="2025-02-28")
    body = get_report(client, finance, "revenue/by-customer", **feb)
    assert body["rows"] == expected_cash(
        "customer", data, date(2025, 2, 1), date(2025, 2, 28)
    )
    assert body["filters"]["date_from"] == "2025-02-01"
    lisbon = get_report(
        client, finance, "revenue/monthly", destination="lisbon, portugal"
    )
    assert lisbon["rows"] == expected_cash(
        "month", data, destination="Lisbon, Portugal"
    )
    by_package = get_report(
        client, finance, "revenue/monthly", package_id=data["kyoto"]
    )
    assert [(r["month"], r["net"]) for r in by_package["rows"]] == [
        ("2025-02", "3000.00"),
        ("2025-03", "-1250.00"),
    ]
    in_year = get_report(client, finance, "revenue/monthly", year=2025, basis="booking")
    assert in_year["rows"] == expected_booking_basis("month", data)
    assert get_report(client, finance, "revenue/monthly", year=2024)["rows"] == []
    # year and range that do not overlap: empty, not an error
    assert (
        get_report(
            client, finance, "revenue/monthly", year=2024, date_from="2025-01-01"
        )["rows"]
        == []
    )
    top = get_report(client, finance, "revenue/by-customer", limit=1)["rows"]
    assert top == expected_cash("customer", data)[:1]


# ---- invoices -------------------------------------------------------------------


def test_invoice_summary(client, data, finance):
    body = get_report(client, finance, "invoices/summary")
    assert body["rows"] == expected_summary(data)
    statuses = {row["status"] for row in body["rows"]}
    assert statuses == {"pending", "overdue", "paid", "void"}
    no_ids = get_report(client, finance, "invoices/summary", include_ids="false")
    assert all("invoice_ids" not in row for row in no_ids["rows"])
    q1 = get_report(
        client,
        finance,
        "invoices/summary",
        date_from="2025-01-01",
        date_to="2025-01-31",
    )
    assert q1["rows"] == expected_summary(data, date(2025, 1, 1), date(2025, 1, 31))


def test_unpaid_invoices(client, data, finance):
    figures = _invoice_figures(data)
    unpaid = sorted(
        (key for key, f in figures.items() if f[0] in ("pending", "overdue")),
        key=lambda key: (BOOKINGS[key]["due"], data[f"inv_{key}"]),
    )
    rows = get_report(client, finance, "invoices/unpaid")["rows"]
    assert [row["invoice_id"] for row in rows] == [data[f"inv_{key}"] for key in unpaid]
    for row, key in zip(rows, unpaid):
        status, _total, _credited, kept, outstanding = figures[key]
        assert row["status"] == status
        assert row["outstanding"] == money(outstanding)
        assert row["paid"] == money(kept)
        assert row["days_overdue"] == max((TODAY - BOOKINGS[key]["due"]).days, 0)
        assert row["customer_email"] == CUSTOMERS[BOOKINGS[key]["customer"]][1]
    # b6: USD 2000 with 600 paid, due 2025-02-20
    b6 = next(row for row in rows if row["invoice_id"] == data["inv_b6"])
    assert (b6["currency"], b6["outstanding"], b6["status"]) == (
        "USD",
        "1400.00",
        "overdue",
    )
    overdue = get_report(client, finance, "invoices/unpaid", overdue_only="true")[
        "rows"
    ]
    assert {row["status"] for row in overdue} == {"overdue"}
    assert len(overdue) == sum(1 for key in unpaid if figures[key][0] == "overdue")


# ---- analytics ----------------------------------------------------------------


def test_popular_packages_and_destinations(client, data, finance):
    packages = defaultdict(lambda: [0, 0, D(0)])
    for key, b in BOOKINGS.items():
        if b["status"] in SOLD:
            group = packages[_package_of(key)]
            group[0] += 1
            group[1] += b["seats"]
            group[2] += D(b["total"])
    expected = sorted(
        (
            dict(
                package_id=data[p],
                package_title=PACKAGES[p][0],
                destination=PACKAGES[p][1],
                currency=PACKAGES[p][2],
                bookings=n,
                travellers=t,
                value=money(v),
            )
            for p, (n, t, v) in packages.items()
        ),
        key=lambda r: (
            -r["bookings"],
            -r["travellers"],
            -D(r["value"]),
            r["package_id"],
        ),
    )
    assert get_report(client, finance, "packages/popular")["rows"] == expected
    destinations = get_report(client, finance, "destinations/popular")["rows"]
    assert [
        (r["destination"], r["bookings"], r["travellers"], r["value"])
        for r in destinations
    ] == [("Lisbon, Portugal", 3, 4, "2000.00"), ("New York, USA", 1, 2, "2000.00")]
    assert get_report(client, finance, "packages/popular", date_from="2025-03-01")[
        "rows"
    ] == [
        dict(
            package_id=data["lisbon"],
            package_title="Lisbon Break",
            destination="Lisbon, Portugal",
            currency="EUR",
            bookings=1,
            travellers=1,
            value="500.00",
        )
    ]


def test_active_customers(client, data, finance):
    body = get_report(
        client,
        finance,
        "customers/active",
        date_from="2025-01-01",
        date_to="2025-12-31",
    )
    spend, bookings = defaultdict(D), defaultdict(int)
    for key, amount, _m, _w in PAYMENTS:
        spend[(BOOKINGS[key]["customer"], _currency(key))] += D(amount)
    for key, b in BOOKINGS.items():
        bookings[(b["customer"], _currency(key))] += 1
    keys = set(spend) | set(bookings)
    expected = sorted(
        ((data[c], cur, bookings[(c, cur)], money(spend[(c, cur)])) for c, cur in keys),
        key=lambda r: (-D(r[3]), -r[2], r[0]),
    )
    assert [
        (r["customer_id"], r["currency"], r["bookings"], r["spend"])
        for r in body["rows"]
    ] == expected
    assert data["cara"] not in {r["customer_id"] for r in body["rows"]}
    # default window: the last 90 days, where the data set has nothing
    default = get_report(client, finance, "customers/active")
    assert default["rows"] == []
    assert default["filters"]["date_to"] == TODAY.isoformat()


@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_booking_trends(client, data, finance, interval):
    def period(moment):
        day = moment.date()
        if interval == "week":
            day -= timedelta(days=day.weekday())
        return day.strftime("%Y-%m") if interval == "month" else day.isoformat()

    groups = defaultdict(
        lambda: dict(
            bookings=0,
            seats=0,
            held=0,
            confirmed=0,
            completed=0,
            cancelled=0,
            expired=0,
        )
    )
    for b in BOOKINGS.values():
        group = groups[period(b["created"])]
        group["bookings"] += 1
        group["seats"] += b["seats"]
        status = (
            "expired"
            if b["status"] == "held" and b["hold"] <= utcnow()
            else b["status"]
        )
        group[status] += 1
    expected = [dict(period=p, **groups[p]) for p in sorted(groups)]
    body = get_report(client, finance, "bookings/trends", interval=interval)
    assert body["rows"] == expected
    assert body["filters"]["interval"] == interval


def test_booking_trends_week_starts_monday(client, data, finance):
    rows = get_report(
        client,
        finance,
        "bookings/trends",
        interval="week",
        date_from="2025-03-20",
        date_to="2025-03-31",
    )["rows"]
    # 2025-03-20 is a Thursday, 2025-03-25 a Tuesday: in the weeks of Monday the
    # 17th and the 24th respectively.
    assert [(r["period"], r["bookings"]) for r in rows] == [
        ("2025-03-17", 1),
        ("2025-03-24", 1),
    ]


def test_cancellations_and_refunds(client, data, finance):
    rows = get_report(client, finance, "cancellations")["rows"]
    assert rows == [
        dict(
            period="2025-03",
            currency="EUR",
            cancellations=1,
            seats_released=3,
            refunds=2,
            cancelled_value="3000.00",
            penalties_kept="750.00",
            refunded_amount="2250.00",
            refunded_to_wallet="1250.00",
            refunded_to_original="1000.00",
            refunds_pending="1000.00",
        )
    ]
    assert (
        get_report(client, finance, "cancellations", date_to="2025-02-28")["rows"] == []
    )


def test_wallet_liability(client, data, finance):
    def expected(date_from=None, date_to=None):
        per_customer = defaultdict(lambda: [D(0), D(0), D(0)])
        for customer, amount, _k, when in WALLET:
            if date_to and when.date() > date_to:
                continue
            figures = per_customer[customer]
            if date_from and when.date() < date_from:
                figures[0] += D(amount)
            elif D(amount) > 0:
                figures[1] += D(amount)
            else:
                figures[2] -= D(amount)
        opening = sum(f[0] for f in per_customer.values())
        credits = sum(f[1] for f in per_customer.values())
        debits = sum(f[2] for f in per_customer.values())
        holders = sum(1 for f in per_customer.values() if f[0] + f[1] - f[2] > 0)
        return [
            dict(
                currency="EUR",
                customers_with_balance=holders,
                opening=money(opening),
                credits=money(credits),
                debits=money(debits),
                closing=money(opening + credits - debits),
            )
        ]

    assert get_report(client, finance, "wallets/liability")["rows"] == expected()
    assert (
        get_report(client, finance, "wallets/liability")["rows"][0]["closing"]
        == "1000.00"
    )
    ranged = get_report(
        client,
        finance,
        "wallets/liability",
        date_from="2025-03-01",
        date_to="2025-03-31",
    )
    assert ranged["rows"] == expected(date(2025, 3, 1), date(2025, 3, 31))
    assert ranged["rows"][0]["opening"] == "0.00"  # bob's 80 came and went in Jan/Feb
    with_app = client.application
    with with_app.app_context():
        cached = sum(c.wallet_balance for c in db.session.query(Customer))
    assert money(cached) == expected()[0]["closing"]


def test_enquiry_funnel(client, data, finance):
    rows = get_report(client, finance, "enquiries/funnel")["rows"]
    zero = dict(new=0, contacted=0, quoted=0, on_hold=0, won=0, lost=0)
    assert rows == [
        dict(
            employee_id=data["samuel"],
            employee_name="Samuel Okafor",
            enquiries=2,
            **{**zero, "new": 1, "won": 1},
            conversion_rate="50.0",
        ),
        dict(
            employee_id=data["sofia"],
            employee_name="Sofia Marin",
            enquiries=2,
            **{**zero, "new": 1, "won": 1},
            conversion_rate="50.0",
        ),
        dict(
            employee_id=None,
            employee_name=None,
            enquiries=1,
            **{**zero, "contacted": 1},
            conversion_rate="0.0",
        ),
    ]
    february = get_report(
        client,
        finance,
        "enquiries/funnel",
        date_from="2025-02-01",
        date_to="2025-02-28",
    )["rows"]
    assert [(r["employee_name"], r["enquiries"], r["won"]) for r in february] == [
        ("Samuel Okafor", 2, 1)
    ]


# ---- formats, validation, roles ------------------------------------------------

ALL_REPORTS = [
    "revenue/monthly",
    "revenue/by-customer",
    "revenue/by-destination",
    "revenue/by-package",
    "invoices/summary",
    "invoices/unpaid",
    "packages/popular",
    "destinations/popular",
    "customers/active",
    "bookings/trends",
    "cancellations",
    "wallets/liability",
    "enquiries/funnel",
]


@pytest.mark.parametrize("path", ALL_REPORTS)
def test_csv_matches_json(client, data, finance, path):
    query = {"date_from": "2025-01-01", "date_to": "2025-12-31"}
    body = get_report(client, finance, path, **query)
    resp = client.get(
        f"{API}/{path}", headers=finance, query_string={**query, "format": "csv"}
    )
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.endswith(
        '.csv"'
    )
    assert resp.is_streamed
    lines = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert lines[0] == body["columns"]
    assert len(lines) - 1 == len(body["rows"]) > 0
    for line, row in zip(lines[1:], body["rows"]):
        expected = []
        for name in body["columns"]:
            value = row[name]
            expected.append(
                ""
                if value is None
                else " ".join(map(str, value))
                if isinstance(value, list)
                else str(value)
            )
        assert line == expected


def test_accept_header_picks_csv(client, data, finance):
    resp = client.get(
        f"{API}/revenue/monthly", headers={**finance, "Accept": "text/csv"}
    )
    assert resp.mimetype == "text/csv"
    assert resp.get_data(as_text=True).startswith("month,currency,payments,received")
    assert 'filename="revenue-monthly-cash-' in resp.headers["Content-Disposition"]
    resp = client.get(f"{API}/revenue/monthly", headers={**finance, "Accept": "*/*"})
    assert resp.mimetype == "application/json"
    assert resp.get_json()["report"] == "revenue.monthly"  # read the stream to its end
    resp = client.get(
        f"{API}/revenue/monthly?format=json", headers={**finance, "Accept": "text/csv"}
    )
    assert resp.mimetype == "application/json"
    assert resp.get_json()["basis"] == "cash"


@pytest.mark.parametrize("path", ALL_REPORTS)
def test_empty_range_gives_empty_rows(client, data, finance, path):
    body = get_report(
        client, finance, path, date_from="2010-01-01", date_to="2010-01-31"
    )
    assert body["rows"] == []
    resp = client.get(
        f"{API}/{path}?format=csv&date_from=2010-01-01&date_to=2010-01-31",
        headers=finance,
    )
    assert resp.get_data(as_text=True).splitlines() == [",".join(body["columns"])]


@pytest.mark.parametrize(
    "query,field",
    [
        ("date_from=2025-05-01&date_to=2025-01-01", "query.date_to"),
        ("date_from=yesterday", "query.date_from"),
        ("date_to=2025-02-30", "query.date_to"),
        ("format=xml", "query.format"),
        ("basis=accrual", "query.basis"),
        ("year=1999", "query.year"),
        ("limit=0", "query.limit"),
        ("package_id=0", "query.package_id"),
    ],
)
def test_bad_filters_are_422(client, finance, query, field):
    resp = client.get(f"{API}/revenue/monthly?{query}", headers=finance)
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["status"] == 422 and field in body["errors"]


# Every report, including the pipeline reports of test_pipeline_reports.py and the
# transport reports of test_transport_reports.py; test_every_report_is_listed keeps
# the list (with ITEM_REPORTS) equal to the registered routes.
EVERY_REPORT = [
    *ALL_REPORTS,
    "enquiries/response-times",
    "enquiries/lost-reasons",
    "enquiries/revenue-won",
    "transport/popular-routes",
    "transport/city-pairs",
    "transport/load-factor",
    "transport/revenue",
]
# Reports of one record named in the path (no date range; test_transport_reports.py).
ITEM_REPORTS = ["transport/trips/<int:trip_id>/load"]


def test_every_report_is_listed(app):
    registered = {
        rule.rule.removeprefix(f"{API}/")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(f"{API}/")
    }
    assert registered == set(EVERY_REPORT) | set(ITEM_REPORTS)


@pytest.mark.parametrize(
    "query,field",
    [
        ("date_to=9999-12-31", "query.date_to"),
        ("date_from=0001-01-01", "query.date_from"),
        ("date_from=0001-01-01&date_to=9999-12-31", "query.date_to"),
        ("date_from=9999-12-31", "query.date_from"),
        ("date_to=1999-12-31", "query.date_to"),
        ("date_from=2101-01-01", "query.date_from"),
    ],
)
@pytest.mark.parametrize("path", EVERY_REPORT)
def test_far_dates_are_422_not_500(client, finance, path, query, field):
    """docs/security.md "Bounded dates": filters outside 2000-2100 are refused."""
    resp = client.get(f"{API}/{path}?{query}", headers=finance)
    body = assert_problem(resp, 422)
    assert body["type"] == "/problems/validation-error"
    assert body["errors"][field] == ["Must be between 2000-01-01 and 2100-12-31."]


@pytest.mark.parametrize("path", EVERY_REPORT)
def test_dates_at_the_bounds_are_200(client, finance, path):
    resp = client.get(
        f"{API}/{path}?date_from=2000-01-01&date_to=2100-12-31", headers=finance
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["rows"] == []


def test_interval_is_validated(client, finance):
    resp = client.get(f"{API}/bookings/trends?interval=hour", headers=finance)
    assert resp.status_code == 422 and "query.interval" in resp.get_json()["errors"]


@pytest.mark.parametrize(
    "role,status",
    [
        ("admin", 200),
        ("finance", 200),
        ("operation_head", 200),
        ("sales", 403),
        ("hr", 403),
        ("operation", 403),
        ("customer", 403),
        ("anonymous", 401),
    ],
)
@pytest.mark.parametrize(
    "path", ["revenue/monthly", "invoices/unpaid", "enquiries/funnel"]
)
def test_report_roles(client, actors, role, status, path):
    resp = client.get(f"{API}/{path}", headers=actors.headers(role))
    assert resp.status_code == status
    if status != 200:
        assert resp.mimetype == "application/problem+json"


def test_reports_are_in_the_spec(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ALL_REPORTS:
        operation = spec["paths"][f"{API}/{path}"]["get"]
        content = operation["responses"]["200"]["content"]
        assert {"application/json", "text/csv"} <= set(content)
        assert operation["security"]
