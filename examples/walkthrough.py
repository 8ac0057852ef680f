"""End-to-end walkthrough of the Easy Travels API over real HTTP.

Admin creates staff -> operation builds a package -> the operation head approves it ->
a customer registers, finds it by a word of its itinerary, books two seats, pays them
by card through the payment provider (a payment intent from the API, confirmed on the
provider as a client SDK would, the provider's signed webhook confirms the booking)
and raises an enquiry -> sales works the enquiry -> sales changes their password with a
mailed one-time code, read from an SMTP sink this script runs itself.

    python examples/walkthrough.py --base-url http://127.0.0.1:5000 \
        --admin-email admin@example.test --admin-password '...' --smtp-port 8025

The server must send mail to 127.0.0.1:<smtp-port> (MAIL_SERVER / MAIL_PORT) and use
the provider at --stripe-api-base (a localstripe with the server's webhook registered);
`make walkthrough` starts both on a fresh database. Exits 0 when every step got
the expected answer, 1 (with the step, status and body) otherwise.
"""

import argparse
import os
import random
import re
import string
import sys
import threading
import time
from datetime import date, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import requests
import stripe
from aiosmtpd.controller import Controller

TIMEOUT = (5, 20)  # connect, read seconds, for every request
MAIL_WAIT_SECONDS = 20
WEBHOOK_WAIT_SECONDS = 20
PASSWORD = "walkthrough-pass-1"
NEW_PASSWORD = "walkthrough-pass-2"


class WalkthroughFailed(Exception):
    """A step got an unexpected answer; the message says which and why."""


