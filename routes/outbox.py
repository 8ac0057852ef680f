"""Outbox and outgoing webhook endpoints, admin only (docs/design.md "Resource map":
GET /outbox?state=, /webhooks/endpoints; roles matrix: webhook endpoints, outbox)."""

from flask.views import MethodView
from routes.blueprint import Blueprint

from auth.decorators import roles_required
from schemas.common import PageArgs, ProblemSchema, page_of
from schemas.outbox import (
    OutboxMessageSchema,
    OutboxQueryArgs,
    WebhookEndpointCreateSchema,
    WebhookEndpointSchema,
    WebhookEndpointSecretSchema,
    WebhookEndpointUpdateSchema,
)
from services import outbox, webhooks

blp = Blueprint("outbox", __name__, description="Outbox and outgoing webhooks (admin)")

ID = "<int(max=2147483647):{}>"


@blp.route("/outbox")
class Outbox(MethodView):
    @roles_required("admin")
    @blp.arguments(OutboxQueryArgs, location="query")
    @blp.response(200, page_of(OutboxMessageSchema))
    def get(self, args):
        """List outbox messages (mail, webhook deliveries), newest first; ?state=dead."""
        return outbox.list_messages(**args)


@blp.route(f"/outbox/{ID.format('message_id')}/retry")
class OutboxRetry(MethodView):
    @roles_required("admin")
    @blp.response(200, OutboxMessageSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such message")
    @blp.alt_response(409, schema=ProblemSchema, description="The message is not dead")
    def post(self, message_id):
        """Send a dead message again (due now, a fresh attempt budget)."""
        return outbox.retry_message(message_id)


@blp.route("/webhooks/endpoints")
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


@blp.route(f"/webhooks/endpoints/{ID.format('endpoint_id')}")
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


@blp.route(f"/webhooks/endpoints/{ID.format('endpoint_id')}/rotate-secret")
class WebhookEndpointRotate(MethodView):
    @roles_required("admin")
    @blp.response(200, WebhookEndpointSecretSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such endpoint")
    def post(self, endpoint_id):
        """Replace the signing secret; the answer shows the new one once."""
        return webhooks.rotate_secret(endpoint_id)


@blp.route(f"/webhooks/endpoints/{ID.format('endpoint_id')}/deliveries")
class WebhookDeliveries(MethodView):
    @roles_required("admin")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(OutboxMessageSchema))
    @blp.alt_response(404, schema=ProblemSchema, description="No such endpoint")
    def get(self, args, endpoint_id):
        """The endpoint's delivery log, newest first."""
        return webhooks.list_deliveries(endpoint_id, **args)


@blp.route(
    f"/webhooks/endpoints/{ID.format('endpoint_id')}/deliveries/"
    f"{ID.format('delivery_id')}/redeliver"
)
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
