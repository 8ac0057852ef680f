"""Station and city names in three languages (docs/i18n.md "Catalogue
translations"; docs/transport.md "GTFS import"): a feed's translations.txt (GTFS
reference "translations.txt") gives stations, and the cities named after them,
their names in German and Spanish; bad rows refuse the feed naming file, row and
field; the export writes them back; staff set them on stations; answers (stations,
routes, trips, search) show the caller's language with a fallback to the
original."""

import csv
import io
import json
import shutil
import zipfile

import pytest
from sqlalchemy import select

from core.extensions import db
from models import City, Station
from tests.factories import assert_problem
from tests.transport.conftest import (
    GTFS_DATA,
    TRANSPORT,
    make_city,
    make_line,
    make_station,
    zip_feed,
)

GTFS = f"{TRANSPORT}/gtfs"
EXPORT = f"{TRANSPORT}/gtfs.zip"
STATIONS = f"{TRANSPORT}/stations"
ROUTES = f"{TRANSPORT}/routes"
SEARCH = f"{TRANSPORT}/search"
# The good feed's services run until 2025-12-31: import the first week of December.
WEEK = {"from": "2025-12-01", "until": "2025-12-07"}
HEADER = [
    "table_name",
    "field_name",
    "language",
    "translation",
    "record_id",
    "record_sub_id",
    "field_value",
]
ROWS = [
    ["stops", "stop_name", "de", "Furnace-Creek-Ferienanlage", "FUR_CREEK_RES", "", ""],
    ["stops", "stop_name", "es", "Complejo Furnace Creek", "FUR_CREEK_RES", "", ""],
    # By field_value: the airport stop and its parent station share the name.
    [
        "stops",
        "stop_name",
        "es",
        "Aeropuerto del condado de Nye",
        "",
        "",
        "Nye County Airport (Demo)",
    ],
    # A regional tag counts as its language.
    ["stops", "stop_name", "de-AT", "Flughafen Nye County", "BEATTY_AIRPORT", "", ""],
    # Not a language of the API: not stored.
    ["stops", "stop_name", "fr", "Aéroport du comté de Nye", "BEATTY_AIRPORT", "", ""],
    # Other tables: checked, counted in a warning, not stored.
    ["agency", "agency_name", "de", "Demo-Verkehrsbetrieb", "DTA", "", ""],
    ["feed_info", "feed_publisher_name", "de", "Demo", "", "", ""],
    ["stop_times", "stop_headsign", "de", "Stadt", "STBA", "1", ""],
]


def feed_with(tmp_path, rows, header=HEADER) -> bytes:
    """The good feed with a translations.txt of `rows`, zipped."""
    folder = tmp_path / "feed"
    shutil.copytree(GTFS_DATA / "good_feed", folder)
    with (folder / "translations.txt").open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return zip_feed(folder)


def upload(client, headers, data: bytes):
    return client.post(
        GTFS,
        query_string=WEEK,
        data={"file": (io.BytesIO(data), "feed.zip")},
        headers=headers,
        content_type="multipart/form-data",
    )


def station(app, code: str) -> Station:
    with app.app_context():
        row = db.session.scalars(select(Station).where(Station.code == code)).one()
        db.session.expunge(row)
        return row


def validator_errors(data: bytes, tmp_path, day: str) -> list:
    """The ERROR notices of the GTFS validator (gtfs-validator, a pure-Python
    port of MobilityData's canonical validator) on a feed, validated as of `day`."""
    from gtfs_validator.cli import main

    path = tmp_path / "export.zip"
    path.write_bytes(data)
    out = tmp_path / "report"
    assert main(["-i", str(path), "-o", str(out), "-d", day]) == 0
    report = json.loads((out / "report.json").read_text())
    system = json.loads((out / "system_errors.json").read_text())
    errors = [n for n in report["notices"] if n["severity"] == "ERROR"]
    return errors + system["notices"]


