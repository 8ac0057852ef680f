"""The managed list of reasons an enquiry is lost (docs/design.md "Accounts and roles":
"lost reasons" are admin's; everyone working the pipeline reads them).

The list starts with DEFAULT_LOST_REASONS (price, dates, destination, competitor,
no answer, other): the migration inserts them, and `ensure_defaults` puts them back
into an empty table (a schema built by create_all, a wiped test database). Reasons
are never deleted (lost enquiries point at them); admins retire one with
`active: false`, which hides it from new choices only.
"""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import EnquiryLostReason
from models.pipeline import DEFAULT_LOST_REASONS
from services.audit import audit


def ensure_defaults() -> None:
    """Insert the default reasons when the table is empty, and commit; a concurrent
    insert by another worker is ignored (both end with the same rows)."""
    if db.session.scalar(select(func.count()).select_from(EnquiryLostReason)):
        return
    try:
        db.session.add_all(
            EnquiryLostReason(code=code, label=label)
            for code, label in DEFAULT_LOST_REASONS
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def list_reasons(*, include_inactive: bool = False) -> list[EnquiryLostReason]:
    """All reasons in list order (id), active ones only unless `include_inactive`."""
    ensure_defaults()
    stmt = select(EnquiryLostReason).order_by(EnquiryLostReason.id)
    if not include_inactive:
        stmt = stmt.where(EnquiryLostReason.active.is_(True))
    return list(db.session.scalars(stmt))


def usable_reason(reason_id: int) -> EnquiryLostReason:
    """The active reason `reason_id`, or ValidationFailed (422) on `lost_reason_id`."""
    ensure_defaults()
    reason = db.session.get(EnquiryLostReason, reason_id)
    if reason is None or not reason.active:
        raise ValidationFailed(
            {"lost_reason_id": [_("No active lost reason with this id.")]}
        )
    return reason


def _slug(label: str) -> str:
    """A code made of the label: lower case, words joined by `_`."""
    return "_".join("".join(c if c.isalnum() else " " for c in label.lower()).split())[
        :40
    ]


def create_reason(
    *,
    actor,
    label: str,
    code: str | None = None,
    facts: audit.RequestFacts | None = None,
) -> EnquiryLostReason:
    """Add a reason (admin) and commit, audited with the request `facts`; `code`
    defaults to the label as a slug. Conflict (409) for a code already taken."""
    ensure_defaults()
    reason = EnquiryLostReason(
        code=code or _slug(label) or "reason", label=label.strip()
    )
    db.session.add(reason)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(
            _("A lost reason with this code exists."), code="duplicate-code"
        ) from exc
    audit.record(
        "lost_reason.created",
        entity_type="enquiry_lost_reason",
        entity_id=reason.id,
        facts=facts,
        actor=actor,
        details={"code": reason.code},
    )
    db.session.commit()
    return reason


def update_reason(
    *, actor, reason_id: int, changes: dict, facts: audit.RequestFacts | None = None
) -> EnquiryLostReason:
    """Edit a reason's `label` or `active` flag (admin) and commit, audited with the
    request `facts`. NotFound (404)."""
    reason = db.session.get(EnquiryLostReason, reason_id)
    if reason is None:
        raise NotFound("Lost reason")
    for field, value in changes.items():
        setattr(reason, field, value.strip() if field == "label" else value)
    audit.record(
        "lost_reason.updated",
        entity_type="enquiry_lost_reason",
        entity_id=reason.id,
        facts=facts,
        actor=actor,
        details=changes,
    )
    db.session.commit()
    return reason
