"""The demo data set (demo/seed.py): counts, seat consistency, maker-checker,
idempotence, and that the printed demo logins work."""

import re
from collections import Counter
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from core.extensions import db
from demo.seed import DEMO_PASSWORD, seed_demo
from models import (
    Booking,
    Customer,
    Departure,
    Employee,
    Enquiry,
    EnquiryNote,
    Package,
    SeatSegment,
    Ticket,
)
from models.base import utcnow
from models.booking import Traveller
from services.accounts.employees import ensure_first_admin
from tests.conftest import empty_tables
from tests.demo.conftest import count_rows


def _seed(app, **kwargs) -> tuple[dict, list[str]]:
    """Run seed_demo in an app context; returns (counts, echoed lines)."""
    lines = []
    with app.app_context():
        counts = seed_demo(echo=lines.append, **kwargs)
    return counts, lines


def _query(app, fn):
    """Run `fn()` in an app context and return its result."""
    with app.app_context():
        return fn()


def _table_counts(app) -> dict:
    models = (Employee, Customer, Package, Departure, Booking, Enquiry, EnquiryNote)
    return _query(app, lambda: {m.__name__: count_rows(m) for m in models})


def test_seed_demo_creates_promised_counts(app):
    counts, _ = _seed(app)

    assert counts["employees"] == 12
    assert counts["customers"] == 50
    assert counts["packages"] == 20
    assert counts["enquiries"] == 16
    assert _table_counts(app) == {
        "Employee": 12,
        "Customer": 50,
        "Package": 20,
        "Departure": counts["departures"],
        "Booking": counts["bookings"] + counts["trip_bookings"],
        "Enquiry": 16,
        "EnquiryNote": counts["enquiry_notes"],
    }
    assert counts["trip_bookings"] > 0
    assert _query(
        app,
        lambda: (count_rows(Ticket), count_rows(SeatSegment), count_rows(Traveller)),
    ) == (counts["tickets"], counts["seat_segments"], counts["trip_passengers"])


def test_seed_demo_covers_every_role_and_status(app):
    _seed(app)

    def statuses():
        return (
            set(db.session.scalars(select(Employee.role))),
            Counter(db.session.scalars(select(Package.status))),
            Counter(db.session.scalars(select(Enquiry.stage))),
            set(db.session.scalars(select(Booking.status))),
        )

    roles, packages, enquiries, bookings = _query(app, statuses)
    assert roles == {"admin", "hr", "sales", "operation", "operation_head", "finance"}
    assert set(packages) == {
        "draft",
        "pending_approval",
        "published",
        "rejected",
        "archived",
    }
    assert packages["published"] == 14
    assert enquiries == {"new": 4, "contacted": 4, "quoted": 4, "on_hold": 4}
    assert {"held", "confirmed"} <= bookings


def test_seed_demo_published_packages_have_future_departures_and_itinerary(app):
    _seed(app)

    def check():
        for package in db.session.scalars(select(Package)):
            assert 3 <= len(package.itinerary) == package.duration_days <= 10
            assert package.itinerary[-1].title in package.search_document
            if package.status != "published":
                assert package.departures == [] or package.status == "archived"
                continue
            assert 2 <= len(package.departures) <= 4
            for dep in package.departures:
                assert dep.start_date > date.today()
                assert 10 <= dep.capacity <= 40
                assert (dep.end_date - dep.start_date).days == package.duration_days - 1

    _query(app, check)


def test_seed_demo_seats_taken_equal_live_booking_seats(app):
    _seed(app)

    def pairs():
        live = dict(
            db.session.execute(
                select(Booking.departure_id, func.sum(Booking.seats))
                .where(Booking.status.in_(("held", "confirmed")))
                .group_by(Booking.departure_id)
            ).all()
        )
        return [
            (d.seats_taken, live.get(d.id, 0), d.capacity)
            for d in db.session.scalars(select(Departure))
        ]

    rows = _query(app, pairs)
    assert any(taken > 0 for taken, _, _ in rows)
    for taken, live_seats, capacity in rows:
        assert taken == live_seats <= capacity


def test_seed_demo_bookings_carry_prices_and_unique_references(app):
    _seed(app)

    def bookings():
        return [
            (
                b.reference,
                b.status,
                b.seats,
                b.unit_price,
                b.total_amount,
                b.departure.price,
                b.hold_expires_at,
                b.currency,
            )
            for b in db.session.scalars(
                select(Booking).where(Booking.kind == "package")
            )
        ]

    rows = _query(app, bookings)
    assert len({r[0] for r in rows}) == len(rows)
    for ref, status, seats, unit, total, price, expires, currency in rows:
        assert re.fullmatch(r"ET-[A-Z0-9]{6}", ref)
        assert unit == price and total == unit * seats
        assert currency == app.config["DEFAULT_CURRENCY"]
        if status == "held":
            assert expires is not None


