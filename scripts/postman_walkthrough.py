"""The hand-written "Walkthrough" folder of the Postman collection.

scripts/build_postman.py merges these steps, in this order, in front of the folders it
generates from docs/openapi.json, and refuses to build when a step's method and path
are not an operation of the spec. `make newman` runs this folder against a fresh
SQLite database loaded with `flask seed-demo` (demo accounts, password
`demo-password-1`, demo/seed.py).

The story follows examples/walkthrough.py and the README's curl tour, with money:
staff (the demo admin) pages through a list by cursor, builds a package and cannot
approve it themself (maker-checker), the operation head approves it, a customer
registers, searches, books two seats, pays by card through the payment provider (a
payment intent confirmed on the local provider; the signed webhook confirms the booking;
a retry with the same Idempotency-Key is replayed),
sees the invoice paid, asks for a cancellation quote, cancels with the refund to the
wallet, sees the wallet credited and the seats returned, raises an enquiry that
staff take over, answer and put on hold; the customer reads the answer, asks for an
offer that staff quote and the customer accepts as a booking (the enquiry is won),
and logs out. No step needs mail (no OTP), so no SMTP sink is involved. The card
payment needs the local payment provider (localstripe at `{{stripeBase}}`, which
`make newman` starts).

The steps come in groups, one function each (`STEP_GROUPS`, in run order); the
builder numbers the requests in that order, so a new group (or a step in a group)
is added without renumbering the others. Steps that need ids take them from the
environment variables earlier steps stored (`pm.environment.set(...)`).

Each step is a dict:
    name         request name in Postman (the builder puts the number in front)
    method, path the operation; path under {{baseUrl}}, may hold {{variables}}
    auth         "staff", "approver", "customer", "customer_refresh" or None
    status       expected HTTP status (the builder adds that pm.test and a JSON check)
    body         dict (sent as JSON) or str (raw JSON with unquoted {{numbers}})
    query        list of (key, value) pairs
    headers      list of (key, value) pairs
    prerequest   JavaScript run before the request (lines of one string)
    tests        JavaScript with pm.test(...) blocks and pm.environment.set(...)
    description  Markdown shown in Postman
"""

STAFF_EMAIL = "admin@easytravels.test"
APPROVER_EMAIL = "ophead@easytravels.test"


def server_and_staff() -> list[dict]:
    """The server answers; staff (the demo admin) log in and say who they are."""
    return [
        {
            "name": "Server is up",
            "method": "GET",
            "path": "/health",
            "auth": None,
            "status": 200,
            "description": "Liveness probe. Its pre-request script picks a run tag so "
            "that the customer's email and the search word are new on every run.",
            "prerequest": """
const tag = Array.from({ length: 8 }, () =>
    String.fromCharCode(97 + Math.floor(Math.random() * 26))).join("");
pm.environment.set("runTag", tag);
pm.environment.set("searchWord", "zephyrquill" + tag);
pm.environment.set("customerEmail", "postman." + tag + "@example.com");
pm.environment.set("customerPassword", "postman-pass-" + tag);
const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
pm.environment.set("startDate", day(60));
pm.environment.set("endDate", day(62));
""",
            "tests": """
pm.test("status ok", () => pm.expect(pm.response.json().status).to.eql("ok"));
""",
        },
        {
            "name": "Staff logs in (admin) and stores the tokens",
            "method": "POST",
            "path": "/api/v1/auth/login",
            "auth": None,
            "status": 200,
            "body": {
                "email": "{{staffEmail}}",
                "password": "{{demoPassword}}",
                "account": "employee",
            },
            "description": "Password login of a demo employee; the test script stores "
            "the access and refresh tokens in `staffAccessToken` / "
            "`staffRefreshToken`.",
            "tests": """
const body = pm.response.json();
pm.test("tokens returned", () => {
    pm.expect(body.access_token).to.be.a("string").and.not.empty;
    pm.expect(body.refresh_token).to.be.a("string").and.not.empty;
    pm.expect(body.token_type).to.eql("Bearer");
});
pm.environment.set("staffAccessToken", body.access_token);
pm.environment.set("staffRefreshToken", body.refresh_token);
""",
        },
        {
            "name": "Staff: who am I",
            "method": "GET",
            "path": "/api/v1/auth/me",
            "auth": "staff",
            "status": 200,
            "tests": """
const body = pm.response.json();
pm.test("an admin employee", () => {
    pm.expect(body.type).to.eql("employee");
    pm.expect(body.role).to.eql("admin");
    pm.expect(body.profile.email).to.eql(pm.environment.get("staffEmail"));
    pm.expect(body.profile).to.not.have.property("password");
});
pm.environment.set("staffId", body.profile.id);
pm.environment.set("employeeId", body.profile.id);
""",
        },
    ]


