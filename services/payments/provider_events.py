"""What every effect of the payment provider's word shares: the outcome it answers,
the exactly-once claim of an event id, the attempt of a PaymentIntent, one commit,
and the checks a signed event's fields must pass before anything is written
(Stripe's "Webhooks" guide, https://docs.stripe.com/webhooks; docs/payments.md).

Exactly-once: every provider event id is inserted (primary key) in the same
transaction as its effect; a replay, or a concurrent delivery that committed first,
finds it and changes nothing.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from models import PaymentAttempt, ProviderEvent
from services.payments.provider import MalformedEvent

PROVIDER = "stripe"


@dataclass
class Outcome:
    """What applying one provider event or reconciliation did: `applied` (payment
    recorded), `failed`, `refund` (money given back), `refunded` (a refund made at
    the provider recorded), `disputed`, `dispute_won`, `dispute_lost`, `duplicate`
    (event seen), `unchanged` (already settled or recorded), `ours` (the provider
    reports a refund this service made), `pending` (the provider has not settled
    it yet), `unknown` (no such attempt), `ignored` (event type not handled)."""

    result: str
    attempt_id: int | None = None

    def as_dict(self) -> dict:
        """The webhook's answer body."""
        return {"received": True, "result": self.result, "attempt_id": self.attempt_id}


def claim_event(event_id: str | None, event_type: str) -> bool:
    """Insert the event id (flush); False when it was applied before (a replay) or a
    concurrent delivery committed it first. `None` (reconciliation) always claims."""
    if event_id is None:
        return True
    db.session.add(ProviderEvent(id=event_id, provider=PROVIDER, type=event_type))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def attempt_of(provider_payment_id: str | None) -> PaymentAttempt | None:
    """The attempt of a PaymentIntent id, or None (not created by this service)."""
    if not provider_payment_id:
        return None
    return db.session.scalar(
        select(PaymentAttempt).where(
            PaymentAttempt.provider_payment_id == provider_payment_id
        )
    )


def commit_or_rollback(function):
    """Run `function` in the session's transaction, commit, return its result; roll
    back and re-raise on any error."""
    try:
        result = function()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def commit_once(record) -> Outcome:
    """`commit_or_rollback(record)`, answering `duplicate` when a unique key (an
    event id, a provider refund id) shows that a concurrent delivery committed the
    same effect first."""
    try:
        return commit_or_rollback(record)
    except IntegrityError:
        return Outcome("duplicate")


def event_object(event: dict) -> dict:
    """`data.object` of a verified event; MalformedEvent (400) when it is not an
    object."""
    data = event.get("data")
    found = data.get("object") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise MalformedEvent("The event carries no data.object.")
    return found


def text_field(obj: dict, name: str, *, required: bool = True) -> str | None:
    """`obj[name]` as a non-empty string (None when absent and not `required`);
    MalformedEvent (400) otherwise."""
    value = obj.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 255:
        raise MalformedEvent(f"The event's {name} must be a non-empty string.")
    return value


def minor_amount(obj: dict, name: str = "amount") -> int:
    """`obj[name]` as a non-negative integer amount in minor units; MalformedEvent
    (400) for a string, null, float, boolean or negative number."""
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedEvent(f"The event's {name} must be a whole number >= 0.")
    return value


def currency_field(obj: dict) -> str:
    """`obj["currency"]` as three letters; MalformedEvent (400) otherwise."""
    value = obj.get("currency")
    if not (isinstance(value, str) and len(value) == 3 and value.isalpha()):
        raise MalformedEvent("The event's currency must be a three-letter code.")
    return value
