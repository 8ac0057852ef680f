"""Enquiries endpoints (placeholder until implemented)."""

from flask_smorest import Blueprint

blp = Blueprint("enquiries", __name__, description="Enquiries")
