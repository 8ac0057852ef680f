"""Bulk demo data for `flask --app app seed-demo --scale N`: N bookings over the two
years before today, with the invoices, payments, cancellations, refunds, credit notes
and wallet ledger lines the booking engine would have written, plus roughly N/10
customers, the departures they travel on and a few enquiries per thousand bookings
(data for reports and benchmarks).

How the rows keep the engine's invariants (services.booking.bookings, payments,
cancellations, refunds, inventory, billing; docs/design.md "Lifecycles", "Rules with
numbers"):

- bookings are generated in time order on departures this run creates (each with
  an `adult` category row, like services.catalogue.departures makes them); a departure
  never holds more sold seats (held + confirmed + completed) than its capacity, and at
  the end `seats_taken` of the departure and of its category is set to the seats of its
  held and confirmed bookings;
- statuses follow the departure's dates: `completed` (trip over, paid in full),
  `confirmed` (deposit paid, balance paid by its due date, a few overdue),
  `held` (the newest few, hold still running), `expired` (hold lapsed unpaid,
  invoice voided by a credit note), `cancelled` (penalty by the booking's tier at
  the cancellation time on the money kept, refund of the rest to the wallet or the
  original methods, credit note of total - penalty, as services.booking.cancellations);
- one invoice per booking (`INV-YYYY-NNNNNN` by the year it was issued) and credit
  notes (`CN-YYYY-...`) take their numbers from blocks reserved in
  `document_sequences` with the same atomic counter UPDATE as services.payments.billing,
  so invoices issued later by the API continue after them;
- wallet ledger lines are written last in time order with their running
  `balance_after`; a wallet payment is only made when the balance at that time (and
  at every later line) covers it; `customers.wallet_balance` = the ledger sum;
- primary keys come from the tables' sequences (`nextval`, PostgreSQL) or after
  the largest id (SQLite, one writer), so a re-run or a concurrent API request
  never collides; booking references are `ES-` + the id in base 32
  (services.booking.bookings uses `ET-`).

Everything is written in ONE transaction (a failed or interrupted run leaves no
rows, only unused invoice numbers and ids); on PostgreSQL rows go in with `COPY`
(psycopg 3) in batches, elsewhere with Core `insert()` executemany. The data set is
deterministic for a given seed, relative to the moment it runs.
"""

import bisect
import json
import math
import random
import time as clock
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import bindparam, insert, inspect, select, text, update

from auth.passwords import hash_password
from core.extensions import db
from demo.progress import NoProgress
from demo.seed import (
    CITIES,
    DEMO_PASSWORD,
    ENQUIRY_STATUS_CYCLE,
    ENQUIRY_TOPICS,
    FIRST_NAMES,
    LAST_NAMES,
    STAFF_NOTES,
    has_data,
    seed_demo,
)
from models import Customer, Employee, Package
from models.base import utcnow
from services.booking.bookings import CANCELLATION_POLICY, REFERENCE_ALPHABET
from services.booking.holds import EXPIRY_REASON
from services.catalogue import catalogue
from services.shared.money import CENT

SCALE_SEED = 42
BATCH_SIZE = 20_000
REFERENCE_PREFIX = "ES-"  # never "ET-" (services.booking.bookings.REFERENCE_PREFIX)
REFERENCE_DIGITS = 7  # 32**7 ids
EMAIL_DOMAIN = "scale.easytravels.test"
WINDOW_DAYS = 730  # bookings are made over the two years before now
FUTURE_DAYS = 240  # departures run until this many days after today
MAX_LEAD_DAYS = 210  # a booking is made at most this long before its departure
GROWTH = 0.6  # the booking rate grows by 60 % over the window
CAPACITIES = (40, 50, 60, 80, 100, 120, 150)
SEAT_WEIGHTS = ((1, 2, 3, 4), (30, 40, 15, 15))
SEAT_TABLE = [seats for seats, weight in zip(*SEAT_WEIGHTS) for _ in range(weight)]
TARGET_FILL = 0.55
P_EXPIRED = 0.07
P_CANCELLED = 0.11
ENQUIRIES_PER_THOUSAND = 4
CUSTOMER_REASONS = (
    None,
    "Change of plans",
    "Illness in the family",
    "Found another trip",
    "Work commitments",
)
STAFF_REASONS = (
    "Customer called to cancel",
    "Customer asked by email",
    "Visa not granted in time",
)

COLUMNS = {
    "customers": (
        "id",
        "name",
        "email",
        "phone",
        "active",
        "password_hash",
        "address",
        "wallet_balance",
        "registered_by_id",
        "created_at",
        "updated_at",
    ),
    "departures": (
        "id",
        "package_id",
        "start_date",
        "end_date",
        "capacity",
        "seats_taken",
        "price",
        "currency",
        "min_party_size",
        "status",
        "created_at",
        "updated_at",
    ),
    "departure_categories": (
        "id",
        "departure_id",
        "category",
        "price",
        "capacity",
        "seats_taken",
    ),
    "bookings": (
        "id",
        "reference",
        "customer_id",
        "departure_id",
        "seats",
        "status",
        "currency",
        "unit_price",
        "total_amount",
        "amount_paid",
        "amount_refunded",
        "deposit_amount",
        "balance_due_date",
        "price_snapshot",
        "penalty_amount",
        "hold_expires_at",
        "cancellation_policy",
        "created_by_id",
        "confirmed_at",
        "cancelled_at",
        "cancel_reason",
        "cancelled_by_id",
        "expired_at",
        "completed_at",
        "created_at",
        "updated_at",
    ),
    "invoices": (
        "id",
        "number",
        "booking_id",
        "customer_id",
        "currency",
        "total_amount",
        "issue_date",
        "due_date",
        "created_at",
    ),
    "payments": (
        "id",
        "booking_id",
        "invoice_id",
        "customer_id",
        "amount",
        "currency",
        "method",
        "reference",
        "recorded_by_id",
        "created_at",
    ),
    "credit_notes": ("id", "number", "invoice_id", "amount", "reason", "created_at"),
    "refunds": (
        "id",
        "booking_id",
        "customer_id",
        "amount",
        "currency",
        "destination",
        "method",
        "status",
        "reason",
        "reference",
        "created_by_id",
        "completed_by_id",
        "completed_at",
        "created_at",
    ),
    "wallet_entries": (
        "id",
        "customer_id",
        "amount",
        "currency",
        "balance_after",
        "kind",
        "reason",
        "booking_id",
        "payment_id",
        "refund_id",
        "created_by_id",
        "created_at",
    ),
    "enquiries": (
        "id",
        "customer_id",
        "package_id",
        "subject",
        "message",
        "stage",
        "assigned_to_id",
        "created_by_id",
        "created_at",
        "updated_at",
        "stage_changed_at",
        "source",
    ),
    "enquiry_notes": (
        "id",
        "enquiry_id",
        "body",
        "author_type",
        "author_employee_id",
        "author_customer_id",
        "author_name",
        "created_at",
    ),
}
# Child tables after their parents (foreign keys are checked row by row).
BATCH_TABLES = ("bookings", "invoices", "payments", "credit_notes", "refunds")