class Mailbox:
    """aiosmtpd handler that keeps every received message."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        """Keep the parsed message; 250 accepts it."""
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def wait_for_code(self, address: str, after: int) -> str:
        """The 6-digit code of the first message to `address` beyond the first
        `after` messages; waits up to MAIL_WAIT_SECONDS."""
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while time.monotonic() < deadline:
            with self.lock:
                mine = [m for m in self.messages[after:] if address in m["To"].lower()]
            if mine:
                body = mine[0].get_body(("plain",)).get_content()
                match = re.search(r"\b(\d{6})\b", body)
                if not match:
                    raise WalkthroughFailed(f"no 6-digit code in the mail:\n{body}")
                return match.group(1)
            time.sleep(0.2)
        raise WalkthroughFailed(
            f"no mail for {address} within {MAIL_WAIT_SECONDS}s: "
            "does the server send to "
            "this script's SMTP sink (MAIL_SERVER=127.0.0.1, MAIL_PORT=--smtp-port)?"
        )

    def count(self) -> int:
        """How many messages arrived so far."""
        with self.lock:
            return len(self.messages)


class Client:
    """Thin JSON client: every call states the status it expects."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()

    def call(self, method, path, *, expect, token=None, **kwargs):
        """Send a request and return the decoded JSON body (None for 204); raise
        WalkthroughFailed on another status."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = self.base + path
        try:
            response = self.http.request(
                method, url, headers=headers, timeout=TIMEOUT, **kwargs
            )
        except requests.RequestException as exc:
            raise WalkthroughFailed(f"{method} {path}: {exc}") from exc
        if response.status_code != expect:
            raise WalkthroughFailed(
                f"{method} {path}: expected {expect}, got {response.status_code}\n"
                f"{response.text[:2000]}"
            )
        return response.json() if response.content else None

    def login(self, email, password, account="employee", expect=200):
        """Log in by password; the access token (None when `expect` is not 200)."""
        body = self.call(
            "POST",
            "/api/v1/auth/login",
            expect=expect,
            json={"email": email, "password": password, "account": account},
        )
        return body["access_token"] if expect == 200 else None


def check(condition: bool, message: str, body=None) -> None:
    """Raise WalkthroughFailed with `message` (and the body) unless `condition`."""
    if not condition:
        raise WalkthroughFailed(f"{message}\n{body!r}"[:2000])


class Walkthrough:
    """The scenario, one method per actor; `step()` prints progress."""

    def __init__(
        self,
        client: Client,
        mailbox: Mailbox,
        admin_email,
        admin_password,
        stripe_api_base: str | None = None,
    ):
        self.api = client
        self.stripe_api_base = stripe_api_base
        self.mailbox = mailbox
        self.admin = (admin_email, admin_password)
        self.run = "".join(random.choices(string.ascii_lowercase, k=8))
        self.word = "zephyrquill" + self.run  # only in one itinerary day's description
        self.number = 0
        self.ids = {}

    def step(self, text: str) -> None:
        """Number and print the next step."""
        self.number += 1
        print(f"[{self.number:2d}] {text}", flush=True)

    def email(self, who: str) -> str:
        """An address unique to this run for `who`."""
        return f"{who}.{self.run}@walkthrough.test"

    def run_all(self) -> None:
        """Every step of the scenario, in order."""
        self.step("server is up: GET /health")
        self.api.call("GET", "/health", expect=200)
        self.admin_creates_staff()
        self.operation_builds_package()
        self.head_approves()
        self.customer_books()
        self.customer_pays_by_card()
        self.sales_works_enquiry()
        self.enquiry_becomes_booking()
        self.sales_changes_password()

    def admin_creates_staff(self) -> None:
        """The admin logs in and creates an operation, operation head and sales user."""
        self.step(f"admin {self.admin[0]} logs in")
        token = self.api.login(*self.admin)
        for role in ("operation", "operation_head", "sales"):
            self.step(f"admin creates the {role} employee")
            body = self.api.call(
                "POST",
                "/api/v1/employees",
                expect=201,
                token=token,
                json={
                    "name": f"Walkthrough {role.replace('_', ' ').title()}",
                    "email": self.email(role),
                    "phone": "+353 1 555 0100",
                    "role": role,
                    "password": PASSWORD,
                },
            )
            check(body["role"] == role and "password" not in body, "bad employee", body)
            self.ids[role] = body["id"]

    def operation_builds_package(self) -> None:
        """Operation creates a draft package, submits it and adds a departure."""
        self.step(
            "operation logs in and creates a draft package with a 3-day itinerary"
        )
        token = self.api.login(self.email("operation"), PASSWORD)
        days = [
            {
                "day_number": 1,
                "title": "Arrival in Porto",
                "location": "Porto",
                "description": "Check in and an evening walk along the Ribeira.",
            },
            {
                "day_number": 2,
                "title": "Douro valley",
                "location": "Pinhao",
                "description": f"River cruise and a tasting at the {self.word} estate.",
            },
            {
                "day_number": 3,
                "title": "Departure",
                "location": "Porto",
                "description": "Breakfast and transfer to the airport.",
            },
        ]
        body = self.api.call(
            "POST",
            "/api/v1/packages",
            expect=201,
            token=token,
            json={
                "title": "Porto and the Douro Valley",
                "description": "Port wine country.",
                "destination": "Porto, Portugal",
                "origin": "Dublin",
                "transport_mode": "flight",
                "duration_days": 3,
                "base_price": "480.00",
                "currency": "EUR",
                "itinerary": days,
            },
        )
        check(
            body["status"] == "draft" and len(body["itinerary"]) == 3,
            "bad package",
            body,
        )
        package_id = self.ids["package"] = body["id"]
        self.step("operation submits it for approval")
        body = self.api.call(
            "POST", f"/api/v1/packages/{package_id}/submit", expect=200, token=token
        )
        check(body["status"] == "pending_approval", "package not pending", body)
        self.step("operation adds a departure in 30 days (12 seats)")
        start = date.today() + timedelta(days=30)
        body = self.api.call(
            "POST",
            f"/api/v1/packages/{package_id}/departures",
            expect=201,
            token=token,
            json={
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=2)).isoformat(),
                "capacity": 12,
                "price": "495.00",
            },
        )
        check(
            body["seats_left"] == 12 and body["price"] == "495.00",
            "bad departure",
            body,
        )
        self.ids["departure"] = body["id"]

    def head_approves(self) -> None:
        """The operation head approves (publishes) the package."""
        self.step("operation head logs in and approves the package")
        token = self.api.login(self.email("operation_head"), PASSWORD)
        body = self.api.call(
            "POST",
            f"/api/v1/packages/{self.ids['package']}/approve",
            expect=200,
            token=token,
        )
        check(body["status"] == "published", "package not published", body)
        check(
            body["approved_by_id"] == self.ids["operation_head"], "wrong approver", body
        )

    def customer_books(self) -> None:
        """A customer registers, finds the package by search and books 2 seats."""
        self.step("a customer registers and logs in")
        body = self.api.call(
            "POST",
            "/api/v1/auth/register",
            expect=201,
            json={
                "name": "Walkthrough Customer",
                "email": self.email("customer"),
                "phone": "+353 85 555 0101",
                "address": "1 Quay Street, Galway",
                "password": PASSWORD,
            },
        )
        self.ids["customer"] = body["id"]
        token = self.ids["customer_token"] = self.api.login(
            self.email("customer"), PASSWORD, account="customer"
        )
        self.step(f"the customer searches GET /packages?q={self.word}")
        body = self.api.call(
            "GET", "/api/v1/packages", expect=200, token=token, params={"q": self.word}
        )
        found = [p["id"] for p in body["items"]]
        check(
            found == [self.ids["package"]],
            "search did not find exactly the package",
            body,
        )
        self.step("the customer lists its departures")
        body = self.api.call(
            "GET",
            f"/api/v1/packages/{self.ids['package']}/departures",
            expect=200,
            token=token,
        )
        check(
            [d["id"] for d in body["items"]] == [self.ids["departure"]],
            "departures",
            body,
        )
        self.step("the customer books 2 seats")
        body = self.api.call(
            "POST",
            "/api/v1/bookings",
            expect=201,
            token=token,
            json={"departure_id": self.ids["departure"], "seats": 2},
        )
        booking_id = body["id"]
        check(body["status"] == "held" and body["seats"] == 2, "booking not held", body)
        check(
            re.fullmatch(r"ET-[A-Z0-9]{6}", body["reference"] or ""), "reference", body
        )
        check(
            body["total_amount"] == "990.00" and body["hold_expires_at"],
            "amounts",
            body,
        )
        print(f"     booking {body['reference']} held until {body['hold_expires_at']}")
        body = self.api.call(
            "GET",
            f"/api/v1/departures/{self.ids['departure']}",
            expect=200,
            token=token,
        )
        check(body["seats_left"] == 10, "the departure should have 10 seats left", body)
        self.ids["booking"] = booking_id

    def customer_pays_by_card(self) -> None:
        """The customer pays by card; the provider's webhook confirms the booking."""
        token, booking_id = self.ids["customer_token"], self.ids["booking"]
        self.step(
            "the customer starts a card payment: POST /bookings/<id>/payment-intents"
        )
        intent = self.api.call(
            "POST",
            f"/api/v1/bookings/{booking_id}/payment-intents",
            expect=201,
            token=token,
            json={"amount": "990.00"},
        )
        check(
            intent["provider"] == "stripe"
            and intent["status"] == "pending"
            and intent["client_secret"]
            and intent["publishable_key"],
            "intent",
            intent,
        )
        self.step(
            "the client confirms it on the provider with the test card pm_card_visa"
        )
        # Stripe.js would confirm with the publishable key and the client secret.
        # localstripe accepts only `sk_` keys on payment intents (any such key: not
        # the server's) and refuses `confirm` with a payment_method argument, so the
        # client attaches the card first, then confirms, as its SDK calls do.
        provider = stripe.StripeClient(
            "sk_test_walkthrough_client",
            base_addresses={"api": self.stripe_api_base},
            max_network_retries=0,
        )
        pi = intent["provider_payment_id"]
        provider.v1.payment_intents.update(
            pi, params={"payment_method": "pm_card_visa"}
        )
        confirmed = provider.v1.payment_intents.confirm(pi)
        check(
            confirmed.status == "succeeded",
            "the provider did not take the payment",
            confirmed,
        )
        self.step("the provider's signed webhook confirms the booking")
        deadline = time.monotonic() + WEBHOOK_WAIT_SECONDS
        while True:
            body = self.api.call(
                "GET", f"/api/v1/bookings/{booking_id}", expect=200, token=token
            )
            if body["status"] == "confirmed" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        check(
            body["status"] == "confirmed" and body["amount_due"] == "0.00",
            "the booking was not confirmed by the webhook",
            body,
        )
        body = self.api.call(
            "GET", f"/api/v1/payment-intents/{intent['id']}", expect=200, token=token
        )
        check(body["status"] == "succeeded" and body["payment_id"], "attempt", body)
        print(f"     {pi} succeeded; booking confirmed, payment #{body['payment_id']}")

    def sales_works_enquiry(self) -> None:
        """The customer opens an enquiry; sales takes it, notes it, moves its stage."""
        self.step("the customer opens an enquiry about the package")
        body = self.api.call(
            "POST",
            "/api/v1/enquiries",
            expect=201,
            token=self.ids["customer_token"],
            json={
                "package_id": self.ids["package"],
                "subject": "Vegetarian meals",
                "message": "Is the tasting lunch available vegetarian?",
            },
        )
        check(body["stage"] == "new", "enquiry not new", body)
        enquiry_id = body["id"]
        self.step("sales logs in and lists new enquiries")
        token = self.api.login(self.email("sales"), PASSWORD)
        body = self.api.call(
            "GET",
            "/api/v1/enquiries",
            expect=200,
            token=token,
            params={"status": "new", "customer_id": self.ids["customer"]},
        )
        check(
            enquiry_id in [e["id"] for e in body["items"]], "enquiry not listed", body
        )
        path = f"/api/v1/enquiries/{enquiry_id}"
        self.step("sales assigns the enquiry to themself")
        body = self.api.call(
            "PATCH",
            path,
            expect=200,
            token=token,
            json={"assigned_to_id": self.ids["sales"]},
        )
        check(body["assigned_to_id"] == self.ids["sales"], "not assigned", body)
        self.step("sales adds a note")
        body = self.api.call(
            "POST",
            f"{path}/notes",
            expect=201,
            token=token,
            json={"body": "Checked with the estate: yes, on request."},
        )
        check(body["author_type"] == "employee", "bad note", body)
        for stage in ("contacted", "on_hold"):
            self.step(f"sales moves the enquiry to stage {stage}")
            body = self.api.call(
                "PATCH", path, expect=200, token=token, json={"stage": stage}
            )
            check(body["stage"] == stage, f"stage not {stage}", body)
        check(len(body["notes"]) == 1, "the enquiry should show its note", body)

    def enquiry_becomes_booking(self) -> None:
        """The sales pipeline: an enquiry, a quote at a locked price, its acceptance
        as a booking, and the enquiry won by it."""
        self.step("the customer asks for a family offer (an enquiry)")
        customer = self.ids["customer_token"]
        body = self.api.call(
            "POST",
            "/api/v1/enquiries",
            expect=201,
            token=customer,
            json={
                "package_id": self.ids["package"],
                "subject": "Offer for two",
                "message": "Could you send us an offer for two seats?",
            },
        )
        enquiry_id = body["id"]
        check(
            body["assigned_to_id"] == self.ids["sales"],
            "not assigned by round-robin",
            body,
        )
        self.step("sales quotes 2 seats on the departure, valid for 7 days")
        token = self.api.login(self.email("sales"), PASSWORD)
        valid = f"{(date.today() + timedelta(days=7)).isoformat()}T00:00:00+00:00"
        body = self.api.call(
            "POST",
            f"/api/v1/enquiries/{enquiry_id}/quotes",
            expect=201,
            token=token,
            json={
                "departure_id": self.ids["departure"],
                "seats": 2,
                "valid_until": valid,
            },
        )
        quote_id = body["id"]
        check(
            body["total_amount"] == "990.00" and body["status"] == "open", "quote", body
        )
        self.step("the customer reads the quote and accepts it: the booking is made")
        body = self.api.call(
            "GET", f"/api/v1/quotes/{quote_id}", expect=200, token=customer
        )
        check(body["prices"] == {"adult": "495.00"}, "quoted prices", body)
        body = self.api.call(
            "POST", f"/api/v1/quotes/{quote_id}/accept", expect=201, token=customer
        )
        check(
            body["status"] == "held" and body["total_amount"] == "990.00",
            "booking",
            body,
        )
        print(f"     quote {quote_id} became booking {body['reference']}")
        self.step("the enquiry is won by that booking")
        won = self.api.call(
            "GET", f"/api/v1/enquiries/{enquiry_id}", expect=200, token=token
        )
        check(
            won["stage"] == "won" and won["booking_id"] == body["id"],
            "enquiry not won",
            won,
        )

    def sales_changes_password(self) -> None:
        """Sales changes their password with a mailed code; only the new one works."""
        self.step("sales requests a password-change code by mail")
        token = self.api.login(self.email("sales"), PASSWORD)
        seen = self.mailbox.count()
        self.api.call(
            "POST",
            "/api/v1/auth/otp",
            expect=202,
            token=token,
            json={"purpose": "password_change"},
        )
        code = self.mailbox.wait_for_code(self.email("sales"), seen)
        self.step(
            f"sales reads code {code} from the SMTP sink and changes the password"
        )
        self.api.call(
            "POST",
            "/api/v1/auth/password",
            expect=204,
            token=token,
            json={"otp": code, "new_password": NEW_PASSWORD},
        )
        self.step("sales logs in with the new password; the old one is refused")
        self.api.login(self.email("sales"), NEW_PASSWORD)
        self.api.login(self.email("sales"), PASSWORD, expect=401)


