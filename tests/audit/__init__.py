"""Tests of the audit: the audit log."""
