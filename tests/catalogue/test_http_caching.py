"""HTTP caching of catalogue reads: ETag and Last-Modified, 304 on If-None-Match and
If-Modified-Since, Cache-Control by caller, the catalogue version bumped with every
catalogue change and rolled back with it (docs/design.md "API conventions";
routes/common/caching.py; services/catalogue/catalogue.py)."""

import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from sqlalchemy import update

from core import catalogue_cache
from core.extensions import db
from models import Booking, CatalogueVersion, Departure, Package
from services.catalogue import catalogue
from tests.catalogue.conftest import published
from tests.factories import create_package

URL = "/api/v1/packages"

START = (datetime.now(UTC).date() + timedelta(days=40)).isoformat()
END = (datetime.now(UTC).date() + timedelta(days=43)).isoformat()


def version(app) -> int:
    """The committed catalogue version."""
    with app.app_context():
        return catalogue.current_version().number


def add_departure(client, actors, package_id: int, **body) -> dict:
    """Create a departure through the API as operation; returns its JSON."""
    body = {"start_date": START, "end_date": END, "capacity": 8, **body}
    response = client.post(
        f"{URL}/{package_id}/departures", json=body, headers=actors.headers("operation")
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def etag(client, path: str, headers=None) -> str:
    """The ETag of a 200 answer to GET `path`."""
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]


