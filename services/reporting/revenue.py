"""Revenue reports (docs/design.md "Resource map": /reports, the revenue family;
"Lifecycles": booking): revenue per month, customer, destination or package and
currency, on the cash or the booking basis.

Cash basis: payments received (by payment date) minus completed refunds (by the
date the money went back: `completed_at`; a wallet refund completes at once, a
refund to the original method when finance marks it done). Booking basis: the
value of sold bookings by departure month (docs/design.md "Lifecycles": booking).
"""

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.sql import Select

from models import Booking, Customer, Departure, Package, Payment, Refund
from services.reporting.report_base import (
    INTEGER,
    MONEY,
    OPEN_WINDOW,
    SOLD,
    STRING,
    Report,
    Window,
    limited,
    money,
)
from services.reporting.report_sql import bucket, cents, sum_cents

BASES = ("cash", "booking")
REVENUE_DIMENSIONS = ("month", "customer", "destination", "package")


def _bookings_scope(stmt: Select, *, need_package: bool) -> Select:
    """Join `stmt` (already joined to bookings) to the booking's
    departure and package when a filter or dimension needs the package."""
    if need_package:
        stmt = stmt.join(Departure, Departure.id == Booking.departure_id).join(
            Package, Package.id == Departure.package_id
        )
    return stmt


def _package_filters(
    stmt: Select, destination: str | None, package_id: int | None
) -> Select:
    """Filter on the package's destination (case-insensitive, exact) and id."""
    if destination:
        stmt = stmt.where(func.lower(Package.destination) == destination.lower())
    if package_id is not None:
        stmt = stmt.where(Package.id == package_id)
    return stmt


def _dimension_keys(dimension: str, moment, customer=None) -> list:
    """The grouping key columns of a revenue dimension; `moment` is the timestamp
    or date column the month is taken from, `customer` the customer id column
    (default the booking's)."""
    if dimension == "month":
        return [bucket(moment, "month").label("month")]
    if dimension == "customer":
        return [
            (Booking.customer_id if customer is None else customer).label("customer_id")
        ]
    if dimension == "destination":
        return [Package.destination.label("destination")]
    return [Package.id.label("package_id")]


def revenue(
    dimension: str,
    *,
    basis: str = "cash",
    window: Window = OPEN_WINDOW,
    year: int | None = None,
    destination: str | None = None,
    package_id: int | None = None,
    limit: int | None = None,
) -> Report:
    """Revenue grouped by `dimension` (month, customer, destination, package) and
    currency, on the `basis` asked.

    Cash basis: `payments` received and completed `refunds` in the range (payment
    date, refund completion date), `net` = payments - refunds; months are those of
    the money movement. Booking basis: sold bookings (confirmed, completed) whose
    departure starts in the range, their count, travellers (seats) and `value`;
    months are departure months. `year` narrows the range to that calendar year;
    `destination` (exact, case-insensitive) and `package_id` filter the package.
    Months come oldest first; other dimensions by amount, largest first.
    Raises ValueError for an unknown dimension or basis (the schema prevents it).
    """
    if dimension not in REVENUE_DIMENSIONS or basis not in BASES:
        raise ValueError("unknown revenue dimension or basis")
    window = window.within_year(year)
    need_package = (
        dimension in ("destination", "package")
        or bool(destination)
        or (package_id is not None)
    )
    if basis == "cash":
        stmt, amounts = _cash_revenue(
            dimension, window, need_package, destination, package_id
        )
    else:
        stmt, amounts = _booking_revenue(
            dimension, window, need_package, destination, package_id
        )
    key_columns, key_shape = _dimension_output(dimension)
    columns = (*key_columns, ("currency", STRING), *amounts)
    money_names = [name for name, kind in amounts if kind == MONEY]
    count_names = [name for name, kind in amounts if kind == INTEGER]

    def shape(row) -> dict:
        out = key_shape(row)
        out["currency"] = row.currency
        out.update({name: int(getattr(row, name)) for name in count_names})
        out.update(money(row, *money_names))
        return out

    filters = {
        **window.as_dict(),
        "year": year,
        "destination": destination,
        "package_id": package_id,
    }
    return Report(
        name=f"revenue.{'monthly' if dimension == 'month' else 'by-' + dimension}",
        basis=basis,
        columns=columns,
        statement=limited(stmt, limit),
        shape=shape,
        filters=filters,
    )


def _dimension_output(dimension: str):
    """(key columns with types, function giving the key part of an output row)."""
    if dimension == "month":
        return (("month", STRING),), lambda row: {"month": row.month}
    if dimension == "customer":
        return (
            (
                ("customer_id", INTEGER),
                ("customer_name", STRING),
                ("customer_email", STRING),
            ),
            lambda row: {
                "customer_id": row.customer_id,
                "customer_name": row.customer_name,
                "customer_email": row.customer_email,
            },
        )
    if dimension == "destination":
        return (("destination", STRING),), lambda row: {"destination": row.destination}
    return (
        (("package_id", INTEGER), ("package_title", STRING), ("destination", STRING)),
        lambda row: {
            "package_id": row.package_id,
            "package_title": row.package_title,
            "destination": row.destination,
        },
    )


