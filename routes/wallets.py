"""Wallets endpoints (placeholder until implemented)."""

from flask_smorest import Blueprint

blp = Blueprint("wallets", __name__, description="Wallets")
