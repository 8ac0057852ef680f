"""Sales pipeline reports (docs/design.md "Resource map": /reports, the enquiries
family; "Lifecycles": enquiry): the enquiry funnel (per employee or source, by
stage, with the conversion rate), response times (first responses, their
deadline, median hours to the first response and to won), lost reasons and the
revenue won from enquiries. An enquiry is won only through a linked booking.
"""

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Numeric, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from models import Booking, Employee, Enquiry, EnquiryLostReason
from models.base import utcnow
from services.reporting.report_base import (
    HOURS,
    INTEGER,
    MONEY,
    OPEN_WINDOW,
    PERCENT,
    STRING,
    Report,
    Window,
    count_if,
    money,
)
from services.reporting.report_sql import sum_cents

ENQUIRY_STAGES = ("new", "contacted", "quoted", "on_hold", "won", "lost")
FUNNEL_GROUPS = ("employee", "source")


def _rate(part: int, whole: int) -> Decimal:
    """part / whole in percent, one decimal place (0 for an empty whole)."""
    rate = Decimal(part * 100) / whole if whole else Decimal(0)
    return Decimal(rate).quantize(Decimal("0.1"))


def enquiry_funnel(*, window: Window = OPEN_WINDOW, by: str = "employee") -> Report:
    """Enquiries raised in the range per assigned employee (unassigned last) or per
    source: how many, how many sit in each stage now, and the conversion rate
    (won / enquiries, percent with one place). An enquiry is won only through a
    linked booking (docs/design.md "Lifecycles": enquiry)."""
    stage_counts = [
        count_if(Enquiry.stage == stage).label(stage) for stage in ENQUIRY_STAGES
    ]
    if by == "source":
        keys = (Enquiry.source.label("source"),)
        stmt = select(*keys, func.count(Enquiry.id).label("enquiries"), *stage_counts)
        stmt = window.on_timestamp(stmt, Enquiry.created_at)
        stmt = stmt.group_by(Enquiry.source).order_by(Enquiry.source)
        key_columns = (("source", STRING),)
    else:
        stmt = (
            select(
                Enquiry.assigned_to_id.label("employee_id"),
                Employee.name.label("employee_name"),
                func.count(Enquiry.id).label("enquiries"),
                *stage_counts,
            )
            .select_from(Enquiry)
            .outerjoin(Employee, Employee.id == Enquiry.assigned_to_id)
        )
        stmt = window.on_timestamp(stmt, Enquiry.created_at)
        stmt = stmt.group_by(Enquiry.assigned_to_id, Employee.name).order_by(
            Enquiry.assigned_to_id.is_(None), Employee.name, Enquiry.assigned_to_id
        )
        key_columns = (("employee_id", INTEGER), ("employee_name", STRING))
    counts = ("enquiries", *ENQUIRY_STAGES)

    def shape(row) -> dict:
        out = {name: getattr(row, name) for name, _kind in key_columns}
        out.update({name: int(getattr(row, name)) for name in counts})
        out["conversion_rate"] = _rate(out["won"], out["enquiries"])
        return out

    return Report(
        name="enquiries.funnel",
        columns=(
            *key_columns,
            *((name, INTEGER) for name in counts),
            ("conversion_rate", PERCENT),
        ),
        statement=stmt,
        shape=shape,
        filters={**window.as_dict(), "by": by},
    )


class SecondsBetween(FunctionElement):
    """Seconds from `earlier` to `later` (two UTC timestamps), the same on both
    databases: PostgreSQL subtracts timestamptz values, SQLite (naive UTC text)
    subtracts Julian days."""

    type = Numeric()
    name = "seconds_between"
    inherit_cache = True


@compiles(SecondsBetween, "postgresql")
def _seconds_pg(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - "
        f"{compiler.process(earlier, **kw)}))"
    )


@compiles(SecondsBetween, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400.0)"
    )


