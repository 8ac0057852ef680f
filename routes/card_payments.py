"""Card payment endpoints: start a payment intent, show it, and the provider's
webhook (docs/design.md "Resource map"; roles matrix row "start a card payment (payment
intent)": admin, sales and finance for a customer, the customer for their own)."""

from flask import current_app, request
from flask.views import MethodView
from flask_jwt_extended import current_user
from routes.blueprint import Blueprint

from auth.decorators import roles_required
from routes.idempotency import idempotent
from schemas.card_payments import (
    PaymentIntentCreateSchema,
    PaymentIntentSchema,
    WebhookAnswerSchema,
)
from schemas.common import ProblemSchema
from routes.request_facts import request_facts
from services import card_payments

blp = Blueprint(
    "card_payments", __name__, description="Card payments through the provider"
)

CARD_PAYERS = ("admin", "sales", "finance", "customer")


def _with_key(attempt):
    """The attempt as the response shows it, with the publishable key."""
    attempt.publishable_key = current_app.config.get("STRIPE_PUBLISHABLE_KEY") or None
    return attempt


@blp.route("/bookings/<int(max=2147483647):booking_id>/payment-intents")
class BookingPaymentIntents(MethodView):
    @roles_required(*CARD_PAYERS)
    @idempotent
    @blp.arguments(PaymentIntentCreateSchema)
    @blp.response(201, PaymentIntentSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="Booking not payable")
    @blp.alt_response(
        502, schema=ProblemSchema, description="The provider refused the call"
    )
    @blp.alt_response(
        503, schema=ProblemSchema, description="Card payments unavailable"
    )
    def post(self, data, booking_id):
        """Start a card payment: a provider payment intent the client confirms."""
        return _with_key(
            card_payments.start_card_payment(
                account=current_user,
                booking_id=booking_id,
                **data,
                facts=request_facts(),
            )
        )


@blp.route("/payment-intents/<int(max=2147483647):attempt_id>")
class PaymentIntentById(MethodView):
    @roles_required(*CARD_PAYERS)
    @blp.response(200, PaymentIntentSchema)
    def get(self, attempt_id):
        """Show a card payment attempt (customers: their own)."""
        return _with_key(
            card_payments.get_attempt(account=current_user, attempt_id=attempt_id)
        )


@blp.route("/webhooks/stripe")
class StripeWebhook(MethodView):
    @blp.doc(
        security=[],
        requestBody={
            "required": True,
            "description": "A Stripe event, signed in the `Stripe-Signature` header.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        parameters=[
            {
                "in": "header",
                "name": "Stripe-Signature",
                "required": True,
                "schema": {"type": "string"},
                "description": "t=<unix time>,v1=<HMAC-SHA256 of 't.body' with the secret>",
            }
        ],
    )
    @blp.response(200, WebhookAnswerSchema)
    @blp.alt_response(
        400, schema=ProblemSchema, description="Missing, forged or stale signature"
    )
    @blp.alt_response(
        503, schema=ProblemSchema, description="Card payments unavailable"
    )
    def post(self):
        """Receive a payment provider event (signed; applied at most once)."""
        return card_payments.handle_webhook(
            payload=request.get_data(cache=True),
            signature=request.headers.get("Stripe-Signature"),
            facts=request_facts(),
        )
