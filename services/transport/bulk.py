"""Bulk inserts of trips and stop times (docs/transport.md "GTFS import"; the GTFS
import and the demo data write hundreds of thousands of rows): in the session's
transaction, through COPY on PostgreSQL (multi-row INSERTs with thousands of bound
parameters cost more in the driver than in the database) and one executemany
INSERT elsewhere.
"""

from sqlalchemy import insert, text

from core.extensions import db
from models import StopTime
from models.base import utcnow


def _copy(table, columns: list, rows) -> None:
    """COPY `rows` (sequences in `columns` order) into `table` on the session's
    PostgreSQL connection, in its transaction."""
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _on_postgres() -> bool:
    return db.session.connection().dialect.name == "postgresql"


def insert_returning_ids(table, rows: list[dict]) -> list[int]:
    """Insert `rows` (dicts with the same keys) into `table` and answer their new
    ids in order. PostgreSQL: ids taken from the table's sequence, rows written by
    COPY (multi-row INSERTs with thousands of parameters cost more in the driver
    than the database); others: INSERT ... RETURNING. Timestamps (`created_at`,
    `updated_at`) are filled in when the table has them."""
    if not rows:
        return []
    if not _on_postgres():
        ids = db.session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        ).scalars()
        return list(ids)
    ids = sorted(
        db.session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM "
                "generate_series(1, :n)"
            ),
            {"table": table.name, "n": len(rows)},
        )
    )
    columns = ["id", *rows[0]]
    stamps = [name for name in ("created_at", "updated_at") if name in table.c]
    now = [utcnow()] * len(stamps)
    _copy(
        table,
        columns + stamps,
        ([key, *row.values(), *now] for key, row in zip(ids, rows, strict=True)),
    )
    return ids


STOP_TIME_COLUMNS = (
    "trip_id",
    "station_id",
    "sequence",
    "arrival_local",
    "departure_local",
    "arrival_at",
    "departure_at",
)


def insert_stop_times(rows: list[dict]) -> None:
    """Insert StopTime rows in the session's transaction: PostgreSQL through COPY
    (several times faster than multi-row INSERTs for millions of rows), other
    databases through one executemany INSERT. The instants are aware UTC."""
    if not rows:
        return
    if not _on_postgres():
        db.session.execute(insert(StopTime.__table__), rows)
        return
    _copy(
        StopTime.__table__,
        list(STOP_TIME_COLUMNS),
        ([row[column] for column in STOP_TIME_COLUMNS] for row in rows),
    )
