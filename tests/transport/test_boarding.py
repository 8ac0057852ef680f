"""Boarding by barcode (once; forged, cancelled, wrong trip or station refused),
the trip manifest in JSON and CSV, and no-shows after departure, by role and
company (docs/transport.md "Tickets and boarding")."""

import base64
import csv
import io
import json
import threading
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from core.extensions import db
from models import (
    AuditEntry,
    Booking,
    OutboxMessage,
    StopTime,
    Ticket,
    Traveller,
    Trip,
    WebhookEndpoint,
)
from models.base import utcnow
from tests.factories import assert_problem
from tests.transport.conftest import (
    TRANSPORT,
    book_trip_in_db,
    make_line,
    operator_of,
)

BOARDING = f"{TRANSPORT}/boarding"


def b64url(data: bytes) -> str:
    """Unpadded base64url of `data`."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def numbers_of(app, booking_id) -> list[str]:
    """The ticket numbers of a booking in passenger order."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(Ticket.number)
                .where(Ticket.booking_id == booking_id)
                .order_by(Ticket.traveller_id)
            )
        )


def barcode_of(client, actors, number) -> str:
    """The barcode a ticket answers with (read as admin)."""
    response = client.get(f"/api/v1/tickets/{number}", headers=actors.headers("admin"))
    assert response.status_code == 200
    return response.get_json()["barcode"]


def ticket_row(app, number) -> Ticket:
    """The stored ticket `number`, detached."""
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        db.session.expunge(ticket)
        return ticket


def set_status(app, number, status) -> None:
    """Store `status` on ticket `number`."""
    with app.app_context():
        db.session.execute(
            update(Ticket).where(Ticket.number == number).values(status=status)
        )
        db.session.commit()


def shift_trip(app, trip_id, delta: timedelta) -> None:
    """Move every UTC instant of the trip by `delta` (its local texts stay)."""
    with app.app_context():
        trip = db.session.get(Trip, trip_id)
        trip.departure_at += delta
        trip.arrival_at += delta
        for stop in trip.stop_times:
            stop.arrival_at += delta
            stop.departure_at += delta
        db.session.commit()


def start_trip_at(app, trip_id, sequence: int) -> None:
    """Shift the trip so that stop `sequence` departed a minute ago and the next
    stop's departure is still ahead."""
    with app.app_context():
        departure = db.session.scalar(
            select(StopTime.departure_at).where(
                StopTime.trip_id == trip_id, StopTime.sequence == sequence
            )
        )
        delta = utcnow() - timedelta(minutes=1) - departure
    shift_trip(app, trip_id, delta)


@pytest.fixture
def world(app, actors):
    """A line A -> B -> C with one booking A -> C of seats 1A and 1B for a
    customer, and the company's operator."""
    line = make_line(app)
    customer = actors.customer()
    booking_id = book_trip_in_db(
        app, line["trip_id"], customer["id"], seats=("1A", "1B")
    )
    return {
        **line,
        "customer": customer,
        "booking_id": booking_id,
        "numbers": numbers_of(app, booking_id),
        "operator": operator_of(actors, line["company_id"]),
    }


def test_boarding_twice_is_200_then_409_with_the_time(app, client, actors, world):
    number = world["numbers"][0]
    code = barcode_of(client, actors, number)
    headers = world["operator"]["headers"]

    first = client.post(BOARDING, json={"barcode": code}, headers=headers)
    second = client.post(BOARDING, json={"barcode": code}, headers=headers)

    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert (body["number"], body["status"]) == (number, "boarded")
    assert body["boarded_at"]
    problem = assert_problem(second, 409)
    assert problem["type"] == "/problems/already-boarded"
    assert problem["boarded_at"][:19] == body["boarded_at"][:19]
    stored = ticket_row(app, number)
    assert stored.boarded_by_id == world["operator"]["id"]
    assert stored.boarded_station_id == world["station_ids"][0]
    assert ticket_row(app, world["numbers"][1]).status == "valid"
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "ticket.boarded")
        ).all()
        assert [(e.entity_type, e.details["number"]) for e in entries] == [
            ("transport_ticket", number)
        ]


