"""Bookings endpoints (placeholder until implemented)."""

from flask_smorest import Blueprint

blp = Blueprint("bookings", __name__, description="Bookings")
