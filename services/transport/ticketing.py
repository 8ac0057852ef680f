"""Booking a transport trip (docs/transport.md "Tickets"): `POST /bookings` with a
`trip_id` makes a `held` booking of kind `trip` for the ride from one of the trip's
stations to a later one in one vehicle section, with one passenger each, priced by
the route's fare for that pair and section, and seats taken on every segment of
the ride (services.transport.seating). From there it is a booking like any other:
invoiced at once, held BOOKING_HOLD_MINUTES, confirmed by payment (in full: the
deposit is the total), cancelled under its copied tier policy, refunded.

Pricing (docs/transport.md "Tickets"): an adult pays the fare; a child pays the
route's `child_percent` of it, an infant its `infant_percent` (defaults 75 and 0)
and travels on an adult's lap, without a seat: there are never more infants than
adults. Money as Decimal quantized to 0.01, ROUND_HALF_UP (services.shared.money).

Everything is one transaction, serialised with the trip's other bookings by the
trip row lock (seating.lock_trip); the database's UNIQUE seat-segment constraint
is the last guard (409 `seat-taken`).
"""

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Booking, StopTime, Trip, VehicleSection
from models.account import is_staff
from models.base import utcnow
from models.booking import Traveller
from services.booking import booking_limits, bookings, holds
from services.messaging import notifications, webhooks
from services.payments import billing
from services.shared.money import MAX_AMOUNT, money
from services.transport import fares, seating

CATEGORIES = ("adult", "child", "infant")
SEATED = ("adult", "child")


def _calls(trip: Trip, from_station_id: int, to_station_id: int) -> tuple:
    """The trip's stop times at the boarding and alighting stations, or
    ValidationFailed (422) when the trip does not call there in that order."""
    board = alight = None
    for stop in trip.stop_times:
        if stop.station_id == from_station_id and board is None:
            board = stop
        elif stop.station_id == to_station_id and board is not None:
            alight = stop
            break
    errors = {}
    if board is None:
        errors["from_station_id"] = [_("The trip does not call at this station.")]
    elif alight is None:
        errors["to_station_id"] = [
            _("The trip does not call at this station after the boarding station.")
        ]
    if errors:
        raise ValidationFailed(errors)
    return board, alight


def _section(trip: Trip, section_code: str) -> VehicleSection:
    """The trip vehicle's section `section_code`; Conflict (409 `trip-not-bookable`)
    for a trip without a vehicle, ValidationFailed (422) for an unknown section."""
    if trip.vehicle is None:
        raise Conflict(
            _("This trip has no vehicle yet: its seats are not on sale."),
            code="trip-not-bookable",
        )
    for section in trip.vehicle.sections:
        if section.code == section_code:
            return section
    codes = ", ".join(section.code for section in trip.vehicle.sections)
    raise ValidationFailed(
        {"section_code": [_("Use one of the sections: %(codes)s.", codes=codes)]}
    )


def _check_trip(trip: Trip | None, board: StopTime | None, now: datetime) -> None:
    """ValidationFailed (422) for an unknown trip; Conflict (409) when the trip is
    not scheduled or has left the boarding station."""
    if trip is None:
        raise ValidationFailed({"trip_id": [_("No trip with this id.")]})
    if trip.status != "scheduled":
        raise Conflict(
            _("The trip is %(status)s.", status=trip.status),
            code="trip-not-bookable",
        )
    if board is not None and board.departure_at <= now:
        raise Conflict(
            _("The trip has already left the boarding station."), code="trip-departed"
        )


def prices_for(trip: Trip, board: StopTime, alight: StopTime, section_code: str):
    """`{category: Decimal}` for the ride: the fare of the pair and section and
    the route's child and infant percentages, with the fare's currency; or
    ValidationFailed (422) when that pair is not sold in that section."""
    fare = fares.fare_for(
        trip.route_id, board.station_id, alight.station_id, section_code
    )
    if fare is None:
        raise ValidationFailed(
            {"to_station_id": [_("No fare sells this ride in this section.")]}
        )
    route = trip.route
    prices = {
        "adult": money(fare.price),
        "child": money(fare.price * route.child_percent / 100),
        "infant": money(fare.price * route.infant_percent / 100),
    }
    return prices, fare.currency


def _check_party(passengers: list[dict]) -> Counter:
    """The passengers per category; ValidationFailed (422) when there are more
    infants than adults (an infant sits on an adult's lap)."""
    counts = Counter(passenger["category"] for passenger in passengers)
    if counts["infant"] > counts["adult"]:
        raise ValidationFailed(
            {"passengers": [_("Every infant travels on an adult's lap: add adults.")]}
        )
    return counts


