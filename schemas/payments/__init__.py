"""Schemas of the payments: invoices, payments, card payments through the provider,
refunds and the wallet."""