def read(client, path, language, headers):
    response = client.get(path, headers={**headers, "Accept-Language": language})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def imported(app, client, actors, tmp_path):
    """The good feed imported with ROWS as its translations.txt; the answer."""
    response = upload(client, actors.headers("admin"), feed_with(tmp_path, ROWS))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_import_stores_stop_names_in_the_apis_languages(app, imported):
    resort = station(app, "FUR_CREEK_RES")
    airport = station(app, "BEATTY_AIRPORT")
    parent = station(app, "BEATTY_AIRPORT_STATION")

    assert resort.name == "Furnace Creek Resort (Demo)"
    assert resort.translations == {
        "de": {"name": "Furnace-Creek-Ferienanlage"},
        "es": {"name": "Complejo Furnace Creek"},
    }
    assert airport.translations == {
        "de": {"name": "Flughafen Nye County"},
        "es": {"name": "Aeropuerto del condado de Nye"},
    }
    assert parent.translations == {"es": {"name": "Aeropuerto del condado de Nye"}}
    assert station(app, "BULLFROG").translations is None
    with app.app_context():
        city = db.session.get(City, airport.city_id)
        assert city.name == "Nye County Airport (Demo)"
        assert city.translations == {"es": {"name": "Aeropuerto del condado de Nye"}}
    warnings = {w["code"]: w for w in imported["warnings"]}
    assert set(warnings) == {"files_ignored", "translations_ignored"}
    assert warnings["translations_ignored"]["file"] == "translations.txt"
    assert "3 translation(s)" in warnings["translations_ignored"]["reason"]


@pytest.mark.parametrize(
    ("language", "name", "city"),
    [
        ("de", "Flughafen Nye County", "Nye County Airport (Demo)"),
        ("es", "Aeropuerto del condado de Nye", "Aeropuerto del condado de Nye"),
        ("en", "Nye County Airport (Demo)", "Nye County Airport (Demo)"),
        ("fr", "Nye County Airport (Demo)", "Nye County Airport (Demo)"),
    ],
)
def test_a_station_answers_in_the_callers_language(
    app, client, actors, imported, language, name, city
):
    airport = station(app, "BEATTY_AIRPORT")

    body = read(client, f"{STATIONS}/{airport.id}", language, {})
    listing = read(client, f"{STATIONS}?q=BEATTY_AIRPORT", language, {})

    assert (body["name"], body["city"]["name"]) == (name, city)
    assert body["translations"] == airport.translations
    names = {item["code"]: item["name"] for item in listing["items"]}
    assert names["BEATTY_AIRPORT"] == name


def test_route_and_trip_answers_name_the_stations_in_the_callers_language(
    app, client, actors, imported
):
    headers = actors.headers("operation")
    routes = read(client, ROUTES, "de", headers)["items"]
    route = next(r for r in routes if r["code"] == "BFC")
    trips = read(client, f"{TRANSPORT}/trips?route_id={route['id']}", "es", headers)

    german = {stop["station_code"]: stop["station_name"] for stop in route["stops"]}
    trip = read(client, f"{TRANSPORT}/trips/{trips['items'][0]['id']}", "es", headers)
    spanish = {
        call["station_code"]: call["station_name"] for call in trip["stop_times"]
    }

    assert german["FUR_CREEK_RES"] == "Furnace-Creek-Ferienanlage"
    assert german["BULLFROG"] == "Bullfrog (Demo)"
    assert spanish["FUR_CREEK_RES"] == "Complejo Furnace Creek"
    assert spanish["BULLFROG"] == "Bullfrog (Demo)"


