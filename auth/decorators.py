"""Role decorators for views (docs/design.md "Accounts and roles" matrix).

Roles are the six staff roles plus `customer`; `STAFF` names all six.
"""

from copy import deepcopy
from functools import wraps

from flask_jwt_extended import current_user, get_current_user, verify_jwt_in_request

from core.errors import Forbidden
from core.i18n import _
from models.account import ROLES

STAFF = ROLES
ANY_ACCOUNT = (*ROLES, "customer")
BEARER = [{"bearerAuth": []}]
# OpenAPI 3: an empty requirement object makes the bearer token optional.
OPTIONAL_BEARER = [{"bearerAuth": []}, {}]


def _document_security(view, roles, security=BEARER) -> None:
    """Mark the operation as taking a bearer token in the OpenAPI spec (`security`:
    BEARER required, OPTIONAL_BEARER optional), naming the roles in `x-roles` when
    given (read by flask-smorest from `_apidoc`)."""
    apidoc = deepcopy(getattr(view, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    manual["security"] = security
    if roles:
        manual.setdefault("x-roles", sorted(roles))
    view._apidoc = apidoc


def roles_required(*roles: str, refresh: bool = False):
    """Require a valid access token whose account has one of `roles`.

    Put it above `@blp.arguments` so a bad body from an anonymous caller gets 401,
    not 422 (docs/architecture.md "Stack notes"). Raises 401 (through the JWT
    loaders) or 403.
    """
    allowed = set(roles)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            if current_user.role not in allowed:
                raise Forbidden(
                    _("The role '%(role)s' may not do this.", role=current_user.role)
                )
            return view(*args, **kwargs)

        _document_security(wrapper, allowed)
        return wrapper

    return decorator


def login_required(view=None, *, refresh: bool = False):
    """Require any authenticated account (staff or customer)."""
    if view is None:
        return lambda v: roles_required(*ANY_ACCOUNT, refresh=refresh)(v)
    return roles_required(*ANY_ACCOUNT, refresh=refresh)(view)


def optional_login(view):
    """Accept anonymous callers but load the account when a valid token is sent; a
    token that is sent but invalid, expired or revoked is still a 401."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        verify_jwt_in_request(optional=True)
        return view(*args, **kwargs)

    _document_security(wrapper, (), security=OPTIONAL_BEARER)
    return wrapper


def caller():
    """The authenticated Employee or Customer of this request, or None."""
    try:
        return get_current_user()
    except RuntimeError:
        return None
