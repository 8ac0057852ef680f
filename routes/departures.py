"""Departures endpoints (docs/design.md "Resource map": /departures, including an
operator cancelling a whole departure); a package's departures are listed and
created under /packages/<id>/departures."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import caller, optional_login, roles_required
from core.errors import ProblemSchema
from routes.common.blueprint import Blueprint
from routes.common.caching import catalogue_cached
from routes.common.idempotency import idempotent
from routes.common.request_facts import request_facts
from schemas.booking.cancellations import (
    DepartureCancellationSchema,
    DepartureCancelSchema,
)
from schemas.catalogue.departures import DepartureSchema, DepartureUpdateSchema
from services.booking import cancellations
from services.catalogue import departures

blp = Blueprint("departures", __name__, description="Dated departures of packages")

EDITORS = ("admin", "operation", "operation_head")


@blp.route("/<int(max=2147483647):departure_id>")
class DepartureById(MethodView):
    @optional_login
    @catalogue_cached(live_seats=True)
    @blp.response(200, DepartureSchema)
    def get(self, departure_id):
        """Show a departure (customers and anonymous: of published packages only)."""
        return departures.get_departure(departure_id=departure_id, account=caller())

    @roles_required(*EDITORS)
    @blp.arguments(DepartureUpdateSchema)
    @blp.response(200, DepartureSchema)
    def patch(self, data, departure_id):
        """Edit dates, capacity (never below seats taken), price or cutoff; price
        changes and capacity cuts of a published package need approval again."""
        return departures.update_departure(
            departure_id=departure_id,
            changes=data,
            editor=current_user,
            facts=request_facts(),
        )

    @roles_required(*EDITORS)
    @blp.response(204)
    def delete(self, departure_id):
        """Delete a departure that has no bookings."""
        departures.delete_departure(departure_id=departure_id, facts=request_facts())


OPERATORS = ("admin", "operation_head")


@blp.route("/<int(max=2147483647):departure_id>/cancel")
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
            account=current_user,
            departure_id=departure_id,
            **data,
            facts=request_facts(),
        )
