"""Employees endpoints (docs/design.md "Resource map": /employees; roles matrix rows
"create employee, assign role, deactivate" and "list / search / view employees")."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import roles_required
from core.errors import Forbidden
from routes.common.access import ID, SALES_WORKERS
from routes.common.blueprint import Blueprint
from routes.common.request_facts import request_facts
from schemas.accounts.employees import (
    EmployeeCreateSchema,
    EmployeeQueryArgs,
    EmployeeSchema,
    EmployeeUpdateSchema,
)
from schemas.common import page_of
from schemas.sales.pipeline import (
    CapacitySchema,
    CapacityUpdateSchema,
)
from services.accounts import employees
from services.sales import assignment

blp = Blueprint("employees", __name__, description="Employees")


@blp.route("")
class Employees(MethodView):
    @roles_required("admin", "hr")
    @blp.arguments(EmployeeQueryArgs, location="query")
    @blp.response(200, page_of(EmployeeSchema))
    def get(self, args):
        """List and search employees (q over name and email, role, active)."""
        return employees.list_employees(**args)

    @roles_required("admin")
    @blp.arguments(EmployeeCreateSchema)
    @blp.response(201, EmployeeSchema)
    def post(self, data):
        """Create an employee with a role and an initial password."""
        return employees.create_employee(**data, facts=request_facts())


@blp.route("/<int(max=2147483647):employee_id>")
class EmployeeById(MethodView):
    @roles_required("admin", "hr")
    @blp.response(200, EmployeeSchema)
    def get(self, employee_id):
        """Show one employee."""
        return employees.get_employee(employee_id=employee_id)

    @roles_required("admin", "hr")
    @blp.arguments(EmployeeUpdateSchema)
    @blp.response(200, EmployeeSchema)
    def patch(self, data, employee_id):
        """Edit contact data (admin, hr); role and active flag (admin only)."""
        return employees.update_employee(
            employee_id=employee_id,
            changes=data,
            actor=current_user,
            facts=request_facts(),
        )

    @roles_required("admin")
    @blp.response(204)
    def delete(self, employee_id):
        """Deactivate an employee; their tokens stop working at once."""
        employees.deactivate_employee(
            employee_id=employee_id, actor=current_user, facts=request_facts()
        )


@blp.route(f"/<{ID}:employee_id>/sales-capacity")
class SalesCapacity(MethodView):
    @roles_required(*SALES_WORKERS)
    @blp.response(200, CapacitySchema)
    def get(self, employee_id):
        """Show an employee's pipeline capacity, absence and open load."""
        return assignment.get_capacity(employee_id=employee_id)

    @roles_required(*SALES_WORKERS)
    @blp.arguments(CapacityUpdateSchema)
    @blp.response(200, CapacitySchema)
    def put(self, data, employee_id):
        """Set capacity (admin) or absence (admin, or a sales employee for themselves)."""  # noqa: E501 - the OpenAPI summary
        if current_user.role != "admin" and (
            current_user.id != employee_id or "capacity" in data
        ):
            raise Forbidden(
                "Only an admin sets capacity or another employee's absence."
            )
        return assignment.set_capacity(employee_id=employee_id, changes=data)
