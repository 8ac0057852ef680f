"""Bulk hold expiry and trip completion: services.booking.holds.expire_holds /
complete_trips and their `flask bookings ...` commands (docs/design.md
"Lifecycles": booking; "Rules with numbers": hold)."""

import threading
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from models import Booking, CreditNote, DepartureCategory, Invoice
from services.booking import bookings as booking_service
from services.booking import holds
from services.payments import billing
from tests.booking.conftest import book, category_taken, lapse, party, seats_taken
from tests.factories import make_booking, make_departure, now


def booked(client, headers, dep, seats, categories=None) -> int:
    """Book through the API (invoice included); returns the booking id."""
    resp = book(
        client,
        headers,
        departure_id=dep,
        seats=seats,
        **({"travellers": party(*categories)} if categories else {}),
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def booking_state(app, booking_id) -> tuple:
    """(status, expired_at is set, completed_at is set) of a booking."""
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        return (
            booking.status,
            booking.expired_at is not None,
            booking.completed_at is not None,
        )


def credit_notes(app) -> list[tuple]:
    """(number, invoice booking_id, amount) of every credit note, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(CreditNote.number, Invoice.booking_id, CreditNote.amount)
            .join(Invoice, Invoice.id == CreditNote.invoice_id)
            .order_by(CreditNote.id)
        )
        return [tuple(row) for row in rows]


def expire(app, **kwargs) -> int:
    """services.booking.holds.expire_holds in its own app context."""
    with app.app_context():
        return holds.expire_holds(**kwargs)


def complete(app, **kwargs) -> int:
    """services.booking.bookings.complete_trips in its own app context."""
    with app.app_context():
        return booking_service.complete_trips(**kwargs)


def run_cli(app, command: str):
    return app.test_cli_runner().invoke(args=["bookings", command])


# --- expire_holds ---------------------------------------------------------------------


def test_expire_holds_releases_seats_categories_and_credits_invoice(
    app, client, actors
):
    dep = make_departure(
        app,
        capacity=10,
        price="300.00",
        prices={"child": "100.00"},
        category_capacities={"child": 3},
    )
    headers = actors.headers("customer")
    lapsed = booked(client, headers, dep, 3, ["adult", "child", "child"])
    live = booked(client, headers, dep, 2, ["adult", "child"])
    lapse(app, lapsed)

    assert expire(app) == 1

    assert booking_state(app, lapsed) == ("expired", True, False)
    assert booking_state(app, live) == ("held", False, False)
    assert seats_taken(app, dep) == 2
    assert category_taken(app, dep) == {"adult": 1, "child": 1}
    assert credit_notes(app) == [(f"CN-{now().year}-000001", lapsed, Decimal("500.00"))]
    with app.app_context():
        invoice = db.session.scalar(select(Invoice).where(Invoice.booking_id == lapsed))
        assert billing.invoice_status(invoice) == "void"


def test_expire_holds_is_idempotent(app, client, actors):
    dep = make_departure(app, capacity=5)
    ids = [booked(client, actors.headers("customer"), dep, 2) for _ in range(2)]
    lapse(app, *ids)

    assert expire(app) == 2
    assert expire(app) == 0

    assert seats_taken(app, dep) == 0
    assert category_taken(app, dep) == {"adult": 0}
    assert len(credit_notes(app)) == 2


def test_expire_holds_leaves_other_states_and_live_holds(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(app, capacity=10, seats_taken=3)
    past = now() - timedelta(hours=1)
    ids = [
        make_booking(
            app, departure_id=dep, customer_id=cust, status=status, hold_expires_at=past
        )
        for status in ("confirmed", "cancelled")
    ]
    ids.append(make_booking(app, departure_id=dep, customer_id=cust))

    assert expire(app) == 0

    assert [booking_state(app, i)[0] for i in ids] == ["confirmed", "cancelled", "held"]
    assert seats_taken(app, dep) == 3
    assert credit_notes(app) == []


def test_expire_holds_with_explicit_now(app, client, actors):
    dep = make_departure(app, capacity=5)
    booking_id = booked(client, actors.headers("customer"), dep, 1)

    assert expire(app, now=now()) == 0
    assert expire(app, now=now() + timedelta(minutes=16)) == 1
    assert booking_state(app, booking_id)[0] == "expired"


def test_expire_holds_without_invoice_still_expires(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(app, capacity=4, seats_taken=2)
    booking_id = make_booking(
        app,
        departure_id=dep,
        customer_id=cust,
        seats=2,
        hold_expires_at=now() - timedelta(minutes=1),
    )

    assert expire(app) == 1

    assert booking_state(app, booking_id)[0] == "expired"
    assert seats_taken(app, dep) == 0
    assert credit_notes(app) == []


def test_expire_holds_cli_reports_and_is_idempotent(app, client, actors):
    dep = make_departure(app, capacity=5)
    ids = [booked(client, actors.headers("customer"), dep, 1) for _ in range(3)]
    lapse(app, *ids[:2])

    first = run_cli(app, "expire-holds")
    second = run_cli(app, "expire-holds")

    assert first.exit_code == 0 and first.output.strip() == "2 hold(s) expired"
    assert second.exit_code == 0 and second.output.strip() == "0 hold(s) expired"
    assert seats_taken(app, dep) == 1
    assert [booking_state(app, i)[0] for i in ids] == ["expired", "expired", "held"]


def test_expire_holds_concurrent_runs_release_once(app, client, actors):
    dep = make_departure(
        app, capacity=40, prices={"child": "10.00"}, category_capacities={"child": 20}
    )
    headers = actors.headers("customer")
    # One customer per hold: a customer holds at most 10 unpaid seats per departure.
    ids = [
        booked(client, actors.customer()["headers"], dep, 2, ["adult", "child"])
        for _ in range(10)
    ]
    live = booked(client, headers, dep, 1)
    lapse(app, *ids)
    runs, results, errors = 6, [], []
    barrier = threading.Barrier(runs)

    def sweep():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(holds.expire_holds())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(results) == 10
    assert seats_taken(app, dep) == 1
    assert category_taken(app, dep) == {"adult": 1, "child": 0}
    assert len(credit_notes(app)) == 10
    assert booking_state(app, live)[0] == "held"


def test_create_after_sweep_reuses_category_seats(app, client, actors):
    dep = make_departure(
        app, capacity=3, prices={"child": "10.00"}, category_capacities={"child": 1}
    )
    headers = actors.headers("customer")
    old = booked(client, headers, dep, 1, ["child"])
    lapse(app, old)
    expire(app)

    booked(client, headers, dep, 1, ["child"])

    assert category_taken(app, dep) == {"adult": 0, "child": 1}


# --- complete_trips -------------------------------------------------------------------


def test_complete_trips_completes_confirmed_bookings_of_ended_departures(app, actors):
    cust = actors.customer()["id"]
    ended = make_departure(
        app, capacity=10, seats_taken=5, start_in_days=-10
    )  # ended 4 days ago
    running = make_departure(
        app, capacity=10, seats_taken=2, start_in_days=-3
    )  # ends in 3 days
    done = make_booking(
        app, departure_id=ended, customer_id=cust, seats=3, status="confirmed"
    )
    held = make_booking(
        app, departure_id=ended, customer_id=cust, seats=2, status="held"
    )
    ongoing = make_booking(
        app, departure_id=running, customer_id=cust, seats=2, status="confirmed"
    )

    assert complete(app) == 1

    assert booking_state(app, done) == ("completed", False, True)
    assert booking_state(app, held)[0] == "held"
    assert booking_state(app, ongoing)[0] == "confirmed"
    assert seats_taken(app, ended) == 2  # seats taken count held + confirmed only
    assert seats_taken(app, running) == 2
    with app.app_context():
        adult = db.session.scalar(
            select(DepartureCategory.seats_taken).where(
                DepartureCategory.departure_id == ended
            )
        )
    assert adult == 2


def test_complete_trips_ends_after_the_end_date(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(app, capacity=4, seats_taken=1, start_in_days=-6)  # ends today
    booking_id = make_booking(
        app, departure_id=dep, customer_id=cust, status="confirmed"
    )

    assert complete(app) == 0
    assert complete(app, now=now() + timedelta(days=1)) == 1
    assert booking_state(app, booking_id)[0] == "completed"


def test_complete_trips_cli_is_idempotent(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(app, capacity=4, seats_taken=2, start_in_days=-20)
    for _ in range(2):
        make_booking(app, departure_id=dep, customer_id=cust, status="confirmed")

    first = run_cli(app, "complete-trips")
    second = run_cli(app, "complete-trips")

    assert first.exit_code == 0 and first.output.strip() == "2 booking(s) completed"
    assert second.exit_code == 0 and second.output.strip() == "0 booking(s) completed"
    assert seats_taken(app, dep) == 0
