"""Render the first page of each PDF document to docs/screenshots/document-*.png
(`make document-screenshots`; docs/documents.md).

Builds the app on a fresh SQLite database in a temporary folder, loads the demo
data, fetches each document over the API as the demo finance employee (invoice,
credit note, booking confirmation, a ticket, a report) and in German and Spanish
for the invoice, then turns page 1 into a PNG with poppler's `pdftoppm`.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "demo-password-1"


def _login(client, email: str) -> dict:
    answer = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD, "account": "employee"},
    )
    if answer.status_code != 200:
        raise SystemExit(f"login {email}: {answer.status_code}")
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def _first(client, path: str, headers: dict, **query) -> dict:
    answer = client.get(path, query_string=query, headers=headers)
    items = answer.get_json()["items"]
    if not items:
        raise SystemExit(f"no demo data at {path} {query}")
    return items[0]


def _save(client, name: str, path: str, headers: dict, tmp: Path) -> None:
    answer = client.get(path, headers=headers)
    if answer.status_code != 200 or answer.mimetype != "application/pdf":
        raise SystemExit(f"{path}: {answer.status_code} {answer.get_data()[:300]!r}")
    pdf = tmp / f"{name}.pdf"
    pdf.write_bytes(answer.get_data())
    target = OUT / f"document-{name}"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            pdf,
            target,
        ],
        check=True,
    )
    print(f"document screenshots: {target.relative_to(ROOT)}.png")


def main() -> int:
    """Render every document; exit 1 with the reason when one cannot be fetched."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        os.environ.setdefault("SECRET_KEY", "document-screenshots-" + "s" * 32)
        os.environ.setdefault("JWT_SECRET_KEY", "document-screenshots-" + "j" * 32)
        from app import create_app
        from core.extensions import db
        from demo.seed import seed_demo

        app = create_app(
            "testing",
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'docs.db'}",
                "RATELIMIT_ENABLED": False,
            },
        )
        with app.app_context():
            db.create_all()
            seed_demo(echo=lambda *_: None)
        client = app.test_client()
        finance = _login(client, "finance@easytravels.test")
        booking = _first(
            client, "/api/v1/bookings", finance, kind="package", status="confirmed"
        )
        invoice = _first(client, "/api/v1/invoices", finance, booking_id=booking["id"])
        pdf = f"/api/v1/invoices/{invoice['id']}.pdf"
        confirmation = f"/api/v1/bookings/{invoice['booking_id']}/confirmation.pdf"
        documents = [
            ("invoice", pdf, None),
            ("invoice-de", pdf, "de"),
            ("invoice-es", pdf, "es"),
            ("confirmation", confirmation, None),
            ("report", "/api/v1/reports/revenue/monthly?format=pdf", None),
        ]
        void = _first(client, "/api/v1/invoices", finance, status="void")
        note = void["credit_notes"][0]
        documents.append(
            (
                "credit-note",
                f"/api/v1/invoices/{void['id']}/credit-notes/{note['id']}.pdf",
                None,
            )
        )
        for name, path, language in documents:
            headers = dict(finance)
            if language:
                headers["Accept-Language"] = language
            _save(client, name, path, headers, tmp)
        ride = _first(
            client, "/api/v1/bookings", finance, kind="trip", status="confirmed"
        )
        tickets = client.get(f"/api/v1/bookings/{ride['id']}/tickets", headers=finance)
        body = tickets.get_json()
        number = (body["items"] if isinstance(body, dict) else body)[0]["number"]
        _save(client, "ticket", f"/api/v1/tickets/{number}.pdf", finance, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