# --- writing rows -------------------------------------------------------------------


class _CopyWriter:
    """PostgreSQL: rows go in with `COPY table (cols) FROM STDIN (FORMAT BINARY)`
    through psycopg 3's connection under the session's transaction (binary: the
    server parses numbers and times about a quarter faster than text).

    `write_batch` copies in a background thread while the caller generates the next
    batch (Python on one core, the server on the other); the caller must not use
    the session until `wait()` returns."""

    postgres = True

    def __init__(self):
        self.conn = db.session.connection().connection.driver_connection
        self.types = {}
        with self.conn.cursor() as cursor:
            for table, columns in COLUMNS.items():
                cursor.execute(
                    "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = "
                    "CAST(%s AS regclass) AND attnum > 0 AND NOT attisdropped",
                    (table,),
                )
                oids = dict(cursor.fetchall())
                self.types[table] = [oids[column] for column in columns]
        self.dumped = {}
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-copy")
        self.pending = None

    def write(self, table: str, rows: list) -> None:
        """Copy `rows` (tuples in COLUMNS[table] order) into `table`."""
        from psycopg.types.json import set_json_dumps

        if not rows:
            return
        statement = (
            f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN (FORMAT BINARY)"
        )
        with self.conn.cursor() as cursor:
            set_json_dumps(self._dumps, context=cursor)
            with cursor.copy(statement) as copy:
                copy.set_types(self.types[table])
                for row in rows:
                    copy.write_row(row)

    def _dumps(self, value) -> str:
        """json.dumps, once per object: JSON values here are a few shared objects
        (the policy, one price snapshot per departure)."""
        known = self.dumped.get(id(value))
        if known is None or known[0] is not value:
            known = self.dumped[id(value)] = (value, json.dumps(value))
        return known[1]

    def write_batch(self, tables: list) -> None:
        """Copy `[(table, rows)]` in order, in the background."""
        self.wait()
        self.pending = self.pool.submit(
            lambda: [self.write(table, rows) for table, rows in tables]
        )

    def wait(self) -> None:
        """Block until the background copy is done; re-raises its error."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Stop the background thread (after waiting for it)."""
        try:
            self.wait()
        finally:
            self.pool.shutdown()


class _InsertWriter:
    """Any other database (SQLite): Core `insert()` executemany in the session."""

    postgres = False

    def write(self, table: str, rows: list) -> None:
        """Insert `rows` (tuples in COLUMNS[table] order) into `table`."""
        if not rows:
            return
        columns = COLUMNS[table]
        db.session.execute(
            insert(db.metadata.tables[table]), [dict(zip(columns, row)) for row in rows]
        )

    def write_batch(self, tables: list) -> None:
        """Insert `[(table, rows)]` in order, now."""
        for table, rows in tables:
            self.write(table, rows)

    def wait(self) -> None:
        """Nothing runs in the background here."""

    close = wait


class _Ids:
    """Primary keys handed out before the rows are written, so children can name
    their parents.

    PostgreSQL: blocks reserved from the table's sequence in a short transaction of
    their own: `ALTER SEQUENCE` (a no-op) makes concurrent `nextval` calls wait, the
    block starts after the sequence's value (and the largest id), `setval` moves the
    sequence past it - so the API keeps inserting next to the seed without a
    collision, and ids are never handed out twice. SQLite (one writer): counting on
    from the largest id ever used (AUTOINCREMENT tables also keep sqlite_sequence).
    """

    BLOCK = 50_000

    def __init__(self, postgres: bool):
        self.postgres = postgres
        self.free = {}  # table -> [next id, end of block)
        self.last = {}

    def take(self, table: str, count: int) -> list[int]:
        """`count` new consecutive ids of `table`, ascending."""
        first = (
            self._reserve_pg(table, count)
            if self.postgres
            else self._count_on(table, count)
        )
        return list(range(first, first + count))

    def next(self, table: str) -> int:
        """One new id of `table`."""
        block = self.free.get(table)
        if block is None or block[0] >= block[1]:
            first = self.take(table, self.BLOCK)[0]
            block = self.free[table] = [first, first + self.BLOCK]
        block[0] += 1
        return block[0] - 1

    def _count_on(self, table: str, count: int) -> int:
        if table not in self.last:
            largest = db.session.scalar(
                text(f"SELECT coalesce(max(id), 0) FROM {table}")
            )
            seq = db.session.scalar(
                text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}
            )
            self.last[table] = max(int(largest or 0), int(seq or 0))
        first = self.last[table] + 1
        self.last[table] += count
        return first

    @staticmethod
    def _reserve_pg(table: str, count: int) -> int:
        with db.engine.connect() as conn:
            seq = conn.scalar(
                text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
            )
            conn.execute(text(f"ALTER SEQUENCE {seq} NO CYCLE"))  # locks out nextval
            last, called = conn.execute(
                text(f"SELECT last_value, is_called FROM {seq}")
            ).one()
            largest = conn.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}"))
            base = max(last if called else last - 1, largest)
            conn.execute(
                text("SELECT setval(:seq, :value)"), {"seq": seq, "value": base + count}
            )
            conn.commit()
        return base + 1


