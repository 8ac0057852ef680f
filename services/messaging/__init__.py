"""Services of the messaging: the outbox, notifications, mail and outgoing webhooks."""
