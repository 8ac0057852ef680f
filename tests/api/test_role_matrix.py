"""docs/design.md "Accounts and roles": the role matrix, row by row, allowed and denied,
over HTTP. Each case builds a fresh world, so a permitted write never leaks into the
next case. Denied means 401 for anonymous callers, 403 for a signed-in role, and 404
where a customer asks for something that is not theirs or not published."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.extensions import db
from models import (
    Booking,
    Customer,
    CustomerMergeRequest,
    Departure,
    Employee,
    Enquiry,
    ItineraryDay,
    Package,
    Quote,
)
from models.base import utcnow
from services.booking.bookings import CANCELLATION_POLICY
from services.payments import billing

ROLES = (
    "admin",
    "hr",
    "sales",
    "operation",
    "operation_head",
    "finance",
    "customer",
    "anonymous",
)


def build_world(app, password_hash):
    """Records every case may act on, owned by accounts other than the caller's."""
    with app.app_context():
        author = Employee(
            name="Author",
            email="author@staff.test",
            role="operation",
            password_hash=password_hash,
        )
        target_emp = Employee(
            name="Target",
            email="target@staff.test",
            role="sales",
            password_hash=password_hash,
        )
        other = Customer(
            name="Other", email="other@example.test", password_hash=password_hash
        )
        db.session.add_all([author, target_emp, other])
        db.session.flush()

        def package(status, title):
            pkg = Package(
                title=title,
                description="A week of sun",
                destination="Crete",
                duration_days=3,
                base_price=Decimal("500.00"),
                currency="EUR",
                status=status,
                created_by_id=author.id,
                revision_author_id=author.id,
                last_edited_by_id=author.id,
                search_document=f"{title} Crete",
            )
            pkg.itinerary = [
                ItineraryDay(day_number=1, title="Arrive", description="Hotel")
            ]
            db.session.add(pkg)
            return pkg

        draft = package("draft", "Draft Crete")
        pending = package("pending_approval", "Pending Crete")
        published = package("published", "Published Crete")
        db.session.flush()
        departure = Departure(
            package_id=published.id,
            start_date=date.today() + timedelta(days=60),
            end_date=date.today() + timedelta(days=63),
            capacity=20,
            price=Decimal("500.00"),
            currency="EUR",
        )
        draft_departure = Departure(
            package_id=draft.id,
            start_date=date.today() + timedelta(days=60),
            end_date=date.today() + timedelta(days=63),
            capacity=20,
            price=Decimal("500.00"),
            currency="EUR",
        )
        enquiry = Enquiry(
            customer_id=other.id, subject="Visa?", message="Do I need one?"
        )
        db.session.add_all([departure, draft_departure, enquiry])
        db.session.flush()
        payer = Customer(
            name="Payer", email="payer@example.test", password_hash=password_hash
        )
        db.session.add(payer)
        db.session.flush()
        booking = Booking(
            reference="ET-MATRIX",
            customer_id=payer.id,
            departure_id=departure.id,
            seats=1,
            status="held",
            currency="EUR",
            unit_price=Decimal("500.00"),
            total_amount=Decimal("500.00"),
            deposit_amount=Decimal("500.00"),
            hold_expires_at=utcnow() + timedelta(minutes=15),
            cancellation_policy=[dict(t) for t in CANCELLATION_POLICY],
        )
        departure.seats_taken = 1
        db.session.add(booking)
        db.session.flush()
        billing.issue_invoice(booking)
        quote = Quote(
            enquiry_id=enquiry.id,
            customer_id=other.id,
            departure_id=departure.id,
            seats=1,
            prices={"adult": "500.00"},
            total_amount=Decimal("500.00"),
            currency="EUR",
            valid_until=utcnow() + timedelta(days=7),
        )
        db.session.add(quote)
        twins = [
            Customer(name=f"Twin {n}", email=f"twin{n}@example.test") for n in (1, 2)
        ]
        db.session.add_all(twins)
        db.session.flush()
        merge_request = CustomerMergeRequest(
            customer_id=twins[0].id,
            from_customer_id=twins[1].id,
            status="pending",
            requested_by_id=target_emp.id,
        )
        db.session.add(merge_request)
        db.session.commit()
        return {
            "merge_request": merge_request.id,
            "quote": quote.id,
            "payer": payer.id,
            "employee": target_emp.id,
            "customer": other.id,
            "draft": draft.id,
            "pending": pending.id,
            "published": published.id,
            "departure": departure.id,
            "draft_departure": draft_departure.id,
            "enquiry": enquiry.id,
            "booking": booking.id,
        }


def _new_package():
    return {
        "title": "Matrix tour",
        "description": "Test",
        "destination": "Rome",
        "duration_days": 2,
        "base_price": "300.00",
        "itinerary": [{"day_number": 1, "title": "Day one", "description": "Walk"}],
    }


