"""GTFS import and export (docs/transport.md "GTFS"): the sample feeds of
tests/transport/data/gtfs imported or refused as their README says (file, row,
field), all or nothing; warnings; re-imports that duplicate nothing; times in the
agency zone turned into UTC and each station's local time (a trip across a zone
border and past midnight); the export read back by our importer and by a GTFS
validator; roles; the `flask transport import-gtfs` command."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from core.extensions import db
from models import (
    AuditEntry,
    City,
    RouteStop,
    Schedule,
    Station,
    StopTime,
    TransportCompany,
    TransportRoute,
    Trip,
)
from tests.conftest import empty_tables
from tests.transport.conftest import (
    GTFS_DATA,
    TRANSPORT,
    make_city,
    make_company,
    make_route,
    make_station,
    make_trip,
    operator_of,
    zip_feed,
)

GTFS = f"{TRANSPORT}/gtfs"
EXPORT = f"{TRANSPORT}/gtfs.zip"
# The good feed's services run until 2025-12-31: import the first week of December.
WEEK = {"from": "2025-12-01", "until": "2025-12-07"}
TWO_WEEKS = {"from": "2025-12-01", "until": "2025-12-14"}
BACKWARDS = {"from": "2025-12-07", "until": "2025-12-01"}
TOO_LONG = {"from": "2025-01-01", "until": "2026-06-01"}
WEEKDAY_NAMES = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
MODELS = (
    TransportCompany,
    City,
    Station,
    TransportRoute,
    RouteStop,
    Schedule,
    Trip,
    StopTime,
)


def upload(client, headers, data: bytes, **query):
    """POST a feed as the multipart field `file`."""
    return client.post(
        GTFS,
        query_string=query,
        data={"file": (io.BytesIO(data), "feed.zip")},
        headers=headers,
        content_type="multipart/form-data",
    )


def feed(name: str) -> bytes:
    return zip_feed(GTFS_DATA / name)


def row_counts(app) -> dict:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in MODELS
        }


def make_feed(files: dict) -> bytes:
    """A zip of `{name: [rows]}` (first row the header)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, rows in files.items():
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(rows)
            archive.writestr(name, text.getvalue())
    return buffer.getvalue()


def trips_by_key(app) -> dict:
    """`{(gtfs_trip_id, service_date): [(station code, arrival UTC, departure
    UTC, arrival local, departure local)]}` of every trip."""
    with app.app_context():
        rows = db.session.execute(
            select(
                Trip.id,
                Trip.gtfs_trip_id,
                Trip.service_date,
                Station.code,
                StopTime.arrival_at,
                StopTime.departure_at,
                StopTime.arrival_local,
                StopTime.departure_local,
            )
            .join(StopTime, StopTime.trip_id == Trip.id)
            .join(Station, Station.id == StopTime.station_id)
            .order_by(Trip.id, StopTime.sequence)
        ).all()
    trips = {}
    for row in rows:
        trips.setdefault((row.id, row.gtfs_trip_id, row.service_date), []).append(
            tuple(row[3:])
        )
    return {(key[1], key[2]): calls for key, calls in trips.items()}


def timetable_of(app) -> list:
    """Every trip as `(service_date, calls)` with UTC instants, sorted: what a
    round trip must keep whatever the trips' ids."""
    return sorted((key[1], tuple(calls)) for key, calls in trips_by_key(app).items())


# ---- the reference feed -----------------------------------------------------------


