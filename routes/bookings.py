"""Bookings endpoints (docs/design.md "Resource map": /bookings; roles matrix rows
"create booking", "list / view bookings" and "cancel booking"): create, list, show,
quote a cancellation and cancel; the confirmation as a PDF document
(docs/documents.md "Booking confirmations and tickets")."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import ProblemSchema
from core.pdf import PDF_MIMETYPE, pdf_response
from core.rate_limits import rate_limited
from routes.common.access import CARD_PAYERS, MONEY_ROLES, with_publishable_key
from routes.common.blueprint import Blueprint
from routes.common.idempotency import idempotent
from routes.common.request_facts import request_facts
from schemas.booking.bookings import (
    BookingCreateSchema,
    BookingQueryArgs,
    BookingSchema,
)
from schemas.booking.cancellations import (
    CancellationQuoteSchema,
    CancellationSchema,
    CancelSchema,
)
from schemas.common import page_of
from schemas.payments.billing import (
    PaymentCreateSchema,
    PaymentReceiptSchema,
)
from schemas.payments.card_payments import (
    PaymentIntentCreateSchema,
    PaymentIntentSchema,
)
from schemas.transport.tickets import TicketSchema
from services.booking import bookings, cancellations
from services.documents import booking_documents
from services.payments import card_payments, payments
from services.transport import ticketing, tickets

blp = Blueprint("bookings", __name__, description="Bookings of seats on departures")

BOOKERS = ("admin", "sales", "customer")
VIEWERS = ("admin", "sales", "operation", "operation_head", "finance", "customer")
CANCELLERS = ("admin", "sales", "customer")


@blp.route("")
class Bookings(MethodView):
    @roles_required(*VIEWERS)
    @blp.arguments(BookingQueryArgs, location="query")
    @blp.response(200, page_of(BookingSchema))
    def get(self, args):
        """List bookings, newest first (customers see their own)."""
        return bookings.list_bookings(account=current_user, **args)

    @roles_required(*BOOKERS)
    @idempotent
    @blp.arguments(BookingCreateSchema)
    @blp.response(201, BookingSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Not bookable or seats gone"
    )
    def post(self, data):
        """Book seats on a departure or a ride on a trip (held, invoiced at once)."""
        if "trip_id" in data:  # docs/transport.md "Tickets"
            return ticketing.book_trip(account=current_user, **data)
        return bookings.create_booking(account=current_user, **data)


@blp.route("/<int(max=2147483647):booking_id>")
class BookingById(MethodView):
    @roles_required(*VIEWERS)
    @blp.response(200, BookingSchema)
    def get(self, booking_id):
        """Show one booking (customers: their own only)."""
        return bookings.get_booking(account=current_user, booking_id=booking_id)


@blp.route("/<int(max=2147483647):booking_id>/tickets")
class BookingTickets(MethodView):
    @roles_required(*VIEWERS, "operator")
    @blp.response(200, TicketSchema(many=True))
    def get(self, booking_id):
        """A trip booking's tickets, one per passenger (empty until confirmed)."""
        return tickets.booking_tickets(actor=current_user, booking_id=booking_id)


@blp.route("/<int(max=2147483647):booking_id>/cancellation-quote")
class CancellationQuote(MethodView):
    @roles_required(*CANCELLERS)
    @blp.response(200, CancellationQuoteSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Booking not held/confirmed"
    )
    def get(self, booking_id):
        """Quote what cancelling the booking would cost now (changes nothing)."""
        return cancellations.cancellation_quote(
            account=current_user, booking_id=booking_id
        )


@blp.route("/<int(max=2147483647):booking_id>/cancel")
class CancelBooking(MethodView):
    @roles_required(*CANCELLERS)
    @idempotent
    @blp.arguments(CancelSchema)
    @blp.response(200, CancellationSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="Not cancellable now")
    def post(self, data, booking_id):
        """Cancel the booking: tiered penalty, seats back, refund of the rest."""
        return cancellations.cancel_booking(
            account=current_user, booking_id=booking_id, **data, facts=request_facts()
        )


@blp.route("/<int(max=2147483647):booking_id>/payments")
class BookingPayments(MethodView):
    @roles_required(*MONEY_ROLES)
    @idempotent
    @blp.arguments(PaymentCreateSchema)
    @blp.response(201, PaymentReceiptSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Not payable, seats gone, funds"
    )
    def post(self, data, booking_id):
        """Pay a booking; it is confirmed once its deposit is paid."""
        return payments.record_payment(
            account=current_user, booking_id=booking_id, **data, facts=request_facts()
        )


@blp.route("/<int(max=2147483647):booking_id>/payment-intents")
class BookingPaymentIntents(MethodView):
    @rate_limited("payment-intent")
    @roles_required(*CARD_PAYERS)
    @idempotent
    @blp.arguments(PaymentIntentCreateSchema)
    @blp.response(201, PaymentIntentSchema)
    @blp.alt_response(409, schema=ProblemSchema, description="Booking not payable")
    @blp.alt_response(
        502, schema=ProblemSchema, description="The provider refused the call"
    )
    @blp.alt_response(
        503, schema=ProblemSchema, description="Card payments unavailable"
    )
    def post(self, data, booking_id):
        """Start a card payment: a provider payment intent the client confirms.
        Limited per account (RATELIMIT_PAYMENT_INTENTS_PER_ACCOUNT) and per booking
        (MAX_OPEN_INTENTS_PER_BOOKING open intents); 429 with Retry-After."""
        return with_publishable_key(
            card_payments.start_card_payment(
                account=current_user,
                booking_id=booking_id,
                **data,
                facts=request_facts(),
            )
        )


@blp.route("/<int(max=2147483647):booking_id>/confirmation.pdf")
class BookingConfirmationPdf(MethodView):
    @roles_required(*VIEWERS)
    @blp.doc(
        operationId="getBookingConfirmationPdf",
        responses={
            "200": {
                "description": "The booking confirmation as a PDF document",
                "content": {
                    PDF_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
    )
    @blp.alt_response(
        409, schema=ProblemSchema, description="Booking not confirmed or completed"
    )
    def get(self, booking_id):
        """The booking confirmation as a PDF document (customers: their own).

        In the caller's language: the booking reference with its QR code, what
        was bought, the travellers and the money paid and due; only for a
        confirmed or completed booking (docs/documents.md "Booking confirmations
        and tickets")."""
        return pdf_response(
            *booking_documents.confirmation_pdf(current_user, booking_id)
        )