def test_boarding_sends_the_ticket_boarded_webhook_once(app, client, actors, world):
    with app.app_context():
        db.session.add(
            WebhookEndpoint(
                url="https://partner.example/hooks",
                event_types=["ticket.boarded"],
                secret="whsec_dGVzdA==",
                active=True,
            )
        )
        db.session.commit()
    code = barcode_of(client, actors, world["numbers"][0])
    for _ in range(2):
        client.post(BOARDING, json={"barcode": code}, headers=actors.headers("admin"))

    with app.app_context():
        payloads = db.session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.topic == "ticket.boarded")
        ).all()
    assert len(payloads) == 1
    assert payloads[0]["data"]["type"] == "ticket"
    shown = client.get(payloads[0]["data"]["url"], headers=actors.headers("admin"))
    assert shown.get_json()["number"] == world["numbers"][0]


def test_boarding_at_the_origin_of_the_given_trip(app, client, actors, world):
    code = barcode_of(client, actors, world["numbers"][0])
    a = world["station_ids"][0]

    response = client.post(
        f"{BOARDING}?station_id={a}",
        json={"barcode": code, "trip_id": world["trip_id"]},
        headers=actors.headers("operation_head"),
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "boarded"


def test_forged_barcodes_are_422(app, client, actors, world):
    number = world["numbers"][0]
    version, payload, signature = barcode_of(client, actors, number).split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    changed = b64url(json.dumps({**data, "st": "9Z"}, separators=(",", ":")).encode())
    other_key = Ed25519PrivateKey.generate()
    resigned = b64url(other_key.sign(f"{version}.{changed}".encode()))
    forged = [
        f"{version}.{changed}.{signature}",  # payload changed, signature kept
        f"{version}.{changed}.{resigned}",  # signed with another key
        f"ET2.{payload}.{signature}",  # another format
        f"{version}.{payload}",  # no signature
        f"{version}.{payload}.***",  # not base64url
        "hello",
    ]

    for code in forged:
        response = client.post(
            BOARDING, json={"barcode": code}, headers=actors.headers("admin")
        )
        problem = assert_problem(response, 422)
        assert problem["type"] == "/problems/barcode-invalid", code
        assert "barcode" in problem["errors"]
    assert ticket_row(app, number).status == "valid"


@pytest.mark.parametrize(
    ("status", "code"),
    [("cancelled", "ticket-cancelled"), ("no_show", "ticket-not-valid")],
)
def test_a_ticket_not_valid_is_422(app, client, actors, world, status, code):
    number = world["numbers"][0]
    barcode = barcode_of(client, actors, number)
    set_status(app, number, status)

    response = client.post(
        BOARDING, json={"barcode": barcode}, headers=world["operator"]["headers"]
    )

    problem = assert_problem(response, 422)
    assert problem["type"] == f"/problems/{code}"
    assert problem["number"] == number
    assert ticket_row(app, number).status == status


def test_a_valid_ticket_of_a_cancelled_booking_is_422(app, client, actors, world):
    number = world["numbers"][0]
    barcode = barcode_of(client, actors, number)
    with app.app_context():
        db.session.execute(
            update(Booking)
            .where(Booking.id == world["booking_id"])
            .values(status="cancelled")
        )
        db.session.commit()

    response = client.post(
        BOARDING, json={"barcode": barcode}, headers=world["operator"]["headers"]
    )

    assert assert_problem(response, 422)["type"] == "/problems/ticket-cancelled"
    assert ticket_row(app, number).status == "valid"


def test_wrong_trip_and_wrong_station_are_422(app, client, actors, world):
    number = world["numbers"][0]
    code = barcode_of(client, actors, number)
    headers = world["operator"]["headers"]
    b = world["station_ids"][1]

    wrong_trip = client.post(
        BOARDING,
        json={"barcode": code, "trip_id": world["trip_id"] + 1000},
        headers=headers,
    )
    wrong_station = client.post(
        f"{BOARDING}?station_id={b}", json={"barcode": code}, headers=headers
    )

    assert assert_problem(wrong_trip, 422)["type"] == "/problems/wrong-trip"
    problem = assert_problem(wrong_station, 422)
    assert problem["type"] == "/problems/wrong-station"
    assert "station_id" in problem["errors"]
    assert ticket_row(app, number).status == "valid"


@pytest.mark.postgres
def test_two_scanners_at_once_board_the_ticket_once(app, client, actors, world):
    number = world["numbers"][0]
    code = barcode_of(client, actors, number)
    headers = world["operator"]["headers"]
    barrier, codes = threading.Barrier(6), []

    def scan():
        local = app.test_client()
        barrier.wait()
        codes.append(
            local.post(BOARDING, json={"barcode": code}, headers=headers).status_code
        )

    threads = [threading.Thread(target=scan) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes) == [200, 409, 409, 409, 409, 409]
    with app.app_context():
        assert (
            db.session.scalar(
                select(db.func.count(AuditEntry.id)).where(
                    AuditEntry.action == "ticket.boarded"
                )
            )
            == 1
        )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("other_operator", 404),
        ("customer", 403),
        ("sales", 403),
        ("finance", 403),
        ("anonymous", 401),
        ("admin", 200),
        ("operation", 200),
    ],
)
def test_who_boards(app, client, actors, world, who, status):
    code = barcode_of(client, actors, world["numbers"][0])
    headers = (
        operator_of(actors, make_line(app)["company_id"])["headers"]
        if who == "other_operator"
        else actors.headers(who)
    )

    response = client.post(BOARDING, json={"barcode": code}, headers=headers)

    if status == 200:
        assert response.status_code == 200
    else:
        assert_problem(response, status)
        assert ticket_row(app, world["numbers"][0]).status == "valid"