def reserve_numbers(name: str, count: int, *, postgres: bool) -> int:
    """Reserve `count` consecutive numbers of the document series `name` (e.g.
    `INV-2025`) and return the first; the counter row is created when missing.

    The same atomic `UPDATE ... SET last_value = last_value + n` as
    services.payments.billing.next_number. On PostgreSQL it runs in its own short
    autocommit transaction, so the API keeps numbering invoices while the seed runs
    (numbers reserved by a failed seed are skipped); elsewhere in the session.
    """
    upsert = text(
        "INSERT INTO document_sequences (name, last_value) VALUES (:name, 0) "
        "ON CONFLICT (name) DO NOTHING"
    )
    bump = text(
        "UPDATE document_sequences SET last_value = last_value + :n "
        "WHERE name = :name RETURNING last_value"
    )
    params = {"name": name, "n": count}
    if postgres:
        with db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as conn:
            conn.execute(upsert, params)
            last = conn.execute(bump, params).scalar_one()
    else:
        db.session.execute(upsert, params)
        last = db.session.execute(bump, params).scalar_one()
    return last - count + 1


# --- small helpers --------------------------------------------------------------------


_DECIMALS: dict[int, Decimal] = {}


def _money(cents: int) -> Decimal:
    """Integer cents as a Decimal with two places (cached: few distinct values)."""
    value = _DECIMALS.get(cents)
    if value is None:
        value = _DECIMALS[cents] = (Decimal(cents) / 100).quantize(CENT)
    return value


def _cents(value) -> int:
    return int((Decimal(value) * 100).to_integral_value())


def _growth_time(u: float) -> float:
    """Inverse CDF of a density growing linearly by GROWTH over [0, 1]."""
    return (math.sqrt(1 + 2 * GROWTH * u * (1 + GROWTH / 2)) - 1) / GROWTH


def booking_reference(booking_id: int) -> str:
    """`ES-` + the booking id in base 32 (REFERENCE_ALPHABET), 7 digits: unique
    because ids are, and never equal to an `ET-` reference of the booking engine."""
    if not 0 < booking_id < 32**REFERENCE_DIGITS:
        raise ValueError("booking id out of the reference range")
    return (
        REFERENCE_PREFIX
        + REFERENCE_ALPHABET[booking_id >> 30]
        + _PAIRS[(booking_id >> 20) & 1023]
        + _PAIRS[(booking_id >> 10) & 1023]
        + _PAIRS[booking_id & 1023]
    )


_PAIRS = [a + b for a in REFERENCE_ALPHABET for b in REFERENCE_ALPHABET]  # 10 bits each


def _wallet_room(events: list, when: datetime) -> int:
    """How much a debit at `when` may take from a wallet whose ledger lines are
    `events` [(time, cents)]: the balance then, and never more than the lowest
    balance at any later line (the ledger must stay >= 0 all along)."""
    ordered = sorted(events)
    balance, index = 0, 0
    while index < len(ordered) and ordered[index][0] <= when:
        balance += ordered[index][1]
        index += 1
    room = balance
    for _, amount in ordered[index:]:
        balance += amount
        room = min(room, balance)
    return room


# --- the generator ----------------------------------------------------------------


class _Departure:
    """A departure being generated (prices in cents)."""

    __slots__ = (
        "capacity",
        "end",
        "id",
        "live",
        "package",
        "price",
        "snapshot",
        "sold",
        "start",
        "start_at",
    )

    def __init__(self, **fields):
        for name, value in fields.items():
            setattr(self, name, value)


