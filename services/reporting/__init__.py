"""Services of the reporting (docs/design.md "Resource map": /reports): revenue,
invoice, catalogue, customer, booking and sales pipeline reports, one module per
family on top of report_base.py (Window, Report) and report_sql.py (SQL blocks)."""