def http_date(moment: datetime) -> str:
    """`moment` as an HTTP-date (RFC 9110 §5.6.7)."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


# --- validators and cache policy -------------------------------------------------


@pytest.mark.parametrize("live", [False, True])
def test_anonymous_reads_have_validators_and_public_cache_control(
    client, actors, app, live
):
    package = published(client, actors)
    departure = add_departure(client, actors, package["id"])
    paths = (
        [f"{URL}/{package['id']}/departures", f"/api/v1/departures/{departure['id']}"]
        if live
        else [URL, f"{URL}/{package['id']}"]
    )
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["ETag"].startswith('"')
        assert not response.headers["ETag"].startswith("W/")
        modified = parsedate_to_datetime(response.headers["Last-Modified"])
        assert abs(modified - datetime.now(UTC)) < timedelta(minutes=5)
        assert response.headers["Cache-Control"] == "public, max-age=60"
        assert "Authorization" in response.headers["Vary"]


def test_max_age_follows_the_config(client, actors, app, monkeypatch):
    monkeypatch.setitem(app.config, "CATALOGUE_CACHE_MAX_AGE", 5)
    assert client.get(URL).headers["Cache-Control"] == "public, max-age=5"


@pytest.mark.parametrize("role", ["operation", "customer"])
def test_authenticated_reads_are_private_no_cache(client, actors, app, role):
    package = published(client, actors)
    headers = actors.headers(role)
    for path in (URL, f"{URL}/{package['id']}", f"{URL}/{package['id']}/departures"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-cache"
        assert "Authorization" in response.headers["Vary"]
        assert response.headers["ETag"]


@pytest.mark.parametrize("path", ["/api/v1/auth/me", "/api/v1/bookings"])
def test_personal_endpoints_are_never_stored(client, actors, path):
    response = client.get(path, headers=actors.headers("customer"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers


def test_errors_of_catalogue_reads_are_not_cached(client, actors):
    response = client.get(f"{URL}/999999")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers


def test_staff_and_anonymous_etags_differ(client, actors):
    package = published(client, actors)
    staff = actors.headers("operation")
    for path in (URL, f"{URL}/{package['id']}", f"{URL}/{package['id']}/departures"):
        assert etag(client, path) != etag(client, path, staff)


def test_customers_share_the_anonymous_representation(client, actors):
    published(client, actors)
    assert etag(client, URL) == etag(client, URL, actors.headers("customer"))


def test_query_strings_have_their_own_etags(client, actors):
    published(client, actors)
    tags = {etag(client, path) for path in (URL, f"{URL}?page=1", f"{URL}?q=crete")}
    assert len(tags) == 3


# --- conditional requests ----------------------------------------------------------


@pytest.mark.parametrize("live", [False, True])
def test_if_none_match_answers_304_for_exact_list_weak_and_star(client, actors, live):
    package = published(client, actors)
    add_departure(client, actors, package["id"])
    path = f"{URL}/{package['id']}" + ("/departures" if live else "")
    tag = etag(client, path)
    for condition in (tag, f'"other", {tag}', f"W/{tag}", "*"):
        response = client.get(path, headers={"If-None-Match": condition})
        assert response.status_code == 304, condition
        assert response.get_data() == b""
        assert response.headers["ETag"] == tag
        assert response.headers["Cache-Control"] == "public, max-age=60"
        assert "Authorization" in response.headers["Vary"]
    other = client.get(path, headers={"If-None-Match": '"other", W/"else"'})
    assert other.status_code == 200
    assert other.get_json()


def test_if_none_match_of_another_caller_class_is_200(client, actors):
    published(client, actors)
    staff = actors.headers("operation")
    tag = etag(client, URL)
    response = client.get(URL, headers={"If-None-Match": tag, **staff})
    assert response.status_code == 200
    assert response.headers["ETag"] != tag


def test_if_modified_since_without_if_none_match(client, actors):
    package = published(client, actors)
    add_departure(client, actors, package["id"])
    for path in (URL, f"{URL}/{package['id']}/departures"):
        last = client.get(path).headers["Last-Modified"]
        assert client.get(path, headers={"If-Modified-Since": last}).status_code == 304
        later = http_date(parsedate_to_datetime(last) + timedelta(hours=1))
        assert client.get(path, headers={"If-Modified-Since": later}).status_code == 304
        earlier = http_date(parsedate_to_datetime(last) - timedelta(seconds=1))
        assert (
            client.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
        )
        garbage = client.get(path, headers={"If-Modified-Since": "yesterday"})
        assert garbage.status_code == 200


@pytest.mark.parametrize(
    "path, status",
    [
        (f"{URL}/999999", 404),
        (f"{URL}/999999/departures", 404),
        ("/api/v1/departures/999999", 404),
        (f"{URL}?per_page=1000", 422),
    ],
)
def test_preconditions_never_turn_an_error_into_a_304(client, actors, path, status):
    published(client, actors)
    future = http_date(datetime.now(UTC) + timedelta(days=1))
    for condition in ({"If-None-Match": "*"}, {"If-Modified-Since": future}):
        assert client.get(path, headers=condition).status_code == status


def test_a_draft_stays_404_for_anonymous_whatever_the_preconditions(client, actors):
    draft = create_package(client, actors)
    path = f"{URL}/{draft['id']}"
    staff_tag = etag(client, path, actors.headers("operation"))
    for condition in ("*", staff_tag):
        response = client.get(path, headers={"If-None-Match": condition})
        assert response.status_code == 404


def test_if_modified_since_is_ignored_with_if_none_match(client, actors):
    published(client, actors)
    last = client.get(URL).headers["Last-Modified"]
    response = client.get(
        URL, headers={"If-Modified-Since": last, "If-None-Match": '"stale"'}
    )
    assert response.status_code == 200


# --- every catalogue change gives a new validator ----------------------------------


def test_package_changes_bump_the_version_once_each(client, actors, app):
    editor, head = actors.headers("operation"), actors.headers("operation_head")
    start = version(app)
    package = create_package(client, actors)
    assert version(app) == start + 1
    steps = [
        ("patch", f"{URL}/{package['id']}", {"title": "Island Hopping II"}, editor),
        (
            "patch",
            f"{URL}/{package['id']}",
            {"itinerary": [{"day_number": 1, "title": "Hi"}]},
            editor,
        ),
        ("post", f"{URL}/{package['id']}/submit", None, editor),
        ("post", f"{URL}/{package['id']}/reject", {"reason": "Too short."}, head),
        ("patch", f"{URL}/{package['id']}", {"description": "Longer."}, editor),
        ("post", f"{URL}/{package['id']}/submit", None, editor),
        ("post", f"{URL}/{package['id']}/approve", None, head),
        ("post", f"{URL}/{package['id']}/archive", None, head),
    ]
    for number, (method, path, body, headers) in enumerate(steps, start=2):
        response = getattr(client, method)(path, json=body, headers=headers)
        assert response.status_code == 200, (path, response.get_json())
        assert version(app) == start + number, path
    draft = create_package(client, actors)
    before = version(app)
    assert client.delete(f"{URL}/{draft['id']}", headers=editor).status_code == 204
    assert version(app) == before + 1


def test_an_edit_that_changes_nothing_keeps_the_version(client, actors, app):
    package = create_package(client, actors)
    before = version(app)
    response = client.patch(
        f"{URL}/{package['id']}",
        json={"title": package["title"]},
        headers=actors.headers("operation"),
    )
    assert response.status_code == 200
    assert version(app) == before


def test_package_update_gives_anonymous_and_staff_new_etags(client, actors):
    package = published(client, actors)
    staff = actors.headers("operation")
    paths = [URL, f"{URL}/{package['id']}"]
    anonymous = [etag(client, URL)]
    staffs = [etag(client, path, staff) for path in paths]
    response = client.patch(
        f"{URL}/{package['id']}", json={"title": "Renamed"}, headers=staff
    )
    assert response.status_code == 200
    assert client.get(URL, headers={"If-None-Match": anonymous[0]}).status_code == 200
    for path, old in zip(paths, staffs):
        again = client.get(path, headers={"If-None-Match": old, **staff})
        assert again.status_code == 200
        assert again.headers["ETag"] != old


def test_approve_gives_a_new_etag_and_shows_the_package(client, actors):
    package = create_package(client, actors)
    client.post(f"{URL}/{package['id']}/submit", headers=actors.headers("operation"))
    before = client.get(URL)
    assert before.get_json()["items"] == []
    approved = client.post(
        f"{URL}/{package['id']}/approve", headers=actors.headers("operation_head")
    )
    assert approved.status_code == 200
    after = client.get(URL, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert [item["id"] for item in after.get_json()["items"]] == [package["id"]]


def test_departure_create_update_and_cancel_give_new_etags(client, actors, app):
    package = published(client, actors)
    listing = f"{URL}/{package['id']}/departures"
    tags = [etag(client, URL), etag(client, listing)]
    start = version(app)
    departure = add_departure(
        client, actors, package["id"], price=package["base_price"]
    )
    assert version(app) == start + 1
    after_create = [etag(client, URL), etag(client, listing)]
    assert after_create[0] != tags[0] and after_create[1] != tags[1]
    one = f"/api/v1/departures/{departure['id']}"
    before_edit = etag(client, one)
    edited = client.patch(
        one, json={"capacity": 12}, headers=actors.headers("operation")
    )
    assert edited.status_code == 200, edited.get_json()
    assert version(app) == start + 2
    assert client.get(one, headers={"If-None-Match": before_edit}).status_code == 200
    before_cancel = [etag(client, listing), etag(client, one)]
    cancelled = client.post(
        f"{one}/cancel", json={"reason": "Storm."}, headers=actors.headers("admin")
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert version(app) == start + 3
    assert etag(client, listing) != before_cancel[0]
    after = client.get(one, headers={"If-None-Match": before_cancel[1]})
    assert after.status_code == 200
    assert after.get_json()["status"] == "cancelled"


def test_a_booking_changes_departure_etags_without_bumping_the_version(
    client, actors, app
):
    package = published(client, actors)
    departure = add_departure(client, actors, package["id"])
    listing, one = (
        f"{URL}/{package['id']}/departures",
        f"/api/v1/departures/{departure['id']}",
    )
    before = [etag(client, listing), etag(client, one), etag(client, URL)]
    touched = client.get(one).get_json()["updated_at"]
    start = version(app)
    booked = client.post(
        "/api/v1/bookings",
        json={"departure_id": departure["id"], "seats": 2},
        headers=actors.customer()["headers"],
    )
    assert booked.status_code == 201, booked.get_json()
    assert version(app) == start
    for path, old in zip((listing, one), before):
        response = client.get(path, headers={"If-None-Match": old})
        assert response.status_code == 200
        seats = response.get_json()
        seats = seats["items"][0] if "items" in seats else seats
        assert seats["seats_left"] == 6
        # Last-Modified moves with the seats: a booking touches the departure row.
        updated = datetime.fromisoformat(seats["updated_at"])
        assert updated > datetime.fromisoformat(touched)
    assert client.get(URL, headers={"If-None-Match": before[2]}).status_code == 304


def test_a_lapsed_hold_moves_the_departures_last_modified(client, actors, app):
    package = published(client, actors)
    departure = add_departure(client, actors, package["id"])
    booked = client.post(
        "/api/v1/bookings",
        json={"departure_id": departure["id"], "seats": 3},
        headers=actors.customer()["headers"],
    )
    assert booked.status_code == 201, booked.get_json()
    hour_ago, minute_ago = (datetime.now(UTC) - timedelta(minutes=m) for m in (60, 1))
    with app.app_context():  # everything written an hour ago, the hold still running
        for table in (CatalogueVersion, Departure):
            column = "changed_at" if table is CatalogueVersion else "updated_at"
            db.session.execute(update(table).values({column: hour_ago}))
        db.session.commit()
    one = f"/api/v1/departures/{departure['id']}"
    last = client.get(one).headers["Last-Modified"]
    assert parsedate_to_datetime(last) == hour_ago.replace(microsecond=0)
    assert client.get(one, headers={"If-Modified-Since": last}).status_code == 304
    with app.app_context():  # the hold runs out, no sweep has run
        db.session.execute(
            update(Booking)
            .where(Booking.id == booked.get_json()["id"])
            .values(hold_expires_at=minute_ago)
        )
        db.session.commit()
    response = client.get(one, headers={"If-Modified-Since": last})
    assert response.status_code == 200
    assert response.get_json()["seats_left"] == 8
    moved = parsedate_to_datetime(response.headers["Last-Modified"])
    assert moved == minute_ago.replace(microsecond=0)


# --- the bump commits or rolls back with the change ---------------------------------


def test_a_failed_change_rolls_the_version_back(client, actors, app, monkeypatch):
    package = published(client, actors)
    tag, start = etag(client, URL), version(app)
    bump = catalogue.bump_version

    def bump_then_fail():
        bump()
        raise RuntimeError("the change's transaction fails after the bump")

    monkeypatch.setattr(catalogue, "bump_version", bump_then_fail)
    failed = client.patch(
        f"{URL}/{package['id']}",
        json={"title": "Never saved"},
        headers=actors.headers("operation"),
    )
    assert failed.status_code == 500
    monkeypatch.undo()
    assert version(app) == start
    assert client.get(URL, headers={"If-None-Match": tag}).status_code == 304
    with app.app_context():
        row = db.session.get(Package, package["id"])
        assert (row.title, row.status) == (package["title"], "published")


def test_bump_creates_the_missing_row(app):
    with app.app_context():
        assert catalogue.current_version().number == 0
        catalogue.bump_version()
        catalogue.bump_version()
        db.session.commit()
        current = catalogue.current_version()
    assert current.number == 2
    assert abs(current.changed_at - datetime.now(UTC)) < timedelta(minutes=5)


# --- the server-side cache of anonymous package reads (Redis) -----------------------

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


def cached_keys(client) -> set[bytes]:
    return set(client.scan_iter(f"{catalogue_cache.KEY_PREFIX}*"))


def rename_without_bump(app, package_id: int, title: str) -> None:
    """Change a title behind the services' back (no version bump), so an answer
    that still shows the old title can only come from the cache."""
    with app.app_context():
        db.session.execute(
            update(Package).where(Package.id == package_id).values(title=title)
        )
        db.session.commit()


@pytest.mark.redis
def test_anonymous_package_reads_are_served_from_redis(
    app, client, actors, redis_cache
):
    package = published(client, actors)
    for path in (URL, f"{URL}/{package['id']}"):
        first = client.get(path)
        assert first.status_code == 200
        stored = catalogue_cache.key(first.headers["ETag"])
        assert redis_cache.get(stored) == first.get_data()
        assert 0 < redis_cache.ttl(stored) <= app.config["CATALOGUE_CACHE_TTL"]
    rename_without_bump(app, package["id"], "Changed behind the cache")
    for path in (URL, f"{URL}/{package['id']}"):
        hit = client.get(path)
        assert hit.status_code == 200
        assert "Changed behind the cache" not in hit.get_data(as_text=True)
        assert hit.headers["Cache-Control"] == "public, max-age=60"
    fresh = client.get(f"{URL}/{package['id']}", headers=actors.headers("operation"))
    assert fresh.get_json()["title"] == "Changed behind the cache"


@pytest.mark.redis
def test_a_version_bump_invalidates_the_redis_cache(app, client, actors, redis_cache):
    package = published(client, actors)
    before = client.get(URL)
    assert [item["id"] for item in before.get_json()["items"]] == [package["id"]]
    edited = client.patch(
        f"{URL}/{package['id']}",
        json={"title": "Back to review"},
        headers=actors.headers("operation"),
    )
    assert edited.status_code == 200
    after = client.get(URL)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.get_json()["items"] == []  # hidden until approved again
    assert len(cached_keys(redis_cache)) == 2


@pytest.mark.redis
def test_personal_staff_and_seat_answers_never_reach_redis(
    app, client, actors, redis_cache
):
    package = published(client, actors)
    add_departure(client, actors, package["id"])
    for role in ("operation", "customer"):
        assert client.get(URL, headers=actors.headers(role)).status_code == 200
    assert client.get(f"{URL}/{package['id']}/departures").status_code == 200
    assert client.get("/api/v1/auth/me", headers=actors.headers("customer"))
    assert cached_keys(redis_cache) == set()


def test_an_unreachable_redis_only_costs_the_cache(app, client, actors, monkeypatch):
    monkeypatch.setitem(app.config, "CATALOGUE_CACHE_URL", "redis://127.0.0.1:1/0")
    package = published(client, actors)
    response = client.get(URL)
    assert response.status_code == 200
    assert [item["id"] for item in response.get_json()["items"]] == [package["id"]]
