"""Schemas of the audit: the audit log."""
