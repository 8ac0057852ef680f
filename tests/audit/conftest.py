"""The audit tests (tests/audit/test_audit.py) cover the audit log: one entry per
audited action with its actor, record and request, none for a refused action,
admin-only reading with filters and pagination, and the append-only table (ORM,
SQLite and PostgreSQL triggers, migrations). They share no fixture of their own.

From tests/conftest.py they use `app`, `client`, `actors` and `mailbox`, with
PASSWORD, TEST_DB_URL, `empty_tables` and `flask_cli`; paid bookings and
CANCEL_URL come from tests/factories.py.
"""
