"""Schedules: a route's service pattern (docs/transport.md "Schedules"; GTFS
calendar.txt + calendar_dates.txt, https://gtfs.org/schedule/reference/) and the
generation of its trips.

A schedule runs on `weekdays` (seven digits, Monday first: `"1111100"` is Monday to
Friday) from `start_date` to `end_date` (at most 366 days, both included), plus
`added_dates` (calendar_dates exception_type 1) minus `removed_dates` (exception_type
2), both inside the range. Its stop-time pattern follows the route's stops like a
trip's (services.transport.trips). `generate_trips` creates the trips of every
service date up to a date, at most one per date (UNIQUE schedule_id + service_date),
so running it again creates nothing new. Edits apply to trips generated afterwards;
trips already generated keep their times.
"""

from datetime import date, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import joinedload

from core.errors import NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Schedule, StopTime, TransportRoute, Trip
from services.audit import audit
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import commit_or_conflict
from services.transport import trips
from services.transport.access import check_company, company_scope, require_manager

SORTABLE = ("created_at", "start_date", "end_date")
# docs/transport.md "Schedules": a calendar covers at most this many days.
MAX_SPAN_DAYS = 366
EDITABLE = (
    "vehicle_id",
    "stop_times",
    "weekdays",
    "start_date",
    "end_date",
    "added_dates",
    "removed_dates",
    "headsign",
)


# --- calendar -------------------------------------------------------------------


def service_dates(schedule: Schedule, last: date) -> list[date]:
    """The service dates of `schedule` from its start_date up to `last` (inclusive,
    itself capped at end_date): days whose weekday digit is "1", plus added_dates,
    minus removed_dates (GTFS calendar + calendar_dates), ascending."""
    last = min(last, schedule.end_date)
    added = {date.fromisoformat(each) for each in schedule.added_dates or ()}
    removed = {date.fromisoformat(each) for each in schedule.removed_dates or ()}
    dates = []
    day = schedule.start_date
    while day <= last:
        runs = schedule.weekdays[day.weekday()] == "1" or day in added
        if runs and day not in removed:
            dates.append(day)
        day += timedelta(days=1)
    return dates


def _check_calendar(
    start: date, end: date, added: list[date], removed: list[date]
) -> None:
    """ValidationFailed (422) unless start <= end, the range covers at most
    MAX_SPAN_DAYS days, added and removed dates lie inside it and no date is both
    added and removed (docs/transport.md "Schedules")."""
    errors = {}
    if end < start:
        errors["end_date"] = [_("Must be on or after start_date.")]
    elif (end - start).days + 1 > MAX_SPAN_DAYS:
        errors["end_date"] = [
            _(
                "At most %(days)s days from start_date, both included.",
                days=MAX_SPAN_DAYS,
            )
        ]
    for field, dates in (("added_dates", added), ("removed_dates", removed)):
        outside = sorted(str(day) for day in dates if not start <= day <= end)
        if outside:
            errors[field] = [
                _(
                    "Outside start_date..end_date (%(start)s..%(end)s): %(dates)s.",
                    start=start,
                    end=end,
                    dates=", ".join(outside),
                )
            ]
    both = sorted(str(day) for day in set(added) & set(removed))
    if both:
        errors["removed_dates"] = [
            _("Both added and removed: %(dates)s.", dates=", ".join(both))
        ]
    if errors:
        raise ValidationFailed(errors)


def _iso_list(dates) -> list[str]:
    """Sorted, distinct ISO texts of `dates` (date objects or ISO text)."""
    return sorted({str(day) for day in dates})


def _check_pattern(route: TransportRoute, schedule: Schedule) -> list:
    """Validate the schedule's pattern against its route and on every service date
    of its calendar (the UTC order can change with a clock change between two
    stations' zones); returns the parsed pattern. ValidationFailed (422)."""
    calls = trips.pattern(route, schedule.stop_times)
    for day in service_dates(schedule, schedule.end_date):
        trips.instants(calls, day)
    return calls


def _stored_pattern(calls) -> list[dict]:
    """The pattern as the schedule keeps it: `[{station_id, arrival, departure}]`
    with normalised local texts."""
    return [
        {"station_id": c.station_id, "arrival": c.arrival, "departure": c.departure}
        for c in calls
    ]


# --- reads ----------------------------------------------------------------------


