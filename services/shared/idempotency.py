"""Idempotency-Key bookkeeping (docs/design.md "API conventions": a repeat with the same
key and body returns the first answer; with a different body, 422).

Keys are scoped to the calling account, kept 24 hours, and claimed with a unique
INSERT so that concurrent repeats of one key run the operation once: the first
claims the key, the others get 409 with Retry-After while it runs, then the replay.

States: `in_flight` (claimed), `committed` (the operation's own transaction
committed: set by `mark_on_commit` inside that transaction, so the two cannot
disagree), `done` (the answer is stored). When the database fails between the
operation's commit and storing its answer, the key stays `committed`: a retry gets
409 `idempotency-in-flight` for STALE_IN_FLIGHT (the request may still be
answering), then 409 `idempotency-outcome-unknown`, and it is never run a second time
(no double payment; found by the PostgreSQL restart drill). Only a key still `in_flight`
after STALE_IN_FLIGHT, whose operation provably never committed, may run again.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import IntegrityError

from core.errors import N_, APIError
from core.extensions import db
from models.base import utcnow
from models.idempotency import IdempotencyKey

KEY_TTL = timedelta(hours=24)
STALE_IN_FLIGHT = timedelta(minutes=5)
MAX_KEY_LENGTH = 255
NOT_STORED = {409, 429}


@dataclass
class Replay:
    """A stored answer to send back instead of running the operation again."""

    status: int
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 over method, path and the canonical JSON body (key order ignored)."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True)
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def claim(*, owner: str, key: str, method: str, path: str, body: bytes) -> Replay | int:
    """Claim `key` for `owner` before running the operation. Commits.

    Returns the new row's id when the caller should run the operation, or a Replay
    of the stored answer. Raises APIError 422 when the key was used with another
    body or endpoint, 409 (Retry-After: 1) while the first request is in flight,
    400 when the key is empty or longer than 255 characters.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise APIError(
            400,
            N_("Idempotency-Key must be 1-255 characters."),
            code="bad-idempotency-key",
        )
    digest = fingerprint(method, path, body)
    now = utcnow()
    db.session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.owner == owner,
            IdempotencyKey.key == key,
            IdempotencyKey.expires_at <= now,
        )
    )
    row = IdempotencyKey(
        owner=owner,
        key=key,
        method=method,
        path=path,
        fingerprint=digest,
        created_at=now,
        expires_at=now + KEY_TTL,
    )
    db.session.add(row)
    try:
        db.session.commit()
        return row.id
    except IntegrityError:
        db.session.rollback()
    existing = db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.owner == owner, IdempotencyKey.key == key
        )
    )
    if existing is None:  # expired and removed between our two statements
        return claim(owner=owner, key=key, method=method, path=path, body=body)
    if existing.fingerprint != digest:
        raise APIError(
            422,
            N_("This Idempotency-Key was already used with a different request."),
            code="idempotency-key-reused",
        )
    if existing.state == "committed" and existing.created_at <= now - STALE_IN_FLIGHT:
        raise APIError(
            409,
            N_(
                "A request with this Idempotency-Key was carried out, but its answer "
                "was lost in a failure; it will not be run again. Look the result up "
                "(e.g. the booking's payments) instead of retrying."
            ),
            code="idempotency-outcome-unknown",
        )
    if existing.state in ("in_flight", "committed"):  # committed: still answering
        if (
            existing.state == "in_flight"
            and existing.created_at <= now - STALE_IN_FLIGHT
        ):
            db.session.delete(existing)
            db.session.commit()
            return claim(owner=owner, key=key, method=method, path=path, body=body)
        raise APIError(
            409,
            N_("A request with this Idempotency-Key is still being processed."),
            code="idempotency-in-flight",
            headers={"Retry-After": "1"},
        )
    return Replay(status=existing.response_status, body=existing.response_body)


def mark_on_commit(row_id: int):
    """Mark the claimed key `committed` inside whatever transaction of the current
    session commits next (the operation's own), so the mark and the operation's
    writes are one atomic commit. Returns a function that removes the hook (call
    it before `complete`)."""
    session = db.session()

    def _mark(sess):
        sess.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row_id, IdempotencyKey.state == "in_flight")
            .values(state="committed")
        )

    event.listen(session, "before_commit", _mark)
    return lambda: event.remove(session, "before_commit", _mark)


def complete(row_id: int, *, status: int, body: str) -> None:
    """Store the answer of a claimed key, or release the key when the answer must not
    be replayed (5xx, 409, 429: the client may retry). Commits."""
    db.session.rollback()
    row = db.session.get(IdempotencyKey, row_id)
    if row is None:
        return
    if status >= 500 or status in NOT_STORED:
        db.session.delete(row)
    else:
        row.state = "done"
        row.response_status = status
        row.response_body = body
    db.session.commit()
