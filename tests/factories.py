"""Test factories and the helpers several test domains share, so that a test does
not depend on the endpoints it is not about. Every test module takes them from
here, from tests/conftest.py or from its domain's conftest.py (no test module
imports another).

Rows inserted straight into the database:

- `make_departure` / `make_booking`: a catalogue departure with its price
  categories and a bare booking row (the booking engine, inventory and expiry
  tests);
- `make_plain_departure`: a published package's departure without price-category
  rows (`make_cancellable_departure`: the same with the cancellation tests'
  capacity and title);
- `make_invoiced_booking`: a booking with its invoice whose seats count on the
  departure (payments, invoices, wallet, card payments);
- `make_paid_booking`: a booking with its invoice and payment rows, as the booking
  and payment services would leave it (cancellations, refunds, departure
  cancellation, audit);
- `make_bare_package`: a package without departures (enquiries, pagination).

Made through the API:

- `make_package` / `create_package` (body `package_body`): a package, published
  or a draft (departures, packages, caching, pagination, input hardening);
- `post_departure` / `make_api_departure` (dates from `day`): a departure of a
  package (departures, price approval, pagination, input hardening);
- `pay`: POST /bookings/<id>/payments (payments, invoices, wallet, schedule,
  webhooks);
- `cancelled_booking`: a paid booking cancelled through CANCEL_URL, with its
  refunds (refunds, outbox);
- `raise_enquiry`: an enquiry raised by sales (enquiries, pagination).

Readers: `refunds_of` (a booking's refunds), `live_seats` (a departure's seats
against its live bookings), `item_ids` and `one_page_meta` (list responses),
`assert_problem` (the RFC 9457 problem shape of every error response).

Accounts come from the `actors` fixture (tests/conftest.py).
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import select

from core.extensions import db
from models import Booking, Departure, DepartureCategory, Package, Payment, Refund
from models.booking import Traveller
from services.booking import inventory
from services.booking.bookings import CANCELLATION_POLICY, new_reference
from services.payments import billing, wallet

API = "/api/v1"
PROBLEM_KEYS = {"type", "title", "status", "detail"}
PACKAGES_URL = f"{API}/packages"
CANCEL_URL = f"{API}/bookings/{{}}/cancel"


def now() -> datetime:
    return datetime.now(UTC)


def make_departure(
    app,
    *,
    capacity=10,
    seats_taken=0,
    price="1200.00",
    currency="EUR",
    package_status="published",
    status="scheduled",
    start_in_days=30,
    booking_cutoff=None,
    title="Alpine Lakes",
    prices=None,
    category_capacities=None,
    min_party_size=1,
    deposit_percent=100,
) -> int:
    """Insert a package and one departure with its price categories straight into
    the database; returns the departure id. `prices` adds categories beside adult
    (`price`); `seats_taken` is counted as adult seats."""
    limits = category_capacities or {}
    with app.app_context():
        package = Package(
            title=title,
            destination="Switzerland",
            duration_days=7,
            base_price=Decimal(price),
            currency=currency,
            status=package_status,
            deposit_percent=deposit_percent,
        )
        start = now().date() + timedelta(days=start_in_days)
        departure = Departure(
            package=package,
            start_date=start,
            end_date=start + timedelta(days=6),
            capacity=capacity,
            seats_taken=seats_taken,
            price=Decimal(price),
            currency=currency,
            status=status,
            booking_cutoff=booking_cutoff,
            min_party_size=min_party_size,
        )
        for name, amount in {"adult": price, **(prices or {})}.items():
            departure.categories.append(
                DepartureCategory(
                    category=name,
                    price=Decimal(amount),
                    capacity=limits.get(name),
                    seats_taken=seats_taken if name == "adult" else 0,
                )
            )
        db.session.add_all([package, departure])
        db.session.commit()
        return departure.id


def make_booking(
    app,
    *,
    departure_id,
    customer_id,
    seats=1,
    status="held",
    hold_expires_at=None,
    reference=None,
    price="100.00",
    categories=None,
) -> int:
    """Insert a booking row directly (seats_taken is NOT adjusted); returns its id.
    `categories` names one traveller per seat by category."""
    with app.app_context():
        booking = Booking(
            reference=reference or new_reference(),
            customer_id=customer_id,
            departure_id=departure_id,
            seats=seats,
            status=status,
            currency="EUR",
            unit_price=Decimal(price),
            total_amount=Decimal(price) * seats,
            hold_expires_at=hold_expires_at or now() + timedelta(minutes=15),
            travellers=[
                Traveller(
                    name=f"Traveller {n}", birth_date=date(1990, 1, 1), category=kind
                )
                for n, kind in enumerate(categories or [])
            ],
        )
        db.session.add(booking)
        db.session.commit()
        return booking.id


def make_plain_departure(
    app,
    *,
    capacity=10,
    seats_taken=0,
    price="1000.00",
    currency="EUR",
    deposit_percent=100,
    start_in_days=60,
    title="Fjords by Rail",
) -> int:
    """A published package with one scheduled departure and no price-category rows
    (the money tests move departure seats only); returns the departure id."""
    with app.app_context():
        package = Package(
            title=title,
            destination="Norway",
            duration_days=5,
            base_price=Decimal(price),
            currency=currency,
            status="published",
            deposit_percent=deposit_percent,
        )
        start = now().date() + timedelta(days=start_in_days)
        departure = Departure(
            package=package,
            start_date=start,
            end_date=start + timedelta(days=4),
            capacity=capacity,
            seats_taken=seats_taken,
            price=Decimal(price),
            currency=currency,
        )
        db.session.add_all([package, departure])
        db.session.commit()
        return departure.id


def make_invoiced_booking(
    app,
    *,
    customer_id,
    departure_id=None,
    seats=1,
    total="1000.00",
    deposit=None,
    status="held",
    hold_minutes=15,
    amount_paid="0.00",
    currency="EUR",
    take_seats=True,
    due_date=None,
) -> int:
    """A booking with its invoice, inserted directly; the departure's `seats_taken`
    grows by `seats` when `take_seats` (as for a live or unswept booking).

    `deposit` defaults to the total; `hold_minutes` may be negative (a lapsed
    hold); `due_date` overrides the invoice's due date. Returns the booking id.
    """
    departure_id = departure_id or make_plain_departure(
        app, capacity=max(seats, 10), currency=currency
    )
    with app.app_context():
        departure = db.session.get(Departure, departure_id)
        booking = Booking(
            reference=new_reference(),
            customer_id=customer_id,
            departure_id=departure_id,
            seats=seats,
            status=status,
            currency=currency,
            unit_price=(Decimal(total) / seats).quantize(Decimal("0.01")),
            total_amount=Decimal(total),
            amount_paid=Decimal(amount_paid),
            deposit_amount=Decimal(deposit if deposit is not None else total),
            balance_due_date=billing.balance_due_date(departure.start_date),
            hold_expires_at=now() + timedelta(minutes=hold_minutes)
            if status == "held"
            else None,
            confirmed_at=now() if status == "confirmed" else None,
        )
        db.session.add(booking)
        if take_seats:
            departure.seats_taken += seats
        db.session.flush()
        invoice = billing.issue_invoice(booking)
        if due_date is not None:
            invoice.due_date = due_date
        db.session.commit()
        return booking.id


make_cancellable_departure = partial(
    make_plain_departure, capacity=20, title="Nordic Fjords"
)


def _pay(booking, invoice, method, amount, when) -> None:
    """One payment row; wallet payments are funded and debited through the ledger."""
    payment = Payment(
        booking_id=booking.id,
        invoice_id=invoice.id,
        customer_id=booking.customer_id,
        amount=amount,
        currency=booking.currency,
        method=method,
        reference=f"{method}-{when.timestamp():.0f}",
        created_at=when,
    )
    db.session.add(payment)
    db.session.flush()
    if method == "wallet":
        wallet.post_entry(
            customer_id=booking.customer_id,
            amount=amount,
            kind="adjustment",
            reason="test funding",
        )
        wallet.post_entry(
            customer_id=booking.customer_id,
            amount=-amount,
            kind="payment_debit",
            reason="test payment",
            booking_id=booking.id,
            payment_id=payment.id,
        )


def make_paid_booking(
    app,
    *,
    departure_id,
    customer_id,
    seats=2,
    status="confirmed",
    payments=None,
    deposit_percent=100,
    hold_lapsed=False,
    invoice=True,
) -> int:
    """Insert a booking with its invoice and payments, as the booking and payment
    services would leave it; returns its id.

    `payments` is a list of `(method, "amount")`, oldest first (default: the whole
    total by card for a confirmed booking, nothing for a hold). Live bookings take
    their seats on the departure.
    """
    with app.app_context():
        departure = db.session.get(Departure, departure_id)
        total = (departure.price * seats).quantize(Decimal("0.01"))
        if payments is None:
            payments = [("card", str(total))] if status != "held" else []
        paid = sum((Decimal(amount) for _, amount in payments), Decimal("0.00"))
        hold_end = now() + (
            timedelta(minutes=-1) if hold_lapsed else timedelta(minutes=15)
        )
        booking = Booking(
            reference=new_reference(),
            customer_id=customer_id,
            departure_id=departure_id,
            seats=seats,
            status=status,
            currency=departure.currency,
            unit_price=departure.price,
            total_amount=total,
            amount_paid=paid,
            deposit_amount=(total * deposit_percent / 100).quantize(Decimal("0.01")),
            balance_due_date=billing.balance_due_date(departure.start_date),
            hold_expires_at=hold_end if status == "held" else None,
            confirmed_at=now() if status != "held" else None,
            cancellation_policy=[dict(tier) for tier in CANCELLATION_POLICY],
        )
        db.session.add(booking)
        db.session.flush()
        if status in ("held", "confirmed"):
            assert inventory.take_seats(departure_id=departure_id, seats=seats)
        if invoice:
            issued = billing.issue_invoice(booking)
            start = now() - timedelta(hours=1)
            for index, (method, amount) in enumerate(payments):
                _pay(
                    booking,
                    issued,
                    method,
                    Decimal(amount),
                    start + timedelta(minutes=index),
                )
        db.session.commit()
        return booking.id


def make_package(client, actors, *, publish=True, **overrides) -> int:
    """A package made through the API by `operation` (one itinerary day, USD 1200),
    published by `operation_head` unless told not to; returns its id."""
    body = {
        "title": "Nile Cruise",
        "destination": "Luxor",
        "duration_days": 4,
        "base_price": "1200.00",
        "currency": "USD",
        "itinerary": [{"day_number": 1, "title": "Embark"}],
    }
    body.update(overrides)
    package_id = client.post(
        PACKAGES_URL, json=body, headers=actors.headers("operation")
    ).get_json()["id"]
    if publish:
        client.post(
            f"{PACKAGES_URL}/{package_id}/submit", headers=actors.headers("operation")
        )
        client.post(
            f"{PACKAGES_URL}/{package_id}/approve",
            headers=actors.headers("operation_head"),
        )
    return package_id


def package_body(**overrides) -> dict:
    """A valid POST /packages body (two itinerary days, given out of order)."""
    body = {
        "title": "Island Hopping",
        "description": "Sun and sea.",
        "destination": "Crete",
        "origin": "Athens",
        "transport_mode": "flight",
        "duration_days": 3,
        "base_price": "850.00",
        "itinerary": [
            {"day_number": 2, "title": "Boat trip", "location": "Balos"},
            {"day_number": 1, "title": "Arrival", "description": "Check in."},
        ],
    }
    body.update(overrides)
    return body


def create_package(client, actors, role="operation", **overrides) -> dict:
    """Create a draft package (`package_body`) as `role`; returns its JSON."""
    response = client.post(
        PACKAGES_URL, json=package_body(**overrides), headers=actors.headers(role)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def make_bare_package(app, status="published", title="Alpine Lakes") -> int:
    """Insert a package (no departures) straight into the database; returns its id."""
    with app.app_context():
        package = Package(
            title=title,
            destination="Switzerland",
            duration_days=5,
            base_price=Decimal("1200.00"),
            currency="EUR",
            status=status,
        )
        db.session.add(package)
        db.session.commit()
        return package.id


def day(offset: int) -> str:
    """The ISO date `offset` days from today (UTC)."""
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def post_departure(client, actors, package_id: int, role="operation", **overrides):
    """POST a departure (30 to 33 days ahead, 20 seats) as `role`; returns the
    response."""
    body = {"start_date": day(30), "end_date": day(33), "capacity": 20}
    body.update(overrides)
    return client.post(
        f"{PACKAGES_URL}/{package_id}/departures",
        json=body,
        headers=actors.headers(role),
    )


def make_api_departure(client, actors, package_id: int, **overrides) -> int:
    """Create a departure through the API (`post_departure`); returns its id."""
    response = post_departure(client, actors, package_id, **overrides)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def pay(
    client, headers, booking_id, amount, method="card", reference="pi_test_1", **extra
):
    """POST /bookings/<id>/payments; a card payment carries `reference`."""
    body = {"amount": amount, "method": method, **extra}
    if reference is not None and method == "card":
        body["reference"] = reference
    return client.post(
        f"{API}/bookings/{booking_id}/payments", json=body, headers=headers
    )


def refunds_of(app, booking_id) -> list[dict]:
    """(destination, method, status, amount) of the booking's refunds, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(Refund).where(Refund.booking_id == booking_id).order_by(Refund.id)
        )
        return [
            {
                "destination": r.destination,
                "method": r.method,
                "status": r.status,
                "amount": r.amount,
                "id": r.id,
            }
            for r in rows
        ]


