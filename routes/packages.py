"""Packages endpoints: the catalogue, its approval workflow and a package's
departures (docs/design.md "Resource map": /packages, "Lifecycles": package)."""

from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import caller, optional_login, roles_required
from routes.common.blueprint import Blueprint
from routes.common.caching import catalogue_cached
from routes.common.request_facts import request_facts
from schemas.catalogue.departures import (
    DepartureCreateSchema,
    DepartureQueryArgs,
    DepartureSchema,
)
from schemas.catalogue.packages import (
    PackageCreateSchema,
    PackageQueryArgs,
    PackageRejectSchema,
    PackageSchema,
    PackageUpdateSchema,
)
from schemas.common import page_of
from services.catalogue import departures, packages

blp = Blueprint(
    "packages", __name__, description="Tour packages and their approval workflow"
)

EDITORS = ("admin", "operation", "operation_head")
APPROVERS = ("admin", "operation_head")
PACKAGE_ID = "<int(max=2147483647):package_id>"


@blp.route("")
class Packages(MethodView):
    @optional_login
    @catalogue_cached()
    @blp.arguments(PackageQueryArgs, location="query")
    @blp.response(200, page_of(PackageSchema))
    def get(self, args):
        """List and search packages (customers and anonymous: published only)."""
        return packages.list_packages(account=caller(), **args)

    @roles_required(*EDITORS)
    @blp.arguments(PackageCreateSchema)
    @blp.response(201, PackageSchema)
    def post(self, data):
        """Create a draft package with its itinerary."""
        return packages.create_package(author=current_user, **data)


@blp.route(f"/{PACKAGE_ID}")
class PackageById(MethodView):
    @optional_login
    @catalogue_cached()
    @blp.response(200, PackageSchema)
    def get(self, package_id):
        """Show a package (customers and anonymous: published only)."""
        return packages.get_package(package_id=package_id, account=caller())

    @roles_required(*EDITORS)
    @blp.arguments(PackageUpdateSchema)
    @blp.response(200, PackageSchema)
    def patch(self, data, package_id):
        """Edit a package; a published one goes back to approval and is hidden."""
        return packages.update_package(
            package_id=package_id, editor=current_user, changes=data
        )

    @roles_required(*EDITORS)
    @blp.response(204)
    def delete(self, package_id):
        """Delete a draft or rejected package without departures."""
        packages.delete_package(package_id=package_id, facts=request_facts())


@blp.route(f"/{PACKAGE_ID}/submit")
class SubmitPackage(MethodView):
    @roles_required(*EDITORS)
    @blp.response(200, PackageSchema)
    def post(self, package_id):
        """Submit a draft for approval."""
        return packages.submit_package(package_id=package_id, facts=request_facts())


@blp.route(f"/{PACKAGE_ID}/approve")
class ApprovePackage(MethodView):
    @roles_required(*APPROVERS)
    @blp.response(200, PackageSchema)
    def post(self, package_id):
        """Approve and publish a pending package (not your own revision)."""
        return packages.approve_package(
            package_id=package_id, actor=current_user, facts=request_facts()
        )


@blp.route(f"/{PACKAGE_ID}/reject")
class RejectPackage(MethodView):
    @roles_required(*APPROVERS)
    @blp.arguments(PackageRejectSchema)
    @blp.response(200, PackageSchema)
    def post(self, data, package_id):
        """Reject a pending package with a reason (not your own revision)."""
        return packages.reject_package(
            package_id=package_id, actor=current_user, **data, facts=request_facts()
        )


@blp.route(f"/{PACKAGE_ID}/archive")
class ArchivePackage(MethodView):
    @roles_required(*APPROVERS)
    @blp.response(200, PackageSchema)
    def post(self, package_id):
        """Archive a package: it leaves the catalogue for good."""
        return packages.archive_package(package_id=package_id, facts=request_facts())


@blp.route(f"/{PACKAGE_ID}/departures")
class PackageDepartures(MethodView):
    @optional_login
    @catalogue_cached(live_seats=True)
    @blp.arguments(DepartureQueryArgs, location="query")
    @blp.response(200, page_of(DepartureSchema))
    def get(self, args, package_id):
        """List a package's departures, earliest start first."""
        return departures.list_departures(
            package_id=package_id, account=caller(), **args
        )

    @roles_required(*EDITORS)
    @blp.arguments(DepartureCreateSchema)
    @blp.response(201, DepartureSchema)
    def post(self, data, package_id):
        """Add a dated departure with its capacity and price."""
        return departures.create_departure(
            package_id=package_id, editor=current_user, **data, facts=request_facts()
        )
