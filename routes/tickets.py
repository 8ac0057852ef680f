"""Ticket endpoints (/api/v1/tickets; docs/transport.md "Tickets and boarding"):
show one ticket by its number with its signed barcode. A booking's tickets are
listed at /api/v1/bookings/<id>/tickets; boarding is /api/v1/transport/boarding."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from routes.common.blueprint import Blueprint
from schemas.transport.tickets import TicketSchema
from services.transport import tickets
from services.transport.tickets import TICKET_READERS

blp = Blueprint(
    "tickets", __name__, description="Trip tickets with their signed barcodes"
)


@blp.route("/<string(maxlength=32):number>")
class TicketByNumber(MethodView):
    @roles_required(*TICKET_READERS)
    @blp.response(200, TicketSchema)
    def get(self, number):
        """Show a ticket by number (owner, staff, the trip company's operator)."""
        return tickets.get_ticket(actor=current_user, number=number)
