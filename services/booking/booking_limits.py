"""Per-customer seat limits against inventory hoarding (docs/design.md "Rules with
numbers": customers book at most MAX_SEATS_PER_BOOKING seats at once and hold at
most MAX_HELD_SEATS_PER_CUSTOMER unpaid seats per departure; staff are not limited).

Without them one customer could hold a whole departure for the hold time, again
and again. The held-seats check runs after the booking took its seats (the
conditional UPDATE of the departure row), so parallel bookings of one departure are
serialised on that row (PostgreSQL row lock, SQLite write lock) and each check sees
the holds committed before it; a refusal rolls the seats back.
"""

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from core.errors import Conflict, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Booking
from models.account import is_staff


def check_seats_per_booking(account, seats: int) -> None:
    """ValidationFailed (422 on `seats`, naming MAX_SEATS_PER_BOOKING) when a
    customer asks more seats than one booking may have."""
    limit = current_app.config["MAX_SEATS_PER_BOOKING"]
    if is_staff(account) or seats <= limit:
        return
    raise ValidationFailed(
        {
            "seats": [
                _(
                    "A customer books at most %(limit)s seats at once "
                    "(MAX_SEATS_PER_BOOKING); ask our sales team for a group "
                    "booking.",
                    limit=limit,
                )
            ]
        }
    )


def held_seats_query(customer_id: int, departure_id: int, *, now: datetime):
    """The SELECT of held_seats, for a statement that carries it as a scalar
    subquery (services.booking.inventory.take_category_seats `read`): it must run after
    the departure row was locked, like held_seats itself."""
    return select(func.coalesce(func.sum(Booking.seats), 0)).where(
        Booking.customer_id == customer_id,
        Booking.departure_id == departure_id,
        Booking.status == "held",
        Booking.hold_expires_at > now,
    )


def held_seats(customer_id: int, departure_id: int, *, now: datetime) -> int:
    """Seats of the customer's live (unexpired) holds on the departure."""
    return db.session.scalar(held_seats_query(customer_id, departure_id, now=now))


def check_held_seats(
    account,
    customer_id: int,
    departure_id: int,
    seats: int,
    *,
    now: datetime,
    held: int | None = None,
) -> None:
    """Conflict (409 `held-seats-limit`, naming MAX_HELD_SEATS_PER_CUSTOMER, with
    `held_seats` and `max_held_seats`) when a customer's unpaid seats on the
    departure would exceed the limit with `seats` more. Call after the seats were
    taken, inside the booking's transaction. `held`, when given, is held_seats
    already read after the seats were taken (held_seats_query); else it is read."""
    if is_staff(account):
        return
    limit = current_app.config["MAX_HELD_SEATS_PER_CUSTOMER"]
    if held is None:
        held = held_seats(customer_id, departure_id, now=now)
    held = int(held)
    if held + seats > limit:
        raise Conflict(
            _(
                "You already hold %(held)s unpaid seats on this departure; a "
                "customer holds at most %(limit)s (MAX_HELD_SEATS_PER_CUSTOMER). "
                "Pay or cancel a hold first.",
                held=held,
                limit=limit,
            ),
            code="held-seats-limit",
            extra={
                "limit": "MAX_HELD_SEATS_PER_CUSTOMER",
                "held_seats": held,
                "max_held_seats": limit,
                "seats_requested": seats,
            },
        )
