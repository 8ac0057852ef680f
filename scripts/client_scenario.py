"""Run a short scenario through a Python client generated from docs/openapi.json.

    python scripts/client_scenario.py --client-dir DIR --package NAME --base-url URL

`make client-check` generates the client with openapi-python-client into a temporary
directory (DIR/NAME) and runs this against a live server loaded with the demo data
(`flask seed-demo`, password `demo-password-1`). Each step calls one generated
operation, found by its operationId (the module `cancel_booking` for
`cancelBooking`, whichever tag folder it is in), and checks the status code and that
the body parsed into the generated model: a required field missing from an answer,
or a value outside a documented enum, raises in the generated `from_dict` and fails
the run. Steps: a customer logs in, lists and searches the packages, books a seat on
a departure, asks for the cancellation quote and cancels; an admin lists the
employees and reads a report. Exit status 0 when every step passed, 1 otherwise.
"""

import argparse
import datetime
import importlib
import pkgutil
import sys
import time
from pathlib import Path

DEMO_PASSWORD = "demo-password-1"  # demo/seed.py, public demo data
CUSTOMER_EMAIL = "customer@easytravels.test"
ADMIN_EMAIL = "admin@easytravels.test"


class ScenarioError(Exception):
    """A step got an unexpected status or body."""


class GeneratedClient:
    """The generated package `name` under `directory`: its client classes, models
    and operations (by operationId). `transport` is an httpx transport for every
    client it makes (tests pass `httpx.WSGITransport(app=...)`); None: the network."""

    def __init__(self, directory: Path, name: str, transport=None):
        self.httpx_args = {"transport": transport} if transport is not None else {}
        sys.path.insert(0, str(directory))
        self.package = importlib.import_module(name)
        self.models = importlib.import_module(f"{name}.models")
        self.api = importlib.import_module(f"{name}.api")
        self.name = name

    def operation(self, operation_id: str):
        """The generated module of `operation_id` (camelCase -> snake_case)."""
        module = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation_id)
        for tag in pkgutil.iter_modules(self.api.__path__):
            try:
                return importlib.import_module(f"{self.name}.api.{tag.name}.{module}")
            except ModuleNotFoundError:
                continue
        raise ScenarioError(f"the generated client has no operation {operation_id!r}")

    def anonymous(self, base_url: str):
        """An unauthenticated client for `base_url`."""
        return self.package.Client(
            base_url=base_url,
            raise_on_unexpected_status=True,
            httpx_args=self.httpx_args,
        )

    def authenticated(self, base_url: str, token: str):
        """A client sending `Authorization: Bearer <token>`."""
        return self.package.AuthenticatedClient(
            base_url=base_url,
            token=token,
            raise_on_unexpected_status=True,
            httpx_args=self.httpx_args,
        )


