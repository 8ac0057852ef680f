"""Duplicate customers: detection and merging (docs/design.md "Lifecycles": enquiry, the
sales pipeline; roles matrix: "work the pipeline" is admin's and sales').

Detection: two customers are candidates when their emails match (any case) or their
normalised phones match (models.pipeline.phone_key: the last nine digits).

Who may merge at once (docs/security.md "Merging customers"): a merge moves
bookings, money and wallet credit, so it is made at once only for a pair that
matches, by email (normalised: stripped, any case) or by normalised phone; any
other pair needs a second employee's approval (maker-checker, the requests in
services/sales/merge_requests.py) and is refused here (403 `merge-needs-approval`)
unless it comes with that approval.

Merging `from_customer_id` into `customer_id` moves, in one transaction: enquiries
(with their notes, activities and quotes), quotes, bookings with their invoices,
payments, refunds and wallet entries, and the wallet balance. The merged record is
kept, deactivated, with `merged_into_id` pointing at the survivor and its tokens
ended, so that its audit trail (append-only, never rewritten) still resolves; a
`customer.merged` audit entry lists every moved id (and, for an approved request,
the request and its requester).

Conflicting states (the merge is refused, 409 `merge-conflict`): both customers hold
a live booking (held, with its hold not lapsed, or confirmed) on the same
departure. One traveller would then own two live bookings of the same trip, whose
seats, payments and cancellation penalties staff must reconcile by hand (cancel or
complete one) before merging. Bookings in any other state never conflict: finished
(completed), void (expired, cancelled) records simply move.
"""

from sqlalchemy import or_, select, update

from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import (
    Booking,
    Customer,
    Enquiry,
    EnquiryNote,
    Invoice,
    Payment,
    Quote,
    Refund,
    WalletEntry,
)
from models.base import utcnow
from models.pipeline import phone_key
from services.accounts.employees import normalise_email
from services.audit import audit

MAX_CANDIDATES = 20


def find_duplicates(
    *, email: str | None = None, phone: str | None = None, exclude_id: int | None = None
) -> list[dict]:
    """Customers whose email (any case) or normalised phone match, each as
    `{id, name, email, phone, active, matched_on: ["email"|"phone"]}`, oldest first,
    at most MAX_CANDIDATES; `exclude_id` leaves one customer out. Merged-away
    records are never candidates."""
    conditions = []
    wanted_email = normalise_email(email) if email else None
    wanted_phone = phone_key(phone)
    if wanted_email:
        conditions.append(Customer.email == wanted_email)
    if wanted_phone:
        conditions.append(Customer.phone_normalized == wanted_phone)
    if not conditions:
        return []
    stmt = select(Customer).where(or_(*conditions), Customer.merged_into_id.is_(None))
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    found = db.session.scalars(stmt.order_by(Customer.id).limit(MAX_CANDIDATES)).all()
    return [_candidate(c, wanted_email, wanted_phone) for c in found]


def _candidate(customer: Customer, email: str | None, phone: str | None) -> dict:
    matched = []
    if email and customer.email == email:
        matched.append("email")
    if phone and customer.phone_normalized == phone:
        matched.append("phone")
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "active": customer.active,
        "matched_on": matched,
    }


def _live_departures(customer_id: int, now) -> set[int]:
    """Departures on which the customer holds a live booking now (trip bookings
    have none: two customers' rides on one trip never clash)."""
    return set(
        db.session.scalars(
            select(Booking.departure_id).where(
                Booking.customer_id == customer_id,
                Booking.departure_id.is_not(None),
                or_(
                    Booking.status == "confirmed",
                    (Booking.status == "held") & (Booking.hold_expires_at > now),
                ),
            )
        )
    )


def _lock_pair(target_id: int, source_id: int) -> tuple[Customer, Customer]:
    """Both customers, locked in id order on PostgreSQL (a concurrent merge or
    booking of the same pair waits); NotFound (404) / ValidationFailed (422)."""
    rows = {
        c.id: c
        for c in db.session.scalars(
            select(Customer)
            .where(Customer.id.in_((target_id, source_id)))
            .order_by(Customer.id)
            .with_for_update()
        )
    }
    if target_id not in rows:
        raise NotFound("Customer")
    if source_id not in rows:
        raise ValidationFailed({"from_customer_id": [_("No customer with this id.")]})
    return rows[target_id], rows[source_id]


def _move(model, source_id: int, target_id: int) -> list[int]:
    """Point every `model` row of the source customer at the target; their ids."""
    ids = list(
        db.session.scalars(select(model.id).where(model.customer_id == source_id))
    )
    if ids:
        db.session.execute(
            update(model)
            .where(model.customer_id == source_id)
            .values(customer_id=target_id)
            .execution_options(synchronize_session=False)
        )
    return ids


def matched_on(target: Customer, source: Customer) -> list[str]:
    """What shows two customer records to be one person: `"email"` when their
    emails match once normalised (stripped, any case), `"phone"` when their
    normalised phones (models.pipeline.phone_key, the last nine digits) match; []
    for an unrelated pair, whose merge needs a second employee's approval
    (module docstring, docs/security.md "Merging customers"). Raises nothing."""
    matched = []
    if normalise_email(target.email) == normalise_email(source.email):
        matched.append("email")
    phone = phone_key(target.phone)
    if phone is not None and phone == phone_key(source.phone):
        matched.append("phone")
    return matched


