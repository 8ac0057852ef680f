"""Follow-up activities on enquiries (docs/design.md "Lifecycles": enquiry, "activities
with due times"; roles matrix: admin and sales work the pipeline).

An activity is typed (call, email, meeting, task), due at an aware UTC time and
owned by an employee (default: the enquiry's assignee, else whoever creates it).
Lists per owner show what is due today (the current UTC day, not done) or overdue
(due before now, not done). Marking one done counts as the enquiry's first
response. Reminder mail goes to the owner once per activity (`send_due_reminders`).
"""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from core.errors import NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Employee, EnquiryActivity
from models.base import utcnow
from services.messaging import notifications
from services.sales import enquiries
from services.shared.pagination import Page, order_by_sort, paginate

SORTABLE = ("due_at", "created_at")


def _check_owner(owner_id: int) -> None:
    """422 unless the owner is an active admin or sales employee."""
    owner = db.session.get(Employee, owner_id)
    if owner is None or not owner.active or owner.role not in ("admin", "sales"):
        raise ValidationFailed(
            {"owner_id": [_("Name an active sales or admin employee.")]}
        )


def create_activity(
    *,
    actor,
    enquiry_id: int,
    kind: str,
    summary: str,
    due_at: datetime,
    owner_id: int | None = None,
    note: str | None = None,
) -> EnquiryActivity:
    """Plan an activity on an enquiry (staff) and commit. Raises NotFound (404) and
    ValidationFailed (422) for a bad owner."""
    enquiry = enquiries.find_enquiry(enquiry_id)
    if owner_id is not None:
        _check_owner(owner_id)
    activity = EnquiryActivity(
        enquiry_id=enquiry.id,
        kind=kind,
        summary=summary.strip(),
        note=note,
        due_at=due_at,
        owner_id=owner_id or enquiry.assigned_to_id or actor.id,
        created_by_id=actor.id,
    )
    db.session.add(activity)
    db.session.commit()
    return activity


def list_enquiry_activities(
    *,
    enquiry_id: int,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """An enquiry's activities, soonest due first. NotFound (404)."""
    enquiries.find_enquiry(enquiry_id)
    stmt = select(EnquiryActivity).where(EnquiryActivity.enquiry_id == enquiry_id)
    return paginate(
        order_by_sort(stmt, EnquiryActivity, "due_at", SORTABLE),
        page=page,
        per_page=per_page,
        cursor=cursor,
    )


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """00:00 UTC of `now`'s day and of the next day."""
    start = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def list_activities(
    *,
    owner_id: int | None = None,
    due: str | None = None,
    done: bool | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
    now: datetime | None = None,
) -> Page:
    """Activities across enquiries, soonest due first: `owner_id` filters,
    `due=today` keeps the open ones due in the current UTC day, `due=overdue` the
    open ones due before now; `done` filters on completion."""
    now = now or utcnow()
    stmt = select(EnquiryActivity)
    if owner_id is not None:
        stmt = stmt.where(EnquiryActivity.owner_id == owner_id)
    if due == "today":
        start, end = day_bounds(now)
        stmt = stmt.where(
            EnquiryActivity.done.is_(False),
            EnquiryActivity.due_at >= start,
            EnquiryActivity.due_at < end,
        )
    elif due == "overdue":
        stmt = stmt.where(EnquiryActivity.done.is_(False), EnquiryActivity.due_at < now)
    if done is not None:
        stmt = stmt.where(EnquiryActivity.done.is_(done))
    return paginate(
        order_by_sort(stmt, EnquiryActivity, sort or "due_at", SORTABLE),
        page=page,
        per_page=per_page,
        cursor=cursor,
    )


def update_activity(*, actor, activity_id: int, changes: dict) -> EnquiryActivity:
    """Edit an activity (summary, note, due_at, owner_id) or mark it `done` (true:
    stamps done_at/done_by and the enquiry's first response; false reopens it).
    Commits. Raises NotFound (404), ValidationFailed (422) for a bad owner."""
    activity = db.session.get(EnquiryActivity, activity_id)
    if activity is None:
        raise NotFound("Activity")
    if changes.get("owner_id") is not None:
        _check_owner(changes["owner_id"])
    done = changes.pop("done", None)
    for field, value in changes.items():
        setattr(activity, field, value)
    if "due_at" in changes:
        activity.reminder_sent_at = None
    if done is True and not activity.done:
        now = utcnow()
        activity.done, activity.done_at, activity.done_by_id = True, now, actor.id
        enquiries.mark_first_response(enquiries.find_enquiry(activity.enquiry_id), now)
    elif done is False:
        activity.done, activity.done_at, activity.done_by_id = False, None, None
    db.session.commit()
    return activity


def send_due_reminders(
    *, now: datetime | None = None, ahead: timedelta = timedelta(0)
) -> int:
    """Mail each owner about their open activities due by `now + ahead`, once per
    activity, and return how many reminders went out.

    Idempotent and safe beside another run (two beats, cron): each activity is
    claimed by a conditional UPDATE (`reminder_sent_at IS NULL`) and its mail is
    queued in the outbox in the same transaction (services.messaging.outbox), so the
    mail goes out, with retries, if and only if the claim committed; two runs never
    remind twice. Changing `due_at` re-arms the reminder.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(EnquiryActivity.id)
        .where(
            EnquiryActivity.done.is_(False),
            EnquiryActivity.reminder_sent_at.is_(None),
            EnquiryActivity.owner_id.is_not(None),
            EnquiryActivity.due_at <= now + ahead,
        )
        .order_by(EnquiryActivity.due_at, EnquiryActivity.id)
    ).all()
    sent = 0
    for activity_id in due:
        try:
            claimed = db.session.execute(
                update(EnquiryActivity)
                .where(
                    EnquiryActivity.id == activity_id,
                    EnquiryActivity.reminder_sent_at.is_(None),
                )
                .values(reminder_sent_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed == 1:
                activity = db.session.get(
                    EnquiryActivity,
                    activity_id,
                    options=[
                        selectinload(EnquiryActivity.owner),
                        selectinload(EnquiryActivity.enquiry),
                    ],
                )
                notifications.activity_due(activity)
                sent += 1
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    return sent
