"""Refunds: money given back for a booking, to the wallet (instant, with a ledger
entry) or to the original payment method (a `pending` record that finance completes)
(docs/design.md "Lifecycles": invoice/refunds, wallet).

Money rules: Decimal quantized to 0.01 (ROUND_HALF_UP), never float; every refund
is written inside the caller's transaction together with the booking's
`amount_refunded`, so nothing here commits except `complete_refund`.
"""

import logging
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update

from core.errors import APIError, Conflict, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Booking, Payment, Refund
from models.account import is_staff
from models.base import utcnow
from services.audit import audit
from services.messaging import notifications, webhooks
from services.payments import wallet
from services.shared.money import money
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import check_owner, get_or_404

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
SORTABLE = ("created_at", "amount")
# Finance pays out a refund it cannot match to a recorded payment by bank transfer.
FALLBACK_METHOD = "bank_transfer"


def _new_refund(
    booking, *, amount, destination, method, status, reason, by_id, now, payment_id=None
) -> Refund:
    """A Refund row for `booking`, added and flushed (the ledger needs its id)."""
    completed = status == "completed"
    refund = Refund(
        booking_id=booking.id,
        customer_id=booking.customer_id,
        amount=money(amount),
        currency=booking.currency,
        destination=destination,
        method=method,
        status=status,
        reason=reason,
        created_by_id=by_id,
        completed_by_id=by_id if completed else None,
        completed_at=now if completed else None,
        created_at=now,
        payment_id=payment_id,
    )
    db.session.add(refund)
    db.session.flush()
    if completed:
        webhooks.emit("refund.completed", resource="refund", resource_id=refund.id)
    return refund


def _credit_wallet(refund: Refund, *, reason: str, by_id: int | None) -> None:
    """Post the wallet ledger line of a completed wallet refund."""
    wallet.post_entry(
        customer_id=refund.customer_id,
        amount=refund.amount,
        kind="refund_credit",
        reason=reason,
        booking_id=refund.booking_id,
        refund_id=refund.id,
        created_by_id=by_id,
    )


def check_wallet_currency(booking: Booking) -> None:
    """Refuse a wallet refund for a booking not in the wallet currency (422 on
    `refund_to`): wallets hold DEFAULT_CURRENCY only."""
    if booking.currency != wallet.wallet_currency():
        raise ValidationFailed(
            {
                "refund_to": [
                    _(
                        "Wallets hold %(wallet)s; this booking is in %(currency)s. "
                        "Refund to the original method.",
                        wallet=wallet.wallet_currency(),
                        currency=booking.currency,
                    )
                ]
            }
        )


def _allocate(
    payments: list[Payment], amount: Decimal
) -> list[tuple[Payment | None, Decimal]]:
    """Split `amount` over `payments` newest first, each up to its own amount.

    Money the payments do not cover (bookings without payment rows) is returned as
    one `(None, rest)` share.
    """
    shares, rest = [], amount
    for payment in sorted(payments, key=lambda p: (p.created_at, p.id), reverse=True):
        if rest <= ZERO:
            break
        share = min(payment.amount, rest)
        shares.append((payment, share))
        rest -= share
    if rest > ZERO:
        log.warning("booking refund of %s not covered by its payments", rest)
        shares.append((None, rest))
    return shares


def _refund_to_original(booking, amount, *, reason, by_id, now) -> list[Refund]:
    """Refunds to the original methods: what was paid from the wallet goes back to
    the wallet at once (`completed`, ledger entry; written first); every other
    payment share becomes a `pending` refund of that payment's method, newest
    payment first. A pending refund of a provider payment is sent to the provider
    by `submit_provider_refunds` once the caller committed."""
    shares = _allocate(list(booking.payments), amount)
    to_wallet = sum(
        (share for payment, share in shares if payment and payment.method == "wallet"),
        ZERO,
    )
    refunds = []
    if to_wallet > ZERO:
        refund = _new_refund(
            booking,
            amount=to_wallet,
            destination="original",
            method="wallet",
            status="completed",
            reason=reason,
            by_id=by_id,
            now=now,
        )
        _credit_wallet(refund, reason=reason, by_id=by_id)
        refunds.append(refund)
    for payment, share in shares:
        if payment is not None and payment.method == "wallet":
            continue
        method = payment.method if payment is not None else FALLBACK_METHOD
        note = f"{reason} (payment #{payment.id})" if payment is not None else reason
        refunds.append(
            _new_refund(
                booking,
                amount=share,
                destination="original",
                method=method,
                status="pending",
                reason=note,
                by_id=by_id,
                now=now,
                payment_id=payment.id if payment is not None else None,
            )
        )
    return refunds