def manifest_world(app, world) -> dict:
    """Beside the A -> C booking (1A, 1B): A -> B on 2A, B -> C on 2A again (the
    seat is free after B), and a cancelled A -> C booking on 2B. Returns the
    ticket numbers by name."""
    trip = world["trip_id"]
    customer = world["customer"]["id"]
    ab = book_trip_in_db(app, trip, customer, from_seq=0, to_seq=1, seats=("2A",))
    bc = book_trip_in_db(app, trip, customer, from_seq=1, to_seq=2, seats=("2A",))
    gone = book_trip_in_db(app, trip, customer, seats=("2B",))
    (cancelled,) = numbers_of(app, gone)
    set_status(app, cancelled, "cancelled")
    one_a, one_b = world["numbers"]
    return {
        "1A": one_a,
        "1B": one_b,
        "AB": numbers_of(app, ab)[0],
        "BC": numbers_of(app, bc)[0],
        "cancelled": cancelled,
    }


def test_manifest_lists_who_boards_and_alights_per_stop(app, client, world):
    n = manifest_world(app, world)
    set_status(app, n["1B"], "boarded")

    response = client.get(
        f"{TRANSPORT}/trips/{world['trip_id']}/manifest",
        headers=world["operator"]["headers"],
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["trip_id"] == world["trip_id"]
    stops = body["stops"]
    assert [s["sequence"] for s in stops] == [0, 1, 2]
    assert [s["station_id"] for s in stops] == world["station_ids"]
    assert stops[0]["departure_local"][11:16] == "08:00"
    assert stops[1]["departure_local"][11:16] == "10:10"

    def numbers(stop, key):
        return sorted(line["number"] for line in stop[key])

    assert numbers(stops[0], "boarding") == sorted([n["1A"], n["1B"], n["AB"]])
    assert numbers(stops[0], "alighting") == []
    assert numbers(stops[1], "alighting") == [n["AB"]]
    assert numbers(stops[1], "boarding") == [n["BC"]]
    assert numbers(stops[2], "alighting") == sorted([n["1A"], n["1B"], n["BC"]])
    assert numbers(stops[2], "boarding") == []
    line = next(x for x in stops[0]["boarding"] if x["number"] == n["1B"])
    assert line["seat_label"] == "1B"
    assert line["section_code"] == "economy"
    assert line["category"] == "adult"
    assert line["status"] == "boarded"
    assert line["to_station_code"] == stops[2]["code"]
    assert body["counts"] == {"valid": 3, "boarded": 1}


def test_manifest_as_csv(app, client, actors, world):
    n = manifest_world(app, world)

    response = client.get(
        f"{TRANSPORT}/trips/{world['trip_id']}/manifest?format=csv",
        headers=actors.headers("operation"),
    )

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2 * 4  # four tickets not cancelled, boarding and alighting
    assert n["cancelled"] not in {row["number"] for row in rows}
    assert [(r["sequence"], r["event"]) for r in rows[:3]] == [("0", "board")] * 3
    assert (rows[3]["sequence"], rows[3]["event"], rows[3]["number"]) == (
        "1",
        "alight",
        n["AB"],
    )
    assert (rows[4]["event"], rows[4]["number"], rows[4]["seat_label"]) == (
        "board",
        n["BC"],
        "2A",
    )
    assert {r["passenger_name"] for r in rows} == passenger_names(app, world["trip_id"])


def passenger_names(app, trip_id) -> set[str]:
    """Names of the passengers with a ticket not cancelled on the trip."""
    with app.app_context():
        return set(
            db.session.scalars(
                select(Traveller.name)
                .join(Ticket, Ticket.traveller_id == Traveller.id)
                .where(Ticket.trip_id == trip_id, Ticket.status != "cancelled")
            )
        )


@pytest.mark.parametrize(
    ("who", "status"),
    [("other_operator", 404), ("customer", 403), ("hr", 403), ("anonymous", 401)],
)
def test_manifest_readers(app, client, actors, world, who, status):
    headers = (
        operator_of(actors, make_line(app)["company_id"])["headers"]
        if who == "other_operator"
        else actors.headers(who)
    )

    response = client.get(
        f"{TRANSPORT}/trips/{world['trip_id']}/manifest", headers=headers
    )

    assert_problem(response, status)


def test_no_shows_before_departure_are_409(app, client, world):
    response = client.post(
        f"{TRANSPORT}/trips/{world['trip_id']}/no-shows",
        headers=world["operator"]["headers"],
    )

    problem = assert_problem(response, 409)
    assert problem["type"] == "/problems/trip-not-departed"
    assert problem["departure_at"]
    assert {ticket_row(app, n).status for n in world["numbers"]} == {"valid"}


def test_no_shows_mark_only_valid_tickets_once(app, client, actors, world):
    n = manifest_world(app, world)
    set_status(app, n["1A"], "boarded")
    shift_trip(app, world["trip_id"], timedelta(days=-40))
    url = f"{TRANSPORT}/trips/{world['trip_id']}/no-shows"

    first = client.post(url, headers=world["operator"]["headers"])
    second = client.post(url, headers=actors.headers("operation_head"))

    assert first.status_code == 200
    assert first.get_json() == {
        "trip_id": world["trip_id"],
        "marked": 3,
        "through_sequence": 2,
    }
    assert second.get_json()["marked"] == 0
    assert {k: ticket_row(app, v).status for k, v in n.items()} == {
        "1A": "boarded",
        "1B": "no_show",
        "AB": "no_show",
        "BC": "no_show",
        "cancelled": "cancelled",
    }
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "trip.no_shows_marked")
        ).all()
        assert [e.details["marked"] for e in entries] == [3]


def test_no_shows_wait_for_the_stop_where_the_passenger_boards(app, client, world):
    n = manifest_world(app, world)
    start_trip_at(app, world["trip_id"], 0)  # left A, not yet B

    response = client.post(
        f"{TRANSPORT}/trips/{world['trip_id']}/no-shows",
        headers=world["operator"]["headers"],
    )

    assert response.get_json()["marked"] == 3
    assert response.get_json()["through_sequence"] == 0
    assert ticket_row(app, n["BC"]).status == "valid"
    assert ticket_row(app, n["AB"]).status == "no_show"


def test_no_shows_by_another_company_operator_are_404(app, client, actors, world):
    shift_trip(app, world["trip_id"], timedelta(days=-40))
    stranger = operator_of(actors, make_line(app)["company_id"])

    response = client.post(
        f"{TRANSPORT}/trips/{world['trip_id']}/no-shows", headers=stranger["headers"]
    )

    assert_problem(response, 404)
    assert {ticket_row(app, n).status for n in world["numbers"]} == {"valid"}
