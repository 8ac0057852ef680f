"""All models, imported here so that Alembic and create_all see every table."""

from models.account import ROLES, Customer, Employee, OtpCode, RevokedSession
from models.audit import AuditEntry
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
from models.catalogue import CatalogueVersion
from models.departure import DEPARTURE_STATUSES, Departure, DepartureCategory
from models.enquiry import ENQUIRY_STATUSES, Enquiry, EnquiryNote
from models.idempotency import IdempotencyKey
from models.outbox import OutboxMessage, WebhookEndpoint
from models.package import PACKAGE_STATUSES, TRANSPORT_MODES, ItineraryDay, Package
from models.pipeline import (
    CustomerMergeRequest,
    EnquiryActivity,
    EnquiryAssignment,
    EnquiryLostReason,
    EnquiryStageChange,
    Quote,
    SalesCapacity,
)
from models.provider import ATTEMPT_STATES, PaymentAttempt, ProviderEvent
from models.ticket import TICKET_STATUSES, SeatSegment, Ticket
from models.transport import (
    TRIP_STATUSES,
    VEHICLE_MODES,
    Amenity,
    City,
    Fare,
    RouteStop,
    Schedule,
    Station,
    StopTime,
    TransportCompany,
    TransportRoute,
    Trip,
    Vehicle,
    VehicleSection,
)

__all__ = [
    "ATTEMPT_STATES",
    "BOOKING_STATUSES",
    "DEPARTURE_STATUSES",
    "ENQUIRY_STATUSES",
    "LIVE_STATUSES",
    "PACKAGE_STATUSES",
    "PAYMENT_METHODS",
    "ROLES",
    "TICKET_STATUSES",
    "TRANSPORT_MODES",
    "TRIP_STATUSES",
    "VEHICLE_MODES",
    "Amenity",
    "AuditEntry",
    "Booking",
    "CatalogueVersion",
    "City",
    "CreditNote",
    "Customer",
    "CustomerMergeRequest",
    "Departure",
    "DepartureCategory",
    "DocumentSequence",
    "Employee",
    "Enquiry",
    "EnquiryActivity",
    "EnquiryAssignment",
    "EnquiryLostReason",
    "EnquiryNote",
    "EnquiryStageChange",
    "Fare",
    "IdempotencyKey",
    "Invoice",
    "ItineraryDay",
    "OtpCode",
    "OutboxMessage",
    "Package",
    "Payment",
    "PaymentAttempt",
    "ProviderEvent",
    "Quote",
    "Refund",
    "RevokedSession",
    "RouteStop",
    "SalesCapacity",
    "Schedule",
    "SeatSegment",
    "Station",
    "StopTime",
    "Ticket",
    "TransportCompany",
    "TransportRoute",
    "Traveller",
    "Trip",
    "Vehicle",
    "VehicleSection",
    "WalletEntry",
    "WebhookEndpoint",
]