def _new_departure():
    start = date.today() + timedelta(days=90)
    return {
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=2)).isoformat(),
        "capacity": 10,
        "price": "300.00",
    }


# (row name, roles allowed, request builder(world, me) -> (method, path, json))
CASES = [
    (
        "create employee",
        {"admin"},
        lambda w, me: (
            "POST",
            "/employees",
            {
                "name": "New",
                "email": "new@staff.test",
                "phone": "+1 555 0100",
                "role": "sales",
                "password": "initial-pass",
            },
        ),
    ),
    (
        "assign role",
        {"admin"},
        lambda w, me: ("PATCH", f"/employees/{w['employee']}", {"role": "finance"}),
    ),
    (
        "deactivate employee",
        {"admin"},
        lambda w, me: ("DELETE", f"/employees/{w['employee']}", None),
    ),
    (
        "list employees",
        {"admin", "hr"},
        lambda w, me: ("GET", "/employees?q=target", None),
    ),
    (
        "view employee",
        {"admin", "hr"},
        lambda w, me: ("GET", f"/employees/{w['employee']}", None),
    ),
    (
        "edit employee contact",
        {"admin", "hr"},
        lambda w, me: (
            "PATCH",
            f"/employees/{w['employee']}",
            {"phone": "+1 555 0199"},
        ),
    ),
    (
        "register customer (staff)",
        {"admin", "sales"},
        lambda w, me: (
            "POST",
            "/customers",
            {"name": "Walk In", "email": "walkin@example.test"},
        ),
    ),
    # Public endpoint: it ignores any token and never accepts a role.
    (
        "register customer (self)",
        set(ROLES),
        lambda w, me: (
            "POST",
            "/auth/register",
            {"name": "Self", "email": "self@example.test", "password": "self-password"},
        ),
    ),
    (
        "list customers",
        {"admin", "sales", "finance"},
        lambda w, me: ("GET", "/customers?q=other", None),
    ),
    (
        "view customer",
        {"admin", "sales", "finance"},
        lambda w, me: ("GET", f"/customers/{w['customer']}", None),
    ),
    (
        "edit customer",
        {"admin", "sales"},
        lambda w, me: (
            "PATCH",
            f"/customers/{w['customer']}",
            {"phone": "+44 1234 5678"},
        ),
    ),
    (
        "delete customer",
        {"admin", "sales"},
        lambda w, me: ("DELETE", f"/customers/{w['customer']}", None),
    ),
    (
        "create package",
        {"admin", "operation", "operation_head"},
        lambda w, me: ("POST", "/packages", _new_package()),
    ),
    (
        "edit package",
        {"admin", "operation", "operation_head"},
        lambda w, me: ("PATCH", f"/packages/{w['draft']}", {"title": "Renamed"}),
    ),
    (
        "create departure",
        {"admin", "operation", "operation_head"},
        lambda w, me: (
            "POST",
            f"/packages/{w['published']}/departures",
            _new_departure(),
        ),
    ),
    (
        "edit departure",
        {"admin", "operation", "operation_head"},
        lambda w, me: ("PATCH", f"/departures/{w['departure']}", {"capacity": 25}),
    ),
    (
        "submit package",
        {"admin", "operation", "operation_head"},
        lambda w, me: ("POST", f"/packages/{w['draft']}/submit", None),
    ),
    (
        "approve package",
        {"admin", "operation_head"},
        lambda w, me: ("POST", f"/packages/{w['pending']}/approve", None),
    ),
    (
        "reject package",
        {"admin", "operation_head"},
        lambda w, me: (
            "POST",
            f"/packages/{w['pending']}/reject",
            {"reason": "Prices missing"},
        ),
    ),
    (
        "archive package",
        {"admin", "operation_head"},
        lambda w, me: ("POST", f"/packages/{w['published']}/archive", None),
    ),
    ("list published packages", set(ROLES), lambda w, me: ("GET", "/packages", None)),
    (
        "view published package",
        set(ROLES),
        lambda w, me: ("GET", f"/packages/{w['published']}", None),
    ),
    (
        "search published packages",
        set(ROLES),
        lambda w, me: ("GET", "/packages?q=crete", None),
    ),
    (
        "see unpublished package",
        {"admin", "hr", "sales", "operation", "operation_head", "finance"},
        lambda w, me: ("GET", f"/packages/{w['draft']}", None),
    ),
    (
        "see unpublished departure",
        {"admin", "hr", "sales", "operation", "operation_head", "finance"},
        lambda w, me: ("GET", f"/departures/{w['draft_departure']}", None),
    ),
    (
        "create enquiry",
        {"admin", "sales", "customer"},
        lambda w, me: (
            "POST",
            "/enquiries",
            {
                "subject": "Question",
                "message": "Is breakfast included?",
                **({} if me == "customer" else {"customer_id": w["customer"]}),
            },
        ),
    ),
    (
        "work enquiry",
        {"admin", "sales"},
        lambda w, me: ("PATCH", f"/enquiries/{w['enquiry']}", {"stage": "contacted"}),
    ),
    (
        "plan activity",
        {"admin", "sales"},
        lambda w, me: (
            "POST",
            f"/enquiries/{w['enquiry']}/activities",
            {
                "kind": "call",
                "summary": "Call back",
                "due_at": (utcnow() + timedelta(days=1)).isoformat(),
            },
        ),
    ),
    (
        "list activities",
        {"admin", "sales"},
        lambda w, me: ("GET", "/activities?due=overdue", None),
    ),
    (
        "make quote",
        {"admin", "sales"},
        lambda w, me: (
            "POST",
            f"/enquiries/{w['enquiry']}/quotes",
            {
                "departure_id": w["departure"],
                "seats": 1,
                "valid_until": (utcnow() + timedelta(days=7)).isoformat(),
            },
        ),
    ),
    (
        "accept quote",
        {"admin", "sales"},
        lambda w, me: ("POST", f"/quotes/{w['quote']}/accept", None),
    ),
    (
        "list lost reasons",
        {"admin", "sales"},
        lambda w, me: ("GET", "/enquiry-lost-reasons", None),
    ),
    (
        "edit lost reasons",
        {"admin"},
        lambda w, me: ("POST", "/enquiry-lost-reasons", {"label": "Visa"}),
    ),
    (
        "list the outbox",
        {"admin"},
        lambda w, me: ("GET", "/outbox?state=dead", None),
    ),
    (
        "list webhook endpoints",
        {"admin"},
        lambda w, me: ("GET", "/webhooks/endpoints", None),
    ),
    (
        "subscribe a webhook endpoint",
        {"admin"},
        lambda w, me: (
            "POST",
            "/webhooks/endpoints",
            {"url": "http://127.0.0.1:9/hook", "event_types": ["booking.created"]},
        ),
    ),
    (
        "find duplicate customers",
        {"admin", "sales"},
        lambda w, me: ("GET", "/customers/duplicates?email=payer@example.test", None),
    ),
    (
        "merge customers",
        {"admin", "sales"},
        lambda w, me: (
            "POST",
            f"/customers/{w['customer']}/merge",
            {"from_customer_id": w["payer"]},
        ),
    ),
    (
        "list merge requests",
        {"admin", "sales", "finance"},
        lambda w, me: ("GET", "/customer-merge-requests?status=pending", None),
    ),
    (
        "approve customer merge",
        {"admin", "finance"},
        lambda w, me: (
            "POST",
            f"/customer-merge-requests/{w['merge_request']}/approve",
            None,
        ),
    ),
    (
        "reject customer merge",
        {"admin", "finance"},
        lambda w, me: (
            "POST",
            f"/customer-merge-requests/{w['merge_request']}/reject",
            {"reason": "Two people"},
        ),
    ),
    (
        "add enquiry note",
        {"admin", "sales"},
        lambda w, me: (
            "POST",
            f"/enquiries/{w['enquiry']}/notes",
            {"body": "Called back"},
        ),
    ),
    (
        "create booking",
        {"admin", "sales", "customer"},
        lambda w, me: (
            "POST",
            "/bookings",
            {
                "departure_id": w["departure"],
                "seats": 1,
                **({} if me == "customer" else {"customer_id": w["customer"]}),
            },
        ),
    ),
    (
        "list bookings",
        {"admin", "sales", "operation", "operation_head", "finance", "customer"},
        lambda w, me: ("GET", "/bookings", None),
    ),
    (
        "view booking",
        {"admin", "sales", "operation", "operation_head", "finance"},
        lambda w, me: ("GET", f"/bookings/{w['booking']}", None),
    ),
    (
        "cancel booking",
        {"admin", "sales"},
        lambda w, me: (
            "POST",
            f"/bookings/{w['booking']}/cancel",
            {"refund_to": "original"},
        ),
    ),
    (
        "record payment",
        {"admin", "finance"},
        lambda w, me: (
            "POST",
            f"/bookings/{w['booking']}/payments",
            {"amount": "500.00", "method": "bank_transfer", "reference": "BT-1"},
        ),
    ),
    (
        "start card payment",
        {"admin", "sales", "finance"},
        lambda w, me: (
            "POST",
            f"/bookings/{w['booking']}/payment-intents",
            {"amount": "500.00"},
        ),
    ),
    (
        "list invoices",
        {"admin", "finance", "customer"},
        lambda w, me: ("GET", "/invoices", None),
    ),
    (
        "list payments",
        {"admin", "finance", "customer"},
        lambda w, me: ("GET", "/payments", None),
    ),
    (
        "list refunds",
        {"admin", "finance", "customer"},
        lambda w, me: ("GET", "/refunds", None),
    ),
    (
        "view wallet",
        {"admin", "finance"},
        lambda w, me: ("GET", f"/customers/{w['customer']}/wallet", None),
    ),
    (
        "adjust wallet",
        {"admin", "finance"},
        lambda w, me: (
            "POST",
            f"/customers/{w['customer']}/wallet",
            {"amount": "25.00", "reason": "Goodwill"},
        ),
    ),
    (
        "cancel departure",
        {"admin", "operation_head"},
        lambda w, me: (
            "POST",
            f"/departures/{w['departure']}/cancel",
            {"reason": "Storm", "preview": True},
        ),
    ),
    (
        "read audit log",
        {"admin"},
        lambda w, me: ("GET", "/audit?action=auth.login", None),
    ),
]

