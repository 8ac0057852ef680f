"""Pagination shared by every list: page numbers, keyset cursors, bounded counts
and sorting (docs/design.md "API conventions")."""

import base64
import binascii
import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import (
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ClauseElement, UnaryExpression
from sqlalchemy.sql.expression import Executable

from core.errors import ValidationFailed
from core.extensions import db
from core.i18n import _

# docs/design.md "API conventions": `total` is exact up to this many matching rows
# (a COUNT over at most EXACT_TOTAL + 1 of them), the database's estimate above; and
# `?page=` reaches only the first EXACT_TOTAL rows (OFFSET below it), `?cursor=` all.
EXACT_TOTAL = 10_000
MAX_OFFSET = 10_000


@dataclass
class Page:
    """One page of a list: `items` plus the `meta` the envelope shows.

    `page` is None for a page reached by cursor; `next_cursor` is the opaque cursor
    of the next page (None on the last one); `total_is_estimate` tells that `total`
    is the planner's estimate, not a count (docs/design.md "API conventions")."""

    items: list
    page: int | None
    per_page: int
    total: int
    has_more: bool = False
    next_cursor: str | None = None
    total_is_estimate: bool = False

    @property
    def meta(self) -> dict:
        """`{"page", "per_page", "total", "pages", "has_more", "next_cursor",
        "total_is_estimate"}` for the response envelope."""
        return {
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
            "pages": math.ceil(self.total / self.per_page) if self.total else 0,
            "has_more": self.has_more,
            "next_cursor": self.next_cursor,
            "total_is_estimate": self.total_is_estimate,
        }


def paginate(
    stmt, *, page: int = 1, per_page: int = 20, cursor: str | None = None
) -> Page:
    """Run `stmt` (a SELECT of one entity, ordered by non-null columns ending with a
    unique one, as order_by_sort makes it) for one page of `per_page` rows.

    Without `cursor`: page `page` by OFFSET, allowed while `(page - 1) * per_page`
    is below MAX_OFFSET. With `cursor` (a `next_cursor` of an earlier page of the
    same list, sort and filters): the rows after the cursor's row by a keyset
    condition on the ORDER BY columns, so no page costs more than its rows
    (docs/design.md "API conventions"). One row more than `per_page` is read to
    know `has_more`. `total` is exact up to EXACT_TOTAL rows, an estimate above on
    PostgreSQL (see `count_bounded`).

    Raises ValidationFailed (422) on `query.page` beyond the OFFSET bound, on
    `query.cursor` for a cursor sent with page > 1, a malformed or altered cursor,
    or one made for another sort or other filters.
    """
    keys = _order_keys(stmt)
    query = stmt.add_columns(*(column for column, _descending in keys))
    shape = None
    if cursor is not None:
        if page != 1:
            message = _("Send either `cursor` or `page`, not both.")
            raise ValidationFailed({"query.cursor": [message]}, detail=message)
        shape = _shape(stmt, keys)
        values = decode_cursor(cursor, shape, keys)
        query = query.where(_after(keys, values))
        page = None
    else:
        if (page - 1) * per_page >= MAX_OFFSET:
            message = _(
                "`page` reaches only the first %(rows)s rows; follow "
                "`meta.next_cursor` with `?cursor=` to go further.",
                rows=f"{MAX_OFFSET:,}",
            )
            raise ValidationFailed({"query.page": [message]}, detail=message)
        query = query.offset((page - 1) * per_page)
    rows = db.session.execute(query.limit(per_page + 1)).all()
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    total, estimated = count_bounded(stmt)
    return Page(
        items=[row[0] for row in rows],
        page=page,
        per_page=per_page,
        total=total,
        has_more=has_more,
        next_cursor=(
            encode_cursor(shape or _shape(stmt, keys), list(rows[-1][1:]))
            if has_more
            else None
        ),
        total_is_estimate=estimated,
    )


def count_bounded(stmt) -> tuple[int, bool]:
    """`(total, is_estimate)` for the rows `stmt` matches, never counting more than
    EXACT_TOTAL + 1 of them (docs/design.md "API conventions").

    Up to EXACT_TOTAL the count is exact. Above, on PostgreSQL, the planner's
    estimate (pg_class.reltuples for an unfiltered table, the "Plan Rows" of
    EXPLAIN otherwise), never below EXACT_TOTAL + 1, with `is_estimate` True; other
    databases (SQLite, used for development and tests) count exactly. The count
    selects a constant without ORDER BY or eager-load joins (`_counted`), and is
    skipped when the estimate is far above the bound (`_large_estimate`).
    """
    base = _counted(stmt)
    large = _large_estimate(base)
    if large is not None:
        return large, True
    bounded = db.session.scalar(
        select(func.count()).select_from(base.limit(EXACT_TOTAL + 1).subquery())
    )
    if bounded <= EXACT_TOTAL:
        return bounded, False
    if db.session.get_bind().dialect.name != "postgresql":
        return db.session.scalar(
            select(func.count()).select_from(base.subquery())
        ), False
    return max(_estimate(base), EXACT_TOTAL + 1), True


def _large_estimate(base) -> int | None:
    """The planner's estimate of `base`'s rows when it is far above the bound, so
    the bounded count can be skipped; None otherwise (count then).

    PostgreSQL only, for a statement over one table whose pg_class.reltuples (read
    at most every RELTUPLES_TTL seconds per process) is above FAR_ABOVE: the
    whole table's reltuples without a filter, else the EXPLAIN estimate when that
    too is above FAR_ABOVE. The margin (ten times EXACT_TOTAL) keeps `total` exact
    up to EXACT_TOTAL rows however stale the statistics are within reason
    (autovacuum re-analyses a table long before nine tenths of it change), and a
    list over a million rows no longer reads 10,001 of them per request
    (docs/design.md "API conventions": no list counts over a million rows)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    froms = base.get_final_froms()
    name = getattr(froms[0], "name", None) if len(froms) == 1 else None
    if name is None or (_reltuples(name) or 0) <= FAR_ABOVE:
        return None
    if base.whereclause is None:
        return int(_reltuples(name))
    estimate = _estimate(base)
    return estimate if estimate > FAR_ABOVE else None


# pg_class.reltuples per (database, table), refreshed every RELTUPLES_TTL seconds.
FAR_ABOVE = 10 * EXACT_TOTAL
RELTUPLES_TTL = 60.0
_RELTUPLES: dict[tuple[str, str], tuple[float, float | None]] = {}


def _reltuples(name: str) -> float | None:
    """pg_class.reltuples of table `name` (None when unknown: never analysed),
    cached per process for RELTUPLES_TTL seconds."""
    key = (str(db.session.get_bind().url), name)
    now = time.monotonic()
    cached = _RELTUPLES.get(key)
    if cached is not None and now - cached[0] < RELTUPLES_TTL:
        return cached[1]
    value = db.session.scalar(
        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
        {"name": name},
    )
    value = value if value is not None and value >= 0 else None
    _RELTUPLES[key] = (now, value)
    return value


def _counted(stmt):
    """`stmt` for counting: no ORDER BY and, unless it is DISTINCT or grouped (where
    the columns decide the rows), a constant instead of the entity's columns, which
    also leaves out the joins of eager loads (joinedload) while keeping its FROM,
    explicit joins and WHERE, so the count reads no more than the filters need."""
    base = stmt.order_by(None)
    if base._distinct or base._group_by_clauses:
        return base
    return base.with_only_columns(literal_column("1"), maintain_column_froms=True)


class _Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON) <stmt>` (PostgreSQL), with `stmt`'s bound parameters."""

    inherit_cache = False

    def __init__(self, stmt):
        self.stmt = stmt


@compiles(_Explain, "postgresql")
def _compile_explain(element, compiler, **kw):
    """Render an _Explain for PostgreSQL."""
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.stmt, **kw)