def issue_refunds(
    booking: Booking,
    *,
    amount: Decimal,
    refund_to: str,
    reason: str,
    by_id: int | None,
    now: datetime,
    facts: audit.RequestFacts | None = None,
) -> list[Refund]:
    """Write the refunds of `amount` (>= 0) for `booking` inside the caller's
    transaction (flushes, does not commit) and add it to `amount_refunded`.

    `refund_to` `wallet`: one completed wallet refund plus a `refund_credit` ledger
    entry. `original`: see `_refund_to_original`. `by_id` is the employee acting
    (None for the customer or the CLI); each refund is audited with the request
    `facts` (the caller is the actor). A zero amount writes nothing. The CHECK
    `refunded_within_paid` on bookings is the last line of defence.
    """
    amount = money(amount)
    if amount <= ZERO:
        return []
    if refund_to == "wallet":
        check_wallet_currency(booking)
        refund = _new_refund(
            booking,
            amount=amount,
            destination="wallet",
            method="wallet",
            status="completed",
            reason=reason,
            by_id=by_id,
            now=now,
        )
        _credit_wallet(refund, reason=reason, by_id=by_id)
        refunds = [refund]
    else:
        refunds = _refund_to_original(
            booking, amount, reason=reason, by_id=by_id, now=now
        )
    for refund in refunds:
        audit.record(
            "refund.issued",
            entity_type="refund",
            entity_id=refund.id,
            facts=facts,
            details={
                "booking_id": booking.id,
                "amount": refund.amount,
                "currency": refund.currency,
                "destination": refund.destination,
                "method": refund.method,
                "status": refund.status,
            },
        )
    db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id)
        .values(amount_refunded=Booking.amount_refunded + amount)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(booking)
    return refunds