def test_a_reimport_keeps_the_names_an_editor_set(
    app, client, actors, imported, tmp_path
):
    resort = station(app, "FUR_CREEK_RES")
    edited = client.patch(
        f"{STATIONS}/{resort.id}",
        json={"translations": {"de": {"name": "Furnace Creek (redigiert)"}}},
        headers=actors.headers("operation"),
    )
    assert edited.status_code == 200, edited.get_json()

    again = upload(client, actors.headers("admin"), feed_with(tmp_path / "2", ROWS))

    assert again.status_code == 200, again.get_json()
    assert station(app, "FUR_CREEK_RES").translations == {
        "de": {"name": "Furnace Creek (redigiert)"},
        "es": {"name": "Complejo Furnace Creek"},
    }


def test_the_export_writes_the_translations_back(
    app, client, actors, imported, tmp_path
):
    headers = actors.headers("admin")
    company_id = imported["company_ids"][0]

    response = client.get(
        EXPORT, query_string={"company_id": company_id}, headers=headers
    )

    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        text = archive.read("translations.txt").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(r["record_id"], r["language"], r["translation"]) for r in rows} >= {
        ("FUR_CREEK_RES", "de", "Furnace-Creek-Ferienanlage"),
        ("FUR_CREEK_RES", "es", "Complejo Furnace Creek"),
        ("BEATTY_AIRPORT", "de", "Flughafen Nye County"),
    }
    assert {(r["table_name"], r["field_name"]) for r in rows} == {
        ("stops", "stop_name")
    }
    assert validator_errors(response.data, tmp_path, "2025-12-03") == []
    # The export imports again: same names, nothing new.
    again = upload(client, headers, response.data)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["counts"]["stations"] == 0


BAD_ROWS = [
    (
        ["stops", "stop_name", "de", "Nirgendwo", "NOWHERE", "", ""],
        "record_id",
        "Unknown stop",
    ),
    (["stops", "stop_name", "de", "", "BULLFROG", "", ""], "translation", "Required"),
    (["stops", "stop_name", "", "Frosch", "BULLFROG", "", ""], "language", "Required"),
    (
        ["stops", "stop_name", "de_DE!", "Frosch", "BULLFROG", "", ""],
        "language",
        "BCP 47",
    ),
    (["planets", "name", "de", "Mars", "X", "", ""], "table_name", "Must be one of"),
    (
        ["stops", "stop_name", "de", "Frosch", "BULLFROG", "", "Bullfrog (Demo)"],
        "field_value",
        "Must be empty",
    ),
    (["stops", "stop_name", "de", "Frosch", "", "", ""], "record_id", "Give"),
    (
        ["feed_info", "feed_publisher_name", "de", "Demo", "X", "", ""],
        "record_id",
        "feed_info",
    ),
    (
        ["stop_times", "stop_headsign", "de", "Stadt", "STBA", "", ""],
        "record_sub_id",
        "Required",
    ),
]


@pytest.mark.parametrize(("row", "field", "reason"), BAD_ROWS)
def test_a_bad_translation_row_refuses_the_feed(
    app, client, actors, tmp_path, row, field, reason
):
    good = ["stops", "stop_name", "de", "Frosch", "BULLFROG", "", ""]

    response = upload(client, actors.headers("admin"), feed_with(tmp_path, [good, row]))

    body = assert_problem(response, 422)
    assert body["type"] == "/problems/gtfs-invalid"
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert (error["file"], error["row"], error["field"]) == (
        "translations.txt",
        3,
        field,
    )
    assert reason in error["reason"]
    with app.app_context():
        assert db.session.scalar(select(Station.id).limit(1)) is None


def test_a_translations_file_without_its_columns_refuses_the_feed(
    client, actors, tmp_path
):
    legacy = ["trans_id", "lang", "translation"]

    response = upload(
        client,
        actors.headers("admin"),
        feed_with(tmp_path, [["Bullfrog", "de", "Frosch"]], header=legacy),
    )

    body = assert_problem(response, 422)
    fields = {(e["file"], e["field"]) for e in body["errors"]}
    assert fields == {
        ("translations.txt", "table_name"),
        ("translations.txt", "field_name"),
        ("translations.txt", "language"),
    }


