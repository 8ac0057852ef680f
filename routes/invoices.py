"""Invoice endpoints: invoices with their derived status, credit notes and payments
(docs/design.md "Resource map": /invoices; "Lifecycles": invoice); customers see
their own."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from routes.common.access import MONEY_ROLES
from routes.common.blueprint import Blueprint
from schemas.common import page_of
from schemas.payments.billing import InvoiceQueryArgs, InvoiceSchema
from services.payments import invoices

blp = Blueprint("invoices", __name__, description="Invoices and credit notes")


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
    @blp.response(200, InvoiceSchema)
    def get(self, invoice_id):
        """Show one invoice with credit notes and payments (customers: own)."""
        return invoices.get_invoice(account=current_user, invoice_id=invoice_id)