def _median_by_employee(later, window: Window, label: str):
    """Per assignee key (0 for unassigned): the median of seconds from the
    enquiry's creation to `later`, over enquiries raised in the range where `later`
    is set. The median is the middle value (the mean of the two middle ones for an
    even count), picked with ROW_NUMBER and COUNT windows so both databases agree."""
    key = func.coalesce(Enquiry.assigned_to_id, 0)
    seconds = SecondsBetween(later, Enquiry.created_at)
    ranked = select(
        key.label("key"),
        seconds.label("seconds"),
        func.row_number().over(partition_by=key, order_by=seconds).label("rn"),
        func.count().over(partition_by=key).label("cnt"),
    ).where(later.is_not(None))
    ranked = window.on_timestamp(ranked, Enquiry.created_at).subquery(f"{label}_ranked")
    middle = ranked.c.rn.in_(((ranked.c.cnt + 1) // 2, (ranked.c.cnt + 2) // 2))
    return (
        select(ranked.c.key, func.avg(ranked.c.seconds).label(label))
        .where(middle)
        .group_by(ranked.c.key)
        .subquery(label)
    )


def _hours(seconds) -> Decimal | None:
    """Seconds as hours with one decimal place (None stays None)."""
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / 3600).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def enquiry_response_times(*, window: Window = OPEN_WINDOW) -> Report:
    """Per assigned employee (unassigned last), over enquiries raised in the range:
    how many, how many got a first response and how many missed its deadline
    (ENQUIRY_FIRST_RESPONSE_HOURS), how many were won, and the median hours from
    creation to the first response and to `won`."""
    key = func.coalesce(Enquiry.assigned_to_id, 0)
    late = or_(
        and_(
            Enquiry.first_response_at.is_(None),
            Enquiry.first_response_due_at < utcnow(),
        ),
        Enquiry.first_response_at > Enquiry.first_response_due_at,
    )
    base = select(
        key.label("key"),
        func.count(Enquiry.id).label("enquiries"),
        func.count(Enquiry.first_response_at).label("responded"),
        count_if(late).label("response_overdue"),
        count_if(Enquiry.stage == "won").label("won"),
    )
    base = window.on_timestamp(base, Enquiry.created_at).group_by(key).subquery("base")
    first = _median_by_employee(Enquiry.first_response_at, window, "first")
    won = _median_by_employee(Enquiry.won_at, window, "towon")
    stmt = (
        select(
            base,
            Employee.id.label("employee_id"),
            Employee.name.label("employee_name"),
            first.c.first,
            won.c.towon,
        )
        .outerjoin(Employee, Employee.id == base.c.key)
        .outerjoin(first, first.c.key == base.c.key)
        .outerjoin(won, won.c.key == base.c.key)
        .order_by(base.c.key == 0, Employee.name, base.c.key)
    )

    def shape(row) -> dict:
        return {
            "employee_id": row.employee_id,
            "employee_name": row.employee_name,
            "enquiries": int(row.enquiries),
            "responded": int(row.responded),
            "response_overdue": int(row.response_overdue),
            "won": int(row.won),
            "median_hours_to_first_response": _hours(row.first),
            "median_hours_to_won": _hours(row.towon),
        }

    return Report(
        name="enquiries.response-times",
        columns=(
            ("employee_id", INTEGER),
            ("employee_name", STRING),
            ("enquiries", INTEGER),
            ("responded", INTEGER),
            ("response_overdue", INTEGER),
            ("won", INTEGER),
            ("median_hours_to_first_response", HOURS),
            ("median_hours_to_won", HOURS),
        ),
        statement=stmt,
        shape=shape,
        filters=window.as_dict(),
    )


def enquiry_lost_reasons(*, window: Window = OPEN_WINDOW) -> Report:
    """Enquiries lost now, raised in the range, per lost reason (most first): how
    many and their share of all lost ones (percent, one place)."""
    stmt = (
        select(
            EnquiryLostReason.code,
            EnquiryLostReason.label,
            func.count(Enquiry.id).label("lost"),
        )
        .join(Enquiry, Enquiry.lost_reason_id == EnquiryLostReason.id)
        .where(Enquiry.stage == "lost")
    )
    stmt = window.on_timestamp(stmt, Enquiry.created_at)
    total = select(func.count(Enquiry.id)).where(Enquiry.stage == "lost")
    total = window.on_timestamp(total, Enquiry.created_at).scalar_subquery()
    stmt = (
        stmt.add_columns(total.label("total"))
        .group_by(EnquiryLostReason.id, EnquiryLostReason.code, EnquiryLostReason.label)
        .order_by(func.count(Enquiry.id).desc(), EnquiryLostReason.id)
    )

    def shape(row) -> dict:
        return {
            "code": row.code,
            "label": row.label,
            "lost": int(row.lost),
            "share": _rate(int(row.lost), int(row.total)),
        }

    return Report(
        name="enquiries.lost-reasons",
        columns=(
            ("code", STRING),
            ("label", STRING),
            ("lost", INTEGER),
            ("share", PERCENT),
        ),
        statement=stmt,
        shape=shape,
        filters=window.as_dict(),
    )


def enquiry_revenue_won(*, window: Window = OPEN_WINDOW) -> Report:
    """Revenue won from enquiries, per currency, over enquiries won in the range
    (by `won_at`): how many, the value of their bookings that still stand (held,
    confirmed or completed: `booked`) and the money received on all of them (paid
    minus refunded: `received`)."""
    standing = Booking.status.in_(("held", "confirmed", "completed"))
    stmt = (
        select(
            Booking.currency.label("currency"),
            func.count(Enquiry.id).label("won_enquiries"),
            sum_cents(case((standing, Booking.total_amount), else_=0)).label("booked"),
            sum_cents(Booking.amount_paid - Booking.amount_refunded).label("received"),
        )
        .join(Booking, Booking.id == Enquiry.booking_id)
        .where(Enquiry.stage == "won")
    )
    stmt = window.on_timestamp(stmt, Enquiry.won_at)
    stmt = stmt.group_by(Booking.currency).order_by(Booking.currency)

    def shape(row) -> dict:
        return {
            "currency": row.currency,
            "won_enquiries": int(row.won_enquiries),
            **money(row, "booked", "received"),
        }

    return Report(
        name="enquiries.revenue-won",
        columns=(
            ("currency", STRING),
            ("won_enquiries", INTEGER),
            ("booked", MONEY),
            ("received", MONEY),
        ),
        statement=stmt,
        shape=shape,
        filters=window.as_dict(),
    )
