"""The transport API under /api/v1/transport (docs/transport.md): one blueprint,
its views grouped by topic in this package's modules (companies and amenities,
places, vehicles, routes and fares, trips and schedules, search, GTFS)."""

from routes.common.blueprint import Blueprint

blp = Blueprint(
    "transport",
    __name__,
    description="Transport companies, vehicles, stations, routes, fares, "
    "timetables (GTFS) and trip search",
)

# The view modules register their routes on `blp` when imported.
from routes.transport import (  # noqa: E402
    boarding,
    companies,
    gtfs,
    network,
    places,
    search,
    seats,
    trips,
    vehicles,
)

__all__ = [
    "blp",
    "boarding",
    "companies",
    "gtfs",
    "network",
    "places",
    "search",
    "seats",
    "trips",
    "vehicles",
]
