"""Route modules, one per URL family: a module (or, for a large family, a package
whose modules share its one blueprint) is named by the first path segment after
/api/v1 (hyphens as underscores) and mounts its blueprint there
(tests/core/test_route_modules.py checks it). Shared route helpers live in
routes/common/."""

from routes.activities import blp as activities_blp
from routes.audit import blp as audit_blp
from routes.auth import blp as auth_blp
from routes.bookings import blp as bookings_blp
from routes.customer_merge_requests import blp as customer_merge_requests_blp
from routes.customers import blp as customers_blp
from routes.departures import blp as departures_blp
from routes.employees import blp as employees_blp
from routes.enquiries import blp as enquiries_blp
from routes.enquiry_lost_reasons import blp as enquiry_lost_reasons_blp
from routes.health import blp as health_blp
from routes.invoices import blp as invoices_blp
from routes.outbox import blp as outbox_blp
from routes.packages import blp as packages_blp
from routes.payment_intents import blp as payment_intents_blp
from routes.payments import blp as payments_blp
from routes.quotes import blp as quotes_blp
from routes.refunds import blp as refunds_blp
from routes.reports import blp as reports_blp
from routes.tickets import blp as tickets_blp
from routes.transport import blp as transport_blp
from routes.webhooks import blp as webhooks_blp

API_PREFIX = "/api/v1"

# (blueprint, the first path segment it serves); health stays at the root.
BLUEPRINTS = [
    (health_blp, "/health"),
    *(
        (blueprint, f"{API_PREFIX}/{segment}")
        for blueprint, segment in [
            (auth_blp, "auth"),
            (employees_blp, "employees"),
            (customers_blp, "customers"),
            (customer_merge_requests_blp, "customer-merge-requests"),
            (packages_blp, "packages"),
            (departures_blp, "departures"),
            (enquiries_blp, "enquiries"),
            (enquiry_lost_reasons_blp, "enquiry-lost-reasons"),
            (activities_blp, "activities"),
            (quotes_blp, "quotes"),
            (bookings_blp, "bookings"),
            (payments_blp, "payments"),
            (payment_intents_blp, "payment-intents"),
            (invoices_blp, "invoices"),
            (refunds_blp, "refunds"),
            (webhooks_blp, "webhooks"),
            (outbox_blp, "outbox"),
            (reports_blp, "reports"),
            (audit_blp, "audit"),
            (transport_blp, "transport"),
            (tickets_blp, "tickets"),
        ]
    ),
]
