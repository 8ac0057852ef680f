"""The `@idempotent` view decorator: honours the Idempotency-Key header on POSTs that
create bookings, payments and refunds (docs/design.md "API conventions")."""

from copy import deepcopy
from functools import wraps

from flask import current_app, make_response, request
from flask_jwt_extended import get_current_user

from services.shared import idempotency

HEADER = "Idempotency-Key"
PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": (
        "Any unique string (e.g. a UUID) chosen by the client. A repeat with the same "
        "key and body within 24 h returns the first answer with "
        "`Idempotent-Replayed: true`; the same key with another body is 422, while the "
        "first request is still running 409 (`idempotency-in-flight`), and 409 "
        "`idempotency-outcome-unknown` when the first request was carried out but its "
        "answer was lost in a failure (it is never run twice)."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.MAX_KEY_LENGTH,
        "example": "5f0c2a7e-3b8d-4d1e-9a57-2c6f1e0b8d44",
    },
}


def _document_header(view) -> None:
    """Declare the optional Idempotency-Key header parameter in the OpenAPI spec
    (read by flask-smorest from `_apidoc["manual_doc"]`, like auth/decorators.py
    `_document_security`). flask-smorest replaces, not merges, an operation's
    `parameters` with the manual ones, so the decorated view may only take a body:
    query arguments would vanish from the spec. Raises TypeError if it has some."""
    apidoc = deepcopy(getattr(view, "_apidoc", {}))
    arguments = apidoc.get("arguments", {}).get("parameters", [])
    if any(argument.get("in") != "json" for argument in arguments):
        raise TypeError("@idempotent documents a header: use it on body-only views")
    apidoc.setdefault("manual_doc", {})["parameters"] = [PARAMETER]
    view._apidoc = apidoc


def idempotent(view):
    """Run `view` at most once per (account, Idempotency-Key); repeats get the first
    answer with `Idempotent-Replayed: true`. Place it below the auth decorator so the
    key is scoped to the authenticated account."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        account = get_current_user()
        owner = account.identity if account is not None else "anonymous"
        claimed = idempotency.claim(
            owner=owner,
            key=key,
            method=request.method,
            path=request.path,
            body=request.get_data(cache=True),
        )
        if isinstance(claimed, idempotency.Replay):
            response = current_app.response_class(
                claimed.body, status=claimed.status, mimetype="application/json"
            )
            response.headers["Idempotent-Replayed"] = "true"
            return response
        unhook = idempotency.mark_on_commit(claimed)
        try:
            response = make_response(view(*args, **kwargs))
        except Exception:
            unhook()
            idempotency.complete(claimed, status=500, body="")
            raise
        unhook()
        idempotency.complete(
            claimed, status=response.status_code, body=response.get_data(as_text=True)
        )
        return response

    _document_header(wrapper)
    return wrapper
