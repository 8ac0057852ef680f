"""The package catalogue: creation, editing, the approval workflow, visibility and
listing (docs/design.md "Lifecycles": package; "Accounts and roles": matrix and
maker-checker).

Workflow: draft -> pending_approval (submit) -> published (approve) | rejected
(reject, with a reason); edits send rejected back to draft and published back to
pending_approval; archived ends it. State changes are conditional UPDATEs guarded on
the status (and on the maker-checker columns), so two concurrent requests can never
both win.
"""

from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import defer, joinedload, selectinload

from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Departure, Employee, ItineraryDay, Package
from models.account import is_staff
from models.base import utcnow
from services.audit import audit
from services.catalogue import catalogue
from services.catalogue.search import build_search_document, search_condition
from services.messaging import webhooks
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import get_or_404, like_pattern

SORTABLE = (
    "created_at",
    "updated_at",
    "title",
    "destination",
    "base_price",
    "duration_days",
)
CONTENT_FIELDS = (
    "title",
    "description",
    "destination",
    "origin",
    "transport_mode",
    "duration_days",
    "base_price",
    "currency",
    "deposit_percent",
    "translations",
    "tax_rate",
)
DAY_FIELDS = ("day_number", "title", "description", "location", "translations")
# Fields of a translation whose text is stripped like the original's.
STRIPPED_TRANSLATIONS = ("title", "name")
# Editing a package moves it to this status (archived cannot be edited at all).
STATUS_AFTER_EDIT = {
    "draft": "draft",
    "rejected": "draft",
    "pending_approval": "pending_approval",
    "published": "pending_approval",
}


# --- visibility and reads -------------------------------------------------------


def can_see(account, package: Package) -> bool:
    """Staff see every package; customers and anonymous callers only published ones
    (docs/design.md "Accounts and roles": see unpublished packages)."""
    return is_staff(account) or package.status == "published"


def get_package(*, package_id: int, account=None) -> Package:
    """The package `package_id` as `account` (Employee, Customer or None) may see it.

    Raises NotFound (404) when it does not exist or is not published and the caller
    is not staff (an unpublished package does not exist for customers).
    """
    package = db.session.get(
        Package,
        package_id,
        options=[joinedload(Package.itinerary), defer(Package.search_document)],
    )
    if package is None or not can_see(account, package):
        raise NotFound("Package")
    return package


def check_visible(*, package_id: int, account=None) -> None:
    """Raise NotFound (404) unless the package `package_id` exists and `account`
    may see it (the rule of `can_see`), reading only its status: for lists under
    a package that do not show the package itself."""
    status = db.session.scalar(select(Package.status).where(Package.id == package_id))
    if status is None or not (is_staff(account) or status == "published"):
        raise NotFound("Package")


