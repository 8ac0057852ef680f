"""Fares of a route: the price of each origin-destination pair of its stations in
each vehicle section, and their maker-checker approval (docs/transport.md "Fares";
GTFS fare_attributes/fare_rules price origin-destination zones the same way,
https://gtfs.org/schedule/reference/#fare_rulestxt).

A pair (origin before destination on the route) without a fare, or whose fare has
no approved `price` yet, is not sold. `PUT` sets the route's whole table: pairs
left out are deleted at once (stopping a sale needs no approval). A price is
applied at once while the route has no published trips (no `scheduled` trip still
to depart); once it has, a new or changed price waits in `pending_price`
(`pending_approval`, with who proposed it) until an admin or operation head who did
not propose it approves it (403 `maker-checker` otherwise), like package prices
(services.catalogue.departures). Approval applies each pending price with one
conditional UPDATE that only matches the price the approver saw, so two approvers
can never both apply it; approvals and rejections are audited.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select, update

from core.errors import Conflict, Forbidden, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Fare, TransportRoute, Trip
from models.account import is_staff
from models.base import utcnow
from services.audit import audit
from services.shared.records import commit_or_conflict
from services.transport.access import check_company, require_manager
from services.transport.network import get_route, locked_route

# Who approves or rejects pending fares (like package and departure prices:
# docs/design.md "Accounts and roles", maker-checker).
APPROVERS = ("admin", "operation_head")
ACTIVE, PENDING = "active", "pending_approval"


# --- for search and ticketing ----------------------------------------------------


def fare_for(
    route_id: int, from_station_id: int, to_station_id: int, section_code: str
) -> Fare | None:
    """The fare that sells the trip from `from_station_id` to `to_station_id` of
    route `route_id` in section `section_code`, or None when that pair is not sold
    there (no fare, or only a price still pending approval). The price is
    `fare.price` (Decimal, in `fare.currency`); a pending price is never sold."""
    return db.session.scalar(
        select(Fare).where(
            Fare.route_id == route_id,
            Fare.from_station_id == from_station_id,
            Fare.to_station_id == to_station_id,
            Fare.section_code == section_code,
            Fare.price.is_not(None),
        )
    )


def published_trips(route_id: int) -> bool:
    """True when the route has a `scheduled` trip departing after now: its
    prices are public, so changes go through approval."""
    return bool(
        db.session.scalar(
            select(Trip.id)
            .where(
                Trip.route_id == route_id,
                Trip.status == "scheduled",
                Trip.departure_at > utcnow(),
            )
            .limit(1)
        )
    )


# --- reads -----------------------------------------------------------------------


def fare_table(*, actor, route_id: int) -> dict:
    """`{route_id, published_trips, fares}` of the route as `actor` may see it
    (an operator: its company's routes only, NotFound 404 otherwise); `fares` are
    dicts (see `fare_row`) by origin then destination in route order, then
    section code."""
    route = get_route(actor=actor, route_id=route_id)
    return _table(route)


def fare_row(fare: Fare) -> dict:
    """A fare as answered: its pair, section, `price` (None: not sold yet),
    `currency`, `pending_price`, `status` (`pending_approval` while a price
    waits, else `active`) and the maker-checker columns."""
    return {
        "from_station_id": fare.from_station_id,
        "to_station_id": fare.to_station_id,
        "section_code": fare.section_code,
        "price": fare.price,
        "currency": fare.currency,
        "pending_price": fare.pending_price,
        "status": PENDING if fare.pending_price is not None else ACTIVE,
        "proposed_by_id": fare.proposed_by_id,
        "approved_by_id": fare.approved_by_id,
        "approved_at": fare.approved_at,
    }


# --- writes ----------------------------------------------------------------------


def set_fares(
    *,
    actor,
    route_id: int,
    fares: list[dict],
    facts: audit.RequestFacts | None = None,
) -> dict:
    """Make `fares` (`{from_station_id, to_station_id, section_code, price,
    currency}`, price a Decimal >= 0) the route's fare table and commit; audited.

    Pairs left out are deleted. Without published trips every price applies at
    once. With published trips a new or changed price goes to `pending_price`
    proposed by `actor` (a price equal to the current or the pending one changes
    nothing). Returns the table as fare_table does.

    Raises Forbidden (403) for a non-manager; NotFound (404) as get_route;
    ValidationFailed (422) for a station that is not a stop of the route, an
    origin not before its destination, or a pair and section given twice;
    Conflict (409, `fare-currency-locked`) for a currency change of a sold fare
    while the route has published trips."""
    require_manager(actor)
    route = locked_route(route_id)
    check_company(actor, route.company_id, "Route")
    _check_pairs(route, fares)
    published = published_trips(route.id)
    existing = {_key(fare): fare for fare in _fares(route.id)}
    wanted = {_key(entry): entry for entry in fares}
    removed = [fare for key, fare in existing.items() if key not in wanted]
    if removed:
        db.session.execute(delete(Fare).where(Fare.id.in_([f.id for f in removed])))
    counts = {"applied": 0, "proposed": 0, "removed": len(removed)}
    for key, entry in wanted.items():
        fare = existing.get(key)
        if fare is None:
            fare = Fare(
                route_id=route.id,
                from_station_id=entry["from_station_id"],
                to_station_id=entry["to_station_id"],
                section_code=entry["section_code"],
                currency=entry["currency"],
            )
            db.session.add(fare)
        outcome = _set_price(fare, entry, published=published, actor=actor)
        if outcome:
            counts[outcome] += 1
    audit.record(
        "fares.set",
        entity_type="transport_route",
        entity_id=route.id,
        facts=facts,
        actor=actor,
        details={"published_trips": published, **counts},
    )
    commit_or_conflict(
        "The fares changed while this request ran; reload them and retry.",
        code="concurrent-change",
    )
    return _table(route)


def approve_fares(
    *, actor, route_id: int, facts: audit.RequestFacts | None = None
) -> dict:
    """Apply every pending price of the route (pending -> price, approved by
    `actor` now) and commit; audited as `fares.approved` with each fare's old and
    new price and who proposed it.

    Maker-checker: Forbidden (403, `maker-checker`) when `actor` proposed any of
    them (nothing is applied). Each fare moves with a conditional UPDATE that
    matches only the pending price and proposer read here: when another approver
    (or a new proposal) got there first, nothing is applied and Conflict (409,
    `concurrent-change`) is raised. Also Forbidden (403) unless `actor` is an
    admin or operation head; NotFound (404) as get_route; Conflict (409,
    `nothing-pending`) when no price waits."""
    route = _for_checker(actor, route_id)
    pending = _pending(route.id)
    mine = [fare for fare in pending if fare.proposed_by_id == actor.id]
    if mine:
        raise Forbidden(
            _(
                "You proposed some of these prices; another approver must approve "
                "them (maker-checker)."
            ),
            code="maker-checker",
        )
    now = utcnow()
    changes = [_change_details(fare) for fare in pending]
    for fare in pending:
        if not _apply_pending(fare, actor, now):
            db.session.rollback()
            raise Conflict(
                _(
                    "The pending fares changed while this request ran; reload them "
                    "and retry."
                ),
                code="concurrent-change",
            )
    audit.record(
        "fares.approved",
        entity_type="transport_route",
        entity_id=route.id,
        facts=facts,
        actor=actor,
        details={"fares": changes},
    )
    db.session.commit()
    db.session.expire_all()
    return _table(route)


def reject_fares(
    *, actor, route_id: int, facts: audit.RequestFacts | None = None
) -> dict:
    """Drop every pending price of the route and commit: the sold prices stay,
    and a proposed fare of a pair that was never sold goes; audited as
    `fares.rejected`. Raises Forbidden (403) unless `actor` is an admin or
    operation head; NotFound (404) as get_route; Conflict (409,
    `nothing-pending`) when no price waits."""
    route = _for_checker(actor, route_id)
    pending = _pending(route.id)
    changes = [_change_details(fare) for fare in pending]
    db.session.execute(
        delete(Fare).where(
            Fare.route_id == route.id,
            Fare.price.is_(None),
            Fare.pending_price.is_not(None),
        )
    )
    db.session.execute(
        update(Fare)
        .where(Fare.route_id == route.id, Fare.pending_price.is_not(None))
        .values(pending_price=None, proposed_by_id=None)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        "fares.rejected",
        entity_type="transport_route",
        entity_id=route.id,
        facts=facts,
        actor=actor,
        details={"fares": changes},
    )
    db.session.commit()
    db.session.expire_all()
    return _table(route)


# --- helpers ---------------------------------------------------------------------


def _key(fare) -> tuple[int, int, str]:
    """(origin, destination, section) of a Fare or of an input dict."""
    if isinstance(fare, dict):
        return (fare["from_station_id"], fare["to_station_id"], fare["section_code"])
    return (fare.from_station_id, fare.to_station_id, fare.section_code)


def _fares(route_id: int) -> list[Fare]:
    """The route's Fare rows, fresh from the database."""
    return list(
        db.session.scalars(
            select(Fare)
            .where(Fare.route_id == route_id)
            .execution_options(populate_existing=True)
        )
    )


def _table(route: TransportRoute) -> dict:
    """The answer of the fare endpoints for `route` (see fare_table)."""
    position = {stop.station_id: stop.position for stop in route.stops}
    fares = sorted(
        _fares(route.id),
        key=lambda f: (
            position.get(f.from_station_id, -1),
            position.get(f.to_station_id, -1),
            f.section_code,
        ),
    )
    return {
        "route_id": route.id,
        "published_trips": published_trips(route.id),
        "fares": [fare_row(fare) for fare in fares],
    }


def _check_pairs(route: TransportRoute, fares: list[dict]) -> None:
    """ValidationFailed (422) for each `fares.<i>` whose stations are not stops of
    the route, whose origin is not before its destination, or that repeats an
    earlier pair and section."""
    position = {stop.station_id: stop.position for stop in route.stops}
    errors: dict[str, list[str]] = {}
    seen: set[tuple] = set()
    for index, entry in enumerate(fares):
        origin, destination = entry["from_station_id"], entry["to_station_id"]
        for field, station in (
            ("from_station_id", origin),
            ("to_station_id", destination),
        ):
            if station not in position:
                errors[f"fares.{index}.{field}"] = [
                    _(
                        "Station %(station)s is not a stop of the route.",
                        station=station,
                    )
                ]
        known = origin in position and destination in position
        if known and position[origin] >= position[destination]:
            errors[f"fares.{index}.to_station_id"] = [
                _("Must be a stop after from_station_id on the route.")
            ]
        key = _key(entry)
        if key in seen:
            errors[f"fares.{index}"] = [
                _(
                    "The pair %(origin)s-%(destination)s in section %(section)s is "
                    "given more than once.",
                    origin=origin,
                    destination=destination,
                    section=entry["section_code"],
                )
            ]
        seen.add(key)
    if errors:
        raise ValidationFailed(errors)


def _set_price(fare: Fare, entry: dict, *, published: bool, actor) -> str | None:
    """Set `entry`'s price and currency on `fare` as the route's state allows:
    "applied" at once without published trips, "proposed" (pending) with them,
    None when nothing changes. Conflict (409, `fare-currency-locked`) for a
    currency change of a sold fare while trips are published."""
    price: Decimal = entry["price"]
    currency: str = entry["currency"]
    if not published:
        unchanged = fare.price == price and fare.currency == currency
        if unchanged and fare.pending_price is None:
            return None
        if fare.price != price:
            fare.approved_by_id = None
            fare.approved_at = None
        fare.price, fare.currency = price, currency
        fare.pending_price, fare.proposed_by_id = None, None
        return "applied"
    if currency != fare.currency and fare.price is not None:
        raise Conflict(
            _(
                "The fare %(origin)s-%(destination)s (%(section)s) is sold in "
                "%(currency)s on published trips; its currency cannot change.",
                origin=fare.from_station_id,
                destination=fare.to_station_id,
                section=fare.section_code,
                currency=fare.currency,
            ),
            code="fare-currency-locked",
        )
    if currency == fare.currency and price in (fare.price, fare.pending_price):
        return None
    fare.currency = currency
    fare.pending_price, fare.proposed_by_id = price, actor.id
    return "proposed"


def _for_checker(actor, route_id: int) -> TransportRoute:
    """The locked route for an approval or rejection by `actor`: Forbidden (403)
    unless an approver (APPROVERS); NotFound (404) when missing."""
    if not is_staff(actor) or actor.role not in APPROVERS:
        raise Forbidden(_("Only an admin or operation head approves fares."))
    route = locked_route(route_id)
    check_company(actor, route.company_id, "Route")
    return route


def _pending(route_id: int) -> list[Fare]:
    """The route's fares with a price waiting; Conflict (409, `nothing-pending`)
    when there is none."""
    pending = [fare for fare in _fares(route_id) if fare.pending_price is not None]
    if not pending:
        raise Conflict(
            _("No fare of this route awaits approval."), code="nothing-pending"
        )
    return pending


def _apply_pending(fare: Fare, actor, now: datetime) -> bool:
    """Move `fare`'s pending price to its price with one conditional UPDATE that
    matches only while the pending price and proposer are still the ones read,
    and the proposer is not `actor` (maker-checker). True when it applied."""
    stmt = (
        update(Fare)
        .where(
            Fare.id == fare.id,
            Fare.pending_price == fare.pending_price,
            Fare.proposed_by_id.is_not_distinct_from(fare.proposed_by_id),
            Fare.proposed_by_id.is_distinct_from(actor.id),
        )
        .values(
            price=Fare.pending_price,
            pending_price=None,
            proposed_by_id=None,
            approved_by_id=actor.id,
            approved_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount == 1


def _change_details(fare: Fare) -> dict:
    """A pending change for the audit log: the pair, section, currency, the sold
    and the pending price and who proposed it."""
    return {
        "from_station_id": fare.from_station_id,
        "to_station_id": fare.to_station_id,
        "section_code": fare.section_code,
        "currency": fare.currency,
        "price": fare.price,
        "pending_price": fare.pending_price,
        "proposed_by_id": fare.proposed_by_id,
    }
