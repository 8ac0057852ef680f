"""Cancellations endpoints (placeholder until implemented)."""

from flask_smorest import Blueprint

blp = Blueprint("cancellations", __name__, description="Cancellations")
