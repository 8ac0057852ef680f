"""Customers endpoints (placeholder until implemented)."""

from flask_smorest import Blueprint

blp = Blueprint("customers", __name__, description="Customers")
