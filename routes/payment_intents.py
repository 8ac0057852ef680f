"""Payment intents endpoints (docs/design.md "Resource map": /payment-intents/<id>):
list and show card payment attempts (docs/payments.md "Listing card payments").
Starting one is `POST /bookings/<id>/payment-intents` (routes/bookings.py)."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from routes.common.access import CARD_PAYERS, with_publishable_key
from routes.common.blueprint import Blueprint
from schemas.common import page_of
from schemas.payments.card_payments import (
    PaymentIntentQueryArgs,
    PaymentIntentSchema,
    PaymentIntentSummarySchema,
)
from services.payments import card_payments

blp = Blueprint(
    "payment-intents",
    __name__,
    description="Card payment attempts through the provider",
)

# Finance and admin list every attempt; a customer lists their own.
ATTEMPT_READERS = ("admin", "finance", "customer")


@blp.route("")
class PaymentIntents(MethodView):
    @roles_required(*ATTEMPT_READERS)
    @blp.arguments(PaymentIntentQueryArgs, location="query")
    @blp.response(200, page_of(PaymentIntentSummarySchema))
    def get(self, args):
        """List card payment attempts, newest first (customers: their own)."""
        return card_payments.list_attempts(account=current_user, **args)


@blp.route("/<int(max=2147483647):attempt_id>")
class PaymentIntentById(MethodView):
    @roles_required(*CARD_PAYERS)
    @blp.response(200, PaymentIntentSchema)
    def get(self, attempt_id):
        """Show a card payment attempt (customers: their own)."""
        return with_publishable_key(
            card_payments.get_attempt(account=current_user, attempt_id=attempt_id)
        )
