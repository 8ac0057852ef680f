"""Invoice endpoints: invoices with their derived status, credit notes and payments
(docs/design.md "Resource map": /invoices; "Lifecycles": invoice); customers see
their own. An invoice and its credit notes are also PDF documents
(`/invoices/<id>.pdf`, or the invoice with `Accept: application/pdf`; docs/documents.md
"Invoices and credit notes"), in the caller's language."""

from flask import request
from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.pdf import PDF_MIMETYPE, pdf_response, wants_pdf
from routes.common.access import MONEY_ROLES
from routes.common.blueprint import Blueprint
from schemas.common import page_of
from schemas.payments.billing import InvoiceQueryArgs, InvoiceSchema
from services.documents import invoice_pdf
from services.payments import invoices

blp = Blueprint("invoices", __name__, description="Invoices and credit notes")

JSON_TYPE = "application/json"
PDF_CONTENT = {PDF_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}


def pdf_only(description: str, operation_id: str):
    """Document a view whose 200 is a PDF document only (flask-smorest documents
    JSON bodies; the view returns the Response itself)."""
    return blp.doc(
        operationId=operation_id,
        responses={"200": {"description": description, "content": PDF_CONTENT}},
    )


@blp.route("")
class Invoices(MethodView):
    @roles_required(*MONEY_ROLES)
    @blp.arguments(InvoiceQueryArgs, location="query")
    @blp.response(200, page_of(InvoiceSchema))
    def get(self, args):
        """List invoices with their derived status, newest first (customers: own)."""
        return invoices.list_invoices(account=current_user, **args)


@blp.route("/<int(max=2147483647):invoice_id>")
class InvoiceById(MethodView):
    @roles_required(*MONEY_ROLES)
    @blp.doc(
        responses={
            "200": {"content": {JSON_TYPE: {"schema": InvoiceSchema}, **PDF_CONTENT}}
        }
    )
    @blp.response(
        200, InvoiceSchema, description="The invoice (JSON, or its PDF document)"
    )
    def get(self, invoice_id):
        """Show one invoice with credit notes and payments (customers: own); its
        PDF document when the Accept header prefers application/pdf."""
        if wants_pdf(request.headers.get("Accept")):
            return pdf_response(
                *invoice_pdf.invoice_pdf(account=current_user, invoice_id=invoice_id)
            )
        return invoices.get_invoice(account=current_user, invoice_id=invoice_id)


@blp.route("/<int(max=2147483647):invoice_id>.pdf")
class InvoicePdf(MethodView):
    @roles_required(*MONEY_ROLES)
    @pdf_only("The invoice as a PDF document", "getInvoicePdf")
    def get(self, invoice_id):
        """The invoice as a PDF document in the caller's language: seller, buyer,
        lines with tax per rate as issued, payments received and balance due
        (customers: own)."""
        return pdf_response(
            *invoice_pdf.invoice_pdf(account=current_user, invoice_id=invoice_id)
        )


@blp.route(
    "/<int(max=2147483647):invoice_id>/credit-notes/<int(max=2147483647):note_id>.pdf"
)
class CreditNotePdf(MethodView):
    @roles_required(*MONEY_ROLES)
    @pdf_only("The credit note as a PDF document", "getInvoiceCreditNotePdf")
    def get(self, invoice_id, note_id):
        """A credit note of the invoice as a PDF document in the caller's language,
        naming the invoice it corrects (customers: own)."""
        return pdf_response(
            *invoice_pdf.credit_note_pdf(
                account=current_user, invoice_id=invoice_id, note_id=note_id
            )
        )
