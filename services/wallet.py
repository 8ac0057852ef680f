"""The customer wallet: an append-only ledger whose balance never goes negative
(DESIGN.md "Lifecycles": wallet; issue #3 item 7).

`customers.wallet_balance` caches the ledger sum and moves only through one atomic
conditional UPDATE per entry, so concurrent debits can never overdraw it; CHECK
constraints on both tables are the last line of defence.
"""

from decimal import Decimal

from flask import current_app
from sqlalchemy import select, update

from errors import Conflict
from extensions import db
from models import Customer, WalletEntry

CENT = Decimal("0.01")


class InsufficientFunds(Conflict):
    """409: the wallet holds less than the debit; `balance` says how much it holds."""

    def __init__(self, balance: Decimal, currency: str):
        super().__init__(
            "The wallet balance is too low for this amount.",
            code="insufficient-funds",
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
    (409) when a debit would take the balance below zero; nothing is written then.
    """
    amount = Decimal(amount).quantize(CENT)
    balance_after = db.session.scalar(
        update(Customer)
        .where(Customer.id == customer_id, Customer.wallet_balance + amount >= 0)
        .values(wallet_balance=Customer.wallet_balance + amount)
        .returning(Customer.wallet_balance)
    )
    if balance_after is None:
        raise InsufficientFunds(balance(customer_id), wallet_currency())
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
    value = db.session.scalar(select(Customer.wallet_balance).where(Customer.id == customer_id))
    return Decimal(value or 0).quantize(CENT)