# Where a customer is denied something that exists but is not theirs / not public,
# the answer is 404 (docs/design.md "Accounts and roles": "A customer who asks for
# another customer's resource gets 404"); anonymous callers of public reads get 404
# for unpublished records too.
HIDDEN_FROM_CUSTOMER = {
    "view customer",
    "edit customer",
    "work enquiry",
    "add enquiry note",
    "accept quote",
    "plan activity",
    "make quote",
    "merge customers",
    "view booking",
    "cancel booking",
    "record payment",
    "view wallet",
    "start card payment",
    "see unpublished package",
    "see unpublished departure",
}
HIDDEN_FROM_ANONYMOUS = {"see unpublished package", "see unpublished departure"}


def expected_denial(row, role):
    if role == "anonymous":
        return {404} if row in HIDDEN_FROM_ANONYMOUS else {401}
    if role == "customer" and row in HIDDEN_FROM_CUSTOMER:
        return {403, 404}
    return {403}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row,allowed,build", CASES, ids=[c[0] for c in CASES])
def test_role_matrix(client, app, actors, password_hash, row, allowed, build, role):
    world = build_world(app, password_hash)
    method, path, body = build(world, role)
    headers = actors.headers(role)
    response = client.open(f"/api/v1{path}", method=method, json=body, headers=headers)
    if role in allowed:
        assert 200 <= response.status_code < 300, (row, role, response.get_json())
    else:
        assert response.status_code in expected_denial(row, role), (
            row,
            role,
            response.status_code,
            response.get_json(),
        )
        assert response.mimetype == "application/problem+json"


