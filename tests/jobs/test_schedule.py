"""Scheduled jobs (services/jobs/schedule.py) with an injected clock: balance reminders
at 14, 7 and 3 days exactly once each, the unpaid-balance cancellation under the
booking's copied tier (and off when configured off), hold expiry run by the
scheduler itself (no cron line), and the schedule Celery beat is given."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from core.extensions import db
from models import Booking, OutboxMessage, Refund
from services.jobs import schedule
from services.jobs.schedule import JOBS, Scheduler
from tests.factories import make_plain_departure, pay

API = "/api/v1"
D = Decimal


def at(day, hour=9) -> datetime:
    """An aware UTC datetime on `day` at `hour`:00."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def confirmed_with_balance(app, client, actors, *, start_in_days=60):
    """A booking through the API on a 20 % deposit package, deposit paid: confirmed
    with 800.00 due by its balance_due_date. Returns (customer, booking dict)."""
    cust = actors.customer()
    departure = make_plain_departure(
        app, deposit_percent=20, start_in_days=start_in_days
    )
    booking = client.post(
        f"{API}/bookings",
        json={"departure_id": departure, "seats": 1},
        headers=cust["headers"],
    ).get_json()
    assert (
        pay(client, actors.headers("finance"), booking["id"], "200.00").status_code
        == 201
    )
    body = client.get(
        f"{API}/bookings/{booking['id']}", headers=cust["headers"]
    ).get_json()
    assert body["status"] == "confirmed" and body["amount_due"] == "800.00"
    return cust, body


def run(app, job, now):
    with app.app_context():
        return getattr(schedule, job)(now=now)


def reminder_subjects(mailbox, email):
    return [m["Subject"] for m in mailbox.to(email) if "balance due" in m["Subject"]]


def test_balance_reminders_14_7_3_days_exactly_once_each(app, client, actors, mailbox):
    cust, booking = confirmed_with_balance(app, client, actors)
    due = datetime.fromisoformat(booking["balance_due_date"]).date()

    counts = {}
    for days_before in (20, 15, 14, 14, 13, 10, 8, 7, 7, 6, 4, 3, 3, 2, 1, 0):
        counts.setdefault(days_before, []).append(
            run(app, "balance_reminders", at(due - timedelta(days=days_before)))
        )

    assert {d: c for d, c in counts.items() if any(c)} == {
        14: [1, 0],
        7: [1, 0],
        3: [1, 0],
    }
    assert len(reminder_subjects(mailbox, cust["email"])) == 3
    with app.app_context():
        keys = sorted(
            db.session.scalars(
                db.select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.is_not(None)
                )
            )
        )
    assert keys == [f"balance-reminder:{booking['id']}:{d}" for d in (14, 3, 7)]


def test_balance_reminder_missed_days_catch_up_with_one_mail(
    app, client, actors, mailbox
):
    cust, booking = confirmed_with_balance(app, client, actors)
    due = datetime.fromisoformat(booking["balance_due_date"]).date()

    # the scheduler was down from 20 to 5 days before: one reminder (7), never the 14
    assert run(app, "balance_reminders", at(due - timedelta(days=5))) == 1
    assert run(app, "balance_reminders", at(due - timedelta(days=4))) == 0

    [subject] = reminder_subjects(mailbox, cust["email"])
    assert booking["reference"] in subject


def test_paid_booking_gets_no_reminder(app, client, actors, mailbox):
    _cust, booking = confirmed_with_balance(app, client, actors)
    assert (
        pay(client, actors.headers("finance"), booking["id"], "800.00").status_code
        == 201
    )
    due = datetime.fromisoformat(booking["balance_due_date"]).date()
    assert run(app, "balance_reminders", at(due - timedelta(days=7))) == 0


