"""Enquiries as a sales pipeline, and their note threads (docs/design.md "Lifecycles":
enquiry; "Accounts and roles": create enquiry, work enquiries / the pipeline).

Rules kept here, beyond the design's words:
- a customer raises enquiries only for themselves; another `customer_id` is 422;
- a customer raising their own enquiry may have at most
  MAX_OPEN_ENQUIRIES_PER_CUSTOMER enquiries in an open stage (OPEN_STAGES: new,
  contacted, quoted, on_hold) at once; one more is 409 `open-enquiries-limit`,
  refused before anything is written. Won and lost ones do not count, so closing one
  frees a slot. Staff raising an enquiry for a customer are not limited
  (docs/security.md "Open enquiries per customer");
- only staff learn about look-alike customers: the `duplicates` of a new enquiry
  (other customers with the same email or normalised phone) are computed for a staff
  caller alone, a customer's response has no `duplicates` at all (docs/security.md
  "Duplicate hints are for staff only");
- `package_id` must name an existing package (customers: a published one), else 422;
- `source` says where the enquiry came from (web_form, phone, email, walk_in,
  partner, campaign, with an optional `campaign_tag`); a customer's own enquiry is
  always `web_form`, staff default to `phone`;
- a new enquiry is assigned by round-robin (services/sales/assignment.py) and must get a
  first staff reaction within ENQUIRY_FIRST_RESPONSE_HOURS (`first_response_due_at`,
  `first_response_overdue`); a stage change, a staff note, a quote or an activity
  done is a reaction;
- stages follow ENQUIRY_TRANSITIONS (409 otherwise); asking for the current stage
  is a no-op; `won` only by linking a booking of the enquiry's customer
  (`booking_id`, from any open stage; a quote's acceptance links its booking);
  `lost` only with an active `lost_reason_id` (optional `lost_feedback`); reopening a
  lost enquiry clears its reason (kept in the audit log); every move is kept in the
  stage history, which gives the time spent in each stage;
- a customer may not write to a `won` or `lost` enquiry (409); their reply to an
  `on_hold` one resumes it (`contacted`); staff notes never change the stage;
- every note is part of the conversation the owning customer sees (no internal notes).
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Booking, Customer, Enquiry, EnquiryNote, EnquiryStageChange, Package
from models.account import is_staff
from models.base import utcnow
from models.enquiry import ENQUIRY_TRANSITIONS, OPEN_STAGES
from services.audit import audit
from services.sales import assignment, customer_merge, lost_reasons
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import check_owner, text_matches

SORTABLE = ("created_at", "updated_at", "stage_changed_at")
UNSET = object()
DEAD_BOOKINGS = ("expired", "cancelled")


def _check_package(actor, package_id: int | None) -> None:
    """422 unless `package_id` is None or a package the actor may reference."""
    if package_id is None:
        return
    package = db.session.get(Package, package_id)
    if package is None or (not is_staff(actor) and package.status != "published"):
        raise ValidationFailed({"package_id": [_("No such package.")]})


def _enquiry_customer(actor, customer_id: int | None) -> Customer:
    """The customer the new enquiry belongs to; 422 when the body names a wrong one."""
    if not is_staff(actor):
        if customer_id not in (None, actor.id):
            raise ValidationFailed(
                {
                    "customer_id": [
                        _("A customer can only raise an enquiry for themselves.")
                    ]
                }
            )
        return actor
    if customer_id is None:
        raise ValidationFailed({"customer_id": [_("Missing data for required field.")]})
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise ValidationFailed({"customer_id": [_("No such customer.")]})
    return customer


def open_enquiry_count(customer_id: int) -> int:
    """How many of the customer's enquiries are in an open stage (OPEN_STAGES)."""
    return db.session.scalar(
        select(func.count(Enquiry.id)).where(
            Enquiry.customer_id == customer_id, Enquiry.stage.in_(OPEN_STAGES)
        )
    )


