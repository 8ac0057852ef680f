"""All models, imported here so that Alembic and create_all see every table."""

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
from models.departure import DEPARTURE_STATUSES, Departure, DepartureCategory
from models.package import PACKAGE_STATUSES, TRANSPORT_MODES, ItineraryDay, Package

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
