"""Merge requests: the maker-checker of merging customers who share no email or
phone (docs/security.md "Merging customers"; docs/design.md "Accounts and roles":
maker-checker; docs/sales-pipeline.md "Merge").

- `POST /customers/<id>/merge` (admin, sales): a pair whose email or normalised
  phone match (services/sales/customer_merge.py matched_on) is merged at once. Any
  other pair is not merged: a pending request is filed, by the requester with an
  optional reason, after the checks the merge itself makes (unknown customers, an
  already merged one, live bookings of the same departure: 409 `merge-conflict`),
  so a request that could never be carried out is not filed. One pending request
  per pair of customers, in either direction: another is 409
  `merge-request-pending` with the pending request's id.
- Approve or reject (admin, finance): never by the employee who filed the request
  (403 `maker-checker`, admins included). A request moves once, pending ->
  approved | rejected, by a conditional UPDATE on `status = 'pending'` (and a
  decider other than the requester), so two concurrent approvals merge once; the
  later one gets 409 `concurrent-change`. A decided request is 409
  `invalid-transition`.
- Approving carries out the merge (customer_merge.merge_locked) in the transaction
  of the status change, audited with the approver as actor and the request and its
  requester in the details. A merge refused at that moment (the bookings changed:
  `merge-conflict`; a customer merged meanwhile) rolls everything back: the request
  stays pending and the refusal is returned. Reject a request that can never be
  carried out.
"""

from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update

from core.errors import Conflict, Forbidden
from core.extensions import db
from core.i18n import _
from models import Customer, CustomerMergeRequest, Employee
from models.base import utcnow
from services.audit import audit
from services.sales import customer_merge
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import get_or_404

# Roles matrix row "approve / reject a customer merge" (docs/design.md "Accounts and
# roles"): a second pair of eyes outside sales.
CHECKER_ROLES = ("admin", "finance")
SORTABLE = ("created_at",)


@dataclass
class MergeOutcome:
    """What `POST /customers/<id>/merge` did: merged at once (`customer`, the
    survivor) or filed a pending request for approval (`request`)."""

    customer: Customer | None = None
    request: CustomerMergeRequest | None = None


