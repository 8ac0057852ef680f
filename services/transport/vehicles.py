"""Vehicles of the transport companies: listing, creation, edits and deletion, with
their amenities and their sections' seat maps (docs/transport.md "Vehicles and seat
maps").

Rules: the registration is unique within the company (409 `registration-taken`);
amenities are known amenity codes (422); section codes and seat labels are unique
in the whole vehicle (422 naming the duplicate); a section's capacity is its seat
count. Sections may be replaced, but a seat sold on a future trip cannot disappear
(409 `seat-sold`, see `sold_seats`). A vehicle that trips or schedules use cannot be
deleted, nor change its mode (409 `vehicle-in-use`). An `operator` sees and manages
only its own company's vehicles; another company's answer 404
(services.transport.access).
"""

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from core.errors import N_, Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import (
    Amenity,
    Booking,
    Schedule,
    SeatSegment,
    TransportCompany,
    Trip,
    Vehicle,
    VehicleSection,
)
from models.base import utcnow
from services.audit import audit
from services.shared.pagination import Page, order_by_sort, paginate
from services.shared.records import commit_or_conflict, text_matches
from services.transport import seating
from services.transport.access import (
    check_company,
    company_for_write,
    company_scope,
    require_manager,
)
from services.transport.records import any_exists

SORTABLE = ("created_at", "updated_at", "name", "registration")
EDITABLE = ("mode", "name", "registration", "active")
REGISTRATION_TAKEN = N_("The company already has a vehicle with this registration.")


# --- the seats sold (ticketing) --------------------------------------------------


def sold_seats(vehicle_id: int) -> dict[str, set[str]]:
    """The seats of vehicle `vehicle_id` that are sold on its trips that have not
    arrived yet, as `{section_code: {seat label, ...}}`: seats a live (or
    completed) booking occupies on any segment (services.transport.seating);
    `update_vehicle` refuses to drop any seat named here (docs/transport.md
    "Vehicles and seat maps")."""
    stmt = (
        select(SeatSegment.section_code, SeatSegment.seat_label)
        .join(Trip, Trip.id == SeatSegment.trip_id)
        .join(Booking, Booking.id == SeatSegment.booking_id)
        .where(
            Trip.vehicle_id == vehicle_id,
            Trip.arrival_at > utcnow(),
            seating.counting(utcnow()),
        )
        .distinct()
    )
    sold: dict[str, set[str]] = {}
    for code, label in db.session.execute(stmt):
        sold.setdefault(code, set()).add(label)
    return sold


# --- reads -----------------------------------------------------------------------


def list_vehicles(
    *,
    actor,
    company_id: int | None = None,
    mode: str | None = None,
    q: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of vehicles, newest first unless `sort` (one of SORTABLE, `-` for
    descending). An operator `actor` gets only its company's vehicles (a
    `company_id` naming another company gives an empty page). `q` matches the name
    or registration (case-insensitive substring). ValidationFailed (422) for an
    unknown sort field."""
    stmt = select(Vehicle).options(
        selectinload(Vehicle.sections), selectinload(Vehicle.amenities)
    )
    scope = company_scope(actor)
    if scope is not None:
        stmt = stmt.where(Vehicle.company_id == scope)
    if company_id is not None:
        stmt = stmt.where(Vehicle.company_id == company_id)
    if mode:
        stmt = stmt.where(Vehicle.mode == mode)
    if q:
        stmt = stmt.where(text_matches(q, Vehicle.name, Vehicle.registration))
    stmt = order_by_sort(stmt, Vehicle, sort, SORTABLE)
    return paginate(stmt, page=page, per_page=per_page, cursor=cursor)


def get_vehicle(*, actor, vehicle_id: int) -> Vehicle:
    """The vehicle `vehicle_id` as `actor` may see it; NotFound (404) when it does
    not exist or belongs to another company than an operator's own."""
    vehicle = db.session.get(Vehicle, vehicle_id)
    if vehicle is None:
        raise NotFound("Vehicle")
    check_company(actor, vehicle.company_id, "Vehicle")
    return vehicle


# --- writes ----------------------------------------------------------------------


