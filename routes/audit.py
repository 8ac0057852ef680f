"""Audit log endpoint (docs/design.md "Resource map": GET /audit,
admin only). The log is append-only: there is no write endpoint."""

from flask.views import MethodView

from auth.decorators import roles_required
from routes.common.blueprint import Blueprint
from schemas.audit.audit import AuditEntrySchema, AuditQueryArgs
from schemas.common import page_of
from services.audit import audit

blp = Blueprint("audit", __name__, description="Audit log (admin)")


@blp.route("")
class AuditLog(MethodView):
    @roles_required("admin")
    @blp.arguments(AuditQueryArgs, location="query")
    @blp.response(200, page_of(AuditEntrySchema))
    def get(self, args):
        """List audit entries, newest first, with filters."""
        return audit.list_entries(**args)
