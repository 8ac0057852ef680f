"""Enquiry lost reasons endpoints (docs/design.md "Resource map":
/enquiry-lost-reasons; roles matrix row "lost reasons": admin edits, sales read)."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from routes.common.access import ID, SALES_WORKERS
from routes.common.blueprint import Blueprint
from routes.common.request_facts import request_facts
from schemas.sales.pipeline import (
    LostReasonCreateSchema,
    LostReasonQueryArgs,
    LostReasonSchema,
    LostReasonUpdateSchema,
)
from services.sales import lost_reasons

blp = Blueprint(
    "enquiry-lost-reasons", __name__, description="Reasons an enquiry is lost"
)


@blp.route("")
class LostReasons(MethodView):
    @roles_required(*SALES_WORKERS)
    @blp.arguments(LostReasonQueryArgs, location="query")
    @blp.response(200, LostReasonSchema(many=True))
    def get(self, args):
        """List the lost reasons (active ones unless include_inactive=true)."""
        return lost_reasons.list_reasons(**args)

    @roles_required("admin")
    @blp.arguments(LostReasonCreateSchema)
    @blp.response(201, LostReasonSchema)
    def post(self, data):
        """Add a lost reason (admin)."""
        return lost_reasons.create_reason(
            actor=current_user, **data, facts=request_facts()
        )


@blp.route(f"/<{ID}:reason_id>")
class LostReasonItem(MethodView):
    @roles_required("admin")
    @blp.arguments(LostReasonUpdateSchema)
    @blp.response(200, LostReasonSchema)
    def patch(self, data, reason_id):
        """Relabel or retire a lost reason (admin)."""
        return lost_reasons.update_reason(
            actor=current_user,
            reason_id=reason_id,
            changes=data,
            facts=request_facts(),
        )
