"""Invoice PDF rendering time (docs/documents.md "Invoices and credit notes"):
what `GET /invoices/<id>.pdf` costs per invoice on this machine; goal under
150 ms per invoice.

On a fresh SQLite database (a temporary file; `--database-url` for another) the
script issues --invoices invoices for package bookings of an adult and a child
(partly paid, so the payments table shows), renders --warmup of them to warm the
caches (fonts scanned once per process, templates compiled), then times, one
after another in one process:

    render   services.documents.invoice_pdf.render_invoice: the snapshot and the
             live money read, the Jinja template and WeasyPrint's layout and PDF
             (fonts subset and embedded)
    http     GET /api/v1/invoices/<id>.pdf through the Flask test client with a
             finance token (auth, access check, the same rendering, the response)

and prints p50, p95, max and invoices per second (1 / mean) of each, in wall
time and in CPU time of this process (`cpu p50`: what one render costs whatever
else the machine runs; wall times grow with the load average). Nothing is
asserted on time.

    .venv/bin/python bench/invoice_pdf.py                   # 200 invoices
    .venv/bin/python bench/invoice_pdf.py --invoices 500 --language de
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_MS = 150


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--invoices", type=int, default=200, help="invoices timed (200)"
    )
    parser.add_argument(
        "--warmup", type=int, default=10, help="renders before timing (10)"
    )
    parser.add_argument(
        "--language", default="en", help="Accept-Language of the renders (en)"
    )
    parser.add_argument(
        "--database-url", default="", help="default: a temporary SQLite file"
    )
    return parser.parse_args(argv)


def seed(count: int) -> tuple[list[int], int]:
    """`count` invoiced package bookings (adult 1234.50 + child 600.00, 500.00
    paid by card) of one customer with a billing address; returns (invoice ids,
    finance employee id). Needs an app context."""
    from core.extensions import db
    from models import (
        Booking,
        Customer,
        Departure,
        Employee,
        Package,
        Payment,
        Traveller,
    )
    from services.booking.bookings import new_reference
    from services.payments import billing

    customer = Customer(
        name="Erika Mustermann",
        email="erika@example.test",
        billing_address="Hauptstraße 5\n10115 Berlin\nGermany",
        vat_id="DE123456789",
    )
    finance = Employee(name="Fin Ance", email="finance@staff.test", role="finance")
    package = Package(
        title="Alpine Lakes",
        destination="Switzerland",
        duration_days=7,
        base_price=Decimal("1234.50"),
        currency="EUR",
        status="published",
    )
    start = date.today() + timedelta(days=60)
    departure = Departure(
        package=package,
        start_date=start,
        end_date=start + timedelta(days=6),
        capacity=2 * count,
        price=Decimal("1234.50"),
        currency="EUR",
    )
    db.session.add_all([customer, finance, package, departure])
    db.session.flush()
    ids = []
    for n in range(count):
        booking = Booking(
            reference=new_reference(),
            customer_id=customer.id,
            departure_id=departure.id,
            seats=2,
            status="confirmed",
            currency="EUR",
            unit_price=Decimal("1234.50"),
            total_amount=Decimal("1834.50"),
            amount_paid=Decimal("500.00"),
            deposit_amount=Decimal("366.90"),
            balance_due_date=start - timedelta(days=30),
            travellers=[
                Traveller(
                    name=f"Adult {n}",
                    birth_date=date(1980, 5, 1),
                    category="adult",
                    unit_price=Decimal("1234.50"),
                ),
                Traveller(
                    name=f"Child {n}",
                    birth_date=date(2017, 5, 1),
                    category="child",
                    unit_price=Decimal("600.00"),
                ),
            ],
        )
        db.session.add(booking)
        db.session.flush()
        invoice = billing.issue_invoice(booking)
        db.session.add(
            Payment(
                booking_id=booking.id,
                invoice_id=invoice.id,
                customer_id=customer.id,
                amount=Decimal("500.00"),
                currency="EUR",
                method="card",
                reference=f"pi_bench_{n}",
            )
        )
        ids.append(invoice.id)
    db.session.commit()
    return ids, finance.id


def summary(name: str, timings: list[tuple[float, float]]) -> str:
    """One Markdown table row of (wall, cpu) seconds: wall p50, p95, max (ms),
    per second (1 / mean wall) and CPU p50 (ms)."""
    wall = sorted(w for w, _ in timings)
    cpu = [c for _, c in timings]
    p95 = wall[min(len(wall) - 1, round(0.95 * len(wall)) - 1)]
    return (
        f"| {name} | {len(wall)} | {statistics.median(wall) * 1000:.1f} | "
        f"{p95 * 1000:.1f} | {wall[-1] * 1000:.1f} | "
        f"{1 / statistics.fmean(wall):.1f} | {statistics.median(cpu) * 1000:.1f} |"
    )


def _clock() -> tuple[float, float]:
    """(wall, process CPU) seconds now."""
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """(wall, CPU) seconds elapsed since `start` (a `_clock()`)."""
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def time_render(app, ids: list[int], language: str) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per `render_invoice` of each invoice (fresh session
    each)."""
    from core.extensions import db
    from models import Invoice
    from services.documents import invoice_pdf

    out = []
    for invoice_id in ids:
        headers = {"Accept-Language": language}
        with app.test_request_context(headers=headers):
            started = _clock()
            data = invoice_pdf.render_invoice(db.session.get(Invoice, invoice_id))
            out.append(_since(started))
            assert data.startswith(b"%PDF-")
            db.session.remove()
    return out


def time_http(
    app, ids: list[int], finance_id: int, language: str
) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per GET /api/v1/invoices/<id>.pdf (finance token)."""
    from auth.tokens import issue_tokens
    from core.extensions import db
    from models import Employee

    with app.app_context():
        token = issue_tokens(db.session.get(Employee, finance_id))["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": language}
    client = app.test_client()
    out = []
    for invoice_id in ids:
        started = _clock()
        response = client.get(f"/api/v1/invoices/{invoice_id}.pdf", headers=headers)
        out.append(_since(started))
        assert response.status_code == 200, response.status_code
    return out


def main(argv=None) -> None:
    """Seed, warm up, time and print the table."""
    args = parse_args(argv)
    load = os.getloadavg()[0]
    from app import create_app
    from config import normalise_database_url
    from core.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app(
            "testing", {"SQLALCHEMY_DATABASE_URI": normalise_database_url(url)}
        )
        logging.getLogger("easytravels.access").setLevel(logging.WARNING)
        with app.app_context():
            db.drop_all()
            db.create_all()
            ids, finance_id = seed(args.invoices + args.warmup)
        warm, timed = ids[: args.warmup], ids[args.warmup :]
        time_render(app, warm, args.language)
        render = time_render(app, timed, args.language)
        http = time_http(app, timed, finance_id, args.language)
        with app.app_context():
            db.engine.dispose()
    print(
        f"invoice PDF, {args.invoices} invoices, language {args.language}, "
        f"{os.cpu_count()} CPUs, goal < {GOAL_MS} ms per invoice"
    )
    print(f"load average at start: {load:.1f}")
    print("| step | n | p50 ms | p95 ms | max ms | per second | cpu p50 ms |")
    print("|---|---|---|---|---|---|---|")
    print(summary("render", render))
    print(summary("http", http))


if __name__ == "__main__":
    main()