def list_refunds(
    *,
    account,
    status: str | None = None,
    booking_id: int | None = None,
    customer_id: int | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of refunds, newest first unless `sort` (created_at, amount); finance
    and admin see all, a customer only theirs (docs/design.md "Resource map": /refunds).
    Filters combine with AND; raises ValidationFailed (422) for an unknown sort."""
    stmt = select(Refund)
    if not is_staff(account):
        stmt = stmt.where(Refund.customer_id == account.id)
    if status:
        stmt = stmt.where(Refund.status == status)
    if booking_id is not None:
        stmt = stmt.where(Refund.booking_id == booking_id)
    if customer_id is not None:
        stmt = stmt.where(Refund.customer_id == customer_id)
    stmt = order_by_sort(stmt, Refund, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_refund(*, account, refund_id: int) -> Refund:
    """The refund `refund_id`; NotFound (404) when missing or, for a customer, not
    theirs (docs/design.md "Accounts and roles")."""
    refund = get_or_404(Refund, refund_id, "Refund")
    check_owner(account, refund, "Refund")
    return refund


def complete_refund(
    *,
    account,
    refund_id: int,
    reference: str | None = None,
    facts: audit.RequestFacts | None = None,
) -> Refund:
    """Finance marks a pending refund to the original method as paid out; one commit,
    audited as done by `account` with the request `facts`.

    A conditional UPDATE (`WHERE status = 'pending'`) lets exactly one of two
    concurrent requests complete it. Raises NotFound (404) and Conflict (409) when
    the refund is already completed (wallet refunds are completed at once) or goes
    through the payment provider (`refund-through-provider`). The customer's refund
    notice and the `refund.completed` webhook are queued in the same commit
    (services.messaging.outbox).
    """
    if is_provider_refund(get_or_404(Refund, refund_id, "Refund")):
        raise Conflict(
            _(
                "This refund goes back through the payment provider; retry it with "
                "POST /refunds/<id>/retry when it failed."
            ),
            code="refund-through-provider",
        )
    now = utcnow()
    values = {"status": "completed", "completed_by_id": account.id, "completed_at": now}
    if reference:
        values["reference"] = reference
    done = db.session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        db.session.rollback()
        get_or_404(Refund, refund_id, "Refund")
        raise Conflict(_("The refund is already completed."), code="refund-completed")
    refund = db.session.get(Refund, refund_id)
    db.session.refresh(refund)
    notifications.refund_completed(refund)
    webhooks.emit("refund.completed", resource="refund", resource_id=refund_id)
    audit.record(
        "refund.completed",
        entity_type="refund",
        entity_id=refund_id,
        facts=facts,
        actor=account,
        details={
            "booking_id": refund.booking_id,
            "amount": refund.amount,
            "currency": refund.currency,
            "method": refund.method,
            "reference": reference,
        },
    )
    db.session.commit()
    return db.session.get(Refund, refund_id)


# --- refunds through the payment provider -------------------------------------------


def is_provider_refund(refund: Refund) -> bool:
    """True for a refund to the original method of a payment the provider took
    (docs/design.md "Lifecycles": refunds
    "through the provider's refund API for provider payments, by finance for
    staff-recorded money")."""
    return _attempt_of(refund) is not None


def _attempt_of(refund: Refund):
    """The provider payment attempt behind a refund's payment, or None."""
    from models import PaymentAttempt

    if refund.destination != "original" or refund.payment_id is None:
        return None
    return db.session.scalar(
        select(PaymentAttempt).where(PaymentAttempt.payment_id == refund.payment_id)
    )


def submit_provider_refunds(
    refund_ids: list[int], *, facts: audit.RequestFacts | None = None
) -> None:
    """Send the `pending` provider refunds among `refund_ids` to the provider, after
    the caller committed them (the cancellation flows). Each ends `completed` (the
    provider accepted it) or `failed` with the provider's message (finance retries
    it); each is its own commit, audited by `system` with the request `facts` of the
    cancellation. Staff-recorded money is skipped (finance pays it)."""
    for refund_id in refund_ids:
        refund = db.session.get(Refund, refund_id)
        if (
            refund is not None
            and refund.status == "pending"
            and is_provider_refund(refund)
        ):
            _send_to_provider(
                refund_id, key=f"easytravels-refund-{refund_id}", facts=facts
            )


def _send_to_provider(refund_id: int, *, key: str, facts) -> Refund:
    """One provider refund call for a `pending` refund (refunds.create with the
    PaymentIntent, the amount in minor units and idempotency key `key`), then a
    conditional UPDATE to `completed` or `failed`, audited; one commit."""
    from services.payments import provider

    refund = db.session.get(Refund, refund_id)
    intent_id = _attempt_of(refund).provider_payment_id
    amount, currency = refund.amount, refund.currency
    db.session.rollback()
    try:
        answer = provider.create_refund(
            provider_payment_id=intent_id,
            amount_minor=provider.to_minor(amount, currency),
            idempotency_key=key,
            metadata={"easytravels_refund_id": str(refund_id)},
        )
        values = {
            "status": "completed",
            "completed_at": utcnow(),
            "failure_message": None,
            "provider_refund_id": answer.id,
            "reference": answer.id,
        }
        action, details = "refund.provider_completed", {"provider_refund_id": answer.id}
    except APIError as exc:
        values = {"status": "failed", "failure_message": exc.detail[:2000]}
        action, details = "refund.provider_failed", {"error": exc.detail}
        log.warning("provider refund %s failed: %s", refund_id, exc.detail)
    try:
        db.session.execute(
            update(Refund)
            .where(Refund.id == refund_id, Refund.status == "pending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            action,
            entity_type="refund",
            entity_id=refund_id,
            facts=facts,
            actor_type="system",
            details={
                "amount": amount,
                "currency": currency,
                "provider_payment_id": intent_id,
                **details,
            },
        )
        if values["status"] == "completed":
            webhooks.emit("refund.completed", resource="refund", resource_id=refund_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return db.session.get(Refund, refund_id)


def retry_refund(
    *, account, refund_id: int, facts: audit.RequestFacts | None = None
) -> Refund:
    """`POST /refunds/<id>/retry` (finance, admin): send a `failed` provider refund to
    the provider again. A conditional UPDATE `failed` -> `pending` (committed before
    the call) lets one of two concurrent retries through; the provider call uses a
    fresh idempotency key (the provider stores the failed answer under the old one).
    Audited with the request `facts`.
    Returns the refund, `completed` or again `failed`. Raises NotFound (404),
    Conflict (409: not a provider refund, or not failed)."""
    refund = get_or_404(Refund, refund_id, "Refund")
    if not is_provider_refund(refund):
        raise Conflict(
            _(
                "Only refunds through the payment provider are retried; finance "
                "completes the others."
            ),
            code="refund-not-provider",
        )
    claimed = db.session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == "failed")
        .values(status="pending")
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise Conflict(
            _("Only a failed refund can be retried."), code="refund-not-failed"
        )
    audit.record(
        "refund.retried",
        entity_type="refund",
        entity_id=refund_id,
        facts=facts,
        actor=account,
        details={"amount": refund.amount, "currency": refund.currency},
    )
    db.session.commit()
    return _send_to_provider(
        refund_id, key=f"easytravels-refund-{refund_id}-{uuid.uuid4()}", facts=facts
    )
