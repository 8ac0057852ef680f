"""Transport view: seat choice (docs/transport.md "Tickets").

- `GET /transport/trips/<trip_id>/seats?from_station_id=&to_station_id=
  &section_code=`: the section's seat map with each seat `free` or `taken` for
  that ride. Public like trip search: anyone may look before booking.
"""

from flask.views import MethodView

from auth.decorators import optional_login
from core.errors import ProblemSchema
from routes.common.access import ID
from routes.transport import blp
from schemas.transport.seats import RideSeatMapArgs, RideSeatMapSchema
from services.transport import ticketing


@blp.route(f"/trips/<{ID}:trip_id>/seats")
class TripSeats(MethodView):
    @optional_login
    @blp.arguments(RideSeatMapArgs, location="query")
    @blp.response(200, RideSeatMapSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="The trip has no vehicle yet"
    )
    def get(self, args, trip_id):
        """The seat map of a trip's section for one ride, each seat free or taken."""
        return ticketing.seat_map(trip_id=trip_id, **args)
