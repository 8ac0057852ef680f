"""Employees: creation by the admin, the first-admin bootstrap, lookups, listing,
contact edits, role changes and deactivation (docs/design.md "Accounts and roles").

An `operator` works for exactly one active transport company (`company_id`, set by
an admin); no other role has one (docs/transport.md "Companies and operators"; the
`operator_company` CHECK of models/account.py backs it)."""

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from auth.passwords import hash_password
from core.errors import Conflict, Forbidden, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Employee, TransportCompany
from models.base import utcnow
from services.audit import audit
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import commit_or_conflict, get_or_404, text_matches

SORTABLE = ("name", "email", "created_at")
CONTACT_FIELDS = {"name", "email", "phone", "locale"}
ADMIN_ONLY_FIELDS = {"role", "active", "company_id"}
AUDITED_FIELDS = ("role", "active", "company_id", *sorted(CONTACT_FIELDS))
OPERATOR = "operator"


def normalise_email(email: str) -> str:
    """Emails are unique case-insensitively: store them stripped and lower-cased."""
    return email.strip().lower()


def find_employee_by_email(email: str) -> Employee | None:
    """The employee with this email (any case), or None."""
    return db.session.scalar(
        select(Employee).where(Employee.email == normalise_email(email))
    )


def _email_taken() -> Conflict:
    return Conflict(
        _("An employee with this email already exists."), code="email-taken"
    )


def _commit_unique_email() -> None:
    """Commit; a concurrent writer's UNIQUE violation becomes the same 409."""
    commit_or_conflict(
        _("An employee with this email already exists."), code="email-taken"
    )


def check_operator_company(
    role: str, company_id: int | None, current: int | None = None
) -> None:
    """The company rule of a role (docs/transport.md "Companies and operators"):
    an `operator` needs `company_id`, naming an existing active transport company
    (not checked again when it is the employee's `current` one); any other role
    has none. Raises ValidationFailed (422 on `company_id`)."""
    if role != OPERATOR:
        if company_id is not None:
            raise ValidationFailed(
                {"company_id": [_("Only an operator belongs to a transport company.")]}
            )
        return
    if company_id is None:
        raise ValidationFailed({"company_id": [_("Required for the operator role.")]})
    if company_id == current:
        return
    company = db.session.get(TransportCompany, company_id)
    if company is None or not company.active:
        raise ValidationFailed(
            {"company_id": [_("No active transport company with this id.")]}
        )


def create_employee(
    *,
    name: str,
    email: str,
    role: str,
    password: str,
    phone=None,
    company_id: int | None = None,
    locale: str | None = None,
    facts: audit.RequestFacts | None = None,
) -> Employee:
    """Create and commit an employee with a hashed initial password; audited with
    the request `facts` (None: by `system`, e.g. the CLI). `company_id` is the
    transport company of an `operator` (check_operator_company); `locale` (`en`,
    `de`, `es` or None: follow Accept-Language) the language of their mail and
    answers (docs/i18n.md).

    Raises ValidationFailed (422) for a missing, unknown, inactive or
    misplaced `company_id`; Conflict (409) when the email is taken (any case).
    """
    check_operator_company(role, company_id)
    if find_employee_by_email(email):
        raise _email_taken()
    employee = Employee(
        name=name.strip(),
        email=normalise_email(email),
        phone=phone,
        role=role,
        company_id=company_id,
        locale=locale,
        password_hash=hash_password(password),
    )
    db.session.add(employee)
    try:
        db.session.flush()  # the id, for the audit entry
    except IntegrityError as exc:
        db.session.rollback()
        raise _email_taken() from exc
    audit.record(
        "employee.created",
        entity_type="employee",
        entity_id=employee.id,
        facts=facts,
        details={
            "email": employee.email,
            "role": role,
            **({"company_id": company_id} if company_id is not None else {}),
        },
    )
    _commit_unique_email()
    return employee


