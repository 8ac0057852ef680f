"""Cancellation endpoints: quote and cancel a booking, refunds, and an operator
cancelling a whole departure (docs/design.md "Resource map"; roles matrix rows "cancel
booking" and "record payment / refund")."""

from flask.views import MethodView
from flask_jwt_extended import current_user
from routes.blueprint import Blueprint

from auth.decorators import roles_required
from routes.idempotency import idempotent
from schemas.cancellations import (
    CancellationQuoteSchema,
    CancellationSchema,
    CancelSchema,
    DepartureCancellationSchema,
    DepartureCancelSchema,
    RefundCompleteSchema,
    RefundQueryArgs,
    RefundSchema,
)
from schemas.common import ProblemSchema, page_of
from services import cancellations, refunds

blp = Blueprint("cancellations", __name__, description="Cancellations and refunds")

CANCELLERS = ("admin", "sales", "customer")
REFUND_VIEWERS = ("admin", "finance", "customer")
REFUNDERS = ("admin", "finance")
OPERATORS = ("admin", "operation_head")
BOOKING = "/bookings/<int(max=2147483647):booking_id>"


@blp.route(f"{BOOKING}/cancellation-quote")
class CancellationQuote(MethodView):
    @roles_required(*CANCELLERS)
    @blp.response(200, CancellationQuoteSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Booking not held/confirmed"
    )
    def get(self, booking_id):
        """Quote what cancelling the booking would cost now (changes nothing)."""
        return cancellations.cancellation_quote(
            account=current_user, booking_id=booking_id
        )


@blp.route(f"{BOOKING}/cancel")
class CancelBooking(MethodView):
    @roles_required(*CANCELLERS)
    @idempotent
    @blp.arguments(CancelSchema)
    @blp.response(200, CancellationSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="Not cancellable now")
    def post(self, data, booking_id):
        """Cancel the booking: tiered penalty, seats back, refund of the rest."""
        return cancellations.cancel_booking(
            account=current_user, booking_id=booking_id, **data
        )


@blp.route("/refunds")
class Refunds(MethodView):
    @roles_required(*REFUND_VIEWERS)
    @blp.arguments(RefundQueryArgs, location="query")
    @blp.response(200, page_of(RefundSchema))
    def get(self, args):
        """List refunds, newest first (customers see their own)."""
        return refunds.list_refunds(account=current_user, **args)


@blp.route("/refunds/<int(max=2147483647):refund_id>")
class RefundById(MethodView):
    @roles_required(*REFUND_VIEWERS)
    @blp.response(200, RefundSchema)
    def get(self, refund_id):
        """Show one refund (customers: their own only)."""
        return refunds.get_refund(account=current_user, refund_id=refund_id)


@blp.route("/refunds/<int(max=2147483647):refund_id>/complete")
class CompleteRefund(MethodView):
    @roles_required(*REFUNDERS)
    @blp.arguments(RefundCompleteSchema)
    @blp.response(200, RefundSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="Already completed")
    def post(self, data, refund_id):
        """Mark a pending refund to the original method as paid out."""
        return refunds.complete_refund(
            account=current_user, refund_id=refund_id, **data
        )


@blp.route("/refunds/<int(max=2147483647):refund_id>/retry")
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
        return refunds.retry_refund(account=current_user, refund_id=refund_id)


@blp.route("/departures/<int(max=2147483647):departure_id>/cancel")
class CancelDeparture(MethodView):
    @roles_required(*OPERATORS)
    @idempotent
    @blp.arguments(DepartureCancelSchema)
    @blp.response(200, DepartureCancellationSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Already cancelled or started"
    )
    def post(self, data, departure_id):
        """Cancel a whole departure (or preview it): every booking refunded in full."""
        return cancellations.cancel_departure(
            account=current_user, departure_id=departure_id, **data
        )
