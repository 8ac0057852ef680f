"""Wallet endpoints (docs/design.md "Resource map": /customers/<id>/wallet; "Lifecycles":
wallet): customers see their own ledger; finance and admin see any and post adjustments.
There is no other write path: customers never set a balance."""

from flask.views import MethodView
from flask_jwt_extended import current_user
from routes.blueprint import Blueprint

from auth.decorators import roles_required
from routes.idempotency import idempotent
from schemas.common import ProblemSchema
from schemas.wallets import (
    WalletAdjustmentCreateSchema,
    WalletEntrySchema,
    WalletQueryArgs,
    WalletSchema,
)
from routes.request_facts import request_facts
from services import wallet

blp = Blueprint("wallets", __name__, description="Customer wallets")


@blp.route("/<int(max=2147483647):customer_id>/wallet")
class CustomerWallet(MethodView):
    @roles_required("admin", "finance", "customer")
    @blp.arguments(WalletQueryArgs, location="query")
    @blp.response(200, WalletSchema)
    def get(self, args, customer_id):
        """Show a wallet: balance and ledger, newest first (customers: own)."""
        return wallet.get_wallet(account=current_user, customer_id=customer_id, **args)

    @roles_required("admin", "finance")
    @idempotent
    @blp.arguments(WalletAdjustmentCreateSchema)
    @blp.response(201, WalletEntrySchema)
    @blp.alt_response(409, schema=ProblemSchema, description="Balance too low")
    def post(self, data, customer_id):
        """Post a signed adjustment with a reason to a customer's wallet."""
        return wallet.post_adjustment(
            account=current_user,
            customer_id=customer_id,
            **data,
            facts=request_facts(),
        )
