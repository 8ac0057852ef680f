"""Liveness and readiness probes (DESIGN.md "API conventions": health)."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

from errors import APIError
from extensions import db

blp = Blueprint("health", __name__, description="Process and database health")


class HealthSchema(Schema):
    """Health probe answer."""

    status = fields.String(metadata={"enum": ["ok"]})
    database = fields.String(required=False, metadata={"enum": ["ok"], "may_be_absent": True})


@blp.route("")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is up."""
        return {"status": "ok"}


@blp.route("/ready")
class Ready(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, description="Database unreachable")
    def get(self):
        """The database answers a trivial query."""
        try:
            db.session.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "not ready"
            db.session.rollback()
            raise APIError(503, "The database is not reachable.", code="not-ready") from exc
        return {"status": "ok", "database": "ok"}
