"""Card payments through the payment provider: payment intents, the provider's
signed events, automatic refunds of money that cannot be kept, and reconciliation
(docs/design.md "Lifecycles": invoice, payments: "card money from customers enters only
through the payment provider"; Stripe's "Accept a payment" and "Webhooks" guides,
https://docs.stripe.com/payments/accept-a-payment, https://docs.stripe.com/webhooks).

Lifecycle of a payment attempt (models.provider.PaymentAttempt): `pending` (intent
created, the client confirms it with Stripe.js or an SDK) -> `succeeded` (the
provider's word recorded the payment through services.payments.payments, exactly like
any payment) | `failed` (declined; a later success on the same intent still counts) |
`refund_pending` -> `refunded` (money arrived that the booking could not take: the
provider gives it back at once).

Exactly-once: every provider event id is inserted (primary key) in the same
transaction as its effect, and every effect is a conditional UPDATE of the attempt's
status, so duplicate, concurrent, late and reconciled deliveries apply once. Provider
calls never run inside a database transaction that holds locks; mail leaves after
the commit.
"""

import logging
import math
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import stripe
from flask import current_app
from sqlalchemy import or_, select, update

from core.errors import APIError, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import PaymentAttempt
from models.account import is_staff
from models.base import utcnow
from services.audit import audit
from services.messaging import notifications
from services.payments import payments, provider, provider_money
from services.payments.provider_events import (
    PROVIDER,
    Outcome,
    attempt_of,
    claim_event,
    commit_or_rollback,
    currency_field,
    event_object,
    minor_amount,
    text_field,
)
from services.shared.money import money
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import check_owner, get_or_404

log = logging.getLogger(__name__)

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
HANDLED = (SUCCEEDED, FAILED)
RETRYABLE_FROM = ("pending", "failed")
# Abandoned intents are not polled for ever: reconciliation looks at attempts created
# within this window (automatic refunds still owed are retried whatever their age).
RECONCILE_WINDOW = timedelta(days=7)
# An intent counts as open (MAX_OPEN_INTENTS_PER_BOOKING) for this long after it was
# created while nobody paid it.
OPEN_INTENT_WINDOW = timedelta(hours=1)
# `GET /payment-intents?status=canceled`: card payments called off after the money
# arrived, which the provider gives back at once (docs/payments.md "Listing card
# payments"); any other status filter is one of models.provider.ATTEMPT_STATES.
CANCELED = ("refund_pending", "refunded")
LIST_SORTABLE = ("created_at", "amount")


class InvalidSignature(APIError):
    """400: the webhook's Stripe-Signature is missing, forged or stale."""

    def __init__(self, detail: str):
        super().__init__(400, detail, code="invalid-signature")


class TooManyOpenIntents(APIError):
    """429: the booking already has MAX_OPEN_INTENTS_PER_BOOKING open intents; the
    client should confirm one of them (its client_secret) or wait `retry_after`
    seconds until the oldest stops counting."""

    def __init__(self, limit: int, retry_after: int):
        super().__init__(
            429,
            f"This booking already has {limit} open card payments; confirm one of "
            "them or wait for the time in Retry-After.",
            code="too-many-open-intents",
            extra={"limit": limit},
            headers={"Retry-After": str(retry_after)},
        )


# --- starting a card payment --------------------------------------------------------


