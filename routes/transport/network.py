"""Transport views: routes with their ordered stops, and each route's fares with
their approval (/transport/routes; docs/transport.md "Routes" and "Fares").

Every staff role reads, an operator only its own company's routes and fares;
admin, operation and operators (their own company's) create, edit and delete
routes and set fares; an admin or operation head who did not propose a pending
price approves or rejects it (maker-checker).
"""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import ProblemSchema
from routes.common.access import ID
from routes.common.request_facts import request_facts
from routes.transport import blp
from schemas.common import page_of
from schemas.transport.network import (
    FareTableInputSchema,
    FareTableSchema,
    TransportRouteCreateSchema,
    TransportRouteQueryArgs,
    TransportRouteSchema,
    TransportRouteUpdateSchema,
)
from services.transport import fares, network
from services.transport.access import MANAGERS, READERS

ROUTE = f"/routes/<{ID}:route_id>"


@blp.route("/routes")
class TransportRoutes(MethodView):
    @roles_required(*READERS)
    @blp.arguments(TransportRouteQueryArgs, location="query")
    @blp.response(200, page_of(TransportRouteSchema))
    def get(self, args):
        """List routes with their stops (an operator: its company's only)."""
        return network.list_routes(actor=current_user, **args)

    @roles_required(*MANAGERS)
    @blp.arguments(TransportRouteCreateSchema)
    @blp.response(201, TransportRouteSchema)
    @blp.alt_response(
        404, schema=ProblemSchema, description="An operator naming another company"
    )
    def post(self, data):
        """Create a route calling at its stations in order."""
        return network.create_route(actor=current_user, **data)


@blp.route(ROUTE)
class TransportRouteById(MethodView):
    @roles_required(*READERS)
    @blp.response(200, TransportRouteSchema)
    def get(self, route_id):
        """Show a route with its ordered stops."""
        return network.get_route(actor=current_user, route_id=route_id)

    @roles_required(*MANAGERS)
    @blp.arguments(TransportRouteUpdateSchema)
    @blp.response(200, TransportRouteSchema)
    def patch(self, data, route_id):
        """Edit a route; its stops and mode only while it has no trips."""
        return network.update_route(actor=current_user, route_id=route_id, changes=data)

    @roles_required(*MANAGERS)
    @blp.response(204)
    def delete(self, route_id):
        """Delete a route without trips or schedules."""
        network.delete_route(
            actor=current_user, route_id=route_id, facts=request_facts()
        )


@blp.route(f"{ROUTE}/fares")
class RouteFares(MethodView):
    @roles_required(*READERS)
    @blp.response(200, FareTableSchema)
    def get(self, route_id):
        """Show the route's fares per origin-destination pair and section."""
        return fares.fare_table(actor=current_user, route_id=route_id)

    @roles_required(*MANAGERS)
    @blp.arguments(FareTableInputSchema)
    @blp.response(200, FareTableSchema)
    def put(self, data, route_id):
        """Set the route's whole fare table (changes on published trips wait for
        approval)."""
        return fares.set_fares(
            actor=current_user, route_id=route_id, **data, facts=request_facts()
        )


@blp.route(f"{ROUTE}/fares/approve")
class ApproveRouteFares(MethodView):
    @roles_required(*fares.APPROVERS)
    @blp.response(200, FareTableSchema)
    def post(self, route_id):
        """Approve the route's pending prices (not ones you proposed)."""
        return fares.approve_fares(
            actor=current_user, route_id=route_id, facts=request_facts()
        )


@blp.route(f"{ROUTE}/fares/reject")
class RejectRouteFares(MethodView):
    @roles_required(*fares.APPROVERS)
    @blp.response(200, FareTableSchema)
    def post(self, route_id):
        """Drop the route's pending prices; the sold prices stay."""
        return fares.reject_fares(
            actor=current_user, route_id=route_id, facts=request_facts()
        )
