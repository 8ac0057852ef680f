"""The `@idempotent` view decorator: honours the Idempotency-Key header on POSTs that
create bookings, payments and refunds (DESIGN.md "API conventions")."""

from functools import wraps

from flask import current_app, make_response, request
from flask_jwt_extended import get_current_user

from services import idempotency

HEADER = "Idempotency-Key"


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
            owner=owner, key=key, method=request.method, path=request.path,
            body=request.get_data(cache=True),
        )
        if isinstance(claimed, idempotency.Replay):
            response = current_app.response_class(
                claimed.body, status=claimed.status, mimetype="application/json"
            )
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response = make_response(view(*args, **kwargs))
        except Exception:
            idempotency.complete(claimed, status=500, body="")
            raise
        idempotency.complete(
            claimed, status=response.status_code, body=response.get_data(as_text=True)
        )
        return response

    return wrapper