def cancelled_booking(
    app,
    client,
    actors,
    customer,
    *,
    refund_to="original",
    payments=(("card", "1000.00"),),
) -> list[dict]:
    """A paid booking of `customer` cancelled 60 days out (10 % penalty); returns
    its refunds (dicts with `id`, `status`, ...)."""
    dep = make_cancellable_departure(app, start_in_days=60, price="1000.00")
    bid = make_paid_booking(
        app,
        departure_id=dep,
        customer_id=customer["id"],
        seats=1,
        payments=list(payments),
    )
    resp = client.post(
        CANCEL_URL.format(bid),
        json={"refund_to": refund_to},
        headers=customer["headers"],
    )
    assert resp.status_code == 200, resp.get_json()
    return refunds_of(app, bid)


def raise_enquiry(client, actors, customer_id, **body):
    """Raise an enquiry through the API as sales for `customer_id`; returns its JSON."""
    payload = {
        "customer_id": customer_id,
        "subject": "Trip question",
        "message": "Is breakfast included?",
        **body,
    }
    response = client.post(
        f"{API}/enquiries", json=payload, headers=actors.headers("sales")
    )
    assert response.status_code == 201, response.json
    return response.json


def live_seats(app, departure_id) -> tuple[int, list[int]]:
    """(seats_taken, seats of each live booking) of the departure."""
    with app.app_context():
        taken = db.session.get(Departure, departure_id).seats_taken
        seats = db.session.scalars(
            select(Booking.seats).where(
                Booking.departure_id == departure_id,
                Booking.status.in_(("held", "confirmed")),
            )
        ).all()
        return taken, list(seats)


def item_ids(response) -> list:
    """The item ids of a list response, in order."""
    return [item["id"] for item in response.get_json()["items"]]


def assert_problem(response, status):
    """Assert `response` is an RFC 9457 problem with `status` (no traceback in
    it); returns its body (core/errors.py, docs/design.md "API conventions")."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def one_page_meta(total: int, per_page: int = 20) -> dict:
    """The `meta` of a list whose `total` rows all fit on its first page
    (docs/design.md "API conventions"): exact total, no further page."""
    return {
        "page": 1,
        "per_page": per_page,
        "total": total,
        "pages": 1 if total else 0,
        "has_more": False,
        "next_cursor": None,
        "total_is_estimate": False,
    }


def fresh_schema() -> None:
    """Empty the current app's database and create the models' schema (needs an app
    context). PostgreSQL: DROP SCHEMA public CASCADE, which also drops what
    migrations made beside the models; other databases: drop_all. Used by the test
    session and the in-process benches."""
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
    db.create_all()
