"""What the payment tests share: funding and reading wallets (`fund_wallet`,
`wallet_state`), the stored booking a payment changes (`booking_state`), card
payment intents (`start_intent`, `held_booking_with_intent`, `paid_by_card`), the
rows a webhook could write (`counts`), a Stripe-Signature for a body (`sign`) and
`count`, a scalar query in an app context (the PostgreSQL concurrency tests).

Fixtures come from tests/conftest.py (`app`, `client`, `actors`, `mailbox`,
`provider`: the session's localstripe); bookings from tests/factories.py
(`make_invoiced_booking`, `make_paid_booking`), and `pay` too.
"""

import hashlib
import hmac
import time
from decimal import Decimal

from sqlalchemy import func, select

from core.extensions import db
from models import (
    Booking,
    Customer,
    Payment,
    PaymentAttempt,
    ProviderEvent,
    Refund,
    WalletEntry,
)
from services.payments import wallet
from tests.factories import API, make_invoiced_booking
from tests.stripe_support import WEBHOOK_SECRET, deliver

D = Decimal


def fund_wallet(app, customer_id, amount) -> None:
    """Credit the wallet through the ledger (an adjustment)."""
    with app.app_context():
        wallet.post_entry(
            customer_id=customer_id,
            amount=D(amount),
            kind="adjustment",
            reason="test funding",
        )
        db.session.commit()


def wallet_state(app, customer_id) -> tuple[Decimal, Decimal, int]:
    """(cached balance, ledger sum, ledger lines) of a customer's wallet."""
    with app.app_context():
        balance = db.session.get(Customer, customer_id).wallet_balance
        total = db.session.scalar(
            select(func.coalesce(func.sum(WalletEntry.amount), 0)).where(
                WalletEntry.customer_id == customer_id
            )
        )
        lines = db.session.scalar(
            select(func.count())
            .select_from(WalletEntry)
            .where(WalletEntry.customer_id == customer_id)
        )
        return D(balance), D(str(total)).quantize(D("0.01")), lines


def booking_state(app, booking_id) -> dict:
    """The stored booking's status and money, and its departure's seats_taken."""
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        return {
            "status": booking.status,
            "amount_paid": booking.amount_paid,
            "confirmed_at": booking.confirmed_at,
            "hold_expires_at": booking.hold_expires_at,
            "seats_taken": booking.departure.seats_taken,
            "payments": db.session.scalar(
                select(func.count())
                .select_from(Payment)
                .where(Payment.booking_id == booking_id)
            ),
        }


def start_intent(client, headers, booking_id, amount, **kwargs):
    return client.post(
        f"{API}/bookings/{booking_id}/payment-intents",
        json={"amount": amount},
        headers=headers,
        **kwargs,
    )


def held_booking_with_intent(app, client, actors, *, total="1000.00", **booking):
    """A customer's held booking and a 201 intent for its total."""
    me = actors.customer()
    booking_id = make_invoiced_booking(
        app, customer_id=me["id"], total=total, **booking
    )
    resp = start_intent(client, me["headers"], booking_id, total)
    assert resp.status_code == 201, resp.get_json()
    return me, booking_id, resp.get_json()


def count(app, stmt) -> int:
    with app.app_context():
        return db.session.scalar(stmt)


def counts(app) -> dict:
    """Rows the webhook could have written."""
    with app.app_context():
        return {
            "payments": db.session.scalar(select(func.count()).select_from(Payment)),
            "events": db.session.scalar(
                select(func.count()).select_from(ProviderEvent)
            ),
            "attempts": sorted(db.session.scalars(select(PaymentAttempt.status))),
            "refunds": db.session.scalar(select(func.count()).select_from(Refund)),
        }


def sign(body: bytes, *, secret=WEBHOOK_SECRET, timestamp=None) -> str:
    """A Stripe-Signature header (t=..,v1=HMAC-SHA256 of "t.body")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def paid_by_card(app, client, actors, provider, total="1000.00"):
    me, booking_id, body = held_booking_with_intent(app, client, actors, total=total)
    assert deliver(client, provider.pay(body["provider_payment_id"])).status_code == 200
    return me, booking_id, body
