"""localstripe, plus the refund and dispute behaviour of Stripe's test mode that it
lacks, so the service's handling of money changed at the provider runs against a
real local server (docs/payments.md "Money changed at the provider").

    python scripts/localstripe_events.py --port N --from-scratch

What it adds to localstripe (arguments as localstripe's own):
- every refund, made through the API (`POST /v1/refunds`) or by a partial capture,
  sends `refund.created` (the refund) and `charge.refunded` (the charge) to the
  registered webhooks, signed, as Stripe does;
- the test card `pm_card_createDispute` (number 4000000000000259) pays, and then
  its charge is disputed: a dispute object (`dp_...`, status `needs_response`,
  reason `fraudulent`) and a `charge.dispute.created` event; `GET /v1/disputes/<id>`
  shows it;
- as in Stripe's test mode, `POST /v1/disputes/<id>` with
  `evidence[uncategorized_text]=winning_evidence` closes it `won`,
  `losing_evidence` closes it `lost`, and `POST /v1/disputes/<id>/close`
  (accepting it) closes it `lost`; each sends `charge.dispute.closed`
  (https://docs.stripe.com/testing#disputes).

- an amount changed with `POST /v1/payment_intents/<id>` stays an integer, as at
  Stripe (localstripe kept the form's string, which then reached the events).

scripts/localstripe_server.py starts this file; nothing here runs in production.
"""

from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.webhooks import schedule_webhook

DISPUTE_CARD = "4000000000000259"
DISPUTE_PM = "pm_card_createDispute"
EVIDENCE_OUTCOME = {"winning_evidence": "won", "losing_evidence": "lost"}


class Dispute(resources.StripeObject):
    """A charge disputed by the cardholder (docs.stripe.com/api/disputes/object)."""

    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge):
        super().__init__()
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.amount = charge.amount
        self.currency = charge.currency
        self.reason = "fraudulent"
        self.status = "needs_response"
        self.evidence = {}
        self.metadata = {}

    def _close(self, status: str) -> "Dispute":
        """Close the dispute `won` or `lost` and send charge.dispute.closed."""
        if self.status in ("won", "lost"):
            raise UserError(400, "This dispute is already closed.")
        self.status = status
        schedule_webhook(resources.Event("charge.dispute.closed", self))
        return self

    @classmethod
    def _api_update(cls, id, evidence=None, metadata=None, submit=None, **kwargs):
        """Submit evidence: Stripe's test strings decide the outcome."""
        dispute = cls._api_retrieve(id)
        text = (evidence or {}).get("uncategorized_text")
        if text in EVIDENCE_OUTCOME:
            return dispute._close(EVIDENCE_OUTCOME[text])
        dispute.evidence = evidence or {}
        return dispute

    @classmethod
    def _api_accept(cls, id, **kwargs):
        """`POST /v1/disputes/<id>/close`: the merchant accepts the loss."""
        return cls._api_retrieve(id)._close("lost")


def _with_refund_events(init):
    """Wrap Refund.__init__ so a new refund sends Stripe's two events."""

    def create(self, *args, **kwargs):
        init(self, *args, **kwargs)
        schedule_webhook(resources.Event("refund.created", self))
        charge = resources.Charge._api_retrieve(self.charge)
        schedule_webhook(resources.Event("charge.refunded", charge))

    return create


def _with_dispute_card(retrieve):
    """Wrap PaymentMethod._api_retrieve to know Stripe's dispute test card."""

    def lookup(cls, id):
        if id == DISPUTE_PM:
            return resources.PaymentMethod(
                type="card",
                card={
                    "number": DISPUTE_CARD,
                    "exp_month": "12",
                    "exp_year": "2030",
                    "cvc": "123",
                },
            )
        return retrieve(id)

    return classmethod(lookup)


def _with_disputes(on_success):
    """Wrap PaymentIntent._on_success: a payment with the dispute card is then
    disputed (after its succeeded event)."""

    def succeeded(self):
        on_success(self)
        method = resources.PaymentMethod._api_retrieve(self.payment_method)
        if getattr(method, "_card_number", None) == DISPUTE_CARD:
            dispute = Dispute(self.latest_charge)
            schedule_webhook(resources.Event("charge.dispute.created", dispute))

    return succeeded


def _with_integer_amount(update):
    """Wrap PaymentIntent._update so an updated amount is stored as an integer."""

    def updated(self, **data):
        if "amount" in data:
            data["amount"] = resources.try_convert_to_int(data["amount"])
        return update(self, **data)

    return updated


def install() -> None:
    """Patch localstripe's classes and add the dispute routes."""
    resources.Refund.__init__ = _with_refund_events(resources.Refund.__init__)
    resources.PaymentMethod._api_retrieve = _with_dispute_card(
        resources.PaymentMethod._api_retrieve
    )
    resources.PaymentIntent._update = _with_integer_amount(
        resources.PaymentIntent._update
    )
    resources.PaymentIntent._on_success = _with_disputes(
        resources.PaymentIntent._on_success
    )
    routes = server.app.router
    routes.add_route(
        "POST", "/v1/disputes/{id}/close", server.api_extra(Dispute._api_accept, "")
    )
    routes.add_route(
        "GET", "/v1/disputes/{id}", server.api_retrieve(Dispute, "/v1/disputes/{id}")
    )
    routes.add_route(
        "POST", "/v1/disputes/{id}", server.api_update(Dispute, "/v1/disputes/{id}")
    )


if __name__ == "__main__":
    install()
    server.start()
