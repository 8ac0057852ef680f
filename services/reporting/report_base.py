"""What every report shares (docs/design.md "Resource map": /reports; roles matrix
row "reports"): the date range (`Window`), the runnable report (`Report`), the
column types and a few row helpers. The report modules import this one and
services.reporting.report_sql, never each other:

- revenue.py: revenue by month, customer, destination or package;
- invoices.py: the invoice summary and unpaid invoices;
- catalogue.py: popular packages and destinations;
- customers.py: active customers and the wallet liability;
- bookings.py: booking trends and cancellations;
- pipeline.py: the sales pipeline (enquiry funnel, response times, lost reasons,
  revenue won).

Every report is one SQL statement that aggregates in the database (GROUP BY; no
Python loop over a table) plus a small function that shapes each result row. The
route streams the rows as JSON or CSV (routes/reports.py); `bench/reports.py` runs
the same statements raw to price the API's overhead.

Rules shared by the reports:

- Money is grouped by currency (amounts in different currencies are never added)
  and summed in whole cents (services.reporting.report_sql.cents) so SQLite, which
  keeps NUMERIC as binary floats, gives exactly PostgreSQL's figures. Amounts come
  back as Decimal in the currency's major unit.
- A date range (`date_from`, `date_to`, both inclusive, UTC days) filters every
  report on the date the report is about (named in each builder's docstring); a
  range with no data gives no rows, not an error.
- Sold bookings are `confirmed` and `completed` ones (SOLD). A `held` booking
  whose hold has lapsed counts as `expired` even before a sweep stores it
  (docs/design.md "Rules with numbers").
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, false, func
from sqlalchemy.sql import Select

from core.extensions import db
from services.reporting.report_sql import from_cents

SOLD = ("confirmed", "completed")
STREAM_BATCH = 1000

# Column types, for the CSV/JSON writer and the OpenAPI row schemas.
STRING, INTEGER, MONEY, DATE, PERCENT, IDS, HOURS = (
    "string",
    "integer",
    "money",
    "date",
    "percent",
    "ids",
    "hours",
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


# The range with both ends open (every report's default): all the data.
OPEN_WINDOW = Window()


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
        """Run the statement and yield shaped rows (keys in column order), fetched
        in batches (a server-side cursor on PostgreSQL).

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


def limited(stmt: Select, limit: int | None) -> Select:
    """`stmt` with LIMIT when `limit` is given."""
    return stmt.limit(limit) if limit else stmt


def money(row, *names: str) -> dict:
    """Decimal amounts from the cents columns `names` of `row`."""
    return {name: from_cents(getattr(row, name)) for name in names}


def count_if(condition):
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END), 0 for no rows."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
