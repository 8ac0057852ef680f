"""What an invoice or credit note shows, fixed when it is issued (docs/documents.md
"Invoices and credit notes" and "Tax").

`booking_document(booking, issue_date)` builds the JSON-safe snapshot that
services.payments.billing stores in `Invoice.document` at issue: seller (from
configuration), buyer as it is at that moment, date of supply, booking reference,
currency, tax mode and one line per traveller category with its tax. Money is a
decimal string in major units ("1234.50"), dates are ISO strings. The invoice
number is not in it: it is the invoice's own immutable column (on PostgreSQL it is
drawn in the same statement that inserts the row).

Prices are tax-inclusive: a line's net is gross / (1 + rate / 100) rounded half up
to cents and its tax is gross - net, so net + tax = gross exactly. The rate is the
package's or route's `tax_rate`, else DEFAULT_TAX_RATE (percent). With TAX_MODE
"margin" (the special scheme for travel agents, Directive 2006/112/EC arts.
306-310) lines carry the gross only and no tax is shown.

Nothing here reads or writes the database beyond the relationships of the objects
it is given, and nothing commits.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app

from services.shared.money import CENT, ZERO

DOCUMENT_VERSION = 1
TAX_MODES = ("standard", "margin")


def _text(value: Decimal) -> str:
    """A Decimal amount as the snapshot stores it: two decimals, e.g. "12.50"."""
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def _rate_text(value: Decimal) -> str:
    """A tax rate (percent) as stored in the snapshot: "13.5", "20", "0"."""
    return f"{Decimal(value).normalize():f}"


def tax_mode() -> str:
    """The configured TAX_MODE, "standard" (default) or "margin"."""
    mode = str(current_app.config.get("TAX_MODE") or "standard").strip().lower()
    return mode if mode in TAX_MODES else "standard"


def split_tax(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """(net, tax) of a tax-inclusive `gross` at `rate` percent: net = gross /
    (1 + rate / 100) rounded half up to cents, tax = gross - net (docs/documents.md
    "Tax"). E.g. 113.50 at 13.5 -> (100.00, 13.50)."""
    net = (gross / (1 + rate / Decimal(100))).quantize(CENT, rounding=ROUND_HALF_UP)
    return net, gross - net


def seller() -> dict:
    """The seller block from configuration (COMPANY_NAME, COMPANY_ADDRESS,
    COMPANY_VAT_ID, COMPANY_REGISTRATION, COMPANY_EMAIL)."""
    config = current_app.config
    return {
        "name": config.get("COMPANY_NAME") or "",
        "address": config.get("COMPANY_ADDRESS") or "",
        "vat_id": config.get("COMPANY_VAT_ID") or "",
        "registration": config.get("COMPANY_REGISTRATION") or "",
        "email": config.get("COMPANY_EMAIL") or "",
    }


def buyer(customer) -> dict:
    """The buyer block of a Customer as it is now: name, billing address (else
    the postal address), VAT id and email."""
    return {
        "name": customer.name,
        "address": customer.billing_address or customer.address or "",
        "vat_id": customer.vat_id or "",
        "email": customer.email,
    }


def _tax_rate(rate) -> Decimal:
    """The catalogue item's `tax_rate`, else DEFAULT_TAX_RATE, as a Decimal percent."""
    if rate is not None:
        return Decimal(rate)
    return Decimal(str(current_app.config.get("DEFAULT_TAX_RATE") or "0"))


def _grouped(booking) -> list[tuple[str, Decimal, int]]:
    """(category, unit price, quantity) of the booking's priced travellers, in
    order of first appearance; one adult group of `seats x unit_price` when no
    traveller carries a price (bookings made before prices per traveller)."""
    groups: dict[tuple[str, Decimal], int] = {}
    for traveller in booking.travellers:
        if traveller.unit_price is None:
            continue
        key = (traveller.category, Decimal(traveller.unit_price))
        groups[key] = groups.get(key, 0) + 1
    if not groups:
        return [("adult", Decimal(booking.unit_price), booking.seats)]
    return [(category, price, n) for (category, price), n in groups.items()]


def _item(booking) -> tuple[dict, Decimal | None, date | None]:
    """What the lines describe (package, or route and stations), the item's own
    tax rate (None: the default) and the date of supply."""
    if booking.kind == "trip":
        trip = booking.trip
        route = trip.route
        section = booking.section_code or ""
        return (
            {
                "kind": "trip",
                "title": f"{route.name} ({route.code})" if route.code else route.name,
                "translations": None,
                "from": _station(booking.from_station),
                "to": _station(booking.to_station),
                "section": section,
            },
            route.tax_rate,
            trip.service_date,
        )
    departure = booking.departure
    package = departure.package
    return (
        {
            "kind": "package",
            "title": package.title,
            "translations": _title_translations(package.translations),
            "end_date": departure.end_date.isoformat(),
        },
        package.tax_rate,
        departure.start_date,
    )


def _station(station) -> dict:
    """A station's name and translated names ({"de": "..."}) for a trip line."""
    if station is None:
        return {"name": "", "translations": None}
    names = {
        locale: fields["name"]
        for locale, fields in (station.translations or {}).items()
        if isinstance(fields, dict) and fields.get("name")
    }
    return {"name": station.name, "translations": names or None}


