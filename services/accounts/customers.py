"""Customers: registration (self or by staff), lookups, listing, edits and deletion
(docs/design.md "Accounts and roles", "Rules with numbers": deleting a customer)."""

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from auth.passwords import hash_password
from core.errors import Conflict, Forbidden, NotFound
from core.extensions import db
from core.i18n import _, _l
from models import Booking, Customer, CustomerMergeRequest, OtpCode
from models.account import is_staff
from models.base import utcnow
from services.accounts.employees import normalise_email
from services.audit import audit
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import commit_or_conflict, get_or_404, text_matches

SORTABLE = ("name", "email", "created_at")
HAS_BOOKINGS = _l(
    "The customer has bookings and cannot be deleted: financial records are kept. "
    "Deactivate the customer instead (PATCH active=false)."
)
IN_MERGE_REQUEST = _l(
    "The customer is named in a merge request, kept as the record of its approval "
    '(docs/security.md "Merging customers"), and cannot be deleted. Deactivate '
    "the customer instead (PATCH active=false)."
)


def find_customer_by_email(email: str) -> Customer | None:
    """The customer with this email (any case), or None."""
    return db.session.scalar(
        select(Customer).where(Customer.email == normalise_email(email))
    )


def _email_taken() -> Conflict:
    return Conflict(_("A customer with this email already exists."), code="email-taken")


def _commit_unique_email() -> None:
    """Commit; a concurrent writer's UNIQUE violation becomes the same 409."""
    commit_or_conflict(
        _("A customer with this email already exists."), code="email-taken"
    )


def create_customer(
    *,
    name: str,
    email: str,
    phone=None,
    address=None,
    password=None,
    registered_by=None,
    billing_address: str | None = None,
    vat_id: str | None = None,
    locale: str | None = None,
) -> Customer:
    """Create and commit a customer; `password` optional (staff registration).

    `billing_address` and `vat_id` are what invoices show as the buyer
    (docs/documents.md; the VAT id is stored upper-case); `locale` (`en`, `de`,
    `es` or None) the language of their mail and documents: routes pass the
    request's language for a self-registration that names none (docs/i18n.md).

    `registered_by` is the Employee who registered them, None for self-registration.
    Raises Conflict (409) when the email is taken (any case). The returned customer
    carries `duplicates` (staff registration only): other customers with the same
    normalised phone.
    """
    if find_customer_by_email(email):
        raise _email_taken()
    customer = Customer(
        name=name.strip(),
        email=normalise_email(email),
        phone=phone,
        address=address,
        billing_address=billing_address,
        vat_id=vat_id.upper() if vat_id else None,
        locale=locale,
        password_hash=hash_password(password) if password else None,
        registered_by_id=registered_by.id if registered_by else None,
        # SQLite may reuse a deleted customer's id: tokens issued before this account
        # existed must never authenticate as it.
        tokens_valid_after=utcnow(),
    )
    db.session.add(customer)
    _commit_unique_email()
    if registered_by is not None:
        # Warn staff (never a self-registering stranger) about look-alikes with the
        # same normalised phone: services/sales/customer_merge.py.
        from services.sales.customer_merge import find_duplicates

        customer.duplicates = find_duplicates(
            phone=customer.phone, exclude_id=customer.id
        )
    return customer


