"""Who manages what in the transport domain (docs/transport.md "Companies and
operators"): admin and operation staff manage every company's vehicles, routes,
fares, schedules and trips; an `operator` manages only its own company's, and
another company's record answers 404 as if it did not exist. Other staff read.
"""

from core.errors import Forbidden, NotFound, ValidationFailed
from core.i18n import _
from models.account import is_staff

# Roles that manage transport records (an operator: its company's only).
MANAGERS = ("admin", "operation", "operator")
# Every staff role reads the network; anonymous callers use the search.
READERS = (
    "admin",
    "hr",
    "sales",
    "operation",
    "operation_head",
    "finance",
    "operator",
)


def company_scope(actor) -> int | None:
    """The company id an actor is confined to: its own for an `operator`, None
    (every company) for anyone else."""
    if is_staff(actor) and actor.role == "operator":
        return actor.company_id
    return None


def check_company(actor, company_id: int | None, what: str = "Resource") -> None:
    """NotFound (404, named `what`) when an operator reaches another company's
    record; nothing for anyone else (docs/transport.md "Companies and operators")."""
    scope = company_scope(actor)
    if scope is not None and company_id != scope:
        raise NotFound(what)


def company_for_write(actor, company_id: int | None) -> int:
    """The company a new record of `actor` belongs to: an operator's own (a body
    naming another company is 404, none means its own); for admin and operation the
    body's `company_id`, required (ValidationFailed 422)."""
    scope = company_scope(actor)
    if scope is not None:
        if company_id not in (None, scope):
            raise NotFound("Company")
        return scope
    if company_id is None:
        raise ValidationFailed({"company_id": [_("Missing data for required field.")]})
    return company_id


def require_manager(actor) -> None:
    """Forbidden (403) unless the actor manages transport records (MANAGERS)."""
    if not is_staff(actor) or actor.role not in MANAGERS:
        raise Forbidden(_("Only admin, operation and operators manage transport data."))