def package_approval() -> list[dict]:
    """Staff build a package and a departure; maker-checker: the operation head
    approves it."""
    return [
        {
            "name": "Staff creates a draft package with a 3-day itinerary",
            "method": "POST",
            "path": "/api/v1/packages",
            "auth": "staff",
            "status": 201,
            "body": {
                "title": "Porto and the Douro Valley",
                "description": "Port wine country.",
                "destination": "Porto, Portugal",
                "origin": "Dublin",
                "transport_mode": "flight",
                "duration_days": 3,
                "base_price": "480.00",
                "currency": "EUR",
                "itinerary": [
                    {
                        "day_number": 1,
                        "title": "Arrival in Porto",
                        "location": "Porto",
                        "description": "Check in and an evening walk along the "
                        "Ribeira.",
                    },
                    {
                        "day_number": 2,
                        "title": "Douro valley",
                        "location": "Pinhao",
                        "description": "River cruise and a tasting at the "
                        "{{searchWord}} estate.",
                    },
                    {
                        "day_number": 3,
                        "title": "Departure",
                        "location": "Porto",
                        "description": "Breakfast and transfer to the airport.",
                    },
                ],
            },
            "tests": """
const body = pm.response.json();
pm.test("a draft with its itinerary", () => {
    pm.expect(body.status).to.eql("draft");
    pm.expect(body.itinerary).to.have.lengthOf(3);
    pm.expect(body.base_price).to.eql("480.00");
    pm.expect(body.created_by_id).to.eql(pm.environment.get("staffId"));
});
pm.environment.set("packageId", body.id);
""",
        },
        {
            "name": "Staff submits the package for approval",
            "method": "POST",
            "path": "/api/v1/packages/{{packageId}}/submit",
            "auth": "staff",
            "status": 200,
            "tests": """
pm.test("pending approval", () =>
    pm.expect(pm.response.json().status).to.eql("pending_approval"));
""",
        },
        {
            "name": "Staff cannot approve their own package (maker-checker, 403)",
            "method": "POST",
            "path": "/api/v1/packages/{{packageId}}/approve",
            "auth": "staff",
            "status": 403,
            "description": "The admin may approve packages, but not a revision they "
            "created or last edited: a second person must check it.",
            "tests": """
const body = pm.response.json();
pm.test("problem details: maker-checker", () => {
    pm.expect(pm.response.headers.get("Content-Type")).to.include("application/problem+json");
    pm.expect(body.type).to.eql("/problems/maker-checker");
    pm.expect(body.status).to.eql(403);
    pm.expect(body.detail).to.be.a("string");
});
""",
        },
        {
            "name": "Staff adds a departure in 60 days (12 seats at 495.00)",
            "method": "POST",
            "path": "/api/v1/packages/{{packageId}}/departures",
            "auth": "staff",
            "status": 201,
            "body": {
                "start_date": "{{startDate}}",
                "end_date": "{{endDate}}",
                "capacity": 12,
                "price": "495.00",
            },
            "tests": """
const body = pm.response.json();
pm.test("12 seats left at 495.00", () => {
    pm.expect(body.package_id).to.eql(pm.environment.get("packageId"));
    pm.expect(body.seats_left).to.eql(12);
    pm.expect(body.price).to.eql("495.00");
    pm.expect(body.start_date).to.eql(pm.environment.get("startDate"));
});
pm.environment.set("departureId", body.id);
""",
        },
        {
            "name": "Operation head logs in",
            "method": "POST",
            "path": "/api/v1/auth/login",
            "auth": None,
            "status": 200,
            "body": {
                "email": "{{approverEmail}}",
                "password": "{{demoPassword}}",
                "account": "employee",
            },
            "tests": """
const body = pm.response.json();
pm.test("tokens returned", () => pm.expect(body.access_token).to.be.a("string").and.not.empty);
pm.environment.set("approverAccessToken", body.access_token);
""",  # noqa: E501 - Postman test script, verbatim
        },
        {
            "name": "Operation head approves and publishes the package",
            "method": "POST",
            "path": "/api/v1/packages/{{packageId}}/approve",
            "auth": "approver",
            "status": 200,
            "tests": """
const body = pm.response.json();
pm.test("published by a second person", () => {
    pm.expect(body.status).to.eql("published");
    pm.expect(body.approved_by_id).to.be.a("number");
    pm.expect(body.approved_by_id).to.not.eql(body.created_by_id);
});
""",
        },
    ]


