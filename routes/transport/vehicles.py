"""Transport views: vehicles with their amenities and sections' seat maps
(/transport/vehicles; docs/transport.md "Vehicles and seat maps").

Every staff role reads, an operator only its own company's vehicles; admin,
operation and operators (their own company's) create, edit and delete.
"""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import ProblemSchema
from routes.common.access import ID
from routes.common.request_facts import request_facts
from routes.transport import blp
from schemas.common import page_of
from schemas.transport.vehicles import (
    VehicleCreateSchema,
    VehicleQueryArgs,
    VehicleSchema,
    VehicleUpdateSchema,
)
from services.transport import vehicles
from services.transport.access import MANAGERS, READERS


@blp.route("/vehicles")
class Vehicles(MethodView):
    @roles_required(*READERS)
    @blp.arguments(VehicleQueryArgs, location="query")
    @blp.response(200, page_of(VehicleSchema))
    def get(self, args):
        """List vehicles (an operator: its company's only)."""
        return vehicles.list_vehicles(actor=current_user, **args)

    @roles_required(*MANAGERS)
    @blp.arguments(VehicleCreateSchema)
    @blp.response(201, VehicleSchema)
    @blp.alt_response(
        404, schema=ProblemSchema, description="An operator naming another company"
    )
    def post(self, data):
        """Create a vehicle with its sections and seat maps."""
        return vehicles.create_vehicle(actor=current_user, **data)


@blp.route(f"/vehicles/<{ID}:vehicle_id>")
class VehicleById(MethodView):
    @roles_required(*READERS)
    @blp.response(200, VehicleSchema)
    def get(self, vehicle_id):
        """Show a vehicle with its sections, seat maps and capacities."""
        return vehicles.get_vehicle(actor=current_user, vehicle_id=vehicle_id)

    @roles_required(*MANAGERS)
    @blp.arguments(VehicleUpdateSchema)
    @blp.response(200, VehicleSchema)
    def patch(self, data, vehicle_id):
        """Edit a vehicle; `sections` replace all sections (sold seats stay)."""
        return vehicles.update_vehicle(
            actor=current_user, vehicle_id=vehicle_id, changes=data
        )

    @roles_required(*MANAGERS)
    @blp.response(204)
    def delete(self, vehicle_id):
        """Delete a vehicle that no trip or schedule uses."""
        vehicles.delete_vehicle(
            actor=current_user, vehicle_id=vehicle_id, facts=request_facts()
        )
