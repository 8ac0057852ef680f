"""Liveness and readiness probes (docs/design.md "API conventions": health)."""

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import text

from core.errors import APIError
from core.extensions import db
from routes.common.blueprint import Blueprint
from services.messaging import outbox

blp = Blueprint("health", __name__, description="Process and database health")


class OutboxHealthSchema(Schema):
    """Outbox queue depth: pending and dead rows, age of the oldest pending one."""

    pending = fields.Integer(metadata={"example": 3})
    dead = fields.Integer(metadata={"example": 0})
    oldest_pending_age_seconds = fields.Float(metadata={"example": 1.5})


class HealthSchema(Schema):
    """Health probe answer."""

    status = fields.String(metadata={"enum": ["ok"]})
    database = fields.String(
        required=False, metadata={"enum": ["ok"], "may_be_absent": True}
    )
    outbox = fields.Nested(
        OutboxHealthSchema, required=False, metadata={"may_be_absent": True}
    )


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
        """The database answers a trivial query; `outbox` shows the queue depth and
        the age of the oldest undelivered side effect."""
        try:
            db.session.execute(text("SELECT 1"))
            depth = outbox.stats()
            db.session.rollback()
        except Exception as exc:  # any driver error means "not ready"
            db.session.rollback()
            raise APIError(
                503, "The database is not reachable.", code="not-ready"
            ) from exc
        return {"status": "ok", "database": "ok", "outbox": depth}
