"""Quotes made from an enquiry (docs/design.md "Lifecycles": enquiry,
"quotes that lock a price until they expire"; roles matrix: sales and admin work the
pipeline, the customer accepts their own quote).

- Sales prepares a quote for a departure: seats, optional travellers (one per seat,
  with categories), `valid_until` (in the future, before the departure starts). The
  departure's current price per category is copied onto the quote (`prices`) with
  the computed `total_amount`; no seat is taken yet. Making a quote moves an open
  enquiry to `quoted` and counts as a first response.
- Accepting (the customer, or sales for them) creates the booking through the
  booking engine (services/booking/bookings.py) at the quote's prices, however the
  catalogue changed since, under the engine's seat guarantees (atomic conditional
  UPDATE of the seats: never oversold). In the same transaction the quote becomes
  `accepted` by a conditional UPDATE (`status = 'open' AND valid_until > now`), so
  two concurrent acceptances of one quote give one booking and one 409, and the
  enquiry is won by that booking.
- An open quote past `valid_until` reads `expired` and cannot be accepted (409).
"""

from decimal import Decimal

from sqlalchemy import select, update

from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.i18n import _
from models import Booking, Enquiry, Quote
from models.account import is_staff
from models.base import utcnow
from models.enquiry import OPEN_STAGES
from services.booking import bookings, rules
from services.sales import enquiries
from services.shared.money import money
from services.shared.pagination import Page, order_by_sort, paginate


def _quote_total(prices: dict, travellers, seats: int) -> Decimal:
    counts = rules.party_counts(travellers, seats)
    total = sum((prices[name] * n for name, n in counts.items()), Decimal(0))
    return money(total)


def create_quote(
    *,
    actor,
    enquiry_id: int,
    departure_id: int,
    seats: int,
    valid_until,
    travellers: list[dict] | None = None,
) -> Quote:
    """Make a quote on an open enquiry (staff) and commit; returns it.

    `valid_until` is an aware UTC datetime. Raises NotFound (404), Conflict (409:
    the enquiry is won or lost; the departure is not bookable) and ValidationFailed
    (422: unknown departure, travellers not one per seat or of an unknown category,
    a party below the departure's minimum, `valid_until` not in the future or after
    the departure starts).
    """
    enquiry = enquiries.find_enquiry(enquiry_id, with_notes=True)
    if enquiry.stage not in OPEN_STAGES:
        raise Conflict(
            _("The enquiry is %(stage)s; reopen it to quote.", stage=enquiry.stage),
            code="enquiry-closed",
        )
    now = utcnow()
    rules.check_travellers(travellers, seats)
    departure = bookings.find_departure(departure_id)
    rules.check_bookable(departure, now=now)
    prices = departure.prices
    rules.check_party(departure, seats, travellers, prices)
    rules.check_total(prices, rules.party_counts(travellers, seats))
    if valid_until <= now or valid_until > rules.departure_start(departure):
        raise ValidationFailed(
            {
                "valid_until": [
                    _("Must be in the future and no later than the departure's start.")
                ]
            }
        )
    quote = Quote(
        enquiry_id=enquiry.id,
        customer_id=enquiry.customer_id,
        departure_id=departure.id,
        seats=seats,
        travellers=_plain_travellers(travellers),
        prices={name: f"{amount:.2f}" for name, amount in sorted(prices.items())},
        total_amount=_quote_total(prices, travellers, seats),
        currency=departure.currency,
        valid_until=valid_until,
        status="open",
        created_by_id=actor.id,
    )
    db.session.add(quote)
    if enquiry.stage != "quoted":
        enquiries._record_stage(enquiry, "quoted", by=actor, now=now)
    enquiries.mark_first_response(enquiry, now)
    db.session.commit()
    return quote


def _plain_travellers(travellers: list[dict] | None) -> list[dict] | None:
    """Travellers as JSON-able dicts (birth dates as ISO strings)."""
    if travellers is None:
        return None
    return [
        {**t, "birth_date": t["birth_date"].isoformat()}
        if "birth_date" in t
        else dict(t)
        for t in travellers
    ]


def _booking_travellers(travellers: list[dict] | None) -> list[dict] | None:
    """The quote's travellers as the booking engine takes them (dates parsed)."""
    from datetime import date

    if travellers is None:
        return None
    return [
        {**t, "birth_date": date.fromisoformat(t["birth_date"])} for t in travellers
    ]


