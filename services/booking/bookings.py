"""The booking engine: create `held` bookings that take seats atomically and are
invoiced at once, list and view them, expire lapsed holds and complete trips in bulk
(docs/design.md "Lifecycles": booking, departure; "Rules with numbers": seats, hold;
roles matrix rows "create booking" and "list / view bookings").

Money rules (docs/design.md "Rules with numbers"): Decimal quantized to 0.01 with
ROUND_HALF_UP, never float. A booking copies, when it is made, the price of every
category of its departure (`price_snapshot`), each traveller's seat price
(`Traveller.unit_price`) and the cancellation tiers; `unit_price` is the adult
(standard) seat price, `total_amount` the sum of the travellers' seat prices (all adult
when no travellers are named), `deposit_amount` = total x package.deposit_percent / 100.
Later catalogue edits never change a booking. Seats, booking, travellers and invoice are
written in one transaction with one commit; mail goes out after it.
"""

import secrets
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import (
    Booking,
    Customer,
    Departure,
    Invoice,
    Package,
    TransportRoute,
    Trip,
)
from models.account import is_staff
from models.base import utcnow
from models.booking import Traveller
from services.booking import booking_limits, holds, inventory, rules
from services.messaging import notifications, webhooks
from services.payments import billing
from services.shared.money import money
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import check_owner

REFERENCE_PREFIX = "ET-"
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
REFERENCE_LENGTH = 6
REFERENCE_ATTEMPTS = 5
SORTABLE = ("created_at", "total_amount", "seats")

# docs/design.md "Rules with numbers": cancellation tiers by time before the departure
# starts, copied onto each booking. A tier applies when at least `min_hours_before`
# hours remain; the first matching tier (from the top) wins. After the start: no
# cancellation (enforced by services.booking.cancellations).
CANCELLATION_POLICY = (
    {"tier": "30_days_or_more", "min_hours_before": 720, "penalty_percent": 10},
    {"tier": "14_to_29_days", "min_hours_before": 336, "penalty_percent": 25},
    {"tier": "7_to_13_days", "min_hours_before": 168, "penalty_percent": 50},
    {"tier": "2_to_6_days", "min_hours_before": 48, "penalty_percent": 75},
    {"tier": "under_48_hours", "min_hours_before": 0, "penalty_percent": 100},
)


