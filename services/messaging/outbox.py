"""The transactional outbox: enqueue side effects inside the caller's transaction,
relay due rows to delivery, record each attempt (docs/design.md "Rules with numbers":
every side effect that leaves the process goes through an outbox).

Writers call `enqueue_mail` (or services.messaging.webhooks.emit) BEFORE their
commit: the row commits or rolls back with its cause. Workers call `relay_due`,
which

1. claims due rows (`state = 'pending' AND next_attempt_at <= now`): on PostgreSQL
   the candidates are read `FOR UPDATE SKIP LOCKED`, and on every database one
   conditional UPDATE stamps a fresh `claim_token` and pushes `next_attempt_at` to
   the end of a lease (OUTBOX_LEASE_SECONDS), so two relays never claim one row,
   and a row whose worker died is claimed again once its lease ran out;
2. hands each claimed row to `deliver` (inline, or as a Celery task);
3. `deliver` sends, then records the attempt with a conditional UPDATE on the
   row's claim: `sent`, or back to `pending` with exponential backoff, or `dead`
   after `max_attempts`. A stale claim (another worker took over) records nothing.

At-least-once: a worker that dies after the SMTP server accepted a message but
before its commit leaves the row to be sent again after the lease; every attempt of
one row carries the same Message-ID (`<outbox-ID@easytravels>`) or `webhook-id`, so
receivers can drop the duplicate.
"""

import logging
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict
from core.extensions import db
from core.i18n import _
from models.base import utcnow
from models.outbox import OutboxMessage
from services.messaging import delivery

log = logging.getLogger("easytravels.outbox")


def _request_id() -> str | None:
    """The current request's id (core/observability.py), None outside a request."""
    from core.observability import request_id

    rid = request_id()
    return None if rid == "-" else rid


