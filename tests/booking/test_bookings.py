"""POST/GET /api/v1/bookings: held bookings that take seats atomically, the
bookable-departure rules, customer_id rules, ownership and the roles matrix
(docs/design.md "Lifecycles": booking; "Rules with numbers": seats, hold)."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from models import Booking, Customer
from models.booking import Traveller
from services.booking import bookings as booking_service
from tests.booking.conftest import BOOKINGS, book, booking_rows, seats_taken, traveller
from tests.factories import make_booking, make_departure, now, one_page_meta

STAFF_VIEWERS = ("admin", "sales", "operation", "operation_head", "finance")


# --- create: happy paths -------------------------------------------------------------


def test_create_as_customer_holds_seats(app, client, actors):
    dep = make_departure(app, capacity=10, price="1200.00", prices={"child": "800.00"})
    me = actors.customer()
    people = [traveller(), traveller("Tim Lovelace", "2016-03-01", "child")]

    before = now()
    resp = book(client, me["headers"], departure_id=dep, seats=2, travellers=people)

    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert re.fullmatch(r"ET-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{6}", body["reference"])
    assert body["status"] == "held"
    assert body["customer_id"] == me["id"]
    assert body["departure_id"] == dep
    assert body["package_title"] == "Alpine Lakes"
    assert body["start_date"] == (now().date() + timedelta(days=30)).isoformat()
    assert body["seats"] == 2
    assert body["currency"] == "EUR"
    assert (body["unit_price"], body["total_amount"]) == ("1200.00", "2000.00")
    assert (body["amount_paid"], body["amount_due"]) == ("0.00", "2000.00")
    assert body["created_by_id"] is None
    assert [t["name"] for t in body["travellers"]] == ["Ada Lovelace", "Tim Lovelace"]
    assert body["travellers"][1] == {
        **traveller("Tim Lovelace", "2016-03-01", "child"),
        "unit_price": "800.00",
    }
    assert body["price_snapshot"] == {"adult": "1200.00", "child": "800.00"}
    expires = datetime.fromisoformat(body["hold_expires_at"])
    assert before + timedelta(minutes=15) <= expires <= now() + timedelta(minutes=15)

    assert seats_taken(app, dep) == 2
    with app.app_context():
        booking = db.session.get(Booking, body["id"])
        assert (booking.status, booking.seats, booking.total_amount) == (
            "held",
            2,
            Decimal("2000.00"),
        )
        assert booking.cancellation_policy[0] == {
            "tier": "30_days_or_more",
            "min_hours_before": 720,
            "penalty_percent": 10,
        }
        assert [p["penalty_percent"] for p in booking.cancellation_policy] == [
            10,
            25,
            50,
            75,
            100,
        ]
        stored = db.session.scalars(
            select(Traveller)
            .where(Traveller.booking_id == booking.id)
            .order_by(Traveller.id)
        ).all()
        assert [(t.name, t.birth_date, t.category, t.unit_price) for t in stored] == [
            ("Ada Lovelace", date(1990, 12, 10), "adult", Decimal("1200.00")),
            ("Tim Lovelace", date(2016, 3, 1), "child", Decimal("800.00")),
        ]


def test_create_response_equals_a_fresh_read(app, client, actors):
    """The 201 body is built from what the transaction wrote, without a reload
    after the commit: it must equal the booking read back afresh."""
    dep = make_departure(app, capacity=10, prices={"child": "800.00"})
    me = actors.customer()
    people = [traveller(), traveller("Tim Lovelace", "2016-03-01", "child")]
    resp = book(client, me["headers"], departure_id=dep, seats=2, travellers=people)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    again = client.get(f"{BOOKINGS}/{created['id']}", headers=me["headers"])
    assert again.status_code == 200
    assert again.get_json() == created
    assert created["invoice_number"].startswith("INV-")


def test_create_without_travellers_and_default_category(app, client, actors):
    dep = make_departure(app, price="999.99")
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=3)
    assert resp.status_code == 201
    assert resp.get_json()["travellers"] == []
    assert resp.get_json()["total_amount"] == "2999.97"

    resp = book(
        client,
        actors.headers("customer"),
        departure_id=dep,
        seats=1,
        travellers=[{"name": "Bo", "birth_date": "2000-01-01"}],
    )
    assert resp.status_code == 201
    assert resp.get_json()["travellers"][0]["category"] == "adult"
    assert seats_taken(app, dep) == 4


def test_create_as_sales_for_customer_records_creator(app, client, actors):
    dep = make_departure(app)
    sales = actors.employee("sales")
    cust = actors.customer()
    resp = book(
        client, sales["headers"], departure_id=dep, seats=1, customer_id=cust["id"]
    )
    assert resp.status_code == 201
    assert resp.get_json()["customer_id"] == cust["id"]
    assert resp.get_json()["created_by_id"] == sales["id"]
    assert booking_rows(app, dep) == [("held", 1)]


def test_create_hold_minutes_from_config(app, client, actors, monkeypatch):
    monkeypatch.setitem(app.config, "BOOKING_HOLD_MINUTES", 3)
    dep = make_departure(app)
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=1)
    expires = datetime.fromisoformat(resp.get_json()["hold_expires_at"])
    assert now() + timedelta(minutes=2) < expires <= now() + timedelta(minutes=3)


def test_create_until_exactly_full_then_conflict(app, client, actors):
    dep = make_departure(app, capacity=3)
    headers = actors.headers("customer")
    assert book(client, headers, departure_id=dep, seats=2).status_code == 201
    assert book(client, headers, departure_id=dep, seats=1).status_code == 201
    resp = book(client, headers, departure_id=dep, seats=1)
    assert resp.status_code == 409
    assert resp.get_json()["seats_left"] == 0
    assert seats_taken(app, dep) == 3


# --- create: seats and bookability conflicts ------------------------------------------


def test_create_not_enough_seats_conflict_with_seats_left(app, client, actors):
    dep = make_departure(app, capacity=5, seats_taken=4)
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=2)
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["type"] == "/problems/seats-unavailable"
    assert (body["seats_left"], body["seats_requested"]) == (1, 2)
    assert resp.mimetype == "application/problem+json"
    assert seats_taken(app, dep) == 4
    assert booking_rows(app, dep) == []


@pytest.mark.parametrize(
    "status", ["draft", "pending_approval", "rejected", "archived"]
)
def test_create_package_not_published_conflict(app, client, actors, status):
    dep = make_departure(app, package_status=status)
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=1)
    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/package-not-bookable"
    assert seats_taken(app, dep) == 0
    assert booking_rows(app, dep) == []


def test_create_cancelled_departure_conflict(app, client, actors):
    dep = make_departure(app, status="cancelled")
    resp = book(
        client,
        actors.headers("sales"),
        departure_id=dep,
        seats=1,
        customer_id=actors.customer()["id"],
    )
    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/departure-cancelled"
    assert seats_taken(app, dep) == 0


@pytest.mark.parametrize("start_in_days", [0, -3])
def test_create_departure_started_conflict(app, client, actors, start_in_days):
    # A departure starts at 00:00 UTC of its start date, so today's has started.
    dep = make_departure(app, start_in_days=start_in_days)
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=1)
    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/departure-started"
    assert booking_rows(app, dep) == []


def test_create_past_cutoff_conflict(app, client, actors):
    dep = make_departure(app, booking_cutoff=now() - timedelta(minutes=1))
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=1)
    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/booking-closed"
    assert seats_taken(app, dep) == 0


def test_create_before_cutoff_succeeds(app, client, actors):
    dep = make_departure(app, booking_cutoff=now() + timedelta(hours=1))
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=1)
    assert resp.status_code == 201
    assert seats_taken(app, dep) == 1


# --- create: validation --------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 3])
def test_create_traveller_count_mismatch_422(app, client, actors, count):
    dep = make_departure(app)
    resp = book(
        client,
        actors.headers("customer"),
        departure_id=dep,
        seats=2,
        travellers=[traveller() for _ in range(count)],
    )
    assert resp.status_code == 422
    assert "travellers" in resp.get_json()["errors"]
    assert seats_taken(app, dep) == 0
    assert booking_rows(app, dep) == []


@pytest.mark.parametrize(
    "person, field",
    [
        (traveller(born=(now().date() + timedelta(days=2)).isoformat()), "birth_date"),
        (traveller(category="senior"), "category"),
        (traveller(name="   "), "name"),
        ({"birth_date": "1990-01-01"}, "name"),
        ({"name": "No Date"}, "birth_date"),
    ],
)
def test_create_invalid_traveller_422(app, client, actors, person, field):
    dep = make_departure(app)
    resp = book(
        client,
        actors.headers("customer"),
        departure_id=dep,
        seats=1,
        travellers=[person],
    )
    assert resp.status_code == 422
    assert f"travellers.0.{field}" in resp.get_json()["errors"]
    assert seats_taken(app, dep) == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"seats": 0}, "seats"),
        ({"seats": 51}, "seats"),
        ({"seats": "2"}, "seats"),
        ({"departure_id": None}, "departure_id"),
        ({"departure_id": 2**31}, "departure_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_create_invalid_body_422(app, client, actors, body, field):
    dep = make_departure(app)
    resp = book(
        client, actors.headers("customer"), **{"departure_id": dep, "seats": 1, **body}
    )
    assert resp.status_code == 422
    assert field in resp.get_json()["errors"]
    assert seats_taken(app, dep) == 0


def test_create_unknown_departure_422(app, client, actors):
    resp = book(client, actors.headers("customer"), departure_id=999999, seats=1)
    assert resp.status_code == 422
    assert "departure_id" in resp.get_json()["errors"]


# --- create: customer_id rules -------------------------------------------------------


def test_create_customer_naming_another_customer_422(app, client, actors):
    dep = make_departure(app)
    other = actors.customer()
    resp = book(
        client,
        actors.headers("customer"),
        departure_id=dep,
        seats=1,
        customer_id=other["id"],
    )
    assert resp.status_code == 422
    assert "customer_id" in resp.get_json()["errors"]
    assert booking_rows(app, dep) == []


def test_create_customer_naming_self_succeeds(app, client, actors):
    dep = make_departure(app)
    me = actors.account("customer")
    resp = book(client, me["headers"], departure_id=dep, seats=1, customer_id=me["id"])
    assert resp.status_code == 201
    assert resp.get_json()["customer_id"] == me["id"]


@pytest.mark.parametrize("role", ["admin", "sales"])
def test_create_staff_without_customer_id_422(app, client, actors, role):
    dep = make_departure(app)
    resp = book(client, actors.headers(role), departure_id=dep, seats=1)
    assert resp.status_code == 422
    assert "customer_id" in resp.get_json()["errors"]
    assert seats_taken(app, dep) == 0


def test_create_staff_for_unknown_or_inactive_customer_422(app, client, actors):
    dep = make_departure(app)
    inactive = actors.customer(active=False)
    for customer_id in (999999, inactive["id"]):
        resp = book(
            client,
            actors.headers("sales"),
            departure_id=dep,
            seats=1,
            customer_id=customer_id,
        )
        assert resp.status_code == 422
        assert "customer_id" in resp.get_json()["errors"]
    assert seats_taken(app, dep) == 0


# --- create: roles matrix ------------------------------------------------------------


@pytest.mark.parametrize(
    "role, expected",
    [
        ("admin", 201),
        ("hr", 403),
        ("sales", 201),
        ("operation", 403),
        ("operation_head", 403),
        ("finance", 403),
        ("customer", 201),
        ("anonymous", 401),
    ],
)
def test_create_roles(app, client, actors, role, expected):
    dep = make_departure(app)
    body = {"departure_id": dep, "seats": 1}
    if role not in ("customer", "anonymous"):
        body["customer_id"] = actors.customer()["id"]
    resp = client.post(BOOKINGS, json=body, headers=actors.headers(role))
    assert resp.status_code == expected
    assert seats_taken(app, dep) == (1 if expected == 201 else 0)


def test_create_anonymous_with_bad_body_401(client):
    assert client.post(BOOKINGS, json={"seats": "x"}).status_code == 401


# --- expiry and transactions ---------------------------------------------------------


def test_create_reuses_expired_hold_seats_without_sweep(app, client, actors):
    dep = make_departure(app, capacity=2, seats_taken=2)
    old = make_booking(
        app,
        departure_id=dep,
        customer_id=actors.customer()["id"],
        seats=2,
        hold_expires_at=now() - timedelta(minutes=1),
    )
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=2)
    assert resp.status_code == 201
    assert seats_taken(app, dep) == 2
    with app.app_context():
        assert db.session.get(Booking, old).status == "expired"
    assert booking_rows(app, dep) == [("expired", 2), ("held", 2)]


def test_create_that_fits_leaves_lapsed_holds_to_the_sweep(app, client, actors):
    # Expiring first could only turn a refusal into a success: when the seats fit,
    # the lapsed hold is left for the sweep (it still reads `expired`).
    dep = make_departure(app, capacity=4, seats_taken=2)
    old = make_booking(
        app,
        departure_id=dep,
        customer_id=actors.customer()["id"],
        seats=2,
        hold_expires_at=now() - timedelta(minutes=1),
    )
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=2)
    assert resp.status_code == 201
    assert seats_taken(app, dep) == 4
    assert booking_rows(app, dep) == [("held", 2), ("held", 2)]
    shown = client.get(f"{BOOKINGS}/{old}", headers=actors.headers("admin"))
    assert shown.get_json()["status"] == "expired"

    again = book(client, actors.headers("customer"), departure_id=dep, seats=2)
    assert again.status_code == 201  # refused at first: expires it, then fits
    assert seats_taken(app, dep) == 4
    assert booking_rows(app, dep) == [("expired", 2), ("held", 2), ("held", 2)]


def test_create_live_hold_still_counts(app, client, actors):
    dep = make_departure(app, capacity=2, seats_taken=2)
    make_booking(app, departure_id=dep, customer_id=actors.customer()["id"], seats=2)
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=1)
    assert resp.status_code == 409
    assert resp.get_json()["seats_left"] == 0
    assert booking_rows(app, dep) == [("held", 2)]


def test_create_failure_after_taking_seats_leaves_seats(
    app, client, actors, monkeypatch
):
    dep = make_departure(app, capacity=5, seats_taken=1)

    def explode(*args, **kwargs):
        raise RuntimeError("simulated failure after the seats were taken")

    monkeypatch.setattr(booking_service, "_new_booking", explode)
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=2)
    assert resp.status_code == 500
    assert resp.get_json()["type"] == "/problems/internal-error"
    assert seats_taken(app, dep) == 1
    assert booking_rows(app, dep) == []


def test_create_retries_reference_collision(app, client, actors, monkeypatch):
    dep = make_departure(app, capacity=5)
    make_booking(
        app,
        departure_id=dep,
        customer_id=actors.customer()["id"],
        reference="ET-AAAAAA",
    )
    references = iter(["ET-AAAAAA", "ET-BBBBBB"])
    monkeypatch.setattr(booking_service, "new_reference", lambda: next(references))
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=2)
    assert resp.status_code == 201
    assert resp.get_json()["reference"] == "ET-BBBBBB"
    assert seats_taken(app, dep) == 2  # the failed attempt's seats were rolled back


def test_create_reference_collision_exhausted_leaves_seats(
    app, client, actors, monkeypatch
):
    dep = make_departure(app, capacity=5)
    make_booking(
        app,
        departure_id=dep,
        customer_id=actors.customer()["id"],
        reference="ET-AAAAAA",
    )
    monkeypatch.setattr(booking_service, "new_reference", lambda: "ET-AAAAAA")
    resp = book(client, actors.headers("customer"), departure_id=dep, seats=2)
    assert resp.status_code == 409
    assert resp.get_json()["type"] == "/problems/integrity-conflict"
    assert seats_taken(app, dep) == 0
    assert booking_rows(app, dep) == [("held", 1)]


# --- list and view -------------------------------------------------------------------


def _three_bookings(app, client, actors):
    """Two bookings by customer A on departure 1, one by B on departure 2."""
    dep1, dep2 = make_departure(app), make_departure(app, title="Fjords")
    a, b = actors.customer(), actors.customer()
    ids = [
        book(client, a["headers"], departure_id=dep1, seats=1).get_json()["id"],
        book(client, a["headers"], departure_id=dep1, seats=2).get_json()["id"],
        book(client, b["headers"], departure_id=dep2, seats=1).get_json()["id"],
    ]
    return {"dep1": dep1, "dep2": dep2, "a": a, "b": b, "ids": ids}


@pytest.mark.parametrize("role", STAFF_VIEWERS)
def test_list_staff_sees_all_newest_first(app, client, actors, role):
    data = _three_bookings(app, client, actors)
    resp = client.get(BOOKINGS, headers=actors.headers(role))
    assert resp.status_code == 200
    body = resp.get_json()
    assert [item["id"] for item in body["items"]] == data["ids"][::-1]
    assert body["meta"] == one_page_meta(3)


def test_list_customer_sees_own_only(app, client, actors):
    data = _three_bookings(app, client, actors)
    resp = client.get(BOOKINGS, headers=data["a"]["headers"])
    assert [item["id"] for item in resp.get_json()["items"]] == data["ids"][1::-1]
    resp = client.get(
        f"{BOOKINGS}?customer_id={data['b']['id']}", headers=data["a"]["headers"]
    )
    assert resp.get_json()["items"] == []


@pytest.mark.parametrize("role, expected", [("hr", 403), ("anonymous", 401)])
def test_list_denied_roles(client, actors, role, expected):
    resp = client.get(BOOKINGS, headers=actors.headers(role))
    assert resp.status_code == expected


def test_list_filters_and_pagination(app, client, actors):
    data = _three_bookings(app, client, actors)
    headers = actors.headers("finance")
    by_customer = client.get(
        f"{BOOKINGS}?customer_id={data['b']['id']}", headers=headers
    )
    assert [i["id"] for i in by_customer.get_json()["items"]] == [data["ids"][2]]
    by_departure = client.get(
        f"{BOOKINGS}?departure_id={data['dep1']}", headers=headers
    )
    assert [i["id"] for i in by_departure.get_json()["items"]] == data["ids"][1::-1]
    assert (
        client.get(f"{BOOKINGS}?status=confirmed", headers=headers).get_json()["items"]
        == []
    )
    assert (
        len(client.get(f"{BOOKINGS}?status=held", headers=headers).get_json()["items"])
        == 3
    )
    paged = client.get(f"{BOOKINGS}?per_page=2&page=2", headers=headers).get_json()
    assert [i["id"] for i in paged["items"]] == [data["ids"][0]]
    assert paged["meta"] == {
        "page": 2,
        "per_page": 2,
        "total": 3,
        "pages": 2,
        "has_more": False,
        "next_cursor": None,
        "total_is_estimate": False,
    }
    by_seats = client.get(f"{BOOKINGS}?sort=-seats", headers=headers).get_json()[
        "items"
    ]
    assert by_seats[0]["id"] == data["ids"][1]


@pytest.mark.parametrize("query", ["status=paid", "sort=reference", "per_page=101"])
def test_list_invalid_query_422(client, actors, query):
    resp = client.get(f"{BOOKINGS}?{query}", headers=actors.headers("admin"))
    assert resp.status_code == 422
    assert resp.get_json()["errors"]


def test_list_lapsed_hold_reads_expired_without_sweep(app, client, actors):
    dep = make_departure(app, capacity=3, seats_taken=1)
    cust = actors.customer()
    lapsed = make_booking(
        app,
        departure_id=dep,
        customer_id=cust["id"],
        hold_expires_at=now() - timedelta(seconds=5),
    )
    resp = client.get(f"{BOOKINGS}/{lapsed}", headers=cust["headers"])
    assert resp.get_json()["status"] == "expired"
    assert resp.get_json()["hold_expires_at"] is None
    headers = actors.headers("admin")
    assert (
        client.get(f"{BOOKINGS}?status=held", headers=headers).get_json()["items"] == []
    )
    expired = client.get(f"{BOOKINGS}?status=expired", headers=headers).get_json()[
        "items"
    ]
    assert [item["id"] for item in expired] == [lapsed]
    with app.app_context():  # reading never writes: the row is still `held`
        assert db.session.get(Booking, lapsed).status == "held"


@pytest.mark.parametrize(
    "role, expected",
    [
        ("admin", 200),
        ("hr", 403),
        ("sales", 200),
        ("operation", 200),
        ("operation_head", 200),
        ("finance", 200),
        ("customer", 200),
        ("anonymous", 401),
    ],
)
def test_get_roles(app, client, actors, role, expected):
    dep = make_departure(app)
    owner = actors.account("customer")
    booking_id = book(client, owner["headers"], departure_id=dep, seats=1).get_json()[
        "id"
    ]
    resp = client.get(f"{BOOKINGS}/{booking_id}", headers=actors.headers(role))
    assert resp.status_code == expected
    if expected == 200:
        assert resp.get_json()["id"] == booking_id
        assert resp.get_json()["customer_id"] == owner["id"]


def test_get_other_customers_booking_404(app, client, actors):
    dep = make_departure(app)
    owner = actors.customer()
    booking_id = book(client, owner["headers"], departure_id=dep, seats=1).get_json()[
        "id"
    ]
    resp = client.get(f"{BOOKINGS}/{booking_id}", headers=actors.customer()["headers"])
    assert resp.status_code == 404
    assert resp.get_json()["type"] == "/problems/not-found"


@pytest.mark.parametrize("booking_id", ["999999", "2147483648"])
def test_get_unknown_booking_404(client, actors, booking_id):
    assert (
        client.get(
            f"{BOOKINGS}/{booking_id}", headers=actors.headers("admin")
        ).status_code
        == 404
    )


def test_get_inactive_customer_token_401(app, client, actors):
    cust = actors.customer()
    with app.app_context():
        db.session.get(Customer, cust["id"]).active = False
        db.session.commit()
    assert client.get(BOOKINGS, headers=cust["headers"]).status_code == 401
