"""schemas/fast_dump.py: the compiled dump gives exactly marshmallow's output, on
synthetic schemas that use every branch and on the API's response schemas over
rows made through the API; responses of the API go through it."""

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

from marshmallow import Schema, fields, post_dump
from sqlalchemy import select

from core.extensions import db
from models import Booking, Customer, Departure, Package
from schemas.accounts.customers import CustomerSchema
from schemas.booking.bookings import BookingSchema
from schemas.catalogue.departures import DepartureSchema
from schemas.catalogue.packages import PackageSchema
from schemas.common import Money, page_of
from schemas.fast_dump import compile_dump, fast_dump_method
from services.shared.pagination import Page


class Inner(Schema):
    n = fields.Integer()
    label = fields.String(allow_none=True)


class Everything(Schema):
    id = fields.Integer()
    name = fields.String()
    renamed = fields.String(data_key="shownAs")
    aliased = fields.String(attribute="other")
    dotted = fields.String(attribute="inner.label")
    flag = fields.Boolean()
    count_str = fields.Integer(as_string=True)
    price = Money()
    ratio = fields.Decimal()
    when = fields.DateTime()
    day = fields.Date()
    missing_with_default = fields.String(dump_default="dflt")
    missing_callable = fields.Integer(dump_default=lambda: 7)
    missing_plain = fields.String()
    inner = fields.Nested(Inner, allow_none=True)
    inners = fields.List(fields.Nested(Inner))
    many_inner = fields.Nested(Inner, many=True)
    words = fields.List(fields.String())
    method = fields.Method("compute")
    tags = fields.Dict()
    secret = fields.String(load_only=True)

    def compute(self, obj):
        return f"m-{getattr(obj, 'id', None)}"


class Hooked(Schema):
    a = fields.Integer()

    @post_dump
    def add(self, data, **kwargs):
        data["hooked"] = True
        return data


def _objects():
    inner = SimpleNamespace(n=1, label="x")
    full = SimpleNamespace(
        id=5,
        name="Ann",
        renamed="r",
        other="o",
        flag=True,
        count_str=3,
        price=Decimal("1200.5"),
        ratio=Decimal("0.125"),
        when=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        day=date(2026, 1, 2),
        inner=inner,
        inners=[inner, None],
        many_inner=[inner],
        words=["a", 1, None],
        tags={"k": "v"},
        secret="no",
    )
    odd = SimpleNamespace(
        id=True,
        name=12,
        renamed=None,
        other=None,
        flag=1,
        count_str=None,
        price=Decimal("3"),
        ratio=None,
        when=None,
        day=None,
        inner=None,
        inners=None,
        many_inner=None,
        words=None,
        tags=None,
    )
    as_dict = {"id": 9, "name": "dict", "inner": {"n": "4", "label": None}, "words": []}
    return [full, odd, as_dict, SimpleNamespace()]


def test_compiled_dump_equals_marshmallow_on_every_branch():
    schema = Everything()
    fast = fast_dump_method(schema)
    for obj in _objects():
        assert fast(obj) == schema.dump(obj)
    assert fast(_objects(), many=True) == schema.dump(_objects(), many=True)
    assert list(fast(_objects()[0])) == list(schema.dump(_objects()[0]))


def test_schema_with_dump_hooks_keeps_marshmallow():
    schema = Hooked()
    assert compile_dump(schema) is None
    assert fast_dump_method(schema)({"a": 1}) == {"a": 1, "hooked": True}


def _make_rows(client, actors):
    op = actors.employee("operation")
    head = actors.employee("operation_head")
    body = {
        "title": "Fjords",
        "destination": "Norway",
        "duration_days": 3,
        "base_price": "999.90",
        "itinerary": [
            {"day_number": 1, "title": "Bergen", "location": "Bergen"},
            {"day_number": 2, "title": "Fjord", "description": "Boat"},
        ],
    }
    package = client.post("/api/v1/packages", json=body, headers=op["headers"])
    assert package.status_code == 201, package.get_json()
    pid = package.get_json()["id"]
    departure = client.post(
        f"/api/v1/packages/{pid}/departures",
        json={
            "start_date": "2031-05-01",
            "end_date": "2031-05-03",
            "capacity": 10,
            "prices": {"adult": "999.90", "child": "500.00"},
        },
        headers=op["headers"],
    )
    assert departure.status_code == 201, departure.get_json()
    assert (
        client.post(f"/api/v1/packages/{pid}/submit", headers=op["headers"]).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/packages/{pid}/approve", headers=head["headers"]
        ).status_code
        == 200
    )
    customer = actors.customer()
    booking = client.post(
        "/api/v1/bookings",
        json={
            "departure_id": departure.get_json()["id"],
            "seats": 2,
            "travellers": [
                {"name": "A", "category": "adult", "birth_date": "1980-02-03"},
                {"name": "B", "category": "child", "birth_date": "2024-01-01"},
            ],
        },
        headers=customer["headers"],
    )
    assert booking.status_code == 201, booking.get_json()


def test_response_schemas_dump_the_same_as_marshmallow(app, client, actors):
    _make_rows(client, actors)
    with app.app_context():
        for model, schema_class in (
            (Package, PackageSchema),
            (Departure, DepartureSchema),
            (Booking, BookingSchema),
            (Customer, CustomerSchema),
        ):
            rows = db.session.scalars(select(model)).all()
            assert rows
            schema = schema_class()
            fast = fast_dump_method(schema)
            assert compile_dump(schema) is not None
            assert fast(rows, many=True) == schema.dump(rows, many=True)
            page = Page(items=rows, page=1, per_page=20, total=len(rows))
            envelope = page_of(schema_class)()
            assert fast_dump_method(envelope)(page) == envelope.dump(page)
        db.session.rollback()


def test_list_response_is_the_marshmallow_dump(app, client, actors):
    _make_rows(client, actors)
    answer = client.get("/api/v1/packages")
    assert answer.status_code == 200
    with app.app_context():
        rows = db.session.scalars(select(Package)).all()
        expected = PackageSchema().dump(rows, many=True)
    assert answer.get_json()["items"] == expected
