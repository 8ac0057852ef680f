"""Transport companies (GTFS agency, https://gtfs.org/schedule/reference/#agencytxt)
and the on-board amenities vehicles list (docs/transport.md "Companies and
operators", "Amenities").

Admin creates, edits and deactivates companies (`active: false`); every staff role
reads them, an `operator` only its own (another company answers 404, as if it did
not exist: services.transport.access). A company is deleted only while nothing
refers to it (no vehicle, route or operator; 409 company-in-use otherwise):
deleting undoes a mistake, deactivating retires a company with a history.
"""

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict
from core.extensions import db
from core.i18n import _
from models import Amenity, Employee, TransportCompany, TransportRoute, Vehicle
from models.transport import vehicle_amenities
from services.audit import audit
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import get_or_404, text_matches
from services.transport.access import check_company, company_scope
from services.transport.places import check_country, check_timezone
from services.transport.records import apply_changes, check_free

COMPANY_SORTABLE = ("name", "code", "created_at")
COMPANY_FIELDS = (
    "name",
    "code",
    "email",
    "phone",
    "country",
    "website",
    "timezone",
    "active",
)

# --- companies --------------------------------------------------------------------


def list_companies(
    *,
    actor,
    q: str | None = None,
    active: bool | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of companies, by name unless `sort` (name, code, created_at); an
    operator's list holds its own company only. `q` matches name or code, `active`
    filters. Raises ValidationFailed (422) for an unknown sort."""
    stmt = select(TransportCompany)
    scope = company_scope(actor)
    if scope is not None:
        stmt = stmt.where(TransportCompany.id == scope)
    if q:
        stmt = stmt.where(text_matches(q, TransportCompany.name, TransportCompany.code))
    if active is not None:
        stmt = stmt.where(TransportCompany.active.is_(active))
    stmt = order_by_sort(stmt, TransportCompany, sort or "name", COMPANY_SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_company(*, actor, company_id: int) -> TransportCompany:
    """The company `company_id`. Raises NotFound (404), also for an operator
    asking for another company's."""
    check_company(actor, company_id, "Company")
    return get_or_404(TransportCompany, company_id, "Company")


def _code_taken() -> Conflict:
    """The 409 of a company code another company has."""
    return Conflict(_("A company with this code exists."), code="code-taken")


def _check_code_free(code: str, company_id: int | None = None) -> None:
    """Conflict (409 code-taken) when another company has `code`."""
    check_free(TransportCompany, _code_taken(), exclude_id=company_id, code=code)


def _commit(error: Conflict) -> None:
    """Commit; a concurrent writer's constraint violation becomes `error` (409)."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise error from exc


def _clean(values: dict) -> dict:
    """Company fields as stored: names stripped, the country upper case and
    checked against ISO 3166-1, the timezone checked against IANA, the email
    lower case. Raises ValidationFailed (422)."""
    values = dict(values)
    if "name" in values:
        values["name"] = values["name"].strip()
    if "country" in values:
        values["country"] = check_country(values["country"])
    if "timezone" in values:
        check_timezone(values["timezone"])
    if values.get("email"):
        values["email"] = values["email"].strip().lower()
    return values


def create_company(
    *, actor, facts: audit.RequestFacts | None = None, **fields
) -> TransportCompany:
    """Create and commit a company (admin) from CompanyCreateSchema `fields`
    (name, code, email, phone, country, website, timezone default UTC, active),
    audited with the request `facts`. Raises ValidationFailed (422) for an unknown
    country or timezone, Conflict (409 code-taken)."""
    values = _clean({k: v for k, v in fields.items() if k in COMPANY_FIELDS})
    values.setdefault("timezone", "UTC")
    _check_code_free(values["code"])
    company = TransportCompany(**values)
    db.session.add(company)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise _code_taken() from exc
    audit.record(
        "transport_company.created",
        entity_type="transport_company",
        entity_id=company.id,
        facts=facts,
        actor=actor,
        details={"code": company.code, "name": company.name},
    )
    _commit(_code_taken())
    return company


def update_company(
    *, actor, company_id: int, changes: dict, facts: audit.RequestFacts | None = None
) -> TransportCompany:
    """Apply a partial edit (admin) and commit, audited; `active: false`
    deactivates the company (its records stay; no new operator may join it).
    Raises NotFound (404), ValidationFailed (422) for an unknown country or
    timezone, Conflict (409 code-taken)."""
    company = get_company(actor=actor, company_id=company_id)
    values = _clean(changes)
    if "code" in values:
        _check_code_free(values["code"], company.id)
    changed = {k: v for k, v in values.items() if getattr(company, k) != v}
    for field, value in changed.items():
        setattr(company, field, value)
    if "active" in changed:
        audit.record(
            "transport_company.activated"
            if company.active
            else "transport_company.deactivated",
            entity_type="transport_company",
            entity_id=company.id,
            facts=facts,
            actor=actor,
        )
    edited = sorted(set(changed) - {"active"})
    if edited:
        audit.record(
            "transport_company.updated",
            entity_type="transport_company",
            entity_id=company.id,
            facts=facts,
            actor=actor,
            details={"fields": edited},
        )
    _commit(_code_taken())
    return company


def delete_company(
    *, actor, company_id: int, facts: audit.RequestFacts | None = None
) -> None:
    """Delete a company that has no vehicle, route or operator, and commit,
    audited. Raises NotFound (404), Conflict (409 company-in-use: deactivate it
    with `active: false` instead)."""
    company = get_company(actor=actor, company_id=company_id)
    in_use = Conflict(
        _("The company has vehicles, routes or operators; deactivate it instead."),
        code="company-in-use",
    )
    used = (
        exists().where(Vehicle.company_id == company.id),
        exists().where(TransportRoute.company_id == company.id),
        exists().where(Employee.company_id == company.id),
    )
    if any(db.session.scalar(select(test)) for test in used):
        raise in_use
    audit.record(
        "transport_company.deleted",
        entity_type="transport_company",
        entity_id=company.id,
        facts=facts,
        actor=actor,
        details={"code": company.code, "name": company.name},
    )
    db.session.delete(company)
    _commit(in_use)


# --- amenities --------------------------------------------------------------------


def list_amenities(
    *, q: str | None = None, page: int = 1, per_page: int = 20, cursor=None
) -> Page:
    """One page of amenities by code; `q` matches code or name."""
    stmt = select(Amenity)
    if q:
        stmt = stmt.where(text_matches(q, Amenity.code, Amenity.name))
    stmt = stmt.order_by(Amenity.code.asc(), Amenity.id.asc())
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_amenity(*, amenity_id: int) -> Amenity:
    """The amenity `amenity_id`. Raises NotFound (404)."""
    return get_or_404(Amenity, amenity_id, "Amenity")


def _amenity_code_taken() -> Conflict:
    """The 409 of an amenity code another amenity has."""
    return Conflict(_("An amenity with this code exists."), code="code-taken")


def _check_amenity_code_free(code: str, amenity_id: int | None = None) -> None:
    """Conflict (409 code-taken) when another amenity has `code`."""
    check_free(Amenity, _amenity_code_taken(), exclude_id=amenity_id, code=code)


def create_amenity(
    *, actor, code: str, name: str, facts: audit.RequestFacts | None = None
) -> Amenity:
    """Create and commit an amenity (admin), audited. Raises Conflict (409
    code-taken)."""
    _check_amenity_code_free(code)
    amenity = Amenity(code=code, name=name.strip())
    db.session.add(amenity)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise _amenity_code_taken() from exc
    audit.record(
        "amenity.created",
        entity_type="amenity",
        entity_id=amenity.id,
        facts=facts,
        actor=actor,
        details={"code": code},
    )
    _commit(_amenity_code_taken())
    return amenity


def update_amenity(
    *, actor, amenity_id: int, changes: dict, facts: audit.RequestFacts | None = None
) -> Amenity:
    """Rename or recode an amenity (admin) and commit, audited; vehicles keep it
    under its new code. Raises NotFound (404), Conflict (409 code-taken)."""
    amenity = get_amenity(amenity_id=amenity_id)
    values = dict(changes)
    if "name" in values:
        values["name"] = values["name"].strip()
    if "code" in values:
        _check_amenity_code_free(values["code"], amenity.id)
    apply_changes(amenity, values, entity_type="amenity", actor=actor, facts=facts)
    _commit(_amenity_code_taken())
    return amenity


def delete_amenity(
    *, actor, amenity_id: int, facts: audit.RequestFacts | None = None
) -> None:
    """Delete an amenity no vehicle lists, and commit, audited. Raises NotFound
    (404), Conflict (409 amenity-in-use)."""
    amenity = get_amenity(amenity_id=amenity_id)
    in_use = Conflict(
        _("A vehicle lists this amenity; remove it from the vehicles first."),
        code="amenity-in-use",
    )
    used = exists().where(vehicle_amenities.c.amenity_id == amenity.id)
    if db.session.scalar(select(used)):
        raise in_use
    audit.record(
        "amenity.deleted",
        entity_type="amenity",
        entity_id=amenity.id,
        facts=facts,
        actor=actor,
        details={"code": amenity.code},
    )
    db.session.delete(amenity)
    _commit(in_use)
