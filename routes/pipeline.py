"""Sales pipeline endpoints (docs/design.md "Resource map": /enquiry-lost-reasons,
/enquiries/<id>/activities, /activities, /enquiries/<id>/quotes, /quotes,
/customers/<id>/merge, /customers/duplicates; roles matrix row "work the pipeline
(stages, activities, quotes)": admin and sales, the customer accepts their own
quote; "lost reasons": admin edits).
"""

from flask.views import MethodView
from flask_jwt_extended import current_user
from routes.blueprint import Blueprint

from auth.decorators import roles_required
from errors import Forbidden, ValidationFailed
from schemas.bookings import BookingSchema
from schemas.common import ProblemSchema, page_of
from schemas.customers import CustomerSchema
from schemas.pipeline import (
    ActivityCreateSchema,
    ActivityQueryArgs,
    ActivitySchema,
    ActivityUpdateSchema,
    CapacitySchema,
    CapacityUpdateSchema,
    DuplicateListSchema,
    DuplicateQueryArgs,
    EnquiryActivityQueryArgs,
    LostReasonCreateSchema,
    LostReasonQueryArgs,
    LostReasonSchema,
    LostReasonUpdateSchema,
    MergeSchema,
    QuoteCreateSchema,
    QuoteSchema,
)
from routes.request_facts import request_facts
from services import activities, assignment, customer_merge, lost_reasons, quotes

blp = Blueprint("pipeline", __name__, description="The sales pipeline around enquiries")

WORKERS = ("admin", "sales")
PARTIES = ("admin", "sales", "customer")
ID = "int(max=2147483647)"


@blp.route("/enquiry-lost-reasons")
class LostReasons(MethodView):
    @roles_required(*WORKERS)
    @blp.arguments(LostReasonQueryArgs, location="query")
    @blp.response(200, LostReasonSchema(many=True))
    def get(self, args):
        """List the lost reasons (active ones unless include_inactive=true)."""
        return lost_reasons.list_reasons(**args)

    @roles_required("admin")
    @blp.arguments(LostReasonCreateSchema)
    @blp.response(201, LostReasonSchema)
    def post(self, data):
        """Add a lost reason (admin)."""
        return lost_reasons.create_reason(
            actor=current_user, **data, facts=request_facts()
        )


@blp.route(f"/enquiry-lost-reasons/<{ID}:reason_id>")
class LostReasonItem(MethodView):
    @roles_required("admin")
    @blp.arguments(LostReasonUpdateSchema)
    @blp.response(200, LostReasonSchema)
    def patch(self, data, reason_id):
        """Relabel or retire a lost reason (admin)."""
        return lost_reasons.update_reason(
            actor=current_user,
            reason_id=reason_id,
            changes=data,
            facts=request_facts(),
        )


@blp.route(f"/enquiries/<{ID}:enquiry_id>/activities")
class EnquiryActivities(MethodView):
    @roles_required(*WORKERS)
    @blp.arguments(EnquiryActivityQueryArgs, location="query")
    @blp.response(200, page_of(ActivitySchema))
    def get(self, args, enquiry_id):
        """List an enquiry's activities, soonest due first."""
        return activities.list_enquiry_activities(enquiry_id=enquiry_id, **args)

    @roles_required(*WORKERS)
    @blp.arguments(ActivityCreateSchema)
    @blp.response(201, ActivitySchema)
    def post(self, data, enquiry_id):
        """Plan a call, email, meeting or task on an enquiry."""
        return activities.create_activity(
            actor=current_user, enquiry_id=enquiry_id, **data
        )


@blp.route("/activities")
class Activities(MethodView):
    @roles_required(*WORKERS)
    @blp.arguments(ActivityQueryArgs, location="query")
    @blp.response(200, page_of(ActivitySchema))
    def get(self, args):
        """List activities by owner, due today or overdue, soonest due first."""
        return activities.list_activities(**args)


