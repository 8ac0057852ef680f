"""Enquiries and their note threads (docs/design.md "Lifecycles": enquiry)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, UTCDateTime, db, utcnow

ENQUIRY_STATUSES = ("new", "in_progress", "resolved", "closed")
# Allowed status changes (docs/design.md "Lifecycles": enquiry). `new -> closed` lets staff
# drop spam; `resolved`/`closed -> in_progress` is the reopen.
ENQUIRY_TRANSITIONS = {
    "new": ("in_progress", "closed"),
    "in_progress": ("resolved",),
    "resolved": ("closed", "in_progress"),
    "closed": ("in_progress",),
}


class Enquiry(TimestampMixin, db.Model):
    """A customer's question, worked by a sales employee; deleted with its customer."""

    __tablename__ = "enquiries"
    __table_args__ = (
        CheckConstraint(
            "status IN ('new','in_progress','resolved','closed')", name="status_valid"
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
    status: Mapped[str] = mapped_column(String(12), default="new", nullable=False, index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", ondelete="SET NULL")
    )

    customer = relationship("Customer", back_populates="enquiries")
    notes = relationship(
        "EnquiryNote",
        back_populates="enquiry",
        order_by="EnquiryNote.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class EnquiryNote(db.Model):
    """A message in an enquiry thread: a staff note or a customer reply."""

    __tablename__ = "enquiry_notes"
    __table_args__ = (
        CheckConstraint("author_type IN ('employee','customer')", name="author_type_valid"),
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    enquiry = relationship("Enquiry", back_populates="notes")
