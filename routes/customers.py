"""Customers endpoints (docs/design.md "Resource map": /customers; roles matrix rows
"register / list / view / edit / delete customer"), duplicates and merges; a merge
of customers who share no email or phone files a merge request
(routes/customer_merge_requests.py, docs/security.md "Merging customers")."""

from flask import jsonify, url_for
from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import ProblemSchema, ValidationFailed
from routes.common.access import ID, SALES_WORKERS
from routes.common.blueprint import Blueprint
from routes.common.idempotency import idempotent
from routes.common.request_facts import request_facts
from schemas.accounts.customers import (
    CustomerCreateSchema,
    CustomerQueryArgs,
    CustomerSchema,
    CustomerUpdateSchema,
)
from schemas.common import page_of
from schemas.payments.wallets import (
    WalletAdjustmentCreateSchema,
    WalletEntrySchema,
    WalletQueryArgs,
    WalletSchema,
)
from schemas.sales.pipeline import (
    DuplicateListSchema,
    DuplicateQueryArgs,
    MergeRequestSchema,
    MergeSchema,
)
from services.accounts import customers
from services.payments import wallet
from services.sales import customer_merge, merge_requests

blp = Blueprint("customers", __name__, description="Customers")


@blp.route("")
class Customers(MethodView):
    @roles_required("admin", "sales", "finance")
    @blp.arguments(CustomerQueryArgs, location="query")
    @blp.response(200, page_of(CustomerSchema))
    def get(self, args):
        """List and search customers (q over name, email and phone; active)."""
        return customers.list_customers(**args)

    @roles_required("admin", "sales")
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerSchema)
    def post(self, data):
        """Register a customer (the password is optional)."""
        return customers.create_customer(**data, registered_by=current_user)


@blp.route("/<int(max=2147483647):customer_id>")
class CustomerById(MethodView):
    @roles_required("admin", "sales", "finance", "customer")
    @blp.response(200, CustomerSchema)
    def get(self, customer_id):
        """Show one customer (a customer sees only their own record)."""
        return customers.get_customer(customer_id=customer_id, actor=current_user)

    @roles_required("admin", "sales", "customer")
    @blp.arguments(CustomerUpdateSchema)
    @blp.response(200, CustomerSchema)
    def patch(self, data, customer_id):
        """Edit a customer (staff may set active; a customer edits only their own)."""
        return customers.update_customer(
            customer_id=customer_id,
            changes=data,
            actor=current_user,
            facts=request_facts(),
        )

    @roles_required("admin", "sales")
    @blp.response(204)
    def delete(self, customer_id):
        """Delete a customer with their enquiries; refused when they have bookings."""
        customers.delete_customer(customer_id=customer_id, facts=request_facts())


@blp.route("/duplicates")
class CustomerDuplicates(MethodView):
    @roles_required(*SALES_WORKERS)
    @blp.arguments(DuplicateQueryArgs, location="query")
    @blp.response(200, DuplicateListSchema)
    def get(self, args):
        """Customers whose email or normalised phone match (duplicate candidates)."""
        if not args:
            raise ValidationFailed({"query": ["Give email, phone or both."]})
        return {"items": customer_merge.find_duplicates(**args)}


# The 202 of a merge that needs approval dumps a merge request, not a customer.
_MERGE_REQUEST = MergeRequestSchema()


def _merge_request_url(request_id: int) -> str:
    """The path of one merge request (the 202's Location)."""
    return url_for("customer-merge-requests.MergeRequestById", request_id=request_id)


@blp.route(f"/<{ID}:customer_id>/merge")
class CustomerMerge(MethodView):
    @roles_required(*SALES_WORKERS)
    @blp.arguments(MergeSchema)
    @blp.response(
        200, CustomerSchema, description="Merged at once (email or phone match)"
    )
    @blp.alt_response(
        202,
        schema=MergeRequestSchema,
        description="Not merged: a merge request awaits an admin's or finance's "
        "approval (Location: the request)",
        headers={
            "Location": {
                "description": "The merge request",
                "schema": {"type": "string"},
            }
        },
        success=True,
    )
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        description="Conflicting live bookings, or a merge request already pending",
    )
    def post(self, data, customer_id):
        """Merge another customer record into this one: at once when their email or
        phone match, else file a merge request for a second employee (audited)."""
        outcome = merge_requests.merge_or_request(
            actor=current_user, customer_id=customer_id, **data, facts=request_facts()
        )
        if outcome.request is None:
            return outcome.customer
        return (
            jsonify(_MERGE_REQUEST.dump(outcome.request)),
            202,
            {"Location": _merge_request_url(outcome.request.id)},
        )


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
