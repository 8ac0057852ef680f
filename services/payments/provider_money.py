"""Money changed at the payment provider, not through this API: refunds made in the
provider's dashboard and card disputes (docs/payments.md "Money changed at the
provider"; Stripe's refund and dispute events, https://docs.stripe.com/refunds,
https://docs.stripe.com/disputes/responding).

Rules:
- A refund made at the provider (`refund.created`, `refund.updated` with status
  `succeeded`, or each refund of a `charge.refunded` charge) becomes a Refund record
  of `origin` `provider` (destination `original`, the payment's method, `completed`,
  reference and `provider_refund_id` the provider's refund id) that lowers the
  booking's `amount_paid`; the invoice status follows from the money as always
  (services/payments/billing.py). Finance is mailed. Never more is taken off than the
  booking still keeps of that payment; an excess is audited, not recorded.
- A refund this service made itself (cancellations, automatic refunds of money a
  booking could not take) is recognised by its metadata (`easytravels_refund_id`,
  `easytravels_attempt_id`) or its stored provider id and changes nothing (`ours`).
- A provider refund that later fails or is cancelled (`refund.updated`) is marked
  `failed` and its amount is paid again.
- A dispute (`charge.dispute.created`) flags the payment (`dispute_status` open) and
  the booking (`disputed`) and mails finance; `charge.dispute.closed` with status
  `lost` records the disputed amount like a provider refund (`origin` dispute,
  `provider_refund_id` the dispute's id); `won` (or `warning_closed`) clears the
  flag. The booking stays flagged while any of its payments has an open dispute.
- Exactly once: the event id is claimed in the effect's transaction
  (services/payments/provider_events.py) and a provider refund or lost dispute is
  one row by its unique `provider_refund_id`, so a replay, the same refund reported
  by `refund.created` and `charge.refunded`, concurrent deliveries and
  `reconcile_refunds` record it once. Every effect is audited by `system`.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import exists, func, select, update

from core.errors import APIError
from core.extensions import db
from models import Booking, Payment, PaymentAttempt, ProviderEvent, Refund
from models.base import utcnow
from services.audit import audit
from services.messaging import notifications, webhooks
from services.payments import provider
from services.payments.provider_events import (
    Outcome,
    attempt_of,
    claim_event,
    commit_once,
    commit_or_rollback,
    currency_field,
    event_object,
    minor_amount,
    text_field,
)

log = logging.getLogger(__name__)

REFUND_EVENTS = ("refund.created", "refund.updated")
CHARGE_REFUNDED = "charge.refunded"
DISPUTE_CREATED = "charge.dispute.created"
DISPUTE_CLOSED = "charge.dispute.closed"
HANDLED = (*REFUND_EVENTS, CHARGE_REFUNDED, DISPUTE_CREATED, DISPUTE_CLOSED)
# Metadata keys this service puts on the refunds it asks the provider for.
OUR_KEYS = ("easytravels_refund_id", "easytravels_attempt_id")
# Reconciliation compares the refunds of card payments made within this window.
REFUND_RECONCILE_WINDOW = timedelta(days=30)
ZERO = Decimal("0.00")
REVERSAL_ORIGINS = ("provider", "dispute")


@dataclass
class ProviderRefund:
    """The fields of a provider refund this module uses (amount in minor units)."""

    id: str
    amount_minor: int
    currency: str
    status: str
    payment_intent: str | None
    charge: str | None
    ours: bool

    @classmethod
    def parse(cls, obj: dict) -> "ProviderRefund":
        """Check and take a refund object's fields; MalformedEvent (400)."""
        metadata = obj.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        return cls(
            id=text_field(obj, "id"),
            amount_minor=minor_amount(obj),
            currency=currency_field(obj),
            status=text_field(obj, "status", required=False) or "succeeded",
            payment_intent=text_field(obj, "payment_intent", required=False),
            charge=text_field(obj, "charge", required=False),
            ours=any(metadata.get(key) for key in OUR_KEYS),
        )


