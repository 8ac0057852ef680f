"""Employees: creation by the admin, the first-admin bootstrap, lookups
(DESIGN.md "Accounts and roles")."""

from sqlalchemy import select

from auth.passwords import hash_password
from errors import Conflict
from extensions import db
from models import Employee


def normalise_email(email: str) -> str:
    """Emails are unique case-insensitively: store them stripped and lower-cased."""
    return email.strip().lower()


def find_employee_by_email(email: str) -> Employee | None:
    """The employee with this email (any case), or None."""
    return db.session.scalar(select(Employee).where(Employee.email == normalise_email(email)))


def create_employee(*, name: str, email: str, role: str, password: str, phone=None) -> Employee:
    """Create and commit an employee with a hashed initial password.

    Raises Conflict (409) when the email is taken.
    """
    if find_employee_by_email(email):
        raise Conflict("An employee with this email already exists.", code="email-taken")
    employee = Employee(
        name=name.strip(),
        email=normalise_email(email),
        phone=phone,
        role=role,
        password_hash=hash_password(password),
    )
    db.session.add(employee)
    db.session.commit()
    return employee


def ensure_first_admin(*, email: str, password: str, name: str) -> Employee | None:
    """Create an admin from ADMIN_EMAIL / ADMIN_PASSWORD when no admin exists yet.

    Returns the new admin, or None when an admin already exists.
    """
    if db.session.scalar(select(Employee.id).where(Employee.role == "admin").limit(1)):
        return None
    return create_employee(name=name, email=email, role="admin", password=password)
