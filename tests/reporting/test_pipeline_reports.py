"""Sales pipeline reports (GET /reports/enquiries/...): every figure computed by hand
from a small data set inserted straight into the database (JSON and CSV)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from models import Booking, Employee, Enquiry, EnquiryLostReason
from models.base import utcnow
from services.sales import lost_reasons
from tests.factories import make_departure

API = "/api/v1/reports/enquiries"
T0 = utcnow().replace(microsecond=0) - timedelta(days=5)


def hours(n):
    return T0 + timedelta(hours=n)


# key: (assignee, source, stage, first response after h, won after h, lost reason,
# booking)
ENQUIRIES = {
    "e1": ("ann", "phone", "won", 1, 10, None, ("1000.00", "400.00", "confirmed")),
    "e2": ("ann", "web_form", "lost", 3, None, "price", None),
    "e3": ("ann", "phone", "won", 2, 30, None, ("500.00", "500.00", "confirmed")),
    "e4": ("ann", "email", "new", None, None, None, None),  # no response: overdue
    "e5": ("ben", "web_form", "lost", 5, None, "price", None),
    "e6": ("ben", "web_form", "lost", 30, None, "dates", None),  # answered late
    "e7": (None, "web_form", "new", None, None, None, None),  # deadline not reached
}


@pytest.fixture
def data(app, actors):
    departure = make_departure(app, capacity=40)
    customer = actors.customer()["id"]
    with app.app_context():
        lost_reasons.ensure_defaults()
        reason = dict(
            db.session.execute(
                select(EnquiryLostReason.code, EnquiryLostReason.id)
            ).all()
        )
        staff = {}
        for key, name in (("ann", "Ann Lee"), ("ben", "Ben Ode")):
            employee = Employee(name=name, email=f"{key}@staff.test", role="sales")
            db.session.add(employee)
            db.session.flush()
            staff[key] = employee.id
        for n, (key, (who, source, stage, first, won, lost, booking)) in enumerate(
            ENQUIRIES.items(), start=1
        ):
            booking_id = None
            if booking:
                total, paid, status = booking
                row = Booking(
                    reference=f"ET-R{n:05d}",
                    customer_id=customer,
                    departure_id=departure,
                    seats=1,
                    status=status,
                    currency="EUR",
                    unit_price=Decimal(total),
                    total_amount=Decimal(total),
                    amount_paid=Decimal(paid),
                )
                db.session.add(row)
                db.session.flush()
                booking_id = row.id
            due = hours(24) if key != "e7" else utcnow() + timedelta(hours=20)
            db.session.add(
                Enquiry(
                    customer_id=customer,
                    subject=key,
                    message="m",
                    stage=stage,
                    source=source,
                    assigned_to_id=staff.get(who),
                    created_at=T0,
                    updated_at=T0,
                    first_response_due_at=due,
                    first_response_at=hours(first) if first is not None else None,
                    won_at=hours(won) if won is not None else None,
                    booking_id=booking_id,
                    lost_reason_id=reason[lost] if lost else None,
                )
            )
        db.session.commit()
        return staff


def get(client, headers, path, **query):
    response = client.get(f"{API}/{path}", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_funnel_per_employee_and_source(client, actors, data):
    finance = actors.headers("finance")
    zero = dict(new=0, contacted=0, quoted=0, on_hold=0, won=0, lost=0)
    rows = get(client, finance, "funnel").json["rows"]
    assert rows == [
        dict(
            employee_id=data["ann"],
            employee_name="Ann Lee",
            enquiries=4,
            **{**zero, "new": 1, "won": 2, "lost": 1},
            conversion_rate="50.0",
        ),
        dict(
            employee_id=data["ben"],
            employee_name="Ben Ode",
            enquiries=2,
            **{**zero, "lost": 2},
            conversion_rate="0.0",
        ),
        dict(
            employee_id=None,
            employee_name=None,
            enquiries=1,
            **{**zero, "new": 1},
            conversion_rate="0.0",
        ),
    ]
    by_source = get(client, finance, "funnel", by="source").json["rows"]
    assert [
        (r["source"], r["enquiries"], r["won"], r["lost"], r["conversion_rate"])
        for r in by_source
    ] == [
        ("email", 1, 0, 0, "0.0"),
        ("phone", 2, 2, 0, "100.0"),
        ("web_form", 4, 0, 3, "0.0"),
    ]
    day = T0.date()
    assert (
        get(
            client, finance, "funnel", date_from=(day + timedelta(days=1)).isoformat()
        ).json["rows"]
        == []
    )


def test_response_times_medians(client, actors, data):
    rows = get(client, actors.headers("admin"), "response-times").json["rows"]
    assert rows == [
        dict(
            employee_id=data["ann"],
            employee_name="Ann Lee",
            enquiries=4,
            responded=3,
            response_overdue=1,
            won=2,
            median_hours_to_first_response="2.0",
            median_hours_to_won="20.0",
        ),
        dict(
            employee_id=data["ben"],
            employee_name="Ben Ode",
            enquiries=2,
            responded=2,
            response_overdue=1,
            won=0,
            median_hours_to_first_response="17.5",
            median_hours_to_won=None,
        ),
        dict(
            employee_id=None,
            employee_name=None,
            enquiries=1,
            responded=0,
            response_overdue=0,
            won=0,
            median_hours_to_first_response=None,
            median_hours_to_won=None,
        ),
    ]


def test_lost_reasons_breakdown_and_revenue_won(client, actors, data):
    headers = actors.headers("operation_head")
    assert get(client, headers, "lost-reasons").json["rows"] == [
        dict(code="price", label="Price", lost=2, share="66.7"),
        dict(code="dates", label="Dates", lost=1, share="33.3"),
    ]
    assert get(client, headers, "revenue-won").json["rows"] == [
        dict(currency="EUR", won_enquiries=2, booked="1500.00", received="900.00")
    ]
    csv = get(client, headers, "revenue-won", format="csv")
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True) == (
        "currency,won_enquiries,booked,received\r\nEUR,2,1500.00,900.00\r\n"
    )


@pytest.mark.parametrize(
    "role, status",
    [("sales", 403), ("customer", 403), ("finance", 200), ("anonymous", 401)],
)
def test_pipeline_reports_roles(client, actors, role, status):
    for path in ("funnel", "response-times", "lost-reasons", "revenue-won"):
        response = client.get(f"{API}/{path}", headers=actors.headers(role))
        response.get_data()  # read a streamed body to its end
        assert response.status_code == status, path