def _estimate(base) -> int:
    """The PostgreSQL planner's row estimate for `base` (no ORDER BY)."""
    froms = base.get_final_froms()
    table = froms[0] if len(froms) == 1 else None
    if base.whereclause is None and getattr(table, "name", None) is not None:
        reltuples = db.session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
            {"name": table.name},
        )
        if reltuples is not None and reltuples >= 0:
            return int(reltuples)
    plan = db.session.execute(_Explain(base)).scalar()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _order_keys(stmt) -> list[tuple]:
    """`[(column, descending), ...]` of `stmt`'s ORDER BY: plain columns, each
    ascending or descending (no NULLS FIRST/LAST); TypeError otherwise."""
    keys = []
    for clause in stmt._order_by_clauses:
        descending = False
        if isinstance(clause, UnaryExpression):
            if clause.modifier not in (operators.desc_op, operators.asc_op):
                raise TypeError(f"keyset pagination cannot order by {clause}")
            descending = clause.modifier is operators.desc_op
            clause = clause.element
        if getattr(clause, "nullable", True) and not getattr(clause, "primary_key", 0):
            raise TypeError(f"keyset pagination needs non-null columns, not {clause}")
        keys.append((clause, descending))
    if not keys:
        raise TypeError("keyset pagination needs an ordered statement")
    return keys


