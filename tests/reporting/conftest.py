"""The reporting tests cover the reports: revenue, invoices, catalogue, customers,
bookings, cancellations and wallets computed by hand from a fixed data set
(test_reports.py), the sales pipeline reports (test_pipeline_reports.py) and CSV
injection in the exports (test_csv_injection.py). Each module builds its own data
set (`data` fixtures of their own), so they share no fixture.

From tests/conftest.py they use `app`, `client` and `actors`; departures come from
tests/factories.py (`make_departure`).
"""