def new_reference() -> str:
    """A human-friendly booking reference such as `ET-7KQ2MZ` (from `secrets`)."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return REFERENCE_PREFIX + body


def resolve_customer(account, customer_id: int | None) -> Customer:
    """The customer the booking is for: the caller when a customer (who may only name
    themselves), else the active customer `customer_id` (required for staff).

    Raises ValidationFailed (422) with `errors.customer_id`.
    """
    if not is_staff(account):
        if customer_id is not None and customer_id != account.id:
            raise ValidationFailed(
                {
                    "customer_id": [
                        _("Customers book for themselves; leave customer_id out.")
                    ]
                }
            )
        return account
    if customer_id is None:
        raise ValidationFailed(
            {"customer_id": [_("Staff must name the customer to book for.")]}
        )
    customer = db.session.get(Customer, customer_id)
    if customer is None or not customer.active:
        raise ValidationFailed({"customer_id": [_("No active customer with this id.")]})
    return customer


def find_departure(departure_id: int) -> Departure:
    """The departure (with its package and categories, joined: one statement) or
    ValidationFailed on `departure_id`."""
    return _find_departure_and_listeners(departure_id)[0]


def _find_departure_and_listeners(departure_id: int) -> tuple[Departure, bool]:
    """The departure (with its package and categories, joined) and whether any
    active webhook endpoint exists (webhooks.anyone_listening, a column of the same
    statement: one round trip for both), or ValidationFailed on `departure_id`."""
    stmt = (
        select(Departure, webhooks.anyone_listening())
        .where(Departure.id == departure_id)
        .options(joinedload(Departure.package), joinedload(Departure.categories))
    )
    row = db.session.execute(stmt).unique().first()
    if row is None:
        raise ValidationFailed({"departure_id": [_("No departure with this id.")]})
    return row[0], bool(row[1])


def _refuse_seats(detail: str, **extra) -> None:
    """Commit what the attempt did that stands on its own (the expiry of lapsed
    holds; seats it took were given back) and raise Conflict (409)
    `seats-unavailable`."""
    db.session.commit()
    raise Conflict(detail, code="seats-unavailable", extra=extra)


class _ExpireFirst(Exception):
    """A category refused seats while lapsed holds might free some: the attempt is
    rolled back and made again with the expiry first (create_booking)."""


def _hold_seats(
    departure: Departure,
    seats: int,
    counts: Counter,
    *,
    now: datetime,
    expire_first: bool = False,
    read=None,
) -> int | None:
    """Take `seats` on the departure and `counts` per category, atomically and in
    the one lock order (departure, then categories by name); lapsed holds of the
    departure are expired (services.booking.holds) only when they could matter.

    Lapsed holds still count in the seat counters until expired, so expiring them
    first can only turn a refusal into a success. The common case (the seats fit)
    therefore takes them directly; only a refusal expires lapsed holds and tries
    again, which gives the same answer as expiring first. When the departure
    refuses, this transaction holds no lock yet, so it expires and retries in place
    (bookings, then departure, then categories: the order of the sweep), which is
    then exactly the expire-first sequence. When a
    category refuses, the departure row is already locked: rather than lock the
    lapsed bookings after it (a deadlock with a concurrent sweep), it raises
    _ExpireFirst and create_booking starts the attempt again with `expire_first`.

    When they do not fit, commits the expiry (a correct state change on its own) and
    raises Conflict (409) with `seats_left` and `seats_requested` (plus `category`
    when a category's own limit refused them; seats_left is then that category's).

    `read`, optional, is a scalar SQL expression the category UPDATEs return
    (inventory.take_category_seats); returns its last value, None when not read.
    """
    if expire_first:
        holds.release_expired_holds(departure_id=departure.id, now=now)
    took = inventory.take_seats(departure_id=departure.id, seats=seats)
    if not took and not expire_first:
        # From here on exactly the expire-first order; the retry even when this
        # call expired nothing: a concurrent sweep or booking may have just
        # expired them (its commit is what our UPDATE waited for).
        expire_first = True
        holds.release_expired_holds(departure_id=departure.id, now=now)
        took = inventory.take_seats(departure_id=departure.id, seats=seats)
    if not took:
        left = inventory.free_seats_now(departure_id=departure.id)
        _refuse_seats(
            _(
                "Not enough seats left on this departure: %(left)s left, "
                "%(requested)s requested.",
                left=left,
                requested=seats,
            ),
            seats_left=left,
            seats_requested=seats,
        )
    values = []
    full = inventory.take_category_seats(
        departure_id=departure.id, counts=counts, read=read, out=values
    )
    if full is None:
        return values[-1] if values else None
    if not expire_first:
        raise _ExpireFirst()
    inventory.release_seats(departure_id=departure.id, seats=seats)
    left = inventory.category_seats_left(departure_id=departure.id, category=full) or 0
    _refuse_seats(
        _(
            "Not enough %(category)s seats left on this departure: %(left)s left, "
            "%(requested)s requested.",
            category=full,
            left=left,
            requested=counts[full],
        ),
        seats_left=left,
        seats_requested=counts[full],
        category=full,
    )


def _new_booking(
    account, customer, departure, seats, travellers, now, prices
) -> Booking:
    """The Booking row with `prices` (the catalogue's, or a quote's locked ones),
    deposit, balance date and policy copied, unsaved. `unit_price` is the adult
    seat price; each traveller carries its category's price; the total is the sum
    over seats."""
    counts = rules.party_counts(travellers, seats)
    total = money(sum((prices[name] * n for name, n in counts.items()), Decimal(0)))
    hold = timedelta(minutes=current_app.config["BOOKING_HOLD_MINUTES"])
    policy = current_app.config.get("CANCELLATION_POLICY", CANCELLATION_POLICY)
    return Booking(
        reference=new_reference(),
        customer_id=customer.id,
        departure_id=departure.id,
        seats=seats,
        status="held",
        currency=departure.currency,
        unit_price=prices[inventory.DEFAULT_CATEGORY],
        total_amount=total,
        amount_paid=Decimal("0.00"),
        amount_refunded=Decimal("0.00"),
        deposit_amount=money(total * departure.package.deposit_percent / 100),
        balance_due_date=billing.balance_due_date(departure.start_date),
        price_snapshot={
            name: f"{amount:.2f}" for name, amount in sorted(prices.items())
        },
        hold_expires_at=now + hold,
        cancellation_policy=[dict(tier) for tier in policy],
        created_by_id=account.id if is_staff(account) else None,
        travellers=[
            Traveller(
                **traveller, unit_price=prices[traveller.get("category", "adult")]
            )
            for traveller in travellers or []
        ],
    )


def _create_once(
    *,
    account,
    departure_id,
    seats,
    travellers,
    customer_id,
    locked_prices=None,
    expire_first=False,
) -> Booking:
    """One attempt of create_booking inside the current transaction (no commit);
    `expire_first` expires the departure's lapsed holds before taking seats."""
    now = utcnow()
    customer = resolve_customer(account, customer_id)
    booking_limits.check_seats_per_booking(account, seats)
    rules.check_travellers(travellers, seats)
    departure, listening = _find_departure_and_listeners(departure_id)
    rules.check_bookable(departure, now=now)
    prices = dict(locked_prices) if locked_prices is not None else departure.prices
    rules.check_party(departure, seats, travellers, prices)
    rules.check_total(prices, rules.party_counts(travellers, seats))
    counts = rules.party_counts(travellers, seats)
    # The customer's held seats ride on the category UPDATE (after the departure
    # row lock, as check_held_seats requires): one statement less.
    read = None
    if not is_staff(account):
        read = booking_limits.held_seats_query(
            customer.id, departure.id, now=now
        ).scalar_subquery()
    held = _hold_seats(
        departure, seats, counts, now=now, expire_first=expire_first, read=read
    )
    booking_limits.check_held_seats(
        account, customer.id, departure.id, seats, now=now, held=held
    )
    booking = _new_booking(account, customer, departure, seats, travellers, now, prices)
    db.session.add(booking)
    db.session.flush()
    notifications.booking_held(booking)
    if listening:
        webhooks.emit("booking.created", resource="booking", resource_id=booking.id)
    billing.issue_invoice(
        booking
    )  # last: the invoice counter stays locked until commit
    return booking


