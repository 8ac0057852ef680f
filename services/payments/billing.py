"""Invoices and credit notes: race-free document numbers, one invoice per booking
with immutable amounts, status derived from money movements (docs/design.md
"Lifecycles": invoice).

The status is never stored. `invoice_status` derives it for one invoice and
`status_sql` is the same rule written as one SQL CASE for lists and reports
(checked against each other by tests/payments/test_invoices.py):

- `void`: credit notes cover the whole (non-zero) total;
- `paid`: money kept (paid - refunded) covers the total minus credits;
- `overdue`: otherwise, when the due date is before today (UTC);
- `pending`: otherwise.

Money comparisons in SQL are made in whole cents (ROUND(x * 100)) so SQLite, which
keeps NUMERIC as binary floats, decides exactly like PostgreSQL.

Nothing here commits: callers issue documents inside their own transaction.
"""

from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from core.extensions import db
from models import Booking, CreditNote, DocumentSequence, Invoice
from models.base import utcnow
from models.billing import INVOICE_STATUSES  # noqa: F401 (re-exported)
from services.documents import invoice_data

ZERO = Decimal("0.00")
# Credit notes reduce what an invoice asks for while its booking is expired or
# cancelled. A late payment may revive an expired booking
# (services.payments.payments); its expiry credit note then no longer applies and the
# invoice asks for the total again.
CREDIT_APPLIES = ("expired", "cancelled")


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def next_number(prefix: str, *, year: int | None = None) -> str:
    """The next number of a series, e.g. `INV-2026-000042`.

    One conditional UPDATE advances the series counter, so two transactions never get
    the same number (the row stays locked until the caller commits on PostgreSQL;
    SQLite serialises writers). The counter row is created on first use.
    """
    year = year or utcnow().year
    name = f"{prefix}-{year}"
    stmt = (
        update(DocumentSequence)
        .where(DocumentSequence.name == name)
        .values(last_value=DocumentSequence.last_value + 1)
        .returning(DocumentSequence.last_value)
    )
    value = db.session.scalar(stmt)
    if value is None:
        dialect_insert = (
            postgresql_insert if _dialect() == "postgresql" else sqlite_insert
        )
        db.session.execute(
            dialect_insert(DocumentSequence)
            .values(name=name, last_value=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        value = db.session.scalar(stmt)
    return f"{name}-{value:06d}"


def balance_due_date(start_date: date, *, today: date | None = None) -> date:
    """When the balance is due: BALANCE_DUE_DAYS before the departure's start date,
    but never before `today` (late bookings owe it at once)."""
    today = today or utcnow().date()
    days = current_app.config["BALANCE_DUE_DAYS"]
    return max(start_date - timedelta(days=days), today)


def issue_invoice(booking: Booking) -> Invoice:
    """Issue the booking's invoice for its total (writes it, does not commit).

    Due date = the booking's balance due date (or today). Numbered by next_number's
    counter; on PostgreSQL the counter UPDATE and the INSERT are one statement
    (`_insert_numbered`), same lock and same numbers. `document` is the snapshot
    of what the invoice shows (services.documents.invoice_data; docs/documents.md
    "Invoices and credit notes"): the booking's travellers must be written by now.
    """
    today = utcnow().date()
    values = {
        "booking_id": booking.id,
        "customer_id": booking.customer_id,
        "currency": booking.currency,
        "total_amount": booking.total_amount,
        "issue_date": today,
        "due_date": booking.balance_due_date or today,
        "created_at": utcnow(),
        "document": invoice_data.booking_document(booking, today),
    }
    invoice = _insert_numbered("INV", values) if _dialect() == "postgresql" else None
    if invoice is None:
        invoice = Invoice(number=next_number("INV"), **values)
        db.session.add(invoice)
        db.session.flush()
    # One invoice per booking: fill `booking.invoice` as loaded, so showing the
    # booking needs no SELECT (assigning it would load the old value first).
    set_committed_value(booking, "invoice", invoice)
    set_committed_value(invoice, "booking", booking)
    return invoice


def _insert_numbered(prefix: str, values: dict) -> Invoice | None:
    """PostgreSQL: advance the `prefix` counter of this year and insert the invoice
    numbered with it in one statement (a data-modifying CTE, so the counter row is
    locked until commit exactly as by next_number), and return the invoice as a
    persistent, loaded object (nothing to reload). None when this year's counter
    row does not exist yet (next_number creates it)."""
    name = f"{prefix}-{utcnow().year}"
    seq = (
        update(DocumentSequence)
        .where(DocumentSequence.name == name)
        .values(last_value=DocumentSequence.last_value + 1)
        .returning(DocumentSequence.last_value)
        .cte("seq")
    )
    digits = cast(seq.c.last_value, String)
    # next_number's f"{value:06d}": at least six digits, never cut.
    number = literal(f"{name}-") + func.lpad(
        digits, func.greatest(6, func.length(digits)), "0"
    )
    table = Invoice.__table__
    columns = [literal(value, type_=table.c[key].type) for key, value in values.items()]
    stmt = (
        insert(table)
        .from_select(["number", *values], select(number, *columns).select_from(seq))
        .returning(table.c.id, table.c.number)
        .add_cte(seq)
    )
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    invoice = Invoice(id=row.id, number=row.number, **values)
    make_transient_to_detached(invoice)
    db.session.add(invoice)
    set_committed_value(invoice, "credit_notes", [])
    return invoice


def credit(invoice: Invoice, amount: Decimal, reason: str) -> CreditNote | None:
    """Issue a credit note reducing `invoice` by `amount` (none for a zero amount).

    Never credits more than the invoice still asks for. Flushes, does not commit.
    The note's `document` snapshot names the invoice it corrects and its parties
    (invoice_data.credit_note_document); an invoice issued before snapshots
    existed gets its own snapshot now.
    """
    remaining = invoice.total_amount - credited_amount(invoice)
    amount = min(amount, remaining)
    if amount <= ZERO:
        return None
    if invoice.document is None:
        invoice.document = invoice_data.invoice_document(invoice)
    note = CreditNote(
        number=next_number("CN"),
        invoice_id=invoice.id,
        amount=amount,
        reason=reason,
        created_at=utcnow(),
    )
    note.document = invoice_data.credit_note_document(note, invoice)
    db.session.add(note)
    db.session.flush()
    return note


def credited_amount(invoice: Invoice) -> Decimal:
    """Sum of the invoice's credit notes."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(CreditNote.amount), 0)).where(
            CreditNote.invoice_id == invoice.id
        )
    )
    return Decimal(total).quantize(Decimal("0.01"))


def applied_credit(invoice: Invoice) -> Decimal:
    """The credit that reduces the invoice now: its credit notes while the booking is
    expired or cancelled, nothing while the booking is live (CREDIT_APPLIES)."""
    if invoice.booking.status not in CREDIT_APPLIES:
        return ZERO
    return credited_amount(invoice)


def invoice_status(invoice: Invoice, *, today: date | None = None) -> str:
    """Derive the status (never set by hand):

    - `void`: credit notes cover the whole total;
    - `paid`: money kept (paid minus refunded) covers the total minus credits;
    - `overdue`: otherwise, when the due date has passed;
    - `pending`: otherwise.
    """
    today = today or utcnow().date()
    booking = invoice.booking
    credited = applied_credit(invoice)
    if credited >= invoice.total_amount and invoice.total_amount > ZERO:
        return "void"
    kept = booking.amount_paid - booking.amount_refunded
    if kept >= invoice.total_amount - credited:
        return "paid"
    return "overdue" if invoice.due_date < today else "pending"


def _credited_sql():
    """Correlated SUM of the invoice's credit notes."""
    return (
        select(func.coalesce(func.sum(CreditNote.amount), 0))
        .where(CreditNote.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )


def credited_sql(credit_total=None):
    """What the credit notes take off the invoice, as SQL: their sum while the
    booking is expired or cancelled (CREDIT_APPLIES), else 0.

    `credit_total` is the credit-note sum when the caller has already joined it
    (reports join one grouped subquery instead of a correlated one per row);
    default: a correlated SUM.
    """
    total = _credited_sql() if credit_total is None else credit_total
    return case((Booking.status.in_(CREDIT_APPLIES), total), else_=literal(0))


def status_sql(today: date, credit_total=None):
    """The derived invoice status as a SQL expression over `invoices` joined to
    `bookings` (see the module docstring); `today` is the UTC date; `credit_total`
    as for `credited_sql`."""
    credited = credited_sql(credit_total)
    kept = Booking.amount_paid - Booking.amount_refunded
    void = and_(
        func.round((credited - Invoice.total_amount) * 100) >= 0,
        Invoice.total_amount > 0,
    )
    paid = func.round((kept - Invoice.total_amount + credited) * 100) >= 0
    return case(
        (void, "void"),
        (paid, "paid"),
        (Invoice.due_date < today, "overdue"),
        else_="pending",
    )


def invoice_amounts(invoice: Invoice) -> dict:
    """`{total, credited, paid, refunded, balance}` of an invoice as Decimals;
    `balance` is what the customer still owes (never negative)."""
    booking = invoice.booking
    credited = applied_credit(invoice)
    kept = booking.amount_paid - booking.amount_refunded
    balance = max(invoice.total_amount - credited - kept, ZERO)
    return {
        "total": invoice.total_amount,
        "credited": credited,
        "paid": booking.amount_paid,
        "refunded": booking.amount_refunded,
        "balance": balance,
    }