def merge_or_request(
    *,
    actor: Employee,
    customer_id: int,
    from_customer_id: int,
    reason: str | None = None,
    facts: audit.RequestFacts | None = None,
) -> MergeOutcome:
    """Merge `from_customer_id` into `customer_id` at once when their email or
    phone match, else file a pending merge request for a checker (rules in the
    module docstring); commits either way, audited as done by `actor` (admin or
    sales) with the request `facts`.

    Raises what customer_merge.lock_mergeable raises (422: the same id twice, an
    unknown or already merged source; 404: unknown target; 409 `customer-merged`,
    409 `merge-conflict`), Conflict (409 `merge-request-pending` with
    `merge_request_id`) when the pair already has a pending request, Forbidden
    (403) for an actor who is not an employee.
    """
    if not getattr(actor, "is_staff", False):
        raise Forbidden()
    target, source = customer_merge.lock_mergeable(
        customer_id=customer_id, from_customer_id=from_customer_id
    )
    if customer_merge.matched_on(target, source):
        return MergeOutcome(
            customer=customer_merge.merge_locked(
                target, source, actor=actor, facts=facts
            )
        )
    pending = _pending_for_pair(target.id, source.id)
    if pending is not None:
        db.session.rollback()
        raise Conflict(
            _("A merge request for these customers is already waiting for approval."),
            code="merge-request-pending",
            extra={"merge_request_id": pending},
        )
    request = CustomerMergeRequest(
        customer_id=target.id,
        from_customer_id=source.id,
        status="pending",
        reason=reason,
        requested_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    audit.record(
        "customer_merge_request.created",
        entity_type="customer_merge_request",
        entity_id=request.id,
        facts=facts,
        actor=actor,
        details={
            "customer_id": target.id,
            "from_customer_id": source.id,
            "reason": reason,
        },
    )
    db.session.commit()
    return MergeOutcome(request=request)


def _pending_for_pair(first_id: int, second_id: int) -> int | None:
    """The id of the pending request between the two customers, either way."""
    return db.session.scalar(
        select(CustomerMergeRequest.id).where(
            CustomerMergeRequest.status == "pending",
            or_(
                and_(
                    CustomerMergeRequest.customer_id == first_id,
                    CustomerMergeRequest.from_customer_id == second_id,
                ),
                and_(
                    CustomerMergeRequest.customer_id == second_id,
                    CustomerMergeRequest.from_customer_id == first_id,
                ),
            ),
        )
    )


def list_merge_requests(
    *,
    status: str | None = None,
    customer_id: int | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """Merge requests, newest first (docs/design.md "API conventions"): `status`
    filters (pending, approved, rejected), `customer_id` keeps those naming the
    customer on either side. Raises ValidationFailed (422) for a bad sort or
    cursor (services/shared/pagination.py)."""
    stmt = select(CustomerMergeRequest)
    if status is not None:
        stmt = stmt.where(CustomerMergeRequest.status == status)
    if customer_id is not None:
        stmt = stmt.where(
            or_(
                CustomerMergeRequest.customer_id == customer_id,
                CustomerMergeRequest.from_customer_id == customer_id,
            )
        )
    return paginate(
        order_by_sort(stmt, CustomerMergeRequest, sort, SORTABLE),
        page=page,
        per_page=per_page,
        cursor=cursor,
    )


def get_merge_request(request_id: int) -> CustomerMergeRequest:
    """One merge request. Raises NotFound (404)."""
    return get_or_404(CustomerMergeRequest, request_id, "Merge request")


def approve_merge_request(
    *, request_id: int, actor: Employee, facts: audit.RequestFacts | None = None
) -> CustomerMergeRequest:
    """Approve a pending merge request and carry out its merge in one transaction
    (rules in the module docstring); audited as done by `actor` with the request
    `facts`. Returns the request, approved.

    Raises NotFound (404); Forbidden (403) for an actor outside CHECKER_ROLES, 403
    `maker-checker` for the requester (admins included); Conflict (409
    `invalid-transition`) when the request is not pending, 409 `concurrent-change`
    when another decision got there first; and, the request staying pending, what
    customer_merge.lock_mergeable raises (409 `merge-conflict`, 409
    `customer-merged`, 422 for a source merged meanwhile).
    """
    request = get_merge_request(request_id)
    _require_checker(request, actor, "approve")
    requester = (
        db.session.get(Employee, request.requested_by_id)
        if request.requested_by_id is not None
        else None
    )
    _claim(request, actor, status="approved")
    audit.record(
        "customer_merge_request.approved",
        entity_type="customer_merge_request",
        entity_id=request.id,
        facts=facts,
        actor=actor,
        details={
            "customer_id": request.customer_id,
            "from_customer_id": request.from_customer_id,
            "requested_by_id": request.requested_by_id,
        },
    )
    try:
        target, source = customer_merge.lock_mergeable(
            customer_id=request.customer_id,
            from_customer_id=request.from_customer_id,
        )
        customer_merge.merge_locked(
            target,
            source,
            actor=actor,
            facts=facts,
            approval={
                "merge_request_id": request.id,
                "requested_by_id": request.requested_by_id,
                "requested_by_email": requester.email if requester else None,
            },
        )
    except Exception:
        db.session.rollback()
        raise
    return db.session.get(CustomerMergeRequest, request.id)


def reject_merge_request(
    *,
    request_id: int,
    actor: Employee,
    reason: str,
    facts: audit.RequestFacts | None = None,
) -> CustomerMergeRequest:
    """Reject a pending merge request with `reason` (nothing is merged) and
    commit; audited as done by `actor` with the request `facts`. Returns the
    request, rejected.

    Raises NotFound (404); Forbidden (403) for an actor outside CHECKER_ROLES, 403
    `maker-checker` for the requester; Conflict (409 `invalid-transition`) when the
    request is not pending, 409 `concurrent-change` when another decision got there
    first (rules in the module docstring).
    """
    request = get_merge_request(request_id)
    _require_checker(request, actor, "reject")
    _claim(request, actor, status="rejected", rejection_reason=reason)
    audit.record(
        "customer_merge_request.rejected",
        entity_type="customer_merge_request",
        entity_id=request.id,
        facts=facts,
        actor=actor,
        details={
            "customer_id": request.customer_id,
            "from_customer_id": request.from_customer_id,
            "requested_by_id": request.requested_by_id,
            "reason": reason,
        },
    )
    db.session.commit()
    db.session.expire_all()
    return db.session.get(CustomerMergeRequest, request.id)


def _require_checker(request: CustomerMergeRequest, actor, verb: str) -> None:
    """Forbidden (403) unless `actor` is an admin or finance employee; Conflict
    (409) unless the request is pending; Forbidden (403 `maker-checker`) when
    `actor` filed it."""
    if getattr(actor, "role", None) not in CHECKER_ROLES:
        raise Forbidden()
    if request.status != "pending":
        raise Conflict(
            _("This merge request is already %(status)s.", status=request.status),
            code="invalid-transition",
            extra={"status": request.status},
        )
    if request.requested_by_id == actor.id:
        detail = (
            _(
                "You cannot approve a merge you requested; another approver must "
                "review it (maker-checker)."
            )
            if verb == "approve"
            else _(
                "You cannot reject a merge you requested; another approver must "
                "review it (maker-checker)."
            )
        )
        raise Forbidden(
            detail,
            code="maker-checker",
        )


def _claim(request: CustomerMergeRequest, actor, **values) -> None:
    """Decide the request with one conditional UPDATE that matches only while it is
    pending and `actor` is not its requester (two concurrent decisions: one wins);
    nothing is committed. Conflict (409 `concurrent-change`) when it no longer
    matches, after a rollback."""
    result = db.session.execute(
        update(CustomerMergeRequest)
        .where(
            CustomerMergeRequest.id == request.id,
            CustomerMergeRequest.status == "pending",
            CustomerMergeRequest.requested_by_id.is_distinct_from(actor.id),
        )
        .values(decided_by_id=actor.id, decided_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict(
            _("The merge request was decided while this request ran; reload it."),
            code="concurrent-change",
        )
