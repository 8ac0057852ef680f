"""The sales tests cover enquiries and their notes (test_enquiries.py), the
pipeline over HTTP: lost reasons, won bookings, quotes, round-robin assignment,
activities and merges (test_pipeline.py), merge requests awaiting a second
employee's approval (test_merge_requests.py), and quote acceptance and merge
approvals under concurrency on PostgreSQL (test_pipeline_concurrency_pg.py,
test_merge_requests_concurrency_pg.py). Their helpers differ per module, so they
share no fixture of their own.

From tests/conftest.py they use `app`, `client`, `actors` and `mailbox`; from
tests/factories.py `make_departure`, `make_bare_package`, `raise_enquiry`,
`live_seats` and `one_page_meta`, and tests/live.py's gunicorn server.
"""
