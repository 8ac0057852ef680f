"""Catalogue reports (docs/design.md "Resource map": /reports, the packages and
destinations family): popular packages and popular destinations, ranked by the
sold bookings made in the range.
"""

from sqlalchemy import func, select

from models import Booking, Departure, Package
from services.reporting.report_base import (
    INTEGER,
    MONEY,
    OPEN_WINDOW,
    SOLD,
    STRING,
    Report,
    Window,
    limited,
)
from services.reporting.report_sql import from_cents, sum_cents


def popular(
    by: str, *, window: Window = OPEN_WINDOW, limit: int | None = None
) -> Report:
    """Packages (`by="package"`) or destinations (`by="destination"`) ranked by
    sold bookings made in the range (booking date): bookings, travellers (seats)
    and booking value per currency, most bookings first."""
    value = sum_cents(Booking.total_amount)
    bookings = func.count(Booking.id)
    travellers = func.sum(Booking.seats)
    stmt = (
        select()
        .select_from(Booking)
        .join(Departure, Departure.id == Booking.departure_id)
        .join(Package, Package.id == Departure.package_id)
        .where(Booking.status.in_(SOLD))
    )
    stmt = window.on_timestamp(stmt, Booking.created_at)
    if by == "package":
        keys = [
            Package.id.label("package_id"),
            Package.title.label("package_title"),
            Package.destination.label("destination"),
        ]
        extra = []
        key_columns = (
            ("package_id", INTEGER),
            ("package_title", STRING),
            ("destination", STRING),
        )
    else:
        keys = [Package.destination.label("destination")]
        extra = [func.count(func.distinct(Package.id)).label("packages")]
        key_columns = (("destination", STRING), ("packages", INTEGER))
    stmt = (
        stmt.add_columns(
            *keys,
            *extra,
            Booking.currency.label("currency"),
            bookings.label("bookings"),
            travellers.label("travellers"),
            value.label("value"),
        )
        .group_by(*[k.element for k in keys], Booking.currency)
        .order_by(bookings.desc(), travellers.desc(), value.desc(), keys[0].element)
    )

    def shape(row) -> dict:
        out = {name: getattr(row, name) for name, _t in key_columns}
        out.update(
            currency=row.currency,
            bookings=int(row.bookings),
            travellers=int(row.travellers),
            value=from_cents(row.value),
        )
        return out

    return Report(
        name=f"{by}s.popular" if by == "package" else "destinations.popular",
        columns=(
            *key_columns,
            ("currency", STRING),
            ("bookings", INTEGER),
            ("travellers", INTEGER),
            ("value", MONEY),
        ),
        statement=limited(stmt, limit),
        shape=shape,
        filters=window.as_dict(),
    )