def apply_event(event: dict, *, facts: audit.RequestFacts | None = None) -> Outcome:
    """Apply one verified refund or dispute event (type in HANDLED) under the rules
    above. Raises MalformedEvent (400) before any write when a field is missing or
    of the wrong type; ProviderUnavailable/ProviderRefused (503/502) when a charge
    must be looked up and the provider fails (the sender retries)."""
    obj = event_object(event)
    kind, event_id = event["type"], event["id"]
    if kind in REFUND_EVENTS:
        return apply_refund(
            ProviderRefund.parse(obj), event_id=event_id, event_type=kind, facts=facts
        )
    if kind == CHARGE_REFUNDED:
        return _charge_refunded(obj, event_id, facts)
    dispute = _dispute_fields(obj)
    if kind == DISPUTE_CREATED:
        return open_dispute(dispute, event_id=event_id, facts=facts)
    return close_dispute(dispute, event_id=event_id, facts=facts)


# --- refunds made at the provider ---------------------------------------------------


def _intent_id(payment_intent: str | None, charge: str | None) -> str | None:
    """The PaymentIntent of a refund or dispute: given, or its charge's (one
    provider call; no database transaction is open)."""
    if payment_intent or not charge:
        return payment_intent
    db.session.rollback()
    found = provider.retrieve_charge(charge).get("payment_intent")
    return found if isinstance(found, str) else None


def _known_refund(provider_refund_id: str) -> Refund | None:
    """Our record of a provider refund (or lost dispute) id, if any."""
    return db.session.scalar(
        select(Refund).where(Refund.provider_refund_id == provider_refund_id)
    )


def apply_refund(
    refund: ProviderRefund,
    *,
    event_id: str | None = None,
    event_type: str = "refund.created",
    facts: audit.RequestFacts | None = None,
) -> Outcome:
    """Record a refund made at the provider, at most once (by `event_id` and by the
    refund's id); used by the webhook and by `reconcile_refunds` (event_id None).
    One commit. Returns `refunded`, `ours`, `pending`, `unchanged`, `duplicate` or
    `unknown` (not a payment of this service)."""
    if refund.ours:
        return Outcome("ours")
    if refund.status in ("failed", "canceled"):
        return _refund_failed(refund, event_id, event_type, facts)
    if refund.status != "succeeded":
        return Outcome("pending")
    intent_id = _intent_id(refund.payment_intent, refund.charge)

    def record() -> Outcome:
        if not claim_event(event_id, event_type):
            return Outcome("duplicate")
        attempt = attempt_of(intent_id)
        if attempt is None:
            return Outcome("unknown")
        if refund.id == attempt.provider_refund_id:
            return Outcome("ours", attempt.id)
        if _known_refund(refund.id) is not None or attempt.payment_id is None:
            return Outcome("unchanged", attempt.id)
        recorded = _reverse(
            db.session.get(Payment, attempt.payment_id),
            provider.from_minor(refund.amount_minor, refund.currency),
            origin="provider",
            provider_id=refund.id,
            event_id=event_id,
            facts=facts,
        )
        return Outcome("refunded" if recorded else "unchanged", attempt.id)

    return commit_once(record)


def _charge_refunded(charge: dict, event_id: str, facts) -> Outcome:
    """`charge.refunded`: apply each refund of the charge (from the event, or asked
    of the provider when the event does not list them); the event id is recorded
    afterwards so a replay answers `duplicate`."""
    text_field(charge, "id")
    intent_id = text_field(charge, "payment_intent", required=False)
    listed = charge.get("refunds")
    data = listed.get("data") if isinstance(listed, dict) else None
    if data is not None and not isinstance(data, list):
        raise provider.MalformedEvent("The charge's refunds.data must be a list.")
    if db.session.scalar(select(exists().where(ProviderEvent.id == event_id))):
        return Outcome("duplicate")
    if data is not None:
        refunds = [ProviderRefund.parse(r) for r in data if isinstance(r, dict)]
    elif intent_id:
        db.session.rollback()
        refunds = [ProviderRefund.parse(r) for r in provider.list_refunds(intent_id)]
    else:
        raise provider.MalformedEvent("The charge names no payment_intent.")
    outcomes = []
    for refund in refunds:
        if refund.payment_intent is None:
            refund.payment_intent = intent_id
        outcomes.append(apply_refund(refund, facts=facts))
    commit_or_rollback(lambda: claim_event(event_id, CHARGE_REFUNDED))
    results = [o.result for o in outcomes]
    result = "refunded" if "refunded" in results else (results or ["unchanged"])[0]
    return Outcome(result, next((o.attempt_id for o in outcomes), None))