def test_unpaid_balance_cancelled_after_grace_under_copied_tier(
    app, client, actors, mailbox
):
    cust, booking = confirmed_with_balance(app, client, actors)
    due = datetime.fromisoformat(booking["balance_due_date"]).date()
    grace = app.config["BALANCE_CANCEL_GRACE_DAYS"]
    with app.app_context():
        # the policy copied onto the booking wins over today's catalogue policy
        row = db.session.get(Booking, booking["id"])
        row.cancellation_policy = [
            dict(t, penalty_percent=40) if t["tier"] == "14_to_29_days" else t
            for t in row.cancellation_policy
        ]
        db.session.commit()

    assert run(app, "cancel_unpaid_balances", at(due + timedelta(days=grace))) == 0
    assert run(app, "cancel_unpaid_balances", at(due + timedelta(days=grace + 1))) == 1
    assert run(app, "cancel_unpaid_balances", at(due + timedelta(days=grace + 2))) == 0

    with app.app_context():
        row = db.session.get(Booking, booking["id"])
        assert row.status == "cancelled"
        assert row.penalty_amount == D("80.00")  # 40 % of the 200.00 paid
        [refund] = db.session.scalars(db.select(Refund)).all()
        assert refund.amount == D("120.00")
        assert row.departure.seats_taken == 0
    [mail] = [m for m in mailbox.to(cust["email"]) if "cancelled" in m["Subject"]]
    assert "Penalty kept: 80.00 EUR" in mail.get_body(("plain",)).get_content()


def test_unpaid_balance_cancellation_can_be_turned_off(app, client, actors):
    _, booking = confirmed_with_balance(app, client, actors)
    due = datetime.fromisoformat(booking["balance_due_date"]).date()
    app.config["BALANCE_AUTO_CANCEL"] = False
    try:
        assert run(app, "cancel_unpaid_balances", at(due + timedelta(days=30))) == 0
    finally:
        app.config["BALANCE_AUTO_CANCEL"] = True
    with app.app_context():
        assert db.session.get(Booking, booking["id"]).status == "confirmed"


def test_scheduler_expires_holds_without_cron(app, client, actors, smtp):
    smtp.handler.clear()
    cust = actors.customer()
    departure = make_plain_departure(app, capacity=2)
    booking = client.post(
        f"{API}/bookings",
        json={"departure_id": departure, "seats": 2},
        headers=cust["headers"],
    ).get_json()
    made = datetime.fromisoformat(booking["hold_expires_at"]) - timedelta(minutes=15)
    scheduler = Scheduler()

    with app.app_context():
        first = scheduler.tick(
            made + timedelta(seconds=1)
        )  # every job runs once at start
        assert first["easytravels.jobs.expire_holds"] == 0
        assert "easytravels.jobs.expire_holds" not in scheduler.tick(
            made + timedelta(seconds=30)
        )  # not due again within its minute
        later = scheduler.tick(made + timedelta(minutes=16))
        assert later["easytravels.jobs.expire_holds"] == 1
        scheduler.tick(made + timedelta(minutes=16, seconds=2))  # the relay delivers
    with app.app_context():
        assert db.session.get(Booking, booking["id"]).status == "expired"
    subjects = [m["Subject"] for m in smtp.handler._messages]
    assert f"Booking {booking['reference']}: hold expired" in subjects


def test_beat_schedule_covers_every_job(app):
    from services.jobs.tasks import beat_schedule

    entries = beat_schedule(app)
    assert set(entries) == {job.name for job in JOBS}
    assert entries["easytravels.jobs.expire_holds"]["schedule"] == timedelta(minutes=1)
    assert "easytravels.jobs.reconcile_provider_payments" in entries
    with app.app_context():
        assert schedule.reconcile_provider_payments() == 0


@pytest.mark.parametrize("job", [j.func for j in JOBS])
def test_every_job_is_idempotent_on_an_empty_database(app, job):
    now = datetime.now(UTC)
    assert run(app, job, now) == 0
    assert run(app, job, now) == 0


def test_two_schedulers_at_once_do_the_work_once(app, client, actors, mailbox):
    """Two beats by mistake: the same jobs run in two threads at the same clock;
    every reminder, cancellation and outbox claim still happens once."""
    import threading

    from services.messaging import outbox

    cust, booking = confirmed_with_balance(app, client, actors)
    due = datetime.fromisoformat(booking["balance_due_date"]).date()
    now = at(due - timedelta(days=7))
    results, claims, errors = [], [], []
    barrier = threading.Barrier(2)

    def beat():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(schedule.balance_reminders(now=now))
                claims.append(outbox.claim_due())
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results) == [0, 1]
    claimed = [row_id for claim in claims for row_id, _ in claim]
    assert len(claimed) == len(set(claimed))  # no row claimed twice
    with app.app_context():
        assert outbox.drain(now=now + timedelta(minutes=5)) >= 0
    assert len(reminder_subjects(mailbox, cust["email"])) == 1
