"""Who works an enquiry (docs/design.md "Lifecycles": enquiry, "assigned by
capacity-weighted round-robin among active sales employees").

- Each sales employee carries at most `capacity` open enquiries (stages new,
  contacted, quoted, on_hold); the capacity is also their round-robin weight. An
  employee without a SalesCapacity row has DEFAULT_CAPACITY.
- The next enquiry goes to the active, present sales employee with the lowest load
  (open enquiries / capacity) who still has room; ties go to whoever was assigned
  least recently, then the lowest id. Over many enquiries each employee's share is
  proportional to their capacity (a weighted round-robin, smooth rather than bursty).
- Deactivated employees and employees absent now (absent_from <= now < absent_until)
  are skipped. When nobody has room the enquiry stays in the pool (unassigned).
- Every (re)assignment is kept in `enquiry_assignments`: round-robin, manual (who
  did it), or pool (handed back when the assignee was deactivated).
"""

from datetime import datetime

from sqlalchemy import func, select

from core.errors import NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Employee, Enquiry, EnquiryAssignment, SalesCapacity
from models.base import utcnow
from models.enquiry import OPEN_STAGES

DEFAULT_CAPACITY = 20
POOL_ROLE = "sales"
ASSIGNABLE_ROLES = ("sales", "admin")


def open_loads() -> dict[int, int]:
    """Open enquiries per assigned employee id (one GROUP BY)."""
    rows = db.session.execute(
        select(Enquiry.assigned_to_id, func.count(Enquiry.id))
        .where(Enquiry.assigned_to_id.is_not(None), Enquiry.stage.in_(OPEN_STAGES))
        .group_by(Enquiry.assigned_to_id)
    ).all()
    return {employee_id: count for employee_id, count in rows}


def _settings(employee_id: int) -> SalesCapacity:
    """The employee's SalesCapacity row, created with the default when missing
    (added to the session, not committed)."""
    row = db.session.get(SalesCapacity, employee_id)
    if row is None:
        row = SalesCapacity(employee_id=employee_id, capacity=DEFAULT_CAPACITY)
        db.session.add(row)
    return row


def pick_assignee(*, now: datetime, exclude: int | None = None) -> Employee | None:
    """The employee who gets the next enquiry by the rule above, or None (pool).

    `exclude` leaves one employee out (the one handing enquiries back)."""
    employees = db.session.scalars(
        select(Employee).where(Employee.role == POOL_ROLE, Employee.active.is_(True))
    ).all()
    settings = {
        row.employee_id: row
        for row in db.session.scalars(
            select(SalesCapacity).where(
                SalesCapacity.employee_id.in_([e.id for e in employees])
            )
        )
    }
    loads = open_loads()
    best, best_key = None, None
    for employee in employees:
        row = settings.get(employee.id)
        capacity = row.capacity if row is not None else DEFAULT_CAPACITY
        load = loads.get(employee.id, 0)
        if employee.id == exclude or capacity <= 0 or load >= capacity:
            continue
        if row is not None and row.absent(now):
            continue
        last = row.last_assigned_at if row is not None else None
        key = (load / capacity, last is not None, last or now, employee.id)
        if best_key is None or key < best_key:
            best, best_key = employee, key
    return best


def record(enquiry: Enquiry, employee_id: int | None, *, method: str, by=None) -> None:
    """Point the enquiry at `employee_id` (None: the pool) and keep the history row;
    no commit. Round-robin picks also stamp the employee's `last_assigned_at`."""
    previous = enquiry.assigned_to_id
    enquiry.assigned_to_id = employee_id
    db.session.add(
        EnquiryAssignment(
            enquiry_id=enquiry.id,
            employee_id=employee_id,
            previous_employee_id=previous,
            method=method,
            assigned_by_id=by.id if by is not None else None,
        )
    )
    if employee_id is not None and method == "round_robin":
        _settings(employee_id).last_assigned_at = utcnow()


def auto_assign(enquiry: Enquiry, *, now: datetime | None = None) -> Employee | None:
    """Give an unassigned enquiry to the next employee by round-robin (no commit);
    returns them, or None when nobody has room (the enquiry stays in the pool)."""
    employee = pick_assignee(now=now or utcnow())
    if employee is not None:
        record(enquiry, employee.id, method="round_robin")
        db.session.flush()
    return employee


def check_assignee(employee_id: int) -> None:
    """422 unless the id names an active sales or admin employee (manual assignment
    may also pick an admin or someone over capacity: a deliberate choice)."""
    employee = db.session.get(Employee, employee_id)
    if employee is None or not employee.active or employee.role not in ASSIGNABLE_ROLES:
        raise ValidationFailed(
            {
                "assigned_to_id": [
                    _("Assign an active employee with role sales or admin.")
                ]
            }
        )


def release_to_pool(employee_id: int) -> int:
    """Hand the employee's open enquiries back: each goes to the next employee by
    round-robin, or stays unassigned in the pool when nobody has room. No commit
    (the caller's deactivation commits). Returns how many were handed back."""
    enquiries = db.session.scalars(
        select(Enquiry)
        .where(Enquiry.assigned_to_id == employee_id, Enquiry.stage.in_(OPEN_STAGES))
        .order_by(Enquiry.created_at, Enquiry.id)
    ).all()
    now = utcnow()
    for enquiry in enquiries:
        record(enquiry, None, method="pool")
        db.session.flush()
        successor = pick_assignee(now=now, exclude=employee_id)
        if successor is not None:
            record(enquiry, successor.id, method="round_robin")
            db.session.flush()
    return len(enquiries)


def assignment_history(enquiry_id: int) -> list[EnquiryAssignment]:
    """The enquiry's assignments, oldest first."""
    return list(
        db.session.scalars(
            select(EnquiryAssignment)
            .where(EnquiryAssignment.enquiry_id == enquiry_id)
            .order_by(EnquiryAssignment.id)
        )
    )


def get_capacity(*, employee_id: int) -> dict:
    """The employee's capacity, absence and current open load. NotFound (404) for
    an unknown employee."""
    employee = db.session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("Employee")
    row = db.session.get(SalesCapacity, employee_id)
    return _capacity_view(employee, row)


def _capacity_view(employee: Employee, row: SalesCapacity | None) -> dict:
    now = utcnow()
    return {
        "employee_id": employee.id,
        "capacity": row.capacity if row is not None else DEFAULT_CAPACITY,
        "absent_from": row.absent_from if row is not None else None,
        "absent_until": row.absent_until if row is not None else None,
        "absent": bool(row is not None and row.absent(now)),
        "open_enquiries": open_loads().get(employee.id, 0),
        "last_assigned_at": row.last_assigned_at if row is not None else None,
    }


def set_capacity(*, employee_id: int, changes: dict) -> dict:
    """Set a sales employee's `capacity` (>= 0), `absent_from`, `absent_until`
    (aware UTC datetimes or None) and commit. NotFound (404); ValidationFailed (422)
    when absent_until is not after absent_from."""
    employee = db.session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("Employee")
    row = _settings(employee_id)
    for field, value in changes.items():
        setattr(row, field, value)
    if row.absent_from and row.absent_until and row.absent_until <= row.absent_from:
        db.session.rollback()
        raise ValidationFailed({"absent_until": [_("Must be after absent_from.")]})
    db.session.commit()
    return _capacity_view(employee, row)
