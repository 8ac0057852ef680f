"""services.booking.inventory and services.booking.holds: atomic seat take/release,
expiry of lapsed holds and the CHECK constraint behind them (docs/design.md "Rules
with numbers": seats, hold)."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from models import Booking, Departure
from services.booking import holds, inventory
from tests.booking.conftest import category_taken, seats_taken
from tests.factories import make_booking, make_departure, now


def run(app, fn, **kwargs):
    """Call an inventory function in its own app context and commit."""
    with app.app_context():
        result = fn(**kwargs)
        db.session.commit()
        return result


def statuses(app, ids) -> list[str]:
    with app.app_context():
        return [db.session.get(Booking, i).status for i in ids]


@pytest.mark.parametrize(
    "taken, asked, ok, after", [(0, 3, True, 3), (7, 3, True, 10), (8, 3, False, 8)]
)
def test_take_seats_only_when_they_fit(app, taken, asked, ok, after):
    dep = make_departure(app, capacity=10, seats_taken=taken)
    assert run(app, inventory.take_seats, departure_id=dep, seats=asked) is ok
    assert seats_taken(app, dep) == after


def test_take_seats_unknown_departure_false(app):
    assert run(app, inventory.take_seats, departure_id=424242, seats=1) is False


@pytest.mark.parametrize("fn", [inventory.take_seats, inventory.release_seats])
def test_take_or_release_non_positive_raises(app, fn):
    dep = make_departure(app, seats_taken=1)
    with pytest.raises(ValueError):
        run(app, fn, departure_id=dep, seats=0)
    assert seats_taken(app, dep) == 1


def test_take_seats_updates_loaded_departure(app):
    dep = make_departure(app, capacity=4)
    with app.app_context():
        departure = db.session.get(Departure, dep)
        assert departure.seats_taken == 0
        assert inventory.take_seats(departure_id=dep, seats=4)
        assert departure.seats_taken == 4  # not the stale copy
        db.session.rollback()
    assert seats_taken(app, dep) == 0


def test_release_seats_gives_back_or_refuses(app):
    dep = make_departure(app, capacity=10, seats_taken=3)
    assert run(app, inventory.release_seats, departure_id=dep, seats=2) is True
    assert seats_taken(app, dep) == 1
    assert run(app, inventory.release_seats, departure_id=dep, seats=2) is False
    assert seats_taken(app, dep) == 1


def test_check_constraint_refuses_oversold_departure(app):
    dep = make_departure(app, capacity=2)
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(
                update(Departure).where(Departure.id == dep).values(seats_taken=3)
            )
        db.session.rollback()
    assert seats_taken(app, dep) == 0


def test_release_expired_holds_expires_once_and_frees_seats(app, actors):
    cust = actors.customer()["id"]
    dep1 = make_departure(app, capacity=10, seats_taken=6)
    dep2 = make_departure(app, capacity=10, seats_taken=2)
    past, future = now() - timedelta(minutes=1), now() + timedelta(minutes=5)
    ids = [
        make_booking(
            app, departure_id=dep1, customer_id=cust, seats=2, hold_expires_at=past
        ),
        make_booking(
            app, departure_id=dep1, customer_id=cust, seats=1, hold_expires_at=past
        ),
        make_booking(
            app, departure_id=dep1, customer_id=cust, seats=3, hold_expires_at=future
        ),
        make_booking(
            app, departure_id=dep2, customer_id=cust, seats=2, hold_expires_at=past
        ),
    ]
    assert run(app, holds.release_expired_holds, departure_id=dep1, now=now()) == 2
    assert statuses(app, ids) == ["expired", "expired", "held", "held"]
    assert (seats_taken(app, dep1), seats_taken(app, dep2)) == (3, 2)

    assert run(app, holds.release_expired_holds, departure_id=dep1, now=now()) == 0
    assert seats_taken(app, dep1) == 3

    assert run(app, holds.release_expired_holds, now=now()) == 1  # all departures
    assert statuses(app, ids)[3] == "expired"
    assert seats_taken(app, dep2) == 0


def test_release_expired_holds_ignores_other_statuses(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(app, capacity=10, seats_taken=1)
    past = now() - timedelta(hours=1)
    ids = [
        make_booking(
            app, departure_id=dep, customer_id=cust, status=status, hold_expires_at=past
        )
        for status in ("confirmed", "cancelled", "expired")
    ]
    assert run(app, holds.release_expired_holds, now=now()) == 0
    assert statuses(app, ids) == ["confirmed", "cancelled", "expired"]
    assert seats_taken(app, dep) == 1


def test_seats_left_counts_lapsed_holds_as_free(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(app, capacity=10, seats_taken=7)
    make_booking(
        app,
        departure_id=dep,
        customer_id=cust,
        seats=4,
        hold_expires_at=now() - timedelta(seconds=1),
    )
    make_booking(app, departure_id=dep, customer_id=cust, seats=3)
    with app.app_context():
        departure = db.session.get(Departure, dep)
        assert holds.seats_left(departure) == 7
        assert inventory.free_seats_now(departure_id=dep) == 3
        assert holds.lapsed_hold_seats(departure_id=dep, now=now()) == 4
    with app.app_context():
        rows = db.session.scalars(select(Booking.status)).all()
    assert sorted(rows) == ["held", "held"]  # counting never writes


# --- categories -----------------------------------------------------------------------


def booking_call(app, fn, booking_id):
    """Call a booking-level inventory function on a loaded booking and commit."""
    with app.app_context():
        result = fn(db.session.get(Booking, booking_id))
        db.session.commit()
        return result


def test_category_counts_travellers_or_adult(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(app, prices={"child": "10.00"})
    named = make_booking(
        app,
        departure_id=dep,
        customer_id=cust,
        seats=3,
        categories=["child", "adult", "child"],
    )
    unnamed = make_booking(app, departure_id=dep, customer_id=cust, seats=2)
    with app.app_context():
        assert inventory.category_counts(db.session.get(Booking, named)) == {
            "child": 2,
            "adult": 1,
        }
        assert inventory.category_counts(db.session.get(Booking, unnamed)) == {
            "adult": 2
        }


def test_take_booking_seats_takes_departure_and_categories(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(
        app, capacity=5, prices={"child": "10.00"}, category_capacities={"child": 2}
    )
    booking = make_booking(
        app, departure_id=dep, customer_id=cust, seats=2, categories=["child", "adult"]
    )

    assert booking_call(app, inventory.take_booking_seats, booking) is True

    assert seats_taken(app, dep) == 2
    assert category_taken(app, dep) == {"adult": 1, "child": 1}


def test_take_booking_seats_category_full_takes_nothing(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(
        app,
        capacity=5,
        prices={"child": "10.00", "infant": "0.00"},
        category_capacities={"child": 1},
    )
    booking = make_booking(
        app,
        departure_id=dep,
        customer_id=cust,
        seats=3,
        categories=["adult", "infant", "child"],
    )
    with app.app_context():
        from models import DepartureCategory

        db.session.execute(
            update(DepartureCategory)
            .where(
                DepartureCategory.departure_id == dep,
                DepartureCategory.category == "child",
            )
            .values(seats_taken=1)
        )
        db.session.commit()

    assert booking_call(app, inventory.take_booking_seats, booking) is False

    assert seats_taken(app, dep) == 0
    assert category_taken(app, dep) == {"adult": 0, "child": 1, "infant": 0}


def test_take_booking_seats_departure_full_false(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(app, capacity=2, seats_taken=1)
    booking = make_booking(app, departure_id=dep, customer_id=cust, seats=2)

    assert booking_call(app, inventory.take_booking_seats, booking) is False
    assert (seats_taken(app, dep), category_taken(app, dep)) == (1, {"adult": 1})


def test_release_booking_seats_gives_back_departure_and_categories(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(app, capacity=5, prices={"child": "10.00"})
    booking = make_booking(
        app, departure_id=dep, customer_id=cust, seats=2, categories=["child", "child"]
    )
    assert booking_call(app, inventory.take_booking_seats, booking) is True

    booking_call(app, inventory.release_booking_seats, booking)

    assert seats_taken(app, dep) == 0
    assert category_taken(app, dep) == {"adult": 0, "child": 0}


def test_take_booking_seats_departure_without_category_rows(app, actors):
    """A departure made before categories existed has no rows: no category limit."""
    from models import DepartureCategory

    cust = actors.customer()["id"]
    dep = make_departure(app, capacity=3)
    with app.app_context():
        db.session.execute(
            DepartureCategory.__table__.delete().where(
                DepartureCategory.departure_id == dep
            )
        )
        db.session.commit()
    booking = make_booking(app, departure_id=dep, customer_id=cust, seats=3)

    assert booking_call(app, inventory.take_booking_seats, booking) is True
    assert seats_taken(app, dep) == 3


def test_release_expired_holds_releases_categories_and_sets_expired_at(app, actors):
    cust = actors.customer()["id"]
    dep = make_departure(
        app, capacity=10, prices={"child": "10.00"}, category_capacities={"child": 5}
    )
    lapsed = make_booking(
        app,
        departure_id=dep,
        customer_id=cust,
        seats=3,
        categories=["child", "child", "adult"],
        hold_expires_at=now() - timedelta(minutes=1),
    )
    unnamed = make_booking(
        app,
        departure_id=dep,
        customer_id=cust,
        seats=2,
        hold_expires_at=now() - timedelta(minutes=1),
    )
    for booking in (lapsed, unnamed):
        assert booking_call(app, inventory.take_booking_seats, booking) is True
    assert category_taken(app, dep) == {"adult": 3, "child": 2}
    moment = now()

    assert run(app, holds.release_expired_holds, now=moment) == 2

    assert seats_taken(app, dep) == 0
    assert category_taken(app, dep) == {"adult": 0, "child": 0}
    with app.app_context():
        assert db.session.get(Booking, lapsed).expired_at == moment
