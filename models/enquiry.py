"""Enquiries and their note threads (docs/design.md "Lifecycles": enquiry, a sales
pipeline). The pipeline's own records (stage history, assignments, activities,
quotes, lost reasons) live in models/pipeline.py."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, utcnow

ENQUIRY_STAGES = ("new", "contacted", "quoted", "won", "lost", "on_hold")
# Kept for importers of the old name: the pipeline's stages replaced the statuses.
ENQUIRY_STATUSES = ENQUIRY_STAGES
OPEN_STAGES = ("new", "contacted", "quoted", "on_hold")
# Allowed stage changes (docs/design.md "Lifecycles": enquiry). `won` is reached only by
# linking a booking (services/sales/enquiries.py), never named alone;
# `lost -> contacted` or `lost -> quoted` is the reopen; `on_hold` parks an enquiry and
# resumes it.
ENQUIRY_TRANSITIONS = {
    "new": ("contacted", "quoted", "lost", "on_hold"),
    "contacted": ("quoted", "lost", "on_hold"),
    "quoted": ("contacted", "won", "lost", "on_hold"),
    "on_hold": ("contacted", "quoted", "lost"),
    "lost": ("contacted", "quoted"),
    "won": (),
}
ENQUIRY_SOURCES = ("web_form", "phone", "email", "walk_in", "partner", "campaign")


class Enquiry(TimestampMixin, db.Model):
    """A customer's question, worked by a sales employee; deleted with its customer."""

    __tablename__ = "enquiries"
    __table_args__ = (
        CheckConstraint(
            "stage IN ('new','contacted','quoted','won','lost','on_hold')",
            name="stage_valid",
        ),
        CheckConstraint(
            "stage <> 'lost' OR lost_reason_id IS NOT NULL", name="lost_has_reason"
        ),
        CheckConstraint(
            "stage <> 'won' OR booking_id IS NOT NULL", name="won_has_booking"
        ),
        CheckConstraint(
            "source IN ('web_form','phone','email','walk_in','partner','campaign')",
            name="source_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("packages.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    stage: Mapped[str] = mapped_column(
        String(12), default="new", nullable=False, index=True
    )
    # When the enquiry entered its current stage (history: EnquiryStageChange).
    stage_changed_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )
    source: Mapped[str] = mapped_column(String(12), default="web_form", nullable=False)
    campaign_tag: Mapped[str | None] = mapped_column(String(60))
    lost_reason_id: Mapped[int | None] = mapped_column(
        ForeignKey("enquiry_lost_reasons.id", ondelete="RESTRICT")
    )
    lost_feedback: Mapped[str | None] = mapped_column(Text)
    # The booking that won the enquiry (one enquiry per booking).
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="RESTRICT"), unique=True
    )
    won_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # First staff reaction (stage change, staff note, activity done) and its deadline
    # (created_at + ENQUIRY_FIRST_RESPONSE_HOURS).
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )

    customer = relationship("Customer", back_populates="enquiries")
    lost_reason = relationship("EnquiryLostReason")
    stage_changes = relationship(
        "EnquiryStageChange",
        order_by="EnquiryStageChange.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    notes = relationship(
        "EnquiryNote",
        back_populates="enquiry",
        order_by="EnquiryNote.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def status(self) -> str:
        """The former name of `stage`, still answered for older clients."""
        return self.stage

    @property
    def first_response_overdue(self) -> bool:
        """True when no staff member reacted by `first_response_due_at` (or the first
        reaction came after it)."""
        if self.first_response_due_at is None:
            return False
        return (self.first_response_at or utcnow()) > self.first_response_due_at

    @property
    def time_in_stages(self) -> dict:
        """Seconds spent in each stage so far, from the stage history (the current
        stage counts up to now): `{"new": 3600, "contacted": 120}`."""
        spent: dict[str, int] = {}
        for change in self.stage_changes:
            if (
                change.from_stage is not None
                and change.seconds_in_from_stage is not None
            ):
                spent[change.from_stage] = (
                    spent.get(change.from_stage, 0) + change.seconds_in_from_stage
                )
        current = max(0, int((utcnow() - self.stage_changed_at).total_seconds()))
        spent[self.stage] = spent.get(self.stage, 0) + current
        return spent

    @property
    def open(self) -> bool:
        """True while the enquiry is still being worked (not won or lost)."""
        return self.stage in OPEN_STAGES


class EnquiryNote(db.Model):
    """A message in an enquiry thread: a staff note or a customer reply."""

    __tablename__ = "enquiry_notes"
    __table_args__ = (
        CheckConstraint(
            "author_type IN ('employee','customer')", name="author_type_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    author_type: Mapped[str] = mapped_column(String(10), nullable=False)
    author_employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )
    author_customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE")
    )
    # The author's name when the note was written: the thread still reads correctly
    # after the employee is deleted (author_employee_id then becomes NULL).
    author_name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, nullable=False
    )

    enquiry = relationship("Enquiry", back_populates="notes")
