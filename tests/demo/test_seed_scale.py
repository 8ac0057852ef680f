"""`flask --app app seed-demo --scale N` (demo/seed_scale.py): the generated
bookings keep every invariant the booking engine keeps (seats, money, invoices,
wallet), spread over two years, re-runs add more without collisions, and the API
works on the data afterwards."""

import re
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from auth.tokens import issue_tokens
from core.extensions import db
from demo.seed_scale import EMAIL_DOMAIN, booking_reference
from models import (
    Booking,
    CreditNote,
    Customer,
    Departure,
    DepartureCategory,
    DocumentSequence,
    Enquiry,
    Invoice,
    Payment,
    Refund,
    WalletEntry,
)
from models.base import utcnow
from services.booking.bookings import REFERENCE_PREFIX
from services.payments.billing import status_sql
from tests.demo.conftest import count_rows

API = "/api/v1"
ZERO = Decimal("0.00")
LIVE = ("held", "confirmed")


def _scale(app, n: int, *extra: str):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--scale", str(n), *extra])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def _sums(column, key):
    rows = db.session.execute(select(key, func.sum(column)).group_by(key)).all()
    return {k: Decimal(v).quantize(Decimal("0.01")) for k, v in rows}


def _check_seats():
    live = dict(
        db.session.execute(
            select(Booking.departure_id, func.sum(Booking.seats))
            .where(Booking.status.in_(LIVE))
            .group_by(Booking.departure_id)
        ).all()
    )
    for departure in db.session.scalars(select(Departure)):
        assert departure.seats_taken == live.get(departure.id, 0) <= departure.capacity
    for category in db.session.scalars(select(DepartureCategory)):
        assert category.category == "adult"
        assert category.seats_taken == live.get(category.departure_id, 0)


def _check_money():
    paid = _sums(Payment.amount, Payment.booking_id)
    refunded = _sums(Refund.amount, Refund.booking_id)
    credited = _sums(CreditNote.amount, CreditNote.invoice_id)
    invoices = {i.booking_id: i for i in db.session.scalars(select(Invoice))}
    bookings = db.session.scalars(select(Booking)).all()
    assert len(invoices) == len(bookings)
    for b in bookings:
        assert ZERO <= b.amount_refunded <= b.amount_paid <= b.total_amount
        assert ZERO <= b.deposit_amount <= b.total_amount
        assert paid.get(b.id, ZERO) == b.amount_paid
        assert refunded.get(b.id, ZERO) == b.amount_refunded
        invoice = invoices[b.id]
        assert invoice.total_amount == b.total_amount
        assert re.fullmatch(r"INV-\d{4}-\d{6}", invoice.number)
        kept = b.amount_paid - b.amount_refunded
        credit = credited.get(invoice.id, ZERO)
        if b.status == "cancelled":
            assert b.penalty_amount is not None and b.cancelled_at is not None
            assert kept == b.penalty_amount
            assert credit == b.total_amount - b.penalty_amount
        elif b.status == "expired":
            assert b.expired_at is not None and kept == ZERO
            assert credit == b.total_amount
        else:
            assert credit == ZERO and b.amount_refunded == ZERO
        if b.status == "completed":
            assert b.amount_paid == b.total_amount and b.completed_at is not None
        if b.status == "confirmed":
            assert b.amount_paid >= b.deposit_amount > ZERO
        if b.status == "held":
            assert b.amount_paid == ZERO and b.hold_expires_at > utcnow()


def _check_wallets():
    balances = {}
    entries = db.session.scalars(
        select(WalletEntry).order_by(WalletEntry.created_at, WalletEntry.id)
    ).all()
    for entry in entries:
        balances[entry.customer_id] = (
            balances.get(entry.customer_id, ZERO) + entry.amount
        )
        assert entry.balance_after == balances[entry.customer_id] >= ZERO
    for customer in db.session.scalars(select(Customer)):
        assert customer.wallet_balance == balances.get(customer.id, ZERO) >= ZERO


def _check_all(app):
    with app.app_context():
        _check_seats()
        _check_money()
        _check_wallets()


