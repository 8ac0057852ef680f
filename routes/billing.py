"""Billing endpoints (placeholder until implemented)."""

from flask_smorest import Blueprint

blp = Blueprint("billing", __name__, description="Billing")
