"""The jobs tests cover the scheduled jobs with an injected clock (balance
reminders, unpaid-balance cancellation, hold expiry, the beat schedule;
test_schedule.py) and a real Celery worker delivering mail through the outbox
(test_celery_worker.py, with tests/celery_workers.py). They share no fixture of
their own.

From tests/conftest.py they use `app`, `client`, `actors`, `mailbox` and the
session's `smtp` server; from tests/factories.py `make_plain_departure` and `pay`.
"""
