"""Property-based test of the booking engine and money rules (docs/design.md "Rules
with numbers").

A hypothesis state machine drives the real API through random sequences of book /
pay / cancel / expire / sweep / refund-complete / wallet-adjust calls, and card
payments through a real localstripe (intent, confirm with a good or a declining
card, the signed webhook delivered late, twice or never, reconciliation, provider
refunds on cancellation) and, after every step, checks the invariants against the
database:

- seats: each departure's `seats_taken` equals the seats of its held and confirmed
  bookings (stored status) and never exceeds capacity; per-category counters agree;
- money, per booking: payments sum to `amount_paid`, refunds sum to
  `amount_refunded`, and paid - refunded (what is kept) equals the penalty for a
  cancelled booking, everything paid for a live one, nothing for an expired one;
- wallet: the balance equals the sum of its ledger and no ledger line is negative;
- card payments: a succeeded attempt has exactly one payment (its PaymentIntent as
  reference) and every other attempt none; an attempt the booking could not take is
  refunded in full on the provider; refunds of a card payment never exceed it.
No call may answer 5xx.
"""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, update

from core.extensions import db
from models import (
    Booking,
    Customer,
    Departure,
    DepartureCategory,
    Package,
    Payment,
    PaymentAttempt,
    Refund,
    WalletEntry,
)
from models.base import utcnow
from tests.conftest import empty_tables
from tests.stripe_support import deliver

API = "/api/v1"
CAPACITY = 8


def _setup_world(app, actors):
    with app.app_context():
        pkg = Package(
            title="Property tour",
            destination="Lisbon",
            duration_days=3,
            base_price=Decimal("100.00"),
            currency=app.config["DEFAULT_CURRENCY"],
            status="published",
            deposit_percent=30,
        )
        db.session.add(pkg)
        db.session.flush()
        departures = []
        for days in (5, 20, 45):  # three cancellation tiers
            dep = Departure(
                package_id=pkg.id,
                start_date=date.today() + timedelta(days=days),
                end_date=date.today() + timedelta(days=days + 2),
                capacity=CAPACITY,
                price=Decimal("100.00"),
                currency=pkg.currency,
            )
            dep.categories = [
                DepartureCategory(category="adult", price=Decimal("100.00"))
            ]
            db.session.add(dep)
            departures.append(dep)
        db.session.commit()
        dep_ids = [d.id for d in departures]
    customers = [actors.customer() for _ in range(3)]
    return {
        "departures": dep_ids,
        "customers": customers,
        "finance": actors.headers("finance"),
    }


