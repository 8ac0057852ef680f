"""The sales pipeline around enquiries (docs/design.md "Lifecycles": enquiry): managed
lost reasons, the stage history, assignment history and per-employee capacity,
follow-up activities and quotes that lock a price until they expire."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import MONEY, TimestampMixin, UTCDateTime, db, utcnow

ACTIVITY_KINDS = ("call", "email", "meeting", "task")
QUOTE_STATUSES = ("open", "accepted", "withdrawn")
MERGE_REQUEST_STATUSES = ("pending", "approved", "rejected")
ASSIGNMENT_METHODS = ("round_robin", "manual", "pool")
# The managed list's starting content (code, label); admins add and retire reasons.
DEFAULT_LOST_REASONS = (
    ("price", "Price"),
    ("dates", "Dates"),
    ("destination", "Destination"),
    ("competitor", "Competitor"),
    ("no_answer", "No answer"),
    ("other", "Other"),
)


class EnquiryLostReason(TimestampMixin, db.Model):
    """Why an enquiry was lost; a managed list (admin edits), kept once used."""

    __tablename__ = "enquiry_lost_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    label: Mapped[str] = mapped_column(String(120), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class EnquiryStageChange(db.Model):
    """One move of an enquiry between stages; `seconds_in_from_stage` is the time
    the enquiry spent in `from_stage` (None on creation)."""

    __tablename__ = "enquiry_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    from_stage: Mapped[str | None] = mapped_column(String(12))
    to_stage: Mapped[str] = mapped_column(String(12), nullable=False)
    seconds_in_from_stage: Mapped[int | None] = mapped_column(Integer)
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    changed_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )


class EnquiryAssignment(db.Model):
    """One (re)assignment of an enquiry: to `employee_id`, or back to the pool (None);
    by round-robin, by hand (`assigned_by_id`) or on the assignee's deactivation."""

    __tablename__ = "enquiry_assignments"
    __table_args__ = (
        CheckConstraint(
            "method IN ('round_robin','manual','pool')", name="method_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL"), index=True
    )
    previous_employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    method: Mapped[str] = mapped_column(String(12), nullable=False)
    assigned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )


class SalesCapacity(db.Model):
    """A sales employee's share of the pipeline: how many open enquiries they carry
    at most (`capacity`, also the round-robin weight) and when they are absent."""

    __tablename__ = "sales_capacities"
    __table_args__ = (CheckConstraint("capacity >= 0", name="capacity_non_negative"),)

    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    absent_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    absent_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )

    def absent(self, now: datetime) -> bool:
        """True when `now` falls in [absent_from, absent_until) (an open end is
        unbounded; neither set: present)."""
        if self.absent_from is None and self.absent_until is None:
            return False
        started = self.absent_from is None or self.absent_from <= now
        return started and (self.absent_until is None or now < self.absent_until)


class EnquiryActivity(TimestampMixin, db.Model):
    """A typed follow-up (call, email, meeting, task) due at a time, owned by an
    employee; `reminder_sent_at` makes the reminder mail go out once."""

    __tablename__ = "enquiry_activities"
    __table_args__ = (
        CheckConstraint("kind IN ('call','email','meeting','task')", name="kind_valid"),
        db.Index("ix_enquiry_activities_owner_due", "owner_id", "done", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    summary: Mapped[str] = mapped_column(String(200), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    done: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )

    enquiry = relationship("Enquiry")
    owner = relationship("Employee", foreign_keys=[owner_id])


class Quote(TimestampMixin, db.Model):
    """An offer made from an enquiry: seats on a departure at prices copied (locked)
    when it was made, valid until `valid_until`; accepting it creates the booking."""

    __tablename__ = "quotes"
    __table_args__ = (
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint("total_amount >= 0", name="total_non_negative"),
        CheckConstraint(
            "status IN ('open','accepted','withdrawn')", name="status_valid"
        ),
        CheckConstraint(
            "status <> 'accepted' OR booking_id IS NOT NULL",
            name="accepted_has_booking",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    departure_id: Mapped[int] = mapped_column(
        ForeignKey("departures.id", ondelete="RESTRICT"), nullable=False
    )
    seats: Mapped[int] = mapped_column(Integer, nullable=False)
    travellers: Mapped[list | None] = mapped_column(JSON)
    # Price per traveller category when the quote was made, e.g. {"adult": "900.00"}.
    prices: Mapped[dict] = mapped_column(JSON, nullable=False)
    total_amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(10), default="open", nullable=False)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="RESTRICT"), unique=True
    )
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )

    enquiry = relationship("Enquiry")
    departure = relationship("Departure")

    def expired(self, now: datetime | None = None) -> bool:
        """True for an open quote whose validity has run out."""
        return self.status == "open" and (now or utcnow()) >= self.valid_until

    @property
    def current_status(self) -> str:
        """The status callers see: an open quote past `valid_until` is `expired`."""
        return "expired" if self.expired() else self.status


class CustomerMergeRequest(db.Model):
    """A request to merge `from_customer_id` into `customer_id` whose emails and
    phones do not match, waiting for a second employee (admin or finance, not the
    requester) to approve or reject it (maker-checker; services/sales/
    merge_requests.py). The status moves once, pending -> approved | rejected."""

    __tablename__ = "customer_merge_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending','approved','rejected')", name="status_valid"
        ),
        CheckConstraint("customer_id <> from_customer_id", name="distinct_customers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The survivor; RESTRICT keeps the request (the approval's evidence) on file.
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    from_customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(
        String(10), default="pending", nullable=False, index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False, index=True
    )


PHONE_KEY_DIGITS = 9
PHONE_MIN_DIGITS = 7


def phone_key(phone: str | None) -> str | None:
    """The normalised phone used to find duplicates: its last nine digits, which
    ignore formatting, a country code (+44 / 0044) and a trunk prefix (0), so
    `+44 20 7946 0958` and `020-7946-0958` match. None for fewer than 7 digits."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) < PHONE_MIN_DIGITS:
        return None
    return digits[-PHONE_KEY_DIGITS:]


def _keep_phone_key(_mapper, _connection, customer) -> None:
    """Keep `customers.phone_normalized` in step with `phone` on every write."""
    customer.phone_normalized = phone_key(customer.phone)


def _listen_customer_phone() -> None:
    from models.account import Customer

    db.event.listen(Customer, "before_insert", _keep_phone_key)
    db.event.listen(Customer, "before_update", _keep_phone_key)


_listen_customer_phone()