def customer_search() -> list[dict]:
    """A new customer registers, logs in, refreshes the token, searches the
    catalogue and lists the departures."""
    return [
        {
            "name": "A customer registers",
            "method": "POST",
            "path": "/api/v1/auth/register",
            "auth": None,
            "status": 201,
            "body": {
                "name": "Postman Customer",
                "email": "{{customerEmail}}",
                "phone": "+353 85 555 0101",
                "address": "1 Quay Street, Galway",
                "password": "{{customerPassword}}",
            },
            "tests": """
const body = pm.response.json();
pm.test("a customer with an empty wallet and no password in the answer", () => {
    pm.expect(body.email).to.eql(pm.environment.get("customerEmail"));
    pm.expect(body.wallet_balance).to.eql("0.00");
    pm.expect(body).to.not.have.property("password");
});
pm.environment.set("customerId", body.id);
""",
        },
        {
            "name": "Customer logs in and stores the tokens",
            "method": "POST",
            "path": "/api/v1/auth/login",
            "auth": None,
            "status": 200,
            "body": {
                "email": "{{customerEmail}}",
                "password": "{{customerPassword}}",
                "account": "customer",
            },
            "tests": """
const body = pm.response.json();
pm.test("tokens returned", () => {
    pm.expect(body.access_token).to.be.a("string").and.not.empty;
    pm.expect(body.refresh_token).to.be.a("string").and.not.empty;
});
pm.environment.set("customerAccessToken", body.access_token);
pm.environment.set("customerRefreshToken", body.refresh_token);
""",
        },
        {
            "name": "Customer exchanges the refresh token for a new access token",
            "method": "POST",
            "path": "/api/v1/auth/refresh",
            "auth": "customer_refresh",
            "status": 200,
            "tests": """
const body = pm.response.json();
pm.test("a new access token", () => pm.expect(body.access_token).to.be.a("string").and.not.empty);
pm.environment.set("customerAccessToken", body.access_token);
""",  # noqa: E501 - Postman test script, verbatim
        },
        {
            "name": "Customer searches the catalogue by a word of the itinerary",
            "method": "GET",
            "path": "/api/v1/packages",
            "auth": "customer",
            "status": 200,
            "query": [("q", "{{searchWord}}")],
            "tests": """
const body = pm.response.json();
pm.test("exactly the new package is found", () => {
    pm.expect(body.items.map((p) => p.id)).to.eql([pm.environment.get("packageId")]);
    pm.expect(body.meta.total).to.eql(1);
});
""",
        },
        {
            "name": "Customer lists the package's departures",
            "method": "GET",
            "path": "/api/v1/packages/{{packageId}}/departures",
            "auth": "customer",
            "status": 200,
            "tests": """
const body = pm.response.json();
pm.test("the one departure, 12 seats left", () => {
    pm.expect(body.items.map((d) => d.id)).to.eql([pm.environment.get("departureId")]);
    pm.expect(body.items[0].seats_left).to.eql(12);
});
""",
        },
    ]


