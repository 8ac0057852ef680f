"""Schemas of the accounts: employees, customers, sign-in, one-time codes and
email changes."""
