"""Employees endpoints (placeholder until implemented)."""

from flask_smorest import Blueprint

blp = Blueprint("employees", __name__, description="Employees")