def parse_args(argv=None):
    """The command line, with the admin and provider required."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--admin-email", default=os.environ.get("ADMIN_EMAIL"))
    parser.add_argument("--admin-password", default=os.environ.get("ADMIN_PASSWORD"))
    parser.add_argument(
        "--smtp-port",
        type=int,
        default=8025,
        help="port of the SMTP sink this script runs on 127.0.0.1",
    )
    parser.add_argument(
        "--stripe-api-base",
        default=os.environ.get("STRIPE_API_BASE"),
        help="the provider the server uses (a localstripe URL)",
    )
    args = parser.parse_args(argv)
    if not (args.admin_email and args.admin_password):
        parser.error(
            "--admin-email and --admin-password (or ADMIN_EMAIL/ADMIN_PASSWORD)"
        )
    if not args.stripe_api_base:
        parser.error("--stripe-api-base (or STRIPE_API_BASE): the local provider's URL")
    return args


def main(argv=None) -> int:
    """Run the walkthrough with its SMTP sink; 0 when every step passed."""
    args = parse_args(argv)
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=args.smtp_port)
    try:
        smtp.start()
    except Exception as exc:  # port taken, permission ...
        print(f"FAILED: cannot start the SMTP sink on port {args.smtp_port}: {exc}")
        return 1
    walk = Walkthrough(
        Client(args.base_url),
        mailbox,
        args.admin_email,
        args.admin_password,
        args.stripe_api_base,
    )
    try:
        walk.run_all()
    except WalkthroughFailed as exc:
        print(f"\nFAILED at step {walk.number}: {exc}", file=sys.stderr)
        return 1
    finally:
        smtp.stop()
    print(f"\nWalkthrough passed: {walk.number} steps against {args.base_url}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
