"""Idempotency keys across failures (services/shared/idempotency.py): an operation whose
transaction committed but whose answer was never stored (the database went away in
between, as the PostgreSQL restart drill showed) is never run a second time, while
a key whose operation never committed may run again once stale."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.errors import APIError
from core.extensions import db
from models import Customer
from models.idempotency import IdempotencyKey
from services.shared import idempotency

ARGS = dict(
    owner="customer:1", key="k-1", method="POST", path="/api/v1/x", body=b'{"a": 1}'
)


def _state(key="k-1"):
    return db.session.scalar(
        select(IdempotencyKey.state).where(IdempotencyKey.key == key)
    )


def test_commit_of_the_operation_marks_the_key_in_the_same_transaction(app):
    with app.app_context():
        row_id = idempotency.claim(**ARGS)
        assert _state() == "in_flight"
        unhook = idempotency.mark_on_commit(row_id)
        db.session.add(Customer(name="Written", email="written@example.test"))
        db.session.commit()  # the operation's own commit
        unhook()
        assert _state() == "committed"
        # the answer is not stored yet (still answering, or lost in a failure): a
        # retry must not run it again
        with pytest.raises(APIError) as caught:
            idempotency.claim(**ARGS)
        assert caught.value.status == 409
        assert caught.value.code == "idempotency-in-flight"


def test_committed_key_is_not_rerun_even_when_stale(app):
    with app.app_context():
        row_id = idempotency.claim(**ARGS)
        unhook = idempotency.mark_on_commit(row_id)
        db.session.add(Customer(name="Written", email="written2@example.test"))
        db.session.commit()
        unhook()
        row = db.session.get(IdempotencyKey, row_id)
        row.created_at -= idempotency.STALE_IN_FLIGHT + timedelta(minutes=1)
        db.session.commit()
        with pytest.raises(APIError) as caught:
            idempotency.claim(**ARGS)
        assert caught.value.code == "idempotency-outcome-unknown"


def test_rolled_back_operation_leaves_the_key_in_flight_and_rerunnable_when_stale(app):
    with app.app_context():
        row_id = idempotency.claim(**ARGS)
        unhook = idempotency.mark_on_commit(row_id)
        db.session.add(Customer(name="Never", email="never@example.test"))
        db.session.rollback()  # the operation failed before committing
        unhook()
        assert _state() == "in_flight"
        with pytest.raises(APIError) as caught:  # still running, as far as anyone knows
            idempotency.claim(**ARGS)
        assert caught.value.code == "idempotency-in-flight"
        row = db.session.get(IdempotencyKey, row_id)
        row.created_at -= idempotency.STALE_IN_FLIGHT + timedelta(minutes=1)
        db.session.commit()
        assert isinstance(idempotency.claim(**ARGS), int)  # may run again


def test_unhooked_key_is_not_marked_by_later_commits(app):
    with app.app_context():
        row_id = idempotency.claim(**ARGS)
        unhook = idempotency.mark_on_commit(row_id)
        unhook()
        db.session.add(Customer(name="Later", email="later@example.test"))
        db.session.commit()
        assert _state() == "in_flight"