def test_seed_demo_published_packages_approved_by_another_operation_head(app):
    _seed(app)

    def reviews():
        rows = []
        for package in db.session.scalars(
            select(Package).where(Package.status == "published")
        ):
            creator = db.session.get(Employee, package.created_by_id)
            approver = db.session.get(Employee, package.approved_by_id)
            rows.append((creator.id, creator.role, approver.id, approver.role))
        return rows

    for creator_id, creator_role, approver_id, approver_role in _query(app, reviews):
        assert creator_role == "operation"
        assert approver_role == "operation_head"
        assert approver_id != creator_id


def test_seed_demo_enquiries_have_notes_and_sales_assignee(app):
    _seed(app)

    def enquiries():
        return [
            (
                [n.created_at for n in e.notes],
                db.session.get(Employee, e.assigned_to_id).role,
            )
            for e in db.session.scalars(select(Enquiry))
        ]

    now = utcnow()
    for notes, role in _query(app, enquiries):
        assert len(notes) >= 1
        assert all(created <= now for created in notes)
        assert role == "sales"


def test_seed_demo_twice_without_force_changes_nothing(app):
    _seed(app)
    before = _table_counts(app)

    counts, lines = _seed(app)

    assert counts == {}
    assert "already has data" in lines[0]
    assert _table_counts(app) == before


def test_seed_demo_is_deterministic(app):
    def snapshot():
        return (
            list(db.session.scalars(select(Customer.email).order_by(Customer.id))),
            list(db.session.scalars(select(Booking.reference).order_by(Booking.id))),
            list(
                db.session.execute(
                    select(Traveller.name, Traveller.seat_label).order_by(Traveller.id)
                ).all()
            ),
            list(db.session.scalars(select(Ticket.number).order_by(Ticket.id))),
        )

    _seed(app)
    first = _query(app, snapshot)
    empty_tables(app)
    _seed(app)

    assert _query(app, snapshot) == first


def test_seed_demo_runs_next_to_a_bootstrap_admin(app):
    _query(
        app,
        lambda: ensure_first_admin(
            email="boss@corp.test", password="x" * 12, name="Boss"
        ),
    )

    counts, _ = _seed(app)

    assert counts["employees"] == 12
    assert _table_counts(app)["Employee"] == 13


def test_seed_demo_reuses_a_bootstrap_admin_with_the_demo_email(app):
    _query(
        app,
        lambda: ensure_first_admin(
            email="admin@easytravels.test", password="own-admin-password", name="Boss"
        ),
    )

    counts, lines = _seed(app)

    assert counts["employees"] == 11
    admin_row = next(
        line for line in lines if line.startswith("admin@easytravels.test")
    )
    assert "(unchanged)" in admin_row and DEMO_PASSWORD not in admin_row
    assert _table_counts(app)["Employee"] == 12


def test_seed_demo_with_force_reuses_accounts(app):
    _seed(app)

    counts, _ = _seed(app, force=True)

    assert "employees" not in counts and "customers" not in counts
    assert counts["packages"] == 20
    assert _table_counts(app)["Employee"] == 12
    assert _table_counts(app)["Package"] == 40


def test_seed_demo_logins_work(app, client):
    _, lines = _seed(app)
    table = "\n".join(lines)
    assert "customer@easytravels.test" in table and DEMO_PASSWORD in table

    for email, account in (
        ("ophead@easytravels.test", "employee"),
        ("customer@easytravels.test", "customer"),
    ):
        response = client.post(
            "/api/v1/auth/login",
            json={"email": email, "password": DEMO_PASSWORD, "account": account},
        )
        assert response.status_code == 200, response.json
        assert response.json["access_token"]

    response = client.post(
        "/api/v1/auth/login",
        json={
            "email": "former.sales@easytravels.test",
            "password": DEMO_PASSWORD,
            "account": "employee",
        },
    )
    assert response.status_code == 401


def test_seed_demo_command_prints_logins(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "admin@easytravels.test" in result.output
    assert _table_counts(app)["Package"] == 20


def test_seed_demo_money_records_agree(app):
    """Every seeded booking has its invoice; payments sum to amount_paid; expired and
    cancelled bookings' invoices are voided by credit notes (same rules as the API)."""
    from services.payments.billing import invoice_status

    _seed(app)

    def check():
        bookings = db.session.scalars(select(Booking)).all()
        assert bookings
        for booking in bookings:
            paid = sum((p.amount for p in booking.payments), Decimal("0"))
            assert paid == booking.amount_paid
            assert booking.invoice is not None
            assert booking.invoice.total_amount == booking.total_amount
            if booking.status in ("expired", "cancelled"):
                assert invoice_status(booking.invoice) == "void"
            if booking.status == "confirmed":
                assert booking.amount_paid >= booking.deposit_amount > 0
        return True

    assert _query(app, check)
