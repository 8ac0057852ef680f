"""The sales pipeline over HTTP (docs/design.md "Lifecycles": enquiry): lost reasons,
won by booking, stage times, first-response deadline, quotes at locked prices,
capacity-weighted round-robin, activities and reminders, duplicates and merges."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from models import (
    AuditEntry,
    Booking,
    Customer,
    Departure,
    DepartureCategory,
    Enquiry,
    EnquiryActivity,
    EnquiryNote,
    Invoice,
    Quote,
    WalletEntry,
)
from models.base import utcnow
from services.payments import wallet
from tests.factories import assert_problem, make_departure

API = "/api/v1"


def iso(moment) -> str:
    return moment.isoformat()


def raise_enquiry(client, headers, customer_id, **body):
    response = client.post(
        f"{API}/enquiries",
        headers=headers,
        json={
            "customer_id": customer_id,
            "subject": "Lisbon in May",
            "message": "Two adults",
            **body,
        },
    )
    assert response.status_code == 201, response.json
    return response.json


def reasons(client, headers) -> dict:
    response = client.get(f"{API}/enquiry-lost-reasons", headers=headers)
    assert response.status_code == 200, response.json
    return {r["code"]: r["id"] for r in response.json}


def book(client, headers, customer_id, departure_id, seats=1):
    response = client.post(
        f"{API}/bookings",
        headers=headers,
        json={"departure_id": departure_id, "seats": seats, "customer_id": customer_id},
    )
    assert response.status_code == 201, response.json
    return response.json


def make_quote(
    client, headers, enquiry_id, departure_id, seats=2, valid_days=7, **extra
):
    return client.post(
        f"{API}/enquiries/{enquiry_id}/quotes",
        headers=headers,
        json={
            "departure_id": departure_id,
            "seats": seats,
            "valid_until": iso(utcnow() + timedelta(days=valid_days)),
            **extra,
        },
    )


# --- lost reasons ---------------------------------------------------------------------


def test_lost_reasons_seeded_and_admin_edits(client, actors):
    sales, admin = actors.headers("sales"), actors.headers("admin")
    assert list(reasons(client, sales)) == [
        "price",
        "dates",
        "destination",
        "competitor",
        "no_answer",
        "other",
    ]
    created = client.post(
        f"{API}/enquiry-lost-reasons", headers=admin, json={"label": "Visa refused"}
    )
    assert created.status_code == 201
    assert created.json["code"] == "visa_refused"
    denied = client.post(
        f"{API}/enquiry-lost-reasons", headers=sales, json={"label": "X"}
    )
    assert denied.status_code == 403
    retired = client.patch(
        f"{API}/enquiry-lost-reasons/{created.json['id']}",
        headers=admin,
        json={"active": False},
    )
    assert retired.status_code == 200 and retired.json["active"] is False
    assert "visa_refused" not in reasons(client, sales)
    again = client.post(
        f"{API}/enquiry-lost-reasons",
        headers=admin,
        json={"label": "Price", "code": "price"},
    )
    assert again.status_code == 409


def test_lost_requires_reason_and_reopen_clears_it(app, client, actors):
    sales = actors.headers("sales")
    enquiry = raise_enquiry(client, sales, actors.customer()["id"])
    url = f"{API}/enquiries/{enquiry['id']}"
    missing = client.patch(url, headers=sales, json={"stage": "lost"})
    assert missing.status_code == 422 and "lost_reason_id" in missing.json["errors"]
    unknown = client.patch(
        url, headers=sales, json={"stage": "lost", "lost_reason_id": 999}
    )
    assert unknown.status_code == 422
    stray = client.patch(
        url,
        headers=sales,
        json={"stage": "contacted", "lost_reason_id": reasons(client, sales)["price"]},
    )
    assert stray.status_code == 422
    lost = client.patch(
        url,
        headers=sales,
        json={
            "stage": "lost",
            "lost_reason_id": reasons(client, sales)["competitor"],
            "lost_feedback": "Booked elsewhere",
        },
    )
    assert lost.status_code == 200
    assert (lost.json["stage"], lost.json["lost_feedback"]) == (
        "lost",
        "Booked elsewhere",
    )
    reopened = client.patch(url, headers=sales, json={"stage": "contacted"})
    assert reopened.status_code == 200
    assert reopened.json["lost_reason_id"] is None
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "enquiry.reopened")
            )
            == 1
        )


# --- won only by a booking ------------------------------------------------------------


def test_won_only_by_linking_a_booking_of_the_customer(app, client, actors):
    sales = actors.headers("sales")
    me, stranger = actors.customer(), actors.customer()
    enquiry = raise_enquiry(client, sales, me["id"])
    url = f"{API}/enquiries/{enquiry['id']}"
    departure = make_departure(app, capacity=10)
    without = client.patch(url, headers=sales, json={"stage": "won"})
    assert without.status_code == 422 and "booking_id" in without.json["errors"]
    foreign = book(client, sales, stranger["id"], departure)
    refused = client.patch(
        url, headers=sales, json={"stage": "won", "booking_id": foreign["id"]}
    )
    assert refused.status_code == 422
    mine = book(client, sales, me["id"], departure)
    won = client.patch(url, headers=sales, json={"booking_id": mine["id"]})
    assert won.status_code == 200, won.json
    assert (won.json["stage"], won.json["booking_id"]) == ("won", mine["id"])
    assert won.json["won_at"] is not None
    terminal = client.patch(url, headers=sales, json={"stage": "contacted"})
    assert terminal.status_code == 409
    other = raise_enquiry(client, sales, me["id"])
    twice = client.patch(
        f"{API}/enquiries/{other['id']}", headers=sales, json={"booking_id": mine["id"]}
    )
    assert twice.status_code == 409 and twice.json["enquiry_id"] == enquiry["id"]


def test_won_refuses_cancelled_booking_and_lost_enquiry(app, client, actors):
    sales = actors.headers("sales")
    me = actors.customer()
    departure = make_departure(app, capacity=10)
    booking = book(client, sales, me["id"], departure)
    with app.app_context():
        db.session.get(Booking, booking["id"]).status = "cancelled"
        db.session.commit()
    enquiry = raise_enquiry(client, sales, me["id"])
    url = f"{API}/enquiries/{enquiry['id']}"
    assert (
        client.patch(url, headers=sales, json={"booking_id": booking["id"]}).status_code
        == 422
    )
    fresh = book(client, sales, me["id"], departure)
    client.patch(
        url,
        headers=sales,
        json={"stage": "lost", "lost_reason_id": reasons(client, sales)["dates"]},
    )
    from_lost = client.patch(url, headers=sales, json={"booking_id": fresh["id"]})
    assert from_lost.status_code == 409
    with app.app_context():
        row = db.session.get(Enquiry, enquiry["id"])
        assert (row.stage, row.booking_id) == ("lost", None)


# --- stage times and the first-response deadline --------------------------------------


def test_time_in_each_stage_is_recorded(app, client, actors):
    sales = actors.headers("sales")
    enquiry = raise_enquiry(client, sales, actors.customer()["id"])
    url = f"{API}/enquiries/{enquiry['id']}"
    with app.app_context():  # pretend it waited 2 hours in `new`
        row = db.session.get(Enquiry, enquiry["id"])
        row.stage_changed_at = row.stage_changed_at - timedelta(hours=2)
        db.session.commit()
    moved = client.patch(url, headers=sales, json={"stage": "contacted"})
    assert moved.status_code == 200
    history = moved.json["stage_history"]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        (None, "new"),
        ("new", "contacted"),
    ]
    assert 7200 <= history[1]["seconds_in_from_stage"] <= 7260
    times = moved.json["time_in_stages"]
    assert 7200 <= times["new"] <= 7260 and 0 <= times["contacted"] <= 60


def test_first_response_deadline_and_overdue_flag(app, client, actors):
    sales = actors.headers("sales")
    enquiry = raise_enquiry(client, sales, actors.customer()["id"])
    created = enquiry["created_at"]
    assert enquiry["first_response_overdue"] is False
    assert enquiry["first_response_at"] is None
    due = enquiry["first_response_due_at"]
    from datetime import datetime

    hours = (
        datetime.fromisoformat(due) - datetime.fromisoformat(created)
    ).total_seconds() / 3600
    assert hours == pytest.approx(24, abs=0.01)
    with app.app_context():
        row = db.session.get(Enquiry, enquiry["id"])
        row.first_response_due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    late = client.get(f"{API}/enquiries?first_response_overdue=true", headers=sales)
    assert [e["id"] for e in late.json["items"]] == [enquiry["id"]]
    assert late.json["items"][0]["first_response_overdue"] is True
    client.post(
        f"{API}/enquiries/{enquiry['id']}/notes", headers=sales, json={"body": "Hi"}
    )
    after = client.get(f"{API}/enquiries/{enquiry['id']}", headers=sales).json
    assert (
        after["first_response_at"] is not None
        and after["first_response_overdue"] is True
    )
    assert (
        client.get(f"{API}/enquiries?first_response_overdue=true", headers=sales).json[
            "items"
        ]
        == []
    )


def test_sources_recorded(client, actors):
    sales = actors.headers("sales")
    me = actors.customer()
    own = client.post(
        f"{API}/enquiries",
        headers=me["headers"],
        json={"subject": "Hi", "message": "Question", "source": "partner"},
    ).json
    assert own["source"] == "web_form"
    tagged = raise_enquiry(
        client, sales, me["id"], source="campaign", campaign_tag="spring"
    )
    assert (tagged["source"], tagged["campaign_tag"]) == ("campaign", "spring")
    assert raise_enquiry(client, sales, me["id"])["source"] == "phone"
    bad = client.post(
        f"{API}/enquiries",
        headers=sales,
        json={"customer_id": me["id"], "subject": "S", "message": "M", "source": "fax"},
    )
    assert bad.status_code == 422


# --- quotes ---------------------------------------------------------------------------


def test_quote_accepted_at_locked_price_after_catalogue_change(
    app, client, actors, mailbox
):
    sales = actors.headers("sales")
    me = actors.customer()
    departure = make_departure(
        app, capacity=10, price="1000.00", prices={"child": "500.00"}
    )
    enquiry = raise_enquiry(client, sales, me["id"])
    travellers = [
        {"name": "Ana", "birth_date": "1990-01-01", "category": "adult"},
        {"name": "Rui", "birth_date": "2018-01-01", "category": "child"},
    ]
    quote = make_quote(client, sales, enquiry["id"], departure, travellers=travellers)
    assert quote.status_code == 201, quote.json
    assert quote.json["total_amount"] == "1500.00"
    assert quote.json["prices"] == {"adult": "1000.00", "child": "500.00"}
    assert quote.json["status"] == "open"
    assert (
        client.get(f"{API}/enquiries/{enquiry['id']}", headers=sales).json["stage"]
        == "quoted"
    )
    with app.app_context():  # seats not taken yet; then the catalogue price goes up
        dep = db.session.get(Departure, departure)
        assert dep.seats_taken == 0
        dep.price = Decimal("1400.00")
        for row in db.session.scalars(
            select(DepartureCategory).where(DepartureCategory.departure_id == departure)
        ):
            row.price = (
                Decimal("1400.00") if row.category == "adult" else Decimal("700.00")
            )
        db.session.commit()
    seen = client.get(f"{API}/quotes/{quote.json['id']}", headers=me["headers"])
    assert seen.status_code == 200
    accepted = client.post(
        f"{API}/quotes/{quote.json['id']}/accept", headers=me["headers"]
    )
    assert accepted.status_code == 201, accepted.json
    booking = accepted.json
    assert (booking["total_amount"], booking["status"], booking["seats"]) == (
        "1500.00",
        "held",
        2,
    )
    assert sorted(t["unit_price"] for t in booking["travellers"]) == [
        "1000.00",
        "500.00",
    ]
    with app.app_context():
        assert db.session.get(Departure, departure).seats_taken == 2
        assert db.session.scalar(
            select(Invoice.total_amount).where(Invoice.booking_id == booking["id"])
        ) == Decimal("1500.00")
        row = db.session.get(Enquiry, enquiry["id"])
        assert (row.stage, row.booking_id) == ("won", booking["id"])
        assert db.session.get(Quote, quote.json["id"]).status == "accepted"
    assert mailbox.to(me["email"])  # the "seats held" mail
    again = client.post(
        f"{API}/quotes/{quote.json['id']}/accept", headers=me["headers"]
    )
    assert again.status_code == 409 and again.json["booking_id"] == booking["id"]
    fresh = make_departure(app, capacity=10, price="1400.00")
    at_today = book(client, sales, me["id"], fresh, seats=2)
    assert at_today["total_amount"] == "2800.00"


def test_quote_expired_or_foreign_cannot_be_accepted(app, client, actors):
    sales = actors.headers("sales")
    me, stranger = actors.customer(), actors.customer()
    departure = make_departure(app, capacity=10)
    enquiry = raise_enquiry(client, sales, me["id"])
    quote = make_quote(client, sales, enquiry["id"], departure).json
    assert (
        client.get(
            f"{API}/quotes/{quote['id']}", headers=stranger["headers"]
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"{API}/quotes/{quote['id']}/accept", headers=stranger["headers"]
        ).status_code
        == 404
    )
    with app.app_context():
        db.session.get(Quote, quote["id"]).valid_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert (
        client.get(f"{API}/quotes/{quote['id']}", headers=me["headers"]).json["status"]
        == "expired"
    )
    expired = client.post(f"{API}/quotes/{quote['id']}/accept", headers=me["headers"])
    assert (
        expired.status_code == 409 and expired.json["type"] == "/problems/quote-expired"
    )
    with app.app_context():
        assert db.session.get(Departure, departure).seats_taken == 0
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_quote_validation_and_sales_accepts_for_customer(app, client, actors):
    sales = actors.headers("sales")
    me = actors.customer()
    departure = make_departure(app, capacity=3, start_in_days=10)
    enquiry = raise_enquiry(client, sales, me["id"])
    past = make_quote(client, sales, enquiry["id"], departure, valid_days=-1)
    assert past.status_code == 422 and "valid_until" in past.json["errors"]
    late = make_quote(client, sales, enquiry["id"], departure, valid_days=30)
    assert late.status_code == 422
    assert make_quote(client, sales, enquiry["id"], 999999).status_code == 422
    assert (
        make_quote(client, me["headers"], enquiry["id"], departure).status_code == 403
    )
    too_many = make_quote(client, sales, enquiry["id"], departure, seats=5).json
    over = client.post(f"{API}/quotes/{too_many['id']}/accept", headers=sales)
    assert over.status_code == 409 and over.json["seats_left"] == 3
    quote = make_quote(client, sales, enquiry["id"], departure, seats=3).json
    accepted = client.post(f"{API}/quotes/{quote['id']}/accept", headers=sales)
    assert accepted.status_code == 201
    assert accepted.json["customer_id"] == me["id"]
    listed = client.get(
        f"{API}/enquiries/{enquiry['id']}/quotes", headers=me["headers"]
    )
    assert [q["status"] for q in listed.json["items"]] == ["accepted", "open"]


# --- assignment -----------------------------------------------------------------------


def set_capacity(client, admin, employee_id, **body):
    response = client.put(
        f"{API}/employees/{employee_id}/sales-capacity", headers=admin, json=body
    )
    assert response.status_code == 200, response.json
    return response.json


def test_round_robin_fair_over_100_enquiries_with_capacities(app, client, actors):
    admin = actors.headers("admin")
    team = [actors.employee("sales") for _ in range(3)]
    for member, capacity in zip(team, (10, 30, 60)):
        set_capacity(client, admin, member["id"], capacity=capacity)
    absent = actors.employee("sales")
    set_capacity(
        client,
        admin,
        absent["id"],
        capacity=100,
        absent_from=iso(utcnow() - timedelta(days=1)),
        absent_until=iso(utcnow() + timedelta(days=1)),
    )
    actors.employee("sales", active=False)
    customer = actors.customer()
    order = [
        raise_enquiry(client, admin, customer["id"])["assigned_to_id"]
        for _ in range(100)
    ]
    counts = {m["id"]: order.count(m["id"]) for m in team}
    assert counts == {team[0]["id"]: 10, team[1]["id"]: 30, team[2]["id"]: 60}
    for size in (10, 20, 50):  # proportional at every step, not in bursts
        prefix = order[:size]
        for member, share in zip(team, (0.1, 0.3, 0.6)):
            assert abs(prefix.count(member["id"]) - share * size) <= 1.5
    full = raise_enquiry(client, admin, customer["id"])
    assert full["assigned_to_id"] is None  # everyone at capacity: the pool


def test_equal_capacities_rotate_and_deactivation_hands_back(app, client, actors):
    admin = actors.headers("admin")
    a, b, c = (actors.employee("sales") for _ in range(3))
    customer = actors.customer()
    order = [
        raise_enquiry(client, admin, customer["id"])["assigned_to_id"] for _ in range(6)
    ]
    assert order == [a["id"], b["id"], c["id"], a["id"], b["id"], c["id"]]
    response = client.delete(f"{API}/employees/{a['id']}", headers=admin)
    assert response.status_code == 204
    with app.app_context():
        owners = db.session.scalars(select(Enquiry.assigned_to_id)).all()
        assert a["id"] not in owners and None not in owners
        assert sorted(owners).count(b["id"]) == 3 and sorted(owners).count(c["id"]) == 3
    history = client.get(
        f"{API}/enquiries/{order.index(a['id']) + 1}", headers=admin
    ).json
    methods = [(h["method"], h["employee_id"]) for h in history["assignments"]]
    assert methods[0] == ("round_robin", a["id"])
    assert methods[1] == ("pool", None)
    assert methods[2][0] == "round_robin" and methods[2][1] in (b["id"], c["id"])


def test_capacity_settings_permissions(client, actors):
    sales = actors.account("sales")
    other = actors.employee("sales")
    me = sales["headers"]
    own_absence = client.put(
        f"{API}/employees/{sales['id']}/sales-capacity",
        headers=me,
        json={"absent_until": iso(utcnow() + timedelta(days=2))},
    )
    assert own_absence.status_code == 200 and own_absence.json["absent"] is True
    assert (
        client.put(
            f"{API}/employees/{sales['id']}/sales-capacity",
            headers=me,
            json={"capacity": 99},
        ).status_code
        == 403
    )
    assert (
        client.put(
            f"{API}/employees/{other['id']}/sales-capacity",
            headers=me,
            json={"absent_until": None},
        ).status_code
        == 403
    )


# --- activities -----------------------------------------------------------------------


def test_activities_lists_done_and_reminders(app, client, actors, mailbox):
    sales = actors.account("sales")
    headers = sales["headers"]
    enquiry = raise_enquiry(client, headers, actors.customer()["id"])
    url = f"{API}/enquiries/{enquiry['id']}/activities"
    now = utcnow()
    overdue = client.post(
        url,
        headers=headers,
        json={
            "kind": "call",
            "summary": "Call back",
            "due_at": iso(now - timedelta(hours=2)),
        },
    )
    assert overdue.status_code == 201, overdue.json
    assert overdue.json["owner_id"] == sales["id"]
    later = client.post(
        url,
        headers=headers,
        json={
            "kind": "meeting",
            "summary": "Brochure",
            "due_at": iso(now + timedelta(days=3)),
        },
    )
    assert later.status_code == 201
    bad = client.post(
        url, headers=headers, json={"kind": "fax", "summary": "x", "due_at": iso(now)}
    )
    assert bad.status_code == 422
    listed = client.get(
        f"{API}/activities?owner_id={sales['id']}&due=overdue", headers=headers
    )
    assert [a["id"] for a in listed.json["items"]] == [overdue.json["id"]]
    assert len(client.get(url, headers=headers).json["items"]) == 2
    with app.app_context():
        from services.sales.activities import send_due_reminders

        assert send_due_reminders() == 1
        assert send_due_reminders() == 0  # idempotent
    mails = mailbox.to(sales["email"])
    assert (
        len(mails) == 1 and "Call back" in mails[0].get_body(("plain",)).get_content()
    )
    done = client.patch(
        f"{API}/activities/{overdue.json['id']}", headers=headers, json={"done": True}
    )
    assert done.status_code == 200 and done.json["done"] is True
    assert (
        client.get(f"{API}/activities?due=overdue", headers=headers).json["items"] == []
    )
    assert (
        client.get(f"{API}/enquiries/{enquiry['id']}", headers=headers).json[
            "first_response_at"
        ]
        is not None
    )
    customer = actors.headers("customer")
    assert client.get(url, headers=customer).status_code == 403


def test_activities_due_today(app, client, actors):
    headers = actors.headers("sales")
    enquiry = raise_enquiry(client, headers, actors.customer()["id"])
    from services.sales.activities import day_bounds

    start, end = day_bounds(utcnow())
    due = start + (end - start) / 2
    created = client.post(
        f"{API}/enquiries/{enquiry['id']}/activities",
        headers=headers,
        json={"kind": "task", "summary": "Prepare offer", "due_at": iso(due)},
    )
    client.post(
        f"{API}/enquiries/{enquiry['id']}/activities",
        headers=headers,
        json={
            "kind": "task",
            "summary": "Next week",
            "due_at": iso(end + timedelta(days=6)),
        },
    )
    today = client.get(f"{API}/activities?due=today", headers=headers)
    assert [a["id"] for a in today.json["items"]] == [created.json["id"]]


FAR_MOMENTS = [
    "9999-12-31T23:00:00-14:00",  # past year 9999 once in UTC: was a 500
    "0001-01-01T00:00:00+14:00",  # before year 1 once in UTC: was a 500
    "9999-12-31T23:59:59+00:00",
    "1999-12-31T23:59:59+00:00",
    "2101-01-01T00:00:00+00:00",
]


@pytest.mark.parametrize("moment", FAR_MOMENTS)
def test_activity_far_due_at_is_422(app, client, actors, moment):
    """docs/security.md "Bounded dates": due_at stays within 2000-2100 (UTC)."""
    headers = actors.headers("sales")
    enquiry = raise_enquiry(client, headers, actors.customer()["id"])
    url = f"{API}/enquiries/{enquiry['id']}/activities"
    body = {"kind": "call", "summary": "Call back", "due_at": moment}

    refused = client.post(url, headers=headers, json=body)

    assert "due_at" in assert_problem(refused, 422)["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count(EnquiryActivity.id))) == 0
    created = client.post(
        url, headers=headers, json={**body, "due_at": "2100-12-31T23:59:59+00:00"}
    )
    assert created.status_code == 201, created.json
    edited = client.patch(
        f"{API}/activities/{created.json['id']}",
        headers=headers,
        json={"due_at": moment},
    )
    assert "due_at" in assert_problem(edited, 422)["errors"]


@pytest.mark.parametrize("field", ["absent_from", "absent_until"])
@pytest.mark.parametrize("moment", FAR_MOMENTS)
def test_far_absence_is_422(client, actors, field, moment):
    """docs/security.md "Bounded dates": an absence stays within 2000-2100 (UTC)."""
    sales = actors.account("sales")

    refused = client.put(
        f"{API}/employees/{sales['id']}/sales-capacity",
        headers=sales["headers"],
        json={field: moment},
    )

    assert field in assert_problem(refused, 422)["errors"]
    shown = client.get(
        f"{API}/employees/{sales['id']}/sales-capacity", headers=sales["headers"]
    )
    assert shown.status_code == 200 and shown.json[field] is None


# --- duplicates and merge -------------------------------------------------------------


def test_duplicates_by_email_or_normalised_phone(client, actors):
    sales = actors.headers("sales")
    first = client.post(
        f"{API}/customers",
        headers=sales,
        json={
            "name": "Clara Byrne",
            "email": "clara@example.test",
            "phone": "+44 20 7946 0958",
        },
    )
    assert first.status_code == 201 and first.json["duplicates"] == []
    second = client.post(
        f"{API}/customers",
        headers=sales,
        json={"name": "C. Byrne", "email": "cb@example.test", "phone": "020-7946-0958"},
    )
    assert second.status_code == 201
    assert [(d["id"], d["matched_on"]) for d in second.json["duplicates"]] == [
        (first.json["id"], ["phone"])
    ]
    found = client.get(
        f"{API}/customers/duplicates?email=CLARA@example.test&phone=0044 20 7946 0958",
        headers=sales,
    )
    assert found.status_code == 200
    assert [(d["id"], d["matched_on"]) for d in found.json["items"]] == [
        (first.json["id"], ["email", "phone"]),
        (second.json["id"], ["phone"]),
    ]
    enquiry = raise_enquiry(client, sales, second.json["id"])
    assert [d["id"] for d in enquiry["duplicates"]] == [first.json["id"]]
    assert client.get(f"{API}/customers/duplicates", headers=sales).status_code == 422
    assert (
        client.get(
            f"{API}/customers/duplicates?email=a@b.c",
            headers=actors.headers("customer"),
        ).status_code
        == 403
    )


def test_merge_moves_everything_and_is_audited(app, client, actors):
    sales = actors.headers("sales")
    # One person twice: the same email in another case, so the merge is immediate
    # (unrelated pairs wait for approval: tests/sales/test_merge_requests.py).
    keep = actors.customer(phone=None, email="Dana.Moss@Example.test")
    gone = actors.customer(phone="+1 555 123 4567", email="dana.moss@example.test")
    departure_a = make_departure(app, capacity=10)
    departure_b = make_departure(app, capacity=10)
    kept_booking = book(client, sales, keep["id"], departure_a)
    moved_booking = book(client, sales, gone["id"], departure_b)
    enquiry = raise_enquiry(client, sales, gone["id"])
    quote = make_quote(client, sales, enquiry["id"], departure_b).json
    client.post(
        f"{API}/enquiries/{enquiry['id']}/notes",
        headers=gone["headers"],
        json={"body": "From the old account"},
    )
    with app.app_context():
        wallet.post_entry(
            customer_id=gone["id"],
            amount=Decimal("40.00"),
            kind="adjustment",
            reason="Goodwill",
        )
        wallet.post_entry(
            customer_id=keep["id"],
            amount=Decimal("10.00"),
            kind="adjustment",
            reason="Goodwill",
        )
        db.session.commit()
    response = client.post(
        f"{API}/customers/{keep['id']}/merge",
        headers=sales,
        json={"from_customer_id": gone["id"]},
    )
    assert response.status_code == 200, response.json
    assert response.json["wallet_balance"] == "50.00"
    assert response.json["phone"] == "+1 555 123 4567"
    with app.app_context():

        def owners(model):
            return set(db.session.scalars(select(model.customer_id)))

        for model in (Booking, Invoice, Enquiry, Quote, WalletEntry):
            assert owners(model) == {keep["id"]}, model
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 2
        assert db.session.scalar(select(func.count()).select_from(WalletEntry)) == 2
        note = db.session.scalar(select(EnquiryNote))
        assert note.author_customer_id == keep["id"]
        source = db.session.get(Customer, gone["id"])
        assert (source.active, source.merged_into_id, source.wallet_balance) == (
            False,
            keep["id"],
            Decimal("0.00"),
        )
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "customer.merged")
        )
        assert entry.entity_id == keep["id"]
        assert entry.details["bookings"] == [moved_booking["id"]]
        assert entry.details["quotes"] == [quote["id"]]
        assert entry.details["wallet_moved"] == "40.00"
        assert entry.details["matched_on"] == ["email"]
    assert kept_booking["id"] != moved_booking["id"]
    listed = client.get(f"{API}/bookings?customer_id={keep['id']}", headers=sales)
    assert {b["id"] for b in listed.json["items"]} == {
        kept_booking["id"],
        moved_booking["id"],
    }
    old_token = client.get(f"{API}/auth/me", headers=gone["headers"])
    assert old_token.status_code == 401
    again = client.post(
        f"{API}/customers/{keep['id']}/merge",
        headers=sales,
        json={"from_customer_id": gone["id"]},
    )
    assert again.status_code == 422


def test_merge_refused_for_conflicting_live_bookings(app, client, actors):
    sales = actors.headers("sales")
    # The same phone written two ways: a pair that may be merged at once.
    keep = actors.customer(phone="+44 20 7946 0958")
    gone = actors.customer(phone="020-7946-0958")
    departure = make_departure(app, capacity=10)
    book(client, sales, keep["id"], departure)
    clash = book(client, sales, gone["id"], departure)
    refused = client.post(
        f"{API}/customers/{keep['id']}/merge",
        headers=sales,
        json={"from_customer_id": gone["id"]},
    )
    assert refused.status_code == 409
    assert (refused.json["type"], refused.json["departure_ids"]) == (
        "/problems/merge-conflict",
        [departure],
    )
    with app.app_context():
        assert db.session.get(Booking, clash["id"]).customer_id == gone["id"]
        assert db.session.get(Customer, gone["id"]).active is True
        db.session.get(Booking, clash["id"]).status = "cancelled"
        db.session.commit()
    allowed = client.post(
        f"{API}/customers/{keep['id']}/merge",
        headers=sales,
        json={"from_customer_id": gone["id"]},
    )
    assert allowed.status_code == 200
    assert (
        client.post(
            f"{API}/customers/{keep['id']}/merge",
            headers=sales,
            json={"from_customer_id": keep["id"]},
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"{API}/customers/{keep['id']}/merge",
            headers=actors.headers("finance"),
            json={"from_customer_id": gone["id"]},
        ).status_code
        == 403
    )


def test_send_reminders_command(app, client, actors, mailbox):
    sales = actors.account("sales")
    enquiry = raise_enquiry(client, sales["headers"], actors.customer()["id"])
    client.post(
        f"{API}/enquiries/{enquiry['id']}/activities",
        headers=sales["headers"],
        json={
            "kind": "email",
            "summary": "Send brochure",
            "due_at": iso(utcnow() + timedelta(minutes=30)),
        },
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["enquiries", "send-reminders"]).output.strip() == (
        "0 reminder(s) sent"
    )
    result = runner.invoke(
        args=["enquiries", "send-reminders", "--ahead-minutes", "60"]
    )
    assert result.exit_code == 0 and result.output.strip() == "1 reminder(s) sent"
    assert len(mailbox.to(sales["email"])) == 1
    with app.app_context():
        assert db.session.scalar(select(EnquiryActivity.reminder_sent_at)) is not None
