"""Payment intents endpoints (docs/design.md "Resource map": /payment-intents/<id>):
show a card payment attempt. Starting one is `POST /bookings/<id>/payment-intents`
(routes/bookings.py)."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from routes.common.access import CARD_PAYERS, with_publishable_key
from routes.common.blueprint import Blueprint
from schemas.payments.card_payments import (
    PaymentIntentSchema,
)
from services.payments import card_payments

blp = Blueprint(
    "payment-intents",
    __name__,
    description="Card payment attempts through the provider",
)


@blp.route("/<int(max=2147483647):attempt_id>")
class PaymentIntentById(MethodView):
    @roles_required(*CARD_PAYERS)
    @blp.response(200, PaymentIntentSchema)
    def get(self, attempt_id):
        """Show a card payment attempt (customers: their own)."""
        return with_publishable_key(
            card_payments.get_attempt(account=current_user, attempt_id=attempt_id)
        )