def test_admin_imports_the_reference_feed(app, client, actors):
    response = upload(client, actors.headers("admin"), feed("good_feed"), **WEEK)

    assert response.status_code == 200, response.json
    body = response.json
    assert body["window"] == WEEK
    counts = body["counts"]
    # 9 stops + 1 parent station; every stop pattern of a route is a route.
    assert counts["companies"] == 1
    assert counts["stations"] == 10
    assert counts["routes"] == 9
    assert body["matched"] == dict.fromkeys(
        ("companies", "stations", "routes", "schedules", "trips"), 0
    )
    # 11 trips, 3 of them run by frequencies.txt: STBA every 30 min 06:00-22:00
    # (32), CITY1 and CITY2 each 52 departures; AB, BFC, AAMV: 8 plain trips.
    assert counts["schedules"] == 32 + 52 + 52 + 8
    assert counts["trips"] == row_counts(app)["Trip"]
    assert counts["stop_times"] == row_counts(app)["StopTime"]
    assert [w["code"] for w in body["warnings"]] == ["files_ignored"]
    with app.app_context():
        company = db.session.scalars(select(TransportCompany)).one()
        assert (company.code, company.country, company.timezone) == (
            "DTA",
            "US",
            "America/Los_Angeles",
        )
        assert company.name == "Autorité de passage de démonstration"
        assert body["company_ids"] == [company.id]
        airport = db.session.scalars(
            select(Station).where(Station.code == "BEATTY_AIRPORT")
        ).one()
        parent = db.session.get(Station, airport.parent_id)
        assert parent.code == "BEATTY_AIRPORT_STATION"
        assert airport.city.name == "Nye County Airport (Demo)"
        assert airport.timezone == "America/Los_Angeles"
        assert float(airport.latitude) == pytest.approx(36.868446)
        modes = set(db.session.scalars(select(TransportRoute.mode)))
        assert modes == {"bus"}
        city = db.session.scalars(
            select(TransportRoute).where(TransportRoute.code == "CITY")
        ).one()
        back = db.session.scalars(
            select(TransportRoute).where(TransportRoute.code == "CITY~2")
        ).one()
        assert [s.station.code for s in city.stops] == [
            "STAGECOACH",
            "NANAA",
            "NADAV",
            "DADAN",
            "EMSI",
        ]
        assert [s.station.code for s in back.stops] == [
            "EMSI",
            "DADAN",
            "NADAV",
            "NANAA",
            "STAGECOACH",
        ]
        weekend = db.session.scalars(
            select(Schedule).where(Schedule.gtfs_trip_id == "AAMV1")
        ).one()
        assert weekend.weekdays == "0000011"
        assert weekend.gtfs_service_id == "WE"
        assert weekend.stop_times[0]["departure"] == "08:00"


def test_reference_feed_times_are_agency_time_in_utc(app, client, actors):
    upload(client, actors.headers("admin"), feed("good_feed"), **WEEK)

    trips = trips_by_key(app)
    # AB1 08:00 in Los Angeles (PST, UTC-8) on Monday 2025-12-01.
    assert trips[("AB1", date(2025, 12, 1))] == [
        (
            "BEATTY_AIRPORT",
            datetime(2025, 12, 1, 16, 0, tzinfo=UTC),
            datetime(2025, 12, 1, 16, 0, tzinfo=UTC),
            "08:00",
            "08:00",
        ),
        (
            "BULLFROG",
            datetime(2025, 12, 1, 16, 10, tzinfo=UTC),
            datetime(2025, 12, 1, 16, 15, tzinfo=UTC),
            "08:10",
            "08:15",
        ),
    ]
    # Weekend service WE: Saturday 6 and Sunday 7 only; frequencies expanded.
    assert {day for trip_id, day in trips if trip_id == "AAMV1"} == {
        date(2025, 12, 6),
        date(2025, 12, 7),
    }
    shuttles = sorted(t for t, d in trips if t.startswith("STBA@") and d.day == 1)
    assert shuttles[:2] == ["STBA@06:00", "STBA@06:30"]
    assert len(shuttles) == 32
    assert trips[("STBA@21:30", date(2025, 12, 1))][1][1] == datetime(
        2025, 12, 2, 5, 50, tzinfo=UTC
    )


def test_reimporting_the_same_feed_duplicates_nothing(app, client, actors):
    headers = actors.headers("admin")
    first = upload(client, headers, feed("good_feed"), **WEEK).json
    before = row_counts(app)

    again = upload(client, headers, feed("good_feed"), **WEEK)

    assert again.status_code == 200
    assert set(again.json["counts"].values()) == {0}
    assert again.json["matched"] == {
        "companies": 1,
        "stations": 10,
        "routes": 9,
        "schedules": first["counts"]["schedules"],
        "trips": first["counts"]["trips"],
    }
    assert "trips_kept" in [w["code"] for w in again.json["warnings"]]
    assert row_counts(app) == before


def test_a_wider_window_adds_only_the_new_dates(app, client, actors):
    headers = actors.headers("admin")
    upload(client, headers, feed("good_feed"), **WEEK)
    week = row_counts(app)["Trip"]

    wider = upload(
        client,
        headers,
        feed("good_feed"),
        **TWO_WEEKS,
    )

    assert wider.status_code == 200
    assert wider.json["matched"]["trips"] == week
    assert row_counts(app)["Trip"] == 2 * week


def test_the_import_is_audited(app, client, actors):
    upload(client, actors.headers("admin"), feed("good_feed"), **WEEK)

    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "transport.gtfs_imported")
        ).one()
        assert entry.details["counts"]["routes"] == 9


# ---- the other sample feeds ----------------------------------------------------------


def test_a_feed_with_a_byte_order_mark_imports(app, client, actors):
    response = upload(
        client,
        actors.headers("admin"),
        feed("utf8bom"),
        **{"from": "2010-12-01", "until": "2010-12-07"},
    )

    assert response.status_code == 200, response.json
    assert response.json["counts"]["stations"] == 9
    assert response.json["counts"]["trips"] > 0


