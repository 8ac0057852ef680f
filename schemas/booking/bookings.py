"""Booking schemas (docs/design.md "Resource map": /bookings; "Rules with numbers")."""

from datetime import date
from typing import ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models.base import utcnow
from models.booking import BOOKING_KINDS, BOOKING_STATUSES
from schemas.catalogue.departures import CATEGORY
from schemas.common import (
    ID,
    NO_NUL,
    FilterDate,
    Money,
    PageArgs,
    not_blank,
    sort_field,
)
from schemas.transport.companies import COUNTRY

# The tiers of the cancellation policy (services.booking.bookings.CANCELLATION_POLICY; a
# test keeps the two lists equal).
POLICY_TIERS = (
    "30_days_or_more",
    "14_to_29_days",
    "7_to_13_days",
    "2_to_6_days",
    "under_48_hours",
)

MAX_SEATS = 50


def _not_in_future(value: date) -> None:
    """A birth date cannot be later than today (UTC)."""
    if value > utcnow().date():
        raise ValidationError("The birth date cannot be in the future.")


class TravellerSchema(Schema):
    """One traveller of a booking; `category` (default adult) must be one the
    departure prices: it prices the seat and counts against that category's limit.
    `unit_price` (output only) is the seat price copied when the booking was made."""

    name = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=120),
            not_blank("Give a name (no NUL characters)."),
        ],
        metadata={"example": "Clara Byrne"},
    )
    birth_date = fields.Date(
        required=True,
        validate=[validate.Range(min=date(1900, 1, 1)), _not_in_future],
        metadata={"example": "1988-04-17"},
    )
    category = fields.String(
        load_default="adult",
        validate=CATEGORY,
        metadata={"example": "adult"},
    )
    unit_price = Money(dump_only=True, allow_none=True)


PASSENGER_CATEGORIES = ("adult", "child", "infant")
DOCUMENT_TYPES = ("passport", "id_card", "residence_permit", "driving_licence")


class PassengerSchema(TravellerSchema):
    """One passenger of a trip booking (docs/transport.md "Tickets"): an adult pays
    the fare, a child the route's child percentage, an infant (on an adult's lap,
    no seat) its infant percentage. Travel document fields are optional."""

    category = fields.String(
        load_default="adult",
        validate=validate.OneOf(PASSENGER_CATEGORIES),
        metadata={"example": "adult"},
    )
    document_type = fields.String(
        validate=validate.OneOf(DOCUMENT_TYPES), metadata={"example": "passport"}
    )
    document_number = fields.String(
        validate=[
            validate.Length(min=1, max=40),
            not_blank("Give the document number (no NUL characters)."),
        ],
        metadata={"example": "PA1234567"},
    )
    nationality = fields.String(validate=COUNTRY, metadata={"example": "IE"})
    seat_label = fields.String(
        dump_only=True, allow_none=True, metadata={"example": "3A"}
    )