def booking_and_payment() -> list[dict]:
    """The customer books two seats and pays by card through the payment provider
    (a payment intent confirmed on localstripe); an idempotent retry is replayed;
    the provider's webhook confirms the booking; the invoice shows paid."""
    return [
        {
            "name": "Customer books 2 seats (held, invoiced)",
            "method": "POST",
            "path": "/api/v1/bookings",
            "auth": "customer",
            "status": 201,
            "body": '{\n  "departure_id": {{departureId}},\n  "seats": 2\n}',
            "tests": """
const body = pm.response.json();
pm.test("held with a reference, 990.00 due", () => {
    pm.expect(body.status).to.eql("held");
    pm.expect(body.seats).to.eql(2);
    pm.expect(body.reference).to.match(/^ET-[A-Z0-9]{6}$/);
    pm.expect(body.total_amount).to.eql("990.00");
    pm.expect(body.amount_due).to.eql("990.00");
    pm.expect(body.hold_expires_at).to.be.a("string");
    pm.expect(body.invoice_id).to.be.a("number");
});
pm.environment.set("bookingId", body.id);
pm.environment.set("bookingReference", body.reference);
pm.environment.set("invoiceId", body.invoice_id);
pm.environment.set("amountDue", body.amount_due);
""",
        },
        {
            "name": "The departure shows 10 seats left",
            "method": "GET",
            "path": "/api/v1/departures/{{departureId}}",
            "auth": "customer",
            "status": 200,
            "tests": """
pm.test("10 seats left", () => pm.expect(pm.response.json().seats_left).to.eql(10));
""",
        },
        {
            "name": "Customer starts a card payment (payment intent), "
            "confirmed on the provider",
            "method": "POST",
            "path": "/api/v1/bookings/{{bookingId}}/payment-intents",
            "auth": "customer",
            "status": 201,
            "headers": [("Idempotency-Key", "{{paymentKey}}")],
            "body": {"amount": "{{amountDue}}"},
            "description": "Card money enters only through the payment provider: the "
            "API creates a PaymentIntent, the client confirms it with Stripe.js or an "
            "SDK (here: two calls to the local provider at `{{stripeBase}}` with the "
            "test card `pm_card_visa`; localstripe accepts any `sk_test_` key and "
            "wants the card attached before `confirm`), and the provider's signed "
            "webhook confirms the booking. A fresh Idempotency-Key per run: a network "
            "retry with the same key and body gets the first answer.",
            "prerequest": """
pm.environment.set("paymentKey", "postman-pay-" + pm.environment.get("runTag"));
""",
            "tests": """
const body = pm.response.json();
pm.test("a pending stripe intent for the amount due", () => {
    pm.expect(body.provider).to.eql("stripe");
    pm.expect(body.status).to.eql("pending");
    pm.expect(body.amount).to.eql(pm.environment.get("amountDue"));
    pm.expect(body.client_secret).to.be.a("string");
});
pm.environment.set("attemptId", body.id);
pm.environment.set("providerPaymentId", body.provider_payment_id);
const provider = pm.environment.get("stripeBase") + "/v1/payment_intents/" + body.provider_payment_id;
const auth = { type: "bearer", bearer: [{ key: "token", value: "sk_test_postman_client", type: "string" }] };
pm.sendRequest({ url: provider, method: "POST", auth: auth,
    body: { mode: "urlencoded", urlencoded: [{ key: "payment_method", value: "pm_card_visa" }] } },
    (err) => {
        pm.test("card attached on the provider", () => pm.expect(err).to.eql(null));
        pm.sendRequest({ url: provider + "/confirm", method: "POST", auth: auth }, (err2, res) => {
            pm.test("the provider took the payment", () => {
                pm.expect(err2).to.eql(null);
                pm.expect(res.json().status).to.eql("succeeded");
            });
        });
    });
""",  # noqa: E501 - Postman test script, verbatim
        },
        {
            "name": "A retry with the same Idempotency-Key is replayed, "
            "no second intent",
            "method": "POST",
            "path": "/api/v1/bookings/{{bookingId}}/payment-intents",
            "auth": "customer",
            "status": 201,
            "headers": [("Idempotency-Key", "{{paymentKey}}")],
            "body": {"amount": "{{amountDue}}"},
            "tests": """
pm.test("the first answer, marked as replayed", () => {
    pm.expect(pm.response.headers.get("Idempotent-Replayed")).to.eql("true");
    pm.expect(pm.response.json().id).to.eql(pm.environment.get("attemptId"));
});
""",
        },
        {
            "name": "The provider's webhook confirmed the booking",
            "method": "GET",
            "path": "/api/v1/payment-intents/{{attemptId}}",
            "auth": "customer",
            "status": 200,
            "description": "localstripe sends the signed `payment_intent.succeeded` "
            "event about 1 s after the confirmation; the pre-request script waits 3 s.",
            "prerequest": """
setTimeout(() => {}, 3000);
""",
            "tests": """
const body = pm.response.json();
pm.test("succeeded, payment recorded", () => {
    pm.expect(body.status).to.eql("succeeded");
    pm.expect(body.payment_id).to.be.a("number");
});
pm.environment.set("paymentId", body.payment_id);
""",
        },
        {
            "name": "The invoice shows paid",
            "method": "GET",
            "path": "/api/v1/invoices/{{invoiceId}}",
            "auth": "customer",
            "status": 200,
            "tests": """
const body = pm.response.json();
pm.test("paid, one payment, nothing due", () => {
    pm.expect(body.status).to.eql("paid");
    pm.expect(body.booking_reference).to.eql(pm.environment.get("bookingReference"));
    pm.expect(body.total_amount).to.eql("990.00");
    pm.expect(body.balance_due).to.eql("0.00");
    pm.expect(body.payments.map((p) => p.id)).to.eql([pm.environment.get("paymentId")]);
});
""",
        },
    ]