def create_vehicle(
    *,
    actor,
    mode: str,
    name: str,
    registration: str,
    sections: list[dict],
    company_id: int | None = None,
    amenities: list[str] | None = None,
    active: bool = True,
) -> Vehicle:
    """Create and commit a vehicle of `company_id` (an operator's own company
    whatever it sends: services.transport.access.company_for_write).

    `sections` are `{code, name, seat_map}` with `seat_map = {"rows": [[label or
    None, ...], ...]}`; `amenities` amenity codes. Raises Forbidden (403) unless
    the actor manages transport data; NotFound (404) when an operator names another
    company; ValidationFailed (422) for a missing or unknown company, an unknown
    amenity, a section code or seat label used twice; Conflict (409,
    `registration-taken`) when the company has the registration already."""
    require_manager(actor)
    company_id = company_for_write(actor, company_id)
    if db.session.get(TransportCompany, company_id) is None:
        raise ValidationFailed({"company_id": [_("No such transport company.")]})
    registration = registration.strip()
    _check_registration(company_id, registration)
    vehicle = Vehicle(
        company_id=company_id,
        mode=mode,
        name=name.strip(),
        registration=registration,
        active=active,
        amenities=_amenities(amenities or []),
        sections=_sections(sections),
    )
    db.session.add(vehicle)
    commit_or_conflict(REGISTRATION_TAKEN, code="registration-taken")
    return vehicle


def update_vehicle(
    *,
    actor,
    vehicle_id: int,
    changes: dict,
) -> Vehicle:
    """Apply a partial edit (`changes`: mode, name, registration, active,
    amenities, sections) to the vehicle and commit; `sections`, when given,
    replace all sections.

    Raises Forbidden (403) for a non-manager; NotFound (404) as get_vehicle;
    ValidationFailed (422) as create_vehicle; Conflict (409) for a registration
    the company has already (`registration-taken`), a mode change of a vehicle
    that trips or schedules use (`vehicle-in-use`), and new sections that lose a
    seat sold on a future trip (`seat-sold`, naming the seats: `sold_seats`)."""
    require_manager(actor)
    vehicle = _locked(vehicle_id)
    check_company(actor, vehicle.company_id, "Vehicle")
    if "registration" in changes:
        changes["registration"] = changes["registration"].strip()
        if changes["registration"] != vehicle.registration:
            _check_registration(vehicle.company_id, changes["registration"])
    if changes.get("mode", vehicle.mode) != vehicle.mode and _in_use(vehicle.id):
        raise Conflict(
            _("Trips or schedules use this vehicle; its mode cannot change."),
            code="vehicle-in-use",
        )
    for field in EDITABLE:
        if field in changes:
            value = changes[field]
            setattr(vehicle, field, value.strip() if field == "name" else value)
    if "amenities" in changes:
        vehicle.amenities = _amenities(changes["amenities"])
    if "sections" in changes:
        new_sections = _sections(changes["sections"])
        _check_sold_seats_kept(vehicle.id, new_sections)
        # Delete the old rows first so a kept section code does not hit the UNIQUE.
        db.session.execute(
            delete(VehicleSection).where(VehicleSection.vehicle_id == vehicle.id)
        )
        db.session.expire(vehicle, ["sections"])
        vehicle.sections = new_sections
    commit_or_conflict(REGISTRATION_TAKEN, code="registration-taken")
    db.session.refresh(vehicle)
    return vehicle


def delete_vehicle(
    *, actor, vehicle_id: int, facts: audit.RequestFacts | None = None
) -> None:
    """Delete a vehicle no trip or schedule uses (its sections go with it) and
    commit; audited with the request `facts`. Raises Forbidden (403) for a
    non-manager; NotFound (404) as get_vehicle; Conflict (409, `vehicle-in-use`)
    when trips or schedules use it (set it `active: false` instead)."""
    require_manager(actor)
    vehicle = _locked(vehicle_id)
    check_company(actor, vehicle.company_id, "Vehicle")
    if _in_use(vehicle.id):
        raise Conflict(
            _(
                "Trips or schedules use this vehicle; it cannot be deleted "
                "(set active to false instead)."
            ),
            code="vehicle-in-use",
        )
    audit.record(
        "vehicle.deleted",
        entity_type="transport_vehicle",
        entity_id=vehicle.id,
        facts=facts,
        actor=actor,
        details={
            "company_id": vehicle.company_id,
            "registration": vehicle.registration,
        },
    )
    db.session.delete(vehicle)
    db.session.commit()