def lock_mergeable(
    *, customer_id: int, from_customer_id: int
) -> tuple[Customer, Customer]:
    """Lock both customers (in id order on PostgreSQL) and check that merging
    `from_customer_id` into `customer_id` could be carried out now (rules in the
    module docstring); returns (survivor, source), still locked, nothing changed.

    Raises ValidationFailed (422: the same id twice, an unknown or already merged
    source), NotFound (404: unknown target), Conflict (409 `customer-merged` for a
    target that was itself merged away; 409 `merge-conflict` with `departure_ids`:
    both hold live bookings of the same departure).
    """
    if customer_id == from_customer_id:
        raise ValidationFailed(
            {"from_customer_id": [_("Cannot merge a customer into itself.")]}
        )
    target, source = _lock_pair(customer_id, from_customer_id)
    if source.merged_into_id is not None:
        raise ValidationFailed(
            {"from_customer_id": [_("This customer was already merged.")]}
        )
    if target.merged_into_id is not None:
        raise Conflict(
            _("This customer was merged into another one."),
            code="customer-merged",
            extra={"merged_into_id": target.merged_into_id},
        )
    now = utcnow()
    clash = sorted(_live_departures(target.id, now) & _live_departures(source.id, now))
    if clash:
        raise Conflict(
            _(
                "Both customers hold live bookings of the same departure; cancel or "
                "finish one of them before merging."
            ),
            code="merge-conflict",
            extra={"departure_ids": clash},
        )
    return target, source


def merge_customers(
    *,
    actor,
    customer_id: int,
    from_customer_id: int,
    facts: audit.RequestFacts | None = None,
) -> Customer:
    """Merge `from_customer_id` into `customer_id` at once, for a pair whose email
    or phone match (rules in the module docstring), and commit once, audited as
    done by `actor` with the request `facts`. Returns the surviving customer.

    Raises what lock_mergeable raises (422, 404, 409 `customer-merged`, 409
    `merge-conflict`) and Forbidden (403 `merge-needs-approval`) for a pair that
    does not match: file a merge request instead
    (services/sales/merge_requests.py, docs/security.md "Merging customers").
    """
    target, source = lock_mergeable(
        customer_id=customer_id, from_customer_id=from_customer_id
    )
    return merge_locked(target, source, actor=actor, facts=facts)


def merge_locked(
    target: Customer,
    source: Customer,
    *,
    actor,
    facts: audit.RequestFacts | None = None,
    approval: dict | None = None,
) -> Customer:
    """Carry out the merge of `source` into `target`, both as lock_mergeable
    returned them, with whatever the session already holds (an approval's status
    change), and commit once; audited as done by `actor` with the request `facts`.
    Returns the surviving customer.

    `approval` is given only for an approved merge request (`{"merge_request_id",
    "requested_by_id", "requested_by_email"}`, put in the `customer.merged` entry);
    without it the pair must match (matched_on), else Forbidden (403
    `merge-needs-approval`, docs/security.md "Merging customers").
    """
    matched = matched_on(target, source)
    if not matched and approval is None:
        raise Forbidden(
            _(
                "These customers share no email or phone; merging them needs a "
                "second employee's approval: file a merge request."
            ),
            code="merge-needs-approval",
        )
    now = utcnow()
    moved = {
        name: _move(model, source.id, target.id)
        for name, model in (
            ("enquiries", Enquiry),
            ("quotes", Quote),
            ("bookings", Booking),
            ("invoices", Invoice),
            ("payments", Payment),
            ("refunds", Refund),
            ("wallet_entries", WalletEntry),
        )
    }
    db.session.execute(
        update(EnquiryNote)
        .where(EnquiryNote.author_customer_id == source.id)
        .values(author_customer_id=target.id)
        .execution_options(synchronize_session=False)
    )
    wallet = source.wallet_balance
    target.wallet_balance = target.wallet_balance + wallet
    source.wallet_balance = 0
    _fill_contact(target, source)
    source.active = False
    source.merged_into_id = target.id
    source.tokens_valid_after = now
    audit.record(
        "customer.merged",
        entity_type="customer",
        entity_id=target.id,
        facts=facts,
        actor=actor,
        details={
            "from_customer_id": source.id,
            "from_email": source.email,
            "from_phone": source.phone,
            "matched_on": matched,
            "wallet_moved": wallet,
            **moved,
            **(approval or {}),
        },
    )
    audit.record(
        "customer.merged_away",
        entity_type="customer",
        entity_id=source.id,
        facts=facts,
        actor=actor,
        details={"merged_into_id": target.id},
    )
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Customer, target.id)


def _fill_contact(target: Customer, source: Customer) -> None:
    """Keep the survivor's contact data; fill its empty phone/address from source."""
    if not target.phone and source.phone:
        target.phone = source.phone
    if not target.address and source.address:
        target.address = source.address
