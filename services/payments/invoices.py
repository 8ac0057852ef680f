"""Invoice listing and detail with derived status and amounts (docs/design.md
"Lifecycles": invoice; "Resource map": /invoices).

The status is never stored. services.payments.billing holds the rule twice, side by
side: `invoice_status` derives it for one invoice, `status_sql` is the same rule as one
SQL CASE, with which lists filter and show it.
"""

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.extensions import db
from models import Booking, Invoice
from models.account import is_staff
from models.base import utcnow
from services.payments import billing
from services.payments.billing import status_sql
from services.shared.money import CENT
from services.shared.pagination import order_by_sort, paginate
from services.shared.records import check_owner, get_or_404

ZERO = Decimal("0.00")
SORTABLE = ("created_at", "due_date", "total_amount")


def _base_query():
    """Invoices joined to their booking, with what the views show loaded."""
    return (
        select(Invoice)
        .join(Booking, Booking.id == Invoice.booking_id)
        .options(
            selectinload(Invoice.credit_notes),
            selectinload(Invoice.booking).selectinload(Booking.payments),
        )
    )


def list_invoices(
    *,
    account,
    status: str | None = None,
    customer_id: int | None = None,
    booking_id: int | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> dict:
    """One page of invoices as `{"items": [view...], "meta": {...}}`, newest first
    unless `sort` (created_at, due_date, total_amount); customers see only theirs.

    `status` filters on the derived status (pending, paid, overdue, void) in SQL.
    Filters combine with AND. Raises ValidationFailed (422) for an unknown sort.
    """
    today = utcnow().date()
    stmt = _base_query()
    if not is_staff(account):
        stmt = stmt.where(Invoice.customer_id == account.id)
    if status:
        stmt = stmt.where(status_sql(today) == status)
    if customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == customer_id)
    if booking_id is not None:
        stmt = stmt.where(Invoice.booking_id == booking_id)
    page_ = paginate(
        order_by_sort(stmt, Invoice, sort, SORTABLE),
        page=page,
        per_page=per_page,
        cursor=cursor,
    )
    statuses = _statuses([invoice.id for invoice in page_.items], today)
    items = [
        _view(invoice, statuses[invoice.id], _credited(invoice))
        for invoice in page_.items
    ]
    return {"items": items, "meta": page_.meta}


def _statuses(invoice_ids: list[int], today: date) -> dict[int, str]:
    """Derived status of each invoice of a page, in one query."""
    if not invoice_ids:
        return {}
    rows = db.session.execute(
        select(Invoice.id, status_sql(today))
        .join(Booking, Booking.id == Invoice.booking_id)
        .where(Invoice.id.in_(invoice_ids))
    )
    return {invoice_id: status for invoice_id, status in rows}


def _credited(invoice: Invoice) -> Decimal:
    """Sum of the (loaded) credit notes of `invoice`."""
    return sum((note.amount for note in invoice.credit_notes), ZERO).quantize(CENT)


def get_invoice(*, account, invoice_id: int) -> dict:
    """One invoice as a view dict, status from billing.invoice_status; NotFound
    (404) when missing or, for a customer, not theirs (docs/design.md "Accounts and
    roles")."""
    invoice = get_or_404(Invoice, invoice_id, "Invoice")
    check_owner(account, invoice, "Invoice")
    return _view(
        invoice, billing.invoice_status(invoice), billing.credited_amount(invoice)
    )


def _view(invoice: Invoice, status: str, credited: Decimal) -> dict:
    """What the API shows of an invoice: its immutable amounts, the derived status
    and money (billing.invoice_amounts' rule: balance = total - credited - kept,
    never negative), credit notes and the booking's payments (one invoice per
    booking, so they are the invoice's)."""
    booking = invoice.booking
    kept = booking.amount_paid - booking.amount_refunded
    return {
        "id": invoice.id,
        "number": invoice.number,
        "booking_id": invoice.booking_id,
        "booking_reference": booking.reference,
        "customer_id": invoice.customer_id,
        "currency": invoice.currency,
        "total_amount": invoice.total_amount,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "status": status,
        "credited_amount": credited,
        "amount_paid": booking.amount_paid,
        "amount_refunded": booking.amount_refunded,
        "balance_due": max(invoice.total_amount - credited - kept, ZERO),
        "credit_notes": invoice.credit_notes,
        "payments": booking.payments,
        "created_at": invoice.created_at,
    }
