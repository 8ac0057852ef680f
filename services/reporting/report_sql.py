"""SQL building blocks for the reports (docs/design.md "Resource map": /reports)
that read the same on SQLite and PostgreSQL: calendar buckets of UTC timestamps,
exact money sums in cents and an ordered id list aggregate. No report lives here;
every report module imports it.

SQLite stores our timestamps as naive UTC text (models.base.UTCDateTime) and has no
date_trunc; PostgreSQL keeps `timestamptz`, whose to_char would follow the session
time zone. Each construct below is compiled per dialect so both give the same
strings for the same data (tests/reporting/test_reports.py runs on both databases).
"""

from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, String, Text, cast, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

INTERVALS = ("day", "week", "month")


class _Bucket(FunctionElement):
    """The calendar bucket of a UTC timestamp or a date, as text."""

    type = String()
    inherit_cache = True


class DayOf(_Bucket):
    """`YYYY-MM-DD` of the UTC day."""

    name = "day_of"
    inherit_cache = True


class WeekOf(_Bucket):
    """`YYYY-MM-DD` of the Monday that starts the ISO week (UTC)."""

    name = "week_of"
    inherit_cache = True


class MonthOf(_Bucket):
    """`YYYY-MM` of the UTC month."""

    name = "month_of"
    inherit_cache = True


def bucket(expr, interval: str):
    """The `interval` bucket (day, week or month) of `expr` (a UTC timestamp column
    or a date column) as text: `YYYY-MM-DD` for day and week (the week's Monday),
    `YYYY-MM` for month. Raises ValueError for another interval."""
    constructs = {"day": DayOf, "week": WeekOf, "month": MonthOf}
    if interval not in constructs:
        raise ValueError(f"interval must be one of {INTERVALS}")
    return constructs[interval](expr)


def _pg_timestamp(compiler, element, **kw) -> str:
    """The argument as a UTC wall-clock `timestamp` on PostgreSQL (dates cast)."""
    (arg,) = element.clauses
    sql = compiler.process(arg, **kw)
    impl = getattr(arg.type, "impl", arg.type)
    if isinstance(impl, DateTime):
        return f"timezone('UTC', {sql})"
    return f"CAST({sql} AS timestamp)"


@compiles(DayOf, "postgresql")
def _day_pg(element, compiler, **kw):
    return f"to_char({_pg_timestamp(compiler, element, **kw)}, 'YYYY-MM-DD')"


@compiles(WeekOf, "postgresql")
def _week_pg(element, compiler, **kw):
    ts = _pg_timestamp(compiler, element, **kw)
    return f"to_char(date_trunc('week', {ts}), 'YYYY-MM-DD')"


@compiles(MonthOf, "postgresql")
def _month_pg(element, compiler, **kw):
    return f"to_char({_pg_timestamp(compiler, element, **kw)}, 'YYYY-MM')"


@compiles(DayOf)
def _day_sqlite(element, compiler, **kw):
    (arg,) = element.clauses
    return f"strftime('%Y-%m-%d', {compiler.process(arg, **kw)})"


@compiles(WeekOf)
def _week_sqlite(element, compiler, **kw):
    # Six days back, then forward to the next Monday: the Monday on or before.
    (arg,) = element.clauses
    return f"date({compiler.process(arg, **kw)}, '-6 days', 'weekday 1')"


@compiles(MonthOf)
def _month_sqlite(element, compiler, **kw):
    (arg,) = element.clauses
    return f"strftime('%Y-%m', {compiler.process(arg, **kw)})"


class IdList(FunctionElement):
    """Space-separated ids of the group, ascending on PostgreSQL (string_agg ...
    ORDER BY); SQLite 3.40 has no ordered group_concat, so callers sort the parsed
    list (see `parse_ids`)."""

    type = Text()
    name = "id_list"
    inherit_cache = True


@compiles(IdList, "postgresql")
def _id_list_pg(element, compiler, **kw):
    (arg,) = element.clauses
    sql = compiler.process(arg, **kw)
    return f"string_agg(CAST({sql} AS text), ' ' ORDER BY {sql})"


@compiles(IdList)
def _id_list_sqlite(element, compiler, **kw):
    (arg,) = element.clauses
    return f"group_concat({compiler.process(arg, **kw)}, ' ')"


def parse_ids(value: str | None) -> list[int]:
    """The ids of an `IdList` aggregate, ascending."""
    return sorted(int(part) for part in value.split()) if value else []


def cents(expr):
    """`expr` (a money column, major units) as whole cents, a BIGINT: sums of cents
    are exact on SQLite too, which keeps NUMERIC as binary floats."""
    return cast(func.round(expr * 100), BigInteger)


def sum_cents(expr):
    """SUM of `expr` in cents, 0 for an empty group."""
    return func.coalesce(func.sum(cents(expr)), 0)


def from_cents(value) -> Decimal:
    """Decimal major units (2 places) from a cents value the database returned."""
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))
