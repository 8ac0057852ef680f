"""Routes of the transport companies: an ordered list of stations each trip of the
route calls at, or a part of (docs/transport.md "Routes"; GTFS routes.txt with the
stop pattern of its trips, https://gtfs.org/schedule/reference/#routestxt).

Rules: the code is unique within the company (409 `route-code-taken`); the stops
are at least 2 existing stations, none twice (422); the stops and the mode change
only while no trip and no schedule runs on the route (409 `route-has-trips`), and a
route with trips or schedules cannot be deleted (409 `route-in-use`). Changing the
stops drops the fares of pairs that no longer run origin before destination. An
`operator` sees and manages only its own company's routes; another company's answer
404 (services.transport.access).
"""

from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from core.errors import N_, Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import (
    Fare,
    RouteStop,
    Schedule,
    Station,
    TransportCompany,
    TransportRoute,
    Trip,
)
from services.audit import audit
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import commit_or_conflict, text_matches
from services.transport.access import (
    check_company,
    company_for_write,
    company_scope,
    require_manager,
)
from services.transport.records import any_exists

SORTABLE = ("created_at", "updated_at", "code", "name")
EDITABLE = ("mode", "code", "name", "active", "tax_rate")
CODE_TAKEN = N_("The company already has a route with this code.")


# --- reads -----------------------------------------------------------------------


