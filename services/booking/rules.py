"""Whether and how a departure can be booked: bookability at a moment, the party's
shape (one traveller per seat, minimum party, priced categories) and a total a money
column holds (docs/design.md "Lifecycles": departure, booking; "Rules with
numbers": seats). Shared by the booking engine, hold revival and quotes."""

from collections import Counter
from datetime import UTC, datetime, time
from decimal import Decimal

from core.errors import Conflict, ValidationFailed
from core.i18n import _
from models import Booking, Departure
from services.booking import inventory
from services.shared.money import MAX_AMOUNT, money
from services.transport import seating


def departure_start(departure: Departure) -> datetime:
    """When the departure starts: 00:00 UTC of its start date (docs/design.md
    "Lifecycles")."""
    return datetime.combine(departure.start_date, time(0), tzinfo=UTC)


def booking_start(booking: Booking) -> datetime:
    """When what `booking` bought starts (aware UTC): its departure's start for a
    package, the boarding stop's departure for a trip (docs/transport.md
    "Tickets"). The cancellation tiers count the hours before it."""
    if booking.kind == "trip":
        return seating.ride_start(booking)
    return departure_start(booking.departure)


def check_bookable(departure: Departure, *, now: datetime) -> None:
    """Refuse a departure that cannot be booked at `now` with Conflict (409):
    package not published, departure cancelled, started, or past its booking cutoff."""
    if departure.package.status != "published":
        raise Conflict(
            _("The package is not published; it cannot be booked."),
            code="package-not-bookable",
        )
    if departure.status != "scheduled":
        raise Conflict(_("The departure is cancelled."), code="departure-cancelled")
    if now >= departure_start(departure):
        raise Conflict(
            _("The departure has already started."), code="departure-started"
        )
    if departure.booking_cutoff is not None and now >= departure.booking_cutoff:
        raise Conflict(
            _("Bookings for this departure are closed (cutoff passed)."),
            code="booking-closed",
        )


def check_travellers(travellers: list[dict] | None, seats: int) -> None:
    """Travellers, when given, are exactly one per seat (docs/design.md
    "Resource map")."""
    if travellers is not None and len(travellers) != seats:
        raise ValidationFailed(
            {
                "travellers": [
                    _(
                        "Give one traveller per seat: %(seats)s, not %(given)s.",
                        seats=seats,
                        given=len(travellers),
                    )
                ]
            }
        )


def check_party(departure: Departure, seats: int, travellers, prices: dict) -> None:
    """The party is at least the departure's `min_party_size` and every traveller's
    category is one the departure prices; ValidationFailed (422) per field
    (`seats`, `travellers.<i>.category`)."""
    errors = {}
    if seats < departure.min_party_size:
        errors["seats"] = [
            _(
                "This departure is booked for at least %(minimum)s seats.",
                minimum=departure.min_party_size,
            )
        ]
    for index, traveller in enumerate(travellers or []):
        if traveller.get("category", inventory.DEFAULT_CATEGORY) not in prices:
            errors[f"travellers.{index}.category"] = [
                _(
                    "Not a category of this departure; one of: %(categories)s.",
                    categories=", ".join(sorted(prices)),
                )
            ]
    if errors:
        raise ValidationFailed(errors)


def party_counts(travellers: list[dict] | None, seats: int) -> Counter:
    """Seats per category: the travellers' categories, or all adult without them."""
    counts = Counter(
        t.get("category", inventory.DEFAULT_CATEGORY) for t in travellers or []
    )
    return counts or Counter({inventory.DEFAULT_CATEGORY: seats})


def check_total(prices: dict, counts: Counter) -> None:
    """ValidationFailed (422 on `seats`) when the party's total would not fit a money
    column (MAX_AMOUNT): PostgreSQL would refuse the row with a 500, SQLite would
    keep an amount no response may show."""
    total = money(sum((prices[name] * n for name, n in counts.items()), Decimal(0)))
    if total > MAX_AMOUNT:
        raise ValidationFailed(
            {
                "seats": [
                    _(
                        "The total %(total)s would exceed %(maximum)s: book fewer "
                        "seats.",
                        total=total,
                        maximum=MAX_AMOUNT,
                    )
                ]
            }
        )