def test_seed_scale_adds_the_bookings_asked_for(app):
    result = _scale(app, 2000)

    assert "Added 2,000 bookings" in result.output
    with app.app_context():
        scale = Booking.reference.like("ES-%")
        assert count_rows(Booking, scale) == 2000
        assert count_rows(Booking) == 2000 + count_rows(Booking, ~scale)
        assert count_rows(Customer, Customer.email.like(f"%@{EMAIL_DOMAIN}")) == 200
        assert count_rows(Invoice) == count_rows(Booking)
        assert (
            count_rows(Payment) > 2000
            and count_rows(Refund) > 0
            and count_rows(CreditNote) > 0
        )
        assert count_rows(WalletEntry) > 0
        assert count_rows(Enquiry) >= 16 + 8


def test_seed_scale_keeps_every_invariant(app):
    _scale(app, 2000)

    _check_all(app)


def test_seed_scale_covers_every_status_and_method(app):
    _scale(app, 2000)

    with app.app_context():
        statuses = Counter(
            db.session.scalars(
                select(Booking.status).where(Booking.reference.like("ES-%"))
            )
        )
        methods = set(db.session.scalars(select(Payment.method)))
        refund_kinds = set(
            db.session.execute(select(Refund.destination, Refund.status)).all()
        )
        enquiries = Counter(db.session.scalars(select(Enquiry.stage)))
        assigned = count_rows(Enquiry, Enquiry.assigned_to_id.is_not(None))
        invoice_statuses = set(
            db.session.scalars(
                select(status_sql(utcnow().date()))
                .select_from(Invoice)
                .join(Booking, Booking.id == Invoice.booking_id)
            )
        )
    assert set(statuses) == {"held", "confirmed", "completed", "expired", "cancelled"}
    assert statuses["completed"] > statuses["cancelled"] > statuses["held"]
    assert methods == {"card", "bank_transfer", "cash", "wallet"}
    assert {("wallet", "completed"), ("original", "completed")} <= refund_kinds
    assert set(enquiries) == {"new", "contacted", "quoted", "on_hold"}
    assert assigned > 0
    assert {"paid", "void", "pending"} <= invoice_statuses


def test_seed_scale_spreads_dates_over_two_years(app):
    _scale(app, 2000)

    now = utcnow()
    with app.app_context():
        scale = Booking.reference.like("ES-%")
        first, last = db.session.execute(
            select(func.min(Booking.created_at), func.max(Booking.created_at)).where(
                scale
            )
        ).one()
        paid_first, paid_last = db.session.execute(
            select(func.min(Payment.created_at), func.max(Payment.created_at))
        ).one()
        months = {
            (value.year, value.month)
            for value in db.session.scalars(select(Booking.created_at).where(scale))
        }
        newest = db.session.scalars(select(func.max(CreditNote.created_at))).one()
        cancelled = db.session.scalars(
            select(Booking).where(scale, Booking.status == "cancelled")
        ).all()
    assert now - timedelta(days=731) <= first <= now - timedelta(days=700)
    assert now - timedelta(days=1) <= last <= now
    assert (paid_last - paid_first).days > 650 and paid_last <= now and newest <= now
    assert len(months) >= 24
    for booking in cancelled:
        assert booking.created_at <= booking.cancelled_at <= now


def test_seed_scale_rerun_adds_more_without_collisions(app):
    _scale(app, 300)
    with app.app_context():
        before = {
            m.__name__: count_rows(m) for m in (Booking, Invoice, Customer, Departure)
        }

    result = _scale(app, 300)

    assert "Added 300 bookings" in result.output
    with app.app_context():
        after = {
            m.__name__: count_rows(m) for m in (Booking, Invoice, Customer, Departure)
        }
        numbers = db.session.scalars(select(Invoice.number)).all()
        references = db.session.scalars(select(Booking.reference)).all()
        year = f"INV-{utcnow().year}"
        counter = db.session.get(DocumentSequence, year).last_value
        highest = max(int(n.rsplit("-", 1)[1]) for n in numbers if n.startswith(year))
    assert after["Booking"] == before["Booking"] + 300
    assert after["Invoice"] == after["Booking"]
    assert after["Customer"] == before["Customer"] + 50
    assert after["Departure"] > before["Departure"]
    assert len(set(numbers)) == len(numbers) and len(set(references)) == len(references)
    assert counter == highest
    _check_all(app)


