"""Enquiries and their note threads (docs/design.md "Lifecycles": enquiry; "Accounts and
roles": create enquiry, work enquiries).

Rules kept here, beyond the design's words:
- a customer raises enquiries only for themselves; another `customer_id` is 422;
- `package_id` must name an existing package (customers: a published one), else 422;
- status transitions follow `ENQUIRY_TRANSITIONS` (409 otherwise); asking for the
  status the enquiry already has is a no-op;
- assigning a `new` enquiry (without naming a status) moves it to `in_progress`;
- a customer may not write to a `closed` enquiry (409); their reply to a `resolved`
  one reopens it (`in_progress`); staff notes never change the status;
- every note is part of the conversation the owning customer sees (no internal notes).
"""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from auth.decorators import is_staff
from errors import Conflict, NotFound, ValidationFailed
from extensions import db
from models import Customer, Employee, Enquiry, EnquiryNote, Package
from models.base import utcnow
from models.enquiry import ENQUIRY_TRANSITIONS
from services import audit
from services.common import Page, order_by_sort, paginate, text_matches

ASSIGNABLE_ROLES = ("sales", "admin")
SORTABLE = ("created_at", "updated_at")
UNSET = object()


def _check_package(actor, package_id: int | None) -> None:
    """422 unless `package_id` is None or a package the actor may reference."""
    if package_id is None:
        return
    package = db.session.get(Package, package_id)
    if package is None or (not is_staff(actor) and package.status != "published"):
        raise ValidationFailed({"package_id": ["No such package."]})


def _enquiry_customer_id(actor, customer_id: int | None) -> int:
    """The customer the new enquiry belongs to; 422 when the body names a wrong one."""
    if not is_staff(actor):
        if customer_id not in (None, actor.id):
            raise ValidationFailed(
                {"customer_id": ["A customer can only raise an enquiry for themselves."]}
            )
        return actor.id
    if customer_id is None:
        raise ValidationFailed({"customer_id": ["Missing data for required field."]})
    if db.session.get(Customer, customer_id) is None:
        raise ValidationFailed({"customer_id": ["No such customer."]})
    return customer_id


def create_enquiry(
    *,
    actor,
    subject: str,
    message: str,
    customer_id: int | None = None,
    package_id: int | None = None,
) -> Enquiry:
    """Raise a `new` enquiry and commit it.

    `actor` is the calling Employee (admin, sales: for `customer_id`, required) or
    Customer (for themselves: "contact us"). Raises ValidationFailed (422) for a
    missing or foreign `customer_id` or an unknown package (docs/design.md "Lifecycles").
    """
    owner_id = _enquiry_customer_id(actor, customer_id)
    _check_package(actor, package_id)
    enquiry = Enquiry(
        customer_id=owner_id,
        package_id=package_id,
        subject=subject.strip(),
        message=message,
        status="new",
        created_by_id=actor.id if is_staff(actor) else None,
    )
    db.session.add(enquiry)
    db.session.commit()
    return enquiry


