"""Packages endpoints (placeholder until implemented)."""

from flask_smorest import Blueprint

blp = Blueprint("packages", __name__, description="Packages")