def cancellation() -> list[dict]:
    """The customer asks for a quote and cancels with the refund to the wallet;
    the wallet and the seats show it."""
    return [
        {
            "name": "Customer asks what cancelling would cost (quote, no side effects)",
            "method": "GET",
            "path": "/api/v1/bookings/{{bookingId}}/cancellation-quote",
            "auth": "customer",
            "status": 200,
            "tests": """
const body = pm.response.json();
pm.test("60 days ahead: 10 % penalty", () => {
    pm.expect(body.cancellable).to.eql(true);
    pm.expect(body.tier).to.eql("30_days_or_more");
    pm.expect(body.penalty_percent).to.eql(10);
    pm.expect(body.penalty_amount).to.eql("99.00");
    pm.expect(body.refund_amount).to.eql("891.00");
});
pm.environment.set("refundAmount", body.refund_amount);
""",
        },
        {
            "name": "Customer cancels with the refund to the wallet",
            "method": "POST",
            "path": "/api/v1/bookings/{{bookingId}}/cancel",
            "auth": "customer",
            "status": 200,
            "body": {"refund_to": "wallet", "reason": "Plans changed"},
            "tests": """
const body = pm.response.json();
pm.test("cancelled, the quoted amount refunded to the wallet at once", () => {
    pm.expect(body.booking.status).to.eql("cancelled");
    pm.expect(body.booking.penalty_amount).to.eql("99.00");
    pm.expect(body.refunds).to.have.lengthOf(1);
    pm.expect(body.refunds[0].destination).to.eql("wallet");
    pm.expect(body.refunds[0].status).to.eql("completed");
    pm.expect(body.refunds[0].amount).to.eql(pm.environment.get("refundAmount"));
});
pm.environment.set("refundId", body.refunds[0].id);
""",
        },
        {
            "name": "The wallet holds the refund",
            "method": "GET",
            "path": "/api/v1/customers/{{customerId}}/wallet",
            "auth": "customer",
            "status": 200,
            "tests": """
const body = pm.response.json();
pm.test("balance = refund, one refund credit in the ledger", () => {
    pm.expect(body.balance).to.eql(pm.environment.get("refundAmount"));
    pm.expect(body.entries).to.have.lengthOf(1);
    pm.expect(body.entries[0].kind).to.eql("refund_credit");
    pm.expect(body.entries[0].refund_id).to.eql(pm.environment.get("refundId"));
});
""",
        },
        {
            "name": "The seats are back on sale",
            "method": "GET",
            "path": "/api/v1/departures/{{departureId}}",
            "auth": "customer",
            "status": 200,
            "tests": """
pm.test("12 seats left again", () => pm.expect(pm.response.json().seats_left).to.eql(12));
""",  # noqa: E501 - Postman test script, verbatim
        },
    ]