def ensure_first_admin(*, email: str, password: str, name: str) -> Employee | None:
    """Create an admin from ADMIN_EMAIL / ADMIN_PASSWORD when no admin exists yet.

    Returns the new admin, or None when an admin already exists. Safe when several
    processes start at once (gunicorn workers): the UNIQUE email lets exactly one
    insert win, the others see the conflict, roll back and return None.
    """
    if db.session.scalar(select(Employee.id).where(Employee.role == "admin").limit(1)):
        return None
    try:
        return create_employee(name=name, email=email, role="admin", password=password)
    except Conflict:
        db.session.rollback()
        return None


def list_employees(
    *,
    q: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    company_id: int | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of employees, newest first unless `sort` (name, email, created_at).

    `q` matches name or email case-insensitively; `role`, `active` and
    `company_id` (an operator's transport company) filter.
    Raises ValidationFailed (422) for an unknown sort field.
    """
    stmt = select(Employee)
    if q:
        stmt = stmt.where(text_matches(q, Employee.name, Employee.email))
    if role is not None:
        stmt = stmt.where(Employee.role == role)
    if active is not None:
        stmt = stmt.where(Employee.active.is_(active))
    if company_id is not None:
        stmt = stmt.where(Employee.company_id == company_id)
    stmt = order_by_sort(stmt, Employee, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_employee(*, employee_id: int) -> Employee:
    """The employee with this id. Raises NotFound (404)."""
    return get_or_404(Employee, employee_id, "Employee")


def _removes_admin(employee: Employee, changes: dict) -> bool:
    """True when `changes` would take an active admin out of the active admins."""
    if employee.role != "admin" or not employee.active:
        return False
    demoted = changes.get("role", "admin") != "admin"
    deactivated = changes.get("active", True) is False
    return demoted or deactivated


def _guard_admin_removal(employee: Employee, actor: Employee) -> None:
    """Refuse to demote or deactivate oneself or the last active admin (409).

    The active admin rows are locked first (PostgreSQL: concurrent removals queue up
    and re-check); the conditional UPDATE then counts the other active admins inside
    the write itself, which SQLite serialises (docs/architecture.md "Stack notes":
    atomic conditional UPDATE instead of `with_for_update`).
    """
    if employee.id == actor.id:
        raise Conflict(
            _("You cannot deactivate or demote your own account."), code="self-demotion"
        )
    active_admin = (Employee.role == "admin", Employee.active.is_(True))
    db.session.scalars(select(Employee.id).where(*active_admin).with_for_update()).all()
    others = (
        select(func.count())
        .select_from(Employee)
        .where(*active_admin, Employee.id != employee.id)
        .scalar_subquery()
    )
    result = db.session.execute(
        update(Employee)
        .where(Employee.id == employee.id, Employee.active.is_(True), others >= 1)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict(
            _("The last active admin cannot be deactivated or demoted."),
            code="last-admin",
        )


def _check_allowed_fields(changes: dict, actor: Employee, employee: Employee) -> None:
    """hr edits contact data only, and never an admin's account (403)."""
    if actor.role == "admin":
        return
    sent = sorted(ADMIN_ONLY_FIELDS & changes.keys())
    if sent:
        raise Forbidden(
            _("Only an admin may change: %(fields)s.", fields=", ".join(sent))
        )
    if employee.role == "admin":
        # An hr-set email on an admin account would let hr reset the admin's password.
        raise Forbidden(_("Only an admin may edit an admin's account."))


def _with_company(employee: Employee, changes: dict) -> dict:
    """`changes` with the `company_id` the new role implies: kept for an operator
    staying one, cleared for a role other than `operator` unless sent; then
    checked (check_operator_company, 422)."""
    if "role" not in changes and "company_id" not in changes:
        return changes
    role = changes.get("role", employee.role)
    if "company_id" in changes:
        company_id = changes["company_id"]
    else:
        company_id = employee.company_id if role == OPERATOR else None
    check_operator_company(role, company_id, employee.company_id)
    return {**changes, "company_id": company_id}


def _apply(employee: Employee, changes: dict) -> None:
    """Copy validated fields onto `employee`; deactivation ends its sessions."""
    for field, value in changes.items():
        if field == "name":
            value = value.strip()
        elif field == "email":
            value = normalise_email(value)
        setattr(employee, field, value)
    if changes.get("active") is False:
        # Also keeps old tokens dead if the account is reactivated later.
        employee.tokens_valid_after = utcnow()
        # Their open enquiries go back to the pool (services/sales/assignment.py).
        from services.sales.assignment import release_to_pool

        release_to_pool(employee.id)


def update_employee(
    *,
    employee_id: int,
    changes: dict,
    actor: Employee,
    facts: audit.RequestFacts | None = None,
) -> Employee:
    """Apply a partial update by `actor` (admin or hr) and commit; audited with the
    request `facts`.

    Admin may change name, email, phone, role, active, company_id; hr only name,
    email, phone of non-admin accounts (docs/design.md "Accounts and roles"). An
    operator needs an active transport company, other roles none: leaving the
    `operator` role clears it (docs/transport.md "Companies and operators"). A
    new `email` applies at once only from an admin for someone else; otherwise it
    starts a pending change that the employee confirms with a code mailed to the
    new address (services/accounts/email_change.py). Raises NotFound (404), Forbidden
    (403), ValidationFailed (422) for a missing, unknown, inactive or misplaced
    `company_id`, Conflict (409) for a taken email, self-demotion or the last
    active admin.
    """
    from services.accounts import email_change

    employee = get_employee(employee_id=employee_id)
    _check_allowed_fields(changes, actor, employee)
    changes = _with_company(employee, dict(changes))
    email = changes.pop("email", None)
    if email is not None:
        other = find_employee_by_email(email)
        if other is not None and other.id != employee.id:
            raise _email_taken()
    if _removes_admin(employee, changes):
        _guard_admin_removal(employee, actor)
    before = {field: getattr(employee, field) for field in AUDITED_FIELDS}
    _apply(employee, changes)
    direct = email is not None and email_change.applies_directly(employee, actor)
    old_email = None
    if direct and normalise_email(email) != employee.email:
        old_email = email_change.apply_change(
            employee, email, actor=actor, via="admin", facts=facts
        )
    _audit_changes(employee, before, actor, facts)
    _commit_unique_email()
    if old_email is not None:
        email_change.tell_old_address(employee, old_email)
    elif email is not None:
        email_change.start_change(employee, email, actor=actor, facts=facts)
    return employee


def _audit_changes(employee: Employee, before: dict, actor: Employee, facts) -> None:
    """Audit what an edit really changed: the role (`from`/`to`),
    deactivation or reactivation, and contact data (field names only)."""

    def record(action: str, details: dict | None = None) -> None:
        audit.record(
            action,
            entity_type="employee",
            entity_id=employee.id,
            facts=facts,
            actor=actor,
            details=details,
        )

    if employee.role != before["role"]:
        record("employee.role_changed", {"from": before["role"], "to": employee.role})
    if employee.company_id != before["company_id"]:
        record(
            "employee.company_changed",
            {"from": before["company_id"], "to": employee.company_id},
        )
    if employee.active != before["active"]:
        record("employee.reactivated" if employee.active else "employee.deactivated")
    edited = sorted(f for f in CONTACT_FIELDS if getattr(employee, f) != before[f])
    if edited:
        record("employee.updated", {"fields": edited})


def deactivate_employee(
    *, employee_id: int, actor: Employee, facts: audit.RequestFacts | None = None
) -> None:
    """Soft-delete: mark the employee inactive; their tokens stop working at once.
    Audited as done by `actor` with the request `facts`.

    Idempotent for an already inactive employee. Raises NotFound (404) and Conflict
    (409) for oneself or the last active admin (docs/design.md "Accounts and roles").
    """
    employee = get_employee(employee_id=employee_id)
    if not employee.active:
        return
    if employee.id == actor.id:
        raise Conflict("You cannot deactivate your own account.", code="self-demotion")
    if employee.role == "admin":
        _guard_admin_removal(employee, actor)
    _apply(employee, {"active": False})
    audit.record(
        "employee.deactivated",
        entity_type="employee",
        entity_id=employee.id,
        facts=facts,
        actor=actor,
        details={"via": "delete"},
    )
    db.session.commit()
