"""Catalogue content in three languages and tax rates (docs/i18n.md "Catalogue
translations"; docs/documents.md "Tax"): packages and itinerary days carry
`translations`, answers show the caller's language with a fallback to the
original, the HTTP and Redis caches keep one answer per language, search finds
translated titles; packages and transport routes carry `tax_rate`."""

import json
import os

import pytest

from core import catalogue_cache
from core.extensions import db
from models import Package
from tests.catalogue.conftest import publish
from tests.factories import assert_problem, create_package
from tests.transport.conftest import TRANSPORT, make_company, make_station

URL = "/api/v1/packages"
ROUTES = f"{TRANSPORT}/routes"
GERMAN = {
    "title": "Inselhüpfen",
    "description": "Sonne und Meer.",
}
SPANISH = {"title": "Saltando entre islas"}
TRANSLATIONS = {"de": GERMAN, "es": SPANISH}
DAY_TWO = {
    "day_number": 2,
    "title": "Boat trip",
    "location": "Balos",
    "translations": {"de": {"title": "Bootsfahrt"}, "es": {"title": "Paseo en barco"}},
}
DAY_ONE = {"day_number": 1, "title": "Arrival", "description": "Check in."}


def translated_package(client, actors, **overrides) -> dict:
    """A published package with German and Spanish texts; returns its JSON."""
    package = create_package(
        client,
        actors,
        translations=TRANSLATIONS,
        itinerary=[DAY_TWO, DAY_ONE],
        **overrides,
    )
    publish(client, actors, package["id"])
    return package


def read(client, path, language=None, headers=None):
    """GET `path` with an Accept-Language of `language` (None: none)."""
    headers = dict(headers or {})
    if language:
        headers["Accept-Language"] = language
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


@pytest.mark.parametrize(
    ("language", "title", "description", "day_two", "content_language"),
    [
        ("de", "Inselhüpfen", "Sonne und Meer.", "Bootsfahrt", "de"),
        ("de-AT,de;q=0.9", "Inselhüpfen", "Sonne und Meer.", "Bootsfahrt", "de"),
        # Spanish has no description: the original stands in.
        ("es", "Saltando entre islas", "Sun and sea.", "Paseo en barco", "es"),
        ("en", "Island Hopping", "Sun and sea.", "Boat trip", "en"),
        # French is not a language of the API: English, the original.
        ("fr", "Island Hopping", "Sun and sea.", "Boat trip", "en"),
        (None, "Island Hopping", "Sun and sea.", "Boat trip", "en"),
    ],
)
def test_a_package_answers_in_the_callers_language(
    client, actors, language, title, description, day_two, content_language
):
    package = translated_package(client, actors)

    response = read(client, f"{URL}/{package['id']}", language)

    body = response.get_json()
    assert response.headers["Content-Language"] == content_language
    assert (body["title"], body["description"]) == (title, description)
    days = {day["day_number"]: day for day in body["itinerary"]}
    assert days[2]["title"] == day_two
    assert days[1]["title"] == "Arrival"  # no translation: the original
    assert body["translations"] == TRANSLATIONS
    assert days[2]["translations"] == DAY_TWO["translations"]
    assert days[1]["translations"] is None


def test_the_list_answers_in_the_callers_language_too(client, actors):
    translated_package(client, actors)

    german = read(client, URL, "de").get_json()["items"]
    spanish = read(client, URL, "es").get_json()["items"]

    assert [item["title"] for item in german] == ["Inselhüpfen"]
    assert [item["title"] for item in spanish] == ["Saltando entre islas"]


def test_staff_see_the_translations_they_wrote(client, actors):
    package = translated_package(client, actors)

    body = read(
        client, f"{URL}/{package['id']}", "de", actors.headers("operation")
    ).get_json()

    assert body["title"] == "Inselhüpfen"
    assert body["translations"] == TRANSLATIONS


def test_an_english_then_a_german_read_of_one_url_differ(client, actors):
    package = translated_package(client, actors)
    path = f"{URL}/{package['id']}"

    english = read(client, path, "en")
    german = read(client, path, "de")
    english_again = read(client, path, "en")

    assert english.get_json()["title"] == "Island Hopping"
    assert german.get_json()["title"] == "Inselhüpfen"
    assert english_again.get_json()["title"] == "Island Hopping"
    assert "Accept-Language" in german.headers["Vary"]


