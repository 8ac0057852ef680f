"""Scheduled jobs: what runs on a clock, and how often (docs/design.md "Lifecycles":
booking; docs/outbox.md).

`JOBS` is the one schedule. Celery beat (tasks.beat_schedule) and the embedded
worker thread (tasks.EmbeddedWorker) both read it. Every job takes `now` (an aware
UTC datetime: the injected clock of the tests) and is idempotent and safe when two
schedulers run it at once: state moves through conditional UPDATEs, and mail that
must happen once carries an outbox dedupe key.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.errors import APIError
from core.extensions import db
from models import Booking
from models.base import utcnow

log = logging.getLogger("easytravels.schedule")


@dataclass(frozen=True)
class Job:
    """A job of the schedule: its task name, its period, the function it runs
    (`func(now) -> int`, what it did) and, for daily jobs, the UTC hour and minute
    Celery beat runs it at."""

    name: str
    every: timedelta
    func: str
    daily_at: tuple[int, int] | None = None


def relay_outbox(now: datetime | None = None) -> int:
    """Deliver due outbox rows inline (the embedded worker; under Celery the relay
    task dispatches them to workers instead). Returns how many rows it claimed."""
    from services.messaging import outbox

    return outbox.relay_due(now=now)


def expire_holds(now: datetime | None = None) -> int:
    """Expire lapsed holds (services.booking.holds.expire_holds), with their mail and
    `booking.expired` webhook."""
    from services.booking.holds import expire_holds as run

    return run(now=now)


def complete_trips(now: datetime | None = None) -> int:
    """Complete confirmed bookings whose trip ended (services.booking.bookings)."""
    from services.booking.bookings import complete_trips as run

    return run(now=now)


def _unpaid_confirmed():
    """Confirmed bookings with money still due and a balance due date."""
    return select(Booking).where(
        Booking.status == "confirmed",
        Booking.amount_paid < Booking.total_amount,
        Booking.balance_due_date.is_not(None),
    )


def balance_reminders(now: datetime | None = None) -> int:
    """Queue balance reminders: BALANCE_REMINDER_DAYS (14, 7, 3) days before a
    confirmed booking's `balance_due_date` (the booking column, set at booking time
    to BALANCE_DUE_DAYS before departure), each at most once per booking.

    On each run a booking `d` days before its due date (0 <= d <= the largest
    threshold) gets the reminder of the smallest threshold >= d unless that one was
    already queued (outbox dedupe key), so a missed day catches up with one mail and
    never sends a larger threshold's reminder late. One commit. Returns how many
    reminders it queued.
    """
    from models.outbox import OutboxMessage
    from services.messaging import notifications

    now = now or utcnow()
    today = now.date()
    thresholds = sorted(current_app.config["BALANCE_REMINDER_DAYS"])
    stmt = (
        _unpaid_confirmed()
        .where(
            Booking.balance_due_date >= today,
            Booking.balance_due_date <= today + timedelta(days=thresholds[-1]),
        )
        .options(selectinload(Booking.customer))
        .order_by(Booking.id)
    )
    queued = 0
    try:
        for booking in db.session.scalars(stmt).all():
            days_left = (booking.balance_due_date - today).days
            days = min(t for t in thresholds if t >= days_left)
            key = f"balance-reminder:{booking.id}:{days}"
            if db.session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
            ):
                continue
            queued += notifications.balance_reminder(booking, days=days)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return queued


def cancel_unpaid_balances(now: datetime | None = None) -> int:
    """Cancel confirmed bookings whose balance is still unpaid more than
    BALANCE_CANCEL_GRACE_DAYS after `balance_due_date` (off with
    BALANCE_AUTO_CANCEL=false): under the booking's copied tier, the penalty kept
    and the rest refunded to the original payment methods, with the cancellation
    mail and webhook; one commit per booking. A booking another request changed
    first, or whose departure started, is skipped. Returns how many it cancelled.
    """
    from services.booking import cancellations

    config = current_app.config
    if not config["BALANCE_AUTO_CANCEL"]:
        return 0
    now = now or utcnow()
    cutoff = now.date() - timedelta(days=config["BALANCE_CANCEL_GRACE_DAYS"])
    ids = list(
        db.session.scalars(
            _unpaid_confirmed()
            .with_only_columns(Booking.id)
            .where(Booking.balance_due_date < cutoff)
            .order_by(Booking.id)
        )
    )
    db.session.rollback()
    reason = (
        f"Balance unpaid {config['BALANCE_CANCEL_GRACE_DAYS']} day(s) after its "
        "due date"
    )
    done = 0
    for booking_id in ids:
        try:
            done += cancellations.cancel_for_unpaid_balance(
                booking_id, now=now, reason=reason
            )
        except APIError as exc:
            log.info("unpaid booking %s not cancelled: %s", booking_id, exc.detail)
    return done


def reconcile_provider_payments(now: datetime | None = None) -> int:
    """Ask the payment provider about card payment attempts still pending for 10
    minutes or more and apply the succeeded ones (services.payments.card_payments
    .reconcile_pending: the webhook's own once-only function, so a run beside the
    webhook, or two beats, change nothing more). Does nothing while card payments
    are not configured. Returns how many attempts it applied or refunded
    (docs/design.md "Lifecycles": payment)."""
    from services.payments import card_payments, provider

    if not provider.card_payments_enabled(current_app.config):
        return 0
    counts = card_payments.reconcile_pending(now=now)
    return counts["applied"] + counts["refunded"]


def reconcile_provider_refunds(now: datetime | None = None) -> int:
    """Once a day, compare the provider's refunds of the last 30 days' card payments
    with ours and record the ones made at the provider whose event never arrived
    (services.payments.provider_money.reconcile_refunds: the webhook's own
    once-only function). Does nothing while card payments are not configured.
    Returns how many refunds it recorded (docs/payments.md "Money changed at the
    provider")."""
    from services.payments import provider, provider_money

    if not provider.card_payments_enabled(current_app.config):
        return 0
    return provider_money.reconcile_refunds(now=now)["refunds_recorded"]


def activity_reminders(now: datetime | None = None) -> int:
    """Queue the reminder mail of every sales activity now due, once each
    (services.sales.activities.send_due_reminders; docs/design.md "Lifecycles":
    enquiry)."""
    from services.sales import activities

    return activities.send_due_reminders(now=now)


JOBS = (
    Job("easytravels.outbox.relay", timedelta(seconds=2), "relay_outbox"),
    Job("easytravels.jobs.expire_holds", timedelta(minutes=1), "expire_holds"),
    Job(
        "easytravels.jobs.complete_trips", timedelta(days=1), "complete_trips", (0, 15)
    ),
    Job("easytravels.jobs.balance_reminders", timedelta(hours=1), "balance_reminders"),
    Job(
        "easytravels.jobs.cancel_unpaid_balances",
        timedelta(hours=1),
        "cancel_unpaid_balances",
    ),
    Job(
        "easytravels.jobs.reconcile_provider_payments",
        timedelta(minutes=15),
        "reconcile_provider_payments",
    ),
    Job(
        "easytravels.jobs.reconcile_provider_refunds",
        timedelta(days=1),
        "reconcile_provider_refunds",
        (3, 30),
    ),
    Job(
        "easytravels.jobs.activity_reminders",
        timedelta(minutes=5),
        "activity_reminders",
    ),
)


def run_job(job: Job, now: datetime | None = None) -> int:
    """Run one job of JOBS with the clock `now`; returns what it reports."""
    return globals()[job.func](now=now)


class Scheduler:
    """Runs the jobs of JOBS that are due at the given clock; remembers when each
    last ran (in memory: a restart runs every job once at start, which is harmless
    because every job is idempotent). Relay period: OUTBOX_RELAY_INTERVAL_SECONDS."""

    def __init__(self, jobs=JOBS, relay_every: float | None = None):
        self.jobs = jobs
        self.relay_every = relay_every
        self.last_run: dict[str, datetime] = {}

    def _period(self, job: Job) -> timedelta:
        if job.func == "relay_outbox" and self.relay_every is not None:
            return timedelta(seconds=self.relay_every)
        return job.every

    def due(self, now: datetime) -> list[Job]:
        """The jobs whose period has passed since they last ran (or never ran)."""
        return [
            job
            for job in self.jobs
            if job.name not in self.last_run
            or now - self.last_run[job.name] >= self._period(job)
        ]

    def tick(self, now: datetime | None = None) -> dict[str, int]:
        """Run every due job at `now`; returns `{job name: result}`. A failing job
        is logged and retried at its next period; the others still run."""
        now = now or utcnow()
        results = {}
        for job in self.due(now):
            self.last_run[job.name] = now
            try:
                results[job.name] = run_job(job, now)
            except Exception:
                db.session.rollback()
                log.exception("scheduled job %s failed", job.name)
        return results