def _choose_seats(
    section: VehicleSection, taken: set[str], wanted: list[str] | None, count: int
) -> list[str]:
    """The seats for `count` seated passengers: `wanted` checked (422 for a wrong
    count, a label twice or not in the section; 409 `seat-taken` naming the first
    taken one), else assigned together where possible (409 `seats-unavailable`
    with `seats_left` when too few are free)."""
    if wanted is None:
        chosen = seating.assign(section, taken, count)
        if chosen is None:
            left = sum(1 for s in seating.seat_labels(section) if s not in taken)
            raise Conflict(
                _(
                    "Not enough seats left in this section for the ride: %(left)s "
                    "left, %(count)s requested.",
                    left=left,
                    count=count,
                ),
                code="seats-unavailable",
                extra={"seats_left": left, "seats_requested": count},
            )
        return chosen
    labels = set(seating.seat_labels(section))
    if len(wanted) != count or len(set(wanted)) != len(wanted):
        raise ValidationFailed(
            {
                "seat_labels": [
                    _(
                        "Name %(count)s different seats, one per seated traveller.",
                        count=count,
                    )
                ]
            }
        )
    unknown = [label for label in wanted if label not in labels]
    if unknown:
        raise ValidationFailed(
            {
                "seat_labels": [
                    _(
                        "No seat %(label)s in section %(section)s.",
                        label=unknown[0],
                        section=section.code,
                    )
                ]
            }
        )
    for label in wanted:
        if label in taken:
            raise seat_taken(label)
    return list(wanted)


def seat_taken(label: str) -> Conflict:
    """The 409 `seat-taken` naming the seat (`seat_label`)."""
    return Conflict(
        _("Seat %(label)s is already taken on this ride.", label=label),
        code="seat-taken",
        extra={"seat_label": label},
    )


def _check_held(account, customer_id: int, trip_id: int, seats: int, now) -> None:
    """Conflict (409 `held-seats-limit`) when a customer would hold more unpaid
    seats on the trip than MAX_HELD_SEATS_PER_CUSTOMER (staff are not limited;
    docs/design.md "Rules with numbers")."""
    if is_staff(account):
        return
    limit = current_app.config["MAX_HELD_SEATS_PER_CUSTOMER"]
    held = db.session.scalar(
        select(func.coalesce(func.sum(Booking.seats), 0)).where(
            Booking.customer_id == customer_id,
            Booking.trip_id == trip_id,
            Booking.status == "held",
            Booking.hold_expires_at > now,
        )
    )
    if held + seats > limit:
        raise Conflict(
            _(
                "You already hold %(held)s unpaid seats on this trip; a customer "
                "holds at most %(limit)s (MAX_HELD_SEATS_PER_CUSTOMER). Pay or let "
                "them expire.",
                held=held,
                limit=limit,
            ),
            code="held-seats-limit",
            extra={"held_seats": int(held), "limit": limit},
        )


def _new_booking(account, customer, trip, board, alight, section, passengers, priced):
    """The unsaved held trip Booking with its passengers (seat labels set)."""
    prices, currency = priced
    total = money(sum((prices[p["category"]] for p in passengers), Decimal(0)))
    if total > MAX_AMOUNT:
        raise ValidationFailed(
            {
                "passengers": [
                    _(
                        "The total %(total)s would exceed %(maximum)s.",
                        total=total,
                        maximum=MAX_AMOUNT,
                    )
                ]
            }
        )
    now = utcnow()
    hold = timedelta(minutes=current_app.config["BOOKING_HOLD_MINUTES"])
    policy = current_app.config.get("CANCELLATION_POLICY", bookings.CANCELLATION_POLICY)
    return Booking(
        kind="trip",
        reference=bookings.new_reference(),
        customer_id=customer.id,
        trip_id=trip.id,
        from_station_id=board.station_id,
        to_station_id=alight.station_id,
        from_sequence=board.sequence,
        to_sequence=alight.sequence,
        section_code=section.code,
        seats=sum(1 for p in passengers if p["category"] in SEATED),
        status="held",
        currency=currency,
        unit_price=prices["adult"],
        total_amount=total,
        amount_paid=Decimal("0.00"),
        amount_refunded=Decimal("0.00"),
        deposit_amount=total,
        price_snapshot={name: f"{amount:.2f}" for name, amount in prices.items()},
        hold_expires_at=now + hold,
        cancellation_policy=[dict(tier) for tier in policy],
        created_by_id=account.id if is_staff(account) else None,
        travellers=[
            Traveller(**passenger, unit_price=prices[passenger["category"]])
            for passenger in passengers
        ],
    )


