"""Booking reports (docs/design.md "Resource map": /reports, the bookings and
cancellations family; "Lifecycles": booking; "Rules with numbers": cancellation
tiers): booking trends (bookings made per period and where they stand now) and
cancellations (cancelled bookings and refunds per period).
"""

from sqlalchemy import and_, case, func, literal, or_, select, union_all

from models import Booking, Refund
from models.base import utcnow
from services.reporting.report_base import (
    INTEGER,
    MONEY,
    OPEN_WINDOW,
    STRING,
    Report,
    Window,
    count_if,
)
from services.reporting.report_sql import bucket, cents, from_cents


def booking_trends(*, interval: str = "month", window: Window = OPEN_WINDOW) -> Report:
    """Bookings made per day, week (starting Monday) or month (booking date, UTC)
    and where each stands now: held (hold still running), confirmed, completed,
    cancelled, expired (swept or lapsed), with seats; oldest period first."""
    now = utcnow()
    period = bucket(Booking.created_at, interval)
    lapsed = and_(
        Booking.status == "held",
        Booking.hold_expires_at.is_not(None),
        Booking.hold_expires_at <= now,
    )
    held = and_(
        Booking.status == "held",
        or_(Booking.hold_expires_at.is_(None), Booking.hold_expires_at > now),
    )

    stmt = select(
        period.label("period"),
        func.count(Booking.id).label("bookings"),
        func.sum(Booking.seats).label("seats"),
        count_if(held).label("held"),
        count_if(Booking.status == "confirmed").label("confirmed"),
        count_if(Booking.status == "completed").label("completed"),
        count_if(Booking.status == "cancelled").label("cancelled"),
        count_if(or_(Booking.status == "expired", lapsed)).label("expired"),
    )
    stmt = (
        window.on_timestamp(stmt, Booking.created_at).group_by(period).order_by(period)
    )
    counts = (
        "bookings",
        "seats",
        "held",
        "confirmed",
        "completed",
        "cancelled",
        "expired",
    )

    def shape(row) -> dict:
        return {
            "period": row.period,
            **{name: int(getattr(row, name)) for name in counts},
        }

    return Report(
        name="bookings.trends",
        columns=(("period", STRING), *((name, INTEGER) for name in counts)),
        statement=stmt,
        shape=shape,
        filters={**window.as_dict(), "interval": interval},
    )


def cancellations(*, interval: str = "month", window: Window = OPEN_WINDOW) -> Report:
    """Cancellations and refunds per period and currency:
    bookings cancelled in the period (cancellation date), seats released, their
    value and the penalties kept (docs/design.md "Rules with numbers": cancellation
    tiers); refunds issued in the period (issue date), their amount split by
    destination (wallet, original) and what is still pending. Oldest period first."""
    cancelled = select(
        bucket(Booking.cancelled_at, interval).label("period"),
        Booking.currency.label("currency"),
        literal(1).label("cancellations"),
        Booking.seats.label("seats"),
        cents(Booking.total_amount).label("cancelled_value"),
        cents(func.coalesce(Booking.penalty_amount, 0)).label("penalties"),
        literal(0).label("refunds"),
        literal(0).label("refunded"),
        literal(0).label("to_wallet"),
        literal(0).label("to_original"),
        literal(0).label("pending"),
    ).where(Booking.status == "cancelled")
    cancelled = window.on_timestamp(cancelled, Booking.cancelled_at)
    amount = cents(Refund.amount)
    refunded = select(
        bucket(Refund.created_at, interval).label("period"),
        Refund.currency.label("currency"),
        literal(0),
        literal(0),
        literal(0),
        literal(0),
        literal(1),
        amount,
        case((Refund.destination == "wallet", amount), else_=0),
        case((Refund.destination == "original", amount), else_=0),
        case((Refund.status == "pending", amount), else_=0),
    )
    refunded = window.on_timestamp(refunded, Refund.created_at)
    moves = union_all(cancelled, refunded).subquery("moves")
    sums = (
        "cancellations",
        "seats",
        "cancelled_value",
        "penalties",
        "refunds",
        "refunded",
        "to_wallet",
        "to_original",
        "pending",
    )
    stmt = (
        select(
            moves.c.period,
            moves.c.currency,
            *[func.sum(moves.c[name]).label(name) for name in sums],
        )
        .group_by(moves.c.period, moves.c.currency)
        .order_by(moves.c.period, moves.c.currency)
    )
    names = {
        "cancelled_value": "cancelled_value",
        "penalties": "penalties_kept",
        "refunded": "refunded_amount",
        "to_wallet": "refunded_to_wallet",
        "to_original": "refunded_to_original",
        "pending": "refunds_pending",
    }

    def shape(row) -> dict:
        out = {
            "period": row.period,
            "currency": row.currency,
            "cancellations": int(row.cancellations),
            "seats_released": int(row.seats),
            "refunds": int(row.refunds),
        }
        for source, target in names.items():
            out[target] = from_cents(getattr(row, source))
        return out

    return Report(
        name="cancellations",
        columns=(
            ("period", STRING),
            ("currency", STRING),
            ("cancellations", INTEGER),
            ("seats_released", INTEGER),
            ("cancelled_value", MONEY),
            ("penalties_kept", MONEY),
            ("refunds", INTEGER),
            ("refunded_amount", MONEY),
            ("refunded_to_wallet", MONEY),
            ("refunded_to_original", MONEY),
            ("refunds_pending", MONEY),
        ),
        statement=stmt,
        shape=shape,
        filters={**window.as_dict(), "interval": interval},
    )