def test_customer_views_and_edits_own_profile(client, actors):
    me = actors.customer()
    assert (
        client.get(f"/api/v1/customers/{me['id']}", headers=me["headers"]).status_code
        == 200
    )
    response = client.patch(
        f"/api/v1/customers/{me['id']}",
        json={"phone": "+1 555 0123"},
        headers=me["headers"],
    )
    assert response.status_code == 200
    assert response.get_json()["phone"] == "+1 555 0123"


def test_customer_replies_to_own_enquiry(client, actors, app):
    me = actors.customer()
    with app.app_context():
        enquiry = Enquiry(customer_id=me["id"], subject="Hi", message="Question")
        db.session.add(enquiry)
        db.session.commit()
        enquiry_id = enquiry.id
    response = client.post(
        f"/api/v1/enquiries/{enquiry_id}/notes",
        json={"body": "More details"},
        headers=me["headers"],
    )
    assert response.status_code == 201


CARD_PAYERS = {"admin", "sales", "finance", "customer"}


@pytest.mark.parametrize("role", ROLES)
def test_card_payment_intent_own_and_view(client, app, actors, role):
    """docs/design.md row "start a card payment (payment intent)": the customer for
    their own booking (others' are 404), admin, sales and finance for a customer;
    the same roles view it."""
    from tests.factories import make_invoiced_booking as make_booking

    me = actors.customer()
    owner = me if role == "customer" else actors.customer()
    booking_id = make_booking(app, customer_id=owner["id"], total="120.00")
    headers = actors.headers(role) if role != "customer" else me["headers"]
    created = client.post(
        f"/api/v1/bookings/{booking_id}/payment-intents",
        json={"amount": "120.00"},
        headers=headers,
    )
    if role in CARD_PAYERS:
        assert created.status_code == 201, (role, created.get_json())
        shown = client.get(
            f"/api/v1/payment-intents/{created.get_json()['id']}", headers=headers
        )
        assert shown.status_code == 200
        if role == "customer":
            stranger = actors.customer()["headers"]
            assert (
                client.get(
                    f"/api/v1/payment-intents/{created.get_json()['id']}",
                    headers=stranger,
                ).status_code
                == 404
            )
    else:
        assert created.status_code == (401 if role == "anonymous" else 403)
        assert created.mimetype == "application/problem+json"