def list_schedules(
    *,
    actor,
    route_id: int | None = None,
    vehicle_id: int | None = None,
    active_on: date | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of the schedules `actor` may see (an operator: its company's),
    newest first unless `sort` (SORTABLE); filters route, vehicle and `active_on`
    (start_date <= active_on <= end_date). ValidationFailed (422) on a bad sort or
    cursor."""
    stmt = select(Schedule).options(joinedload(Schedule.route))
    scope = company_scope(actor)
    if scope is not None:
        stmt = stmt.where(
            Schedule.route_id.in_(
                select(TransportRoute.id).where(TransportRoute.company_id == scope)
            )
        )
    if route_id is not None:
        stmt = stmt.where(Schedule.route_id == route_id)
    if vehicle_id is not None:
        stmt = stmt.where(Schedule.vehicle_id == vehicle_id)
    if active_on is not None:
        stmt = stmt.where(
            Schedule.start_date <= active_on, Schedule.end_date >= active_on
        )
    stmt = order_by_sort(stmt, Schedule, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_schedule(*, actor, schedule_id: int) -> Schedule:
    """The schedule `schedule_id`; NotFound (404) when it does not exist or is
    another company's and `actor` is an operator."""
    schedule = db.session.get(
        Schedule,
        schedule_id,
        options=[joinedload(Schedule.route)],
        populate_existing=True,
    )
    if schedule is None:
        raise NotFound("Schedule")
    check_company(actor, schedule.route.company_id, "Schedule")
    return schedule


def _schedule_for_write(actor, schedule_id: int, *, lock: bool = False) -> Schedule:
    """get_schedule for a manager (Forbidden 403 otherwise); `lock` takes the
    row lock (PostgreSQL) so two generations of one schedule run one after the
    other."""
    require_manager(actor)
    schedule = get_schedule(actor=actor, schedule_id=schedule_id)
    if lock:
        db.session.execute(
            select(Schedule.id).where(Schedule.id == schedule.id).with_for_update()
        )
    return schedule


# --- writes ---------------------------------------------------------------------


def create_schedule(
    *,
    actor,
    route_id: int,
    stop_times: list[dict],
    weekdays: str,
    start_date: date,
    end_date: date,
    vehicle_id: int | None = None,
    added_dates: list[date] | None = None,
    removed_dates: list[date] | None = None,
    headsign: str | None = None,
    facts: audit.RequestFacts | None = None,
) -> Schedule:
    """Create a schedule of route `route_id` and commit (no trips yet: see
    generate_trips).

    Raises Forbidden (403) for a non-manager; NotFound (404) for an unknown route
    or another company's (operator); ValidationFailed (422) for the vehicle (see
    trips.check_vehicle), the calendar (_check_calendar) or a pattern that does not
    follow the route or goes backwards in UTC on one of its dates
    (docs/transport.md "Schedules")."""
    route = trips.route_for_write(actor, route_id)
    trips.check_vehicle(route, vehicle_id)
    added, removed = added_dates or [], removed_dates or []
    _check_calendar(start_date, end_date, added, removed)
    schedule = Schedule(
        route_id=route.id,
        vehicle_id=vehicle_id,
        stop_times=stop_times,
        weekdays=weekdays,
        start_date=start_date,
        end_date=end_date,
        added_dates=_iso_list(added),
        removed_dates=_iso_list(removed),
        headsign=headsign,
    )
    schedule.stop_times = _stored_pattern(_check_pattern(route, schedule))
    db.session.add(schedule)
    db.session.flush()
    audit.record(
        "schedule.created",
        entity_type="transport_schedule",
        entity_id=schedule.id,
        facts=facts,
        actor=actor,
        details={"route_id": route.id, "start_date": start_date, "end_date": end_date},
    )
    db.session.commit()
    return get_schedule(actor=actor, schedule_id=schedule.id)


def update_schedule(
    *,
    actor,
    schedule_id: int,
    changes: dict,
    facts: audit.RequestFacts | None = None,
) -> Schedule:
    """Apply `changes` (EDITABLE fields; lists replace whole lists) and commit,
    after checking the merged schedule like create_schedule does. Trips generated
    before keep their times and vehicle (docs/transport.md "Schedules").

    Raises Forbidden (403), NotFound (404), ValidationFailed (422)."""
    schedule = _schedule_for_write(actor, schedule_id)
    route = trips.route_for_write(actor, schedule.route_id)
    changes = {key: value for key, value in changes.items() if key in EDITABLE}
    if "vehicle_id" in changes:
        trips.check_vehicle(route, changes["vehicle_id"])
    start = changes.get("start_date", schedule.start_date)
    end = changes.get("end_date", schedule.end_date)
    added = changes.get("added_dates")
    removed = changes.get("removed_dates")
    added = _dates(schedule.added_dates) if added is None else added
    removed = _dates(schedule.removed_dates) if removed is None else removed
    _check_calendar(start, end, added, removed)
    for key, value in changes.items():
        setattr(schedule, key, value)
    schedule.added_dates = _iso_list(added)
    schedule.removed_dates = _iso_list(removed)
    schedule.stop_times = _stored_pattern(_check_pattern(route, schedule))
    audit.record(
        "schedule.updated",
        entity_type="transport_schedule",
        entity_id=schedule.id,
        facts=facts,
        actor=actor,
        details={"fields": sorted(changes)},
    )
    db.session.commit()
    return get_schedule(actor=actor, schedule_id=schedule.id)


def _dates(texts) -> list[date]:
    """Dates of a stored list of ISO texts."""
    return [date.fromisoformat(text) for text in texts or ()]


def delete_schedule(
    *, actor, schedule_id: int, facts: audit.RequestFacts | None = None
) -> None:
    """Delete a schedule and commit. The trips it generated stay, as one-off trips
    (their `schedule_id` becomes null; cancel or delete them one by one:
    docs/transport.md "Schedules"). Raises Forbidden (403), NotFound (404)."""
    schedule = _schedule_for_write(actor, schedule_id)
    audit.record(
        "schedule.deleted",
        entity_type="transport_schedule",
        entity_id=schedule.id,
        facts=facts,
        actor=actor,
        details={"route_id": schedule.route_id},
    )
    db.session.execute(
        update(Trip)
        .where(Trip.schedule_id == schedule.id)
        .values(schedule_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.delete(schedule)
    db.session.commit()


def generate_trips(
    *,
    actor,
    schedule_id: int,
    until: date,
    facts: audit.RequestFacts | None = None,
) -> dict:
    """Create the trips of schedule `schedule_id` for its service dates from
    start_date up to min(`until`, end_date) (service_dates), skipping dates that
    already have a trip of this schedule, in one transaction; the stop times are
    inserted in bulk. Returns `{"created", "skipped", "until", "trip_ids"}`.
    Running it twice creates nothing the second time (docs/transport.md
    "Schedules").

    Raises Forbidden (403), NotFound (404); ValidationFailed (422) when the route's
    stops changed since and the pattern no longer follows them; Conflict (409)
    when a concurrent generation of the same schedule inserted a date first (UNIQUE
    schedule_id + service_date; run it again)."""
    schedule = _schedule_for_write(actor, schedule_id, lock=True)
    route = trips.route_for_write(actor, schedule.route_id)
    last = min(until, schedule.end_date)
    dates = service_dates(schedule, last)
    existing = set(
        db.session.scalars(
            select(Trip.service_date).where(
                Trip.schedule_id == schedule.id,
                Trip.service_date >= schedule.start_date,
                Trip.service_date <= last,
            )
        )
    )
    new_dates = [day for day in dates if day not in existing]
    calls = trips.pattern(route, schedule.stop_times) if new_dates else []
    per_date = [trips.instants(calls, day) for day in new_dates]
    trip_ids = _insert_trips(schedule, new_dates, per_date)
    audit.record(
        "schedule.generated",
        entity_type="transport_schedule",
        entity_id=schedule.id,
        facts=facts,
        actor=actor,
        details={"until": last, "created": len(trip_ids)},
    )
    commit_or_conflict(
        "Another generation of this schedule ran at the same time; run it again.",
        code="schedule-generation-conflict",
    )
    return {
        "created": len(trip_ids),
        "skipped": len(dates) - len(new_dates),
        "until": last,
        "trip_ids": trip_ids,
    }


def _insert_trips(
    schedule: Schedule, dates: list[date], per_date: list[list[dict]]
) -> list[int]:
    """INSERT one trip per date (RETURNING the ids, in order) and all their stop
    times in one executemany; returns the new trip ids."""
    if not dates:
        return []
    trip_rows = [
        {
            "route_id": schedule.route_id,
            "vehicle_id": schedule.vehicle_id,
            "schedule_id": schedule.id,
            "service_date": day,
            "status": "scheduled",
            "headsign": schedule.headsign,
            "gtfs_trip_id": None,
            "departure_at": rows[0]["departure_at"],
            "arrival_at": rows[-1]["arrival_at"],
        }
        for day, rows in zip(dates, per_date, strict=True)
    ]
    result = db.session.execute(
        insert(Trip).returning(Trip.id, sort_by_parameter_order=True), trip_rows
    )
    trip_ids = list(result.scalars())
    stop_rows = [
        {**row, "trip_id": trip_id}
        for trip_id, rows in zip(trip_ids, per_date, strict=True)
        for row in rows
    ]
    db.session.execute(insert(StopTime), stop_rows)
    return trip_ids
