"""Ticket endpoints (/api/v1/tickets; docs/transport.md "Tickets and boarding"):
show one ticket by its number with its signed barcode, or as a PDF document with
the barcode's QR code (`/tickets/<number>.pdf`; docs/documents.md). A booking's
tickets are listed at /api/v1/bookings/<id>/tickets; boarding is
/api/v1/transport/boarding."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import ProblemSchema
from core.pdf import PDF_MIMETYPE, pdf_response
from routes.common.blueprint import Blueprint
from schemas.transport.tickets import TicketSchema
from services.documents import booking_documents
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


# More specific than TicketByNumber (a static suffix), so werkzeug matches
# `/tickets/TK-X.pdf` here, never as the ticket number `TK-X.pdf`.
@blp.route("/<string(maxlength=32):number>.pdf")
class TicketPdf(MethodView):
    @roles_required(*TICKET_READERS)
    @blp.doc(
        operationId="getTicketPdf",
        responses={
            "200": {
                "description": "The ticket as a PDF document",
                "content": {
                    PDF_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
    )
    @blp.alt_response(
        409, schema=ProblemSchema, description="Ticket cancelled or no longer valid"
    )
    def get(self, number):
        """A ticket as a PDF document (owner, staff, the trip company's operator).

        In the caller's language, with the QR code of the ticket's signed barcode;
        only for a valid or boarded ticket (docs/documents.md "Booking
        confirmations and tickets")."""
        return pdf_response(*booking_documents.ticket_pdf(current_user, number))