class BookingMachine(RuleBasedStateMachine):
    """The random sequences and their invariants; `make_machine` binds it to one
    test's app, client, accounts and provider."""

    app = client = actors = provider = None

    def __init__(self):
        super().__init__()
        empty_tables(self.app)
        self.actors._by_role.clear()
        self.world = _setup_world(self.app, self.actors)
        self.bookings = []  # (booking id, customer index)
        self.intents = []  # provider PaymentIntent ids started in this run

    def teardown(self):
        empty_tables(self.app)

    def call(self, method, path, headers, body=None):
        response = self.client.open(
            f"{API}{path}", method=method, json=body, headers=headers
        )
        assert response.status_code < 500, (method, path, body, response.get_json())
        return response

    @rule(dep=st.integers(0, 2), who=st.integers(0, 2), seats=st.integers(1, 3))
    def book(self, dep, who, seats):
        customer = self.world["customers"][who]
        body = {"departure_id": self.world["departures"][dep], "seats": seats}
        response = self.call("POST", "/bookings", customer["headers"], body)
        assert response.status_code in (201, 409), response.get_json()
        if response.status_code == 201:
            self.bookings.append((response.get_json()["id"], who))

    def amount_for(self, booking_id, share):
        with self.app.app_context():
            booking = db.session.get(Booking, booking_id)
            due = booking.total_amount - booking.amount_paid
            needed = max(booking.deposit_amount - booking.amount_paid, Decimal("0.01"))
        return {
            "deposit": needed,
            "due": due,
            "half": (due / 2).quantize(Decimal("0.01")),
        }[share]

    @precondition(lambda self: self.bookings)
    @rule(
        pick=st.integers(0, 10_000),
        share=st.sampled_from(["deposit", "due", "half"]),
        method=st.sampled_from(["terminal", "wallet", "card"]),
    )
    def pay(self, pick, share, method):
        booking_id, who = self.bookings[pick % len(self.bookings)]
        amount = self.amount_for(booking_id, share)
        if amount <= 0:
            return
        body = {"amount": f"{amount:.2f}", "method": method}
        headers = self.world["customers"][who]["headers"]
        if method == "terminal":  # finance records a card terminal payment
            body.update(method="card", reference=f"terminal-{pick}")
            headers = self.world["finance"]
        response = self.call("POST", f"/bookings/{booking_id}/payments", headers, body)
        if method == "card":  # customers pay cards through the provider only
            assert response.status_code == 403, response.get_json()
        else:
            assert response.status_code in (201, 409, 422), response.get_json()

    @precondition(lambda self: self.bookings)
    @rule(
        pick=st.integers(0, 10_000),
        share=st.sampled_from(["deposit", "due", "half"]),
        card=st.sampled_from(
            ["pm_card_visa", "pm_card_visa", "pm_card_chargeCustomerFail", None]
        ),
        on_time=st.booleans(),
    )
    def card_payment(self, pick, share, card, on_time):
        """Start an intent and confirm it on the provider (or abandon it: None).
        The provider's webhook arrives in the receiver: `on_time` hands it to the
        service at once, otherwise `deliver_webhook` does later (late, repeated) or
        reconciliation finds the payment."""
        booking_id, who = self.bookings[pick % len(self.bookings)]
        amount = self.amount_for(booking_id, share)
        if amount <= 0:
            return
        headers = self.world["customers"][who]["headers"]
        response = self.call(
            "POST",
            f"/bookings/{booking_id}/payment-intents",
            headers,
            {"amount": f"{amount:.2f}"},
        )
        assert response.status_code in (201, 409, 422, 429), response.get_json()
        if response.status_code == 429:  # MAX_OPEN_INTENTS_PER_BOOKING open already
            assert response.get_json()["type"] == "/problems/too-many-open-intents"
        if response.status_code == 201 and card is not None:
            intent = response.get_json()["provider_payment_id"]
            self.provider.confirm(intent, card)
            self.intents.append(intent)
            if on_time:
                kind = (
                    "payment_intent.succeeded"
                    if card == "pm_card_visa"
                    else "payment_intent.payment_failed"
                )
                answer = deliver(
                    self.client, self.provider.receiver.wait_for(kind, intent)
                )
                assert answer.status_code == 200, answer.get_json()
                event(f"webhook on time {kind}: {answer.get_json()['result']}")

    @precondition(lambda self: self.intents)
    @rule(pick=st.integers(0, 10_000))
    def deliver_webhook(self, pick):
        """Hand one received provider event to the service: on time, late, again."""
        with self.provider.receiver.lock:
            mine = [
                d
                for d in self.provider.receiver.deliveries
                if d.object_id in self.intents
            ]
        if not mine:
            return
        response = deliver(self.client, mine[pick % len(mine)])
        assert response.status_code == 200, response.get_json()
        event(f"webhook {mine[pick % len(mine)].type}: {response.get_json()['result']}")

    @precondition(lambda self: self.intents)
    @rule()
    def reconcile(self):
        result = self.app.test_cli_runner().invoke(
            args=["payments", "reconcile", "--older-than", "0s"]
        )
        assert result.exit_code == 0, result.output
        if "applied=0 refunded=0" not in result.output:
            event("reconcile changed something")

    @precondition(lambda self: self.bookings)
    @rule(
        pick=st.integers(0, 10_000),
        refund_to=st.sampled_from(["wallet", "original"]),
    )
    def cancel(self, pick, refund_to):
        booking_id, who = self.bookings[pick % len(self.bookings)]
        headers = self.world["customers"][who]["headers"]
        quote = self.call("GET", f"/bookings/{booking_id}/cancellation-quote", headers)
        response = self.call(
            "POST",
            f"/bookings/{booking_id}/cancel",
            headers,
            {"refund_to": refund_to},
        )
        assert response.status_code in (200, 201, 409), response.get_json()
        for refund in response.get_json().get("refunds") or []:
            event(f"cancel refund {refund['method']}: {refund['status']}")
        if response.status_code in (200, 201) and quote.status_code == 200:
            with self.app.app_context():
                booking = db.session.get(Booking, booking_id)
                assert (
                    f"{booking.penalty_amount:.2f}"
                    == quote.get_json()["penalty_amount"]
                )

    @precondition(lambda self: self.bookings)
    @rule(pick=st.integers(0, 10_000))
    def let_hold_lapse(self, pick):
        booking_id, _ = self.bookings[pick % len(self.bookings)]
        with self.app.app_context():
            db.session.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.status == "held")
                .values(hold_expires_at=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()

    @rule()
    def sweep(self):
        result = self.app.test_cli_runner().invoke(args=["bookings", "expire-holds"])
        assert result.exit_code == 0, result.output

    @rule(pick=st.integers(0, 10_000))
    def complete_a_refund(self, pick):
        with self.app.app_context():
            pending = db.session.scalars(
                select(Refund.id).where(Refund.status == "pending").order_by(Refund.id)
            ).all()
        if pending:
            refund_id = pending[pick % len(pending)]
            response = self.call(
                "POST", f"/refunds/{refund_id}/complete", self.world["finance"], {}
            )
            assert response.status_code == 200, response.get_json()

    @rule(who=st.integers(0, 2), cents=st.integers(-20_000, 20_000).filter(bool))
    def adjust_wallet(self, who, cents):
        customer = self.world["customers"][who]
        body = {"amount": f"{Decimal(cents) / 100:.2f}", "reason": "property test"}
        response = self.call(
            "POST",
            f"/customers/{customer['id']}/wallet",
            self.world["finance"],
            body,
        )
        assert response.status_code in (201, 409), response.get_json()

    @invariant()
    def seats_match_live_bookings(self):
        with self.app.app_context():
            for dep in db.session.scalars(select(Departure)):
                live = db.session.scalar(
                    select(func.coalesce(func.sum(Booking.seats), 0)).where(
                        Booking.departure_id == dep.id,
                        Booking.status.in_(("held", "confirmed")),
                    )
                )
                assert dep.seats_taken == live <= dep.capacity
                for cat in dep.categories:
                    if cat.category == "adult":
                        assert cat.seats_taken in (0, live)

    @invariant()
    def money_adds_up(self):
        with self.app.app_context():
            for booking in db.session.scalars(select(Booking)):
                paid = db.session.scalar(
                    select(func.coalesce(func.sum(Payment.amount), 0)).where(
                        Payment.booking_id == booking.id
                    )
                )
                refunded = db.session.scalar(
                    select(func.coalesce(func.sum(Refund.amount), 0)).where(
                        Refund.booking_id == booking.id
                    )
                )
                assert Decimal(paid) == booking.amount_paid
                assert Decimal(refunded) == booking.amount_refunded
                kept = booking.amount_paid - booking.amount_refunded
                if booking.status == "cancelled":
                    assert kept == booking.penalty_amount
                elif booking.status == "expired":
                    assert kept == 0
                else:
                    assert booking.amount_refunded == 0
                    assert booking.amount_paid <= booking.total_amount
                if booking.status == "confirmed":
                    assert booking.amount_paid >= booking.deposit_amount

    @invariant()
    def card_payments_recorded_once(self):
        with self.app.app_context():
            for attempt in db.session.scalars(select(PaymentAttempt)):
                payments = db.session.scalars(
                    select(Payment).where(
                        Payment.reference == attempt.provider_payment_id
                    )
                ).all()
                if attempt.status == "succeeded":
                    assert [p.id for p in payments] == [attempt.payment_id]
                    assert payments[0].amount == attempt.received_amount
                    refunded = db.session.scalar(
                        select(func.coalesce(func.sum(Refund.amount), 0)).where(
                            Refund.payment_id == attempt.payment_id
                        )
                    )
                    assert Decimal(refunded) <= payments[0].amount
                else:
                    assert payments == [] and attempt.payment_id is None
                if attempt.status == "refunded":
                    on_provider = self.provider.refunds(attempt.provider_payment_id)
                    assert sum(r.amount for r in on_provider) == int(
                        attempt.received_amount * 100
                    )

    @invariant()
    def wallets_balance(self):
        with self.app.app_context():
            for customer in db.session.scalars(select(Customer)):
                ledger = db.session.scalar(
                    select(func.coalesce(func.sum(WalletEntry.amount), 0)).where(
                        WalletEntry.customer_id == customer.id
                    )
                )
                assert Decimal(ledger) == customer.wallet_balance >= 0
            lowest = db.session.scalar(select(func.min(WalletEntry.balance_after)))
            assert lowest is None or lowest >= 0


def make_machine(app, client, actors, provider):
    """BookingMachine bound to this test's app, client, actors and provider."""

    class BoundBookingMachine(BookingMachine):
        pass

    BoundBookingMachine.app = app
    BoundBookingMachine.client = client
    BoundBookingMachine.actors = actors
    BoundBookingMachine.provider = provider
    return BoundBookingMachine


def test_booking_money_invariants_hold_for_random_sequences(
    app, client, actors, provider
):
    machine = make_machine(app, client, actors, provider)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