def enquiry() -> list[dict]:
    """The customer raises an enquiry that staff take over, answer and put on hold
    (pipeline stages, docs/design.md "Lifecycles": enquiry)."""
    return [
        {
            "name": "Customer raises an enquiry about the package",
            "method": "POST",
            "path": "/api/v1/enquiries",
            "auth": "customer",
            "status": 201,
            "body": '{\n  "package_id": {{packageId}},\n'
            '  "subject": "Vegetarian meals",\n'
            '  "message": "Is the tasting lunch available vegetarian?"\n}',
            "tests": """
const body = pm.response.json();
pm.test("a new enquiry of this customer", () => {
    pm.expect(body.stage).to.eql("new");
    pm.expect(body.customer_id).to.eql(pm.environment.get("customerId"));
    pm.expect(body.notes).to.eql([]);
});
pm.environment.set("enquiryId", body.id);
""",
        },
        {
            "name": "Staff list the customer's new enquiries",
            "method": "GET",
            "path": "/api/v1/enquiries",
            "auth": "staff",
            "status": 200,
            "query": [("stage", "new"), ("customer_id", "{{customerId}}")],
            "tests": """
pm.test("the enquiry is listed", () => pm.expect(
    pm.response.json().items.map((e) => e.id)).to.include(pm.environment.get("enquiryId")));
""",  # noqa: E501 - Postman test script, verbatim
        },
        {
            "name": "Staff take the enquiry over and mark it contacted",
            "method": "PATCH",
            "path": "/api/v1/enquiries/{{enquiryId}}",
            "auth": "staff",
            "status": 200,
            "body": '{\n  "assigned_to_id": {{staffId}},\n  "stage": "contacted"\n}',
            "tests": """
const body = pm.response.json();
pm.test("assigned by hand and contacted", () => {
    pm.expect(body.assigned_to_id).to.eql(pm.environment.get("staffId"));
    pm.expect(body.stage).to.eql("contacted");
    pm.expect(body.assignments.map((a) => a.method)).to.include("manual");
});
""",
        },
        {
            "name": "Staff answer with a note",
            "method": "POST",
            "path": "/api/v1/enquiries/{{enquiryId}}/notes",
            "auth": "staff",
            "status": 201,
            "body": {"body": "Checked with the estate: yes, on request."},
            "tests": """
const body = pm.response.json();
pm.test("an employee note", () => {
    pm.expect(body.author_type).to.eql("employee");
    pm.expect(body.author_employee_id).to.eql(pm.environment.get("staffId"));
});
pm.environment.set("noteId", body.id);
""",
        },
        {
            "name": "Staff put the enquiry on hold (answered)",
            "method": "PATCH",
            "path": "/api/v1/enquiries/{{enquiryId}}",
            "auth": "staff",
            "status": 200,
            "body": {"stage": "on_hold"},
            "tests": """
pm.test("on hold", () => pm.expect(pm.response.json().stage).to.eql("on_hold"));
""",
        },
        {
            "name": "Customer reads the answer",
            "method": "GET",
            "path": "/api/v1/enquiries/{{enquiryId}}",
            "auth": "customer",
            "status": 200,
            "tests": """
const body = pm.response.json();
pm.test("on hold, with the staff note", () => {
    pm.expect(body.stage).to.eql("on_hold");
    pm.expect(body.notes.map((n) => n.id)).to.eql([pm.environment.get("noteId")]);
    pm.expect(body.notes[0].body).to.include("yes, on request");
});
""",
        },
    ]


def enquiry_to_booking() -> list[dict]:
    """The sales pipeline: the customer asks for an offer, staff quote it at a
    locked price, the customer accepts the quote as a held booking and the
    enquiry is won (docs/design.md "Lifecycles": enquiry). Self-contained."""
    return [
        {
            "name": "Customer asks for an offer (a new enquiry)",
            "method": "POST",
            "path": "/api/v1/enquiries",
            "auth": "customer",
            "status": 201,
            "body": '{\n  "package_id": {{packageId}},\n  "subject": "Offer for two",\n'
            '  "message": "Could you send us an offer for two seats?"\n}',
            "tests": """
const body = pm.response.json();
pm.test("a new web-form enquiry with a first-response deadline", () => {
    pm.expect(body.stage).to.eql("new");
    pm.expect(body.source).to.eql("web_form");
    pm.expect(body.first_response_due_at).to.be.a("string");
});
pm.environment.set("offerEnquiryId", body.id);
""",
        },
        {
            "name": "Staff quote two seats, valid for 7 days",
            "method": "POST",
            "path": "/api/v1/enquiries/{{offerEnquiryId}}/quotes",
            "auth": "staff",
            "status": 201,
            "prerequest": """
pm.environment.set("quoteValidUntil", new Date(Date.now() + 7 * 86400000).toISOString());
""",  # noqa: E501 - Postman test script, verbatim
            "body": '{\n  "departure_id": {{departureId}},\n  "seats": 2,\n'
            '  "valid_until": "{{quoteValidUntil}}"\n}',
            "tests": """
const body = pm.response.json();
pm.test("an open quote at the departure's price", () => {
    pm.expect(body.status).to.eql("open");
    pm.expect(body.total_amount).to.eql((2 * parseFloat(body.prices.adult)).toFixed(2));
});
pm.environment.set("quoteId", body.id);
pm.environment.set("quoteTotal", body.total_amount);
""",
        },
        {
            "name": "Customer reads the quote",
            "method": "GET",
            "path": "/api/v1/quotes/{{quoteId}}",
            "auth": "customer",
            "status": 200,
            "tests": """
pm.test("open", () => pm.expect(pm.response.json().status).to.eql("open"));
""",
        },
        {
            "name": "Customer accepts the quote: the booking at the quoted price",
            "method": "POST",
            "path": "/api/v1/quotes/{{quoteId}}/accept",
            "auth": "customer",
            "status": 201,
            "tests": """
const body = pm.response.json();
pm.test("a held booking at the quoted total", () => {
    pm.expect(body.status).to.eql("held");
    pm.expect(body.seats).to.eql(2);
    pm.expect(body.total_amount).to.eql(pm.environment.get("quoteTotal"));
});
pm.environment.set("quotedBookingId", body.id);
""",
        },
        {
            "name": "Staff see the enquiry won by that booking",
            "method": "GET",
            "path": "/api/v1/enquiries/{{offerEnquiryId}}",
            "auth": "staff",
            "status": 200,
            "tests": """
const body = pm.response.json();
pm.test("won", () => {
    pm.expect(body.stage).to.eql("won");
    pm.expect(body.booking_id).to.eql(pm.environment.get("quotedBookingId"));
});
""",
        },
    ]


