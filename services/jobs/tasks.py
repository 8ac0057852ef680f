"""Background work: Celery tasks over the outbox and the schedule, and the embedded
worker thread used when no broker is configured (docs/outbox.md).

- With CELERY_BROKER_URL (redis://... or amqp://...): `celery -A worker.celery_app
  worker` runs the tasks and ONE `celery -A worker.celery_app beat` per deployment
  runs services.jobs.schedule.JOBS; the relay task claims due outbox rows and sends one
  `deliver` task per row.
- Without a broker, EMBEDDED_WORKER (on in development) starts a daemon thread at
  the first request that relays the outbox inline and runs the same schedule, so
  `make run` needs nothing but Python.

Celery setup follows Flask's "Background Tasks with Celery" (a Task class that runs
in an app context). The request that caused an outbox row travels with it: the row
keeps `request_id`, and delivery logs under it (core.observability.task_request_id).
"""

import logging
import threading
from datetime import timedelta

from celery import Celery, Task, shared_task
from celery.schedules import crontab
from flask import Flask

log = logging.getLogger("easytravels.worker")


def beat_schedule(app: Flask) -> dict:
    """Celery beat's schedule built from services.jobs.schedule.JOBS (daily jobs at
    their UTC time, the relay every OUTBOX_RELAY_INTERVAL_SECONDS)."""
    from services.jobs.schedule import JOBS

    schedule = {}
    for job in JOBS:
        if job.daily_at:
            every = crontab(hour=job.daily_at[0], minute=job.daily_at[1])
        elif job.func == "relay_outbox":
            every = timedelta(seconds=app.config["OUTBOX_RELAY_INTERVAL_SECONDS"])
        else:
            every = job.every
        schedule[job.name] = {"task": job.name, "schedule": every}
    return schedule


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for `app` (stored as app.extensions["celery"]), from
    the same configuration: broker CELERY_BROKER_URL (empty: an in-memory transport
    that only the embedded mode's tests would touch), no result backend unless
    CELERY_RESULT_BACKEND, late acknowledgement so a killed worker's task is
    redelivered (the outbox claim makes a duplicate harmless)."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=app.config.get("CELERY_BROKER_URL") or "memory://",
        result_backend=app.config.get("CELERY_RESULT_BACKEND"),
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=False,
        beat_schedule=beat_schedule(app),
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    _dispose_engine_after_fork(app)
    return celery_app


def _dispose_engine_after_fork(app: Flask) -> None:
    """Prefork pool children must not share the parent's database connections
    (docs/architecture.md "Stack notes": forked workers and pools): drop the
    inherited pool in each child, without closing the parent's sockets."""
    from celery.signals import worker_process_init

    def _dispose(**_kwargs):
        from core.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)

    worker_process_init.connect(_dispose, weak=False)


@shared_task(name="easytravels.outbox.deliver")
def deliver(row_id: int, token: str) -> str:
    """Deliver one claimed outbox row (services.messaging.outbox.deliver)."""
    from services.messaging import outbox

    return outbox.deliver(row_id, token)


@shared_task(name="easytravels.outbox.relay")
def relay() -> int:
    """Claim due outbox rows and send one `deliver` task per row."""
    from services.messaging import outbox

    return outbox.relay_due(dispatch=lambda row_id, token: deliver.delay(row_id, token))


def _job_task(job_name: str, func_name: str):
    """A Celery task running one scheduled job of services.jobs.schedule."""

    @shared_task(name=job_name)
    def run() -> int:
        from services.jobs import schedule

        return getattr(schedule, func_name)()

    run.__doc__ = f"Scheduled job services.jobs.schedule.{func_name}."
    return run


def _register_job_tasks() -> None:
    """One task per scheduled job except the relay (its own task above)."""
    from services.jobs.schedule import JOBS

    for job in JOBS:
        if job.func != "relay_outbox":
            globals()[job.func] = _job_task(job.name, job.func)


_register_job_tasks()


class EmbeddedWorker(threading.Thread):
    """The no-broker worker: a daemon thread that every `interval` seconds runs the
    due jobs of services.jobs.schedule (the outbox relay included, delivering
    inline)."""

    def __init__(self, app: Flask, interval: float):
        super().__init__(name="easytravels-embedded-worker", daemon=True)
        self.app = app
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        """Tick until stopped; a failing tick is logged, never fatal."""
        from services.jobs.schedule import Scheduler

        scheduler = Scheduler(relay_every=self.interval)
        log.info("embedded worker started (relay every %ss)", self.interval)
        while not self.stopping.is_set():
            try:
                with self.app.app_context():
                    scheduler.tick()
            except Exception:
                log.exception("embedded worker tick failed")
            self.stopping.wait(self.interval)


def init_embedded_worker(app: Flask) -> None:
    """With EMBEDDED_WORKER, start the embedded worker at the first request (never
    at import or in CLI commands such as `flask db upgrade`)."""
    if not app.config.get("EMBEDDED_WORKER"):
        return
    lock = threading.Lock()
    started = []

    @app.before_request
    def _start_embedded_worker():
        if started:
            return
        with lock:
            if not started:
                worker = EmbeddedWorker(
                    app, app.config["OUTBOX_RELAY_INTERVAL_SECONDS"]
                )
                worker.start()
                started.append(worker)
                app.extensions["embedded_worker"] = worker