# ---- stations edited through the API ----------------------------------------------


def test_staff_set_a_stations_translations(app, client, actors):
    city = make_city(app, "Dublin")
    headers = actors.headers("operation")

    created = client.post(
        STATIONS,
        json={
            "code": "DUBBA",
            "name": "Dublin Busaras",
            "city_id": city,
            "latitude": 53.35,
            "longitude": -6.25,
            "translations": {"de": {"name": " Dublin Busbahnhof "}},
        },
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    path = f"{STATIONS}/{created.get_json()['id']}"
    assert created.get_json()["translations"] == {"de": {"name": "Dublin Busbahnhof"}}

    assert read(client, path, "de", {})["name"] == "Dublin Busbahnhof"
    assert read(client, path, "es", {})["name"] == "Dublin Busaras"
    edited = client.patch(
        path,
        json={"translations": {"es": {"name": "Estación de autobuses"}}},
        headers=headers,
    )
    assert edited.get_json()["translations"] == {
        "es": {"name": "Estación de autobuses"}
    }
    assert read(client, path, "de", {})["name"] == "Dublin Busaras"
    cleared = client.patch(path, json={"translations": None}, headers=headers)
    assert cleared.get_json()["translations"] is None


@pytest.mark.parametrize(
    "translations",
    [
        {"en": {"name": "Dublin"}},
        {"it": {"name": "Dublino"}},
        {"de": {"title": "Dublin"}},
        {"de": {"name": ""}},
        {"de": {"name": "x" * 161}},
    ],
)
def test_bad_station_translations_are_422(app, client, actors, translations):
    station_id = make_station(app)

    response = client.patch(
        f"{STATIONS}/{station_id}",
        json={"translations": translations},
        headers=actors.headers("operation"),
    )

    body = assert_problem(response, 422)
    assert body["errors"]
    assert all(key.startswith("translations") for key in body["errors"])


def test_search_offers_name_the_stations_in_the_callers_language(app, client):
    line = make_line(app)
    first, _, last = line["station_ids"]
    with app.app_context():
        origin = db.session.get(Station, first)
        origin.translations = {"de": {"name": "Abfahrt"}, "es": {"name": "Salida"}}
        codes = (origin.code, db.session.get(Station, last).code)
        original = origin.name
        db.session.commit()
    query = {"from": codes[0], "to": codes[1], "date": str(line["service_date"])}

    offers = {
        language: client.get(
            SEARCH, query_string=query, headers={"Accept-Language": language}
        ).get_json()["items"]
        for language in ("de", "es", "en")
    }

    assert offers["de"][0]["from_station"]["name"] == "Abfahrt"
    assert offers["es"][0]["from_station"]["name"] == "Salida"
    assert offers["en"][0]["from_station"]["name"] == original
    assert (
        offers["de"][0]["to_station"]["name"] == offers["en"][0]["to_station"]["name"]
    )


def test_staff_set_a_citys_translations(app, client, actors):
    headers = actors.headers("operation")
    created = client.post(
        f"{TRANSPORT}/cities",
        json={
            "name": "Seville",
            "country": "ES",
            "timezone": "Europe/Madrid",
            "translations": {"es": {"name": "Sevilla"}, "de": {"name": "Sevilla"}},
        },
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    path = f"{TRANSPORT}/cities/{created.get_json()['id']}"

    assert read(client, path, "es", {})["name"] == "Sevilla"
    assert read(client, path, "en", {})["name"] == "Seville"
    edited = client.patch(path, json={"translations": None}, headers=headers)
    assert edited.get_json()["translations"] is None
    assert read(client, path, "es", {})["name"] == "Seville"
    bad = client.patch(
        path, json={"translations": {"en": {"name": "Seville"}}}, headers=headers
    )
    assert list(assert_problem(bad, 422)["errors"]) == ["translations.en.key"]