def _book_once(
    *,
    account,
    trip_id,
    from_station_id,
    to_station_id,
    section_code,
    passengers,
    seat_labels,
    customer_id,
) -> Booking:
    """One attempt of book_trip in the current transaction (no commit)."""
    now = utcnow()
    customer = bookings.resolve_customer(account, customer_id)
    trip = seating.lock_trip(trip_id)
    _check_trip(trip, None, now)
    board, alight = _calls(trip, from_station_id, to_station_id)
    _check_trip(trip, board, now)
    section = _section(trip, section_code)
    counts = _check_party(passengers)
    seated = counts["adult"] + counts["child"]
    booking_limits.check_seats_per_booking(account, seated)
    priced = prices_for(trip, board, alight, section.code)
    holds.release_expired_holds(trip_id=trip.id, now=now)
    _check_held(account, customer.id, trip.id, seated, now)
    taken = seating.taken_seats(
        trip.id, section.code, board.sequence, alight.sequence, now
    )
    chosen = _choose_seats(section, taken, seat_labels, seated)
    seats = iter(chosen)
    for passenger in passengers:
        passenger["seat_label"] = (
            next(seats) if passenger["category"] in SEATED else None
        )
    booking = _new_booking(
        account, customer, trip, board, alight, section, passengers, priced
    )
    db.session.add(booking)
    db.session.flush()
    seating.occupy(booking, chosen, trip_id=trip.id, section_code=section.code)
    notifications.booking_held(booking)
    webhooks.emit("booking.created", resource="booking", resource_id=booking.id)
    billing.issue_invoice(booking)
    return booking


def book_trip(
    *,
    account,
    trip_id: int,
    from_station_id: int,
    to_station_id: int,
    section_code: str,
    passengers: list[dict],
    seat_labels: list[str] | None = None,
    customer_id: int | None = None,
) -> Booking:
    """Book a ride on trip `trip_id` from station `from_station_id` to
    `to_station_id` in section `section_code` for `passengers` (dicts `{name,
    birth_date, category: adult|child|infant, document_type?, document_number?,
    nationality?}`), on the `seat_labels` chosen (one per adult and child, in
    passenger order) or on seats assigned together where possible; one commit that
    also issues the invoice and queues the "seats held" mail and `booking.created`
    webhook in the outbox. `account` as for package bookings (a customer books for
    themselves; staff name `customer_id`).

    Raises ValidationFailed (422: unknown trip, stations not called in that order,
    unknown section, no fare for the ride, more infants than adults, seat labels
    wrong in number or unknown, a customer booking more than MAX_SEATS_PER_BOOKING
    seats, the customer), Conflict (409: `trip-not-bookable` (not scheduled, no
    vehicle), `trip-departed`, `seat-taken` with `seat_label`,
    `seats-unavailable` with `seats_left`, `held-seats-limit`). A reference
    collision is retried; on any failure nothing is written.
    """
    for attempt in range(1, bookings.REFERENCE_ATTEMPTS + 1):
        try:
            booking = _book_once(
                account=account,
                trip_id=trip_id,
                from_station_id=from_station_id,
                to_station_id=to_station_id,
                section_code=section_code,
                passengers=[dict(p) for p in passengers],
                seat_labels=seat_labels,
                customer_id=customer_id,
            )
            db.session.commit()
            return booking
        except IntegrityError as exc:
            db.session.rollback()
            if "seat_once" in str(exc.orig) or "transport_seat_segments" in str(
                exc.orig
            ):
                raise seat_taken((seat_labels or ["?"])[0]) from exc
            if not bookings.reference_collision(exc) or attempt >= (
                bookings.REFERENCE_ATTEMPTS
            ):
                raise
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def seat_map(
    *, trip_id: int, from_station_id: int, to_station_id: int, section_code: str
) -> dict:
    """The seat map of a trip's section for one ride (`GET /transport/trips/<id>/
    seats`): `{trip_id, section_code, from_station_id, to_station_id, seats_left,
    rows: [[{label, status: free|taken} | null, ...]]}`; a seat is taken when any
    segment of the ride is (a lapsed hold never counts).

    Raises NotFound (404) for an unknown trip; ValidationFailed (422) as book_trip
    for the stations and section; Conflict (409 `trip-not-bookable`) without a
    vehicle."""
    trip = db.session.get(Trip, trip_id)
    if trip is None:
        raise NotFound("Trip")
    board, alight = _calls(trip, from_station_id, to_station_id)
    section = _section(trip, section_code)
    taken = seating.taken_seats(trip.id, section.code, board.sequence, alight.sequence)
    rows = seating.seat_map_state(section, taken)
    free = sum(1 for row in rows for seat in row if seat and seat["status"] == "free")
    return {
        "trip_id": trip.id,
        "section_code": section.code,
        "from_station_id": board.station_id,
        "to_station_id": alight.station_id,
        "seats_left": free,
        "rows": rows,
    }
