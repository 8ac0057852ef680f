"""Services of the jobs: the schedule of periodic jobs and the Celery tasks that
run them."""