def _title_translations(translations) -> dict | None:
    """The package title in each language it is translated to ({"de": "..."})."""
    titles = {
        locale: fields["title"]
        for locale, fields in (translations or {}).items()
        if isinstance(fields, dict) and fields.get("title")
    }
    return titles or None


def _lines(booking, rate: Decimal, margin: bool) -> list[dict]:
    """One line per traveller category and price; their gross adds up to the
    booking's total (a rounding remainder goes on the last line)."""
    groups = _grouped(booking)
    lines = []
    for category, price, quantity in groups:
        lines.append(
            {
                "category": category,
                "quantity": quantity,
                "unit": price,
                "gross": (price * quantity).quantize(CENT),
            }
        )
    remainder = Decimal(booking.total_amount) - sum(
        (line["gross"] for line in lines), ZERO
    )
    lines[-1]["gross"] += remainder
    out = []
    for line in lines:
        row = {
            "category": line["category"],
            "quantity": line["quantity"],
            "unit_price": _text(line["unit"]),
            "gross": _text(line["gross"]),
            "tax_rate": _rate_text(rate),
        }
        if not margin:
            net, tax = split_tax(line["gross"], rate)
            row.update(net=_text(net), tax=_text(tax))
        out.append(row)
    return out


def _tax_totals(lines: list[dict]) -> list[dict]:
    """Net, tax and gross summed per tax rate (rates in order of appearance)."""
    totals: dict[str, dict] = {}
    for line in lines:
        entry = totals.setdefault(
            line["tax_rate"], {"net": ZERO, "tax": ZERO, "gross": ZERO}
        )
        for key in ("net", "tax", "gross"):
            entry[key] += Decimal(line[key])
    return [
        {"tax_rate": rate, **{key: _text(value) for key, value in entry.items()}}
        for rate, entry in totals.items()
    ]


def booking_document(booking, issue_date: date) -> dict:
    """The snapshot of the invoice of `booking` issued on `issue_date`: `{version,
    seller, buyer, issue_date, supply_date, booking_reference, currency, tax_mode,
    item, lines, tax_totals, total}` (docs/documents.md "Invoices and credit
    notes"). `lines` are `{category, quantity, unit_price, gross, tax_rate, net,
    tax}` (net and tax absent in margin mode); amounts are decimal strings in
    major units, dates ISO. Reads the booking's customer, travellers and package
    or trip (loaded as needed); writes nothing."""
    margin = tax_mode() == "margin"
    item, item_rate, supply = _item(booking)
    rate = _tax_rate(item_rate)
    lines = _lines(booking, rate, margin)
    return {
        "version": DOCUMENT_VERSION,
        "seller": seller(),
        "buyer": buyer(booking.customer),
        "issue_date": issue_date.isoformat(),
        "supply_date": supply.isoformat() if supply else None,
        "booking_reference": booking.reference,
        "currency": booking.currency,
        "tax_mode": "margin" if margin else "standard",
        "item": item,
        "lines": lines,
        "tax_totals": [] if margin else _tax_totals(lines),
        "total": _text(booking.total_amount),
    }


def invoice_document(invoice) -> dict:
    """The snapshot of an issued `invoice` (booking_document for its booking and
    issue date), with its number; used for invoices issued before snapshots
    existed, whose `document` is still NULL."""
    document = booking_document(invoice.booking, invoice.issue_date)
    document["number"] = invoice.number
    return document


def credit_note_document(note, invoice) -> dict:
    """The snapshot of credit note `note` (numbered, `created_at` set) of `invoice`:
    `{version, number, date, invoice_number, invoice_issue_date, amount, currency,
    reason, seller, buyer, booking_reference, tax_mode, tax}`; seller and buyer
    are those of the invoice's snapshot (the parties of the document it
    corrects), else as they are now. `tax` is `{tax_rate, net, tax}` of the
    credited amount when the invoice has exactly one tax rate (standard mode),
    else None."""
    source = invoice.document or invoice_document(invoice)
    issued = note.created_at.date() if note.created_at else None
    tax = None
    if len(source.get("tax_totals") or []) == 1:
        rate = source["tax_totals"][0]["tax_rate"]
        net, part = split_tax(Decimal(note.amount), Decimal(rate))
        tax = {"tax_rate": rate, "net": _text(net), "tax": _text(part)}
    return {
        "version": DOCUMENT_VERSION,
        "number": note.number,
        "date": issued.isoformat() if issued else None,
        "invoice_number": invoice.number,
        "invoice_issue_date": invoice.issue_date.isoformat(),
        "amount": _text(note.amount),
        "currency": invoice.currency,
        "reason": note.reason,
        "seller": source["seller"],
        "buyer": source["buyer"],
        "booking_reference": source.get("booking_reference"),
        "tax_mode": source.get("tax_mode", "standard"),
        "tax": tax,
    }


def parse_date(value: str) -> date:
    """A snapshot's ISO date string as a date."""
    return date.fromisoformat(value)