def test_two_stops_a_metre_apart_import_with_a_warning(app, client, actors):
    response = upload(
        client,
        actors.headers("admin"),
        feed("duplicate_stop"),
        **{"from": "2010-12-01", "until": "2010-12-07"},
    )

    assert response.status_code == 200, response.json
    warning = next(
        w for w in response.json["warnings"] if w["code"] == "duplicate_stop"
    )
    assert warning["file"] == "stops.txt"
    assert warning["row"] == 5
    assert warning["field"] == "stop_id"
    assert "FROG" in warning["reason"] and "BULLFROG" in warning["reason"]
    assert response.json["counts"]["stations"] == 10


def test_a_missing_departure_time_is_the_arrival_time(app, client, actors):
    response = upload(
        client,
        actors.headers("admin"),
        feed("missing_departure_time"),
        **{"from": "2010-12-01", "until": "2010-12-01"},
    )

    assert response.status_code == 200, response.json
    calls = trips_by_key(app)[("CITY1", date(2010, 12, 1))]
    nadav = next(call for call in calls if call[0] == "NADAV")
    assert nadav[1] == nadav[2] == datetime(2010, 12, 1, 14, 12, tzinfo=UTC)
    assert nadav[3:] == ("06:12", "06:12")


REFUSED = [
    ("missing_stops", [{"file": "stops.txt", "row": None, "field": None}]),
    ("missing_column", [{"file": "agency.txt", "row": 1, "field": "agency_name"}]),
    ("undefined_stop", [{"file": "stop_times.txt", "row": 11, "field": "stop_id"}]),
    (
        "negative_stop_sequence",
        [{"file": "stop_times.txt", "row": 9, "field": "stop_sequence"}],
    ),
    (
        "bad_date_format",
        [
            {"file": "calendar.txt", "row": 2, "field": "start_date"},
            {"file": "calendar_dates.txt", "row": 2, "field": "date"},
        ],
    ),
]


@pytest.mark.parametrize(("folder", "expected"), REFUSED)
def test_faulty_feeds_are_refused_naming_file_row_and_field(
    app, client, actors, folder, expected
):
    headers = actors.headers("admin")
    make_company(app, code="KEEP")
    before = row_counts(app)

    response = upload(client, headers, feed(folder), **WEEK)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/problems/gtfs-invalid"
    errors = response.json["errors"]
    assert [
        {key: error[key] for key in ("file", "row", "field")} for error in errors
    ] == expected
    assert all(error["reason"] for error in errors)
    assert row_counts(app) == before


def test_the_reasons_name_what_is_wrong(app, client, actors):
    headers = actors.headers("admin")

    undefined = upload(client, headers, feed("undefined_stop"), **WEEK).json
    negative = upload(client, headers, feed("negative_stop_sequence"), **WEEK).json
    dates = upload(client, headers, feed("bad_date_format"), **WEEK).json
    missing = upload(client, headers, feed("missing_stops"), **WEEK).json

    assert "NADAR" in undefined["errors"][0]["reason"]
    assert "-2" in negative["errors"][0]["reason"]
    assert "2007.01.01" in dates["errors"][0]["reason"]
    assert missing["errors"][0]["reason"] == "Required file missing."


def test_a_file_that_is_not_utf8_is_refused_naming_the_file(app, client, actors):
    before = row_counts(app)

    response = upload(client, actors.headers("admin"), feed("bad_utf8"), **WEEK)

    assert response.status_code == 422
    first = response.json["errors"][0]
    assert (first["file"], first["row"]) == ("agency.txt", 1)
    assert "not UTF-8" in first["reason"]
    assert row_counts(app) == before