def list_routes(
    *,
    actor,
    company_id: int | None = None,
    mode: str | None = None,
    station_id: int | None = None,
    q: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of routes with their stops, newest first unless `sort` (one of
    SORTABLE, `-` for descending). An operator `actor` gets only its company's
    routes; `station_id` keeps the routes calling there; `q` matches the code or
    name (case-insensitive substring). ValidationFailed (422) for an unknown sort
    field."""
    stmt = select(TransportRoute).options(
        selectinload(TransportRoute.stops).joinedload(RouteStop.station)
    )
    scope = company_scope(actor)
    if scope is not None:
        stmt = stmt.where(TransportRoute.company_id == scope)
    if company_id is not None:
        stmt = stmt.where(TransportRoute.company_id == company_id)
    if mode:
        stmt = stmt.where(TransportRoute.mode == mode)
    if station_id is not None:
        calls = select(RouteStop.id).where(
            RouteStop.route_id == TransportRoute.id,
            RouteStop.station_id == station_id,
        )
        stmt = stmt.where(calls.exists())
    if q:
        stmt = stmt.where(text_matches(q, TransportRoute.code, TransportRoute.name))
    stmt = order_by_sort(stmt, TransportRoute, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_route(*, actor, route_id: int) -> TransportRoute:
    """The route `route_id` as `actor` may see it; NotFound (404) when it does not
    exist or belongs to another company than an operator's own."""
    route = db.session.get(TransportRoute, route_id)
    if route is None:
        raise NotFound("Route")
    check_company(actor, route.company_id, "Route")
    return route


# --- writes ----------------------------------------------------------------------


def create_route(
    *,
    actor,
    mode: str,
    code: str,
    name: str,
    stops: list[int],
    company_id: int | None = None,
    active: bool = True,
    tax_rate: Decimal | None = None,
) -> TransportRoute:
    """Create and commit a route of `company_id` (an operator's own company
    whatever it sends: services.transport.access.company_for_write) calling at the
    stations `stops` in that order. `tax_rate` is the VAT percent included in its
    fares, None for DEFAULT_TAX_RATE (docs/documents.md "Tax").

    Raises Forbidden (403) unless the actor manages transport data; NotFound (404)
    when an operator names another company; ValidationFailed (422) for a missing or
    unknown company, fewer than 2 stops, a station twice or a station that does not
    exist; Conflict (409, `route-code-taken`) when the company has the code
    already."""
    require_manager(actor)
    company_id = company_for_write(actor, company_id)
    if db.session.get(TransportCompany, company_id) is None:
        raise ValidationFailed({"company_id": [_("No such transport company.")]})
    code = code.strip()
    _check_code(company_id, code)
    route = TransportRoute(
        company_id=company_id,
        mode=mode,
        code=code,
        name=name.strip(),
        active=active,
        tax_rate=tax_rate,
        stops=_stops(stops),
    )
    db.session.add(route)
    commit_or_conflict(CODE_TAKEN, code="route-code-taken")
    return route


def update_route(*, actor, route_id: int, changes: dict) -> TransportRoute:
    """Apply a partial edit (`changes`: mode, code, name, active, tax_rate (None:
    back to DEFAULT_TAX_RATE), stops) to the
    route and commit; `stops`, when given, replace the stops, and the fares of
    pairs that no longer run origin before destination are dropped.

    Raises Forbidden (403) for a non-manager; NotFound (404) as get_route;
    ValidationFailed (422) for stops as create_route; Conflict (409) for a code
    the company has already (`route-code-taken`), and for new stops or a new mode
    while trips or schedules run on the route (`route-has-trips`)."""
    require_manager(actor)
    route = locked_route(route_id)
    check_company(actor, route.company_id, "Route")
    if "code" in changes:
        changes["code"] = changes["code"].strip()
        if changes["code"] != route.code:
            _check_code(route.company_id, changes["code"])
    new_stops = changes.get("stops")
    current = [stop.station_id for stop in route.stops]
    stops_change = new_stops is not None and list(new_stops) != current
    mode_change = changes.get("mode", route.mode) != route.mode
    if (stops_change or mode_change) and has_trips(route.id):
        raise Conflict(
            _(
                "Trips or schedules run on this route: its stops and mode cannot "
                "change (create a new route instead)."
            ),
            code="route-has-trips",
        )
    for field in EDITABLE:
        if field in changes:
            value = changes[field]
            setattr(route, field, value.strip() if field == "name" else value)
    if stops_change:
        rows = _stops(new_stops)
        # Delete the old rows first: a kept station or position must not hit the
        # UNIQUE constraints of route_stops.
        db.session.execute(delete(RouteStop).where(RouteStop.route_id == route.id))
        db.session.expire(route, ["stops"])
        route.stops = rows
        _drop_stale_fares(route.id, new_stops)
    commit_or_conflict(CODE_TAKEN, code="route-code-taken")
    db.session.refresh(route)
    return route


def delete_route(
    *, actor, route_id: int, facts: audit.RequestFacts | None = None
) -> None:
    """Delete a route without trips or schedules (its stops and fares go with it)
    and commit; audited with the request `facts`. Raises Forbidden (403) for a
    non-manager; NotFound (404) as get_route; Conflict (409, `route-in-use`) when
    trips or schedules run on it (set it `active: false` instead)."""
    require_manager(actor)
    route = locked_route(route_id)
    check_company(actor, route.company_id, "Route")
    if has_trips(route.id):
        raise Conflict(
            _(
                "Trips or schedules run on this route; it cannot be deleted "
                "(set active to false instead)."
            ),
            code="route-in-use",
        )
    audit.record(
        "route.deleted",
        entity_type="transport_route",
        entity_id=route.id,
        facts=facts,
        actor=actor,
        details={"company_id": route.company_id, "code": route.code},
    )
    db.session.delete(route)
    db.session.commit()


# --- helpers ---------------------------------------------------------------------


def locked_route(route_id: int) -> TransportRoute:
    """The route row, locked for this transaction on PostgreSQL (SQLite
    serialises writers), its stops loaded; NotFound (404) when missing. Also for
    the services that change what hangs on a route (fares)."""
    route = db.session.scalar(
        select(TransportRoute)
        .where(TransportRoute.id == route_id)
        .options(selectinload(TransportRoute.stops))
        .with_for_update(of=TransportRoute)
        .execution_options(populate_existing=True)
    )
    if route is None:
        raise NotFound("Route")
    return route


def has_trips(route_id: int) -> bool:
    """True when a trip (any status, any date) or a schedule runs on the route."""
    return any_exists(
        select(Trip.id).where(Trip.route_id == route_id),
        select(Schedule.id).where(Schedule.route_id == route_id),
    )


def _check_code(company_id: int, code: str) -> None:
    """Conflict (409, `route-code-taken`) when the company has a route `code` (the
    UNIQUE constraint catches a concurrent twin at commit)."""
    taken = db.session.scalar(
        select(TransportRoute.id).where(
            TransportRoute.company_id == company_id, TransportRoute.code == code
        )
    )
    if taken is not None:
        raise Conflict(CODE_TAKEN, code="route-code-taken")


def _stops(station_ids: list[int]) -> list[RouteStop]:
    """RouteStop rows for `station_ids` in order (position 0 first).

    ValidationFailed (422) on `stops` for fewer than 2 stations, on `stops.<i>` for
    a station that appears a second time or does not exist."""
    if len(station_ids) < 2:
        raise ValidationFailed({"stops": [_("A route needs at least 2 stops.")]})
    known = set(
        db.session.scalars(select(Station.id).where(Station.id.in_(set(station_ids))))
    )
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for index, station_id in enumerate(station_ids):
        if station_id not in known:
            errors[f"stops.{index}"] = [
                _("Station %(station)s does not exist.", station=station_id)
            ]
        elif station_id in seen:
            errors[f"stops.{index}"] = [
                _(
                    "Station %(station)s is already a stop of the route.",
                    station=station_id,
                )
            ]
        seen.add(station_id)
    if errors:
        raise ValidationFailed(errors)
    return [
        RouteStop(station_id=station_id, position=position)
        for position, station_id in enumerate(station_ids)
    ]


def _drop_stale_fares(route_id: int, station_ids: list[int]) -> None:
    """Delete the route's fares whose origin is no longer a stop before their
    destination (docs/transport.md "Fares": a fare prices a pair of the route)."""
    position = {station_id: index for index, station_id in enumerate(station_ids)}
    stale = [
        fare.id
        for fare in db.session.scalars(select(Fare).where(Fare.route_id == route_id))
        if position.get(fare.from_station_id, -1) < 0
        or position.get(fare.to_station_id, -1) <= position[fare.from_station_id]
    ]
    if stale:
        db.session.execute(delete(Fare).where(Fare.id.in_(stale)))
