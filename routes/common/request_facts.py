"""The one place that reads the HTTP request for the services: `request_facts()`
gathers the authenticated caller, the request id and the client address into a
services.audit.audit.RequestFacts that a view passes down to the service it calls
(docs/architecture.md "Layers": services take the acting account and request facts
as arguments)."""

from flask import g, has_request_context, request

from auth.decorators import caller
from services.audit.audit import RequestFacts


def request_facts() -> RequestFacts:
    """The facts of the current request: the authenticated Employee or Customer
    (None when anonymous), `g.request_id` set by the request-id middleware
    (core/observability.py; cut to 128 characters, as that middleware accepts), and the
    client address after ProxyFix (cut to 45 characters). Outside a request all
    three are None."""
    if not has_request_context():
        return RequestFacts()
    request_id = g.get("request_id")
    address = request.remote_addr
    return RequestFacts(
        actor=caller(),
        request_id=str(request_id)[:128] if request_id else None,
        ip=address[:45] if address else None,
    )
