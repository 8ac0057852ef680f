"""All models, imported here so that Alembic and create_all see every table."""

from models.account import ROLES, Customer, Employee, OtpCode, RevokedSession
from models.booking import BOOKING_STATUSES, LIVE_STATUSES, Booking, Traveller
from models.idempotency import IdempotencyKey
from models.enquiry import ENQUIRY_STATUSES, Enquiry, EnquiryNote
from models.package import (
    DEPARTURE_STATUSES,
    PACKAGE_STATUSES,
    TRANSPORT_MODES,
    Departure,
    ItineraryDay,
    Package,
)

__all__ = [
    "ROLES",
    "BOOKING_STATUSES",
    "LIVE_STATUSES",
    "ENQUIRY_STATUSES",
    "DEPARTURE_STATUSES",
    "PACKAGE_STATUSES",
    "TRANSPORT_MODES",
    "Booking",
    "Customer",
    "Departure",
    "Employee",
    "Enquiry",
    "EnquiryNote",
    "IdempotencyKey",
    "ItineraryDay",
    "OtpCode",
    "Package",
    "RevokedSession",
    "Traveller",
]