# --- helpers ---------------------------------------------------------------------


def _locked(vehicle_id: int) -> Vehicle:
    """The vehicle row, locked for this transaction on PostgreSQL (SQLite
    serialises writers); NotFound (404) when missing."""
    vehicle = db.session.scalar(
        select(Vehicle)
        .where(Vehicle.id == vehicle_id)
        .with_for_update(of=Vehicle)
        .execution_options(populate_existing=True)
    )
    if vehicle is None:
        raise NotFound("Vehicle")
    return vehicle


def _in_use(vehicle_id: int) -> bool:
    """True when a trip or a schedule names the vehicle."""
    return any_exists(
        select(Trip.id).where(Trip.vehicle_id == vehicle_id),
        select(Schedule.id).where(Schedule.vehicle_id == vehicle_id),
    )


def _check_registration(company_id: int, registration: str) -> None:
    """Conflict (409, `registration-taken`) when the company has a vehicle with
    `registration` (the UNIQUE constraint catches a concurrent twin at commit)."""
    taken = db.session.scalar(
        select(Vehicle.id).where(
            Vehicle.company_id == company_id, Vehicle.registration == registration
        )
    )
    if taken is not None:
        raise Conflict(REGISTRATION_TAKEN, code="registration-taken")


def _amenities(codes: list[str]) -> list[Amenity]:
    """The Amenity rows of `codes` (repeats ignored); ValidationFailed (422) naming
    the codes that are not amenities."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return []
    found = {
        amenity.code: amenity
        for amenity in db.session.scalars(
            select(Amenity).where(Amenity.code.in_(wanted))
        )
    }
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise ValidationFailed(
            {
                "amenities": [
                    _("Unknown amenity code(s): %(codes)s.", codes=", ".join(unknown))
                ]
            }
        )
    return [found[code] for code in wanted]


def seat_labels(seat_map: dict) -> list[str]:
    """The seat labels of a seat map `{"rows": [[label or None, ...], ...]}`, front
    to back, left to right (aisles skipped)."""
    return [label for row in seat_map["rows"] for label in row if label is not None]


def _sections(sections: list[dict]) -> list[VehicleSection]:
    """VehicleSection rows for `sections` (`{code, name, seat_map}`), in order,
    each with its capacity = its seat count.

    ValidationFailed (422) when a section code repeats (`sections.<i>.code`) or a
    seat label appears twice in the vehicle, across sections too
    (`sections.<i>.seat_map`, naming the label)."""
    errors: dict[str, list[str]] = {}
    codes: set[str] = set()
    labels: dict[str, str] = {}
    rows = []
    for index, section in enumerate(sections):
        code = section["code"]
        if code in codes:
            errors[f"sections.{index}.code"] = [
                _("Section code %(code)s appears more than once.", code=code)
            ]
        codes.add(code)
        seats = seat_labels(section["seat_map"])
        for label in seats:
            if label in labels:
                errors.setdefault(f"sections.{index}.seat_map", []).append(
                    _(
                        "Seat %(label)s appears more than once in the vehicle "
                        "(also in section %(section)s).",
                        label=label,
                        section=labels[label],
                    )
                )
            labels.setdefault(label, code)
        rows.append(
            VehicleSection(
                code=code,
                name=section["name"].strip(),
                seat_map={"rows": section["seat_map"]["rows"]},
                capacity=len(seats),
                position=index,
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return rows


def _check_sold_seats_kept(vehicle_id: int, new_sections: list[VehicleSection]):
    """Conflict (409, `seat-sold`) when a seat sold on a future trip of the vehicle
    (`sold_seats`) is not in the section of the same code in `new_sections`; the
    problem's `seats` lists them as `section:label`."""
    sold = sold_seats(vehicle_id)
    if not sold:
        return
    kept = {
        section.code: set(seat_labels(section.seat_map)) for section in new_sections
    }
    lost = sorted(
        f"{code}:{label}"
        for code, labels in sold.items()
        for label in labels
        if label not in kept.get(code, set())
    )
    if lost:
        raise Conflict(
            _(
                "Seats sold on future trips would disappear: %(seats)s.",
                seats=", ".join(lost),
            ),
            code="seat-sold",
            extra={"seats": lost},
        )
