"""Invoice and credit note PDFs for whoever may read the invoice (docs/documents.md
"Invoices and credit notes").

What the document shows comes from the snapshot stored when it was issued
(`Invoice.document`, `CreditNote.document`; services.documents.invoice_data), so
printing it again gives the same text whatever changed since in the customer's
account or the catalogue. Only the money state is live: payments received,
refunds, credits applied, the balance due and its due date (a reprint shows what
has been paid so far). An invoice issued before snapshots existed gets its
snapshot at its first rendering, stored in one transaction.

Rendering is in the language in force (core.i18n: the caller's account locale or
Accept-Language), with amounts and dates formatted for it.
"""

from decimal import Decimal

from core.errors import NotFound
from core.extensions import db
from core.i18n import _, _l, current_locale, date_text, money
from core.pdf import render_pdf
from models import CreditNote, Invoice
from services.documents import invoice_data
from services.payments import billing
from services.shared.records import check_owner, get_or_404

CATEGORIES = {
    "adult": _l("Adult"),
    "child": _l("Child"),
    "infant": _l("Infant"),
    "senior": _l("Senior"),
    "student": _l("Student"),
}
PAYMENT_METHODS = {
    "card": _l("Card"),
    "bank_transfer": _l("Bank transfer"),
    "cash": _l("Cash"),
    "wallet": _l("Wallet"),
}
MARGIN_NOTE = _l(
    "Margin scheme – travel agents "  # noqa: RUF001 (the legal wording's dash)
    "(Article 306 of Directive 2006/112/EC): the price includes VAT that is not "
    "shown separately."
)


def _label(labels: dict, value: str) -> str:
    """The translated label of a known code, else the code itself."""
    label = labels.get(value)
    return str(label) if label is not None else value


def _readable_invoice(account, invoice_id: int) -> Invoice:
    """The invoice when `account` may read it (staff any, a customer their own);
    NotFound (404) otherwise, as services.payments.invoices.get_invoice."""
    invoice = get_or_404(Invoice, invoice_id, "Invoice")
    return check_owner(account, invoice, "Invoice")


def stored_document(invoice: Invoice) -> dict:
    """The invoice's snapshot; built from the current rows and stored (committed)
    for an invoice issued before snapshots existed (document NULL)."""
    if invoice.document is None:
        invoice.document = invoice_data.invoice_document(invoice)
        db.session.commit()
    return invoice.document


def _localized_name(name: str, translations: dict | None) -> str:
    """`translations[locale]` (a snapshot's `{"de": "..."}`) in the current
    language, else `name`."""
    return (translations or {}).get(current_locale()) or name


def _description(item: dict) -> str:
    """What the lines sell, in the current language: the package title, or the
    route with its boarding and alighting stations and section."""
    title = _localized_name(item.get("title", ""), item.get("translations"))
    if item.get("kind") != "trip":
        return title
    return _(
        "%(route)s: %(origin)s to %(destination)s, section %(section)s",
        route=title,
        origin=_localized_name(item["from"]["name"], item["from"].get("translations")),
        destination=_localized_name(item["to"]["name"], item["to"].get("translations")),
        section=item.get("section", ""),
    )


def _rate(rate: str) -> str:
    """A tax rate as the current locale writes a percentage number ("13,5 %")."""
    from babel import numbers

    return numbers.format_percent(
        Decimal(rate) / 100, "#,##0.##%", locale=current_locale()
    )


def _lines(document: dict) -> list[dict]:
    """The snapshot's lines formatted for the template."""
    currency = document["currency"]
    description = _description(document["item"])
    out = []
    for line in document["lines"]:
        row = {
            "description": description,
            "category": _label(CATEGORIES, line["category"]),
            "quantity": line["quantity"],
            "unit_price": money(Decimal(line["unit_price"]), currency),
            "gross": money(Decimal(line["gross"]), currency),
            "tax_rate": _rate(line["tax_rate"]),
        }
        if "net" in line:
            row["net"] = money(Decimal(line["net"]), currency)
            row["tax"] = money(Decimal(line["tax"]), currency)
        out.append(row)
    return out