def list_enquiries(
    *,
    actor,
    status: str | None = None,
    assigned_to: int | None = None,
    customer_id: int | None = None,
    q: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """One page of enquiries, newest first unless `sort` says otherwise.

    Staff see all; a customer only their own (the filters still apply on top).
    `q` matches subject or message case-insensitively. Raises ValidationFailed (422)
    for an unknown `sort` (docs/design.md "API conventions").
    """
    stmt = select(Enquiry)
    if not is_staff(actor):
        stmt = stmt.where(Enquiry.customer_id == actor.id)
    if status is not None:
        stmt = stmt.where(Enquiry.status == status)
    if assigned_to is not None:
        stmt = stmt.where(Enquiry.assigned_to_id == assigned_to)
    if customer_id is not None:
        stmt = stmt.where(Enquiry.customer_id == customer_id)
    if q:
        stmt = stmt.where(text_matches(q, Enquiry.subject, Enquiry.message))
    stmt = order_by_sort(stmt, Enquiry, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page)


def _find_enquiry(enquiry_id: int, *, with_notes: bool = False) -> Enquiry:
    """The enquiry (its notes loaded when `with_notes`), or NotFound (404)."""
    options = [selectinload(Enquiry.notes)] if with_notes else []
    enquiry = db.session.get(Enquiry, enquiry_id, options=options)
    if enquiry is None:
        raise NotFound("Enquiry")
    return enquiry


def _visible_enquiry(actor, enquiry_id: int, *, with_notes: bool = False) -> Enquiry:
    """The enquiry if the actor may see it: staff any, a customer their own; else
    NotFound (404, also for another customer's enquiry - docs/design.md "Accounts and roles")."""
    enquiry = _find_enquiry(enquiry_id, with_notes=with_notes)
    if not is_staff(actor) and enquiry.customer_id != actor.id:
        raise NotFound("Enquiry")
    return enquiry


def get_enquiry(*, actor, enquiry_id: int) -> Enquiry:
    """One enquiry with its notes loaded (oldest first). Raises NotFound (404)."""
    return _visible_enquiry(actor, enquiry_id, with_notes=True)


def _check_assignee(employee_id: int) -> None:
    """422 unless the id names an active sales or admin employee."""
    employee = db.session.get(Employee, employee_id)
    if employee is None or not employee.active or employee.role not in ASSIGNABLE_ROLES:
        raise ValidationFailed(
            {"assigned_to_id": ["Assign an active employee with role sales or admin."]}
        )


def _change_status(enquiry: Enquiry, status: str) -> None:
    """Apply a status change allowed by ENQUIRY_TRANSITIONS; Conflict (409) otherwise,
    naming `current_status` and the `allowed` targets (`status` is the problem's HTTP
    status, RFC 9457). Asking for the current status changes nothing."""
    if status == enquiry.status:
        return
    if status not in ENQUIRY_TRANSITIONS[enquiry.status]:
        raise Conflict(
            f"An enquiry cannot go from '{enquiry.status}' to '{status}'.",
            code="invalid-transition",
            extra={
                "current_status": enquiry.status,
                "allowed": list(ENQUIRY_TRANSITIONS[enquiry.status]),
            },
        )
    enquiry.status = status


def _assign(enquiry: Enquiry, employee_id: int | None, *, status_given: bool) -> None:
    """Set (or with None clear) the assignee; a `new` enquiry that gets an assignee
    and no explicit status moves to `in_progress` (someone is now working it)."""
    if employee_id is not None and enquiry.status == "new" and not status_given:
        enquiry.status = "in_progress"
    enquiry.assigned_to_id = employee_id


def update_enquiry(
    *,
    enquiry_id: int,
    status: str | None = None,
    subject: str | None = None,
    message: str | None = None,
    assigned_to_id: int | None = UNSET,  # type: ignore[assignment] - UNSET: not sent
) -> Enquiry:
    """Staff (admin, sales) work an enquiry; only the given fields change. Commits.

    `assigned_to_id` None unassigns; assigning a `new` enquiry without naming a
    status moves it to `in_progress`. Raises NotFound (404), ValidationFailed (422)
    for a bad assignee, Conflict (409) for a transition docs/design.md "Lifecycles" and
    ENQUIRY_TRANSITIONS do not allow.
    """
    enquiry = _find_enquiry(enquiry_id, with_notes=True)
    if assigned_to_id not in (UNSET, None):
        _check_assignee(assigned_to_id)
    if status is not None:
        _change_status(enquiry, status)
    if assigned_to_id is not UNSET:
        _assign(enquiry, assigned_to_id, status_given=status is not None)
    if subject is not None:
        enquiry.subject = subject.strip()
    if message is not None:
        enquiry.message = message
    db.session.commit()
    return enquiry


def delete_enquiry(*, enquiry_id: int) -> None:
    """Delete an enquiry and (by the foreign key's cascade) its notes. Commits.
    Raises NotFound (404)."""
    enquiry = _find_enquiry(enquiry_id)
    audit.record(
        "enquiry.deleted", entity_type="enquiry", entity_id=enquiry.id,
        details={"customer_id": enquiry.customer_id, "subject": enquiry.subject},
    )
    db.session.delete(enquiry)
    db.session.commit()


def list_notes(
    *, actor, enquiry_id: int, sort: str = "created_at", page: int = 1, per_page: int = 20
) -> Page:
    """One page of an enquiry's notes, oldest first by default (a thread reads in
    order). Raises NotFound (404) when the actor may not see the enquiry."""
    _visible_enquiry(actor, enquiry_id)
    stmt = select(EnquiryNote).where(EnquiryNote.enquiry_id == enquiry_id)
    stmt = order_by_sort(stmt, EnquiryNote, sort, ("created_at",))
    return paginate(stmt, page=page, per_page=per_page)


def add_note(*, actor, enquiry_id: int, body: str) -> EnquiryNote:
    """Add a staff note (admin, sales) or a customer message (the owner) and commit.

    A customer may not write to a `closed` enquiry (Conflict, 409); their message on a
    `resolved` one reopens it to `in_progress`. Raises NotFound (404) for an enquiry
    the actor may not see.
    """
    enquiry = _visible_enquiry(actor, enquiry_id)
    staff = is_staff(actor)
    if not staff and enquiry.status == "closed":
        raise Conflict("This enquiry is closed; raise a new one.", code="enquiry-closed")
    if not staff and enquiry.status == "resolved":
        enquiry.status = "in_progress"
    note = EnquiryNote(
        enquiry_id=enquiry.id,
        body=body,
        author_type="employee" if staff else "customer",
        author_employee_id=actor.id if staff else None,
        author_customer_id=None if staff else actor.id,
        author_name=actor.name,
    )
    enquiry.updated_at = utcnow()
    db.session.add(note)
    db.session.commit()
    return note
