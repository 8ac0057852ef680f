"""Celery entry point: `celery -A worker.celery_app worker` and ONE
`celery -A worker.celery_app beat` per deployment (docs/operations.md "Deploying").

The Celery app is built by the application factory from the same environment as
the web app (APP_CONFIG, DATABASE_URL, MAIL_*, CELERY_BROKER_URL, ...;
services/jobs/tasks.py).
"""

from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
