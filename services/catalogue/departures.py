"""Dated departures of a package: listing, creation, edits, deletion
(docs/design.md "Lifecycles": departure; "Rules with numbers": seats).

Dates, cutoffs, party sizes and capacity increases are operational data: they never
send a published package back to approval. Prices, category prices, capacity cuts
and new departures priced off the approved base price, of a published (or pending)
package, are approved like package content (docs/design.md "Rules with numbers";
services.catalogue.packages.revise_for_departure_change): the package returns to
pending_approval until another approver approves it, so a price cut to 1.00 is never
sold unreviewed. A zero price is refused unless ALLOW_ZERO_PRICES is set. Price edits
never touch existing bookings, which carry their own prices.

Prices live in one DepartureCategory row per traveller category (`adult` always,
mirrored in `departures.price`; `child`, `economy`, ... as the operator defines),
each optionally with its own seat limit. Edits lock the departure row first and
then its categories by name, the same order bookings take seats in.
"""

from datetime import UTC, date, datetime, time
from decimal import Decimal

from flask import current_app
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import (
    LIVE_STATUSES,
    Booking,
    Departure,
    DepartureCategory,
    Package,
    Traveller,
)
from models.base import utcnow
from services.audit import audit
from services.catalogue import catalogue
from services.catalogue.packages import (
    can_see,
    check_visible,
    revise_for_departure_change,
)
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import get_or_404

SORTABLE = ("start_date", "end_date", "price", "created_at")
DEFAULT_SORT = "start_date"
EDITABLE = (
    "start_date",
    "end_date",
    "capacity",
    "price",
    "booking_cutoff",
    "min_party_size",
)
ADULT = "adult"


def starts_at(start_date: date) -> datetime:
    """The instant a departure starts: 00:00 UTC of its start date (docs/design.md
    "Lifecycles": departure)."""
    return datetime.combine(start_date, time.min, tzinfo=UTC)


