"""Reports and analytics for finance, admin and operation heads (docs/design.md
"Resource map": /reports; roles matrix row "reports").

Every report is one SQL statement that aggregates in the database (GROUP BY; no
Python loop over a table) plus a small function that shapes each result row. The
route streams the rows as JSON or CSV (routes/reports.py); `bench/reports.py` runs
the same statements raw to price the API's overhead.

Rules shared by the reports:

- Money is grouped by currency (amounts in different currencies are never added)
  and summed in whole cents (services.reporting.report_sql.cents) so SQLite, which keeps
  NUMERIC as binary floats, gives exactly PostgreSQL's figures. Amounts come back
  as Decimal in the currency's major unit.
- A date range (`date_from`, `date_to`, both inclusive, UTC days) filters every
  report on the date the report is about (named in each builder's docstring); a
  range with no data gives no rows, not an error.
- Sold bookings are `confirmed` and `completed` ones (SOLD). A `held` booking
  whose hold has lapsed counts as `expired` even before a sweep stores it
  (docs/design.md "Rules with numbers").
- Cash basis: payments received (by payment date) minus completed refunds (by the
  date the money went back: `completed_at`; a wallet refund completes at once, a
  refund to the original method when finance marks it done). Booking basis: the
  value of sold bookings by departure month (docs/design.md "Lifecycles": booking).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Numeric, and_, case, false, func, literal, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Select
from sqlalchemy.sql.functions import FunctionElement

from core.extensions import db
from models import (
    Booking,
    CreditNote,
    Customer,
    Departure,
    Employee,
    Enquiry,
    EnquiryLostReason,
    Invoice,
    Package,
    Payment,
    Refund,
    WalletEntry,
)
from models.base import utcnow
from services.payments.billing import credited_sql, status_sql
from services.reporting.report_sql import (
    bucket,
    cents,
    from_cents,
    id_list,
    parse_ids,
    sum_cents,
)

SOLD = ("confirmed", "completed")
BASES = ("cash", "booking")
REVENUE_DIMENSIONS = ("month", "customer", "destination", "package")
ACTIVE_DEFAULT_DAYS = 90
STREAM_BATCH = 1000

# Column types, for the CSV/JSON writer and the OpenAPI row schemas.
STRING, INTEGER, MONEY, DATE, PERCENT, IDS = (
    "string",
    "integer",
    "money",
    "date",
    "percent",
    "ids",
)


@dataclass(frozen=True)
class Window:
    """An inclusive range of UTC days; either end may be open. `empty` marks a
    range that cannot hold data (e.g. `year` outside `date_from..date_to`)."""

    date_from: date | None = None
    date_to: date | None = None

    @property
    def empty(self) -> bool:
        """True when date_from is after date_to."""
        return bool(self.date_from and self.date_to and self.date_from > self.date_to)

    @property
    def start(self) -> datetime | None:
        """00:00 UTC of date_from (inclusive bound for timestamps)."""
        if self.date_from is None:
            return None
        return datetime.combine(self.date_from, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime | None:
        """00:00 UTC of the day after date_to (exclusive bound for timestamps)."""
        if self.date_to is None:
            return None
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC)

    def within_year(self, year: int | None) -> "Window":
        """This range narrowed to the calendar `year` (None: unchanged)."""
        if year is None:
            return self
        first, last = date(year, 1, 1), date(year, 12, 31)
        return Window(
            max(self.date_from, first) if self.date_from else first,
            min(self.date_to, last) if self.date_to else last,
        )

    def on_timestamp(self, stmt: Select, column) -> Select:
        """`stmt` filtered to rows whose UTC timestamp `column` falls in the range."""
        if self.empty:
            return stmt.where(false())
        if self.start is not None:
            stmt = stmt.where(column >= self.start)
        if self.end is not None:
            stmt = stmt.where(column < self.end)
        return stmt

    def on_date(self, stmt: Select, column) -> Select:
        """`stmt` filtered to rows whose date `column` falls in the range."""
        if self.empty:
            return stmt.where(false())
        if self.date_from is not None:
            stmt = stmt.where(column >= self.date_from)
        if self.date_to is not None:
            stmt = stmt.where(column <= self.date_to)
        return stmt

    def as_dict(self) -> dict:
        """The range as ISO strings (None for an open end), echoed in responses."""
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }


@dataclass
class Report:
    """A report ready to run: its name, basis (or None), typed columns, the SQL
    statement and the function that turns one result row into a dict of column
    values (Decimal money, int counts, str, date, list of ids)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    statement: Select
    shape: Callable[[object], dict]
    filters: dict = field(default_factory=dict)
    basis: str | None = None

    @property
    def column_names(self) -> list[str]:
        """The column names in order (the CSV header row)."""
        return [name for name, _type in self.columns]

    def rows(self) -> Iterator[dict]:
        """Run the statement and yield shaped rows (keys in column order), fetched in batches (a
        server-side cursor on PostgreSQL).

        The rows are read on a connection of their own, held by this generator
        until it finishes or is closed: a streamed response outlives the request's
        session, which Flask-SQLAlchemy removes when the view returns.
        """
        with db.engine.connect() as connection:
            result = connection.execution_options(yield_per=STREAM_BATCH).execute(
                self.statement
            )
            names = self.column_names
            for row in result:
                shaped = self.shape(row)
                yield {name: shaped[name] for name in names}


def _limited(stmt: Select, limit: int | None) -> Select:
    """`stmt` with LIMIT when `limit` is given."""
    return stmt.limit(limit) if limit else stmt


