"""Transport views: places (docs/transport.md "Places").

Reads are public (anonymous callers and customers too): the countries, cities
(`?served=true` for the cities a trip still serves) and stations are what a
journey planner or a booking form shows before anyone signs in, like the search.
Admin and operation staff create, edit and delete cities and stations; an operator
may create a station (stations are shared, no company owns one) but not edit or
delete one another company may call at."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import optional_login, roles_required
from routes.common.access import ID
from routes.common.request_facts import request_facts
from routes.transport import blp
from schemas.common import page_of
from schemas.transport.places import (
    CityCreateSchema,
    CityQueryArgs,
    CitySchema,
    CityUpdateSchema,
    CountryQueryArgs,
    CountrySchema,
    StationCreateSchema,
    StationQueryArgs,
    StationSchema,
    StationUpdateSchema,
)
from services.transport import places

# Who edits the shared places; operators may add stations as well.
PLACE_EDITORS = ("admin", "operation")
STATION_CREATORS = (*PLACE_EDITORS, "operator")


@blp.route("/countries")
class Countries(MethodView):
    """/transport/countries: the ISO 3166-1 list (public)."""

    @optional_login
    @blp.arguments(CountryQueryArgs, location="query")
    @blp.response(200, CountrySchema(many=True))
    def get(self, args):
        """List the ISO 3166-1 countries (code, name), by name; public."""
        return places.list_countries(**args)


@blp.route("/cities")
class Cities(MethodView):
    """/transport/cities: list (public) and create (admin, operation)."""

    @optional_login
    @blp.arguments(CityQueryArgs, location="query")
    @blp.response(200, page_of(CitySchema))
    def get(self, args):
        """List cities (`served=true`: a scheduled trip still departs there)."""
        return places.list_cities(**args)

    @roles_required(*PLACE_EDITORS)
    @blp.arguments(CityCreateSchema)
    @blp.response(201, CitySchema)
    def post(self, data):
        """Create a city (admin, operation)."""
        return places.create_city(actor=current_user, **data, facts=request_facts())


@blp.route(f"/cities/<{ID}:city_id>")
class CityById(MethodView):
    """/transport/cities/<id>: show (public), edit and delete (admin,
    operation)."""

    @optional_login
    @blp.response(200, CitySchema)
    def get(self, city_id):
        """Show a city; public."""
        return places.get_city(city_id=city_id)

    @roles_required(*PLACE_EDITORS)
    @blp.arguments(CityUpdateSchema)
    @blp.response(200, CitySchema)
    def patch(self, data, city_id):
        """Edit a city (admin, operation)."""
        return places.update_city(
            actor=current_user, city_id=city_id, changes=data, facts=request_facts()
        )

    @roles_required(*PLACE_EDITORS)
    @blp.response(204)
    def delete(self, city_id):
        """Delete a city without stations (admin, operation)."""
        places.delete_city(actor=current_user, city_id=city_id, facts=request_facts())


@blp.route("/stations")
class Stations(MethodView):
    """/transport/stations: list (public) and create (admin, operation,
    operator)."""

    @optional_login
    @blp.arguments(StationQueryArgs, location="query")
    @blp.response(200, page_of(StationSchema))
    def get(self, args):
        """List stations with their city; public."""
        return places.list_stations(**args)

    @roles_required(*STATION_CREATORS)
    @blp.arguments(StationCreateSchema)
    @blp.response(201, StationSchema)
    def post(self, data):
        """Create a station (admin, operation, operator)."""
        return places.create_station(actor=current_user, **data, facts=request_facts())


@blp.route(f"/stations/<{ID}:station_id>")
class StationById(MethodView):
    """/transport/stations/<id>: show (public), edit and delete (admin,
    operation)."""

    @optional_login
    @blp.response(200, StationSchema)
    def get(self, station_id):
        """Show a station with its city; public."""
        return places.get_station(station_id=station_id)

    @roles_required(*PLACE_EDITORS)
    @blp.arguments(StationUpdateSchema)
    @blp.response(200, StationSchema)
    def patch(self, data, station_id):
        """Edit a station (admin, operation)."""
        return places.update_station(
            actor=current_user,
            station_id=station_id,
            changes=data,
            facts=request_facts(),
        )

    @roles_required(*PLACE_EDITORS)
    @blp.response(204)
    def delete(self, station_id):
        """Delete a station no route, trip or fare uses (admin, operation)."""
        places.delete_station(
            actor=current_user, station_id=station_id, facts=request_facts()
        )
