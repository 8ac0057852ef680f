"""All models, imported here so that Alembic and create_all see every table."""

from sqlalchemy import func, select
from sqlalchemy.orm import column_property

from models.account import ROLES, Customer, Employee, OtpCode, RevokedSession
from models.audit import AuditEntry
from models.catalogue import CatalogueVersion
from models.billing import (
    PAYMENT_METHODS,
    CreditNote,
    DocumentSequence,
    Invoice,
    Payment,
    Refund,
    WalletEntry,
)
from models.booking import BOOKING_STATUSES, LIVE_STATUSES, Booking, Traveller
from models.idempotency import IdempotencyKey
from models.provider import ATTEMPT_STATES, PaymentAttempt, ProviderEvent
from models.outbox import OutboxMessage, WebhookEndpoint
from models.enquiry import ENQUIRY_STATUSES, Enquiry, EnquiryNote
from models.pipeline import (
    EnquiryActivity,
    EnquiryAssignment,
    EnquiryLostReason,
    EnquiryStageChange,
    Quote,
    SalesCapacity,
)
from models.package import (
    DEPARTURE_STATUSES,
    PACKAGE_STATUSES,
    TRANSPORT_MODES,
    Departure,
    DepartureCategory,
    ItineraryDay,
    Package,
)

__all__ = [
    "AuditEntry",
    "ROLES",
    "BOOKING_STATUSES",
    "LIVE_STATUSES",
    "ENQUIRY_STATUSES",
    "DEPARTURE_STATUSES",
    "PACKAGE_STATUSES",
    "TRANSPORT_MODES",
    "Booking",
    "CatalogueVersion",
    "CreditNote",
    "DepartureCategory",
    "DocumentSequence",
    "Invoice",
    "PAYMENT_METHODS",
    "Payment",
    "PaymentAttempt",
    "ProviderEvent",
    "ATTEMPT_STATES",
    "Refund",
    "WalletEntry",
    "Customer",
    "Departure",
    "Employee",
    "Enquiry",
    "EnquiryNote",
    "EnquiryActivity",
    "EnquiryAssignment",
    "EnquiryLostReason",
    "EnquiryStageChange",
    "Quote",
    "SalesCapacity",
    "IdempotencyKey",
    "ItineraryDay",
    "OtpCode",
    "Package",
    "RevokedSession",
    "Traveller",
    "OutboxMessage",
    "WebhookEndpoint",
]

# Seats of held bookings whose hold ran out but that no sweep has expired yet: they
# never count as taken (docs/design.md "Rules with numbers": hold). One correlated
# subquery per departure row, so lists stay one query.
Departure.lapsed_hold_seats = column_property(
    select(func.coalesce(func.sum(Booking.seats), 0))
    .where(
        Booking.departure_id == Departure.id,
        Booking.status == "held",
        Booking.hold_expires_at <= func.current_timestamp(),
    )
    .correlate_except(Booking)
    .scalar_subquery()
)
