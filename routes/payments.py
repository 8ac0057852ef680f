"""Payment endpoints: paying bookings and the payments made (docs/design.md "Resource
map": /bookings/<id>/payments, /payments; roles matrix row "record payment /
refund": finance and admin record, customers pay their own)."""

from flask.views import MethodView
from flask_jwt_extended import current_user
from routes.blueprint import Blueprint

from auth.decorators import roles_required
from routes.idempotency import idempotent
from schemas.billing import (
    PaymentCreateSchema,
    PaymentQueryArgs,
    PaymentReceiptSchema,
    PaymentSchema,
)
from schemas.common import ProblemSchema, page_of
from routes.request_facts import request_facts
from services import payments

blp = Blueprint("payments", __name__, description="Payments on bookings")

MONEY_ROLES = ("admin", "finance", "customer")


@blp.route("/bookings/<int(max=2147483647):booking_id>/payments")
class BookingPayments(MethodView):
    @roles_required(*MONEY_ROLES)
    @idempotent
    @blp.arguments(PaymentCreateSchema)
    @blp.response(201, PaymentReceiptSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Not payable, seats gone, funds"
    )
    def post(self, data, booking_id):
        """Pay a booking; it is confirmed once its deposit is paid."""
        return payments.record_payment(
            account=current_user, booking_id=booking_id, **data, facts=request_facts()
        )


@blp.route("/payments")
class Payments(MethodView):
    @roles_required(*MONEY_ROLES)
    @blp.arguments(PaymentQueryArgs, location="query")
    @blp.response(200, page_of(PaymentSchema))
    def get(self, args):
        """List payments, newest first (customers see their own)."""
        return payments.list_payments(account=current_user, **args)