def _refund_failed(refund: ProviderRefund, event_id, event_type, facts) -> Outcome:
    """A provider refund we recorded failed or was cancelled after all: mark it
    `failed` and pay its amount again (conditional UPDATEs, one commit)."""

    def record() -> Outcome:
        if not claim_event(event_id, event_type):
            return Outcome("duplicate")
        known = _known_refund(refund.id)
        if known is None or known.origin != "provider":
            return Outcome("unchanged")
        moved = db.session.execute(
            update(Refund)
            .where(Refund.id == known.id, Refund.status == "completed")
            .values(status="failed", failure_message=f"Provider: {refund.status}")
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            return Outcome("unchanged")
        _move_paid(known.booking_id, known.amount)
        audit.record(
            "refund.provider_reversed",
            entity_type="refund",
            entity_id=known.id,
            facts=facts,
            actor_type="system",
            details={
                "booking_id": known.booking_id,
                "amount": known.amount,
                "provider_refund_id": refund.id,
                "provider_status": refund.status,
                "event_id": event_id,
            },
        )
        return Outcome("unchanged")

    return commit_or_rollback(record)


def _move_paid(booking_id: int, delta: Decimal) -> None:
    """Add `delta` (negative: take off) to the booking's amount_paid."""
    db.session.execute(
        update(Booking)
        .where(Booking.id == booking_id)
        .values(amount_paid=Booking.amount_paid + delta, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _still_kept(booking: Booking, payment: Payment) -> Decimal:
    """What a reversal of `payment` may take off: no more than the booking keeps
    (paid minus refunded) and than the payment's own amount minus the refunds of it
    not failed."""
    refunded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status != "failed"
        )
    )
    of_payment = payment.amount - Decimal(refunded).quantize(Decimal("0.01"))
    return max(min(booking.amount_paid - booking.amount_refunded, of_payment), ZERO)


def _reverse(
    payment: Payment,
    amount: Decimal,
    *,
    origin: str,
    provider_id: str,
    event_id: str | None,
    facts,
    now: datetime | None = None,
) -> bool:
    """Take `amount` of `payment` back off its booking (inside the caller's
    transaction): a completed Refund of `origin` (provider, dispute), amount_paid
    lowered, audited, finance mailed, `refund.completed` webhook queued. False (and
    an audit entry) when the booking keeps nothing more of the payment."""
    now = now or utcnow()
    booking = db.session.scalar(
        select(Booking).where(Booking.id == payment.booking_id).with_for_update()
    )
    taken = min(amount, _still_kept(booking, payment))
    details = {
        "booking_id": booking.id,
        "payment_id": payment.id,
        "amount": taken,
        "reported": amount,
        "currency": payment.currency,
        "provider_refund_id": provider_id,
        "event_id": event_id,
    }
    if taken <= ZERO:
        audit.record(
            f"refund.{origin}_unmatched",
            entity_type="payment",
            entity_id=payment.id,
            facts=facts,
            actor_type="system",
            details=details,
        )
        return False
    reason = (
        "Refunded at the payment provider"
        if origin == "provider"
        else "Card dispute lost at the cardholder's bank"
    )
    refund = Refund(
        booking_id=booking.id,
        customer_id=booking.customer_id,
        amount=taken,
        currency=payment.currency,
        destination="original",
        method=payment.method,
        status="completed",
        reason=reason,
        reference=provider_id,
        provider_refund_id=provider_id,
        payment_id=payment.id,
        origin=origin,
        completed_at=now,
        created_at=now,
    )
    db.session.add(refund)
    db.session.flush()
    _move_paid(booking.id, -taken)
    audit.record(
        f"refund.{origin}_recorded",
        entity_type="refund",
        entity_id=refund.id,
        facts=facts,
        actor_type="system",
        details=details,
    )
    webhooks.emit("refund.completed", resource="refund", resource_id=refund.id)
    notifications.finance_alert(
        booking,
        subject=f"{reason}: {taken} {payment.currency}",
        body=(
            f"{reason}: {taken} {payment.currency} of payment #{payment.id} "
            f"(provider id {provider_id}). The booking's amount paid is lowered; "
            "check whether it still owes money or should be cancelled."
        ),
        dedupe_key=f"provider-money:{provider_id}",
    )
    return True


# --- disputes -----------------------------------------------------------------------


@dataclass
class ProviderDispute:
    """The fields of a provider dispute this module uses."""

    id: str
    amount_minor: int
    currency: str
    status: str
    reason: str | None
    payment_intent: str | None
    charge: str | None


def _dispute_fields(obj: dict) -> ProviderDispute:
    """Check and take a dispute object's fields; MalformedEvent (400)."""
    return ProviderDispute(
        id=text_field(obj, "id"),
        amount_minor=minor_amount(obj),
        currency=currency_field(obj),
        status=text_field(obj, "status"),
        reason=text_field(obj, "reason", required=False),
        payment_intent=text_field(obj, "payment_intent", required=False),
        charge=text_field(obj, "charge", required=False),
    )


def _disputed_payment(dispute: ProviderDispute):
    """(attempt, payment) of a dispute, either None when not ours."""
    attempt = attempt_of(_intent_id(dispute.payment_intent, dispute.charge))
    if attempt is None or attempt.payment_id is None:
        return attempt, None
    return attempt, db.session.get(Payment, attempt.payment_id)


def _reflag(booking_id: int) -> None:
    """The booking is `disputed` while any of its payments has an open dispute."""
    still_open = exists().where(
        Payment.booking_id == booking_id, Payment.dispute_status == "open"
    )
    db.session.execute(
        update(Booking)
        .where(Booking.id == booking_id)
        .values(disputed=select(still_open).scalar_subquery())
        .execution_options(synchronize_session=False)
    )


def open_dispute(
    dispute: ProviderDispute,
    *,
    event_id: str | None,
    facts: audit.RequestFacts | None = None,
) -> Outcome:
    """`charge.dispute.created`: flag the payment and its booking `disputed`, audit
    and mail finance; once (event id, and a payment already carrying this dispute
    is unchanged). One commit."""
    intent_id = _intent_id(dispute.payment_intent, dispute.charge)
    dispute.payment_intent = intent_id

    def record() -> Outcome:
        if not claim_event(event_id, DISPUTE_CREATED):
            return Outcome("duplicate")
        attempt, payment = _disputed_payment(dispute)
        if payment is None:
            return Outcome("unknown", attempt.id if attempt else None)
        if payment.provider_dispute_id == dispute.id:
            return Outcome("unchanged", attempt.id)
        payment.dispute_status = "open"
        payment.provider_dispute_id = dispute.id
        db.session.flush()
        _reflag(payment.booking_id)
        amount = provider.from_minor(dispute.amount_minor, dispute.currency)
        audit.record(
            "payment.disputed",
            entity_type="payment",
            entity_id=payment.id,
            facts=facts,
            actor_type="system",
            details={
                "booking_id": payment.booking_id,
                "amount": amount,
                "reason": dispute.reason,
                "provider_dispute_id": dispute.id,
                "event_id": event_id,
            },
        )
        notifications.finance_alert(
            payment.booking,
            subject=f"Card payment disputed: {amount} {payment.currency}",
            body=(
                f"The cardholder disputed payment #{payment.id} ({amount} "
                f"{payment.currency}, reason: {dispute.reason or 'not given'}; "
                f"provider id {dispute.id}). Answer it at the payment provider "
                "before its deadline."
            ),
            dedupe_key=f"dispute-opened:{dispute.id}",
        )
        return Outcome("disputed", attempt.id)

    return commit_or_rollback(record)


def close_dispute(
    dispute: ProviderDispute,
    *,
    event_id: str | None,
    facts: audit.RequestFacts | None = None,
) -> Outcome:
    """`charge.dispute.closed`: `lost` records the disputed amount like a provider
    refund (origin dispute), `won` / `warning_closed` clear the flag; the booking's
    flag is recomputed. Once (event id, conditional UPDATE of the payment's
    dispute status, the unique refund id). One commit."""
    intent_id = _intent_id(dispute.payment_intent, dispute.charge)
    dispute.payment_intent = intent_id
    lost = dispute.status == "lost"

    def record() -> Outcome:
        if not claim_event(event_id, DISPUTE_CLOSED):
            return Outcome("duplicate")
        attempt, payment = _disputed_payment(dispute)
        if payment is None:
            return Outcome("unknown", attempt.id if attempt else None)
        moved = db.session.execute(
            update(Payment)
            .where(
                Payment.id == payment.id,
                (Payment.dispute_status.is_(None)) | (Payment.dispute_status == "open"),
            )
            .values(
                dispute_status="lost" if lost else "won",
                provider_dispute_id=dispute.id,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            return Outcome("unchanged", attempt.id)
        _reflag(payment.booking_id)
        amount = provider.from_minor(dispute.amount_minor, dispute.currency)
        audit.record(
            f"payment.dispute_{'lost' if lost else 'won'}",
            entity_type="payment",
            entity_id=payment.id,
            facts=facts,
            actor_type="system",
            details={
                "booking_id": payment.booking_id,
                "amount": amount,
                "provider_status": dispute.status,
                "provider_dispute_id": dispute.id,
                "event_id": event_id,
            },
        )
        if lost:
            _reverse(
                payment,
                amount,
                origin="dispute",
                provider_id=dispute.id,
                event_id=event_id,
                facts=facts,
            )
        return Outcome("dispute_lost" if lost else "dispute_won", attempt.id)

    return commit_once(record)


# --- reconciliation -----------------------------------------------------------------


def reconcile_refunds(*, now: datetime | None = None) -> dict:
    """Compare the provider's refunds of every card payment made within
    REFUND_RECONCILE_WINDOW (30 days) with ours and record the ones made at the
    provider whose event never arrived (`apply_refund`, the webhook's own once-only
    function). One provider call per payment; an error on one is counted and
    logged, never stops the run. Returns `{"refunds_checked", "refunds_recorded",
    "refund_errors"}`."""
    now = now or utcnow()
    rows = db.session.execute(
        select(PaymentAttempt.id, PaymentAttempt.provider_payment_id)
        .where(
            PaymentAttempt.status == "succeeded",
            PaymentAttempt.payment_id.is_not(None),
            PaymentAttempt.created_at >= now - REFUND_RECONCILE_WINDOW,
        )
        .order_by(PaymentAttempt.id)
    ).all()
    db.session.rollback()
    counts = {"refunds_checked": len(rows), "refunds_recorded": 0, "refund_errors": 0}
    for attempt_id, intent_id in rows:
        try:
            found = provider.list_refunds(intent_id)
            for obj in found:
                refund = ProviderRefund.parse(obj)
                refund.payment_intent = refund.payment_intent or intent_id
                if apply_refund(refund).result == "refunded":
                    counts["refunds_recorded"] += 1
        except APIError as exc:
            log.warning("reconcile refunds: attempt %s: %s", attempt_id, exc.detail)
            counts["refund_errors"] += 1
    return counts
