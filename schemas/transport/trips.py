"""Trip and schedule schemas (docs/transport.md "Trips" and "Schedules"; GTFS
trips.txt, stop_times.txt, calendar.txt and calendar_dates.txt,
https://gtfs.org/schedule/reference/).

Stop times travel as local `HH:MM` (or `HH:MM:SS`) text of each station's own
timezone, GTFS style: hours may pass 24 for a trip running past midnight. The
schema checks the shape; the service parses the time (at most 48 hours) and checks
the order in UTC.
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from models.billing import REFUND_DESTINATIONS
from models.booking import BOOKING_STATUSES
from models.transport import TRIP_STATUSES
from schemas.catalogue.translations import Localized
from schemas.common import (
    ID,
    NO_NUL,
    FilterDate,
    Money,
    PageArgs,
    StrictBoolean,
    not_blank,
    sort_field,
)

# GTFS "Time" (https://gtfs.org/schedule/reference/#field-types): H:MM, HH:MM or
# HH:MM:SS, hours beyond 23 allowed (the service caps them at 48).
TIME = validate.Regexp(
    r"^\d{1,2}:[0-5]\d(:[0-5]\d)?$",
    error="Use local time HH:MM or HH:MM:SS (hours past 24 for the next day).",
)
HEADSIGN = validate.Length(max=160)
MAX_STOPS = 500
# docs/transport.md "Schedules": a calendar spans at most 366 days, both ends
# included.
MAX_SPAN_DAYS = 366
WEEKDAYS = validate.Regexp(
    r"^[01]{7}$",
    error='Seven digits 0/1, Monday first: "1111100" runs Monday to Friday.',
)
TRIP_SORTABLE = ("departure_at", "service_date", "created_at")
SCHEDULE_SORTABLE = ("created_at", "start_date", "end_date")


class StopTimeInSchema(Schema):
    """One call of a trip or pattern: the station and its local arrival and
    departure (`HH:MM` in the station's timezone). Either time may be left out and
    then equals the other (the first stop's arrival, the last stop's departure)."""

    station_id = fields.Integer(
        required=True, strict=True, validate=ID, metadata={"example": 1}
    )
    arrival = fields.String(validate=TIME, metadata={"example": "23:30"})
    departure = fields.String(validate=TIME, metadata={"example": "23:35"})

    @validates_schema
    def _one_time(self, data, **kwargs):
        """At least one of arrival and departure."""
        if "arrival" not in data and "departure" not in data:
            raise ValidationError("Give arrival, departure or both.", "arrival")


STOP_TIMES = validate.Length(
    min=2, max=MAX_STOPS, error="Between 2 and 500 stop times, one per route stop."
)


class StopTimeSchema(Schema):
    """A trip's call as answered: local GTFS text of the station's timezone
    (`arrival`, `departure`, hours may pass 24) and the aware UTC instants."""

    sequence = fields.Integer(metadata={"example": 0})
    station_id = fields.Integer(metadata={"example": 1})
    station_code = fields.String(attribute="station.code", metadata={"example": "LON"})
    station_name = Localized(
        attribute="station.name",
        translations="station.translations",
        key="name",
        metadata={
            "example": "London St Pancras",
            "description": "In the caller's language, else the original.",
        },
    )
    timezone = fields.String(
        attribute="station.timezone", metadata={"example": "Europe/London"}
    )
    arrival = fields.String(attribute="arrival_local", metadata={"example": "23:30"})
    departure = fields.String(
        attribute="departure_local", metadata={"example": "23:30"}
    )
    arrival_at = fields.DateTime(metadata={"example": "2030-06-01T22:30:00+00:00"})
    departure_at = fields.DateTime(metadata={"example": "2030-06-01T22:30:00+00:00"})


class TripSchema(Schema):
    """A trip as lists show it (without its stop times)."""

    id = fields.Integer(dump_only=True)
    route_id = fields.Integer(metadata={"example": 1})
    company_id = fields.Integer(attribute="route.company_id", metadata={"example": 1})
    mode = fields.String(attribute="route.mode", metadata={"example": "train"})
    vehicle_id = fields.Integer(allow_none=True, metadata={"example": 1})
    schedule_id = fields.Integer(allow_none=True, metadata={"example": None})
    service_date = fields.Date(metadata={"example": "2030-06-01"})
    status = fields.String(
        metadata={"enum": list(TRIP_STATUSES), "example": "scheduled"}
    )
    headsign = fields.String(allow_none=True, metadata={"example": "Paris Nord"})
    gtfs_trip_id = fields.String(allow_none=True, metadata={"example": None})
    departure_at = fields.DateTime(metadata={"example": "2030-06-01T22:30:00+00:00"})
    arrival_at = fields.DateTime(metadata={"example": "2030-06-02T00:15:00+00:00"})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class TripDetailSchema(TripSchema):
    """A trip with its stop times in order."""

    stop_times = fields.List(fields.Nested(StopTimeSchema))


class TripCreateSchema(Schema):
    """A new trip (status `scheduled`): its route, optional vehicle (of the route's
    company and mode), service date and one stop time per route stop, in the
    route's order, local to each station."""

    route_id = fields.Integer(
        required=True, strict=True, validate=ID, metadata={"example": 1}
    )
    vehicle_id = fields.Integer(
        allow_none=True, strict=True, validate=ID, metadata={"example": 1}
    )
    service_date = FilterDate(required=True, metadata={"example": "2030-06-01"})
    stop_times = fields.List(
        fields.Nested(StopTimeInSchema), required=True, validate=STOP_TIMES
    )
    headsign = fields.String(
        allow_none=True, validate=[HEADSIGN, NO_NUL], metadata={"example": "Paris"}
    )


class TripUpdateSchema(Schema):
    """A status step (`scheduled` -> `departed` -> `arrived`, `scheduled` ->
    `cancelled`), another vehicle (null: none) or headsign."""

    status = fields.String(validate=validate.OneOf(TRIP_STATUSES))
    vehicle_id = fields.Integer(
        allow_none=True, strict=True, validate=ID, metadata={"example": 2}
    )
    headsign = fields.String(
        allow_none=True, validate=[HEADSIGN, NO_NUL], metadata={"example": "Paris"}
    )


def _check_range(data: dict, low: str, high: str) -> None:
    """ValidationError on `high` when both dates are given and high < low."""
    if low in data and high in data and data[high] < data[low]:
        raise ValidationError(f"Must be on or after {low}.", high)


class TripQueryArgs(PageArgs):
    """Trip filters: `route_id`, `vehicle_id`, `service_date`, `date_from` /
    `date_to` (service dates, both included), `status`; `sort` (default
    `departure_at`, earliest first)."""

    route_id = fields.Integer(validate=ID)
    vehicle_id = fields.Integer(validate=ID)
    schedule_id = fields.Integer(validate=ID)
    service_date = FilterDate()
    date_from = FilterDate()
    date_to = FilterDate()
    status = fields.String(validate=validate.OneOf(TRIP_STATUSES))
    sort = sort_field(*TRIP_SORTABLE)

    @validates_schema
    def _dates(self, data, **kwargs):
        """date_to on or after date_from."""
        _check_range(data, "date_from", "date_to")


# --- schedules ------------------------------------------------------------------


class PatternStopSchema(Schema):
    """A stop of a schedule's pattern as answered."""

    station_id = fields.Integer(metadata={"example": 1})
    arrival = fields.String(metadata={"example": "08:00"})
    departure = fields.String(metadata={"example": "08:05"})


class ScheduleSchema(Schema):
    """A schedule (GTFS calendar + calendar_dates and a stop-time pattern)."""

    id = fields.Integer(dump_only=True)
    route_id = fields.Integer(metadata={"example": 1})
    company_id = fields.Integer(attribute="route.company_id", metadata={"example": 1})
    vehicle_id = fields.Integer(allow_none=True, metadata={"example": 1})
    stop_times = fields.List(fields.Nested(PatternStopSchema))
    weekdays = fields.String(metadata={"example": "1111100"})
    start_date = fields.Date(metadata={"example": "2030-06-01"})
    end_date = fields.Date(metadata={"example": "2030-12-31"})
    added_dates = fields.List(fields.String(), metadata={"example": ["2030-06-08"]})
    removed_dates = fields.List(fields.String(), metadata={"example": ["2030-08-15"]})
    headsign = fields.String(allow_none=True, metadata={"example": "Killarney"})
    gtfs_service_id = fields.String(allow_none=True, metadata={"example": None})
    gtfs_trip_id = fields.String(allow_none=True, metadata={"example": None})
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


DATE_LIST = validate.Length(max=MAX_SPAN_DAYS)


def _check_span(data: dict) -> None:
    """end_date on or after start_date, at most MAX_SPAN_DAYS days (both ends
    included)."""
    _check_range(data, "start_date", "end_date")
    if "start_date" not in data or "end_date" not in data:
        return
    if (data["end_date"] - data["start_date"]).days + 1 > MAX_SPAN_DAYS:
        raise ValidationError(
            f"At most {MAX_SPAN_DAYS} days from start_date, both included.",
            "end_date",
        )


class ScheduleCreateSchema(Schema):
    """A new schedule: route, optional vehicle, the stop-time pattern (one stop
    time per route stop, in order, local to each station), `weekdays` as seven
    digits Monday first (`"1111100"`: Monday to Friday; GTFS calendar.txt),
    `start_date` / `end_date` (at most 366 days, both included), `added_dates` /
    `removed_dates` (GTFS calendar_dates exception_type 1 / 2, inside the range)."""

    route_id = fields.Integer(
        required=True, strict=True, validate=ID, metadata={"example": 1}
    )
    vehicle_id = fields.Integer(
        allow_none=True, strict=True, validate=ID, metadata={"example": 1}
    )
    stop_times = fields.List(
        fields.Nested(StopTimeInSchema), required=True, validate=STOP_TIMES
    )
    weekdays = fields.String(
        required=True, validate=WEEKDAYS, metadata={"example": "1111100"}
    )
    start_date = FilterDate(required=True, metadata={"example": "2030-06-01"})
    end_date = FilterDate(required=True, metadata={"example": "2030-12-31"})
    added_dates = fields.List(
        FilterDate(),
        load_default=list,
        validate=DATE_LIST,
        metadata={"example": ["2030-06-08"]},
    )
    removed_dates = fields.List(
        FilterDate(),
        load_default=list,
        validate=DATE_LIST,
        metadata={"example": ["2030-08-15"]},
    )
    headsign = fields.String(
        allow_none=True,
        validate=[HEADSIGN, NO_NUL],
        metadata={"example": "Killarney"},
    )

    @validates_schema
    def _span(self, data, **kwargs):
        """The calendar's range."""
        _check_span(data)


class ScheduleUpdateSchema(Schema):
    """Partial update of a schedule (its route stays); lists given replace the
    whole list. Trips generated before keep their times."""

    vehicle_id = fields.Integer(allow_none=True, strict=True, validate=ID)
    stop_times = fields.List(fields.Nested(StopTimeInSchema), validate=STOP_TIMES)
    weekdays = fields.String(validate=WEEKDAYS, metadata={"example": "1111111"})
    start_date = FilterDate()
    end_date = FilterDate()
    added_dates = fields.List(
        FilterDate(), validate=DATE_LIST, metadata={"example": ["2030-06-08"]}
    )
    removed_dates = fields.List(
        FilterDate(), validate=DATE_LIST, metadata={"example": []}
    )
    headsign = fields.String(
        allow_none=True,
        validate=[HEADSIGN, NO_NUL],
        metadata={"example": "Killarney"},
    )

    @validates_schema
    def _span(self, data, **kwargs):
        """The calendar's range, when both ends are given."""
        _check_span(data)


class ScheduleQueryArgs(PageArgs):
    """Schedule filters: `route_id`, `vehicle_id`, `active_on` (a date inside
    start_date..end_date); `sort` (default newest first)."""

    route_id = fields.Integer(validate=ID)
    vehicle_id = fields.Integer(validate=ID)
    active_on = FilterDate()
    sort = sort_field(*SCHEDULE_SORTABLE)


class GenerateSchema(Schema):
    """The last service date to create trips for (the schedule's end_date caps
    it)."""

    until = FilterDate(required=True, metadata={"example": "2030-06-30"})


class GenerateResultSchema(Schema):
    """What a generation did: `created` trips (their ids in `trip_ids`), `skipped`
    service dates that already had a trip of this schedule, and the last date
    looked at (`until`, min(until, end_date))."""

    created = fields.Integer(metadata={"example": 22})
    skipped = fields.Integer(metadata={"example": 0})
    until = fields.Date(metadata={"example": "2030-06-30"})
    trip_ids = fields.List(fields.Integer(), metadata={"example": [41, 42]})


# --- cancelling a trip with its bookings ------------------------------------------


class TripCancelSchema(Schema):
    """Cancel a trip with every booking on it (docs/transport.md "Cancelling a
    trip"): each refunded in full to `refund_to`. `preview: true` changes nothing."""

    reason = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=1000), not_blank()],
        metadata={"example": "The coach broke down"},
    )
    preview = StrictBoolean(load_default=False, metadata={"example": True})
    refund_to = fields.String(
        load_default="original",
        validate=validate.OneOf(REFUND_DESTINATIONS),
        metadata={"example": "original"},
    )


class TripCancelLineSchema(Schema):
    """One booking of a trip cancellation and what it gets back."""

    booking_id = fields.Integer()
    reference = fields.String(metadata={"example": "ET-7KQ2MZ"})
    customer_id = fields.Integer()
    status = fields.String(
        metadata={"enum": list(BOOKING_STATUSES), "example": "confirmed"}
    )
    passengers = fields.Integer(metadata={"example": 2})
    refund_amount = Money()
    refund_to = fields.String(metadata={"enum": list(REFUND_DESTINATIONS)})
    currency = fields.String()


class TripCancellationSchema(Schema):
    """A trip cancellation (preview or done): the bookings and their refunds.
    `currency` is the bookings' currency (null without bookings, or when several
    were sold; `total_refund` is then null too)."""

    trip_id = fields.Integer()
    reason = fields.String(metadata={"example": "The coach broke down"})
    refund_to = fields.String(metadata={"enum": list(REFUND_DESTINATIONS)})
    bookings = fields.List(fields.Nested(TripCancelLineSchema))
    total_refund = Money(allow_none=True)
    currency = fields.String(allow_none=True)
    cancelled = fields.Boolean(metadata={"example": False})
