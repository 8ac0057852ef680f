"""Customers endpoints (docs/design.md "Resource map": /customers; roles matrix rows
"register / list / view / edit / delete customer")."""

from flask.views import MethodView
from flask_jwt_extended import current_user
from routes.blueprint import Blueprint

from auth.decorators import roles_required
from schemas.common import page_of
from schemas.customers import (
    CustomerCreateSchema,
    CustomerQueryArgs,
    CustomerSchema,
    CustomerUpdateSchema,
)
from routes.request_facts import request_facts
from services import customers

blp = Blueprint("customers", __name__, description="Customers")


@blp.route("")
class Customers(MethodView):
    @roles_required("admin", "sales", "finance")
    @blp.arguments(CustomerQueryArgs, location="query")
    @blp.response(200, page_of(CustomerSchema))
    def get(self, args):
        """List and search customers (q over name, email and phone; active)."""
        return customers.list_customers(**args)

    @roles_required("admin", "sales")
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerSchema)
    def post(self, data):
        """Register a customer (the password is optional)."""
        return customers.create_customer(**data, registered_by=current_user)


@blp.route("/<int(max=2147483647):customer_id>")
class CustomerById(MethodView):
    @roles_required("admin", "sales", "finance", "customer")
    @blp.response(200, CustomerSchema)
    def get(self, customer_id):
        """Show one customer (a customer sees only their own record)."""
        return customers.get_customer(customer_id=customer_id, actor=current_user)

    @roles_required("admin", "sales", "customer")
    @blp.arguments(CustomerUpdateSchema)
    @blp.response(200, CustomerSchema)
    def patch(self, data, customer_id):
        """Edit a customer (staff may set active; a customer edits only their own)."""
        return customers.update_customer(
            customer_id=customer_id,
            changes=data,
            actor=current_user,
            facts=request_facts(),
        )

    @roles_required("admin", "sales")
    @blp.response(204)
    def delete(self, customer_id):
        """Delete a customer with their enquiries; refused when they have bookings."""
        customers.delete_customer(customer_id=customer_id, facts=request_facts())
