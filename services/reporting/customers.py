"""Customer reports (docs/design.md "Resource map": /reports, the customers and
wallets family; "Lifecycles": wallet): active customers (who booked or paid in
the range, by default the last ACTIVE_DEFAULT_DAYS days) and the wallet
liability (the wallet credit the agency owes its customers).
"""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, case, false, func, literal, select, union_all

from models import Booking, Customer, Payment, WalletEntry
from models.base import utcnow
from services.reporting.report_base import (
    INTEGER,
    MONEY,
    OPEN_WINDOW,
    STRING,
    Report,
    Window,
    limited,
    money,
)
from services.reporting.report_sql import cents, from_cents, sum_cents

ACTIVE_DEFAULT_DAYS = 90


def active_default_window(today: date | None = None) -> Window:
    """The last ACTIVE_DEFAULT_DAYS days up to today (UTC), the active-customer
    window when none is given."""
    today = today or utcnow().date()
    return Window(today - timedelta(days=ACTIVE_DEFAULT_DAYS - 1), today)


def active_customers(*, window: Window, limit: int | None = None) -> Report:
    """Customers who made bookings (any status) or paid money in the range, per
    currency: bookings made, payments received (`spend`, gross) and the last
    activity time; largest spend first."""
    made = select(
        Booking.customer_id.label("customer_id"),
        Booking.currency.label("currency"),
        literal(1).label("booking_count"),
        literal(0).label("spend"),
        Booking.created_at.label("moment"),
    )
    made = window.on_timestamp(made, Booking.created_at)
    paid = select(
        Payment.customer_id.label("customer_id"),
        Payment.currency.label("currency"),
        literal(0).label("booking_count"),
        cents(Payment.amount).label("spend"),
        Payment.created_at.label("moment"),
    )
    paid = window.on_timestamp(paid, Payment.created_at)
    activity = union_all(made, paid).subquery("activity")
    spend = func.sum(activity.c.spend)
    bookings = func.sum(activity.c.booking_count)
    stmt = (
        select(
            activity.c.customer_id,
            Customer.name.label("customer_name"),
            Customer.email.label("customer_email"),
            activity.c.currency,
            bookings.label("bookings"),
            spend.label("spend"),
            func.max(activity.c.moment).label("last_activity"),
        )
        .join(Customer, Customer.id == activity.c.customer_id)
        .group_by(
            activity.c.customer_id, Customer.name, Customer.email, activity.c.currency
        )
        .order_by(spend.desc(), bookings.desc(), activity.c.customer_id)
    )

    def shape(row) -> dict:
        last = row.last_activity
        if isinstance(last, str):  # SQLite hands MAX() of the text column back as text
            last = datetime.fromisoformat(last)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        return {
            "customer_id": row.customer_id,
            "customer_name": row.customer_name,
            "customer_email": row.customer_email,
            "currency": row.currency,
            "bookings": int(row.bookings),
            "spend": from_cents(row.spend),
            "last_activity": last.astimezone(UTC) if last else None,
        }

    return Report(
        name="customers.active",
        columns=(
            ("customer_id", INTEGER),
            ("customer_name", STRING),
            ("customer_email", STRING),
            ("currency", STRING),
            ("bookings", INTEGER),
            ("spend", MONEY),
            ("last_activity", STRING),
        ),
        statement=limited(stmt, limit),
        shape=shape,
        filters=window.as_dict(),
    )


def wallet_liability(*, window: Window = OPEN_WINDOW) -> Report:
    """What the agency owes customers in wallet credit, per currency, rolled
    forward from the wallet ledger (docs/design.md "Lifecycles": wallet): the balance
    before date_from (`opening`), credits and debits in the range, the balance at
    the end of date_to (`closing`; today's total without a range), and how many
    customers hold a balance then."""
    amount = WalletEntry.amount
    if window.start is not None:
        before = WalletEntry.created_at < window.start
        opening = sum_cents(case((before, amount), else_=0))
        credits = sum_cents(case((and_(~before, amount > 0), amount), else_=0))
        debits = sum_cents(case((and_(~before, amount < 0), -amount), else_=0))
    else:
        opening = literal(0)
        credits = sum_cents(case((amount > 0, amount), else_=0))
        debits = sum_cents(case((amount < 0, -amount), else_=0))
    per_customer = select(
        WalletEntry.customer_id,
        WalletEntry.currency.label("currency"),
        opening.label("opening"),
        credits.label("credits"),
        debits.label("debits"),
    ).group_by(WalletEntry.customer_id, WalletEntry.currency)
    if window.empty:
        per_customer = per_customer.where(false())
    elif window.end is not None:
        per_customer = per_customer.where(WalletEntry.created_at < window.end)
    per_customer = per_customer.subquery("per_customer")
    closing = per_customer.c.opening + per_customer.c.credits - per_customer.c.debits
    stmt = (
        select(
            per_customer.c.currency,
            func.sum(case((closing > 0, 1), else_=0)).label("customers_with_balance"),
            func.sum(per_customer.c.opening).label("opening"),
            func.sum(per_customer.c.credits).label("credits"),
            func.sum(per_customer.c.debits).label("debits"),
            func.sum(closing).label("closing"),
        )
        .group_by(per_customer.c.currency)
        .order_by(per_customer.c.currency)
    )

    def shape(row) -> dict:
        return {
            "currency": row.currency,
            "customers_with_balance": int(row.customers_with_balance),
            **money(row, "opening", "credits", "debits", "closing"),
        }

    return Report(
        name="wallets.liability",
        columns=(
            ("currency", STRING),
            ("customers_with_balance", INTEGER),
            ("opening", MONEY),
            ("credits", MONEY),
            ("debits", MONEY),
            ("closing", MONEY),
        ),
        statement=stmt,
        shape=shape,
        filters=window.as_dict(),
    )
