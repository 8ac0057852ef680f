"""Activities endpoints (docs/design.md "Resource map": /activities; roles matrix row
"work the pipeline"): the sales team's planned calls, meetings and tasks across
enquiries. An enquiry's own are under `/enquiries/<id>/activities`."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from routes.common.access import ID, SALES_WORKERS
from routes.common.blueprint import Blueprint
from schemas.common import page_of
from schemas.sales.pipeline import (
    ActivityQueryArgs,
    ActivitySchema,
    ActivityUpdateSchema,
)
from services.sales import activities

blp = Blueprint("activities", __name__, description="Sales activities across enquiries")


@blp.route("")
class Activities(MethodView):
    @roles_required(*SALES_WORKERS)
    @blp.arguments(ActivityQueryArgs, location="query")
    @blp.response(200, page_of(ActivitySchema))
    def get(self, args):
        """List activities by owner, due today or overdue, soonest due first."""
        return activities.list_activities(**args)


@blp.route(f"/<{ID}:activity_id>")
class ActivityItem(MethodView):
    @roles_required(*SALES_WORKERS)
    @blp.arguments(ActivityUpdateSchema)
    @blp.response(200, ActivitySchema)
    def patch(self, data, activity_id):
        """Mark an activity done (`done: true`) or edit it."""
        return activities.update_activity(
            actor=current_user, activity_id=activity_id, changes=data
        )