def _commit_keeping_loaded() -> None:
    """Commit without expiring the session's objects: the booking, its travellers,
    invoice, departure and package were all written or read in this transaction
    (seat counts through RETURNING), so the response needs no reload (five SELECTs
    per booking otherwise). The session is per request; the next one reads afresh.
    Not used with `before_commit` (a quote's acceptance), whose UPDATEs do not
    synchronise the session."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def reference_collision(exc: IntegrityError) -> bool:
    """True when the integrity error is the unique booking reference."""
    message = str(exc.orig).lower()
    return "reference" in message and ("unique" in message or "duplicate" in message)


def create_booking(
    *,
    account,
    departure_id: int,
    seats: int,
    travellers: list[dict] | None = None,
    customer_id: int | None = None,
    locked_prices: dict | None = None,
    before_commit=None,
) -> Booking:
    """Book `seats` on a departure for a customer, hold them and invoice; one commit
    that also queues the "seats held" mail (with the expiry time) and the
    `booking.created` webhook in the outbox.

    `locked_prices` ({category: Decimal}) replaces the departure's current prices
    (a quote's prices, locked while it is valid: docs/design.md "Lifecycles": enquiry);
    `before_commit(booking)`, when given, runs inside the same transaction just
    before the commit (a quote marks itself accepted), so both stand or fall together.

    `account` is the caller (a customer books for themselves; admin and sales name
    `customer_id`); `travellers` are dicts `{name, birth_date, category}`, one per
    seat, each category one the departure prices (none given: all adult). The
    booking is `held` until now + BOOKING_HOLD_MINUTES. Seats (departure and
    category), booking, travellers and the invoice (billing.issue_invoice, numbered
    INV-YYYY-NNNNNN) are written in one transaction; on any failure it is rolled
    back, so seats are never leaked. A reference collision is retried with a new
    reference.

    Raises ValidationFailed (422: customer_id, travellers, a category the departure
    does not have, a party below min_party_size, unknown departure_id, a total above
    MAX_AMOUNT, a customer's booking above MAX_SEATS_PER_BOOKING) and Conflict
    (409 `held-seats-limit`: a customer's unpaid seats on the departure above
    MAX_HELD_SEATS_PER_CUSTOMER, services/booking/booking_limits.py) and Conflict
    (409: not bookable, or not enough seats with `seats_left`, and `category` when a
    category's limit is what refused them).
    """
    expire_first = False
    attempt = 0
    while True:
        attempt += 1
        try:
            booking = _create_once(
                account=account,
                departure_id=departure_id,
                seats=seats,
                travellers=travellers,
                customer_id=customer_id,
                locked_prices=locked_prices,
                expire_first=expire_first,
            )
            if before_commit is not None:
                before_commit(booking)
                db.session.commit()  # its UPDATEs may not sync the session
            else:
                _commit_keeping_loaded()
            break
        except _ExpireFirst:
            db.session.rollback()
            expire_first = True
            attempt -= 1  # not a reference collision
        except IntegrityError as exc:
            db.session.rollback()
            if not reference_collision(exc) or attempt >= REFERENCE_ATTEMPTS:
                raise
        except BaseException:
            db.session.rollback()
            raise
    return booking


def complete_trips(now: datetime | None = None) -> int:
    """Mark `confirmed` bookings whose departure ended before `now`'s date (UTC) as
    `completed` (with `completed_at`) and give their seats back (seats taken count
    held and confirmed bookings only, docs/design.md "Lifecycles": departure); one
    commit. Returns how many it completed; idempotent (only `confirmed` rows move).
    Backs `flask bookings complete-trips`.
    """
    now = now or utcnow()
    ended = select(Departure.id).where(Departure.end_date < now.date())
    stmt = (
        update(Booking)
        .where(Booking.status == "confirmed", Booking.departure_id.in_(ended))
        .values(status="completed", completed_at=now)
        .returning(Booking.id, Booking.departure_id, Booking.seats)
        .execution_options(synchronize_session=False)
    )
    # A trip booking is complete once its trip arrived; its seat segments stay
    # (the trip's load is history: docs/transport.md "Tickets").
    arrived = select(Trip.id).where(Trip.arrival_at < now)
    trips = (
        update(Booking)
        .where(Booking.status == "confirmed", Booking.trip_id.in_(arrived))
        .values(status="completed", completed_at=now)
        .execution_options(synchronize_session=False)
    )
    try:
        rows = db.session.execute(stmt).all()
        inventory.release_bookings_seats(rows)
        done = db.session.execute(trips).rowcount
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return len(rows) + done


def _status_filter(status: str, now: datetime):
    """The WHERE clause for `status=` as callers see it: a lapsed hold is `expired`."""
    lapsed = and_(Booking.status == "held", Booking.hold_expires_at <= now)
    if status == "held":
        return and_(Booking.status == "held", ~lapsed)
    if status == "expired":
        return or_(Booking.status == "expired", lapsed)
    return Booking.status == status


def list_bookings(
    *,
    account,
    status: str | None = None,
    customer_id: int | None = None,
    departure_id: int | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
    **ride,
) -> Page:
    """One page of bookings, newest first unless `sort`; customers see only theirs.

    Filters combine with AND; `ride` holds the filters of _ride_filters (kind,
    trip, company, travel date, upcoming or past). Raises ValidationFailed for an
    unknown `sort`.
    """
    # The departure, its package and the invoice are one row each: joined into the
    # page's SELECT; the travellers (a collection) come in one more SELECT.
    stmt = select(Booking).options(
        selectinload(Booking.travellers), *_shown_with_booking()
    )
    if not is_staff(account):
        stmt = stmt.where(Booking.customer_id == account.id)
    if status:
        stmt = stmt.where(_status_filter(status, utcnow()))
    if customer_id is not None:
        stmt = stmt.where(Booking.customer_id == customer_id)
    if departure_id is not None:
        stmt = stmt.where(Booking.departure_id == departure_id)
    stmt = _ride_filters(stmt, now=utcnow(), **ride)
    stmt = order_by_sort(stmt, Booking, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def _ride_filters(
    stmt,
    *,
    now: datetime,
    kind: str | None = None,
    trip_id: int | None = None,
    company_id: int | None = None,
    travel_date=None,
    when: str | None = None,
):
    """`stmt` narrowed by what was bought (docs/transport.md "Tickets": my trips,
    staff lists): `kind` package|trip; `trip_id`; `company_id` (trip bookings of
    that transport company); `travel_date` (a trip's service date or a departure's
    start date); `when` `upcoming` (starting from now on: a trip's departure, a
    departure's start date from today) or `past`."""
    if kind:
        stmt = stmt.where(Booking.kind == kind)
    if trip_id is not None:
        stmt = stmt.where(Booking.trip_id == trip_id)
    if company_id is not None:
        routes = select(TransportRoute.id).where(
            TransportRoute.company_id == company_id
        )
        stmt = stmt.where(
            Booking.trip_id.in_(select(Trip.id).where(Trip.route_id.in_(routes)))
        )
    if travel_date is not None:
        stmt = stmt.where(
            or_(
                Booking.trip_id.in_(
                    select(Trip.id).where(Trip.service_date == travel_date)
                ),
                Booking.departure_id.in_(
                    select(Departure.id).where(Departure.start_date == travel_date)
                ),
            )
        )
    if when in ("upcoming", "past"):
        ahead = when == "upcoming"
        trips = select(Trip.id).where(
            Trip.departure_at >= now if ahead else Trip.departure_at < now
        )
        today = now.date()
        departures = select(Departure.id).where(
            Departure.start_date >= today if ahead else Departure.start_date < today
        )
        stmt = stmt.where(
            or_(Booking.trip_id.in_(trips), Booking.departure_id.in_(departures))
        )
    return stmt


def get_booking(*, account, booking_id: int) -> Booking:
    """The booking `booking_id`; NotFound (404) when missing or, for a customer,
    not theirs (docs/design.md "Accounts and roles")."""
    booking = db.session.get(
        Booking,
        booking_id,
        options=[joinedload(Booking.travellers), *_shown_with_booking()],
    )
    if booking is None:
        raise NotFound("Booking")
    check_owner(account, booking, "Booking")
    return booking


def _shown_with_booking() -> list:
    """Loader options for the one-row relations a booking's view (BookingSchema)
    shows, joined into the booking's SELECT: the departure's package id and start
    date, the package's title, the invoice's id and number. Only those columns
    are read, so the departure's correlated lapsed-holds subquery
    (`Departure.lapsed_hold_seats`) is not run for a view that never shows it."""
    return [
        joinedload(Booking.invoice).load_only(Invoice.id, Invoice.number),
        joinedload(Booking.departure)
        .load_only(Departure.package_id, Departure.start_date)
        .joinedload(Departure.package, innerjoin=True)
        .load_only(Package.title),
        # A trip booking's ride (docs/transport.md "Tickets"): the trip with its
        # stop times and route, and the two stations.
        selectinload(Booking.trip).selectinload(Trip.stop_times),
        selectinload(Booking.trip).joinedload(Trip.route),
        joinedload(Booking.from_station),
        joinedload(Booking.to_station),
    ]