def list_quotes(
    *,
    actor,
    enquiry_id: int,
    page: int = 1,
    per_page: int = 20,
    cursor: str | None = None,
) -> Page:
    """One page of an enquiry's quotes, newest first. NotFound (404) when the actor
    may not see the enquiry (a customer sees the quotes of their own)."""
    enquiries.visible_enquiry(actor, enquiry_id)
    stmt = select(Quote).where(Quote.enquiry_id == enquiry_id)
    return paginate(
        order_by_sort(stmt, Quote, None, ()),
        page=page,
        per_page=per_page,
        cursor=cursor,
    )


def get_quote(*, actor, quote_id: int) -> Quote:
    """The quote; NotFound (404) when missing or another customer's."""
    quote = db.session.get(Quote, quote_id)
    if quote is None or (not is_staff(actor) and quote.customer_id != actor.id):
        raise NotFound("Quote")
    return quote


def _refuse_unacceptable(quote: Quote) -> None:
    """Conflict (409) unless the quote is open, unexpired, on an open enquiry."""
    if quote.status == "accepted":
        raise Conflict(
            _("This quote was already accepted."),
            code="quote-accepted",
            extra={"booking_id": quote.booking_id},
        )
    if quote.status == "withdrawn":
        raise Conflict(_("This quote was withdrawn."), code="quote-withdrawn")
    if quote.expired():
        raise Conflict(
            _("This quote has expired; ask for a new one."),
            code="quote-expired",
            extra={"valid_until": quote.valid_until.isoformat()},
        )
    if quote.enquiry.stage not in OPEN_STAGES:
        raise Conflict(
            _("The enquiry is %(stage)s.", stage=quote.enquiry.stage),
            code="enquiry-closed",
        )


def accept_quote(*, actor, quote_id: int) -> Booking:
    """Accept a quote (its customer, or admin/sales for them): create the booking at
    the quoted prices, mark the quote accepted and the enquiry won, in one
    transaction; the "seats held" mail follows the commit. Returns the booking.

    Raises NotFound (404), Conflict (409: accepted, withdrawn or expired quote,
    closed enquiry, departure no longer bookable, not enough seats with
    `seats_left`) and the booking engine's ValidationFailed (422).
    """
    quote = get_quote(actor=actor, quote_id=quote_id)
    _refuse_unacceptable(quote)
    locked = {name: Decimal(amount) for name, amount in quote.prices.items()}

    def settle(booking: Booking) -> None:
        now = utcnow()
        won = db.session.execute(
            update(Quote)
            .where(
                Quote.id == quote.id, Quote.status == "open", Quote.valid_until > now
            )
            .values(status="accepted", booking_id=booking.id, accepted_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:
            raise Conflict(
                _("This quote was accepted meanwhile or has expired."),
                code="quote-accepted",
            )
        # Lock the enquiry while it is open: a concurrent acceptance of another of
        # its quotes waits here and then finds it won (409).
        still_open = db.session.execute(
            update(Enquiry)
            .where(Enquiry.id == quote.enquiry_id, Enquiry.stage.in_(OPEN_STAGES))
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if still_open != 1:
            raise Conflict(
                _("The enquiry was closed meanwhile."), code="enquiry-closed"
            )
        enquiry = enquiries.find_enquiry(quote.enquiry_id, with_notes=True)
        db.session.refresh(enquiry)
        enquiries.win(enquiry, booking, by=actor, now=now)

    return bookings.create_booking(
        account=actor,
        departure_id=quote.departure_id,
        seats=quote.seats,
        travellers=_booking_travellers(quote.travellers),
        customer_id=quote.customer_id if is_staff(actor) else None,
        locked_prices=locked,
        before_commit=settle,
    )


def withdraw_quote(*, actor, quote_id: int) -> Quote:
    """Withdraw an open quote (staff) and commit. NotFound (404); Conflict (409) for
    an accepted one."""
    quote = get_quote(actor=actor, quote_id=quote_id)
    if quote.status == "accepted":
        raise Conflict(
            _("An accepted quote cannot be withdrawn."), code="quote-accepted"
        )
    quote.status = "withdrawn"
    db.session.commit()
    return quote
