"""Helpers shared by services: pagination, lookups, sorting."""

import math
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from errors import NotFound, ValidationFailed
from extensions import db
from models.account import is_staff

# The largest amount a Numeric(12, 2) money column holds (schemas.common Money.MAX):
# PostgreSQL refuses more (numeric field overflow), SQLite would store it silently.
MAX_AMOUNT = Decimal("9999999999.99")


@dataclass
class Page:
    """One page of a list: `items` plus the `meta` the envelope shows."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def meta(self) -> dict:
        """`{"page", "per_page", "total", "pages"}` for the response envelope."""
        return {
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
            "pages": math.ceil(self.total / self.per_page) if self.total else 0,
        }


def paginate(stmt, *, page: int = 1, per_page: int = 20) -> Page:
    """Run `stmt` (an ordered SELECT of one entity) for one page; count the total
    with a COUNT over the same filters."""
    total = db.session.scalar(
        select(func.count()).select_from(stmt.order_by(None).subquery())
    )
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=list(items), page=page, per_page=per_page, total=total or 0)


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
                    f"Sort by one of: {', '.join(allowed)} (prefix - to reverse)."
                ]
            }
        )
    column = getattr(model, field)
    if sort.startswith("-"):
        return stmt.order_by(column.desc(), model.id.desc())
    return stmt.order_by(column.asc(), model.id.asc())


def get_or_404(model, ident: int, what: str | None = None):
    """`db.session.get` or NotFound naming `what` (defaults to the model name)."""
    obj = db.session.get(model, ident)
    if obj is None:
        raise NotFound(what or model.__name__)
    return obj


def like_pattern(q: str) -> str:
    """A case-insensitive LIKE pattern for `q` with %, _ and \\ escaped."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def commit_or_conflict(detail: str, *, code: str = "conflict") -> None:
    """Commit; a UNIQUE violation raised by a concurrent writer becomes Conflict (409)
    with `detail`, after a rollback."""
    from sqlalchemy.exc import IntegrityError

    from errors import Conflict

    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(detail, code=code) from exc


def text_matches(q: str, *columns):
    """WHERE clause for `q=`: any of `columns` contains `q`, case-insensitively, with
    LIKE wildcards in `q` matched literally (the same on SQLite and PostgreSQL)."""
    from sqlalchemy import or_

    pattern = like_pattern(q)
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))


def check_owner(account, record, what: str):
    """`record` when `account` may see it: staff any, a customer only their own
    (`record.customer_id`); otherwise NotFound (404, never 403, so ids reveal
    nothing: docs/design.md "Accounts and roles"). Returns `record`."""
    if not is_staff(account) and record.customer_id != account.id:
        raise NotFound(what)
    return record
