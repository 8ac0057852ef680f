"""The transport network and its timetable, modelled on GTFS Schedule
(https://gtfs.org/schedule/reference/; docs/transport.md): companies (GTFS agency)
with vehicles divided into sections with seat maps, cities and stations (GTFS stops,
with their IANA timezone and parent station), routes (an ordered list of stations),
fares per origin-destination pair and section, schedules (GTFS calendar +
calendar_dates with a stop-time pattern) and trips with their stop times.

Times: a stop time keeps the local `HH:MM[:SS]` of its station's timezone as GTFS
writes it (hours may pass 24 for a trip running past midnight, counted from the
service date's local noon minus 12 h) and the aware UTC instants computed from it;
search and seat counts use the UTC columns (docs/transport.md "Times").
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import MONEY, TimestampMixin, UTCDateTime, db

VEHICLE_MODES = ("bus", "train", "plane", "ferry")
TRIP_STATUSES = ("scheduled", "departed", "arrived", "cancelled")
FARE_STATUSES = ("active", "pending_approval")
_MODES_SQL = "mode IN ('bus','train','plane','ferry')"


class TransportCompany(TimestampMixin, db.Model):
    """A transport company (GTFS agency); `operator` employees belong to one."""

    __tablename__ = "transport_companies"
    __table_args__ = (CheckConstraint("length(country) = 2", name="country_iso2"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    # ISO 3166-1 alpha-2, upper case.
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    website: Mapped[str | None] = mapped_column(String(255))
    # The agency's IANA timezone (GTFS agency_timezone): stations without their own
    # zone and exported feeds use it.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class Amenity(db.Model):
    """An on-board service a vehicle offers (`wifi`, `meal`, `power`, ...)."""

    __tablename__ = "transport_amenities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)


vehicle_amenities = Table(
    "transport_vehicle_amenities",
    db.metadata,
    Column(
        "vehicle_id",
        ForeignKey("transport_vehicles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "amenity_id",
        ForeignKey("transport_amenities.id", ondelete="RESTRICT"),
        primary_key=True,
    ),
)


class City(db.Model):
    """A city with its country (ISO 3166-1 alpha-2) and IANA timezone."""

    __tablename__ = "transport_cities"
    __table_args__ = (
        UniqueConstraint("name", "country", name="name_country"),
        CheckConstraint("length(country) = 2", name="country_iso2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    # `{"de": {"name": ...}}`: from a GTFS feed's translations.txt (docs/i18n.md).
    translations: Mapped[dict | None] = mapped_column(JSON)


class Station(db.Model):
    """A station, stop or airport (GTFS stop): code (IATA, UIC or own), position,
    IANA timezone (the city's unless given), optional parent station."""

    __tablename__ = "transport_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    city_id: Mapped[int | None] = mapped_column(
        ForeignKey("transport_cities.id", ondelete="RESTRICT"), index=True
    )
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("transport_stations.id", ondelete="SET NULL"), index=True
    )
    translations: Mapped[dict | None] = mapped_column(JSON)

    city = relationship("City")