def test_a_refusal_found_while_writing_leaves_nothing_behind(app, client, actors):
    """The feed is valid but its agency's zone has no country (UTC): the company
    cannot be made, and the stations, routes and trips are not kept either."""
    data = make_feed(
        {
            "agency.txt": [
                ["agency_id", "agency_name", "agency_url", "agency_timezone"],
                ["UTCO", "Nowhere Lines", "https://nowhere.test", "UTC"],
            ],
            "stops.txt": [
                ["stop_id", "stop_name", "stop_lat", "stop_lon"],
                ["A", "Alpha", "1.0", "1.0"],
                ["B", "Beta", "1.5", "1.5"],
            ],
            "routes.txt": [
                ["route_id", "route_short_name", "route_type"],
                ["R", "R", "3"],
            ],
            "trips.txt": [["route_id", "service_id", "trip_id"], ["R", "S", "T"]],
            "stop_times.txt": [
                [
                    "trip_id",
                    "arrival_time",
                    "departure_time",
                    "stop_id",
                    "stop_sequence",
                ],
                ["T", "08:00:00", "08:00:00", "A", "1"],
                ["T", "09:00:00", "09:00:00", "B", "2"],
            ],
            "calendar_dates.txt": [
                ["service_id", "date", "exception_type"],
                ["S", "20251201", "1"],
            ],
        }
    )
    before = row_counts(app)
    headers = actors.headers("admin")

    refused = upload(client, headers, data, **WEEK)
    accepted = upload(client, headers, data, country="gb", **WEEK)

    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "agency_timezone"
    assert "country" in refused.json["errors"][0]["reason"]
    assert accepted.status_code == 200
    assert accepted.json["counts"]["trips"] == 1
    with app.app_context():
        assert db.session.scalars(select(TransportCompany.country)).all() == ["GB"]
    assert before["Trip"] == 0


def test_not_a_zip_and_no_file_are_refused(app, client, actors):
    headers = actors.headers("admin")

    garbage = upload(client, headers, b"not a zip at all")
    nothing = client.post(
        GTFS, data={}, headers=headers, content_type="multipart/form-data"
    )

    assert garbage.status_code == 422
    assert garbage.json["errors"] == [
        {
            "file": None,
            "row": None,
            "field": "file",
            "reason": "The file is not a ZIP archive.",
        }
    ]
    assert nothing.status_code == 422
    assert "file" in nothing.json["errors"]


def test_a_raw_zip_body_imports_too(app, client, actors):
    response = client.post(
        GTFS,
        query_string=WEEK,
        data=feed("good_feed"),
        headers=actors.headers("admin"),
        content_type="application/zip",
    )

    assert response.status_code == 200, response.json
    assert response.json["counts"]["companies"] == 1


