"""Refund endpoints: list, show, complete and retry refunds (docs/design.md
"Resource map": /refunds; roles matrix row "record payment / refund"). Refunds are
issued by cancellations (routes/bookings.py, routes/departures.py)."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import ProblemSchema
from routes.common.blueprint import Blueprint
from routes.common.request_facts import request_facts
from schemas.booking.cancellations import (
    RefundCompleteSchema,
    RefundQueryArgs,
    RefundSchema,
)
from schemas.common import page_of
from services.payments import refunds

blp = Blueprint("refunds", __name__, description="Refunds of cancelled bookings")

REFUND_VIEWERS = ("admin", "finance", "customer")
REFUNDERS = ("admin", "finance")


@blp.route("")
class Refunds(MethodView):
    @roles_required(*REFUND_VIEWERS)
    @blp.arguments(RefundQueryArgs, location="query")
    @blp.response(200, page_of(RefundSchema))
    def get(self, args):
        """List refunds, newest first (customers see their own)."""
        return refunds.list_refunds(account=current_user, **args)


@blp.route("/<int(max=2147483647):refund_id>")
class RefundById(MethodView):
    @roles_required(*REFUND_VIEWERS)
    @blp.response(200, RefundSchema)
    def get(self, refund_id):
        """Show one refund (customers: their own only)."""
        return refunds.get_refund(account=current_user, refund_id=refund_id)


@blp.route("/<int(max=2147483647):refund_id>/complete")
class CompleteRefund(MethodView):
    @roles_required(*REFUNDERS)
    @blp.arguments(RefundCompleteSchema)
    @blp.response(200, RefundSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="Already completed")
    def post(self, data, refund_id):
        """Mark a pending refund to the original method as paid out."""
        return refunds.complete_refund(
            account=current_user, refund_id=refund_id, **data, facts=request_facts()
        )


@blp.route("/<int(max=2147483647):refund_id>/retry")
class RetryRefund(MethodView):
    @roles_required(*REFUNDERS)
    @blp.response(200, RefundSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Not a failed provider refund"
    )
    @blp.alt_response(
        502, schema=ProblemSchema, description="The provider refused the call"
    )
    @blp.alt_response(
        503, schema=ProblemSchema, description="Card payments unavailable"
    )
    def post(self, refund_id):
        """Send a failed refund to the payment provider again."""
        return refunds.retry_refund(
            account=current_user, refund_id=refund_id, facts=request_facts()
        )
