"""Transport views: boarding, trip manifests, no-shows and the ticket key
(/transport/boarding, /transport/trips/<id>/manifest, /transport/trips/<id>/no-shows,
/transport/ticket-key; docs/transport.md "Tickets and boarding").

Admin, operation, operation_head and operators (their own company's trips) board,
read manifests and mark no-shows; anyone may fetch the public key that verifies
barcodes offline.
"""

import csv
import io

from flask import Response
from flask.views import MethodView
from flask_jwt_extended import current_user

from auth.decorators import optional_login, roles_required
from core.errors import ProblemSchema
from models.base import utcnow
from routes.common.access import ID
from routes.common.request_facts import request_facts
from routes.reports import CSV_TYPE, JSON_TYPE, neutralise_formula, wants_csv
from routes.transport import blp
from schemas.transport.tickets import (
    BoardingArgs,
    BoardingSchema,
    ManifestArgs,
    ManifestSchema,
    NoShowsSchema,
    TicketKeySchema,
    TicketSchema,
)
from services.transport import boarding, ticket_signing
from services.transport.boarding import BOARDING_ROLES, MANIFEST_COLUMNS


@blp.route("/boarding")
class Boarding(MethodView):
    @roles_required(*BOARDING_ROLES)
    @blp.arguments(BoardingArgs, location="query")
    @blp.arguments(BoardingSchema)
    @blp.response(200, TicketSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="Already boarded (with `boarded_at`)"
    )
    def post(self, args, data):
        """Board the ticket of a scanned barcode (once; 409 `already-boarded`)."""
        return boarding.board(
            actor=current_user,
            barcode=data["barcode"],
            trip_id=data.get("trip_id"),
            station_id=args.get("station_id"),
            facts=request_facts(),
        )


def _cell(value) -> str:
    """A manifest CSV cell: empty for None, ISO 8601 for times, formula-safe text."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return neutralise_formula(value) if isinstance(value, str) else str(value)


def _manifest_csv(trip_id: int, data: dict) -> Response:
    """The manifest as a CSV attachment, one line per passenger and event."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(MANIFEST_COLUMNS)
    for row in boarding.manifest_rows(data):
        writer.writerow([_cell(row.get(name)) for name in MANIFEST_COLUMNS])
    filename = f"manifest-trip-{trip_id}-{utcnow().date().isoformat()}.csv"
    response = Response(
        buffer.getvalue(),
        mimetype=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    response.headers["Vary"] = "Accept"
    return response


@blp.route(f"/trips/<{ID}:trip_id>/manifest")
class TripManifest(MethodView):
    @roles_required(*BOARDING_ROLES)
    @blp.arguments(ManifestArgs, location="query")
    @blp.response(200, ManifestSchema, description="The manifest (JSON or CSV)")
    @blp.doc(
        responses={
            "200": {
                "content": {
                    JSON_TYPE: {"schema": ManifestSchema},
                    CSV_TYPE: {
                        "schema": {"type": "string"},
                        "example": ",".join(MANIFEST_COLUMNS) + "\r\n",
                    },
                }
            }
        }
    )
    def get(self, args, trip_id):
        """Who boards and alights at each stop of a trip (JSON, or CSV)."""
        data = boarding.manifest(actor=current_user, trip_id=trip_id)
        return _manifest_csv(trip_id, data) if wants_csv(args) else data


@blp.route(f"/trips/<{ID}:trip_id>/no-shows")
class TripNoShows(MethodView):
    @roles_required(*BOARDING_ROLES)
    @blp.response(200, NoShowsSchema)
    @blp.alt_response(
        409, schema=ProblemSchema, description="The trip has not departed yet"
    )
    def post(self, trip_id):
        """Mark every ticket never scanned at a departed stop `no_show`."""
        return boarding.mark_no_shows(
            actor=current_user, trip_id=trip_id, facts=request_facts()
        )


@blp.route("/ticket-key")
class TicketKey(MethodView):
    @optional_login
    @blp.response(200, TicketKeySchema)
    def get(self):
        """The public key (Ed25519) that verifies ticket barcodes offline."""
        return ticket_signing.public_key()
