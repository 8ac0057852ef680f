"""Services of the shared: helpers every domain uses (pagination, lookups, money,
idempotency records)."""