def list_departures(
    *,
    package_id: int,
    account=None,
    status: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of the departures of a package `account` may see, by start date
    ascending unless `sort` says otherwise (`-start_date`, `price`, ...).

    Raises NotFound (404) when the package is missing or not visible to the caller;
    ValidationFailed (422) for an unknown sort field.
    """
    check_visible(package_id=package_id, account=account)
    stmt = (
        select(Departure)
        .where(Departure.package_id == package_id)
        .options(selectinload(Departure.categories))
    )
    if status:
        stmt = stmt.where(Departure.status == status)
    stmt = order_by_sort(stmt, Departure, sort or DEFAULT_SORT, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_departure(*, departure_id: int, account=None) -> Departure:
    """The departure `departure_id`, visible when its package is (staff: always;
    others: published packages only). Raises NotFound (404) otherwise."""
    departure = db.session.get(
        Departure,
        departure_id,
        options=[
            selectinload(Departure.categories),
            joinedload(Departure.package).load_only(Package.status),  # for can_see
        ],
    )
    if departure is None or not can_see(account, departure.package):
        raise NotFound("Departure")
    return departure


def create_departure(
    *,
    package_id: int,
    start_date: date,
    end_date: date,
    capacity: int,
    price: Decimal | None = None,
    prices: dict[str, Decimal] | None = None,
    category_capacities: dict[str, int | None] | None = None,
    min_party_size: int = 1,
    booking_cutoff: datetime | None = None,
    editor=None,
    facts: audit.RequestFacts | None = None,
) -> Departure:
    """Add a scheduled departure to a package and commit.

    `capacity` seats (>= 1); `price` the adult seat price, default the package's
    base_price, in the package's currency (copied); `prices` `{category: amount}`
    with `adult` (must equal `price` when both are given); `category_capacities`
    `{category: seats}` optional limits of priced categories, each <= capacity;
    `min_party_size` the fewest seats per booking (<= capacity); `booking_cutoff`
    an aware datetime before the start (None: bookable until 00:00 UTC of
    start_date). `editor` (the Employee making it): on a published or pending
    package, prices other than the approved base_price need approval, so the
    package goes (back) to pending_approval with the editor as last editor. Raises
    NotFound (404); Conflict (409) for an archived package; ValidationFailed (422) for
    the date, price and category rules above and a zero price without ALLOW_ZERO_PRICES.
    """
    package = get_or_404(Package, package_id, "Package")
    if package.status == "archived":
        raise Conflict(
            _("An archived package gets no new departures."), code="package-archived"
        )
    _check_dates(start_date, end_date, booking_cutoff, check_start=True)
    resolved = _resolve_prices(price, prices, default=package.base_price)
    _check_zero_prices(resolved, "prices" if prices is not None else "price")
    limits = dict(category_capacities or {})
    _check_categories(
        resolved, limits, limits, capacity=capacity, min_party=min_party_size
    )
    departure = Departure(
        package_id=package.id,
        start_date=start_date,
        end_date=end_date,
        capacity=capacity,
        seats_taken=0,
        price=resolved[ADULT],
        currency=package.currency,
        booking_cutoff=booking_cutoff,
        min_party_size=min_party_size,
        status="scheduled",
        categories=[
            DepartureCategory(
                category=name, price=amount, capacity=limits.get(name), seats_taken=0
            )
            for name, amount in sorted(resolved.items())
        ],
    )
    db.session.add(departure)
    if editor is not None and any(
        amount != package.base_price for amount in resolved.values()
    ):
        revise_for_departure_change(
            package_id=package.id,
            editor=editor,
            what="new departure prices",
            facts=facts,
        )
    catalogue.bump_version()
    db.session.commit()
    return departure


def update_departure(
    *,
    departure_id: int,
    changes: dict,
    editor=None,
    facts: audit.RequestFacts | None = None,
) -> Departure:
    """Apply a partial edit (start_date, end_date, capacity, price, prices,
    category_capacities, min_party_size, booking_cutoff) and commit.

    Capacities can never drop below the seats already taken: the departure's UPDATE
    only matches `WHERE seats_taken <= :capacity`, a category's `WHERE seats_taken
    <= :limit`, so a booking racing the edit cannot be oversold. `prices` replaces
    the category set (a category left out is deleted only while it has no seats
    taken); `price` alone changes the adult price. A change of any price or a cut of
    any capacity by `editor` on a published or pending package sends the package
    to approval (services.catalogue.packages.revise_for_departure_change); other edits
    leave its status alone. Bookings keep their own prices.
    Raises NotFound (404); Conflict (409) for a cancelled departure, a capacity
    below seats taken (`seats_taken`, and `category` for a category) or removing a
    category in use; ValidationFailed (422) for the rules of create_departure
    (start_date only checked when it changes).
    """
    departure = get_or_404(Departure, departure_id, "Departure")
    if departure.status != "scheduled":
        raise Conflict(
            _("A cancelled departure cannot be edited."), code="departure-cancelled"
        )
    values = {key: changes[key] for key in EDITABLE if key in changes}
    _check_dates(
        values.get("start_date", departure.start_date),
        values.get("end_date", departure.end_date),
        values.get("booking_cutoff", departure.booking_cutoff),
        check_start="start_date" in values,
    )
    plan = _category_plan(departure, changes)
    if plan is not None:
        values["price"] = plan[0][ADULT]
        _check_zero_prices(plan[0], "prices" if "prices" in changes else "price")
    reviewed = _reviewed_change(departure, values, plan)
    _check_categories(
        plan[0] if plan else departure.prices,
        changes.get("category_capacities", {}),
        plan[1] if plan else departure.category_capacities,
        capacity=values.get("capacity", departure.capacity),
        min_party=values.get("min_party_size", departure.min_party_size),
        capacity_field="category_capacities"
        if "category_capacities" in changes
        else "capacity",
    )
    if values or plan is not None:
        values.setdefault("updated_at", utcnow())  # locks the departure row first
        _conditional_update(departure, values)
    if plan is not None:
        _write_categories(departure.id, *plan)
    if reviewed and editor is not None:
        revise_for_departure_change(
            package_id=departure.package_id, editor=editor, what=reviewed, facts=facts
        )
    if values or plan is not None:
        catalogue.bump_version()
    db.session.commit()
    db.session.refresh(departure)
    return departure


def _check_zero_prices(prices: dict, field: str) -> None:
    """ValidationFailed (422 on `field`) for a zero price, unless the deployment
    sells free seats on purpose (ALLOW_ZERO_PRICES)."""
    if current_app.config.get("ALLOW_ZERO_PRICES"):
        return
    free = sorted(name for name, amount in prices.items() if amount == 0)
    if free:
        raise ValidationFailed(
            {
                field: [
                    _(
                        "A zero price (%(categories)s) is refused; set "
                        "ALLOW_ZERO_PRICES=true to sell free seats.",
                        categories=", ".join(free),
                    )
                ]
            }
        )


def _reviewed_change(departure: Departure, values: dict, plan) -> str | None:
    """What in this edit needs approval: "prices" when any category price changes
    (or a category is added or removed), "capacity cut" when the capacity or a
    category limit goes down (or a limit is set); None otherwise."""
    if plan is not None and plan[0] != departure.prices:
        return "prices"
    if values.get("capacity", departure.capacity) < departure.capacity:
        return "capacity cut"
    if plan is not None:
        current = departure.category_capacities
        for name, limit in plan[1].items():
            before = current.get(name)
            if limit is not None and (before is None or limit < before):
                return "capacity cut"
    return None


def _resolve_prices(price, prices, *, default) -> dict:
    """The `{category: price}` a create sets: `prices` (with adult), or `{adult:
    price or default}`; ValidationFailed (422) when prices lacks adult or `price`
    disagrees with it."""
    if prices is None:
        return {ADULT: default if price is None else price}
    if ADULT not in prices:
        raise ValidationFailed(
            {"prices": [_("Include the adult price (key `adult`).")]}
        )
    if price is not None and price != prices[ADULT]:
        raise ValidationFailed(
            {"price": [_("Must equal prices.adult (price is the adult price).")]}
        )
    return dict(prices)


def _category_plan(departure: Departure, changes: dict) -> tuple[dict, dict] | None:
    """`(prices, limits)` the categories should have after a PATCH, or None when the
    PATCH touches neither `price`, `prices` nor `category_capacities`."""
    if not {"price", "prices", "category_capacities"} & set(changes):
        return None
    if "prices" in changes:
        prices = _resolve_prices(changes.get("price"), changes["prices"], default=None)
    else:
        prices = departure.prices
        if "price" in changes:
            prices[ADULT] = changes["price"]
    current = {row.category: row.capacity for row in departure.categories}
    limits = {name: current.get(name) for name in prices}
    limits.update(
        {k: v for k, v in changes.get("category_capacities", {}).items() if k in prices}
    )
    return prices, limits


def _check_categories(
    prices, asked, limits, *, capacity, min_party, capacity_field=None
):
    """Cross-field rules of categories; ValidationFailed (422) with errors per field:
    every category in `asked` (the limits the request names) has a price, every
    limit in `limits` fits the departure's capacity, min_party <= capacity."""
    errors = {}
    unknown = sorted(set(asked) - set(prices))
    if unknown:
        errors["category_capacities"] = [
            _("No price for category: %(categories)s.", categories=", ".join(unknown))
        ]
    too_big = sorted(k for k, v in limits.items() if v is not None and v > capacity)
    if too_big:
        errors.setdefault(capacity_field or "category_capacities", []).append(
            _(
                "Category limits must not exceed the capacity (%(capacity)s): "
                "%(categories)s.",
                capacity=capacity,
                categories=", ".join(too_big),
            )
        )
    if min_party > capacity:
        errors["min_party_size"] = [
            _("Must not exceed the capacity (%(capacity)s).", capacity=capacity)
        ]
    if errors:
        raise ValidationFailed(errors)


def _write_categories(departure_id: int, prices: dict, limits: dict) -> None:
    """Bring the departure's category rows to `prices` / `limits`, by category name:
    insert new ones, delete dropped ones only while no seat is taken, update the
    others with a limit guarded by `seats_taken <= limit`. Conflict (409) after a
    rollback when a guard refuses."""
    existing = {
        row.category: row.id
        for row in db.session.scalars(
            select(DepartureCategory).where(
                DepartureCategory.departure_id == departure_id
            )
        )
    }
    for name in sorted(set(existing) | set(prices)):
        if name not in prices:
            stmt = delete(DepartureCategory).where(
                DepartureCategory.id == existing[name],
                DepartureCategory.seats_taken == 0,
            )
            if db.session.execute(stmt).rowcount != 1:
                _category_conflict(departure_id, name, None)
        elif name not in existing:
            taken = _live_category_seats(departure_id, name)
            if limits.get(name) is not None and taken > limits[name]:
                _category_conflict(departure_id, name, limits[name], taken=taken)
            db.session.add(
                DepartureCategory(
                    departure_id=departure_id,
                    category=name,
                    price=prices[name],
                    capacity=limits.get(name),
                    seats_taken=taken,
                )
            )
            db.session.flush()
        else:
            _update_category(
                departure_id, existing[name], name, prices[name], limits.get(name)
            )


def _live_category_seats(departure_id: int, name: str) -> int:
    """Seats of held and confirmed bookings of the departure in category `name`
    (their travellers of it; for adult also bookings naming no travellers): what a
    new category row starts from, e.g. the adult row of a departure made before
    categories existed. Exact: the caller holds the departure row's lock, which
    every booking takes before its categories."""
    live = (Booking.departure_id == departure_id, Booking.status.in_(LIVE_STATUSES))
    named = db.session.scalar(
        select(func.count(Traveller.id))
        .join(Booking, Booking.id == Traveller.booking_id)
        .where(*live, Traveller.category == name)
    )
    unnamed = 0
    if name == ADULT:
        unnamed = db.session.scalar(
            select(func.coalesce(func.sum(Booking.seats), 0)).where(
                *live, ~exists().where(Traveller.booking_id == Booking.id)
            )
        )
    return int(named or 0) + int(unnamed or 0)


def _update_category(departure_id, row_id, name, price, limit) -> None:
    """UPDATE one category's price and limit, never below its seats taken."""
    stmt = (
        update(DepartureCategory)
        .where(DepartureCategory.id == row_id)
        .values(price=price, capacity=limit)
        .execution_options(synchronize_session=False)
    )
    if limit is not None:
        stmt = stmt.where(DepartureCategory.seats_taken <= limit)
    if db.session.execute(stmt).rowcount != 1:
        _category_conflict(departure_id, name, limit)


def _category_conflict(departure_id: int, name: str, limit: int | None, *, taken=None):
    """Roll back and raise Conflict (409) with the category's `seats_taken`."""
    db.session.rollback()
    if taken is None:
        taken = (
            db.session.scalar(
                select(DepartureCategory.seats_taken).where(
                    DepartureCategory.departure_id == departure_id,
                    DepartureCategory.category == name,
                )
            )
            or 0
        )
    extra = {"category": name, "seats_taken": taken}
    if limit is None:
        raise Conflict(
            _(
                "Category %(category)s has %(taken)s seat(s) taken; it cannot be "
                "removed.",
                category=name,
                taken=taken,
            ),
            code="category-in-use",
            extra=extra,
        )
    raise Conflict(
        _(
            "The %(category)s limit cannot drop below the %(taken)s seat(s) "
            "already taken.",
            category=name,
            taken=taken,
        ),
        code="capacity-below-seats-taken",
        extra=extra,
    )


def delete_departure(
    *, departure_id: int, facts: audit.RequestFacts | None = None
) -> None:
    """Delete a departure that never had a booking (any status) and commit; audited
    with the request `facts` (the caller is the actor).

    Raises NotFound (404); Conflict (409) when bookings exist - cancel the departure
    instead. The foreign key (RESTRICT) backs the check against a racing booking.
    """
    departure = get_or_404(Departure, departure_id, "Departure")
    if db.session.scalar(
        select(Booking.id).where(Booking.departure_id == departure.id).limit(1)
    ):
        raise Conflict(
            _("The departure has bookings and cannot be deleted; cancel it instead."),
            code="departure-has-bookings",
        )
    audit.record(
        "departure.deleted",
        entity_type="departure",
        entity_id=departure.id,
        facts=facts,
        details={
            "package_id": departure.package_id,
            "start_date": departure.start_date,
        },
    )
    db.session.delete(departure)
    catalogue.bump_version()
    db.session.commit()


def _conditional_update(departure: Departure, values: dict) -> None:
    """UPDATE the departure, guarding the capacity against seats taken; Conflict
    (409) with `seats_taken` when the new capacity is too small."""
    stmt = (
        update(Departure)
        .where(Departure.id == departure.id, Departure.status == "scheduled")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if "capacity" in values:
        stmt = stmt.where(Departure.seats_taken <= values["capacity"])
    if db.session.execute(stmt).rowcount == 1:
        return
    db.session.rollback()
    current = db.session.get(Departure, departure.id)
    if current is not None and current.status == "scheduled" and "capacity" in values:
        raise Conflict(
            _(
                "Capacity cannot drop below the %(taken)s seats already taken.",
                taken=current.seats_taken,
            ),
            code="capacity-below-seats-taken",
            extra={"seats_taken": current.seats_taken},
        )
    raise Conflict(
        _("The departure changed while this request ran; reload it and retry.")
    )


def _check_dates(start_date, end_date, booking_cutoff, *, check_start: bool) -> None:
    """Cross-field date rules; ValidationFailed (422) with errors per field."""
    errors = {}
    if check_start and start_date < utcnow().date():
        errors["start_date"] = [_("Must not be in the past.")]
    if end_date < start_date:
        errors["end_date"] = [_("Must be on or after start_date.")]
    if booking_cutoff is not None and booking_cutoff > starts_at(start_date):
        errors["booking_cutoff"] = [
            _("Must not be after the departure starts (00:00 UTC).")
        ]
    if errors:
        raise ValidationFailed(errors)
