"""Payments on bookings: who may pay how, deposits and confirmation, overpayment,
late payments on lapsed holds (revived by services.booking.holds.retake), wallet debits
(docs/design.md "Lifecycles": booking, invoice, wallet; roles matrix row "record
payment / refund").

Money rules (docs/design.md "Rules with numbers"):
- amounts are Decimal quantized to 0.01 (ROUND_HALF_UP), never float;
- a payment on a `held` booking must bring `amount_paid` at least to
  `deposit_amount` (a held, expirable booking never holds partial money), so every
  successful payment on a held booking confirms it; on a `confirmed` booking any
  amount up to what is due; more than what is due is refused (422);
- `amount_paid` moves through ONE conditional UPDATE
  (`amount_paid + :a <= total_amount`), race-free against concurrent payments, with
  the CHECK `amount_paid <= total_amount` as the backstop;
- booking, payment, invoice link and wallet debit are written in one transaction
  with one commit, which also queues the confirmation mail (services.messaging.outbox).
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import selectinload

from core.errors import Conflict, Forbidden, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Booking, Invoice, Payment
from models.account import is_staff
from models.base import utcnow
from services.audit import audit
from services.booking import holds
from services.documents.attachments import confirmation_attachments
from services.messaging import notifications, webhooks
from services.payments import billing, wallet
from services.shared.money import money
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import check_owner, get_or_404
from services.transport import tickets

CUSTOMER_METHODS = ("wallet",)
STAFF_METHODS = ("card", "bank_transfer", "cash")
NOT_PAYABLE = ("cancelled", "completed")
SORTABLE = ("created_at", "amount")


def record_payment(
    *,
    account,
    booking_id: int,
    amount: Decimal,
    method: str,
    reference: str | None = None,
    facts: audit.RequestFacts | None = None,
) -> Payment:
    """Record a payment of `amount` (Decimal, booking currency) on a booking; one
    commit, which queues the confirmation mail when this payment confirmed the booking.
    Audited with the request `facts`.

    `account` is the caller: a customer pays their own booking from the `wallet`
    (card money from customers enters only through the payment provider, see
    services.payments.card_payments); finance and admin record money they received
    themselves: `card` (a card terminal, `reference` required), `bank_transfer`
    and `cash`. A booking whose hold lapsed (swept `expired` or not)
    gets its seats back first when they are still free (see
    services.booking.holds.retake).

    Raises NotFound (404: unknown booking, or another customer's), Forbidden (403:
    method not open to the caller's role, `card-through-provider` for a customer's
    card), ValidationFailed (422: `reference`
    missing for card, `amount` over what is due or under the deposit of a held
    booking, `method` wallet in another currency), Conflict (409: booking
    cancelled or completed, `seats-unavailable` on a lapsed hold whose seats are
    gone, `insufficient-funds` in the wallet, `booking-changed` on a lost race).
    Nothing is written when it raises.
    """
    try:
        payment, _confirmed = _pay(
            account=account,
            booking_id=booking_id,
            amount=amount,
            method=method,
            reference=reference,
            facts=facts,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return payment


def _pay(
    *, account, booking_id, amount, method, reference, facts
) -> tuple[Payment, bool]:
    """The payment inside the caller's transaction: (payment, just confirmed)."""
    amount = money(amount)
    booking = _own_booking(account, booking_id)
    _check_method(account, booking, method, reference)
    return _apply(
        booking,
        amount=amount,
        method=method,
        reference=reference,
        actor=account,
        facts=facts,
    )


def apply_provider_payment(
    *,
    booking_id: int,
    amount: Decimal,
    reference: str,
    facts: audit.RequestFacts | None = None,
):
    """Record card money the payment provider says it received (`amount` Decimal in
    the booking's currency, `reference` the provider's payment id) inside the
    caller's transaction, exactly like a payment through `record_payment`: the same
    deposit/overpayment checks, lapsed holds re-take their seats, the booking is
    confirmed. Does not commit; audited by `system` with the webhook request's
    `facts`. Returns (payment, just confirmed).

    Raises the same Conflict / ValidationFailed as `record_payment` when the booking
    can no longer take the money (the caller then gives it back through the
    provider)."""
    amount = money(amount)
    booking = get_or_404(Booking, booking_id, "Booking")
    return _apply(
        booking,
        amount=amount,
        method="card",
        reference=reference,
        actor=None,
        facts=facts,
    )


