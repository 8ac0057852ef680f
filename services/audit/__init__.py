"""Services of the audit: the audit log."""
