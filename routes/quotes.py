"""Quotes endpoints (docs/design.md "Resource map": /quotes; roles matrix row "work
the pipeline": the customer accepts their own quote): show, accept, withdraw. Making
one is `POST /enquiries/<id>/quotes`."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import ProblemSchema
from routes.common.access import ID, PIPELINE_PARTIES, SALES_WORKERS
from routes.common.blueprint import Blueprint
from schemas.booking.bookings import BookingSchema
from schemas.sales.pipeline import (
    QuoteSchema,
)
from services.sales import quotes

blp = Blueprint(
    "quotes", __name__, description="Quotes that lock a price until they expire"
)


@blp.route(f"/<{ID}:quote_id>")
class QuoteItem(MethodView):
    @roles_required(*PIPELINE_PARTIES)
    @blp.response(200, QuoteSchema)
    def get(self, quote_id):
        """Show a quote (customers: their own)."""
        return quotes.get_quote(actor=current_user, quote_id=quote_id)


@blp.route(f"/<{ID}:quote_id>/accept")
class QuoteAccept(MethodView):
    @roles_required(*PIPELINE_PARTIES)
    @blp.response(201, BookingSchema)
    @blp.alt_response(
        409,
        schema=ProblemSchema,
        description="Quote accepted, withdrawn or expired; seats gone",
    )
    def post(self, quote_id):
        """Accept a quote: the booking is made at the quoted prices (held, invoiced).
        A repeat is answered 409 with the `booking_id` made first."""
        return quotes.accept_quote(actor=current_user, quote_id=quote_id)


@blp.route(f"/<{ID}:quote_id>/withdraw")
class QuoteWithdraw(MethodView):
    @roles_required(*SALES_WORKERS)
    @blp.response(200, QuoteSchema)
    def post(self, quote_id):
        """Withdraw an open quote."""
        return quotes.withdraw_quote(actor=current_user, quote_id=quote_id)