class Scenario:
    """The steps, sharing the generated client and what earlier steps found."""

    def __init__(self, generated: GeneratedClient, base_url: str):
        self.gen = generated
        self.base_url = base_url
        self.steps = 0

    def call(self, operation_id: str, client, status: int, model: str, **kwargs):
        """Call an operation; check the status and that the body parsed into `model`
        (a generated model class name). Returns the parsed body."""
        started = time.monotonic()
        response = self.gen.operation(operation_id).sync_detailed(
            client=client, **kwargs
        )
        parsed = response.parsed
        if response.status_code != status:
            raise ScenarioError(
                f"{operation_id}: status {response.status_code}, expected "
                f"{status}: {response.content[:300]!r}"
            )
        expected = getattr(self.gen.models, model)
        if not isinstance(parsed, expected):
            raise ScenarioError(
                f"{operation_id}: body parsed as {type(parsed).__name__}, "
                f"expected {model}"
            )
        self.steps += 1
        took = (time.monotonic() - started) * 1000
        print(f"  ok  {operation_id:<28} {status} {model} ({took:.0f} ms)")
        return parsed

    def login(self, email: str, account: str):
        """Password login; returns an authenticated client."""
        models = self.gen.models
        body = models.Login(
            email=email, password=DEMO_PASSWORD, account=models.LoginAccount(account)
        )
        token = self.call(
            "login", self.gen.anonymous(self.base_url), 200, "Token", body=body
        )
        if token.token_type.value != "Bearer":
            raise ScenarioError(f"login: token_type {token.token_type!r}")
        return self.gen.authenticated(self.base_url, token.access_token)

    def bookable_departure(self, customer, packages):
        """(package, departure) with a seat left, starting more than 30 days ahead."""
        soon = datetime.date.today() + datetime.timedelta(days=30)
        for package in packages:
            departures = self.call(
                "listPackageDepartures",
                customer,
                200,
                "DeparturePage",
                package_id=package.id,
                per_page=100,
            )
            for departure in departures.items:
                if (
                    departure.status.value == "scheduled"
                    and departure.seats_left >= 1
                    and departure.start_date > soon
                ):
                    return package, departure
        raise ScenarioError("no published package has a departure with a free seat")

    def customer_books_and_cancels(self) -> None:
        """Log in, list and search packages, book, quote, cancel."""
        models = self.gen.models
        customer = self.login(CUSTOMER_EMAIL, "customer")
        page = self.call("listPackages", customer, 200, "PackagePage", per_page=50)
        if not page.items or any(p.status.value != "published" for p in page.items):
            raise ScenarioError(
                "listPackages: the customer must see published packages"
            )
        package, departure = self.bookable_departure(customer, page.items)
        word = package.destination.split(",")[0]
        found = self.call("listPackages", customer, 200, "PackagePage", q=word)
        if package.id not in [p.id for p in found.items]:
            raise ScenarioError(
                f"listPackages q={word!r} did not find package {package.id}"
            )
        booking = self.call(
            "createBooking",
            customer,
            201,
            "Booking",
            body=models.BookingCreate(departure_id=departure.id, seats=1),
        )
        if booking.status.value != "held" or booking.departure_id != departure.id:
            raise ScenarioError(
                f"createBooking: {booking.status} on {booking.departure_id}"
            )
        quote = self.call(
            "getBookingCancellationQuote",
            customer,
            200,
            "CancellationQuote",
            booking_id=booking.id,
        )
        if not quote.cancellable:
            raise ScenarioError(
                "getBookingCancellationQuote: a new hold is cancellable"
            )
        cancel = models.Cancel(
            refund_to=models.CancelRefundTo("wallet"), reason="Client check"
        )
        cancelled = self.call(
            "cancelBooking",
            customer,
            200,
            "Cancellation",
            booking_id=booking.id,
            body=cancel,
        )
        if cancelled.booking.status.value != "cancelled":
            raise ScenarioError(f"cancelBooking: status {cancelled.booking.status}")
        print(
            f"      booked {booking.reference} on departure {departure.id} "
            f"({package.title}); quote tier {quote.tier.value}; cancelled"
        )

    def admin_reads(self) -> None:
        """Log in as the admin, list employees, read a report as JSON."""
        admin = self.login(ADMIN_EMAIL, "employee")
        employees = self.call("listEmployees", admin, 200, "EmployeePage", per_page=100)
        if not employees.items:
            raise ScenarioError("listEmployees: the demo data has employees")
        report = self.call("getRevenueMonthlyReport", admin, 200, "RevenueMonthReport")
        if report.report.value != "revenue.monthly" or report.basis.value != "cash":
            raise ScenarioError(
                f"getRevenueMonthlyReport: {report.report} {report.basis}"
            )
        print(
            f"      {len(employees.items)} employees; revenue report with "
            f"{len(report.rows)} rows"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the scenario; 0 when every step passed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--client-dir",
        type=Path,
        required=True,
        help="directory holding the generated package",
    )
    parser.add_argument("--package", required=True, help="the generated package's name")
    parser.add_argument("--base-url", required=True)
    args = parser.parse_args(argv)
    scenario = Scenario(GeneratedClient(args.client_dir, args.package), args.base_url)
    try:
        scenario.customer_books_and_cancels()
        scenario.admin_reads()
    except Exception as exc:  # any failure of a generated call fails the run
        print(
            f"client scenario FAILED after {scenario.steps} calls: "
            f"{type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 1
    print(f"client scenario passed: {scenario.steps} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
