"""Lookups every service uses: a row or 404, ownership, search patterns and a
commit that turns a constraint violation into 409."""

from sqlalchemy import (
    func,
    or_,
)

from core.errors import NotFound
from core.extensions import db
from models.account import is_staff


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

    from core.errors import Conflict

    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(detail, code=code) from exc


def text_matches(q: str, *columns):
    """WHERE clause for `q=`: any of `columns` contains `q`, case-insensitively, with
    LIKE wildcards in `q` matched literally (the same on SQLite and PostgreSQL)."""

    pattern = like_pattern(q)
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))


def check_owner(account, record, what: str):
    """`record` when `account` may see it: staff any, a customer only their own
    (`record.customer_id`); otherwise NotFound (404, never 403, so ids reveal
    nothing: docs/design.md "Accounts and roles"). Returns `record`."""
    if not is_staff(account) and record.customer_id != account.id:
        raise NotFound(what)
    return record
