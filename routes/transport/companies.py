"""Transport views: companies and amenities (docs/transport.md "Companies and
operators", "Amenities").

/transport/companies: every staff role reads (an operator its own company only;
another's is 404); admin creates, edits, deactivates (`PATCH active: false`) and
deletes a company nothing refers to. /transport/amenities: every staff role reads;
admin creates, edits and deletes one no vehicle lists."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from routes.common.access import ID
from routes.common.request_facts import request_facts
from routes.transport import blp
from schemas.common import page_of
from schemas.transport.companies import (
    AmenityCreateSchema,
    AmenityQueryArgs,
    AmenitySchema,
    AmenityUpdateSchema,
    CompanyCreateSchema,
    CompanyQueryArgs,
    CompanySchema,
    CompanyUpdateSchema,
)
from services.transport import companies
from services.transport.access import READERS


@blp.route("/companies")
class Companies(MethodView):
    """/transport/companies: list (staff) and create (admin)."""

    @roles_required(*READERS)
    @blp.arguments(CompanyQueryArgs, location="query")
    @blp.response(200, page_of(CompanySchema))
    def get(self, args):
        """List transport companies (an operator: its own only)."""
        return companies.list_companies(actor=current_user, **args)

    @roles_required("admin")
    @blp.arguments(CompanyCreateSchema)
    @blp.response(201, CompanySchema)
    def post(self, data):
        """Create a transport company (admin)."""
        return companies.create_company(
            actor=current_user, **data, facts=request_facts()
        )


@blp.route(f"/companies/<{ID}:company_id>")
class CompanyById(MethodView):
    """/transport/companies/<id>: show (staff), edit and delete (admin)."""

    @roles_required(*READERS)
    @blp.response(200, CompanySchema)
    def get(self, company_id):
        """Show a transport company (an operator: its own only)."""
        return companies.get_company(actor=current_user, company_id=company_id)

    @roles_required("admin")
    @blp.arguments(CompanyUpdateSchema)
    @blp.response(200, CompanySchema)
    def patch(self, data, company_id):
        """Edit a transport company; `active: false` deactivates it (admin)."""
        return companies.update_company(
            actor=current_user,
            company_id=company_id,
            changes=data,
            facts=request_facts(),
        )

    @roles_required("admin")
    @blp.response(204)
    def delete(self, company_id):
        """Delete a company without vehicles, routes or operators (admin)."""
        companies.delete_company(
            actor=current_user, company_id=company_id, facts=request_facts()
        )


@blp.route("/amenities")
class Amenities(MethodView):
    """/transport/amenities: list (staff) and create (admin)."""

    @roles_required(*READERS)
    @blp.arguments(AmenityQueryArgs, location="query")
    @blp.response(200, page_of(AmenitySchema))
    def get(self, args):
        """List on-board amenities, by code."""
        return companies.list_amenities(**args)

    @roles_required("admin")
    @blp.arguments(AmenityCreateSchema)
    @blp.response(201, AmenitySchema)
    def post(self, data):
        """Create an amenity (admin)."""
        return companies.create_amenity(
            actor=current_user, **data, facts=request_facts()
        )


@blp.route(f"/amenities/<{ID}:amenity_id>")
class AmenityById(MethodView):
    """/transport/amenities/<id>: show (staff), edit and delete (admin)."""

    @roles_required(*READERS)
    @blp.response(200, AmenitySchema)
    def get(self, amenity_id):
        """Show an amenity."""
        return companies.get_amenity(amenity_id=amenity_id)

    @roles_required("admin")
    @blp.arguments(AmenityUpdateSchema)
    @blp.response(200, AmenitySchema)
    def patch(self, data, amenity_id):
        """Rename or recode an amenity (admin)."""
        return companies.update_amenity(
            actor=current_user,
            amenity_id=amenity_id,
            changes=data,
            facts=request_facts(),
        )

    @roles_required("admin")
    @blp.response(204)
    def delete(self, amenity_id):
        """Delete an amenity no vehicle lists (admin)."""
        companies.delete_amenity(
            actor=current_user, amenity_id=amenity_id, facts=request_facts()
        )
