"""Dated departures of a package: listing, creation, edits, deletion
(DESIGN.md "Lifecycles": departure; "Rules with numbers": seats).

Departures are operational data: adding, editing or deleting one never sends a
published package back to approval (the reviewed content is the package and its
itinerary). Price edits never touch existing bookings, which carry their own prices.
"""

from datetime import date, datetime, time, timezone
from decimal import Decimal

from sqlalchemy import select, update

from errors import Conflict, NotFound, ValidationFailed
from extensions import db
from models import Booking, Departure, Package
from models.base import utcnow
from services.common import Page, get_or_404, order_by_sort, paginate
from services.packages import can_see, get_package

SORTABLE = ("start_date", "end_date", "price", "created_at")
DEFAULT_SORT = "start_date"
EDITABLE = ("start_date", "end_date", "capacity", "price", "booking_cutoff")


def starts_at(start_date: date) -> datetime:
    """The instant a departure starts: 00:00 UTC of its start date (DESIGN.md
    "Lifecycles": departure)."""
    return datetime.combine(start_date, time.min, tzinfo=timezone.utc)


def list_departures(
    *,
    package_id: int,
    account=None,
    status: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """One page of the departures of a package `account` may see, by start date
    ascending unless `sort` says otherwise (`-start_date`, `price`, ...).

    Raises NotFound (404) when the package is missing or not visible to the caller;
    ValidationFailed (422) for an unknown sort field.
    """
    get_package(package_id=package_id, account=account)
    stmt = select(Departure).where(Departure.package_id == package_id)
    if status:
        stmt = stmt.where(Departure.status == status)
    stmt = order_by_sort(stmt, Departure, sort or DEFAULT_SORT, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page)


def get_departure(*, departure_id: int, account=None) -> Departure:
    """The departure `departure_id`, visible when its package is (staff: always;
    others: published packages only). Raises NotFound (404) otherwise."""
    departure = db.session.get(Departure, departure_id)
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
    booking_cutoff: datetime | None = None,
) -> Departure:
    """Add a scheduled departure to a package and commit.

    `capacity` seats (>= 1); `price` the adult seat price, default the package's
    base_price, in the package's currency (copied); `booking_cutoff` an aware
    datetime before the start (None: bookable until 00:00 UTC of start_date).
    Departures are operational data: a published package stays published.
    Raises NotFound (404); Conflict (409) for an archived package;
    ValidationFailed (422) when start_date is past, end_date precedes it or the
    cutoff is not before the start.
    """
    package = get_or_404(Package, package_id, "Package")
    if package.status == "archived":
        raise Conflict("An archived package gets no new departures.", code="package-archived")
    _check_dates(start_date, end_date, booking_cutoff, check_start=True)
    departure = Departure(
        package_id=package.id,
        start_date=start_date,
        end_date=end_date,
        capacity=capacity,
        seats_taken=0,
        price=package.base_price if price is None else price,
        currency=package.currency,
        booking_cutoff=booking_cutoff,
        status="scheduled",
    )
    db.session.add(departure)
    db.session.commit()
    return departure


def update_departure(*, departure_id: int, changes: dict) -> Departure:
    """Apply a partial edit (start_date, end_date, capacity, price, booking_cutoff)
    with one conditional UPDATE and commit.

    The capacity can never drop below the seats already taken: the UPDATE only
    matches `WHERE seats_taken <= :capacity`, so a booking racing the edit cannot
    be oversold. The package's status is left alone (operational data, no new
    approval); bookings keep their own prices. Raises NotFound (404); Conflict (409) for a cancelled departure or
    a capacity below seats taken (`seats_taken` in the body); ValidationFailed (422)
    for dates as in create_departure (start_date only checked when it changes).
    """
    departure = get_or_404(Departure, departure_id, "Departure")
    if departure.status != "scheduled":
        raise Conflict("A cancelled departure cannot be edited.", code="departure-cancelled")
    values = {key: changes[key] for key in EDITABLE if key in changes}
    _check_dates(
        values.get("start_date", departure.start_date),
        values.get("end_date", departure.end_date),
        values.get("booking_cutoff", departure.booking_cutoff),
        check_start="start_date" in values,
    )
    if values:
        _conditional_update(departure, values)
    db.session.commit()
    db.session.refresh(departure)
    return departure


def delete_departure(*, departure_id: int) -> None:
    """Delete a departure that never had a booking (any status) and commit.

    Raises NotFound (404); Conflict (409) when bookings exist - cancel the departure
    instead. The foreign key (RESTRICT) backs the check against a racing booking.
    """
    departure = get_or_404(Departure, departure_id, "Departure")
    if db.session.scalar(select(Booking.id).where(Booking.departure_id == departure.id).limit(1)):
        raise Conflict(
            "The departure has bookings and cannot be deleted; cancel it instead.",
            code="departure-has-bookings",
        )
    db.session.delete(departure)
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
            f"Capacity cannot drop below the {current.seats_taken} seats already taken.",
            code="capacity-below-seats-taken",
            extra={"seats_taken": current.seats_taken},
        )
    raise Conflict("The departure changed while this request ran; reload it and retry.")


def _check_dates(start_date, end_date, booking_cutoff, *, check_start: bool) -> None:
    """Cross-field date rules; ValidationFailed (422) with errors per field."""
    errors = {}
    if check_start and start_date < utcnow().date():
        errors["start_date"] = ["Must not be in the past."]
    if end_date < start_date:
        errors["end_date"] = ["Must be on or after start_date."]
    if booking_cutoff is not None and booking_cutoff > starts_at(start_date):
        errors["booking_cutoff"] = ["Must not be after the departure starts (00:00 UTC)."]
    if errors:
        raise ValidationFailed(errors)
