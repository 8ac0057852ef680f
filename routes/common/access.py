"""What the route modules share about who may call them and how ids appear in
their URLs: the role groups several URL families use (docs/design.md "Accounts and
roles") and the bounded id converter (`<int(max=2147483647):...>`: a larger id
would overflow PostgreSQL's `integer` columns with a 500)."""

from flask import current_app

# The URL converter of every id, as `f"<{ID}:booking_id>"`.
ID = "int(max=2147483647)"

# Roles matrix rows "work the pipeline": admin and sales; the customer takes part
# in their own enquiry's thread and quotes.
SALES_WORKERS = ("admin", "sales")
PIPELINE_PARTIES = ("admin", "sales", "customer")
# "record payment / refund" and the customer's own money documents.
MONEY_ROLES = ("admin", "finance", "customer")
# "start a card payment (payment intent)".
CARD_PAYERS = ("admin", "sales", "finance", "customer")


def with_publishable_key(attempt):
    """The payment attempt as responses show it: with the provider's publishable
    key (STRIPE_PUBLISHABLE_KEY, None when unset) for the client's SDK."""
    attempt.publishable_key = current_app.config.get("STRIPE_PUBLISHABLE_KEY") or None
    return attempt