def check_card_intent(*, account, booking_id: int, amount: Decimal) -> Booking:
    """The booking a card payment of `amount` may be started for: the caller's own
    (customers) or any (staff), payable, `amount` within what is due and at least
    the missing deposit of a held booking (the rules of `record_payment`). Raises
    NotFound (404), Conflict (409), ValidationFailed (422); writes nothing."""
    amount = money(amount)
    booking = _own_booking(account, booking_id)
    _check_payable(booking, amount)
    return booking


def _apply(booking: Booking, *, amount: Decimal, method: str, reference, actor, facts):
    """Take `amount` on `booking` (re-taking a lapsed hold's seats), confirm it when
    the deposit is reached, write the payment (and wallet debit) and its audit
    entry. `actor` None: the payment provider's word (audited as `system`)."""
    now = utcnow()
    lapsed = booking.status == "expired" or booking.hold_lapsed(now)
    _check_payable(booking, amount)
    if lapsed:
        holds.retake(booking, now)
    invoice = _invoice_of(booking)
    _add_money(booking, amount, now)
    confirmed = _confirm(booking, now)
    payment = Payment(
        booking_id=booking.id,
        invoice_id=invoice.id,
        customer_id=booking.customer_id,
        amount=amount,
        currency=booking.currency,
        method=method,
        reference=reference,
        recorded_by_id=actor.id if actor is not None and is_staff(actor) else None,
    )
    db.session.add(payment)
    db.session.flush()
    if method == "wallet":
        wallet.post_entry(
            customer_id=booking.customer_id,
            amount=-amount,
            kind="payment_debit",
            reason=f"Payment for booking {booking.reference}",
            booking_id=booking.id,
            payment_id=payment.id,
        )
    db.session.refresh(booking)
    if confirmed and booking.kind == "trip":
        # One ticket per passenger, mailed through the outbox (docs/transport.md
        # "Tickets and boarding").
        tickets.issue_tickets(booking)
    _announce(booking, payment, confirmed)
    audit.record(
        "payment.recorded",
        entity_type="payment",
        entity_id=payment.id,
        facts=facts,
        actor=actor,
        actor_type=None if actor is not None else "system",
        details={
            "booking_id": booking.id,
            "booking_reference": booking.reference,
            "amount": amount,
            "currency": booking.currency,
            "method": method,
            "reference": reference,
            "confirmed": confirmed,
        },
    )
    return payment, confirmed


def _announce(booking: Booking, payment: Payment, confirmed: bool) -> None:
    """Queue, in the payment's transaction, the `payment.succeeded` webhook and, when
    this payment confirmed the booking, the confirmation mail with the booking
    confirmation PDF attached (rendered by the worker; a trip's tickets come in
    their own mail) and the `booking.confirmed` webhook
    (services.messaging.outbox; docs/documents.md "Mail attachments")."""
    webhooks.emit("payment.succeeded", resource="payment", resource_id=payment.id)
    if confirmed:
        notifications.booking_confirmed(
            booking, attachments=confirmation_attachments(booking, tickets=False)
        )
        webhooks.emit("booking.confirmed", resource="booking", resource_id=booking.id)


def _own_booking(account, booking_id: int) -> Booking:
    """The booking, or NotFound when missing or another customer's."""
    booking = get_or_404(Booking, booking_id, "Booking")
    check_owner(account, booking, "Booking")
    return booking


def _check_method(
    account, booking: Booking, method: str, reference: str | None
) -> None:
    """Who may pay how (docs/design.md "Accounts and roles": customers "pay own",
    finance and admin "record payment"); card needs the provider reference; the wallet
    holds DEFAULT_CURRENCY only."""
    if is_staff(account) and method not in STAFF_METHODS:
        raise Forbidden(
            _(
                "Only the customer can pay from their wallet; staff record card, "
                "bank_transfer or cash payments."
            ),
            code="method-not-allowed",
        )
    if not is_staff(account) and method == "card":
        raise Forbidden(
            _(
                "Card payments go through the payment provider: start one with POST "
                "/api/v1/bookings/<id>/payment-intents and confirm it with Stripe.js "
                "or a Stripe SDK; the booking is confirmed when the provider reports "
                "success."
            ),
            code="card-through-provider",
        )
    if not is_staff(account) and method not in CUSTOMER_METHODS:
        raise Forbidden(
            _(
                "Customers pay from their wallet here, or by card through a payment "
                "intent; finance records bank transfers and cash."
            ),
            code="method-not-allowed",
        )
    if method == "card" and not (reference or "").strip():
        raise ValidationFailed(
            {
                "reference": [
                    _("A card terminal payment needs the terminal's reference.")
                ]
            }
        )
    if method == "wallet" and booking.currency != wallet.wallet_currency():
        message = _(
            "The wallet holds %(wallet)s; this booking is in %(currency)s.",
            wallet=wallet.wallet_currency(),
            currency=booking.currency,
        )
        raise ValidationFailed({"method": [message]})