def test_booking_reference_never_looks_like_an_engine_reference():
    refs = {booking_reference(i) for i in (1, 2, 31, 32, 10**6, 32**7 - 1)}

    assert len(refs) == 6
    for ref in refs:
        assert re.fullmatch(r"ES-[23456789A-HJ-NP-Z]{7}", ref) and len(ref) <= 16
        assert not ref.startswith(REFERENCE_PREFIX)


def _token(app, model, **where):
    with app.app_context():
        account = db.session.scalars(select(model).filter_by(**where).limit(1)).one()
        return account.id, {
            "Authorization": f"Bearer {issue_tokens(account)['access_token']}"
        }


def test_api_works_on_scale_data(app, client, actors):
    _scale(app, 1000)
    with app.app_context():
        departure = db.session.scalars(
            select(Departure)
            .join(DepartureCategory, DepartureCategory.departure_id == Departure.id)
            .where(
                Departure.start_date > utcnow().date() + timedelta(days=60),
                Departure.seats_taken + 2 <= Departure.capacity,
            )
            .order_by(Departure.start_date)
            .limit(1)
        ).one()
        departure_id, taken = departure.id, departure.seats_taken
        confirmed = db.session.scalars(
            select(Booking)
            .where(
                Booking.reference.like("ES-%"),
                Booking.status == "confirmed",
                Booking.departure_id != departure_id,
            )
            .order_by(Booking.id)
            .limit(1)
        ).one()
        confirmed_id, confirmed_customer = confirmed.id, confirmed.customer_id
        numbers = set(db.session.scalars(select(Invoice.number)))
    customer_id, headers = _token(app, Customer, id=confirmed_customer)

    booked = client.post(
        f"{API}/bookings",
        json={"departure_id": departure_id, "seats": 2},
        headers=headers,
    )
    assert booked.status_code == 201, booked.json
    total = booked.json["total_amount"]
    paid = client.post(
        f"{API}/bookings/{booked.json['id']}/payments",
        json={"amount": total, "method": "card", "reference": "terminal-1"},
        headers=actors.headers("finance"),
    )  # a card terminal payment
    assert paid.status_code == 201, paid.json
    invoices = client.get(
        f"{API}/invoices?booking_id={booked.json['id']}",
        headers=actors.headers("finance"),
    )
    assert invoices.status_code == 200
    number = invoices.json["items"][0]["number"]
    assert number not in numbers and number.startswith(f"INV-{utcnow().year}-")
    cancel = client.post(
        f"{API}/bookings/{confirmed_id}/cancel",
        json={"refund_to": "wallet"},
        headers=actors.headers("sales"),
    )
    assert cancel.status_code == 200, cancel.json
    assert (
        client.get(f"{API}/customers/{customer_id}/wallet", headers=headers).status_code
        == 200
    )

    with app.app_context():
        assert db.session.get(Departure, departure_id).seats_taken == taken + 2
    _check_all(app)


def test_seed_scale_on_an_empty_database_loads_the_demo_set_first(app):
    result = _scale(app, 100)

    assert "admin@easytravels.test" in result.output
    with app.app_context():
        assert count_rows(Booking, Booking.reference.like("ET-%")) > 0
        assert count_rows(Booking, Booking.reference.like("ES-%")) == 100


def test_seed_scale_refuses_zero(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--scale", "0"])

    assert result.exit_code != 0
    assert "--scale" in result.output


def test_seed_scale_wallet_lines_follow_time_per_customer(app):
    _scale(app, 2000)

    with app.app_context():
        lines = defaultdict(list)
        for entry in db.session.scalars(select(WalletEntry).order_by(WalletEntry.id)):
            lines[entry.customer_id].append(entry.created_at)
    assert lines
    for times in lines.values():
        assert times == sorted(times)