def _lock_customer(customer_id: int) -> None:
    """Hold the customer's row until the commit, so that parallel requests of one
    customer read and write one after the other: SELECT ... FOR UPDATE on
    PostgreSQL (the next statement then sees what the request before committed);
    SQLite ignores FOR UPDATE, so there an UPDATE that changes nothing takes the
    database's write lock (docs/architecture.md: a conditional write, not
    `with_for_update`, serialises SQLite)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(updated_at=Customer.updated_at)
            .execution_options(synchronize_session=False)
        )
        return
    db.session.execute(
        select(Customer.id).where(Customer.id == customer_id).with_for_update()
    )


def check_open_enquiries(actor, customer: Customer) -> None:
    """Refuse a customer's own new enquiry when they already have
    MAX_OPEN_ENQUIRIES_PER_CUSTOMER open ones (module docstring; docs/security.md
    "Open enquiries per customer"): one account cannot take the whole sales team.
    Staff raising an enquiry for a customer are not limited.

    The customer's row is locked first (_lock_customer, held until the enquiry
    commits), so parallel requests of one customer count one after the other.
    Raises Conflict (409 `open-enquiries-limit`, with `limit` and
    `open_enquiries`); the refusal rolls the lock back, nothing is written.
    """
    if is_staff(actor):
        return
    limit = current_app.config["MAX_OPEN_ENQUIRIES_PER_CUSTOMER"]
    _lock_customer(customer.id)
    count = open_enquiry_count(customer.id)
    if count >= limit:
        db.session.rollback()
        raise Conflict(
            _(
                "You already have %(count)s open enquiries; a customer may have at "
                "most %(limit)s open at once (MAX_OPEN_ENQUIRIES_PER_CUSTOMER). "
                "Reply to one of them, or wait until one is closed.",
                count=count,
                limit=limit,
            ),
            code="open-enquiries-limit",
            extra={"limit": limit, "open_enquiries": count},
        )


def _record_stage(enquiry: Enquiry, to_stage: str, *, by, now: datetime) -> None:
    """Move the enquiry to `to_stage` and keep the history row with the time spent
    in the stage it leaves (no commit)."""
    from_stage = None if enquiry.id is None else enquiry.stage
    seconds = None
    if from_stage is not None:
        seconds = max(0, int((now - enquiry.stage_changed_at).total_seconds()))
    enquiry.stage_changes.append(
        EnquiryStageChange(
            from_stage=from_stage,
            to_stage=to_stage,
            seconds_in_from_stage=seconds,
            changed_by_id=by.id if is_staff(by) else None,
            changed_at=now,
        )
    )
    enquiry.stage = to_stage
    enquiry.stage_changed_at = now


def mark_first_response(enquiry: Enquiry, now: datetime | None = None) -> None:
    """Stamp the first staff reaction on the enquiry if none is recorded yet."""
    if enquiry.first_response_at is None:
        enquiry.first_response_at = now or utcnow()


def create_enquiry(
    *,
    actor,
    subject: str,
    message: str,
    customer_id: int | None = None,
    package_id: int | None = None,
    source: str | None = None,
    campaign_tag: str | None = None,
) -> Enquiry:
    """Raise a `new` enquiry, assign it by round-robin and commit.

    `actor` is the calling Employee (admin, sales: for `customer_id`, required) or
    Customer (for themselves: "contact us", source `web_form`). For a staff actor
    the returned enquiry carries `duplicates`: other customers whose email or
    normalised phone match its customer's (services/sales/customer_merge.py); for
    a customer it has none, not even an empty list (a customer could otherwise set
    their phone to someone else's and read that person's contact data;
    docs/security.md "Duplicate hints are for staff only").

    A customer may have at most MAX_OPEN_ENQUIRIES_PER_CUSTOMER open enquiries
    (check_open_enquiries); staff raising one for a customer are not limited.
    Raises ValidationFailed (422) for a missing or foreign `customer_id` or an
    unknown package; Conflict (409 `open-enquiries-limit`) for a customer at the
    limit, before anything is written.
    """
    customer = _enquiry_customer(actor, customer_id)
    _check_package(actor, package_id)
    check_open_enquiries(actor, customer)
    now = utcnow()
    hours = current_app.config.get("ENQUIRY_FIRST_RESPONSE_HOURS", 24)
    enquiry = Enquiry(
        customer_id=customer.id,
        package_id=package_id,
        subject=subject.strip(),
        message=message,
        source=(source or "phone") if is_staff(actor) else "web_form",
        campaign_tag=campaign_tag,
        created_by_id=actor.id if is_staff(actor) else None,
        created_at=now,
        first_response_due_at=now + timedelta(hours=hours),
    )
    _record_stage(enquiry, "new", by=actor, now=now)
    db.session.add(enquiry)
    db.session.flush()
    assignment.auto_assign(enquiry, now=now)
    db.session.commit()
    if is_staff(actor):
        enquiry.duplicates = customer_merge.find_duplicates(
            email=customer.email, phone=customer.phone, exclude_id=customer.id
        )
    return enquiry


def list_enquiries(
    *,
    actor,
    stage: str | None = None,
    status: str | None = None,
    assigned_to: int | None = None,
    customer_id: int | None = None,
    source: str | None = None,
    first_response_overdue: bool | None = None,
    q: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of enquiries, newest first unless `sort` says otherwise.

    Staff see all; a customer only their own (the filters still apply on top).
    `status` is the former name of `stage`; `first_response_overdue=true` keeps
    enquiries still waiting for a first reaction past their deadline. `q` matches
    subject or message case-insensitively. Raises ValidationFailed (422) for an
    unknown `sort` (docs/design.md "API conventions").
    """
    stmt = select(Enquiry)
    if not is_staff(actor):
        stmt = stmt.where(Enquiry.customer_id == actor.id)
    for value in (stage, status):
        if value is not None:
            stmt = stmt.where(Enquiry.stage == value)
    if assigned_to is not None:
        stmt = stmt.where(Enquiry.assigned_to_id == assigned_to)
    if customer_id is not None:
        stmt = stmt.where(Enquiry.customer_id == customer_id)
    if source is not None:
        stmt = stmt.where(Enquiry.source == source)
    if first_response_overdue is not None:
        late = (Enquiry.first_response_at.is_(None)) & (
            Enquiry.first_response_due_at < utcnow()
        )
        stmt = stmt.where(late if first_response_overdue else ~late)
    if q:
        stmt = stmt.where(text_matches(q, Enquiry.subject, Enquiry.message))
    stmt = order_by_sort(stmt, Enquiry, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def find_enquiry(enquiry_id: int, *, with_notes: bool = False) -> Enquiry:
    """The enquiry (its notes and stage history loaded when `with_notes`), or
    NotFound (404)."""
    options = (
        [selectinload(Enquiry.notes), selectinload(Enquiry.stage_changes)]
        if with_notes
        else []
    )
    enquiry = db.session.get(Enquiry, enquiry_id, options=options)
    if enquiry is None:
        raise NotFound("Enquiry")
    return enquiry


def visible_enquiry(actor, enquiry_id: int, *, with_notes: bool = False) -> Enquiry:
    """The enquiry if the actor may see it: staff any, a customer their own; else
    NotFound (404, also for another customer's enquiry - docs/design.md
    "Accounts and roles")."""
    enquiry = find_enquiry(enquiry_id, with_notes=with_notes)
    check_owner(actor, enquiry, "Enquiry")
    return enquiry


def get_enquiry(*, actor, enquiry_id: int) -> Enquiry:
    """One enquiry with its notes (oldest first), stage history and, for staff, its
    assignment history. Raises NotFound (404)."""
    enquiry = visible_enquiry(actor, enquiry_id, with_notes=True)
    if is_staff(actor):
        enquiry.assignments = assignment.assignment_history(enquiry.id)
    return enquiry


def _refuse_transition(enquiry: Enquiry, stage: str) -> None:
    """Conflict (409) naming `current_stage` and the `allowed` targets."""
    raise Conflict(
        _(
            "An enquiry cannot go from '%(current)s' to '%(stage)s'.",
            current=enquiry.stage,
            stage=stage,
        ),
        code="invalid-transition",
        extra={
            "current_stage": enquiry.stage,
            "current_status": enquiry.stage,
            "allowed": [s for s in ENQUIRY_TRANSITIONS[enquiry.stage] if s != "won"],
        },
    )


def check_winning_booking(enquiry: Enquiry, booking: Booking | None) -> Booking:
    """422 unless `booking` exists, belongs to the enquiry's customer and is live
    or done (not expired or cancelled); 409 when it already won another enquiry."""
    if booking is None or booking.customer_id != enquiry.customer_id:
        raise ValidationFailed(
            {"booking_id": [_("No booking of this enquiry's customer with this id.")]}
        )
    if booking.current_status in DEAD_BOOKINGS:
        raise ValidationFailed(
            {
                "booking_id": [
                    _(
                        "The booking is %(status)s; it cannot win.",
                        status=booking.current_status,
                    )
                ]
            }
        )
    other = db.session.scalar(
        select(Enquiry.id).where(
            Enquiry.booking_id == booking.id, Enquiry.id != enquiry.id
        )
    )
    if other is not None:
        raise Conflict(
            _("This booking already won enquiry %(enquiry)s.", enquiry=other),
            code="booking-already-linked",
            extra={"enquiry_id": other},
        )
    return booking


def win(enquiry: Enquiry, booking: Booking, *, by, now: datetime | None = None) -> None:
    """Link the winning booking and move the enquiry to `won` (no commit). 409 from
    a stage that is not open (won, lost: reopen it first)."""
    now = now or utcnow()
    if enquiry.stage not in OPEN_STAGES:
        _refuse_transition(enquiry, "won")
    enquiry.booking_id = booking.id
    enquiry.won_at = now
    _record_stage(enquiry, "won", by=by, now=now)
    mark_first_response(enquiry, now)


def _lose(enquiry, lost_reason_id, lost_feedback, *, by, now) -> None:
    """Move to `lost` with a reason (422 without an active one)."""
    if lost_reason_id is None:
        raise ValidationFailed(
            {"lost_reason_id": [_("A lost enquiry needs a lost reason.")]}
        )
    reason = lost_reasons.usable_reason(lost_reason_id)
    enquiry.lost_reason_id = reason.id
    enquiry.lost_feedback = lost_feedback
    _record_stage(enquiry, "lost", by=by, now=now)


def _change_stage(
    enquiry: Enquiry, stage: str, fields: dict, *, by, now, facts
) -> None:
    """Apply one requested stage change under the rules above (a reopening is
    audited with the request `facts`)."""
    if stage == "won":
        if fields.get("booking_id") is None:
            raise ValidationFailed(
                {
                    "booking_id": [
                        _(
                            "An enquiry is won only by linking a booking of its "
                            "customer."
                        )
                    ]
                }
            )
        return
    if stage not in ENQUIRY_TRANSITIONS[enquiry.stage]:
        _refuse_transition(enquiry, stage)
    if stage == "lost":
        _lose(
            enquiry,
            fields.get("lost_reason_id"),
            fields.get("lost_feedback"),
            by=by,
            now=now,
        )
        return
    if enquiry.stage == "lost":
        audit.record(
            "enquiry.reopened",
            entity_type="enquiry",
            entity_id=enquiry.id,
            facts=facts,
            actor=by,
            details={
                "lost_reason_id": enquiry.lost_reason_id,
                "lost_feedback": enquiry.lost_feedback,
            },
        )
        enquiry.lost_reason_id = None
        enquiry.lost_feedback = None
    _record_stage(enquiry, stage, by=by, now=now)


def update_enquiry(
    *, actor, enquiry_id: int, facts: audit.RequestFacts | None = None, **fields
) -> Enquiry:
    """Staff (admin, sales) work an enquiry; only the given fields change. Commits;
    a reopening is audited with the request `facts`.

    `fields` may hold `stage`, `lost_reason_id` and `lost_feedback` (with stage
    lost), `booking_id` (links the winning booking: stage `won`), `assigned_to_id`
    (None hands it back to the pool; history kept), `subject`, `message`, `source`,
    `campaign_tag`. Raises NotFound (404), ValidationFailed (422: bad assignee,
    booking, lost reason, lost fields without `stage: "lost"`), Conflict (409: a
    transition ENQUIRY_TRANSITIONS does not allow, a booking already linked).
    """
    enquiry = find_enquiry(enquiry_id, with_notes=True)
    now = utcnow()
    stage = fields.pop("stage", None)
    if stage != "lost" and ({"lost_reason_id", "lost_feedback"} & fields.keys()):
        raise ValidationFailed({"lost_reason_id": [_('Only with stage "lost".')]})
    if stage is not None and stage != enquiry.stage:
        _change_stage(enquiry, stage, fields, by=actor, now=now, facts=facts)
        mark_first_response(enquiry, now)
    if (
        fields.get("booking_id") is not None
        and enquiry.booking_id != fields["booking_id"]
    ):
        booking = check_winning_booking(
            enquiry, db.session.get(Booking, fields["booking_id"])
        )
        win(enquiry, booking, by=actor, now=now)
    if (
        "assigned_to_id" in fields
        and fields["assigned_to_id"] != enquiry.assigned_to_id
    ):
        if fields["assigned_to_id"] is not None:
            assignment.check_assignee(fields["assigned_to_id"])
        assignment.record(enquiry, fields["assigned_to_id"], method="manual", by=actor)
    for name in ("subject", "message", "source", "campaign_tag"):
        if name in fields:
            value = fields[name]
            setattr(enquiry, name, value.strip() if name == "subject" else value)
    db.session.commit()
    return get_enquiry(actor=actor, enquiry_id=enquiry.id)


def delete_enquiry(*, enquiry_id: int, facts: audit.RequestFacts | None = None) -> None:
    """Delete an enquiry and (by the foreign key's cascade) its notes, history,
    activities and quotes. Commits; audited with the request `facts`. Raises
    NotFound (404)."""
    enquiry = find_enquiry(enquiry_id)
    audit.record(
        "enquiry.deleted",
        entity_type="enquiry",
        entity_id=enquiry.id,
        facts=facts,
        details={"customer_id": enquiry.customer_id, "subject": enquiry.subject},
    )
    db.session.delete(enquiry)
    db.session.commit()


def list_notes(
    *,
    actor,
    enquiry_id: int,
    sort: str = "created_at",
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of an enquiry's notes, oldest first by default (a thread reads in
    order). Raises NotFound (404) when the actor may not see the enquiry."""
    visible_enquiry(actor, enquiry_id)
    stmt = select(EnquiryNote).where(EnquiryNote.enquiry_id == enquiry_id)
    stmt = order_by_sort(stmt, EnquiryNote, sort, ("created_at",))
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def add_note(*, actor, enquiry_id: int, body: str) -> EnquiryNote:
    """Add a staff note (admin, sales) or a customer message (the owner) and commit.

    A customer may not write to a `won` or `lost` enquiry (Conflict, 409); their
    message on an `on_hold` one resumes it (`contacted`). A staff note is a first
    response. Raises NotFound (404) for an enquiry the actor may not see.
    """
    enquiry = visible_enquiry(actor, enquiry_id, with_notes=True)
    staff = is_staff(actor)
    now = utcnow()
    if not staff and enquiry.stage in ("won", "lost"):
        raise Conflict(
            _("This enquiry is %(stage)s; raise a new one.", stage=enquiry.stage),
            code="enquiry-closed",
        )
    if not staff and enquiry.stage == "on_hold":
        _record_stage(enquiry, "contacted", by=actor, now=now)
    if staff:
        mark_first_response(enquiry, now)
    note = EnquiryNote(
        enquiry_id=enquiry.id,
        body=body,
        author_type="employee" if staff else "customer",
        author_employee_id=actor.id if staff else None,
        author_customer_id=None if staff else actor.id,
        author_name=actor.name,
    )
    enquiry.updated_at = now
    db.session.add(note)
    db.session.commit()
    return note