class Vehicle(TimestampMixin, db.Model):
    """A bus, train, plane or ferry of a company, divided into sections."""

    __tablename__ = "transport_vehicles"
    __table_args__ = (
        UniqueConstraint("company_id", "registration", name="company_registration"),
        CheckConstraint(_MODES_SQL, name="mode_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("transport_companies.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    )
    mode: Mapped[str] = mapped_column(String(10), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    registration: Mapped[str] = mapped_column(String(40), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    company = relationship("TransportCompany")
    sections = relationship(
        "VehicleSection",
        order_by="VehicleSection.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    amenities = relationship(
        "Amenity", secondary=vehicle_amenities, order_by="Amenity.code"
    )


class VehicleSection(db.Model):
    """A section of a vehicle (first class, economy) with its seat map: `{"rows":
    [["1A", "1B", null, "1C"], ...]}` (null = aisle); capacity = its seats."""

    __tablename__ = "transport_vehicle_sections"
    __table_args__ = (
        UniqueConstraint("vehicle_id", "code", name="vehicle_code"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(
        ForeignKey("transport_vehicles.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    seat_map: Mapped[dict] = mapped_column(JSON, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class TransportRoute(TimestampMixin, db.Model):
    """A route of a company: an ordered list of stations (GTFS route + its stop
    pattern)."""

    __tablename__ = "transport_routes"
    __table_args__ = (
        UniqueConstraint("company_id", "code", name="company_code"),
        CheckConstraint(_MODES_SQL, name="mode_valid"),
        CheckConstraint(
            "tax_rate IS NULL OR (tax_rate >= 0 AND tax_rate <= 100)",
            name="tax_rate_range",
        ),
        CheckConstraint(
            "child_percent BETWEEN 0 AND 100 AND infant_percent BETWEEN 0 AND 100",
            name="percents_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("transport_companies.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    )
    mode: Mapped[str] = mapped_column(String(10), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(160), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # What a child and an infant pay, in percent of the adult fare; an infant
    # travels on a lap, without a seat (docs/transport.md "Tickets").
    child_percent: Mapped[int] = mapped_column(
        Integer, default=75, server_default="75", nullable=False
    )
    infant_percent: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )
    # VAT in percent included in the fares; null means DEFAULT_TAX_RATE
    # (docs/documents.md "Tax").
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))

    company = relationship("TransportCompany")
    stops = relationship(
        "RouteStop",
        order_by="RouteStop.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class RouteStop(db.Model):
    """One station of a route at its position (0 first); no station twice."""

    __tablename__ = "transport_route_stops"
    __table_args__ = (
        UniqueConstraint("route_id", "position", name="route_position"),
        UniqueConstraint("route_id", "station_id", name="route_station"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(
        ForeignKey("transport_routes.id", ondelete="CASCADE"), nullable=False
    )
    station_id: Mapped[int] = mapped_column(
        ForeignKey("transport_stations.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)

    station = relationship("Station")


class Fare(TimestampMixin, db.Model):
    """The price of one origin-destination pair of a route in one section.

    `price` is what is sold (None: not sold yet); a change on a route with
    published trips waits in `pending_price` for an operation head who did not
    propose it (maker-checker, docs/transport.md "Fares")."""

    __tablename__ = "transport_fares"
    __table_args__ = (
        UniqueConstraint(
            "route_id",
            "from_station_id",
            "to_station_id",
            "section_code",
            name="route_pair_section",
        ),
        CheckConstraint("price IS NULL OR price >= 0", name="price_non_negative"),
        CheckConstraint(
            "pending_price IS NULL OR pending_price >= 0",
            name="pending_price_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(
        ForeignKey("transport_routes.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    from_station_id: Mapped[int] = mapped_column(
        ForeignKey("transport_stations.id", ondelete="RESTRICT"), nullable=False
    )
    to_station_id: Mapped[int] = mapped_column(
        ForeignKey("transport_stations.id", ondelete="RESTRICT"), nullable=False
    )
    section_code: Mapped[str] = mapped_column(String(32), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    price: Mapped[Decimal | None] = mapped_column(MONEY)
    pending_price: Mapped[Decimal | None] = mapped_column(MONEY)
    proposed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Schedule(TimestampMixin, db.Model):
    """A service pattern (GTFS calendar + calendar_dates): the route's trips with
    this stop-time pattern (`[{station_id, arrival, departure}]`, local `HH:MM`) on
    the given weekdays between two dates, with added and removed dates."""

    __tablename__ = "transport_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(
        ForeignKey("transport_routes.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    vehicle_id: Mapped[int | None] = mapped_column(
        ForeignKey("transport_vehicles.id", ondelete="RESTRICT")
    )
    stop_times: Mapped[list] = mapped_column(JSON, nullable=False)
    # Monday first, "1" when it runs: "1111100" = Monday to Friday.
    weekdays: Mapped[str] = mapped_column(String(7), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    added_dates: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    removed_dates: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    headsign: Mapped[str | None] = mapped_column(String(160))
    # Ids of the imported feed (GTFS service_id, trip_id), kept for export.
    gtfs_service_id: Mapped[str | None] = mapped_column(String(64))
    gtfs_trip_id: Mapped[str | None] = mapped_column(String(64))

    route = relationship("TransportRoute")


class Trip(TimestampMixin, db.Model):
    """One run of a route on a service date, with its stop times."""

    __tablename__ = "transport_trips"
    __table_args__ = (
        UniqueConstraint("schedule_id", "service_date", name="schedule_date"),
        CheckConstraint(
            "status IN ('scheduled','departed','arrived','cancelled')",
            name="status_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(
        ForeignKey("transport_routes.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    )
    vehicle_id: Mapped[int | None] = mapped_column(
        ForeignKey("transport_vehicles.id", ondelete="RESTRICT"), index=True
    )
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("transport_schedules.id", ondelete="SET NULL")
    )
    service_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(12), default="scheduled", nullable=False)
    headsign: Mapped[str | None] = mapped_column(String(160))
    gtfs_trip_id: Mapped[str | None] = mapped_column(String(64))
    # First departure and last arrival (UTC), for search and listing.
    departure_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, index=True
    )
    arrival_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    route = relationship("TransportRoute")
    vehicle = relationship("Vehicle")
    stop_times = relationship(
        "StopTime",
        order_by="StopTime.sequence",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class StopTime(db.Model):
    """A trip's call at a station: local times as GTFS writes them (`HH:MM[:SS]`,
    hours past 24 allowed) and the aware UTC instants."""

    __tablename__ = "transport_stop_times"
    __table_args__ = (
        UniqueConstraint("trip_id", "sequence", name="trip_sequence"),
        db.Index(
            "ix_transport_stop_times_station_departure", "station_id", "departure_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(
        ForeignKey("transport_trips.id", ondelete="CASCADE"), nullable=False
    )
    station_id: Mapped[int] = mapped_column(
        ForeignKey("transport_stations.id", ondelete="RESTRICT"), nullable=False
    )
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    arrival_local: Mapped[str] = mapped_column(String(8), nullable=False)
    departure_local: Mapped[str] = mapped_column(String(8), nullable=False)
    arrival_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    departure_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    station = relationship("Station")