def _money_state(invoice: Invoice) -> dict:
    """The live money of the invoice, formatted: payments received (date, method,
    amount), refunded, credited, balance due and its due date."""
    currency = invoice.currency
    amounts = billing.invoice_amounts(invoice)
    payments = [
        {
            "date": date_text(payment.created_at.date()),
            "method": _label(PAYMENT_METHODS, payment.method),
            "amount": money(payment.amount, currency),
        }
        for payment in invoice.booking.payments
    ]
    return {
        "payments": payments,
        "paid": money(amounts["paid"], currency),
        "refunded": money(amounts["refunded"], currency)
        if amounts["refunded"]
        else None,
        "credited": money(amounts["credited"], currency)
        if amounts["credited"]
        else None,
        "balance": money(amounts["balance"], currency),
        "due_date": date_text(invoice.due_date),
    }


def invoice_context(invoice: Invoice) -> dict:
    """The template context of an invoice PDF in the current language: the
    snapshot formatted (seller, buyer, dates, lines, tax per rate, total) and
    the live money state."""
    document = stored_document(invoice)
    currency = document["currency"]
    supply = document.get("supply_date")
    return {
        "locale": current_locale(),
        "number": invoice.number,
        "seller": document["seller"],
        "buyer": document["buyer"],
        "issue_date": date_text(invoice_data.parse_date(document["issue_date"])),
        "supply_date": date_text(invoice_data.parse_date(supply)) if supply else "",
        "booking_reference": document.get("booking_reference", ""),
        "margin": document.get("tax_mode") == "margin",
        "margin_note": str(MARGIN_NOTE),
        "lines": _lines(document),
        "tax_totals": [
            {
                "tax_rate": _rate(entry["tax_rate"]),
                "net": money(Decimal(entry["net"]), currency),
                "tax": money(Decimal(entry["tax"]), currency),
                "gross": money(Decimal(entry["gross"]), currency),
            }
            for entry in document.get("tax_totals", [])
        ],
        "total": money(Decimal(document["total"]), currency),
        "money": _money_state(invoice),
        "footer": f"{document['seller']['name']} · {invoice.number}",
    }


def invoice_pdf(account, invoice_id: int) -> tuple[bytes, str]:
    """The PDF of invoice `invoice_id` and its file name (`<number>.pdf`) for
    `account` (staff: any invoice; a customer: their own; NotFound (404)
    otherwise). Rendered in the current language."""
    invoice = _readable_invoice(account, invoice_id)
    return render_invoice(invoice), f"{invoice.number}.pdf"


def render_invoice(invoice: Invoice) -> bytes:
    """The PDF bytes of `invoice`, without access rules (bench, mail)."""
    return render_pdf("documents/invoice.html", **invoice_context(invoice))


def credit_note_pdf(account, invoice_id: int, note_id: int) -> tuple[bytes, str]:
    """The PDF of credit note `note_id` of invoice `invoice_id` and its file name,
    for whoever may read the invoice; NotFound (404) for a note of another
    invoice. Shows the note's snapshot: number, date, the invoice it refers to,
    amount (with its tax at the invoice's rate when there is one), reason, seller
    and buyer."""
    invoice = _readable_invoice(account, invoice_id)
    note = db.session.get(CreditNote, note_id)
    if note is None or note.invoice_id != invoice.id:
        raise NotFound("Credit note")
    if note.document is None:
        note.document = invoice_data.credit_note_document(note, invoice)
        db.session.commit()
    return render_pdf(
        "documents/credit_note.html", **_note_context(note.document)
    ), f"{note.number}.pdf"


def _note_context(document: dict) -> dict:
    """The template context of a credit note PDF in the current language."""
    currency = document["currency"]
    tax = document.get("tax")
    issued = document.get("date")
    return {
        "locale": current_locale(),
        "number": document["number"],
        "date": date_text(invoice_data.parse_date(issued)) if issued else "",
        "invoice_number": document["invoice_number"],
        "invoice_issue_date": date_text(
            invoice_data.parse_date(document["invoice_issue_date"])
        ),
        "booking_reference": document.get("booking_reference") or "",
        "seller": document["seller"],
        "buyer": document["buyer"],
        "reason": document["reason"],
        "amount": money(Decimal(document["amount"]), currency),
        "margin": document.get("tax_mode") == "margin",
        "margin_note": str(MARGIN_NOTE),
        "tax": {
            "tax_rate": _rate(tax["tax_rate"]),
            "net": money(Decimal(tax["net"]), currency),
            "tax": money(Decimal(tax["tax"]), currency),
        }
        if tax
        else None,
        "footer": f"{document['seller']['name']} · {document['number']}",
    }