def list_customers(
    *,
    q: str | None = None,
    active: bool | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of customers, newest first unless `sort` (name, email, created_at).

    `q` matches name, email or phone case-insensitively; `active` filters.
    Raises ValidationFailed (422) for an unknown sort field.
    """
    stmt = select(Customer)
    if q:
        stmt = stmt.where(
            text_matches(q, Customer.name, Customer.email, Customer.phone)
        )
    if active is not None:
        stmt = stmt.where(Customer.active.is_(active))
    stmt = order_by_sort(stmt, Customer, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_customer(*, customer_id: int, actor) -> Customer:
    """The customer `actor` may see: any for staff, only themself for a customer.

    Raises NotFound (404) for a missing customer and for another customer's record
    (docs/design.md "Accounts and roles": a customer asking for another customer's
    resource gets 404).
    """
    if not is_staff(actor) and actor.id != customer_id:
        raise NotFound("Customer")
    return get_or_404(Customer, customer_id, "Customer")


def _audit_changes(customer, changes, old_phone, was_active, *, actor, facts) -> None:
    """Audit a changed phone (a matching phone lets staff merge two customers
    without a second approver, services/sales/customer_merge.py) and a changed
    `active` flag."""
    if "phone" in changes and customer.phone != old_phone:
        audit.record(
            "customer.phone_changed",
            entity_type="customer",
            entity_id=customer.id,
            facts=facts,
            actor=actor,
            details={"old_phone": old_phone, "new_phone": customer.phone},
        )
    if "active" in changes and changes["active"] != was_active:
        audit.record(
            "customer.reactivated" if customer.active else "customer.deactivated",
            entity_type="customer",
            entity_id=customer.id,
            facts=facts,
            actor=actor,
        )


def update_customer(
    *, customer_id: int, changes: dict, actor, facts: audit.RequestFacts | None = None
) -> Customer:
    """Apply a partial update and commit; deactivation ends the customer's sessions.
    Audited as done by `actor` with the request `facts`.

    A new `email` from the admin applies at once (the old address is told, sessions
    end); from anyone else (sales, the customer) it only starts a pending change
    confirmed by the customer with a code mailed to the new address
    (services/accounts/email_change.py).

    Staff (admin, sales) may change every field including `active`; a customer only
    their own contact data. Raises NotFound (404), Forbidden (403) when a customer
    sends `active`, Conflict (409) for a taken email.
    """
    from services.accounts import email_change

    customer = get_customer(customer_id=customer_id, actor=actor)
    if "active" in changes and not is_staff(actor):
        raise Forbidden(_("Only staff may change whether an account is active."))
    changes = dict(changes)
    email = changes.pop("email", None)
    if email is not None:
        other = find_customer_by_email(email)
        if other is not None and other.id != customer.id:
            raise _email_taken()
    direct = email is not None and email_change.applies_directly(customer, actor)
    old_email = None
    if direct and normalise_email(email) != customer.email:
        old_email = email_change.apply_change(
            customer, email, actor=actor, via="admin", facts=facts
        )
    was_active = customer.active
    old_phone = customer.phone
    for field, value in changes.items():
        if field == "name":
            value = value.strip()
        elif field == "email":
            value = normalise_email(value)
        elif field == "vat_id" and value:
            value = value.upper()
        setattr(customer, field, value)
    if changes.get("active") is False:
        customer.tokens_valid_after = utcnow()
    _audit_changes(customer, changes, old_phone, was_active, actor=actor, facts=facts)
    _commit_unique_email()
    if old_email is not None:
        email_change.tell_old_address(customer, old_email)
    elif email is not None:
        email_change.start_change(customer, email, actor=actor, facts=facts)
    return customer


def delete_customer(
    *, customer_id: int, facts: audit.RequestFacts | None = None
) -> None:
    """Delete a customer with their enquiries and notes (database cascades) and
    their pending one-time codes; commits. Audited with the request `facts` (the
    caller is the actor).

    Raises NotFound (404), Conflict (409) when the customer has any booking, also
    one made concurrently (the RESTRICT foreign key refuses the delete)
    (docs/design.md "Rules with numbers"), 409 `customer-in-merge-request` when a
    merge request names them (models.pipeline.CustomerMergeRequest, RESTRICT).
    """
    customer = get_or_404(Customer, customer_id, "Customer")
    booked = select(Booking.id).where(Booking.customer_id == customer.id).limit(1)
    if db.session.scalar(booked) is not None:
        raise Conflict(HAS_BOOKINGS, code="customer-has-bookings")
    named = select(CustomerMergeRequest.id).where(
        or_(
            CustomerMergeRequest.customer_id == customer.id,
            CustomerMergeRequest.from_customer_id == customer.id,
        )
    )
    if db.session.scalar(named.limit(1)) is not None:
        raise Conflict(IN_MERGE_REQUEST, code="customer-in-merge-request")
    db.session.execute(
        delete(OtpCode).where(
            OtpCode.account_type == "customer", OtpCode.account_id == customer.id
        )
    )
    audit.record(
        "customer.deleted",
        entity_type="customer",
        entity_id=customer.id,
        facts=facts,
        details={"email": customer.email},
    )
    db.session.delete(customer)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(HAS_BOOKINGS, code="customer-has-bookings") from exc