def _money(row, *names: str) -> dict:
    """Decimal amounts from the cents columns `names` of `row`."""
    return {name: from_cents(getattr(row, name)) for name in names}


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
    window: Window = Window(),
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
        out.update(_money(row, *money_names))
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
        statement=_limited(stmt, limit),
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


def _invoice_rows(today: date):
    """Per-invoice derived figures as a subquery: status (services.payments.billing rule,
    with the credit notes joined once), credited, kept (paid - refunded) and
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


def invoice_summary(*, window: Window = Window(), include_ids: bool = True) -> Report:
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
        columns.append(id_list(per_invoice.c.invoice_id).label("invoice_ids"))
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
        out.update(_money(row, "total", "credited", "paid", "outstanding"))
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
    *, window: Window = Window(), overdue_only: bool = False, limit: int | None = None
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
        statement=_limited(stmt, limit),
        shape=shape,
        filters={**window.as_dict(), "overdue_only": overdue_only},
    )


def popular(by: str, *, window: Window = Window(), limit: int | None = None) -> Report:
    """Packages (`by="package"`) or destinations (`by="destination"`) ranked by
    sold bookings made in the range (booking date): bookings, travellers (seats)
    and booking value per currency, most bookings first."""
    value = sum_cents(Booking.total_amount)
    bookings = func.count(Booking.id)
    travellers = func.sum(Booking.seats)
    stmt = (
        select()
        .select_from(Booking)
        .join(Departure, Departure.id == Booking.departure_id)
        .join(Package, Package.id == Departure.package_id)
        .where(Booking.status.in_(SOLD))
    )
    stmt = window.on_timestamp(stmt, Booking.created_at)
    if by == "package":
        keys = [
            Package.id.label("package_id"),
            Package.title.label("package_title"),
            Package.destination.label("destination"),
        ]
        extra = []
        key_columns = (
            ("package_id", INTEGER),
            ("package_title", STRING),
            ("destination", STRING),
        )
    else:
        keys = [Package.destination.label("destination")]
        extra = [func.count(func.distinct(Package.id)).label("packages")]
        key_columns = (("destination", STRING), ("packages", INTEGER))
    stmt = (
        stmt.add_columns(
            *keys,
            *extra,
            Booking.currency.label("currency"),
            bookings.label("bookings"),
            travellers.label("travellers"),
            value.label("value"),
        )
        .group_by(*[k.element for k in keys], Booking.currency)
        .order_by(bookings.desc(), travellers.desc(), value.desc(), keys[0].element)
    )

    def shape(row) -> dict:
        out = {name: getattr(row, name) for name, _t in key_columns}
        out.update(
            currency=row.currency,
            bookings=int(row.bookings),
            travellers=int(row.travellers),
            value=from_cents(row.value),
        )
        return out

    return Report(
        name=f"{by}s.popular" if by == "package" else "destinations.popular",
        columns=(
            *key_columns,
            ("currency", STRING),
            ("bookings", INTEGER),
            ("travellers", INTEGER),
            ("value", MONEY),
        ),
        statement=_limited(stmt, limit),
        shape=shape,
        filters=window.as_dict(),
    )


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
        statement=_limited(stmt, limit),
        shape=shape,
        filters=window.as_dict(),
    )


def booking_trends(*, interval: str = "month", window: Window = Window()) -> Report:
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

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

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


def cancellations(*, interval: str = "month", window: Window = Window()) -> Report:
    """Cancellations and refunds per period and currency:
    bookings cancelled in the period (cancellation date), seats released, their
    value and the penalties kept (docs/design.md "Rules with numbers": cancellation tiers); refunds issued in
    the period (issue date), their amount split by destination (wallet, original)
    and what is still pending. Oldest period first."""
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


def wallet_liability(*, window: Window = Window()) -> Report:
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
            **_money(row, "opening", "credits", "debits", "closing"),
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


ENQUIRY_STAGES = ("new", "contacted", "quoted", "on_hold", "won", "lost")
FUNNEL_GROUPS = ("employee", "source")


def _count_if(condition):
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END), 0 for no rows."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _rate(part: int, whole: int) -> Decimal:
    """part / whole in percent, one decimal place (0 for an empty whole)."""
    rate = Decimal(part * 100) / whole if whole else Decimal(0)
    return Decimal(rate).quantize(Decimal("0.1"))


def enquiry_funnel(*, window: Window = Window(), by: str = "employee") -> Report:
    """Enquiries raised in the range per assigned employee (unassigned last) or per
    source: how many, how many sit in each stage now, and the conversion rate
    (won / enquiries, percent with one place). An enquiry is won only through a
    linked booking (docs/design.md "Lifecycles": enquiry)."""
    stage_counts = [
        _count_if(Enquiry.stage == stage).label(stage) for stage in ENQUIRY_STAGES
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


# ---- the sales pipeline (docs/design.md "Lifecycles": enquiry) ------------------------

HOURS = "hours"


class seconds_between(FunctionElement):
    """Seconds from `earlier` to `later` (two UTC timestamps), the same on both
    databases: PostgreSQL subtracts timestamptz values, SQLite (naive UTC text)
    subtracts Julian days."""

    type = Numeric()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_pg(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - "
        f"{compiler.process(earlier, **kw)}))"
    )


@compiles(seconds_between, "sqlite")
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
    seconds = seconds_between(later, Enquiry.created_at)
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


def enquiry_response_times(*, window: Window = Window()) -> Report:
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
        _count_if(late).label("response_overdue"),
        _count_if(Enquiry.stage == "won").label("won"),
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


def enquiry_lost_reasons(*, window: Window = Window()) -> Report:
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


def enquiry_revenue_won(*, window: Window = Window()) -> Report:
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
            **_money(row, "booked", "received"),
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