def enqueue(
    *,
    kind: str,
    topic: str,
    payload: dict,
    dedupe_key: str | None = None,
    endpoint_id: int | None = None,
    event_id: str | None = None,
    max_attempts: int | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Add one outbox row to the current transaction (no commit) and return it.

    `kind` "mail" or "webhook"; `payload` JSON-able. With `dedupe_key`, a second row
    with the same key is not added (a savepoint absorbs the UNIQUE violation, so
    two schedulers racing write it once) and None is returned.
    """
    row = OutboxMessage(
        kind=kind,
        topic=topic,
        payload=payload,
        dedupe_key=dedupe_key,
        endpoint_id=endpoint_id,
        event_id=event_id,
        request_id=_request_id(),
        max_attempts=max_attempts or current_app.config["OUTBOX_MAX_ATTEMPTS"],
        next_attempt_at=now or utcnow(),
    )
    if dedupe_key is None:
        db.session.add(row)
        return row
    if db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return None
    return row


def enqueue_mail(
    to: str,
    subject: str,
    body: str,
    *,
    topic: str,
    dedupe_key: str | None = None,
    now: datetime | None = None,
    attachments: list[dict] | None = None,
):
    """Queue a plain-text mail to `to` in the current transaction (no commit).

    `attachments` are JSON specs of documents to attach, e.g.
    `{"document": "confirmation", "booking_id": 12}` (services.documents.
    attachments): the row stores the specs, never the bytes, and delivery renders
    them (docs/documents.md "Mail attachments")."""
    payload = {"to": to, "subject": subject, "body": body}
    if attachments:
        payload["attachments"] = list(attachments)
    return enqueue(
        kind="mail",
        topic=topic,
        dedupe_key=dedupe_key,
        now=now,
        payload=payload,
    )


def backoff(attempts: int) -> timedelta:
    """Delay before the next mail attempt after `attempts` failures: exponential,
    OUTBOX_BACKOFF_SECONDS * 2^(attempts-1), capped at OUTBOX_BACKOFF_MAX_SECONDS."""
    config = current_app.config
    seconds = config["OUTBOX_BACKOFF_SECONDS"] * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config["OUTBOX_BACKOFF_MAX_SECONDS"]))


def claim_due(*, now: datetime | None = None, limit: int | None = None) -> list[tuple]:
    """Claim up to `limit` due rows for this caller and commit; returns
    `[(id, claim_token)]`. See the module docstring for the locking."""
    now = now or utcnow()
    config = current_app.config
    limit = limit or config["OUTBOX_BATCH_SIZE"]
    due = (OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
    try:
        candidates = (
            select(OutboxMessage.id)
            .where(*due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if db.engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(candidates))
        if not ids:
            db.session.rollback()
            return []
        token = secrets.token_hex(16)
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), *due)
            .values(
                claim_token=token,
                next_attempt_at=now + timedelta(seconds=config["OUTBOX_LEASE_SECONDS"]),
            )
            .execution_options(synchronize_session=False)
        )
        claimed = list(
            db.session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.claim_token == token)
                .order_by(OutboxMessage.id)
            )
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return [(row_id, token) for row_id in claimed]


def _attachments(row: OutboxMessage) -> list[tuple[str, str, bytes]]:
    """The files of a mail row's attachment specs, rendered now
    (services.documents.attachments). Raises delivery.DeliveryFailed: permanent
    for a spec that can never render (unknown document, booking or ticket gone),
    retryable for any other rendering failure (as an SMTP failure)."""
    specs = row.payload.get("attachments") or []
    if not specs:
        return []
    from services.documents.attachments import AttachmentError, render_attachment

    files = []
    for spec in specs:
        try:
            files.append(render_attachment(spec))
        except AttachmentError as exc:
            raise delivery.DeliveryFailed(
                f"attachment: {exc}"[:500], permanent=True
            ) from exc
        except Exception as exc:  # a rendering or database error: retry later
            log.exception("outbox %s: attachment %r failed to render", row.id, spec)
            db.session.rollback()
            raise delivery.DeliveryFailed(
                f"attachment {spec!r}: {exc.__class__.__name__}: {exc}"[:500]
            ) from exc
    return files


def _send(row: OutboxMessage) -> int | None:
    """Perform the side effect of `row`; returns the HTTP status for webhooks.
    Raises delivery.DeliveryFailed."""
    if row.kind == "mail":
        from services.messaging.mail import MailError, send_mail

        files = _attachments(row)
        try:
            send_mail(
                row.payload["to"],
                row.payload["subject"],
                row.payload["body"],
                message_id=f"<outbox-{row.id}@easytravels>",
                attachments=files or None,
            )
        except MailError as exc:
            raise delivery.DeliveryFailed(f"SMTP: {exc}"[:500]) from exc
        return None
    return delivery.send_delivery(row)


def deliver(row_id: int, token: str, *, now: datetime | None = None) -> str:
    """Deliver one claimed row and record the attempt (one commit). Returns the
    outcome: "sent", "retry", "dead" or "skipped" (not ours any more, or done)."""
    from core.observability import task_request_id

    row = db.session.get(OutboxMessage, row_id)
    if row is None or row.state != "pending" or row.claim_token != token:
        db.session.rollback()
        return "skipped"
    with task_request_id(row.request_id):
        try:
            status_code = _send(row)
        except delivery.DeliveryFailed as exc:
            return _record_failure(row, token, exc, now=now or utcnow())
        except Exception as exc:  # a bug or a database error: count it as an attempt
            log.exception("outbox %s: unexpected delivery error", row_id)
            db.session.rollback()
            failure = delivery.DeliveryFailed(f"{exc.__class__.__name__}: {exc}"[:500])
            return _record_failure(row, token, failure, now=now or utcnow())
        return _record(
            row,
            token,
            {
                "state": "sent",
                "sent_at": utcnow(),
                "last_error": None,
                "last_status_code": status_code,
            },
            outcome="sent",
        )


def _record(row, token, values: dict, *, outcome: str) -> str:
    """Record one attempt on the row if the claim is still ours; commit."""
    values = {"attempts": OutboxMessage.attempts + 1, "claim_token": None, **values}
    try:
        done = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row.id,
                OutboxMessage.claim_token == token,
                OutboxMessage.state == "pending",
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if done != 1:
        log.warning("outbox %s: claim lost before the attempt was recorded", row.id)
        return "skipped"
    log.info("outbox %s (%s %s): %s", row.id, row.kind, row.topic, outcome)
    return outcome


def _record_failure(row, token, exc: delivery.DeliveryFailed, *, now: datetime) -> str:
    """A failed attempt: retry later, or `dead` after max_attempts / permanent."""
    attempts = row.attempts + 1
    values = {"last_error": str(exc)[:1000], "last_status_code": exc.status_code}
    if exc.permanent or attempts >= row.max_attempts:
        log.warning(
            "outbox %s (%s %s) dead after %s attempt(s): %s",
            row.id,
            row.kind,
            row.topic,
            attempts,
            exc,
        )
        return _record(row, token, {**values, "state": "dead"}, outcome="dead")
    delay = (
        delivery.retry_delay(attempts) if row.kind == "webhook" else backoff(attempts)
    )
    log.info(
        "outbox %s attempt %s failed (%s); next in %ss",
        row.id,
        attempts,
        exc,
        int(delay.total_seconds()),
    )
    return _record(
        row, token, {**values, "next_attempt_at": now + delay}, outcome="retry"
    )


def relay_due(
    *, now: datetime | None = None, dispatch=None, limit: int | None = None
) -> int:
    """Claim the due rows and deliver each: inline (the embedded worker, tests) or
    through `dispatch(row_id, token)` (the Celery relay task). Returns how many
    rows it claimed."""
    claimed = claim_due(now=now, limit=limit)
    for row_id, token in claimed:
        if dispatch is None:
            deliver(row_id, token, now=now)
        else:
            dispatch(row_id, token)
    return len(claimed)


def drain(*, now: datetime | None = None, rounds: int = 20) -> int:
    """Relay inline until nothing is due at `now` (at most `rounds` batches);
    returns how many rows were handled. For the CLI and tests."""
    total = 0
    for _round in range(rounds):
        count = relay_due(now=now)
        total += count
        if not count:
            break
    return total


def list_messages(
    *,
    state: str | None = None,
    kind: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
):
    """Outbox rows for admin, newest first, filtered by `state` and `kind` (a
    services.shared.pagination.Page)."""
    from services.shared.pagination import paginate

    stmt = select(OutboxMessage)
    if state:
        stmt = stmt.where(OutboxMessage.state == state)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    stmt = stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def retry_message(message_id: int, *, now: datetime | None = None) -> OutboxMessage:
    """Admin: put a `dead` row back to `pending`, due now, with a fresh attempt
    budget; one commit. Raises NotFound (404) and Conflict (409: not dead)."""
    from services.shared.records import get_or_404

    row = get_or_404(OutboxMessage, message_id, "Outbox message")
    done = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == "dead")
        .values(
            state="pending",
            next_attempt_at=now or utcnow(),
            claim_token=None,
            max_attempts=row.attempts + current_app.config["OUTBOX_MAX_ATTEMPTS"],
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict(_("Only a dead message can be retried."), code="outbox-not-dead")
    db.session.commit()
    db.session.refresh(row)
    return row


def stats(*, now: datetime | None = None) -> dict:
    """Queue depth (pending rows), dead rows and the age in seconds of the oldest
    pending row (0 when none): the outbox part of GET /health/ready."""
    now = now or utcnow()
    pending, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.state == "pending"
        )
    ).one()
    dead = db.session.scalar(select(func.count()).where(OutboxMessage.state == "dead"))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return {
        "pending": pending,
        "dead": dead,
        "oldest_pending_age_seconds": round(age, 1),
    }