def padded_feed(megabytes: float) -> bytes:
    """The reference feed plus an uncompressible file of `megabytes` MiB (a file
    the importer ignores), stored without compression."""
    import random

    noise = random.Random(7).randbytes(int(megabytes * 1024 * 1024)).hex()
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(feed("good_feed"))) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive,
    ):
        for name in source.namelist():
            archive.writestr(name, source.read(name))
        archive.writestr("shapes.txt", "shape_id\n" + noise[: len(noise) // 2])
    return buffer.getvalue()


def test_a_feed_larger_than_the_json_body_limit_is_accepted(app, client, actors):
    data = padded_feed(1.5)
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]

    response = upload(client, actors.headers("admin"), data, **WEEK)

    assert response.status_code == 200, response.json
    ignored = next(w for w in response.json["warnings"] if w["code"] == "files_ignored")
    assert "shapes.txt" in ignored["reason"]


def test_a_feed_over_the_upload_limit_is_413(app, client, actors):
    app.config["GTFS_MAX_UPLOAD_BYTES"] = 1024 * 1024
    try:
        response = upload(client, actors.headers("admin"), padded_feed(1.5), **WEEK)
    finally:
        del app.config["GTFS_MAX_UPLOAD_BYTES"]

    assert response.status_code == 413
    assert row_counts(app)["Trip"] == 0


def test_options_may_come_as_multipart_fields(app, client, actors):
    company_id = make_company(app, code="MINE", timezone="America/Los_Angeles")
    response = client.post(
        GTFS,
        data={
            "file": (io.BytesIO(feed("good_feed")), "feed.zip"),
            "company_id": str(company_id),
            **WEEK,
        },
        headers=actors.headers("admin"),
        content_type="multipart/form-data",
    )

    assert response.status_code == 200, response.json
    assert response.json["company_ids"] == [company_id]
    assert response.json["window"] == WEEK


def test_a_bad_window_is_refused(app, client, actors):
    headers = actors.headers("admin")

    backwards = upload(
        client,
        headers,
        feed("good_feed"),
        **BACKWARDS,
    )
    too_long = upload(
        client,
        headers,
        feed("good_feed"),
        **TOO_LONG,
    )

    assert backwards.status_code == 422
    assert "until" in backwards.json["errors"]
    assert too_long.status_code == 422
    assert row_counts(app)["Trip"] == 0


def test_an_expired_feed_imports_its_network_and_says_why_no_trips(app, client, actors):
    response = upload(client, actors.headers("admin"), feed("good_feed"))

    assert response.status_code == 200
    assert response.json["counts"]["trips"] == 0
    assert response.json["counts"]["stations"] == 10
    codes = [w["code"] for w in response.json["warnings"]]
    assert "service_outside_horizon" in codes
    assert "no_trips_in_window" in codes


# ---- times across zones and midnight -----------------------------------------------


def border_feed() -> bytes:
    """A London agency whose night coach runs London -> Paris (stop_timezone
    Europe/Paris) -> Brussels, past midnight (GTFS 25:10), on 2026-03-28 (the
    night Europe moves its clocks forward) and 2026-03-21."""
    return make_feed(
        {
            "agency.txt": [
                ["agency_id", "agency_name", "agency_url", "agency_timezone"],
                ["NC", "Night Coach", "https://night.test", "Europe/London"],
            ],
            "stops.txt": [
                ["stop_id", "stop_name", "stop_lat", "stop_lon", "stop_timezone"],
                ["LON", "London Victoria", "51.4952", "-0.1441", ""],
                ["PAR", "Paris Bercy", "48.8386", "2.3822", "Europe/Paris"],
                ["BRU", "Brussels Nord", "50.8596", "4.3606", "Europe/Brussels"],
            ],
            "routes.txt": [
                ["route_id", "route_long_name", "route_type"],
                ["N1", "London - Paris - Brussels", "200"],
            ],
            "trips.txt": [
                ["route_id", "service_id", "trip_id"],
                ["N1", "SAT", "N1-2300"],
            ],
            "stop_times.txt": [
                [
                    "trip_id",
                    "arrival_time",
                    "departure_time",
                    "stop_id",
                    "stop_sequence",
                ],
                ["N1-2300", "23:00:00", "23:00:00", "LON", "1"],
                ["N1-2300", "25:10:00", "25:40:00", "PAR", "2"],
                ["N1-2300", "27:00:00", "27:00:00", "BRU", "3"],
            ],
            "calendar.txt": [
                ["service_id", *WEEKDAY_NAMES, "start_date", "end_date"],
                ["SAT", "0", "0", "0", "0", "0", "1", "0", "20260301", "20260430"],
            ],
        }
    )


def test_stop_times_are_in_the_agency_zone_and_shown_in_the_stations(
    app, client, actors
):
    response = upload(
        client,
        actors.headers("admin"),
        border_feed(),
        **{"from": "2026-03-20", "until": "2026-03-29"},
    )

    assert response.status_code == 200, response.json
    assert response.json["counts"]["routes"] == 1
    trips = trips_by_key(app)
    # 21 March: London on GMT, Paris and Brussels on CET (+1).
    assert trips[("N1-2300", date(2026, 3, 21))] == [
        (
            "LON",
            datetime(2026, 3, 21, 23, 0, tzinfo=UTC),
            datetime(2026, 3, 21, 23, 0, tzinfo=UTC),
            "23:00",
            "23:00",
        ),
        (
            "PAR",
            datetime(2026, 3, 22, 1, 10, tzinfo=UTC),
            datetime(2026, 3, 22, 1, 40, tzinfo=UTC),
            "26:10",
            "26:40",
        ),
        (
            "BRU",
            datetime(2026, 3, 22, 3, 0, tzinfo=UTC),
            datetime(2026, 3, 22, 3, 0, tzinfo=UTC),
            "28:00",
            "28:00",
        ),
    ]
    # 28 March: the clocks go forward at 01:00 UTC on the 29th. GTFS times count
    # from noon minus 12 h of the service day, so 25:10 London is still 01:10 UTC
    # and Paris still shows 26:10, although its wall clock reads 03:10 CEST.
    night = trips[("N1-2300", date(2026, 3, 28))]
    assert night[0][1] == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert night[1][1] == datetime(2026, 3, 29, 1, 10, tzinfo=UTC)
    assert night[1][3] == "26:10"
    assert night[2][1:4] == (
        datetime(2026, 3, 29, 3, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 3, 0, tzinfo=UTC),
        "28:00",
    )
    with app.app_context():
        paris = db.session.scalars(select(Station).where(Station.code == "PAR")).one()
        assert paris.timezone == "Europe/Paris"
        assert (paris.city.name, paris.city.country) == ("Paris Bercy", "FR")
        company = db.session.scalars(select(TransportCompany)).one()
        assert company.country == "GB"


# ---- export -----------------------------------------------------------------------


def export(client, headers, **query):
    return client.get(EXPORT, query_string=query, headers=headers)


def read_zip(data: bytes) -> dict:
    """`{file name: [row dicts]}` of an exported feed."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))
            for name in archive.namelist()
        }


def validator_errors(data: bytes, tmp_path, day: str) -> list:
    """The ERROR notices of the GTFS validator (gtfs-validator, a pure-Python
    port of MobilityData's canonical validator) on a feed, validated as of `day`."""
    import json

    from gtfs_validator.cli import main

    path = tmp_path / "feed.zip"
    path.write_bytes(data)
    out = tmp_path / "report"
    assert main(["-i", str(path), "-o", str(out), "-d", day]) == 0
    report = json.loads((out / "report.json").read_text())
    system = json.loads((out / "system_errors.json").read_text())
    return [n for n in report["notices"] if n["severity"] == "ERROR"] + system[
        "notices"
    ]


def test_the_export_of_the_reference_feed_is_a_valid_feed(
    app, client, actors, tmp_path
):
    headers = actors.headers("admin")
    company_id = upload(client, headers, feed("good_feed"), **WEEK).json["company_ids"][
        0
    ]

    response = export(client, headers, company_id=company_id)

    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    files = read_zip(response.data)
    assert set(files) == {
        "agency.txt",
        "stops.txt",
        "routes.txt",
        "trips.txt",
        "stop_times.txt",
        "calendar.txt",
        "calendar_dates.txt",
        "feed_info.txt",
    }
    assert files["agency.txt"][0]["agency_timezone"] == "America/Los_Angeles"
    stops = {row["stop_id"]: row for row in files["stops.txt"]}
    assert stops["BEATTY_AIRPORT"]["parent_station"] == "BEATTY_AIRPORT_STATION"
    assert stops["BEATTY_AIRPORT_STATION"]["location_type"] == "1"
    ab1 = [row for row in files["stop_times.txt"] if row["trip_id"] == "AB1"]
    assert [(r["arrival_time"], r["departure_time"]) for r in ab1] == [
        ("08:00:00", "08:00:00"),
        ("08:10:00", "08:15:00"),
    ]
    assert validator_errors(response.data, tmp_path, "2025-12-03") == []


def test_the_export_reimported_gives_the_same_trips_and_stop_times(app, client, actors):
    headers = actors.headers("admin")
    upload(client, headers, feed("good_feed"), **WEEK)
    original = trips_by_key(app)
    company_id = row_counts(app) and _company_id(app, "DTA")
    exported = export(client, headers, company_id=company_id).data

    empty_tables(app)
    again = upload(client, actors.employee("admin")["headers"], exported, **WEEK)

    assert again.status_code == 200, again.json
    assert trips_by_key(app) == original


def _company_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(TransportCompany.id).where(TransportCompany.code == code)
        )


def hand_made_network(app) -> dict:
    """A company in London time running trips made by hand (no schedule):
    London -> Paris past midnight, a cancelled one, and an imported schedule
    whose trip of one date was moved by an hour."""
    company_id = make_company(
        app, code="ECO", timezone="Europe/London", website="https://www.example.com"
    )

    london = make_city(app, "London", "GB", "Europe/London")
    paris = make_city(app, "Paris", "FR", "Europe/Paris")
    lon = make_station(
        app, london, code="XLON", latitude=51.5, longitude=-0.12, name="London"
    )
    par = make_station(
        app, paris, code="XPAR", latitude=48.84, longitude=2.37, name="Paris"
    )
    route_id = make_route(app, company_id, [lon, par], mode="bus", code="LP")
    kept = make_trip(
        app,
        route_id,
        date(2026, 3, 28),
        [(lon, "22:30", "22:30"), (par, "26:10", "26:20")],
    )
    cancelled = make_trip(
        app,
        route_id,
        date(2026, 3, 21),
        [(lon, "08:00", "08:00"), (par, "13:00", "13:00")],
    )
    with app.app_context():
        db.session.get(Trip, cancelled).status = "cancelled"
        db.session.commit()
    return {"company_id": company_id, "kept": kept, "lon": lon, "par": par}


def test_trips_without_a_schedule_export_and_come_back(app, client, actors, tmp_path):
    network = hand_made_network(app)
    headers = actors.headers("admin")
    before = [item for item in timetable_of(app) if item[0] == date(2026, 3, 28)]

    response = export(client, headers, company_id=network["company_id"])

    assert response.status_code == 200
    files = read_zip(response.data)
    assert files["calendar.txt"] == []
    assert files["calendar_dates.txt"] == [
        {"service_id": "D20260328", "date": "20260328", "exception_type": "1"}
    ]
    times = [(r["stop_id"], r["arrival_time"]) for r in files["stop_times.txt"]]
    # 26:10 Paris time of the 28th counts from 23:00 UTC on the 27th (noon CET
    # minus 12 h): 01:10 UTC on the 29th, 25:10 of the London service day.
    assert times == [("XLON", "22:30:00"), ("XPAR", "25:10:00")]
    assert files["stops.txt"][1]["stop_timezone"] == "Europe/Paris"
    assert validator_errors(response.data, tmp_path, "2026-03-27") == []

    empty_tables(app)
    again = upload(
        client,
        actors.employee("admin")["headers"],
        response.data,
        **{"from": "2026-03-20", "until": "2026-03-31"},
    )

    assert again.status_code == 200, again.json
    assert [(day, [c[:3] for c in calls]) for day, calls in timetable_of(app)] == [
        (day, [c[:3] for c in calls]) for day, calls in before
    ]


def test_a_schedule_trip_that_differs_is_exported_on_its_own(app, client, actors):
    headers = actors.headers("admin")
    upload(client, headers, feed("good_feed"), **WEEK)
    with app.app_context():
        moved = db.session.scalars(
            select(Trip).where(
                Trip.gtfs_trip_id == "AB1", Trip.service_date == date(2025, 12, 3)
            )
        ).one()
        for stop_time in moved.stop_times:
            stop_time.arrival_at = stop_time.arrival_at.replace(hour=17)
            stop_time.departure_at = stop_time.departure_at.replace(hour=17)
            stop_time.arrival_local = "09" + stop_time.arrival_local[2:]
            stop_time.departure_local = "09" + stop_time.departure_local[2:]
        gone = db.session.scalars(
            select(Trip).where(
                Trip.gtfs_trip_id == "AB2", Trip.service_date == date(2025, 12, 4)
            )
        ).one()
        gone.status = "cancelled"
        db.session.commit()
    original = trips_by_key(app)
    company_id = _company_id(app, "DTA")

    data = export(client, headers, company_id=company_id).data
    files = read_zip(data)
    empty_tables(app)
    upload(client, actors.employee("admin")["headers"], data, **WEEK)

    assert {"service_id": "FULLW", "date": "20251203", "exception_type": "2"} in files[
        "calendar_dates.txt"
    ]
    assert "AB1@20251203" in {row["trip_id"] for row in files["trips.txt"]}
    again = trips_by_key(app)
    assert (
        again[("AB1@20251203", date(2025, 12, 3))]
        == original[("AB1", date(2025, 12, 3))]
    )
    assert ("AB2", date(2025, 12, 4)) not in again
    del original[("AB1", date(2025, 12, 3))]
    del original[("AB2", date(2025, 12, 4))]
    del again[("AB1@20251203", date(2025, 12, 3))]
    assert again == original


# ---- roles ------------------------------------------------------------------------


def test_an_operator_imports_into_its_own_company(app, client, actors):
    company_id = make_company(app, code="OPS", timezone="America/Los_Angeles")
    operator = operator_of(actors, company_id)

    response = upload(client, operator["headers"], feed("good_feed"), **WEEK)

    assert response.status_code == 200, response.json
    assert response.json["company_ids"] == [company_id]
    assert response.json["counts"]["companies"] == 0
    with app.app_context():
        assert db.session.scalars(select(TransportCompany.code)).all() == ["OPS"]
        owners = set(db.session.scalars(select(TransportRoute.company_id)))
        assert owners == {company_id}


def test_an_operator_cannot_import_into_another_company(app, client, actors):
    mine = make_company(app, code="MINE")
    other = make_company(app, code="OTHER")
    operator = operator_of(actors, mine)

    response = upload(
        client, operator["headers"], feed("good_feed"), company_id=other, **WEEK
    )

    assert response.status_code == 404
    assert row_counts(app)["Trip"] == 0


def test_an_admin_may_import_into_a_named_company(app, client, actors):
    company_id = make_company(app, code="NAMED", timezone="America/Los_Angeles")

    response = upload(
        client,
        actors.headers("admin"),
        feed("good_feed"),
        company_id=company_id,
        **WEEK,
    )
    unknown = upload(
        client, actors.headers("admin"), feed("good_feed"), company_id=999999, **WEEK
    )

    assert response.status_code == 200
    assert response.json["company_ids"] == [company_id]
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [("operation", 200), ("sales", 403), ("finance", 403), ("customer", 403)],
)
def test_who_may_import(app, client, actors, role, status):
    response = upload(client, actors.headers(role), feed("good_feed"), **WEEK)

    assert response.status_code == status


