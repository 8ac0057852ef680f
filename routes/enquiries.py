"""Enquiries endpoints (docs/design.md "Resource map": /enquiries,
/enquiries/<id>/notes).

Admin and sales work every enquiry; a customer raises, reads and replies to their own
(another customer's is 404). Other staff roles get 403.
"""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import ProblemSchema
from core.rate_limits import rate_limited
from routes.common.access import ID, PIPELINE_PARTIES, SALES_WORKERS
from routes.common.blueprint import Blueprint
from routes.common.request_facts import request_facts
from schemas.common import page_of
from schemas.sales.enquiries import (
    EnquiryCreateSchema,
    EnquiryDetailSchema,
    EnquiryQueryArgs,
    EnquirySchema,
    EnquiryUpdateSchema,
    NoteCreateSchema,
    NoteQueryArgs,
    NoteSchema,
)
from schemas.sales.pipeline import (
    ActivityCreateSchema,
    ActivitySchema,
    EnquiryActivityQueryArgs,
    QuoteCreateSchema,
    QuoteSchema,
)
from services.sales import activities, enquiries, quotes

blp = Blueprint("enquiries", __name__, description="Enquiries and their note threads")


@blp.route("")
class Enquiries(MethodView):
    @roles_required(*PIPELINE_PARTIES)
    @blp.arguments(EnquiryQueryArgs, location="query")
    @blp.response(200, page_of(EnquirySchema))
    def get(self, args):
        """List enquiries (customers: their own), newest first, with filters."""
        return enquiries.list_enquiries(actor=current_user, **args)

    @rate_limited("enquiry")
    @roles_required(*PIPELINE_PARTIES)
    @blp.arguments(EnquiryCreateSchema)
    @blp.response(201, EnquiryDetailSchema)
    def post(self, data):
        """Raise an enquiry (customers for themselves; staff for a customer).
        Limited per account (RATELIMIT_ENQUIRIES_PER_ACCOUNT); a customer keeps at
        most MAX_OPEN_ENQUIRIES_PER_CUSTOMER open ones."""
        return enquiries.create_enquiry(actor=current_user, **data)


@blp.route("/<int(max=2147483647):enquiry_id>")
class EnquiryItem(MethodView):
    @roles_required(*PIPELINE_PARTIES)
    @blp.response(200, EnquiryDetailSchema)
    def get(self, enquiry_id):
        """Show an enquiry with its notes, oldest first."""
        return enquiries.get_enquiry(actor=current_user, enquiry_id=enquiry_id)

    @roles_required(*SALES_WORKERS)
    @blp.arguments(EnquiryUpdateSchema)
    @blp.response(200, EnquiryDetailSchema)
    def patch(self, data, enquiry_id):
        """Work an enquiry: stage (lost with a reason, won by a booking), assignee,
        subject, message, source."""
        return enquiries.update_enquiry(
            actor=current_user, enquiry_id=enquiry_id, facts=request_facts(), **data
        )

    @roles_required(*SALES_WORKERS)
    @blp.response(204)
    def delete(self, enquiry_id):
        """Delete an enquiry and its notes."""
        enquiries.delete_enquiry(enquiry_id=enquiry_id, facts=request_facts())


@blp.route("/<int(max=2147483647):enquiry_id>/notes")
class EnquiryNotes(MethodView):
    @roles_required(*PIPELINE_PARTIES)
    @blp.arguments(NoteQueryArgs, location="query")
    @blp.response(200, page_of(NoteSchema))
    def get(self, args, enquiry_id):
        """List an enquiry's notes, oldest first."""
        return enquiries.list_notes(actor=current_user, enquiry_id=enquiry_id, **args)

    @roles_required(*PIPELINE_PARTIES)
    @blp.arguments(NoteCreateSchema)
    @blp.response(201, NoteSchema)
    def post(self, data, enquiry_id):
        """Add a staff note or the customer's reply to an enquiry."""
        return enquiries.add_note(actor=current_user, enquiry_id=enquiry_id, **data)


@blp.route(f"/<{ID}:enquiry_id>/activities")
class EnquiryActivities(MethodView):
    @roles_required(*SALES_WORKERS)
    @blp.arguments(EnquiryActivityQueryArgs, location="query")
    @blp.response(200, page_of(ActivitySchema))
    def get(self, args, enquiry_id):
        """List an enquiry's activities, soonest due first."""
        return activities.list_enquiry_activities(enquiry_id=enquiry_id, **args)

    @roles_required(*SALES_WORKERS)
    @blp.arguments(ActivityCreateSchema)
    @blp.response(201, ActivitySchema)
    def post(self, data, enquiry_id):
        """Plan a call, email, meeting or task on an enquiry."""
        return activities.create_activity(
            actor=current_user, enquiry_id=enquiry_id, **data
        )


@blp.route(f"/<{ID}:enquiry_id>/quotes")
class EnquiryQuotes(MethodView):
    @roles_required(*PIPELINE_PARTIES)
    @blp.arguments(EnquiryActivityQueryArgs, location="query")
    @blp.response(200, page_of(QuoteSchema))
    def get(self, args, enquiry_id):
        """List an enquiry's quotes, newest first (customers: their own enquiry's)."""
        return quotes.list_quotes(actor=current_user, enquiry_id=enquiry_id, **args)

    @roles_required(*SALES_WORKERS)
    @blp.arguments(QuoteCreateSchema)
    @blp.response(201, QuoteSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Enquiry closed or not bookable"
    )
    def post(self, data, enquiry_id):
        """Quote seats on a departure at today's prices, locked until valid_until."""
        return quotes.create_quote(actor=current_user, enquiry_id=enquiry_id, **data)