def logout() -> list[dict]:
    """The customer logs out; the revoked token is refused."""
    return [
        {
            "name": "Customer logs out",
            "method": "POST",
            "path": "/api/v1/auth/logout",
            "auth": "customer",
            "status": 204,
        },
        {
            "name": "The revoked token is refused (401 problem)",
            "method": "GET",
            "path": "/api/v1/auth/me",
            "auth": "customer",
            "status": 401,
            "tests": """
const body = pm.response.json();
pm.test("problem details: token revoked", () => {
    pm.expect(pm.response.headers.get("Content-Type")).to.include("application/problem+json");
    pm.expect(body.type).to.eql("/problems/token-revoked");
    pm.expect(body.status).to.eql(401);
});
""",
        },
    ]


# The groups in run order; STEPS is the flat list the builder reads.
def paging() -> list[dict]:
    """Staff page through a list by cursor: the first page's `meta.next_cursor`
    brings the next rows (none repeated); a cursor of another sort is a 422."""
    return [
        {
            "name": "Staff list employees one per page (first page)",
            "method": "GET",
            "path": "/api/v1/employees",
            "auth": "staff",
            "status": 200,
            "query": [("per_page", "1")],
            "description": "Every list answers `meta.has_more` and `meta.next_cursor`; "
            "send the cursor back as `?cursor=` for the next page (any depth, while "
            "`?page=` stops at the first 10,000 rows).",
            "tests": """
const meta = pm.response.json().meta;
pm.test("a next page is announced", () => {
    pm.expect(meta.has_more).to.eql(true);
    pm.expect(meta.next_cursor).to.be.a("string");
    pm.expect(meta.total_is_estimate).to.eql(false);
});
pm.environment.set("nextCursor", meta.next_cursor);
pm.environment.set("firstPageIds", JSON.stringify(
    pm.response.json().items.map((e) => e.id)));
""",
        },
        {
            "name": "Staff follow next_cursor to the second page",
            "method": "GET",
            "path": "/api/v1/employees",
            "auth": "staff",
            "status": 200,
            "query": [("per_page", "1"), ("cursor", "{{nextCursor}}")],
            "tests": """
const body = pm.response.json();
const before = JSON.parse(pm.environment.get("firstPageIds"));
pm.test("the next rows, none of the first page", () => {
    pm.expect(body.items.length).to.eql(1);
    pm.expect(before).to.not.include(body.items[0].id);
    pm.expect(body.meta.page).to.eql(null);
});
""",
        },
        {
            "name": "A cursor of another sort is refused (422 problem)",
            "method": "GET",
            "path": "/api/v1/employees",
            "auth": "staff",
            "status": 422,
            "query": [
                ("per_page", "1"),
                ("sort", "name"),
                ("cursor", "{{nextCursor}}"),
            ],
            "tests": """
pm.test("the problem names the cursor", () => pm.expect(
    pm.response.json().errors).to.have.property("query.cursor"));
""",
        },
    ]


STEP_GROUPS = [
    server_and_staff,
    paging,
    package_approval,
    customer_search,
    booking_and_payment,
    cancellation,
    enquiry,
    enquiry_to_booking,
    logout,
]
STEPS = [step for group in STEP_GROUPS for step in group()]
