"""Payments endpoints (docs/design.md "Resource map": /payments; roles matrix row
"record payment / refund"): the list of payments. Recording one is
`POST /bookings/<id>/payments` (routes/bookings.py)."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from routes.common.access import MONEY_ROLES
from routes.common.blueprint import Blueprint
from schemas.common import page_of
from schemas.payments.billing import (
    PaymentQueryArgs,
    PaymentSchema,
)
from services.payments import payments

blp = Blueprint("payments", __name__, description="Payments on bookings")


@blp.route("")
class Payments(MethodView):
    @roles_required(*MONEY_ROLES)
    @blp.arguments(PaymentQueryArgs, location="query")
    @blp.response(200, page_of(PaymentSchema))
    def get(self, args):
        """List payments, newest first (customers see their own)."""
        return payments.list_payments(account=current_user, **args)