def list_packages(
    *,
    account=None,
    q: str | None = None,
    destination: str | None = None,
    origin: str | None = None,
    transport_mode: str | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    starts_after: date | None = None,
    starts_before: date | None = None,
    status: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of the catalogue as `account` may see it, newest first unless `sort`.

    Customers and anonymous callers only ever get published packages; `status` then
    filters inside that set (so `status=draft` gives them an empty page, never an
    error and never a draft). `q` is full-text (services.catalogue.search);
    `destination` and `origin` are case-insensitive substrings; prices compare with
    base_price; `starts_after` / `starts_before` keep packages with a scheduled
    departure starting on or after / on or before those dates (both given: one departure
    in the window). Raises ValidationFailed (422) for an unknown sort field.
    """
    # search_document (the text the full-text index reads) is never shown.
    stmt = select(Package).options(
        selectinload(Package.itinerary), defer(Package.search_document)
    )
    if not is_staff(account):
        stmt = stmt.where(Package.status == "published")
    if status:
        stmt = stmt.where(Package.status == status)
    stmt = _apply_filters(
        stmt,
        q=q,
        destination=destination,
        origin=origin,
        transport_mode=transport_mode,
        min_price=min_price,
        max_price=max_price,
        starts_after=starts_after,
        starts_before=starts_before,
    )
    stmt = order_by_sort(stmt, Package, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def _apply_filters(
    stmt,
    *,
    q,
    destination,
    origin,
    transport_mode,
    min_price,
    max_price,
    starts_after,
    starts_before=None,
):
    """Add the catalogue filters that were given to `stmt` (see list_packages)."""
    matches = search_condition(q)
    if matches is not None:
        stmt = stmt.where(matches)
    if destination:
        stmt = stmt.where(
            func.lower(Package.destination).like(like_pattern(destination), "\\")
        )
    if origin:
        stmt = stmt.where(func.lower(Package.origin).like(like_pattern(origin), "\\"))
    if transport_mode:
        stmt = stmt.where(Package.transport_mode == transport_mode)
    if min_price is not None:
        stmt = stmt.where(Package.base_price >= min_price)
    if max_price is not None:
        stmt = stmt.where(Package.base_price <= max_price)
    if starts_after is not None or starts_before is not None:
        window = [Departure.package_id == Package.id, Departure.status == "scheduled"]
        if starts_after is not None:
            window.append(Departure.start_date >= starts_after)
        if starts_before is not None:
            window.append(Departure.start_date <= starts_before)
        stmt = stmt.where(exists().where(*window))
    return stmt


# --- create, edit, delete -------------------------------------------------------


def create_package(
    *,
    author: Employee,
    title: str,
    destination: str,
    duration_days: int,
    base_price: Decimal,
    description: str = "",
    origin: str | None = None,
    transport_mode: str = "none",
    currency: str | None = None,
    deposit_percent: int = 100,
    itinerary: list[dict] | None = None,
    translations: dict | None = None,
    tax_rate: Decimal | None = None,
) -> Package:
    """Create and commit a `draft` package authored by `author`.

    `base_price` is a Decimal in `currency` (default DEFAULT_CURRENCY);
    `deposit_percent` 1-100 of the total due to confirm a booking; `itinerary` a list
    of `{day_number, title, description, location, translations}`; `translations`
    `{"de": {"title": ..., "description": ...}, "es": {...}}` (docs/i18n.md
    "Catalogue translations"); `tax_rate` the VAT percent included in the prices,
    None for DEFAULT_TAX_RATE (docs/documents.md "Tax"). The author starts the first
    revision (maker-checker: they cannot approve it). Raises ValidationFailed (422)
    when a day number repeats or exceeds `duration_days`.
    """
    itinerary = itinerary or []
    _check_itinerary(itinerary, duration_days)
    package = Package(
        title=title.strip(),
        description=description,
        destination=destination.strip(),
        origin=origin,
        transport_mode=transport_mode,
        duration_days=duration_days,
        base_price=base_price,
        currency=currency or current_app.config["DEFAULT_CURRENCY"],
        deposit_percent=deposit_percent,
        translations=clean_translations(translations),
        tax_rate=tax_rate,
        status="draft",
        created_by_id=author.id,
        revision_author_id=author.id,
        last_edited_by_id=author.id,
        itinerary=[ItineraryDay(**_day(day)) for day in itinerary],
    )
    package.search_document = build_search_document(package)
    db.session.add(package)
    catalogue.bump_version()
    db.session.commit()
    return package


def update_package(*, package_id: int, editor: Employee, changes: dict) -> Package:
    """Apply a partial edit (`changes`: PackageUpdateSchema fields) and commit.

    Status after an edit that changes anything (docs/design.md "Lifecycles"):
    draft stays draft; rejected goes back to draft (reason cleared, the editor
    starts a new revision); pending_approval stays pending (the editor becomes its
    last editor, so they cannot approve it); published goes back to
    pending_approval and is HIDDEN from customers and anonymous callers until it is
    approved again - we do not keep a copy of the last approved version. Existing
    bookings are untouched: they carry their own prices and policy. An edit that
    changes nothing leaves the status alone. `itinerary`, when given, replaces the
    whole itinerary.

    Raises NotFound (404); Conflict (409) for an archived package, or a currency
    change once departures exist; ValidationFailed (422) for itinerary days that
    repeat or fall outside 1..duration_days.
    """
    package = _locked(package_id)
    if package.status == "archived":
        raise Conflict(
            _("An archived package cannot be edited."), code="package-archived"
        )
    if "translations" in changes:
        cleaned = clean_translations(changes["translations"])
        changes = {**changes, "translations": cleaned}
    duration = changes.get("duration_days", package.duration_days)
    if changes.get("itinerary") is not None:
        _check_itinerary(changes["itinerary"], duration)
    else:
        _check_duration_fits(package, duration)
    if not _differs(package, changes):
        db.session.commit()
        return package
    _check_currency_change(package, changes)
    _apply_changes(package, changes)
    _start_revision_if_needed(package, editor)
    package.last_edited_by_id = editor.id
    package.search_document = build_search_document(package)
    catalogue.bump_version()
    db.session.commit()
    return package


def delete_package(*, package_id: int, facts: audit.RequestFacts | None = None) -> None:
    """Delete a draft or rejected package that has no departures (its itinerary
    goes with it) and commit; audited with the request `facts`. Raises NotFound
    (404); Conflict (409) otherwise - such packages are archived instead (their
    history stays)."""
    package = _locked(package_id)
    if package.status not in ("draft", "rejected"):
        raise Conflict(
            _(
                "A %(status)s package cannot be deleted; archive it instead.",
                status=package.status,
            ),
            code="package-not-deletable",
        )
    if db.session.scalar(
        select(Departure.id).where(Departure.package_id == package.id).limit(1)
    ):
        raise Conflict(
            _("The package has departures and cannot be deleted; archive it instead."),
            code="package-not-deletable",
        )
    audit.record(
        "package.deleted",
        entity_type="package",
        entity_id=package.id,
        facts=facts,
        details={"title": package.title, "status": package.status},
    )
    db.session.delete(package)
    catalogue.bump_version()
    db.session.commit()


def _locked(package_id: int) -> Package:
    """The package row, locked for this transaction on PostgreSQL (SQLite
    serialises writers); NotFound (404) when missing."""
    package = db.session.scalar(
        select(Package)
        .where(Package.id == package_id)
        .options(selectinload(Package.itinerary))
        .with_for_update(of=Package)
        .execution_options(populate_existing=True)
    )
    if package is None:
        raise NotFound("Package")
    return package


def _day(day: dict) -> dict:
    """Itinerary day columns from a loaded day dict (missing optionals filled)."""
    return {
        "day_number": day["day_number"],
        "title": day["title"].strip(),
        "description": day.get("description") or "",
        "location": day.get("location"),
        "translations": clean_translations(day.get("translations")),
    }


def clean_translations(value: dict | None) -> dict | None:
    """Translations (`{"de": {"title": ..., "description": ...}}`) as stored:
    titles and names stripped, fields without text and languages without fields
    dropped; None when nothing is left (docs/i18n.md "Catalogue translations")."""
    cleaned = {}
    for language, texts in (value or {}).items():
        kept = {
            field: text.strip() if field in STRIPPED_TRANSLATIONS else text
            for field, text in (texts or {}).items()
            if text and text.strip()
        }
        if kept:
            cleaned[language] = kept
    return cleaned or None


def _day_dict(day: ItineraryDay) -> dict:
    """An ItineraryDay as the dict the schemas load."""
    return {field: getattr(day, field) for field in DAY_FIELDS}


def _check_itinerary(days: list[dict], duration_days: int) -> None:
    """Day numbers must be unique and within 1..duration_days; raises
    ValidationFailed (422) with an error per offending
    `itinerary.<index>.day_number`."""
    errors, seen = {}, set()
    for index, day in enumerate(days):
        number = day["day_number"]
        if number > duration_days:
            errors[f"itinerary.{index}.day_number"] = [
                f"Must be between 1 and duration_days ({duration_days})."
            ]
        elif number in seen:
            errors[f"itinerary.{index}.day_number"] = [
                f"Day {number} appears more than once."
            ]
        seen.add(number)
    if errors:
        raise ValidationFailed(errors)


def _check_duration_fits(package: Package, duration_days: int) -> None:
    """A shorter duration must still hold the stored itinerary; ValidationFailed (422)
    on `duration_days` otherwise."""
    last_day = max((day.day_number for day in package.itinerary), default=0)
    if last_day > duration_days:
        raise ValidationFailed(
            {
                "duration_days": [
                    _(
                        "The itinerary has a day %(day)s; send a shorter itinerary "
                        "too.",
                        day=last_day,
                    )
                ]
            }
        )


def _differs(package: Package, changes: dict) -> bool:
    """True when `changes` would change the package's content."""
    for field in CONTENT_FIELDS:
        if field in changes and changes[field] != getattr(package, field):
            return True
    if "itinerary" in changes:
        current = [_day(_day_dict(d)) for d in package.itinerary]
        wanted = sorted(
            (_day(d) for d in changes["itinerary"]), key=lambda d: d["day_number"]
        )
        return current != wanted
    return False


def _check_currency_change(package: Package, changes: dict) -> None:
    """The currency is copied onto departures; it cannot change once they exist
    (Conflict, 409)."""
    if changes.get("currency", package.currency) == package.currency:
        return
    if db.session.scalar(
        select(Departure.id).where(Departure.package_id == package.id).limit(1)
    ):
        raise Conflict(
            _("The currency cannot change once the package has departures."),
            code="currency-locked",
        )


def _apply_changes(package: Package, changes: dict) -> None:
    """Copy content fields and, when given, replace the itinerary."""
    for field in CONTENT_FIELDS:
        if field in changes:
            value = changes[field]
            setattr(
                package,
                field,
                value.strip() if field in ("title", "destination") else value,
            )
    if "itinerary" in changes:
        # Delete the old days first so a re-used day_number does not hit the UNIQUE.
        db.session.execute(
            delete(ItineraryDay).where(ItineraryDay.package_id == package.id)
        )
        db.session.expire(package, ["itinerary"])
        package.itinerary = [ItineraryDay(**_day(day)) for day in changes["itinerary"]]


def _start_revision_if_needed(package: Package, editor: Employee) -> None:
    """Move the status as an edit requires; editing a rejected or published package
    starts a new revision authored by `editor`."""
    new_status = STATUS_AFTER_EDIT[package.status]
    if package.status in ("rejected", "published"):
        package.revision_author_id = editor.id
        package.rejection_reason = None
        package.approved_by_id = None
        package.approved_at = None
    if new_status == "pending_approval" and package.status == "published":
        package.submitted_at = utcnow()
    package.status = new_status


def revise_for_departure_change(
    *,
    package_id: int,
    editor: Employee,
    what: str,
    facts: audit.RequestFacts | None = None,
) -> bool:
    """A departure change that is approved like package content (docs/design.md "Rules
    with numbers": prices, category prices and capacity cuts of a published
    package's departures; also a new departure priced off the base price): a
    published package goes back to pending_approval (hidden and unbookable until
    approved) with `editor` as revision author and last editor; a pending one gets
    `editor` as last editor, so they cannot approve it (maker-checker). Draft and
    rejected packages are approved as a whole later. `what` names the change for the
    audit log (with the request `facts`). Locks the package row; does not commit.
    Returns True when the package now awaits approval because of this change."""
    package = _locked(package_id)
    if package.status not in ("published", "pending_approval"):
        return False
    was = package.status
    _start_revision_if_needed(package, editor)
    package.last_edited_by_id = editor.id
    audit.record(
        "package.departure_change_needs_approval",
        entity_type="package",
        entity_id=package.id,
        facts=facts,
        actor=editor,
        details={"change": what, "from": was},
    )
    return True


# --- workflow -------------------------------------------------------------------


def submit_package(
    *, package_id: int, facts: audit.RequestFacts | None = None
) -> Package:
    """Submit a draft for approval (draft -> pending_approval) and commit; audited
    with the request `facts` (the caller is the actor).

    Raises NotFound (404); Conflict (409) when the package is not a draft or has no
    itinerary day (a rejected package is edited first, which makes it a draft).
    """
    package = get_or_404(Package, package_id, "Package")
    _require_status(package, ("draft",), "submitted")
    has_day = db.session.scalar(
        select(ItineraryDay.id).where(ItineraryDay.package_id == package.id).limit(1)
    )
    if not has_day:
        raise Conflict(
            _("Add at least one itinerary day before submitting."),
            code="itinerary-required",
        )
    return _transition(
        package,
        "draft",
        facts=facts,
        status="pending_approval",
        submitted_at=utcnow(),
    )


def approve_package(
    *, package_id: int, actor: Employee, facts: audit.RequestFacts | None = None
) -> Package:
    """Approve the pending revision (pending_approval -> published) and commit;
    audited as done by `actor` with the request `facts`.

    Maker-checker (docs/design.md "Accounts and roles"): Forbidden (403) when `actor`
    authored or last edited the revision, admin included. Raises NotFound (404);
    Conflict (409) when the package is not pending approval.
    """
    package = get_or_404(Package, package_id, "Package")
    _require_status(package, ("pending_approval",), "approved")
    _require_checker(package, actor, "approve")
    return _transition(
        package,
        "pending_approval",
        checker=actor,
        facts=facts,
        status="published",
        approved_by_id=actor.id,
        approved_at=utcnow(),
        rejection_reason=None,
    )


def reject_package(
    *,
    package_id: int,
    actor: Employee,
    reason: str,
    facts: audit.RequestFacts | None = None,
) -> Package:
    """Reject the pending revision with `reason` (pending_approval -> rejected) and
    commit; audited like approve_package. Same maker-checker rule and errors."""
    package = get_or_404(Package, package_id, "Package")
    _require_status(package, ("pending_approval",), "rejected")
    _require_checker(package, actor, "reject")
    return _transition(
        package,
        "pending_approval",
        checker=actor,
        facts=facts,
        status="rejected",
        rejection_reason=reason,
    )


def archive_package(
    *, package_id: int, facts: audit.RequestFacts | None = None
) -> Package:
    """Archive a package from any status but archived, and commit (audited with the
    request `facts`). It disappears
    from the catalogue and cannot be booked or edited; its departures and bookings
    are kept untouched. Raises NotFound (404); Conflict (409) when already archived."""
    package = get_or_404(Package, package_id, "Package")
    if package.status == "archived":
        raise Conflict(_("The package is already archived."), code="invalid-transition")
    return _transition(package, package.status, facts=facts, status="archived")


def _require_status(package: Package, allowed: tuple[str, ...], action: str) -> None:
    """Conflict (409) unless the package is in one of `allowed`."""
    if package.status not in allowed:
        raise Conflict(
            _(
                "A %(status)s package cannot be %(action)s.",
                status=package.status,
                action=action,
            ),
            code="invalid-transition",
        )


def _require_checker(package: Package, actor: Employee, verb: str) -> None:
    """Forbidden (403) when `actor` authored or last edited the revision."""
    if actor.id in (package.revision_author_id, package.last_edited_by_id):
        raise Forbidden(
            _(
                "You cannot %(verb)s a package revision you created or last edited; "
                "another approver must review it (maker-checker).",
                verb=verb,
            ),
            code="maker-checker",
        )


# The audit action of each workflow move, by the status reached.
TRANSITION_ACTIONS = {
    "pending_approval": "package.submitted",
    "published": "package.approved",
    "rejected": "package.rejected",
    "archived": "package.archived",
}


def _transition(
    package: Package, from_status: str, *, facts, checker=None, **values
) -> Package:
    """Apply `values` with one conditional UPDATE that only matches while the
    package is still in `from_status` (and, with `checker`, still not authored or
    last edited by them), audit the move (with the request `facts`), then commit.
    Conflict (409) when a concurrent request got there first."""
    stmt = (
        update(Package)
        .where(Package.id == package.id, Package.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if checker is not None:
        stmt = stmt.where(
            Package.revision_author_id.is_distinct_from(checker.id),
            Package.last_edited_by_id.is_distinct_from(checker.id),
        )
    if db.session.execute(stmt).rowcount != 1:
        db.session.rollback()
        raise Conflict(
            _("The package changed while this request ran; reload it and retry."),
            code="concurrent-change",
        )
    if values["status"] == "published":
        webhooks.emit("package.published", resource="package", resource_id=package.id)
    details = {"from": from_status, "to": values["status"]}
    if values.get("rejection_reason"):
        details["reason"] = values["rejection_reason"]
    audit.record(
        TRANSITION_ACTIONS[values["status"]],
        entity_type="package",
        entity_id=package.id,
        facts=facts,
        actor=checker,
        details=details,
    )
    catalogue.bump_version()
    db.session.commit()
    db.session.refresh(package)
    return package