def _check_payable(booking: Booking, amount: Decimal) -> None:
    """Refuse a payment the booking's state or amounts do not allow: 409 for a
    cancelled or completed booking; 422 `amount` over what is due (overpayment) or,
    unless confirmed, below the deposit still missing."""
    if booking.status in NOT_PAYABLE:
        raise Conflict(
            _("The booking is %(status)s; it cannot be paid.", status=booking.status),
            code="booking-not-payable",
        )
    due = booking.total_amount - booking.amount_paid
    if amount > due:
        raise ValidationFailed(
            {
                "amount": [
                    _(
                        "Overpayment refused: at most %(amount)s %(currency)s is due.",
                        amount=due,
                        currency=booking.currency,
                    )
                ]
            }
        )
    needed = booking.deposit_amount - booking.amount_paid
    if booking.status != "confirmed" and amount < needed:
        message = _(
            "A held booking is paid at least its deposit: %(amount)s %(currency)s.",
            amount=needed,
            currency=booking.currency,
        )
        raise ValidationFailed({"amount": [message]})


def _invoice_of(booking: Booking) -> Invoice:
    """The booking's invoice; issued now for a booking made before invoices existed."""
    invoice = db.session.scalar(select(Invoice).where(Invoice.booking_id == booking.id))
    return invoice or billing.issue_invoice(booking)


def _add_money(booking: Booking, amount: Decimal, now: datetime) -> None:
    """Add `amount` to `amount_paid` in one conditional UPDATE that re-checks, at
    write time, everything `_check_payable` checked: within the total, and either
    confirmed, or held with a live hold and the deposit reached. When it does not
    apply (a concurrent payment, cancellation or expiry won), the booking is read
    again and the matching error raised."""
    applied = db.session.execute(
        update(Booking)
        .where(
            Booking.id == booking.id,
            Booking.amount_paid + amount <= Booking.total_amount,
            or_(
                Booking.status == "confirmed",
                and_(
                    Booking.status == "held",
                    Booking.hold_expires_at > now,
                    Booking.amount_paid + amount >= Booking.deposit_amount,
                ),
            ),
        )
        .values(amount_paid=Booking.amount_paid + amount)
        .execution_options(synchronize_session=False)
    ).rowcount
    if applied == 1:
        return
    db.session.refresh(booking)
    _check_payable(booking, amount)
    raise holds.booking_changed()


def _confirm(booking: Booking, now: datetime) -> bool:
    """`held` -> `confirmed` once `amount_paid >= deposit_amount`: sets confirmed_at,
    clears hold_expires_at. True when this call confirmed it (docs/design.md
    "Lifecycles": booking)."""
    return (
        db.session.execute(
            update(Booking)
            .where(
                Booking.id == booking.id,
                Booking.status == "held",
                Booking.amount_paid >= Booking.deposit_amount,
            )
            .values(status="confirmed", confirmed_at=now, hold_expires_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def list_payments(
    *,
    account,
    booking_id: int | None = None,
    customer_id: int | None = None,
    method: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of payments, newest first unless `sort` (created_at, amount);
    customers see only theirs (docs/design.md "Resource map": /payments). Filters
    combine with AND. Raises ValidationFailed (422) for an unknown sort."""
    stmt = select(Payment).options(selectinload(Payment.booking))
    if not is_staff(account):
        stmt = stmt.where(Payment.customer_id == account.id)
    if booking_id is not None:
        stmt = stmt.where(Payment.booking_id == booking_id)
    if customer_id is not None:
        stmt = stmt.where(Payment.customer_id == customer_id)
    if method:
        stmt = stmt.where(Payment.method == method)
    stmt = order_by_sort(stmt, Payment, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)
