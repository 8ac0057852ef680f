"""Transport views: trips and schedules (/transport/trips, /transport/schedules;
docs/transport.md "Trips" and "Schedules").

Every staff role reads, an operator only its own company's trips and schedules;
admin, operation and operators (their own company's routes) create, edit, delete
and generate; admin, operation heads and operators (their own company's) cancel a
trip with its bookings ("Cancelling a trip").
"""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import ProblemSchema
from routes.common.access import ID
from routes.common.idempotency import idempotent
from routes.common.request_facts import request_facts
from routes.transport import blp
from schemas.common import page_of
from schemas.transport.trips import (
    GenerateResultSchema,
    GenerateSchema,
    ScheduleCreateSchema,
    ScheduleQueryArgs,
    ScheduleSchema,
    ScheduleUpdateSchema,
    TripCancellationSchema,
    TripCancelSchema,
    TripCreateSchema,
    TripDetailSchema,
    TripQueryArgs,
    TripSchema,
    TripUpdateSchema,
)
from services.transport import schedules, trip_cancellations, trips
from services.transport.access import MANAGERS, READERS


@blp.route("/trips")
class Trips(MethodView):
    @roles_required(*READERS)
    @blp.arguments(TripQueryArgs, location="query")
    @blp.response(200, page_of(TripSchema))
    def get(self, args):
        """List trips, earliest departure first (an operator: its company's)."""
        return trips.list_trips(actor=current_user, **args)

    @roles_required(*MANAGERS)
    @blp.arguments(TripCreateSchema)
    @blp.response(201, TripDetailSchema)
    @blp.alt_response(
        404, schema=ProblemSchema, description="No such route (or another company's)"
    )
    def post(self, data):
        """Create a trip with its stop times in each station's local time."""
        return trips.create_trip(actor=current_user, **data, facts=request_facts())


@blp.route(f"/trips/<{ID}:trip_id>")
class TripById(MethodView):
    @roles_required(*READERS)
    @blp.response(200, TripDetailSchema)
    def get(self, trip_id):
        """Show a trip with its stop times (local text and UTC instants)."""
        return trips.get_trip(actor=current_user, trip_id=trip_id)

    @roles_required(*MANAGERS)
    @blp.arguments(TripUpdateSchema)
    @blp.response(200, TripDetailSchema)
    def patch(self, data, trip_id):
        """Move a trip's status on, or change its vehicle or headsign."""
        return trips.update_trip(
            actor=current_user, trip_id=trip_id, changes=data, facts=request_facts()
        )

    @roles_required(*MANAGERS)
    @blp.response(204)
    def delete(self, trip_id):
        """Delete a scheduled trip without tickets."""
        trips.delete_trip(actor=current_user, trip_id=trip_id, facts=request_facts())


@blp.route(f"/trips/<{ID}:trip_id>/cancel")
class CancelTrip(MethodView):
    @roles_required(*trip_cancellations.CANCELLERS)
    @idempotent
    @blp.arguments(TripCancelSchema)
    @blp.response(200, TripCancellationSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Already cancelled or departed"
    )
    def post(self, data, trip_id):
        """Cancel a trip with its bookings (or preview it): each refunded in full."""
        return trip_cancellations.cancel_trip(
            actor=current_user, trip_id=trip_id, **data, facts=request_facts()
        )


@blp.route("/schedules")
class Schedules(MethodView):
    @roles_required(*READERS)
    @blp.arguments(ScheduleQueryArgs, location="query")
    @blp.response(200, page_of(ScheduleSchema))
    def get(self, args):
        """List schedules, newest first (an operator: its company's)."""
        return schedules.list_schedules(actor=current_user, **args)

    @roles_required(*MANAGERS)
    @blp.arguments(ScheduleCreateSchema)
    @blp.response(201, ScheduleSchema)
    @blp.alt_response(
        404, schema=ProblemSchema, description="No such route (or another company's)"
    )
    def post(self, data):
        """Create a schedule: stop-time pattern, weekdays, dates and exceptions."""
        return schedules.create_schedule(
            actor=current_user, **data, facts=request_facts()
        )


@blp.route(f"/schedules/<{ID}:schedule_id>")
class ScheduleById(MethodView):
    @roles_required(*READERS)
    @blp.response(200, ScheduleSchema)
    def get(self, schedule_id):
        """Show a schedule."""
        return schedules.get_schedule(actor=current_user, schedule_id=schedule_id)

    @roles_required(*MANAGERS)
    @blp.arguments(ScheduleUpdateSchema)
    @blp.response(200, ScheduleSchema)
    def patch(self, data, schedule_id):
        """Edit a schedule; trips generated before keep their times."""
        return schedules.update_schedule(
            actor=current_user,
            schedule_id=schedule_id,
            changes=data,
            facts=request_facts(),
        )

    @roles_required(*MANAGERS)
    @blp.response(204)
    def delete(self, schedule_id):
        """Delete a schedule; the trips it generated stay."""
        schedules.delete_schedule(
            actor=current_user, schedule_id=schedule_id, facts=request_facts()
        )


@blp.route(f"/schedules/<{ID}:schedule_id>/generate")
class GenerateTrips(MethodView):
    @roles_required(*MANAGERS)
    @blp.arguments(GenerateSchema)
    @blp.response(200, GenerateResultSchema)
    def post(self, data, schedule_id):
        """Create the schedule's trips up to `until`; dates with a trip are
        skipped, so running it twice creates nothing new."""
        return schedules.generate_trips(
            actor=current_user,
            schedule_id=schedule_id,
            until=data["until"],
            facts=request_facts(),
        )