def test_an_english_etag_does_not_revalidate_a_german_answer(client, actors):
    package = translated_package(client, actors)
    path = f"{URL}/{package['id']}"
    english = read(client, path, "en")

    german = client.get(
        path,
        headers={"Accept-Language": "de", "If-None-Match": english.headers["ETag"]},
    )

    assert german.status_code == 200
    assert german.get_json()["title"] == "Inselhüpfen"
    assert german.headers["ETag"] != english.headers["ETag"]


def title_of(response) -> str:
    """The title of a package answer, or of the only item of a list answer."""
    body = json.loads(response.get_data())
    return body["items"][0]["title"] if "items" in body else body["title"]


CACHE_URL = os.environ.get("TEST_CATALOGUE_CACHE_URL", "redis://127.0.0.1:6379/12")


@pytest.fixture
def redis_cache(app, monkeypatch):
    """The real Redis behind CATALOGUE_CACHE_URL, its catalogue keys removed before
    and after (skipped when no Redis answers)."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(CACHE_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {CACHE_URL}: {exc}")

    def purge():
        for name in client.scan_iter(f"{catalogue_cache.KEY_PREFIX}*"):
            client.delete(name)

    purge()
    monkeypatch.setitem(app.config, "CATALOGUE_CACHE_URL", CACHE_URL)
    yield client
    purge()


@pytest.mark.redis
def test_the_redis_cache_keeps_one_answer_per_language(
    app, client, actors, redis_cache
):
    package = translated_package(client, actors)
    for path in (URL, f"{URL}/{package['id']}"):
        english = read(client, path, "en")
        german = read(client, path, "de")
        spanish = read(client, path, "es")
        # Served again, now from Redis: still one answer per language.
        assert read(client, path, "de").get_data() == german.get_data()
        assert read(client, path, "en").get_data() == english.get_data()
        assert read(client, path, "es").get_data() == spanish.get_data()
        assert title_of(english) == "Island Hopping"
        assert title_of(german) == "Inselhüpfen"
        assert title_of(spanish) == "Saltando entre islas"
        stored = catalogue_cache.key(english.headers["ETag"])
        assert redis_cache.get(stored) == english.get_data()
        stored = catalogue_cache.key(german.headers["ETag"], "de")
        assert redis_cache.get(stored) == german.get_data()


def test_search_finds_a_package_by_its_translated_title(client, actors):
    package = translated_package(client, actors)

    found = read(client, f"{URL}?q=Inselhüpfen", "de").get_json()["items"]
    also = read(client, f"{URL}?q=Saltando islas").get_json()["items"]

    assert [item["id"] for item in found] == [package["id"]]
    assert [item["id"] for item in also] == [package["id"]]
    assert also[0]["title"] == "Island Hopping"


def test_editing_translations_replaces_them_and_null_removes_them(app, client, actors):
    package = create_package(client, actors, translations=TRANSLATIONS)
    path = f"{URL}/{package['id']}"
    headers = actors.headers("operation")

    edited = client.patch(
        path,
        json={"translations": {"de": {"title": "  Inselspringen  "}}},
        headers=headers,
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["translations"] == {"de": {"title": "Inselspringen"}}
    cleared = client.patch(path, json={"translations": None}, headers=headers)
    assert cleared.status_code == 200
    assert cleared.get_json()["translations"] is None
    german = read(client, path, "de", headers).get_json()
    assert german["title"] == "Island Hopping"
    with app.app_context():
        assert db.session.get(Package, package["id"]).translations is None


def test_a_translation_change_sends_a_published_package_back_to_approval(
    client, actors
):
    package = translated_package(client, actors)

    edited = client.patch(
        f"{URL}/{package['id']}",
        json={"translations": {"de": {"title": "Inselspringen"}}},
        headers=actors.headers("operation"),
    )

    assert edited.get_json()["status"] == "pending_approval"


@pytest.mark.parametrize(
    "translations",
    [
        {"en": {"title": "The original is English"}},
        {"fr": {"title": "Saut d'île en île"}},
        {"DE": {"title": "Großbuchstaben"}},
        {"de": {"title": "Inselhüpfen", "subtitle": "unknown field"}},
        {"de": {"title": ""}},
        {"de": {"title": "x" * 201}},
        {"de": {"description": "x" * 10_001}},
        {"de": {"title": 42}},
        {"de": "Inselhüpfen"},
        ["de", "Inselhüpfen"],
    ],
)
def test_bad_translations_are_422(client, actors, translations):
    response = client.post(
        URL,
        json={
            "title": "Island Hopping",
            "destination": "Crete",
            "duration_days": 3,
            "base_price": "850.00",
            "translations": translations,
        },
        headers=actors.headers("operation"),
    )

    body = assert_problem(response, 422)
    assert body["errors"]
    assert all(key.startswith("translations") for key in body["errors"])


def test_bad_day_translations_are_422(client, actors):
    day = {**DAY_TWO, "translations": {"it": {"title": "Gita in barca"}}}
    response = client.post(
        URL,
        json={
            "title": "Island Hopping",
            "destination": "Crete",
            "duration_days": 3,
            "base_price": "850.00",
            "itinerary": [day],
        },
        headers=actors.headers("operation"),
    )

    body = assert_problem(response, 422)
    assert list(body["errors"]) == ["itinerary.0.translations.it.key"]


# ---- tax rates -----------------------------------------------------------------


def test_a_package_without_a_tax_rate_shows_the_default(app, client, actors):
    package = create_package(client, actors)

    assert app.config["DEFAULT_TAX_RATE"] == "13.5"
    assert package["tax_rate"] == "13.50"
    with app.app_context():
        assert db.session.get(Package, package["id"]).tax_rate is None


def test_a_package_tax_rate_is_kept_and_null_goes_back_to_the_default(
    app, client, actors, monkeypatch
):
    package = create_package(client, actors, tax_rate="9")
    path = f"{URL}/{package['id']}"
    headers = actors.headers("operation")
    assert package["tax_rate"] == "9.00"

    edited = client.patch(path, json={"tax_rate": "23.5"}, headers=headers)
    assert edited.get_json()["tax_rate"] == "23.50"
    cleared = client.patch(path, json={"tax_rate": None}, headers=headers)
    assert cleared.get_json()["tax_rate"] == "13.50"
    monkeypatch.setitem(app.config, "DEFAULT_TAX_RATE", "21")
    assert read(client, path, headers=headers).get_json()["tax_rate"] == "21.00"
    zero = client.patch(path, json={"tax_rate": "0"}, headers=headers)
    assert zero.get_json()["tax_rate"] == "0.00"
    with app.app_context():
        assert str(db.session.get(Package, package["id"]).tax_rate) == "0.00"


@pytest.mark.parametrize(
    "rate", ["-1", "100.01", "101", "13.555", "abc", "NaN", "Infinity", 13.5, ""]
)
def test_a_bad_tax_rate_is_422(client, actors, rate):
    response = client.post(
        URL,
        json={
            "title": "Island Hopping",
            "destination": "Crete",
            "duration_days": 3,
            "base_price": "850.00",
            "tax_rate": rate,
        },
        headers=actors.headers("operation"),
    )

    body = assert_problem(response, 422)
    assert "tax_rate" in body["errors"]


def route_body(company_id, stations, **overrides) -> dict:
    body = {
        "company_id": company_id,
        "mode": "bus",
        "code": "X1",
        "name": "Dublin - Galway",
        "stops": stations,
    }
    body.update(overrides)
    return body


def test_a_route_carries_a_tax_rate(app, client, actors):
    company = make_company(app)
    stations = [make_station(app), make_station(app)]
    headers = actors.headers("operation")

    plain = client.post(ROUTES, json=route_body(company, stations), headers=headers)
    taxed = client.post(
        ROUTES,
        json=route_body(company, stations, code="X2", tax_rate="9.5"),
        headers=headers,
    )

    assert plain.status_code == 201, plain.get_json()
    assert plain.get_json()["tax_rate"] == "13.50"
    assert taxed.get_json()["tax_rate"] == "9.50"
    route = taxed.get_json()["id"]
    edited = client.patch(f"{ROUTES}/{route}", json={"tax_rate": "0"}, headers=headers)
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["tax_rate"] == "0.00"
    back = client.patch(f"{ROUTES}/{route}", json={"tax_rate": None}, headers=headers)
    assert back.get_json()["tax_rate"] == "13.50"
    bad = client.post(
        ROUTES,
        json=route_body(company, stations, code="X3", tax_rate="100.5"),
        headers=headers,
    )
    assert "tax_rate" in assert_problem(bad, 422)["errors"]
