"""Blueprints, one per resource, with the prefix each is mounted at."""

from routes.audit import blp as audit_blp
from routes.auth import blp as auth_blp
from routes.bookings import blp as bookings_blp
from routes.card_payments import blp as card_payments_blp
from routes.customers import blp as customers_blp
from routes.departures import blp as departures_blp
from routes.employees import blp as employees_blp
from routes.enquiries import blp as enquiries_blp
from routes.health import blp as health_blp
from routes.invoices import blp as invoices_blp
from routes.outbox import blp as outbox_blp
from routes.packages import blp as packages_blp
from routes.payments import blp as payments_blp
from routes.pipeline import blp as pipeline_blp
from routes.refunds import blp as refunds_blp
from routes.reports import blp as reports_blp
from routes.wallets import blp as wallets_blp

API_PREFIX = "/api/v1"

BLUEPRINTS = [
    (health_blp, "/health"),
    (auth_blp, f"{API_PREFIX}/auth"),
    (employees_blp, f"{API_PREFIX}/employees"),
    (customers_blp, f"{API_PREFIX}/customers"),
    (packages_blp, f"{API_PREFIX}/packages"),
    (departures_blp, f"{API_PREFIX}/departures"),
    (enquiries_blp, f"{API_PREFIX}/enquiries"),
    (bookings_blp, f"{API_PREFIX}/bookings"),
    # Money: paths are written out in full inside these blueprints because they span
    # /bookings/<id>/payments, /payments, /invoices and /refunds.
    (payments_blp, API_PREFIX),
    (invoices_blp, API_PREFIX),
    (refunds_blp, API_PREFIX),
    (card_payments_blp, API_PREFIX),
    (pipeline_blp, API_PREFIX),
    (wallets_blp, f"{API_PREFIX}/customers"),
    (reports_blp, f"{API_PREFIX}/reports"),
    (audit_blp, f"{API_PREFIX}/audit"),
    (outbox_blp, API_PREFIX),
]