def test_anonymous_may_not_import_or_export(app, client):
    assert upload(client, {}, feed("good_feed")).status_code == 401
    assert client.get(EXPORT, query_string={"company_id": 1}).status_code == 401


def test_who_may_export(app, client, actors):
    mine = make_company(app, code="MINE")
    other = make_company(app, code="OTHER")
    operator = operator_of(actors, mine)

    own = export(client, operator["headers"])
    named_own = export(client, operator["headers"], company_id=mine)
    foreign = export(client, operator["headers"], company_id=other)
    admin_without = export(client, actors.headers("admin"))
    operation = export(client, actors.headers("operation"), company_id=other)
    unknown = export(client, actors.headers("admin"), company_id=999999)

    assert own.status_code == 200
    assert named_own.status_code == 200
    assert read_zip(own.data)["agency.txt"][0]["agency_id"] == "MINE"
    assert foreign.status_code == 404
    assert admin_without.status_code == 422
    assert "company_id" in admin_without.json["errors"]
    assert operation.status_code == 200
    assert unknown.status_code == 404
    for role in ("sales", "customer", "hr"):
        assert export(client, actors.headers(role), company_id=mine).status_code == 403


# ---- the command line ---------------------------------------------------------------


def test_the_cli_imports_a_feed_with_progress(app, tmp_path):
    path = tmp_path / "good.zip"
    path.write_bytes(feed("good_feed"))

    result = app.test_cli_runner().invoke(
        args=[
            "transport",
            "import-gtfs",
            str(path),
            "--from",
            "2025-12-01",
            "--until",
            "2025-12-07",
        ]
    )

    assert result.exit_code == 0, result.output
    assert "created companies=1 cities=9 stations=10 routes=9" in result.stdout
    assert "service dates 2025-12-01 to 2025-12-07" in result.stdout
    assert "Reading feed" in result.stderr
    assert "Writing trips" in result.stderr
    assert "warning files_ignored" in result.stderr
    assert row_counts(app)["Trip"] > 0


