"""The payment provider: Stripe's API through the official `stripe` library
(https://docs.stripe.com/api). `STRIPE_API_BASE` points the library at another server
speaking the same API (a local `localstripe` in development and tests).

Amounts: the provider speaks integer minor units of the currency
(https://docs.stripe.com/currencies#zero-decimal); the service speaks Decimal major
units. Card payments are enabled when any STRIPE_* variable is set (config.py).
"""

import json
from decimal import Decimal

import stripe
from flask import current_app

from core.errors import APIError

EXTENSION_KEY = "easytravels.stripe"
# Stripe's zero-decimal currencies (docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)


class ProviderUnavailable(APIError):
    """503: card payments are not configured, or the provider did not answer."""

    def __init__(self, detail: str, *, code: str = "card-payments-unavailable"):
        super().__init__(503, detail, code=code, headers={"Retry-After": "30"})


class MalformedEvent(APIError):
    """400: a correctly signed event that is not an event object, or lacks a field
    it must carry, or carries it with the wrong type (nothing is recorded)."""

    def __init__(self, detail: str):
        super().__init__(400, detail, code="malformed-event")


class ProviderRefused(APIError):
    """502: the provider answered with an error (its message is passed on)."""

    def __init__(self, detail: str):
        super().__init__(502, detail, code="provider-error")


def card_payments_enabled(config) -> bool:
    """True when any STRIPE_* variable is configured (config.py "Card payments")."""
    names = (
        "STRIPE_SECRET_KEY",
        "STRIPE_PUBLISHABLE_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_API_BASE",
    )
    return any(config.get(name) for name in names)


def client() -> stripe.StripeClient:
    """The app's StripeClient (built once per app). Against `STRIPE_API_BASE` the
    library never retries on its own (a local stand-in ignores Idempotency-Key, so a
    retry could create a second object); against Stripe it retries twice, safe
    because every write carries our idempotency key. Raises ProviderUnavailable
    (503) when card payments are not configured."""
    config = current_app.config
    if not config.get("STRIPE_SECRET_KEY"):
        raise ProviderUnavailable(
            "Card payments are not configured on this server (STRIPE_SECRET_KEY)."
        )
    cached = current_app.extensions.get(EXTENSION_KEY)
    if cached is None:
        base = config.get("STRIPE_API_BASE")
        options = {"max_network_retries": 0 if base else 2}
        if base:
            options["base_addresses"] = {"api": base.rstrip("/")}
        cached = stripe.StripeClient(config["STRIPE_SECRET_KEY"], **options)
        current_app.extensions[EXTENSION_KEY] = cached
    return cached


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` (Decimal, major units) as the provider's integer minor units."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return int((Decimal(amount) * (10**exponent)).to_integral_value())


def from_minor(amount: int, currency: str) -> Decimal:
    """The provider's integer minor units as Decimal major units (0.01 steps)."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return (Decimal(int(amount)) / (10**exponent)).quantize(Decimal("0.01"))


def call(what: str, function, *args, **kwargs):
    """Run one provider call; turn its errors into problems: a connection failure
    into ProviderUnavailable (503), any other Stripe error into ProviderRefused
    (502) with the provider's message."""
    try:
        return function(*args, **kwargs)
    except stripe.APIConnectionError as exc:
        raise ProviderUnavailable(
            f"The payment provider did not answer ({what}); try again.",
            code="provider-unavailable",
        ) from exc
    except stripe.StripeError as exc:
        message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
        raise ProviderRefused(
            f"The payment provider refused {what}: {message}"
        ) from exc


def create_payment_intent(
    *, amount_minor: int, currency: str, metadata: dict, idempotency_key: str
):
    """Create a PaymentIntent (docs.stripe.com/api/payment_intents/create) for card
    payment; the client confirms it with Stripe.js or an SDK."""
    params = {
        "amount": amount_minor,
        "currency": currency.lower(),
        "payment_method_types": ["card"],
        "metadata": metadata,
    }
    return call(
        "the payment intent",
        client().v1.payment_intents.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def retrieve_payment_intent(provider_payment_id: str):
    """The PaymentIntent as the provider sees it now."""
    return call(
        "the payment intent lookup",
        client().v1.payment_intents.retrieve,
        provider_payment_id,
    )


def create_refund(
    *,
    provider_payment_id: str,
    amount_minor: int,
    idempotency_key: str,
    metadata: dict | None = None,
):
    """Refund `amount_minor` of a PaymentIntent (docs.stripe.com/api/refunds/create).
    `metadata` marks the refund as this service's own (`easytravels_refund_id` or
    `easytravels_attempt_id`), so its refund events are not mistaken for a refund
    made at the provider (services/payments/provider_money.py)."""
    params = {"payment_intent": provider_payment_id, "amount": amount_minor}
    if metadata:
        params["metadata"] = metadata
    return call(
        "the refund",
        client().v1.refunds.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def list_refunds(provider_payment_id: str) -> list[dict]:
    """Every refund of a PaymentIntent as plain dicts, newest first
    (docs.stripe.com/api/refunds/list; auto-paginated)."""
    page = call(
        "the refund list",
        client().v1.refunds.list,
        params={"payment_intent": provider_payment_id, "limit": 100},
    )
    return [plain(refund) for refund in page.auto_paging_iter()]


def retrieve_charge(charge_id: str) -> dict:
    """The Charge as the provider sees it now, as a plain dict."""
    return plain(call("the charge lookup", client().v1.charges.retrieve, charge_id))


def plain(stripe_object) -> dict:
    """A StripeObject as plain dicts and lists (the library's objects are not
    dicts); anything else unchanged."""
    return (
        stripe_object.to_dict() if hasattr(stripe_object, "to_dict") else stripe_object
    )


def construct_event(
    payload: bytes, signature: str | None, *, tolerance: int = 300
) -> dict:
    """Verify `Stripe-Signature` over the raw body with STRIPE_WEBHOOK_SECRET
    (docs.stripe.com/webhooks#verify-events, stripe.WebhookSignature) and return the
    event as a plain dict with a string `id` and `type`. Raises
    stripe.SignatureVerificationError (missing, forged or stale signature, a body
    that is not UTF-8) and MalformedEvent (400: signed, but not a JSON object with
    `id` and `type`)."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise ProviderUnavailable(
            "Card payments are not configured on this server (STRIPE_WEBHOOK_SECRET)."
        )
    if not signature:
        raise stripe.SignatureVerificationError(
            "No Stripe-Signature header", signature, payload
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise stripe.SignatureVerificationError(
            "The body is not UTF-8", signature, payload
        ) from exc
    stripe.WebhookSignature.verify_header(text, signature, secret, tolerance)
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise MalformedEvent("The signed body is not JSON.") from exc
    if not isinstance(event, dict):
        raise MalformedEvent("The signed body is not an event object.")
    for name in ("id", "type"):
        if not isinstance(event.get(name), str) or not event[name]:
            raise MalformedEvent(f"The event's {name} must be a non-empty string.")
    return event