def start_card_payment(
    *,
    account,
    booking_id: int,
    amount: Decimal,
    facts: audit.RequestFacts | None = None,
) -> PaymentAttempt:
    """`POST /bookings/<id>/payment-intents`: create a provider PaymentIntent for
    `amount` (Decimal, booking currency) on a booking and a `pending` attempt; one
    commit, audited with the request `facts`.

    The customer starts one for their own booking; sales, finance and admin for a
    customer (docs/design.md "Accounts and roles" "start a card payment"). The amount
    rules are those of services.payments.payments (at least the missing deposit of a
    held booking, never more than due), checked again when the money arrives. The intent
    carries the amount in minor units, the currency, metadata (booking id, reference,
    attempt key) and our idempotency key. Raises NotFound (404), Conflict (409),
    ValidationFailed (422), TooManyOpenIntents (429: MAX_OPEN_INTENTS_PER_BOOKING
    open intents already), ProviderUnavailable (503), ProviderRefused (502).
    """
    booking = payments.check_card_intent(
        account=account, booking_id=booking_id, amount=amount
    )
    _check_open_intents(booking.id)
    amount = money(amount)
    key = f"easytravels-intent-{uuid.uuid4()}"
    known = {
        "booking_id": booking.id,
        "customer_id": booking.customer_id,
        "currency": booking.currency,
        "reference": booking.reference,
    }
    db.session.rollback()  # no transaction stays open across the provider call
    intent = provider.create_payment_intent(
        amount_minor=provider.to_minor(amount, known["currency"]),
        currency=known["currency"],
        metadata={
            "booking_id": str(known["booking_id"]),
            "booking_reference": known["reference"],
            "attempt_key": key,
        },
        idempotency_key=key,
    )
    attempt = PaymentAttempt(
        booking_id=known["booking_id"],
        customer_id=known["customer_id"],
        amount=amount,
        currency=known["currency"],
        provider=PROVIDER,
        provider_payment_id=intent.id,
        client_secret=intent.client_secret,
        status="pending",
        created_by_id=account.id if is_staff(account) else None,
    )
    try:
        db.session.add(attempt)
        db.session.flush()
        audit.record(
            "payment_intent.created",
            entity_type="payment_attempt",
            entity_id=attempt.id,
            facts=facts,
            actor=account,
            details={
                "booking_id": known["booking_id"],
                "amount": amount,
                "currency": known["currency"],
                "provider_payment_id": intent.id,
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return attempt


def _check_open_intents(booking_id: int, now=None) -> None:
    """Refuse a new intent while the booking has MAX_OPEN_INTENTS_PER_BOOKING open
    ones: attempts `pending` or `failed` (the client may still confirm them with
    another card) created within OPEN_INTENT_WINDOW. Each intent is a provider call
    and a card-testing attempt (docs/security.md "Card payments"). Raises
    TooManyOpenIntents (429, Retry-After: when the oldest leaves the window)."""
    limit = current_app.config["MAX_OPEN_INTENTS_PER_BOOKING"]
    now = now or utcnow()
    created = db.session.scalars(
        select(PaymentAttempt.created_at)
        .where(
            PaymentAttempt.booking_id == booking_id,
            PaymentAttempt.status.in_(RETRYABLE_FROM),
            PaymentAttempt.created_at > now - OPEN_INTENT_WINDOW,
        )
        .order_by(PaymentAttempt.created_at)
    ).all()
    if len(created) >= limit:
        frees_at = created[len(created) - limit] + OPEN_INTENT_WINDOW
        raise TooManyOpenIntents(
            limit, max(1, math.ceil((frees_at - now).total_seconds()))
        )


def get_attempt(*, account, attempt_id: int) -> PaymentAttempt:
    """`GET /payment-intents/<id>`: one attempt; NotFound (404) when missing or, for
    a customer, not theirs (docs/design.md "Accounts and roles")."""
    attempt = get_or_404(PaymentAttempt, attempt_id, "Payment intent")
    check_owner(account, attempt, "Payment intent")
    return attempt


def list_attempts(
    *,
    account,
    status: str | None = None,
    booking_id: int | None = None,
    customer_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """`GET /payment-intents`: one page of card payment attempts, newest first
    unless `sort` (LIST_SORTABLE); finance and admin see all, a customer only theirs.

    `status` is one of ATTEMPT_STATES or `canceled` (CANCELED: money that arrived
    and was given back); `date_from` / `date_to` are UTC days of creation, both
    included. Filters combine with AND. Raises ValidationFailed (422) for an unknown
    sort or a bad cursor (docs/payments.md "Listing card payments").
    """
    stmt = select(PaymentAttempt)
    if not is_staff(account):
        stmt = stmt.where(PaymentAttempt.customer_id == account.id)
    if status is not None:
        states = CANCELED if status == "canceled" else (status,)
        stmt = stmt.where(PaymentAttempt.status.in_(states))
    if booking_id is not None:
        stmt = stmt.where(PaymentAttempt.booking_id == booking_id)
    if customer_id is not None:
        stmt = stmt.where(PaymentAttempt.customer_id == customer_id)
    if date_from is not None:
        stmt = stmt.where(PaymentAttempt.created_at >= _day_start(date_from))
    if date_to is not None:
        after = _day_start(date_to) + timedelta(days=1)
        stmt = stmt.where(PaymentAttempt.created_at < after)
    stmt = order_by_sort(stmt, PaymentAttempt, sort, LIST_SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def _day_start(day: date) -> datetime:
    """00:00 UTC of `day`."""
    return datetime.combine(day, time(0), tzinfo=UTC)


# --- the provider's word ------------------------------------------------------------


def handle_webhook(
    *, payload: bytes, signature: str | None, facts: audit.RequestFacts | None = None
) -> dict:
    """`POST /webhooks/stripe`: verify `Stripe-Signature` over the raw `payload`
    with STRIPE_WEBHOOK_SECRET (300 s tolerance) and apply the event at most once.
    `payment_intent.succeeded` records the payment (amount and currency from the
    event), `payment_intent.payment_failed` marks the attempt failed; refunds made
    at the provider and disputes are applied by services.payments.provider_money;
    other types are acknowledged and ignored. The audit entries are by `system`
    with the request `facts` (request id, the sender's address).

    Returns `{"received": true, "result", "attempt_id"}`. Raises InvalidSignature
    (400, nothing changed), MalformedEvent (400 `malformed-event`: signed, but not
    an event object, or a field it needs is missing or of the wrong type; nothing
    recorded) and ProviderUnavailable (503, no webhook secret).
    """
    try:
        event = provider.construct_event(payload, signature)
    except stripe.SignatureVerificationError as exc:
        raise InvalidSignature(
            f"The Stripe-Signature header does not verify: {exc}".strip()
        ) from exc
    event_type = event["type"]
    if event_type in provider_money.HANDLED:
        outcome = provider_money.apply_event(event, facts=facts)
    elif event_type in HANDLED:
        outcome = _apply_intent_event(event, facts)
    else:
        outcome = Outcome("ignored")
    return outcome.as_dict()


def _apply_intent_event(event: dict, facts) -> Outcome:
    """A PaymentIntent's success or decline, its fields checked first
    (MalformedEvent, 400)."""
    intent = event_object(event)
    intent_id = text_field(intent, "id")
    if event["type"] == SUCCEEDED:
        received = intent.get("amount_received")
        return apply_succeeded(
            provider_payment_id=intent_id,
            amount_minor=(
                minor_amount(intent, "amount_received")
                if received
                else minor_amount(intent)
            ),
            currency=currency_field(intent),
            event_id=event["id"],
            event_type=SUCCEEDED,
            facts=facts,
        )
    minor_amount(intent)
    currency_field(intent)
    return apply_failed(
        provider_payment_id=intent_id,
        message=_decline_message(intent),
        event_id=event["id"],
        event_type=FAILED,
        facts=facts,
    )


def _received(intent) -> int:
    """Minor units the provider received for an intent (amount_received when the
    provider gives it, else the intent's amount)."""
    received = intent.get("amount_received")
    return int(received if received else intent["amount"])


def _decline_message(intent) -> str:
    """The provider's reason for a declined payment, or a generic sentence."""
    error = intent.get("last_payment_error")
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else "Card declined."


def _move(attempt_id: int, from_states, **values) -> bool:
    """Conditional UPDATE of an attempt's status: True when this call applied it."""
    return (
        db.session.execute(
            update(PaymentAttempt)
            .where(
                PaymentAttempt.id == attempt_id, PaymentAttempt.status.in_(from_states)
            )
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def apply_succeeded(
    *,
    provider_payment_id: str,
    amount_minor: int,
    currency: str,
    event_id: str | None = None,
    event_type: str = SUCCEEDED,
    facts: audit.RequestFacts | None = None,
) -> Outcome:
    """Apply the provider's word that a PaymentIntent succeeded, at most once (by
    `event_id` and by the attempt's status); used by the webhook and by
    `reconcile_pending` (event_id None).

    The money (`amount_minor` in `currency`, from the provider, never from our
    request) is recorded through services.payments.payments.apply_provider_payment,
    which confirms the booking like any payment; an amount other than the attempt's is
    recorded as received and flagged (`amount_mismatch`, audit). When the booking
    can no longer take it (hold lapsed and seats gone, cancelled, over what is due,
    another currency), the attempt turns `refund_pending` and the provider refunds
    it at once (`refund_attempt`). The confirmation mail and webhooks are queued
    in the payment's transaction (services.payments.payments,
    services.messaging.outbox). `facts`: the webhook request's facts for the audit
    entries (None: reconciliation).
    """

    def record():
        if not claim_event(event_id, event_type):
            return Outcome("duplicate"), None
        attempt = attempt_of(provider_payment_id)
        if attempt is None:
            return Outcome("unknown"), None
        received = provider.from_minor(amount_minor, currency)
        mismatch = received != attempt.amount
        if not _move(
            attempt.id,
            RETRYABLE_FROM,
            status="succeeded",
            received_amount=received,
            amount_mismatch=mismatch,
            last_error=None,
        ):
            return Outcome("unchanged", attempt.id), None
        if currency.upper() != attempt.currency:
            raise ValidationFailed({"currency": [_("Paid in another currency.")]})
        payment, confirmed = payments.apply_provider_payment(
            booking_id=attempt.booking_id,
            amount=received,
            reference=provider_payment_id,
            facts=facts,
        )
        _move(attempt.id, ("succeeded",), payment_id=payment.id)
        _audit_event(
            attempt,
            "payment_attempt.succeeded",
            event_id,
            facts,
            received=received,
            payment_id=payment.id,
            amount_mismatch=mismatch,
        )
        if mismatch:
            _audit_event(
                attempt,
                "payment_attempt.amount_mismatch",
                event_id,
                facts,
                expected=attempt.amount,
                received=received,
                payment_id=payment.id,
            )
        return Outcome("applied", attempt.id), (payment.booking if confirmed else None)

    try:
        outcome, _confirmed_booking = commit_or_rollback(record)
    except APIError as refusal:
        return _refund_instead(
            provider_payment_id,
            amount_minor,
            currency,
            event_id,
            event_type,
            refusal,
            facts,
        )
    return outcome


def _refund_instead(
    provider_payment_id,
    amount_minor,
    currency,
    event_id,
    event_type,
    refusal: APIError,
    facts,
) -> Outcome:
    """The booking could not take money the provider received: record the event,
    mark the attempt `refund_pending` (one commit), then refund it through the
    provider."""

    def mark():
        if not claim_event(event_id, event_type):
            return Outcome("duplicate")
        attempt = attempt_of(provider_payment_id)
        received = provider.from_minor(amount_minor, currency)
        if not _move(
            attempt.id,
            RETRYABLE_FROM,
            status="refund_pending",
            received_amount=received,
            amount_mismatch=received != attempt.amount,
            last_error=refusal.detail,
        ):
            return Outcome("unchanged", attempt.id)
        _audit_event(
            attempt,
            "payment_attempt.refund_due",
            event_id,
            facts,
            received=received,
            reason=refusal.detail,
        )
        return Outcome("refund", attempt.id)

    outcome = commit_or_rollback(mark)
    if outcome.result == "refund":
        refund_attempt(outcome.attempt_id, facts=facts)
    return outcome


def refund_attempt(attempt_id: int, *, facts: audit.RequestFacts | None = None) -> bool:
    """Give back through the provider the money of a `refund_pending` attempt
    (refunds.create with the PaymentIntent, the received amount, our idempotency key
    `easytravels-attempt-<id>`); on success the attempt turns `refunded`, audited,
    and the customer is mailed; on a provider error the message is stored in
    `last_error` and audited (reconciliation tries again). The audit entries are by
    `system` with the request `facts` when a webhook caused the refund. True when
    refunded."""
    attempt = db.session.get(PaymentAttempt, attempt_id)
    if attempt is None or attempt.status != "refund_pending":
        return False
    paid = (
        attempt.provider_payment_id,
        attempt.received_amount or attempt.amount,
        attempt.currency,
    )
    db.session.rollback()
    try:
        refund = provider.create_refund(
            provider_payment_id=paid[0],
            amount_minor=provider.to_minor(paid[1], paid[2]),
            idempotency_key=f"easytravels-attempt-{attempt_id}",
            metadata={"easytravels_attempt_id": str(attempt_id)},
        )
    except APIError as exc:
        detail = exc.detail

        def failed():
            _move(attempt_id, ("refund_pending",), last_error=detail)
            audit.record(
                "payment_attempt.refund_failed",
                entity_type="payment_attempt",
                entity_id=attempt_id,
                facts=facts,
                actor_type="system",
                details={"error": detail},
            )

        commit_or_rollback(failed)
        log.warning("automatic refund of attempt %s failed: %s", attempt_id, detail)
        return False

    def done():
        moved = _move(
            attempt_id,
            ("refund_pending",),
            status="refunded",
            provider_refund_id=refund.id,
        )
        if moved:
            audit.record(
                "payment_attempt.refunded",
                entity_type="payment_attempt",
                entity_id=attempt_id,
                facts=facts,
                actor_type="system",
                details={
                    "amount": paid[1],
                    "currency": paid[2],
                    "provider_refund_id": refund.id,
                },
            )
            attempt = db.session.get(PaymentAttempt, attempt_id)
            notifications.card_payment_refunded(
                attempt.booking, amount=paid[1], reason=attempt.last_error or ""
            )
        return moved

    return bool(commit_or_rollback(done))


def apply_failed(
    *,
    provider_payment_id: str,
    message: str,
    event_id: str | None = None,
    event_type: str = FAILED,
    facts: audit.RequestFacts | None = None,
) -> Outcome:
    """Apply the provider's word that a payment on an intent was declined, at most
    once: a `pending` attempt turns `failed` with the provider's message (the
    booking is untouched: a held booking stays held); one commit, audited by
    `system` with the webhook request's `facts`."""

    def record():
        if not claim_event(event_id, event_type):
            return Outcome("duplicate")
        attempt = attempt_of(provider_payment_id)
        if attempt is None:
            return Outcome("unknown")
        if not _move(
            attempt.id, ("pending",), status="failed", last_error=message[:2000]
        ):
            return Outcome("unchanged", attempt.id)
        _audit_event(attempt, "payment_attempt.failed", event_id, facts, reason=message)
        return Outcome("failed", attempt.id)

    return commit_or_rollback(record)


def _audit_event(
    attempt: PaymentAttempt, action: str, event_id, facts, **details
) -> None:
    """Audit a provider event applied to `attempt` (by `system`, with the request
    `facts` of the webhook that brought it, None in reconciliation)."""
    audit.record(
        action,
        entity_type="payment_attempt",
        entity_id=attempt.id,
        facts=facts,
        actor_type="system",
        details={
            "booking_id": attempt.booking_id,
            "provider_payment_id": attempt.provider_payment_id,
            "event_id": event_id,
            **details,
        },
    )


# --- reconciliation -----------------------------------------------------------------


def reconcile_pending(
    *, older_than: timedelta = timedelta(minutes=10), now=None
) -> dict:
    """Ask the provider about every attempt still `pending` (or `failed`, which a
    later success may follow) created at least `older_than` ago, and apply the
    succeeded ones through `apply_succeeded` (the same idempotent function as the
    webhook, so running it beside the webhook or twice changes nothing more); retry
    the automatic refund of `refund_pending` attempts older than that. Attempts
    created more than RECONCILE_WINDOW (7 days) ago are left alone (abandoned).

    Safe from cron while serving. Returns counts `{"checked", "applied", "refunded",
    "unchanged", "errors"}`; a provider error on one attempt is counted and logged,
    never stops the run.
    """
    now = now or utcnow()
    rows = db.session.execute(
        select(
            PaymentAttempt.id, PaymentAttempt.provider_payment_id, PaymentAttempt.status
        )
        .where(
            PaymentAttempt.status.in_(("pending", "failed", "refund_pending")),
            PaymentAttempt.updated_at <= now - older_than,
            or_(
                PaymentAttempt.status == "refund_pending",
                PaymentAttempt.created_at >= now - RECONCILE_WINDOW,
            ),
        )
        .order_by(PaymentAttempt.id)
    ).all()
    db.session.rollback()
    counts = {
        "checked": len(rows),
        "applied": 0,
        "refunded": 0,
        "unchanged": 0,
        "errors": 0,
    }
    for attempt_id, provider_payment_id, status in rows:
        try:
            result = _reconcile_one(attempt_id, provider_payment_id, status)
        except APIError as exc:
            log.warning("reconcile: attempt %s: %s", attempt_id, exc.detail)
            counts["errors"] += 1
            continue
        counts[result] += 1
    return counts


def _reconcile_one(attempt_id: int, provider_payment_id: str, status: str) -> str:
    """One attempt's reconciliation: `applied`, `refunded` or `unchanged`."""
    if status == "refund_pending":
        return "refunded" if refund_attempt(attempt_id) else "unchanged"
    intent = provider.plain(provider.retrieve_payment_intent(provider_payment_id))
    if intent["status"] != "succeeded":
        return "unchanged"
    outcome = apply_succeeded(
        provider_payment_id=provider_payment_id,
        amount_minor=_received(intent),
        currency=intent["currency"],
    )
    return {"applied": "applied", "refund": "refunded"}.get(outcome.result, "unchanged")