@blp.route(f"/activities/<{ID}:activity_id>")
class ActivityItem(MethodView):
    @roles_required(*WORKERS)
    @blp.arguments(ActivityUpdateSchema)
    @blp.response(200, ActivitySchema)
    def patch(self, data, activity_id):
        """Mark an activity done (`done: true`) or edit it."""
        return activities.update_activity(
            actor=current_user, activity_id=activity_id, changes=data
        )


@blp.route(f"/enquiries/<{ID}:enquiry_id>/quotes")
class EnquiryQuotes(MethodView):
    @roles_required(*PARTIES)
    @blp.arguments(EnquiryActivityQueryArgs, location="query")
    @blp.response(200, page_of(QuoteSchema))
    def get(self, args, enquiry_id):
        """List an enquiry's quotes, newest first (customers: their own enquiry's)."""
        return quotes.list_quotes(actor=current_user, enquiry_id=enquiry_id, **args)

    @roles_required(*WORKERS)
    @blp.arguments(QuoteCreateSchema)
    @blp.response(201, QuoteSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Enquiry closed or not bookable"
    )
    def post(self, data, enquiry_id):
        """Quote seats on a departure at today's prices, locked until valid_until."""
        return quotes.create_quote(actor=current_user, enquiry_id=enquiry_id, **data)


@blp.route(f"/quotes/<{ID}:quote_id>")
class QuoteItem(MethodView):
    @roles_required(*PARTIES)
    @blp.response(200, QuoteSchema)
    def get(self, quote_id):
        """Show a quote (customers: their own)."""
        return quotes.get_quote(actor=current_user, quote_id=quote_id)


@blp.route(f"/quotes/<{ID}:quote_id>/accept")
class QuoteAccept(MethodView):
    @roles_required(*PARTIES)
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


@blp.route(f"/quotes/<{ID}:quote_id>/withdraw")
class QuoteWithdraw(MethodView):
    @roles_required(*WORKERS)
    @blp.response(200, QuoteSchema)
    def post(self, quote_id):
        """Withdraw an open quote."""
        return quotes.withdraw_quote(actor=current_user, quote_id=quote_id)


@blp.route(f"/employees/<{ID}:employee_id>/sales-capacity")
class SalesCapacity(MethodView):
    @roles_required(*WORKERS)
    @blp.response(200, CapacitySchema)
    def get(self, employee_id):
        """Show an employee's pipeline capacity, absence and open load."""
        return assignment.get_capacity(employee_id=employee_id)

    @roles_required(*WORKERS)
    @blp.arguments(CapacityUpdateSchema)
    @blp.response(200, CapacitySchema)
    def put(self, data, employee_id):
        """Set capacity (admin) or absence (admin, or a sales employee for themselves)."""
        if current_user.role != "admin" and (
            current_user.id != employee_id or "capacity" in data
        ):
            raise Forbidden(
                "Only an admin sets capacity or another employee's absence."
            )
        return assignment.set_capacity(employee_id=employee_id, changes=data)


@blp.route("/customers/duplicates")
class CustomerDuplicates(MethodView):
    @roles_required(*WORKERS)
    @blp.arguments(DuplicateQueryArgs, location="query")
    @blp.response(200, DuplicateListSchema)
    def get(self, args):
        """Customers whose email or normalised phone match (duplicate candidates)."""
        if not args:
            raise ValidationFailed({"query": ["Give email, phone or both."]})
        return {"items": customer_merge.find_duplicates(**args)}


@blp.route(f"/customers/<{ID}:customer_id>/merge")
class CustomerMerge(MethodView):
    @roles_required(*WORKERS)
    @blp.arguments(MergeSchema)
    @blp.response(200, CustomerSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Conflicting live bookings"
    )
    def post(self, data, customer_id):
        """Merge another customer record into this one (everything moves; audited)."""
        return customer_merge.merge_customers(
            actor=current_user, customer_id=customer_id, **data, facts=request_facts()
        )