def test_the_cli_imports_a_folder_and_refuses_a_faulty_feed(app):
    runner = app.test_cli_runner()

    folder = runner.invoke(
        args=[
            "transport",
            "import-gtfs",
            str(GTFS_DATA / "utf8bom"),
            "--from",
            "2010-12-01",
            "--until",
            "2010-12-02",
        ]
    )
    before = row_counts(app)
    refused = runner.invoke(
        args=["transport", "import-gtfs", str(GTFS_DATA / "negative_stop_sequence")]
    )

    assert folder.exit_code == 0, folder.output
    assert refused.exit_code == 1
    assert "stop_times.txt:9 stop_sequence: Must be a non-negative integer" in (
        refused.output
    )
    assert "The GTFS feed is not valid" in refused.output
    assert row_counts(app) == before


# ---- the demo network ----------------------------------------------------------------


def test_the_demo_network_exports_as_valid_feeds(app, client, actors, tmp_path):
    from collections import defaultdict

    from demo.transport import seed_transport

    today = date.today()
    counts = defaultdict(int)
    with app.app_context():
        seed_transport(today, counts)
        db.session.commit()
        zones = set(db.session.scalars(select(Station.timezone)))
        company_ids = dict(
            db.session.execute(select(TransportCompany.code, TransportCompany.id)).all()
        )
        schedules = {
            code: set(
                db.session.scalars(
                    select(Schedule.id)
                    .join(TransportRoute, TransportRoute.id == Schedule.route_id)
                    .where(TransportRoute.company_id == company_id)
                )
            )
            for code, company_id in company_ids.items()
        }
        night = db.session.scalars(
            select(Trip)
            .join(TransportRoute, TransportRoute.id == Trip.route_id)
            .where(TransportRoute.code == "EM1")
            .order_by(Trip.service_date)
        ).first()
        calls = [(s.arrival_local, s.arrival_at) for s in night.stop_times]
    assert counts["transport_companies"] == 2
    assert counts["trips"] > 100
    assert zones == {
        "Europe/Dublin",
        "Europe/London",
        "Europe/Paris",
        "Europe/Brussels",
        "Europe/Lisbon",
    }
    # The night coach leaves Dublin at 19:00 and reaches Paris at 38:00 Paris time
    # (14:00 the next day), stored as UTC.
    assert calls[0][0] == "19:00" and calls[-1][0] == "38:00"
    assert (calls[-1][1] - calls[0][1]).total_seconds() == 18 * 3600
    headers = actors.headers("admin")
    for code in ("EMERALD", "ATLRAIL"):
        response = export(client, headers, company_id=company_ids[code])
        assert response.status_code == 200
        files = read_zip(response.data)
        # Every trip is its schedule's (EU zones change clocks at the same
        # instant): one GTFS trip per schedule, no date-by-date exceptions.
        assert {row["trip_id"] for row in files["trips.txt"]} == {
            f"S{schedule_id}" for schedule_id in schedules[code]
        }
        assert files["calendar_dates.txt"] == []
        folder = tmp_path / code
        folder.mkdir()
        assert validator_errors(response.data, folder, today.isoformat()) == []

    with app.app_context():
        again = defaultdict(int)
        seed_transport(today, again)
        assert again == {}