def _after(keys: list[tuple], values: list):
    """The WHERE condition for the rows after `values` in the order of `keys`: one
    row-value comparison when every key goes the same way (an index range), else its
    OR expansion `a > x OR (a = x AND b > y) ...`."""
    binds = [
        bindparam(None, value, type_=column.type)
        for (column, _), value in zip(keys, values, strict=True)
    ]
    directions = {descending for _column, descending in keys}
    if len(directions) == 1:
        left = tuple_(*(column for column, _descending in keys))
        right = tuple_(*binds)
        return left < right if directions.pop() else left > right
    terms = []
    for i, (column, descending) in enumerate(keys):
        equal = [keys[j][0] == binds[j] for j in range(i)]
        step = column < binds[i] if descending else column > binds[i]
        terms.append(and_(*equal, step))
    return or_(*terms)


def _shape(stmt, keys: list[tuple]) -> dict:
    """What a cursor must match: a digest of the sort (`o`) and of the rest of the
    statement, i.e. the list and which filters it has, not their values (`f`)."""
    order = ",".join(
        f"{column}:{'d' if descending else 'a'}" for column, descending in keys
    )
    # The counted form (a constant over the same FROM, joins and WHERE) names the
    # list and its filters as well as the whole SELECT did, and compiles without
    # the entity's columns and eager-load joins (a third of a booking list's time).
    return {"o": _digest(order), "f": _digest(str(_counted(stmt)))}


def _digest(value: str) -> str:
    """A short, stable fingerprint of `value`."""
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def _signature(payload: bytes) -> str:
    """HMAC-SHA256 of a cursor's payload with the app's SECRET_KEY (RFC 2104), so
    a cursor cannot be edited into arbitrary key values."""
    key = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(key, b"cursor:" + payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _plain(value):
    """A key value as JSON: `[tag, text]` for dates, datetimes and decimals."""
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    return value


def _typed(value):
    """The inverse of _plain."""
    if isinstance(value, list):
        tag, body = value
        return {"t": datetime.fromisoformat, "d": date.fromisoformat, "n": Decimal}[
            tag
        ](body)
    return value


def encode_cursor(shape: dict, values: list) -> str:
    """The opaque `next_cursor` for the row with ORDER BY `values` in the list of
    `shape`: base64url JSON (RFC 4648 section 5) and its signature, dot-joined."""
    payload = json.dumps(
        {**shape, "k": [_plain(value) for value in values]}, separators=(",", ":")
    ).encode()
    body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    return f"{body}.{_signature(payload)}"


def decode_cursor(cursor: str, shape: dict, keys: list[tuple]) -> list:
    """The key values of `cursor`, checked against the list's `shape` and `keys`.

    Raises ValidationFailed (422) on `query.cursor` when it is not one of our
    cursors (malformed, altered) or was made for another sort or other filters.
    """

    def refuse(message: str):
        return ValidationFailed({"query.cursor": [message]}, detail=message)

    try:
        body, signature = cursor.split(".")
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, binascii.Error):
        raise refuse("Not a cursor of this API: use `meta.next_cursor`.") from None
    if not hmac.compare_digest(signature.encode(), _signature(payload).encode()):
        raise refuse("Not a cursor of this API: use `meta.next_cursor`.")
    data = json.loads(payload)
    if data.get("o") != shape["o"]:
        raise refuse(
            "This cursor was made for another `sort`: "
            "start again without `cursor` for this sort."
        )
    if data.get("f") != shape["f"]:
        raise refuse(
            "This cursor was made for other filters: "
            "start again without `cursor` for these filters."
        )
    try:
        values = [_typed(value) for value in data["k"]]
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise refuse("Not a cursor of this API: use `meta.next_cursor`.") from None
    if len(values) != len(keys):
        raise refuse("Not a cursor of this API: use `meta.next_cursor`.")
    return values


def order_by_sort(stmt, model, sort: str | None, allowed: tuple[str, ...]):
    """Order `stmt` newest first (`created_at` desc, id desc) or by `sort`.

    `sort` is a field name, `-` prefixed for descending (e.g. `-start_date`), one of
    `allowed`; raises ValidationFailed otherwise. The id breaks ties.
    """
    if not sort:
        return stmt.order_by(model.created_at.desc(), model.id.desc())
    field = sort.lstrip("-")
    if field not in allowed:
        raise ValidationFailed(
            {
                "query.sort": [
                    _(
                        "Sort by one of: %(fields)s (prefix - to reverse).",
                        fields=", ".join(allowed),
                    )
                ]
            }
        )
    column = getattr(model, field)
    if sort.startswith("-"):
        return stmt.order_by(column.desc(), model.id.desc())
    return stmt.order_by(column.asc(), model.id.asc())
