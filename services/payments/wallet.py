"""The customer wallet: an append-only ledger whose balance never goes negative
(docs/design.md "Lifecycles": wallet).

`customers.wallet_balance` caches the ledger sum and moves only through one atomic
conditional UPDATE per entry, so concurrent debits can never overdraw it; CHECK
constraints on both tables are the last line of defence.
"""

from decimal import Decimal

from flask import current_app
from sqlalchemy import select, update

from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Customer, WalletEntry
from models.account import is_staff
from services.audit import audit
from services.shared.money import CENT, MAX_AMOUNT, money
from services.shared.pagination import order_by_sort, paginate
from services.shared.records import get_or_404

BALANCE_MAX = MAX_AMOUNT  # customers.wallet_balance is Numeric(12, 2)


class InsufficientFunds(Conflict):
    """409: the wallet holds less than the debit; `balance` says how much it holds."""

    def __init__(self, balance: Decimal, currency: str):
        super().__init__(
            "The wallet balance is too low for this amount.",
            code="insufficient-funds",
            extra={"balance": f"{balance:.2f}", "currency": currency},
        )


class WalletFull(Conflict):
    """409: the credit would take the balance above BALANCE_MAX."""

    def __init__(self, balance: Decimal, currency: str):
        super().__init__(
            f"A wallet cannot hold more than {BALANCE_MAX}.",
            code="wallet-limit",
            extra={"balance": f"{balance:.2f}", "currency": currency},
        )


def wallet_currency() -> str:
    """Wallets hold the service's DEFAULT_CURRENCY."""
    return current_app.config["DEFAULT_CURRENCY"]


def post_entry(
    *,
    customer_id: int,
    amount: Decimal,
    kind: str,
    reason: str,
    booking_id: int | None = None,
    payment_id: int | None = None,
    refund_id: int | None = None,
    created_by_id: int | None = None,
) -> WalletEntry:
    """Add a signed `amount` to the wallet and write its ledger line (flushes, does
    not commit: the caller's transaction decides).

    `kind` is refund_credit, payment_debit or adjustment. Raises InsufficientFunds
    (409) when a debit would take the balance below zero, WalletFull (409) when a
    credit would take it above BALANCE_MAX (the Numeric(12, 2) column: PostgreSQL
    would refuse the UPDATE, SQLite would store a balance no response may show);
    nothing is written then.
    """
    amount = Decimal(amount).quantize(CENT)
    new_balance = Customer.wallet_balance + amount
    balance_after = db.session.scalar(
        update(Customer)
        .where(Customer.id == customer_id, new_balance >= 0, new_balance <= BALANCE_MAX)
        .values(wallet_balance=new_balance)
        .returning(Customer.wallet_balance)
    )
    if balance_after is None:
        current = balance(customer_id)
        if amount > 0:
            raise WalletFull(current, wallet_currency())
        raise InsufficientFunds(current, wallet_currency())
    entry = WalletEntry(
        customer_id=customer_id,
        amount=amount,
        currency=wallet_currency(),
        balance_after=balance_after,
        kind=kind,
        reason=reason,
        booking_id=booking_id,
        payment_id=payment_id,
        refund_id=refund_id,
        created_by_id=created_by_id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def balance(customer_id: int) -> Decimal:
    """The wallet balance as stored now (the ledger sum)."""
    value = db.session.scalar(
        select(Customer.wallet_balance).where(Customer.id == customer_id)
    )
    return Decimal(value or 0).quantize(CENT)


def _wallet_owner(account, customer_id: int) -> Customer:
    """The customer whose wallet is asked for; NotFound (404) when missing or, for a
    customer caller, not themself (docs/design.md "Accounts and roles")."""
    customer = get_or_404(Customer, customer_id, "Customer")
    if not is_staff(account) and customer.id != account.id:
        raise NotFound("Customer")
    return customer


def get_wallet(
    *,
    account,
    customer_id: int,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> dict:
    """The wallet of `customer_id`: `{customer_id, balance, currency, entries, meta}`
    with one page of its ledger, newest first (customers see their
    own ledger; finance and admin any). Raises NotFound (404)."""
    customer = _wallet_owner(account, customer_id)
    stmt = order_by_sort(
        select(WalletEntry).where(WalletEntry.customer_id == customer.id),
        WalletEntry,
        None,
        (),
    )
    entries = paginate(stmt, page=page, per_page=per_page, cursor=cursor)
    return {
        "customer_id": customer.id,
        "balance": balance(customer.id),
        "currency": wallet_currency(),
        "entries": entries.items,
        "meta": entries.meta,
    }


def post_adjustment(
    *,
    account,
    customer_id: int,
    amount: Decimal,
    reason: str,
    facts: audit.RequestFacts | None = None,
) -> WalletEntry:
    """Post a signed, non-zero `amount` (Decimal, DEFAULT_CURRENCY) to the wallet
    of `customer_id` as an `adjustment` with a `reason`, recorded as made by the
    staff `account` (audited with the request `facts`); one commit (finance posts
    adjustments, docs/design.md "Lifecycles": wallet; a customer never sets a balance).

    Raises NotFound (404) for an unknown customer, ValidationFailed (422) for a zero
    amount or blank reason, InsufficientFunds (409) when a negative adjustment goes
    beyond the balance, WalletFull (409) above BALANCE_MAX (nothing written then).
    """
    customer = get_or_404(Customer, customer_id, "Customer")
    amount = money(amount)
    if amount == 0:
        raise ValidationFailed({"amount": [_("An adjustment cannot be zero.")]})
    if not reason.strip():
        raise ValidationFailed({"reason": [_("Give the reason for the adjustment.")]})
    try:
        entry = post_entry(
            customer_id=customer.id,
            amount=amount,
            kind="adjustment",
            reason=reason.strip(),
            created_by_id=account.id,
        )
        audit.record(
            "wallet.adjusted",
            entity_type="customer",
            entity_id=customer.id,
            facts=facts,
            actor=account,
            details={
                "wallet_entry_id": entry.id,
                "amount": entry.amount,
                "currency": entry.currency,
                "balance_after": entry.balance_after,
                "reason": entry.reason,
            },
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return entry
