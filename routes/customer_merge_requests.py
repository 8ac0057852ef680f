"""Customer merge requests (docs/security.md "Merging customers"): a merge of two
customers who share no email or phone waits here for an admin or finance employee
other than its requester (maker-checker); `POST /customers/<id>/merge` files them."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import ProblemSchema
from routes.common.access import ID
from routes.common.blueprint import Blueprint
from routes.common.request_facts import request_facts
from schemas.common import page_of
from schemas.sales.pipeline import (
    MergeRequestQueryArgs,
    MergeRequestRejectSchema,
    MergeRequestSchema,
)
from services.sales import merge_requests

# Who sees merge requests: their makers (admin, sales) and their checkers
# (services/sales/merge_requests.py CHECKER_ROLES: admin, finance).
MERGE_READERS = ("admin", "sales", "finance")

blp = Blueprint(
    "customer-merge-requests",
    __name__,
    description="Customer merges awaiting a second employee's approval",
)


@blp.route("")
class MergeRequests(MethodView):
    @roles_required(*MERGE_READERS)
    @blp.arguments(MergeRequestQueryArgs, location="query")
    @blp.response(200, page_of(MergeRequestSchema))
    def get(self, args):
        """List merge requests, newest first (status, customer on either side)."""
        return merge_requests.list_merge_requests(**args)


@blp.route(f"/<{ID}:request_id>")
class MergeRequestById(MethodView):
    @roles_required(*MERGE_READERS)
    @blp.response(200, MergeRequestSchema)
    def get(self, request_id):
        """Show one merge request."""
        return merge_requests.get_merge_request(request_id)


@blp.route(f"/<{ID}:request_id>/approve")
class MergeRequestApprove(MethodView):
    @roles_required(*merge_requests.CHECKER_ROLES)
    @blp.response(200, MergeRequestSchema)
    @blp.alt_response(
        403, schema=ProblemSchema, description="Your own request (maker-checker)"
    )
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        description="Not pending, or the merge is refused now (merge-conflict)",
    )
    def post(self, request_id):
        """Approve a pending merge request and carry out the merge (not your own)."""
        return merge_requests.approve_merge_request(
            request_id=request_id, actor=current_user, facts=request_facts()
        )


@blp.route(f"/<{ID}:request_id>/reject")
class MergeRequestReject(MethodView):
    @roles_required(*merge_requests.CHECKER_ROLES)
    @blp.arguments(MergeRequestRejectSchema)
    @blp.response(200, MergeRequestSchema)
    @blp.alt_response(
        403, schema=ProblemSchema, description="Your own request (maker-checker)"
    )
    @blp.alt_response(409, schema=ProblemSchema, description="Not pending")
    def post(self, data, request_id):
        """Reject a pending merge request with a reason (not your own)."""
        return merge_requests.reject_merge_request(
            request_id=request_id, actor=current_user, **data, facts=request_facts()
        )
