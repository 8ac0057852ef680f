"""Customers: registration (self or by staff), lookups (DESIGN.md "Accounts and
roles")."""

from sqlalchemy import select

from auth.passwords import hash_password
from errors import Conflict
from extensions import db
from models import Customer
from services.employees import normalise_email


def find_customer_by_email(email: str) -> Customer | None:
    """The customer with this email (any case), or None."""
    return db.session.scalar(select(Customer).where(Customer.email == normalise_email(email)))


def create_customer(
    *, name: str, email: str, phone=None, address=None, password=None, registered_by=None
) -> Customer:
    """Create and commit a customer; `password` optional (staff registration).

    `registered_by` is the Employee who registered them, None for self-registration.
    Raises Conflict (409) when the email is taken.
    """
    if find_customer_by_email(email):
        raise Conflict("A customer with this email already exists.", code="email-taken")
    customer = Customer(
        name=name.strip(),
        email=normalise_email(email),
        phone=phone,
        address=address,
        password_hash=hash_password(password) if password else None,
        registered_by_id=registered_by.id if registered_by else None,
    )
    db.session.add(customer)
    db.session.commit()
    return customer
