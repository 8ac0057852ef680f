"""Outbox endpoints (docs/design.md "Resource map": /outbox, admin): undelivered and
dead side effects, and a retry of a dead one."""

from flask.views import MethodView

from auth.decorators import roles_required
from core.errors import ProblemSchema
from routes.common.access import ID
from routes.common.blueprint import Blueprint
from schemas.common import page_of
from schemas.messaging.outbox import (
    OutboxMessageSchema,
    OutboxQueryArgs,
)
from services.messaging import outbox

blp = Blueprint("outbox", __name__, description="Outbox of side effects (admin)")


@blp.route("")
class Outbox(MethodView):
    @roles_required("admin")
    @blp.arguments(OutboxQueryArgs, location="query")
    @blp.response(200, page_of(OutboxMessageSchema))
    def get(self, args):
        """List outbox messages (mail, webhook deliveries), newest first; ?state=dead."""  # noqa: E501 - the OpenAPI summary
        return outbox.list_messages(**args)


@blp.route(f"/<{ID}:message_id>/retry")
class OutboxRetry(MethodView):
    @roles_required("admin")
    @blp.response(200, OutboxMessageSchema)
    @blp.alt_response(404, schema=ProblemSchema, description="No such message")
    @blp.alt_response(409, schema=ProblemSchema, description="The message is not dead")
    def post(self, message_id):
        """Send a dead message again (due now, a fresh attempt budget)."""
        return outbox.retry_message(message_id)