class _ScaleSeeder:
    """Generates and writes the bulk rows; `counts` and `statuses` summarise them."""

    def __init__(self, count: int, *, seed: int, batch_size: int):
        self.count = count
        self.batch_size = batch_size
        self.rng = random.Random(seed)
        self.now = utcnow().replace(microsecond=0)
        self.today = self.now.date()
        self.start = self.now - timedelta(days=WINDOW_DAYS)
        self.writer = (
            _CopyWriter() if db.engine.dialect.name == "postgresql" else _InsertWriter()
        )
        self.ids = _Ids(self.writer.postgres)
        config = current_app.config
        self.currency = config["DEFAULT_CURRENCY"]
        self.hold = timedelta(minutes=config["BOOKING_HOLD_MINUTES"])
        self.balance_days = timedelta(days=config["BALANCE_DUE_DAYS"])
        policy = [
            dict(tier)
            for tier in config.get("CANCELLATION_POLICY", CANCELLATION_POLICY)
        ]
        self.policy = policy
        self.tiers = sorted(
            ((t["min_hours_before"] * 3600, int(t["penalty_percent"])) for t in policy),
            reverse=True,
        )
        self.counts = Counter()
        self.statuses = Counter()
        self.wallet_events = defaultdict(list)  # customer id -> [(time, cents)]
        self.ledger = []  # wallet lines, written last in time order
        self.rows = defaultdict(list)
        self.numbers = []  # (table, row index, series) waiting for a document number
        self._load_staff_and_catalogue()

    # -- set-up -------------------------------------------------------------------

    def _load_staff_and_catalogue(self) -> None:
        def active(role):
            return list(
                db.session.scalars(
                    select(Employee.id)
                    .where(Employee.role == role, Employee.active)
                    .order_by(Employee.id)
                )
            )

        self.sales = active("sales") or active("admin")
        self.finance = active("finance") or active("admin")
        self.packages = db.session.execute(
            select(
                Package.id,
                Package.base_price,
                Package.deposit_percent,
                Package.duration_days,
                Package.currency,
                Package.approved_at,
            )
            .where(Package.status == "published")
            .order_by(Package.id)
        ).all()

    def ready(self) -> bool:
        """True when there are published packages and staff to work with."""
        return bool(self.packages and self.sales and self.finance)

    # -- customers ------------------------------------------------------------------

    def make_customers(self) -> None:
        """max(50, N/10) customers with the demo password (hashed once), created over
        the window (and a month before it) at a growing rate, oldest id first."""
        count = max(50, self.count // 10)
        password = hash_password(DEMO_PASSWORD)
        ids = self.ids.take("customers", count)
        span = (WINDOW_DAYS + 30) * 86400
        origin = self.start - timedelta(days=30)
        rng, rows = self.rng, []
        self.customer_ids, self.customer_times = ids, []
        for index, customer_id in enumerate(ids):
            created = origin + timedelta(
                seconds=int(span * _growth_time(index / count))
            )
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            city, code, streets = rng.choice(CITIES)
            has_password = rng.random() > 0.1
            by_sales = not has_password or rng.random() < 0.2
            rows.append(
                (
                    customer_id,
                    f"{first} {last}",
                    f"{first}.{last}.{customer_id}@{EMAIL_DOMAIN}".lower(),
                    f"{code} {rng.randint(20, 89)} {rng.randint(100, 999)} "
                    f"{rng.randint(1000, 9999)}",
                    True,
                    password if has_password else None,
                    f"{rng.randint(1, 180)} {rng.choice(streets)}, {city}",
                    _money(0),
                    rng.choice(self.sales) if by_sales else None,
                    created,
                    created,
                )
            )
            self.customer_times.append(created)
        self.writer.write("customers", rows)
        self.counts["customers"] += count

    def _customer_at(self, when: datetime) -> int:
        known = bisect.bisect_right(self.customer_times, when)
        return self.customer_ids[self.rng.randrange(max(known, 1))]

    # -- departures -----------------------------------------------------------------

    def make_departures(self) -> None:
        """Departures of the published packages starting from the window's start to
        FUTURE_DAYS ahead, enough for every booking at about TARGET_FILL of their
        capacity; each with its `adult` category row (no own limit)."""
        mean_seats = sum(s * w for s, w in zip(*SEAT_WEIGHTS)) / sum(SEAT_WEIGHTS[1])
        mean_capacity = sum(CAPACITIES) / len(CAPACITIES)
        count = max(
            2 * len(self.packages),
            math.ceil(self.count * mean_seats / (mean_capacity * TARGET_FILL)),
        )
        first_day = self.start.date() + timedelta(days=2)
        days = (self.today + timedelta(days=FUTURE_DAYS) - first_day).days
        ids = self.ids.take("departures", count)
        category_ids = self.ids.take("departure_categories", count)
        starts = sorted(
            first_day + timedelta(days=self.rng.randrange(days)) for _ in range(count)
        )
        rng, rows, categories, self.departures = self.rng, [], [], []
        for departure_id, category_id, start in zip(ids, category_ids, starts):
            package = rng.choice(self.packages)
            base = _cents(package.base_price)
            price = round(base * rng.randint(85, 115) / 100 / 500) * 500
            created = min(
                datetime.combine(start, time(9), UTC)
                - timedelta(days=MAX_LEAD_DAYS + 30),
                self.now - timedelta(days=1),
            )
            end = start + timedelta(days=package.duration_days - 1)
            capacity = rng.choice(CAPACITIES)
            rows.append(
                (
                    departure_id,
                    package.id,
                    start,
                    end,
                    capacity,
                    0,
                    _money(price),
                    package.currency,
                    1,
                    "scheduled",
                    created,
                    created,
                )
            )
            categories.append(
                (category_id, departure_id, "adult", _money(price), None, 0)
            )
            self.departures.append(
                _Departure(
                    id=departure_id,
                    package=package,
                    start=start,
                    start_at=datetime.combine(start, time(0), UTC),
                    end=end,
                    capacity=capacity,
                    price=price,
                    sold=0,
                    live=0,
                    snapshot={"adult": f"{_money(price):.2f}"},
                )
            )
        self.category_of = dict(zip(ids, category_ids))
        self.departure_starts = [d.start.toordinal() for d in self.departures]
        self.writer.write("departures", rows)
        self.writer.write("departure_categories", categories)
        self.counts["departures"] += count
        self._backdate_packages(min(row[-1] for row in rows))

    def _backdate_packages(self, earliest: datetime) -> None:
        """Published packages approved after the first generated departure was put
        on sale get an older review history (created, submitted, approved before)."""
        for package in self.packages:
            if package.approved_at is None or package.approved_at > earliest:
                approved = earliest - timedelta(days=self.rng.uniform(5, 60))
                submitted = approved - timedelta(days=self.rng.uniform(0.2, 5))
                created = submitted - timedelta(days=self.rng.uniform(1, 10))
                db.session.execute(
                    update(Package)
                    .where(Package.id == package.id)
                    .values(
                        created_at=created,
                        submitted_at=submitted,
                        approved_at=approved,
                        updated_at=approved,
                    )
                    .execution_options(synchronize_session=False)
                )

    def _departure_for(self, when: datetime, seats: int, *, sold: bool):
        """A departure starting 2 to MAX_LEAD_DAYS days after `when` (lead time
        mostly weeks to months), with room for `seats` when `sold`; None when no
        departure in reach has room."""
        rng, day = self.rng, when.date().toordinal()
        pick = rng.random()
        lead = (
            rng.uniform(2, 14)
            if pick < 0.15
            else rng.uniform(14, 75)
            if pick < 0.6
            else rng.uniform(75, MAX_LEAD_DAYS)
        )
        earliest = bisect.bisect_left(self.departure_starts, day + 2)
        windows = ((day + lead - 7, day + lead + 7), (day + 2, day + MAX_LEAD_DAYS))
        for low, high in windows:
            lo = max(bisect.bisect_left(self.departure_starts, low), earliest)
            hi = bisect.bisect_right(self.departure_starts, high)
            for _ in range(4 if hi > lo else 0):
                departure = self.departures[rng.randrange(lo, hi)]
                if not sold or departure.sold + seats <= departure.capacity:
                    return departure
        return None

    # -- bookings -------------------------------------------------------------------

    def run(self, bar) -> None:
        """All N bookings in time order, written in batches."""
        rows_before = 0
        began = clock.monotonic()
        held = min(self.count, max(3, self.count // 5000))
        newest = self.now - timedelta(minutes=10)
        for first in range(0, self.count, self.batch_size):
            last = min(first + self.batch_size, self.count)
            times = sorted(
                self.rng.uniform(first / self.count, last / self.count)
                for _ in range(last - first)
            )
            ids = self.ids.take("bookings", last - first)
            for index, (booking_id, u) in enumerate(zip(ids, times), start=first):
                when = self.start + timedelta(
                    seconds=int(WINDOW_DAYS * 86400 * _growth_time(u))
                )
                forced_held = index >= self.count - held
                if forced_held:  # the newest few: holds still running
                    step = (index - self.count + held + 1) / held
                    when = max(when, newest + timedelta(seconds=int(540 * step)))
                self._booking(booking_id, when, forced_held=forced_held)
            rows_before += self._flush()
            rate = rows_before / max(clock.monotonic() - began, 1e-6)
            bar.update(
                last - first,
                current_item=f"{last:,} bookings, {rows_before:,} rows, "
                f"{rate:,.0f} rows/s",
            )

    def _booking(self, booking_id: int, when: datetime, *, forced_held: bool) -> None:
        rng = self.rng
        seats = SEAT_TABLE[int(rng.random() * len(SEAT_TABLE))]
        recent = forced_held or when + self.hold > self.now
        pick = rng.random()
        outcome = (
            "held"
            if recent
            else "expired"
            if pick < P_EXPIRED
            else "cancelled"
            if pick < P_EXPIRED + P_CANCELLED
            else "live"
        )
        departure = None
        if outcome in ("held", "live"):
            departure = self._departure_for(when, seats, sold=True)
            if departure is None:  # sold out everywhere in reach
                outcome = "cancelled" if recent else "expired"
        if departure is None:
            departure = self._departure_for(when, seats, sold=False)
        if departure is None:  # nothing starts in reach (tiny data sets): skip ahead
            departure = self.departures[-1]
            when = min(when, departure.start_at - timedelta(days=2))
        self._write_booking(booking_id, when, seats, departure, outcome)

    def _write_booking(self, booking_id, when, seats, departure, outcome) -> None:
        rng = self.rng
        customer_id = self._customer_at(when)
        total = departure.price * seats
        percent = departure.package.deposit_percent
        deposit = (total * percent + 50) // 100
        due = max((departure.start_at - self.balance_days).date(), when.date())
        b = {
            "id": booking_id,
            "reference": booking_reference(booking_id),
            "customer_id": customer_id,
            "departure": departure,
            "seats": seats,
            "total": total,
            "deposit": deposit,
            "due": due,
            "created": when,
            "by": rng.choice(self.sales) if rng.random() < 0.3 else None,
            "invoice_id": self.ids.next("invoices"),
            "paid": 0,
            "refunded": 0,
            "penalty": None,
            "hold_expires_at": None,
            "confirmed_at": None,
            "cancelled_at": None,
            "cancel_reason": None,
            "cancelled_by": None,
            "expired_at": None,
            "completed_at": None,
            "updated": when,
        }
        self._invoice(b)
        getattr(self, f"_as_{outcome}")(b)
        self._booking_row(b)

    def _as_held(self, b) -> None:
        b["status"] = "held"
        b["hold_expires_at"] = b["created"] + self.hold
        self._take_seats(b, live=True)

    def _as_expired(self, b) -> None:
        b["status"] = "expired"
        b["hold_expires_at"] = lapsed = b["created"] + self.hold
        b["expired_at"] = min(
            self.now, lapsed + timedelta(minutes=self.rng.uniform(0, 40))
        )
        b["updated"] = b["expired_at"]
        self._credit_note(b, b["total"], EXPIRY_REASON, b["expired_at"])

    def _as_live(self, b) -> None:
        departure = b["departure"]
        finished = departure.end < self.today
        payments = self._schedule(b, complete=departure.start <= self.today)
        if payments[0][0] > self.now:  # not paid yet: still held
            return self._as_held(b)
        self._pay(b, [p for p in payments if p[0] <= self.now])
        b["confirmed_at"] = payments[0][0]
        if finished:
            done = datetime.combine(departure.end + timedelta(days=1), time(2), UTC)
            b["completed_at"] = min(
                self.now, done + timedelta(minutes=self.rng.uniform(0, 60))
            )
            b["status"], b["updated"] = "completed", b["completed_at"]
        else:
            b["status"] = "confirmed"
        self._take_seats(b, live=not finished)

    def _take_seats(self, b, *, live: bool) -> None:
        departure = b["departure"]
        departure.sold += b["seats"]
        if live:
            departure.live += b["seats"]

    def _schedule(self, b, *, complete: bool) -> list:
        """When the customer pays what, as [(time, cents)], oldest first: the whole
        total at once (deposit of 100 %, or booked within the balance period), or
        the deposit then the balance (sometimes in two parts) by its due date; a
        few never pay the balance (overdue) unless the trip has begun."""
        rng, created, total, deposit = self.rng, b["created"], b["total"], b["deposit"]
        confirmed = created + timedelta(minutes=rng.uniform(1, 14))
        if deposit >= total or b["due"] <= created.date() + timedelta(days=1):
            return [(confirmed, total)]
        payments = [(confirmed, deposit)]
        if not complete and rng.random() < 0.04:
            return payments
        due_end = datetime.combine(b["due"], time(23, 59), UTC)
        low = confirmed + timedelta(days=1)
        high = max(low, min(due_end, b["departure"].start_at - timedelta(hours=1)))
        rest, span = total - deposit, (high - low).total_seconds()
        if rest >= 2 and rng.random() < 0.1:
            first_at, second_at = sorted(rng.uniform(0, span) for _ in range(2))
            half = rest // 2
            payments += [
                (low + timedelta(seconds=first_at), half),
                (low + timedelta(seconds=second_at), rest - half),
            ]
        else:
            payments.append((low + timedelta(seconds=span * rng.random() ** 0.5), rest))
        return payments

    def _pay(self, b, payments: list) -> None:
        """Write the payments (method by chance; wallet when it can cover it)."""
        rng, ref, customer_id = self.rng, b["reference"], b["customer_id"]
        b["payments"] = []
        for number, (when, amount) in enumerate(payments, start=1):
            payment_id = self.ids.next("payments")
            events = self.wallet_events.get(customer_id)
            if (
                events
                and b["departure"].package.currency == self.currency
                and rng.random() < 0.6
                and _wallet_room(events, when) >= amount
            ):
                method, reference, recorder = "wallet", None, None
                self._ledger(
                    customer_id,
                    -amount,
                    when,
                    "payment_debit",
                    f"Payment for booking {ref}",
                    booking_id=b["id"],
                    payment_id=payment_id,
                )
            else:
                pick = rng.random()
                if pick < 0.65:
                    method, recorder = "card", None
                    reference = f"pi_{rng.getrandbits(64):016x}"
                elif pick < 0.9:
                    method, recorder = "bank_transfer", rng.choice(self.finance)
                    reference = f"BT-{ref}-{number}"
                else:
                    method, reference, recorder = "cash", None, rng.choice(self.finance)
            self.rows["payments"].append(
                (
                    payment_id,
                    b["id"],
                    b["invoice_id"],
                    customer_id,
                    _money(amount),
                    b["departure"].package.currency,
                    method,
                    reference,
                    recorder,
                    when,
                )
            )
            b["payments"].append((when, payment_id, amount, method))
            b["paid"] += amount
            b["updated"] = max(b["updated"], when)

    def _as_cancelled(self, b) -> None:
        """Cancelled by the customer (or sales, sometimes waiving the penalty):
        an unpaid hold costs nothing; otherwise the tier at the cancellation time
        applies to the money paid by then
        (services.booking.cancellations.compute_quote)."""
        rng, departure = self.rng, b["departure"]
        payments = self._schedule(b, complete=False)
        latest = min(
            departure.start_at - timedelta(hours=1), self.now - timedelta(minutes=1)
        )
        low = payments[0][0] + timedelta(hours=1)
        unpaid = rng.random() < 0.25 or low >= latest
        if unpaid:
            limit = min(self.hold, max(self.now - b["created"], timedelta(seconds=2)))
            at = b["created"] + limit * rng.uniform(0.1, 0.9)
            b["hold_expires_at"] = b["created"] + self.hold
            paid_before = []
        else:
            at = low + (latest - low) * rng.random()
            paid_before = [p for p in payments if p[0] < at]
            self._pay(b, paid_before)
            b["confirmed_at"] = paid_before[0][0]
        staff = rng.random() < 0.2
        by_id = rng.choice(self.sales) if staff else None
        reason = rng.choice(STAFF_REASONS) if staff else rng.choice(CUSTOMER_REASONS)
        kept = b["paid"]
        waive = staff and rng.random() < 0.25
        percent = 0 if unpaid or waive else self._tier(departure.start_at - at)
        penalty = (kept * percent + 50) // 100
        b.update(
            status="cancelled",
            cancelled_at=at,
            cancel_reason=reason,
            cancelled_by=by_id,
            penalty=penalty,
            updated=at,
        )
        note = f"Cancellation of booking {b['reference']}"
        self._refund(b, kept - penalty, note, by_id, at)
        self._credit_note(
            b, b["total"] - penalty, f"{note}: {reason}" if reason else note, at
        )

    def _tier(self, left: timedelta) -> int:
        seconds = left.total_seconds()
        for threshold, percent in self.tiers:
            if threshold <= seconds:
                return percent
        return self.tiers[-1][1]

    def _refund(self, b, amount: int, note: str, by_id, at: datetime) -> None:
        """services.payments.refunds.issue_refunds: to the wallet at once (35 %), or to
        the original methods newest payment first - wallet money straight back to the
        wallet, the rest pending until finance pays it out a few days later."""
        if amount <= 0:
            return
        b["refunded"] = amount
        if (
            self.rng.random() < 0.35
            and b["departure"].package.currency == self.currency
        ):
            self._refund_row(
                b, amount, "wallet", "wallet", note, by_id, at, wallet=True
            )
            return
        shares, rest = [], amount
        for _when, payment_id, paid, method in sorted(b["payments"], reverse=True):
            if rest <= 0:
                break
            share = min(paid, rest)
            shares.append((payment_id, method, share))
            rest -= share
        to_wallet = sum(share for _, method, share in shares if method == "wallet")
        if to_wallet:
            self._refund_row(
                b, to_wallet, "original", "wallet", note, by_id, at, wallet=True
            )
        for payment_id, method, share in shares:
            if method != "wallet":
                self._refund_row(
                    b,
                    share,
                    "original",
                    method,
                    f"{note} (payment #{payment_id})",
                    by_id,
                    at,
                    wallet=False,
                )

    def _refund_row(self, b, amount, destination, method, reason, by_id, at, *, wallet):
        refund_id = self.ids.next("refunds")
        if wallet:
            completed_by, completed_at, status, reference = by_id, at, "completed", None
            self._ledger(
                b["customer_id"],
                amount,
                at,
                "refund_credit",
                reason,
                booking_id=b["id"],
                refund_id=refund_id,
                by_id=by_id,
            )
        else:
            paid_out = at + timedelta(days=self.rng.uniform(0.5, 6))
            if paid_out <= self.now:
                completed_by, completed_at = self.rng.choice(self.finance), paid_out
                status, reference = "completed", f"payout-{refund_id}"
            else:
                completed_by, completed_at, status, reference = (
                    None,
                    None,
                    "pending",
                    None,
                )
        self.rows["refunds"].append(
            (
                refund_id,
                b["id"],
                b["customer_id"],
                _money(amount),
                b["departure"].package.currency,
                destination,
                method,
                status,
                reason,
                reference,
                by_id,
                completed_by,
                completed_at,
                at,
            )
        )

    def _ledger(
        self,
        customer_id,
        amount,
        when,
        kind,
        reason,
        *,
        booking_id=None,
        payment_id=None,
        refund_id=None,
        by_id=None,
    ) -> None:
        self.wallet_events[customer_id].append((when, amount))
        self.ledger.append(
            (
                when,
                len(self.ledger),
                customer_id,
                amount,
                kind,
                reason,
                booking_id,
                payment_id,
                refund_id,
                by_id,
            )
        )

    def _invoice(self, b) -> None:
        created = b["created"]
        rows = self.rows["invoices"]
        self.numbers.append(("invoices", len(rows), f"INV-{created.year}"))
        rows.append(
            [
                b["invoice_id"],
                None,
                b["id"],
                b["customer_id"],
                b["departure"].package.currency,
                _money(b["total"]),
                created.date(),
                b["due"],
                created,
            ]
        )

    def _credit_note(self, b, amount: int, reason: str, when: datetime) -> None:
        if amount <= 0:
            return
        rows = self.rows["credit_notes"]
        self.numbers.append(("credit_notes", len(rows), f"CN-{when.year}"))
        rows.append(
            [
                self.ids.next("credit_notes"),
                None,
                b["invoice_id"],
                _money(amount),
                reason,
                when,
            ]
        )

    def _booking_row(self, b) -> None:
        departure = b["departure"]
        self.statuses[b["status"]] += 1
        self.rows["bookings"].append(
            (
                b["id"],
                b["reference"],
                b["customer_id"],
                departure.id,
                b["seats"],
                b["status"],
                departure.package.currency,
                _money(departure.price),
                _money(b["total"]),
                _money(b["paid"]),
                _money(b["refunded"]),
                _money(b["deposit"]),
                b["due"],
                departure.snapshot,
                None if b["penalty"] is None else _money(b["penalty"]),
                b["hold_expires_at"],
                self.policy,
                b["by"],
                b["confirmed_at"],
                b["cancelled_at"],
                b["cancel_reason"],
                b["cancelled_by"],
                b["expired_at"],
                b["completed_at"],
                b["created"],
                b["updated"],
            )
        )

    def _flush(self) -> int:
        """Number the batch's documents, write its rows; returns how many."""
        needed = Counter(series for _, _, series in self.numbers)
        next_value = {
            series: reserve_numbers(series, n, postgres=self.writer.postgres)
            for series, n in sorted(needed.items())
        }
        for table, index, series in self.numbers:
            self.rows[table][index][1] = f"{series}-{next_value[series]:06d}"
            next_value[series] += 1
        batch = [(table, self.rows.pop(table, [])) for table in BATCH_TABLES]
        self.writer.write_batch(batch)
        for table, rows in batch:
            self.counts[table] += len(rows)
        self.numbers.clear()
        return sum(len(rows) for _, rows in batch)

    # -- after the bookings ---------------------------------------------------------

    def write_ledger(self) -> None:
        """The wallet lines in time order with their running balance; then each
        customer's cached `wallet_balance` = its ledger sum."""
        balances = Counter()
        rows = []
        for (
            when,
            _,
            customer_id,
            amount,
            kind,
            reason,
            booking_id,
            payment_id,
            refund_id,
            by_id,
        ) in sorted(self.ledger):
            balances[customer_id] += amount
            rows.append(
                (
                    self.ids.next("wallet_entries"),
                    customer_id,
                    _money(amount),
                    self.currency,
                    _money(balances[customer_id]),
                    kind,
                    reason,
                    booking_id,
                    payment_id,
                    refund_id,
                    by_id,
                    when,
                )
            )
        self.writer.write("wallet_entries", rows)
        self.counts["wallet_entries"] += len(rows)
        if balances:
            _update_many(
                "customers",
                "wallet_balance",
                [(c, _money(v)) for c, v in sorted(balances.items())],
            )

    def write_seats(self) -> None:
        """seats_taken of each departure and of its `adult` category = the seats of
        its held and confirmed bookings."""
        live = [d for d in self.departures if d.live]
        if not live:
            return
        _update_many("departures", "seats_taken", [(d.id, d.live) for d in live])
        _update_many(
            "departure_categories",
            "seats_taken",
            [(self.category_of[d.id], d.live) for d in live],
        )

    def make_enquiries(self, published: list[int]) -> None:
        """ENQUIRIES_PER_THOUSAND enquiries per 1000 bookings (at least 8) over the
        window, in every status: `new` ones unassigned, the others worked by a sales
        employee with a note per step (as demo.seed)."""
        rng, count = self.rng, max(8, self.count * ENQUIRIES_PER_THOUSAND // 1000)
        enquiries, notes = [], []
        span = (WINDOW_DAYS - 5) * 86400
        for index, enquiry_id in enumerate(self.ids.take("enquiries", count)):
            status = (
                ENQUIRY_STATUS_CYCLE[index]
                if index < len(ENQUIRY_STATUS_CYCLE)
                else rng.choices(ENQUIRY_STATUS_CYCLE, (2, 3, 3, 2))[0]
            )
            created = self.start + timedelta(
                seconds=int(span * _growth_time(rng.random()))
            )
            customer_id = self._customer_at(created)
            agent = rng.choice(self.sales)
            subject, message = rng.choice(ENQUIRY_TOPICS)
            when = created + timedelta(hours=rng.uniform(1, 30))
            steps = ENQUIRY_STATUS_CYCLE.index(status)
            for step in range(steps):
                notes.append(
                    (
                        self.ids.next("enquiry_notes"),
                        enquiry_id,
                        STAFF_NOTES[step],
                        "employee",
                        agent,
                        None,
                        None,
                        min(when, self.now),
                    )
                )
                when += timedelta(hours=rng.uniform(1, 30))
            if steps == 0:
                notes.append(
                    (
                        self.ids.next("enquiry_notes"),
                        enquiry_id,
                        "We are flexible on dates, if that helps.",
                        "customer",
                        None,
                        customer_id,
                        None,
                        min(when, self.now),
                    )
                )
            by_staff = agent if rng.random() < 0.4 else None
            enquiries.append(
                (
                    enquiry_id,
                    customer_id,
                    rng.choice(published) if published and rng.random() < 0.7 else None,
                    subject,
                    message,
                    status,
                    agent if steps else None,
                    by_staff,
                    created,
                    min(when, self.now),
                    min(when, self.now),
                    "phone" if by_staff else "web_form",
                )
            )
        self.writer.write("enquiries", enquiries)
        self._name_note_authors(notes)
        self.writer.write("enquiry_notes", notes)
        self.counts["enquiries"] += len(enquiries)
        self.counts["enquiry_notes"] += len(notes)

    def _name_note_authors(self, notes: list) -> None:
        """Fill each note's `author_name` (the employee's or customer's name)."""
        employees = dict(db.session.execute(select(Employee.id, Employee.name)).all())
        customer_ids = {note[5] for note in notes if note[5]}
        customers = (
            dict(
                db.session.execute(
                    select(Customer.id, Customer.name).where(
                        Customer.id.in_(customer_ids)
                    )
                ).all()
            )
            if customer_ids
            else {}
        )
        for index, note in enumerate(notes):
            name = employees.get(note[4]) if note[4] else customers.get(note[5])
            notes[index] = (*note[:6], name, *note[7:])


def _update_many(table: str, column: str, pairs: list) -> None:
    """`UPDATE table SET column = value WHERE id = ...` for each `(id, value)`, one
    executemany with the column's own type (Decimal money on SQLite too)."""
    t = db.metadata.tables[table]
    db.session.execute(
        update(t)
        .where(t.c.id == bindparam("row_id"))
        .values({column: bindparam("value")}),
        [{"row_id": row_id, "value": value} for row_id, value in pairs],
    )


def _check_schema() -> None:
    if not inspect(db.engine).has_table("bookings"):
        raise RuntimeError(
            "The database has no tables; run `flask --app app db upgrade`."
        )


def _analyze(tables) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load (reports and
    benchmarks run right after the seed, before autovacuum would)."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f"ANALYZE {table}"))


def seed_scale(
    count: int,
    *,
    seed: int = SCALE_SEED,
    force: bool = False,
    batch_size: int = BATCH_SIZE,
    echo=print,
    progress=NoProgress,
) -> dict:
    """Add `count` (>= 1) generated bookings with their money records, plus
    customers, departures and enquiries (see the module docstring), in one
    transaction, reporting through `progress(length, label)` (services.shared.pagination
    NoProgress: none; the CLI passes a progress bar on stderr).

    The demo data set is loaded first when the database is empty (or when `force`,
    as `seed-demo --force`), or when it has no published package or no sales and
    finance staff to work with; otherwise the existing staff and packages are
    reused. Returns rows added per table plus `bookings_<status>` counts and
    `seconds`. Raises RuntimeError when the schema is missing, ValueError for a
    count below 1.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    _check_schema()
    if force or not has_data():
        seed_demo(force=force, echo=echo, progress=progress)
    began = clock.monotonic()
    seeder = _ScaleSeeder(count, seed=seed, batch_size=batch_size)
    if not seeder.ready():
        seed_demo(force=True, echo=echo, progress=progress)
        seeder = _ScaleSeeder(count, seed=seed, batch_size=batch_size)
    try:
        seeder.make_customers()
        seeder.make_departures()
        with progress(count, "Generating bookings") as bar:
            seeder.run(bar)
        seeder.writer.wait()
        seeder.write_ledger()
        seeder.write_seats()
        seeder.make_enquiries([package.id for package in seeder.packages])
        seeder.writer.close()
        catalogue.bump_version()
        db.session.commit()
    except BaseException:
        try:
            seeder.writer.close()
        finally:
            db.session.rollback()
        raise
    _analyze(
        (
            "customers",
            "departures",
            "departure_categories",
            "packages",
            "enquiries",
            "enquiry_notes",
            "wallet_entries",
            *BATCH_TABLES,
        )
    )
    seconds = clock.monotonic() - began
    result = dict(seeder.counts)
    result.update(
        {f"bookings_{status}": n for status, n in sorted(seeder.statuses.items())}
    )
    result["seconds"] = round(seconds, 1)
    rows = sum(seeder.counts.values())
    echo(
        f"Added {count:,} bookings ("
        + ", ".join(f"{n:,} {status}" for status, n in sorted(seeder.statuses.items()))
        + "), "
        + ", ".join(
            f"{n:,} {table}"
            for table, n in seeder.counts.items()
            if table != "bookings"
        )
        + f": {rows:,} rows in {seconds:.1f} s "
        f"({rows / max(seconds, 1e-6):,.0f} rows/s)."
    )
    echo(
        f"Generated customers sign in as <name>.<id>@{EMAIL_DOMAIN} with the password "
        f"{DEMO_PASSWORD} (those registered by sales without one: password reset)."
    )
    return result