class BookingCreateSchema(Schema):
    """Book seats on a package departure (`departure_id`, `seats`, `travellers`) or
    a ride on a transport trip (`trip_id`, `from_station_id`, `to_station_id`,
    `section_code`, `passengers`, optional `seat_labels`: one per adult and child
    in passenger order; docs/transport.md "Tickets"). Customers book for
    themselves (leave `customer_id` out); admin and sales must name the customer.
    Travellers, when given, are one per seat."""

    # The two shapes for OpenAPI (core/openapi_doc.py reads `openapi_extra`): an
    # extension, as client generators turn an `anyOf` into a union type.
    openapi_extra: ClassVar[dict] = {
        "x-required-any-of": [
            {"required": ["departure_id", "seats"]},
            {
                "required": [
                    "trip_id",
                    "from_station_id",
                    "to_station_id",
                    "section_code",
                    "passengers",
                ]
            },
        ]
    }

    departure_id = fields.Integer(
        strict=True,
        validate=ID,
        metadata={"example": 7, "description": "Package bookings: required."},
    )
    seats = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_SEATS),
        metadata={"example": 2, "description": "Package bookings: required."},
    )
    travellers = fields.List(
        fields.Nested(TravellerSchema), validate=validate.Length(max=MAX_SEATS)
    )
    customer_id = fields.Integer(strict=True, validate=ID, metadata={"example": 12})
    trip_id = fields.Integer(
        strict=True,
        validate=ID,
        metadata={"example": 31, "description": "Trip bookings: required."},
    )
    from_station_id = fields.Integer(strict=True, validate=ID)
    to_station_id = fields.Integer(strict=True, validate=ID)
    section_code = fields.String(
        validate=[validate.Length(min=1, max=32), NO_NUL],
        metadata={"example": "economy"},
    )
    passengers = fields.List(
        fields.Nested(PassengerSchema),
        validate=validate.Length(min=1, max=MAX_SEATS),
    )
    seat_labels = fields.List(
        fields.String(validate=[validate.Length(min=1, max=16), NO_NUL]),
        validate=validate.Length(min=1, max=MAX_SEATS),
        metadata={"example": ["3A", "3B"]},
    )

    @validates_schema
    def _one_kind(self, data, **kwargs):
        """A package booking names a departure and seats; a trip booking a trip,
        its two stations, the section and passengers - never both."""
        missing = "Missing data for required field."
        if "trip_id" in data:
            if "departure_id" in data or "seats" in data or "travellers" in data:
                raise ValidationError(
                    "Book a departure or a trip, not both.", "trip_id"
                )
            errors = {
                name: [missing]
                for name in (
                    "from_station_id",
                    "to_station_id",
                    "section_code",
                    "passengers",
                )
                if name not in data
            }
            if errors:
                raise ValidationError(errors)
            return
        errors = {
            name: [missing] for name in ("departure_id", "seats") if name not in data
        }
        if "passengers" in data or "seat_labels" in data:
            errors["trip_id"] = [missing]
        if errors:
            raise ValidationError(errors)


class PolicyTierSchema(Schema):
    """One cancellation tier copied onto the booking: the penalty applies when at
    least `min_hours_before` hours remain before the departure starts."""

    tier = fields.String(
        metadata={"enum": list(POLICY_TIERS), "example": "14_to_29_days"}
    )
    min_hours_before = fields.Integer(metadata={"example": 336})
    penalty_percent = fields.Integer(metadata={"example": 10})


