"""Departures endpoints (placeholder until implemented)."""

from flask_smorest import Blueprint

blp = Blueprint("departures", __name__, description="Departures")
