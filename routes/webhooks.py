"""Webhooks endpoints (docs/design.md "Resource map": /webhooks): the payment
provider's signed events (`/webhooks/stripe`) and the admin's outgoing webhook
subscriptions with their deliveries (`/webhooks/endpoints`)."""

from flask import request
from flask.views import MethodView

from auth.decorators import roles_required
from core.errors import ProblemSchema
from routes.common.access import ID
from routes.common.blueprint import Blueprint
from routes.common.request_facts import request_facts
from schemas.common import PageArgs, page_of
from schemas.messaging.outbox import (
    OutboxMessageSchema,
    WebhookEndpointCreateSchema,
    WebhookEndpointSchema,
    WebhookEndpointSecretSchema,
    WebhookEndpointUpdateSchema,
)
from schemas.payments.card_payments import (
    WebhookAnswerSchema,
)
from services.messaging import webhooks
from services.payments import card_payments

blp = Blueprint(
    "webhooks",
    __name__,
    description="Provider webhooks in, outgoing webhook subscriptions (admin)",
)


@blp.route("/stripe")
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
                "description": "t=<unix time>,"
                "v1=<HMAC-SHA256 of 't.body' with the secret>",
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


@blp.route("/endpoints")
class WebhookEndpoints(MethodView):
    @roles_required("admin")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(WebhookEndpointSchema))
    def get(self, args):
        """List webhook subscriptions, newest first (secrets are never listed)."""
        return webhooks.list_endpoints(**args)

    @roles_required("admin")
    @blp.arguments(WebhookEndpointCreateSchema)
    @blp.response(201, WebhookEndpointSecretSchema)
    def post(self, data):
        """Subscribe a URL to event types; the answer shows the signing secret once."""
        return webhooks.create_endpoint(**data)


@blp.route(f"/endpoints/<{ID}:endpoint_id>")
class WebhookEndpointItem(MethodView):
    @roles_required("admin")
    @blp.response(200, WebhookEndpointSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such endpoint")
    def get(self, endpoint_id):
        """Show a webhook subscription (without its secret)."""
        return webhooks.get_endpoint(endpoint_id)

    @roles_required("admin")
    @blp.arguments(WebhookEndpointUpdateSchema)
    @blp.response(200, WebhookEndpointSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such endpoint")
    def patch(self, data, endpoint_id):
        """Change a subscription's URL, event types, description or active flag."""
        return webhooks.update_endpoint(endpoint_id, **data)

    @roles_required("admin")
    @blp.response(204)
    @blp.alt_response(404, schema=ProblemSchema, description="No such endpoint")
    def delete(self, endpoint_id):
        """Delete a subscription and its delivery log."""
        webhooks.delete_endpoint(endpoint_id)


@blp.route(f"/endpoints/<{ID}:endpoint_id>/rotate-secret")
class WebhookEndpointRotate(MethodView):
    @roles_required("admin")
    @blp.response(200, WebhookEndpointSecretSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such endpoint")
    def post(self, endpoint_id):
        """Replace the signing secret; the answer shows the new one once."""
        return webhooks.rotate_secret(endpoint_id)


@blp.route(f"/endpoints/<{ID}:endpoint_id>/deliveries")
class WebhookDeliveries(MethodView):
    @roles_required("admin")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(OutboxMessageSchema))
    @blp.alt_response(404, schema=ProblemSchema, description="No such endpoint")
    def get(self, args, endpoint_id):
        """The endpoint's delivery log, newest first."""
        return webhooks.list_deliveries(endpoint_id, **args)


@blp.route(f"/endpoints/<{ID}:endpoint_id>/deliveries/<{ID}:delivery_id>/redeliver")
class WebhookRedeliver(MethodView):
    @roles_required("admin")
    @blp.response(202, OutboxMessageSchema)
    @blp.alt_response(
        404, schema=ProblemSchema, description="No such endpoint or delivery"
    )
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        description="Endpoint disabled or delivery still pending",
    )
    def post(self, endpoint_id, delivery_id):
        """Queue a delivery again (same event, same webhook-id)."""
        return webhooks.redeliver(endpoint_id, delivery_id)