class BookingSchema(Schema):
    """A booking as the API shows it; money as decimal strings beside `currency`.

    `status` is what the caller should see: a hold that ran out reads `expired`
    even before a sweep stored it; `hold_expires_at` is null unless held.
    `unit_price` is the adult seat price at booking time, `price_snapshot` every
    category's price then, each traveller's `unit_price` their seat price;
    `deposit_amount` confirms the booking, the rest is due by `balance_due_date`;
    `penalty_amount` is null unless cancelled.
    """

    id = fields.Integer(dump_only=True)
    reference = fields.String(dump_only=True, metadata={"example": "ET-7KQ2MZ"})
    kind = fields.String(
        dump_only=True, metadata={"enum": list(BOOKING_KINDS), "example": "package"}
    )
    status = fields.String(
        dump_only=True,
        attribute="current_status",
        metadata={"enum": list(BOOKING_STATUSES), "example": "held"},
    )
    customer_id = fields.Integer(dump_only=True)
    # A package booking's departure and package (null for a trip booking).
    departure_id = fields.Integer(dump_only=True, allow_none=True)
    package_id = fields.Method(
        "_package_id",
        dump_only=True,
        metadata={"type": "integer", "nullable": True, "example": 42},
    )
    package_title = fields.Method(
        "_package_title",
        dump_only=True,
        metadata={
            "type": "string",
            "nullable": True,
            "example": "Lisbon and Sintra in Spring",
        },
    )
    start_date = fields.Method(
        "_start_date",
        dump_only=True,
        metadata={
            "type": "string",
            "format": "date",
            "nullable": True,
            "example": "2026-04-12",
        },
    )
    seats = fields.Integer(dump_only=True, metadata={"example": 2})
    currency = fields.String(dump_only=True)
    unit_price = Money(dump_only=True)
    total_amount = Money(dump_only=True)
    amount_paid = Money(dump_only=True)
    amount_due = Money(dump_only=True)
    amount_refunded = Money(dump_only=True)
    deposit_amount = Money(dump_only=True)
    balance_due_date = fields.Date(dump_only=True, allow_none=True)
    penalty_amount = Money(dump_only=True, allow_none=True)
    disputed = fields.Boolean(
        dump_only=True,
        metadata={
            "example": False,
            "description": "True while a card payment of the booking is disputed "
            "at the cardholder's bank.",
        },
    )
    price_snapshot = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        dump_only=True,
        allow_none=True,
        metadata={"example": {"adult": "900.00", "child": "450.00"}},
    )
    invoice_id = fields.Method(
        "_invoice_id", dump_only=True, metadata={"type": "integer", "nullable": True}
    )
    invoice_number = fields.Method(
        "_invoice_number",
        dump_only=True,
        metadata={"type": "string", "nullable": True, "example": "INV-2026-000042"},
    )
    cancellation_policy = fields.List(
        fields.Nested(PolicyTierSchema), dump_only=True, allow_none=True
    )
    hold_expires_at = fields.Method(
        "_hold_expires_at",
        dump_only=True,
        allow_none=True,
        metadata={"type": "string", "format": "date-time", "nullable": True},
    )
    travellers = fields.List(fields.Nested(TravellerSchema), dump_only=True)
    trip_id = fields.Integer(dump_only=True, allow_none=True)
    section_code = fields.String(
        dump_only=True, allow_none=True, metadata={"example": "standard"}
    )
    trip = fields.Method(
        "_trip",
        dump_only=True,
        metadata={
            "type": "object",
            "nullable": True,
            "example": {
                "id": 31,
                "route_id": 4,
                "route_code": "EC1",
                "route_name": "London - Paris",
                "service_date": "2026-12-20",
                "departure_at": "2026-12-20T08:00:00+00:00",
                "arrival_at": "2026-12-20T16:30:00+00:00",
                "status": "scheduled",
            },
            "description": "A trip booking's trip: id, route, service date, UTC "
            "departure and arrival, status (null for a package booking).",
        },
    )
    from_stop = fields.Method(
        "_from_stop",
        dump_only=True,
        data_key="from",
        metadata={
            "type": "object",
            "nullable": True,
            "example": {
                "station_id": 3,
                "code": "GBLONVIC",
                "name": "London Victoria Coach Station",
                "departure_at": "2026-12-20T08:00:00+00:00",
                "departure_local": "08:00",
            },
            "description": "Where a trip booking boards: station_id, code, name, "
            "departure_at (UTC), departure_local.",
        },
    )
    to_stop = fields.Method(
        "_to_stop",
        dump_only=True,
        data_key="to",
        metadata={
            "type": "object",
            "nullable": True,
            "example": {
                "station_id": 9,
                "code": "FRPARBER",
                "name": "Paris Bercy Seine",
                "arrival_at": "2026-12-20T16:30:00+00:00",
                "arrival_local": "17:30",
            },
            "description": "Where a trip booking alights: station_id, code, name, "
            "arrival_at (UTC), arrival_local.",
        },
    )
    seat_labels = fields.Method(
        "_seat_labels",
        dump_only=True,
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "nullable": True,
            "example": ["3A", "3B"],
        },
    )
    passengers = fields.Method(
        "_passengers",
        dump_only=True,
        metadata={
            "type": "array",
            "items": {"type": "object"},
            "nullable": True,
            "example": [
                {
                    "name": "Clara Byrne",
                    "birth_date": "1988-04-17",
                    "category": "adult",
                    "unit_price": "42.00",
                    "document_type": "passport",
                    "document_number": "PA1234567",
                    "nationality": "IE",
                    "seat_label": "3A",
                }
            ],
            "description": "A trip booking's passengers: name, birth_date, "
            "category, unit_price, document_type, document_number, nationality, "
            "seat_label (null for an infant); null for a package booking.",
        },
    )
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    def _invoice_id(self, booking):
        """The id of the booking's invoice (null for a booking made before invoices)."""
        return booking.invoice.id if booking.invoice is not None else None

    def _invoice_number(self, booking):
        """The number of the booking's invoice, e.g. INV-2026-000042, or null."""
        return booking.invoice.number if booking.invoice is not None else None

    def _package_id(self, booking):
        """The package of a package booking's departure, else None."""
        return booking.departure.package_id if booking.departure else None

    def _package_title(self, booking):
        """The title of a package booking's package, else None."""
        return booking.departure.package.title if booking.departure else None

    def _start_date(self, booking):
        """The start date of a package booking's departure (ISO), else None."""
        departure = booking.departure
        return departure.start_date.isoformat() if departure else None

    def _trip(self, booking):
        """The trip of a trip booking as a small object, else None."""
        trip = booking.trip
        if booking.kind != "trip" or trip is None:
            return None
        return {
            "id": trip.id,
            "route_id": trip.route_id,
            "route_code": trip.route.code,
            "route_name": trip.route.name,
            "service_date": trip.service_date.isoformat(),
            "departure_at": trip.departure_at.isoformat(),
            "arrival_at": trip.arrival_at.isoformat(),
            "status": trip.status,
        }

    @staticmethod
    def _call(booking, sequence):
        """The trip's stop time at `sequence`."""
        for stop in booking.trip.stop_times:
            if stop.sequence == sequence:
                return stop
        return None

    def _from_stop(self, booking):
        """The boarding station and time of a trip booking, else None."""
        if booking.kind != "trip":
            return None
        stop = self._call(booking, booking.from_sequence)
        station = booking.from_station
        return {
            "station_id": station.id,
            "code": station.code,
            "name": station.name,
            "departure_at": stop.departure_at.isoformat(),
            "departure_local": stop.departure_local,
        }

    def _to_stop(self, booking):
        """The alighting station and time of a trip booking, else None."""
        if booking.kind != "trip":
            return None
        stop = self._call(booking, booking.to_sequence)
        station = booking.to_station
        return {
            "station_id": station.id,
            "code": station.code,
            "name": station.name,
            "arrival_at": stop.arrival_at.isoformat(),
            "arrival_local": stop.arrival_local,
        }

    def _seat_labels(self, booking):
        """The seats of a trip booking in passenger order, else None."""
        if booking.kind != "trip":
            return None
        return [t.seat_label for t in booking.travellers if t.seat_label]

    def _passengers(self, booking):
        """A trip booking's passengers with documents and seats, else None."""
        if booking.kind != "trip":
            return None
        return PassengerSchema(many=True).dump(booking.travellers)

    def _hold_expires_at(self, booking):
        """ISO 8601 expiry of a live hold, else None."""
        if booking.current_status != "held" or booking.hold_expires_at is None:
            return None
        return booking.hold_expires_at.isoformat()


class BookingQueryArgs(PageArgs):
    """`?status=&customer_id=&departure_id=` filters and `sort=` (created_at,
    total_amount, seats; `-` for descending)."""

    status = fields.String(validate=validate.OneOf(BOOKING_STATUSES))
    customer_id = fields.Integer(validate=ID)
    departure_id = fields.Integer(validate=ID)
    kind = fields.String(validate=validate.OneOf(BOOKING_KINDS))
    trip_id = fields.Integer(validate=ID)
    company_id = fields.Integer(
        validate=ID, metadata={"description": "Trip bookings of this company."}
    )
    travel_date = FilterDate(
        metadata={"description": "A trip's service date or a departure's start."}
    )
    when = fields.String(
        validate=validate.OneOf(("upcoming", "past")),
        metadata={"description": "Trips or departures from now on, or before."},
    )
    sort = sort_field("created_at", "total_amount", "seats")
