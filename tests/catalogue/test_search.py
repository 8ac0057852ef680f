"""Full-text package search through `GET /packages?q=` (services.catalogue.search:
SQLite FTS5, PostgreSQL tsvector + GIN index)."""

from decimal import Decimal

import pytest
from sqlalchemy import text

from core.extensions import db
from models import ItineraryDay, Package
from services.catalogue.search import build_search_document, fts5_query, search_terms
from tests.factories import one_page_meta

URL = "/api/v1/packages"


def make(client, actors, *, publish=True, **overrides) -> int:
    """Create (and by default publish) a package; returns its id."""
    body = {
        "title": "Coastal Walk",
        "description": "Gentle hikes along the cliffs.",
        "destination": "Cornwall",
        "duration_days": 3,
        "base_price": "300.00",
        "itinerary": [{"day_number": 1, "title": "Arrival", "location": "Penzance"}],
    }
    body.update(overrides)
    created = client.post(URL, json=body, headers=actors.headers("operation"))
    assert created.status_code == 201, created.get_json()
    package_id = created.get_json()["id"]
    if publish:
        client.post(f"{URL}/{package_id}/submit", headers=actors.headers("operation"))
        approved = client.post(
            f"{URL}/{package_id}/approve", headers=actors.headers("operation_head")
        )
        assert approved.status_code == 200
    return package_id


def search(client, q: str, headers=None, **params) -> list[int]:
    """Ids found for `q` (asserting a 200)."""
    response = client.get(URL, query_string={"q": q, **params}, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_search_finds_word_only_in_itinerary_day(client, actors):
    target = make(
        client,
        actors,
        itinerary=[
            {"day_number": 1, "title": "Arrival"},
            {
                "day_number": 2,
                "title": "Free day",
                "description": "Optional kayaking trip.",
            },
            {"day_number": 3, "title": "Departure", "location": "Mousehole"},
        ],
    )
    make(client, actors, title="Other walk")

    assert search(client, "kayaking") == [target]
    assert search(client, "mousehole") == [target]


def test_search_stemming_finds_singular_from_plural(client, actors):
    target = make(client, actors, description="A day at the beach.")
    make(client, actors, description="Mountains only.")

    assert search(client, "beaches") == [target]
    assert search(client, "Beach") == [target]


def test_search_words_are_anded(client, actors):
    both = make(client, actors, title="Wine and cheese", destination="Bordeaux")
    wine_only = make(client, actors, title="Wine tour", destination="Porto")

    assert search(client, "wine bordeaux") == [both]
    assert sorted(search(client, "wine")) == sorted([both, wine_only])


def test_search_respects_visibility(client, actors):
    live = make(client, actors, title="Safari adventure")
    draft = make(client, actors, title="Safari preview", publish=False)

    assert search(client, "safari") == [live]
    assert search(client, "safari", actors.headers("customer")) == [live]
    assert sorted(search(client, "safari", actors.headers("sales"))) == sorted(
        [live, draft]
    )


def test_search_combines_with_filters(client, actors):
    cheap = make(client, actors, title="Safari budget", base_price="100.00")
    make(client, actors, title="Safari luxury", base_price="5000.00")

    assert search(client, "safari", max_price="200") == [cheap]


def test_search_no_match_is_empty(client, actors):
    make(client, actors)

    response = client.get(URL, query_string={"q": "zanzibar"})

    assert response.status_code == 200
    assert response.get_json() == {
        "items": [],
        "meta": one_page_meta(0),
    }


@pytest.mark.parametrize("q", ["!!!", "   ", "--", "\"'", "*", "()", "\x00"])
def test_search_punctuation_only_applies_no_text_filter(client, actors, q):
    package_id = make(client, actors)

    assert search(client, q) == [package_id]


@pytest.mark.parametrize(
    "q",
    [
        'walk"',
        "walk*",
        "-walk",
        "walk OR",
        "AND walk",
        "NOT walk",
        "NEAR(walk cliffs)",
        "title:walk",
        "^walk",
        "walk's",
        "walk & cliffs | !x",
        "walk:*",
    ],
)
def test_search_operators_in_input_are_plain_words(client, actors, q):
    make(client, actors)

    response = client.get(URL, query_string={"q": q})

    assert response.status_code == 200


def test_search_sees_edits_and_deletes(client, actors):
    package_id = make(client, actors, publish=False)
    staff = actors.headers("operation")
    assert search(client, "penzance", staff) == [package_id]

    client.patch(
        f"{URL}/{package_id}",
        json={
            "itinerary": [{"day_number": 1, "title": "Arrival", "location": "St Ives"}]
        },
        headers=staff,
    )
    assert search(client, "penzance", staff) == []
    assert search(client, "ives", staff) == [package_id]

    client.delete(f"{URL}/{package_id}", headers=staff)
    assert search(client, "ives", staff) == []


def test_search_paginates(client, actors):
    made = [make(client, actors, title=f"Lagoon {n}") for n in range(3)]

    response = client.get(URL, query_string={"q": "lagoon", "per_page": 2, "page": 2})

    assert [item["id"] for item in response.get_json()["items"]] == [made[0]]
    assert response.get_json()["meta"]["total"] == 3


def test_search_q_too_long_is_422(client):
    response = client.get(URL, query_string={"q": "x" * 201})

    assert response.status_code == 422
    assert "query.q" in response.get_json()["errors"]


def test_build_search_document_joins_every_part():
    package = Package(
        title="Title",
        description="Desc",
        destination="Dest",
        origin=None,
        duration_days=2,
        base_price=Decimal("1"),
    )
    package.itinerary = [
        ItineraryDay(day_number=1, title="Day one", description="", location="Town"),
        ItineraryDay(
            day_number=2, title="Day two", description="Museum", location=None
        ),
    ]

    assert (
        build_search_document(package)
        == "Title\nDesc\nDest\nDay one\nTown\nDay two\nMuseum"
    )


def test_search_terms_and_fts5_query_quote_every_word():
    assert search_terms('beach "huts" OR -surf*') == ["beach", "huts", "OR", "surf"]
    assert fts5_query(["beach", "OR"]) == '"beach" "OR"'
    assert search_terms("?!") == []


@pytest.mark.postgres
def test_search_uses_gin_expression_index_on_postgres(client, actors, app):
    make(client, actors)
    from sqlalchemy import select

    from models import Package
    from services.catalogue.search import search_condition

    with app.app_context():
        stmt = select(Package.id).where(search_condition("walk"))
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = db.session.execute(text(f"EXPLAIN {compiled}")).scalars().all()
        db.session.rollback()

    assert "to_tsvector('english'" in str(compiled)
    assert any("ix_packages_search_fts" in line for line in plan), plan
