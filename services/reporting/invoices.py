"""Invoice reports (docs/design.md "Resource map": /reports, the invoice family;
"Lifecycles": invoice): the summary of invoices issued by derived status and
currency, and the list of unpaid (pending and overdue) invoices.

The derived status is services.payments.billing's rule in SQL (`status_sql`,
`credited_sql`), computed per invoice once (`_invoice_rows`) for both reports.
"""

from datetime import date

from sqlalchemy import case, func, literal, select

from models import Booking, CreditNote, Customer, Invoice
from models.base import utcnow
from services.payments.billing import credited_sql, status_sql
from services.reporting.report_base import (
    DATE,
    IDS,
    INTEGER,
    MONEY,
    OPEN_WINDOW,
    STRING,
    Report,
    Window,
    limited,
    money,
)
from services.reporting.report_sql import (
    IdList,
    cents,
    from_cents,
    parse_ids,
    sum_cents,
)


def _invoice_rows(today: date):
    """Per-invoice derived figures as a subquery: status (services.payments.billing
    rule, with the credit notes joined once), credited, kept (paid - refunded) and
    outstanding (total - credited - kept, never negative), in major units."""
    credit_notes = (
        select(
            CreditNote.invoice_id.label("invoice_id"),
            func.sum(CreditNote.amount).label("credit_total"),
        )
        .group_by(CreditNote.invoice_id)
        .subquery("credit_totals")
    )
    credit_total = func.coalesce(credit_notes.c.credit_total, 0)
    credited = credited_sql(credit_total)
    kept = Booking.amount_paid - Booking.amount_refunded
    left = Invoice.total_amount - credited - kept
    outstanding = case((left > 0, left), else_=literal(0))
    stmt = (
        select(
            Invoice.id.label("invoice_id"),
            status_sql(today, credit_total).label("status"),
            credited.label("credited"),
            kept.label("kept"),
            outstanding.label("outstanding"),
        )
        .select_from(Invoice)
        .join(Booking, Booking.id == Invoice.booking_id)
        .outerjoin(credit_notes, credit_notes.c.invoice_id == Invoice.id)
    )
    return stmt


STATUS_ORDER = ("pending", "overdue", "paid", "void")


def invoice_summary(
    *, window: Window = OPEN_WINDOW, include_ids: bool = True
) -> Report:
    """Invoices issued in the range (issue date) by derived status (pending,
    overdue, paid, void) and currency: count, total, credited, paid (kept after
    refunds) and outstanding amounts, and the invoice ids (ascending) unless
    `include_ids` is false (docs/design.md "Lifecycles": invoice)."""
    today = utcnow().date()
    per_invoice = (
        window.on_date(_invoice_rows(today), Invoice.issue_date)
        .add_columns(
            Invoice.currency.label("currency"), Invoice.total_amount.label("total")
        )
        .subquery("per_invoice")
    )
    status = per_invoice.c.status
    order = case({name: index for index, name in enumerate(STATUS_ORDER)}, value=status)
    columns = [
        status,
        per_invoice.c.currency,
        func.count().label("invoices"),
        sum_cents(per_invoice.c.total).label("total"),
        sum_cents(per_invoice.c.credited).label("credited"),
        sum_cents(per_invoice.c.kept).label("paid"),
        sum_cents(per_invoice.c.outstanding).label("outstanding"),
    ]
    if include_ids:
        columns.append(IdList(per_invoice.c.invoice_id).label("invoice_ids"))
    stmt = (
        select(*columns)
        .group_by(status, per_invoice.c.currency)
        .order_by(order, per_invoice.c.currency)
    )

    def shape(row) -> dict:
        out = {
            "status": row.status,
            "currency": row.currency,
            "invoices": int(row.invoices),
        }
        out.update(money(row, "total", "credited", "paid", "outstanding"))
        if include_ids:
            out["invoice_ids"] = parse_ids(row.invoice_ids)
        return out

    result_columns = (
        ("status", STRING),
        ("currency", STRING),
        ("invoices", INTEGER),
        ("total", MONEY),
        ("credited", MONEY),
        ("paid", MONEY),
        ("outstanding", MONEY),
    )
    if include_ids:
        result_columns += (("invoice_ids", IDS),)
    return Report(
        name="invoices.summary",
        columns=result_columns,
        statement=stmt,
        shape=shape,
        filters={**window.as_dict(), "include_ids": include_ids},
    )


def unpaid_invoices(
    *,
    window: Window = OPEN_WINDOW,
    overdue_only: bool = False,
    limit: int | None = None,
) -> Report:
    """Invoices issued in the range that still ask for money (derived status
    pending or overdue; only overdue with `overdue_only`), oldest due date first,
    with the outstanding amount and `days_overdue` (days past the due date, 0 when
    not yet due)."""
    today = utcnow().date()
    per_invoice = _invoice_rows(today).add_columns(
        Invoice.number.label("number"),
        Booking.id.label("booking_id"),
        Booking.reference.label("booking_reference"),
        Invoice.customer_id.label("customer_id"),
        Invoice.currency.label("currency"),
        Invoice.total_amount.label("total"),
        Invoice.issue_date.label("issue_date"),
        Invoice.due_date.label("due_date"),
    )
    per_invoice = window.on_date(per_invoice, Invoice.issue_date).subquery(
        "per_invoice"
    )
    wanted = ("overdue",) if overdue_only else ("pending", "overdue")
    stmt = (
        select(
            per_invoice,
            Customer.name.label("customer_name"),
            Customer.email.label("customer_email"),
            cents(per_invoice.c.total).label("total_cents"),
            cents(per_invoice.c.credited).label("credited_cents"),
            cents(per_invoice.c.kept).label("paid_cents"),
            cents(per_invoice.c.outstanding).label("outstanding_cents"),
        )
        .join(Customer, Customer.id == per_invoice.c.customer_id)
        .where(per_invoice.c.status.in_(wanted))
        .order_by(per_invoice.c.due_date, per_invoice.c.invoice_id)
    )

    def shape(row) -> dict:
        return {
            "invoice_id": row.invoice_id,
            "number": row.number,
            "status": row.status,
            "booking_id": row.booking_id,
            "booking_reference": row.booking_reference,
            "customer_id": row.customer_id,
            "customer_name": row.customer_name,
            "customer_email": row.customer_email,
            "currency": row.currency,
            "total": from_cents(row.total_cents),
            "credited": from_cents(row.credited_cents),
            "paid": from_cents(row.paid_cents),
            "outstanding": from_cents(row.outstanding_cents),
            "issue_date": row.issue_date,
            "due_date": row.due_date,
            "days_overdue": max((today - row.due_date).days, 0),
        }

    return Report(
        name="invoices.unpaid",
        columns=(
            ("invoice_id", INTEGER),
            ("number", STRING),
            ("status", STRING),
            ("booking_id", INTEGER),
            ("booking_reference", STRING),
            ("customer_id", INTEGER),
            ("customer_name", STRING),
            ("customer_email", STRING),
            ("currency", STRING),
            ("total", MONEY),
            ("credited", MONEY),
            ("paid", MONEY),
            ("outstanding", MONEY),
            ("issue_date", DATE),
            ("due_date", DATE),
            ("days_overdue", INTEGER),
        ),
        statement=limited(stmt, limit),
        shape=shape,
        filters={**window.as_dict(), "overdue_only": overdue_only},
    )
