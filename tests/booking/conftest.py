"""What the booking tests share: BOOKINGS (the URL), booking through it (`book`,
`traveller`, `party`), reading seats back (`seats_taken`, `category_taken`,
`booking_rows`), lapsing holds (`lapse`) and the stored state a cancellation
touches (`booking_state`, `wallet_of`, `invoice_of`, `db_snapshot`; used by the
booking and departure cancellation tests).

Fixtures come from tests/conftest.py (`app`, `client`, `actors`, `mailbox`,
`provider`); rows from tests/factories.py.
"""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from core.extensions import db
from models import (
    Booking,
    CreditNote,
    Customer,
    Departure,
    DepartureCategory,
    Invoice,
    Payment,
    Refund,
    WalletEntry,
)
from services.payments import billing
from tests.factories import now

BOOKINGS = "/api/v1/bookings"


def seats_taken(app, departure_id) -> int:
    with app.app_context():
        return db.session.get(Departure, departure_id).seats_taken


def booking_rows(app, departure_id) -> list[tuple[str, int]]:
    """(status, seats) of the departure's bookings, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(Booking.status, Booking.seats)
            .where(Booking.departure_id == departure_id)
            .order_by(Booking.id)
        )
        return [tuple(row) for row in rows]


def book(client, headers, **body):
    return client.post(BOOKINGS, json=body, headers=headers)


def traveller(name="Ada Lovelace", born="1990-12-10", category="adult") -> dict:
    return {"name": name, "birth_date": born, "category": category}


def category_taken(app, departure_id) -> dict[str, int]:
    """`{category: seats_taken}` of the departure's category rows."""
    with app.app_context():
        rows = db.session.execute(
            select(DepartureCategory.category, DepartureCategory.seats_taken).where(
                DepartureCategory.departure_id == departure_id
            )
        )
        return dict(rows.all())


def party(*categories: str) -> list[dict]:
    """One traveller per category given."""
    return [
        traveller(f"Traveller {n}", "2000-01-01", kind)
        for n, kind in enumerate(categories)
    ]


def lapse(app, *booking_ids, minutes=1) -> None:
    """Move the bookings' hold expiry `minutes` into the past."""
    with app.app_context():
        for booking_id in booking_ids:
            db.session.get(Booking, booking_id).hold_expires_at = now() - timedelta(
                minutes=minutes
            )
        db.session.commit()


def booking_state(app, booking_id) -> dict:
    """The booking's stored columns that cancellation touches."""
    with app.app_context():
        b = db.session.get(Booking, booking_id)
        return {
            "status": b.status,
            "amount_paid": b.amount_paid,
            "amount_refunded": b.amount_refunded,
            "penalty_amount": b.penalty_amount,
            "cancelled_at": b.cancelled_at,
            "cancel_reason": b.cancel_reason,
            "cancelled_by_id": b.cancelled_by_id,
        }


def wallet_of(
    app, customer_id
) -> tuple[Decimal, list[tuple[str, Decimal, int | None]]]:
    """The wallet balance and its ledger lines `(kind, amount, refund_id)`."""
    with app.app_context():
        entries = db.session.scalars(
            select(WalletEntry)
            .where(WalletEntry.customer_id == customer_id)
            .order_by(WalletEntry.id)
        )
        lines = [(e.kind, e.amount, e.refund_id) for e in entries]
        return db.session.get(Customer, customer_id).wallet_balance, lines


def invoice_of(app, booking_id) -> dict:
    """The booking's invoice status and the sum of its credit notes."""
    with app.app_context():
        invoice = db.session.scalar(
            select(Invoice).where(Invoice.booking_id == booking_id)
        )
        return {
            "status": billing.invoice_status(invoice),
            "credited": billing.credited_amount(invoice),
        }


def db_snapshot(app) -> dict:
    """Everything a cancellation could change: bookings, seats, money records."""
    with app.app_context():
        counts = {
            m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Refund, WalletEntry, CreditNote, Payment)
        }
        bookings = [
            (b.id, b.status, b.amount_refunded, b.penalty_amount, b.updated_at)
            for b in db.session.scalars(select(Booking).order_by(Booking.id))
        ]
        seats = list(db.session.execute(select(Departure.id, Departure.seats_taken)))
        balances = list(
            db.session.execute(select(Customer.id, Customer.wallet_balance))
        )
        return {
            "counts": counts,
            "bookings": bookings,
            "seats": seats,
            "wallets": balances,
        }