def _with_names(dimension: str, stmt: Select, key) -> tuple[Select, list]:
    """Join customer or package names onto a grouped statement keyed by `key`;
    returns the statement and the extra columns to select and group by."""
    if dimension == "customer":
        stmt = stmt.join(Customer, Customer.id == key)
        return stmt, [
            Customer.name.label("customer_name"),
            Customer.email.label("customer_email"),
        ]
    if dimension == "package":
        stmt = stmt.join(Package, Package.id == key)
        return stmt, [
            Package.title.label("package_title"),
            Package.destination.label("destination"),
        ]
    return stmt, []


def _cash_revenue(dimension, window, need_package, destination, package_id):
    """The cash-basis statement: UNION ALL of payments (+) and completed refunds
    (-) keyed by the dimension, grouped once."""
    received = select(
        *_dimension_keys(dimension, Payment.created_at, Payment.customer_id),
        Payment.currency.label("currency"),
        literal(1).label("payment_count"),
        cents(Payment.amount).label("received"),
        literal(0).label("refund_count"),
        literal(0).label("refunded"),
    ).select_from(Payment)
    if need_package:  # payments carry the customer; only the package needs joins
        received = received.join(Booking, Booking.id == Payment.booking_id)
    received = _package_filters(
        _bookings_scope(received, need_package=need_package), destination, package_id
    )
    received = window.on_timestamp(received, Payment.created_at)
    returned = (
        select(
            *_dimension_keys(dimension, Refund.completed_at, Refund.customer_id),
            Refund.currency.label("currency"),
            literal(0).label("payment_count"),
            literal(0).label("received"),
            literal(1).label("refund_count"),
            cents(Refund.amount).label("refunded"),
        )
        .select_from(Refund)
        .where(Refund.status == "completed")
    )
    if need_package:
        returned = returned.join(Booking, Booking.id == Refund.booking_id)
    returned = _package_filters(
        _bookings_scope(returned, need_package=need_package), destination, package_id
    )
    returned = window.on_timestamp(returned, Refund.completed_at)
    moves = union_all(received, returned).subquery("moves")
    key_name = _dimension_keys(dimension, Payment.created_at)[0].name
    key = moves.c[key_name]
    net = func.sum(moves.c.received) - func.sum(moves.c.refunded)
    stmt = select(key, moves.c.currency).select_from(moves)
    stmt, names = _with_names(dimension, stmt, key)
    stmt = stmt.add_columns(
        *names,
        func.sum(moves.c.payment_count).label("payments"),
        func.sum(moves.c.received).label("received"),
        func.sum(moves.c.refund_count).label("refunds"),
        func.sum(moves.c.refunded).label("refunded"),
        net.label("net"),
    ).group_by(key, moves.c.currency, *[c.element for c in names])
    if dimension == "month":
        stmt = stmt.order_by(key, moves.c.currency)
    else:
        stmt = stmt.order_by(net.desc(), moves.c.currency, key)
    amounts = (
        ("payments", INTEGER),
        ("received", MONEY),
        ("refunds", INTEGER),
        ("refunded", MONEY),
        ("net", MONEY),
    )
    return stmt, amounts


def _booking_revenue(dimension, window, need_package, destination, package_id):
    """The booking-basis statement: sold bookings by departure month, grouped."""
    keys = _dimension_keys(dimension, Departure.start_date)
    value = sum_cents(Booking.total_amount)
    stmt = (
        select(*keys, Booking.currency.label("currency"))
        .select_from(Booking)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(Booking.status.in_(SOLD))
    )
    if need_package:
        stmt = stmt.join(Package, Package.id == Departure.package_id)
    stmt = _package_filters(stmt, destination, package_id)
    stmt = window.on_date(stmt, Departure.start_date)
    key = keys[0].element
    names = []
    if dimension == "customer":
        stmt = stmt.join(Customer, Customer.id == Booking.customer_id)
        names = [
            Customer.name.label("customer_name"),
            Customer.email.label("customer_email"),
        ]
    elif dimension == "package":
        names = [
            Package.title.label("package_title"),
            Package.destination.label("destination"),
        ]
    stmt = stmt.add_columns(
        *names,
        func.count(Booking.id).label("bookings"),
        func.sum(Booking.seats).label("travellers"),
        value.label("value"),
    ).group_by(key, Booking.currency, *[c.element for c in names])
    if dimension == "month":
        stmt = stmt.order_by(key, Booking.currency)
    else:
        stmt = stmt.order_by(value.desc(), Booking.currency, key)
    amounts = (("bookings", INTEGER), ("travellers", INTEGER), ("value", MONEY))
    return stmt, amounts
