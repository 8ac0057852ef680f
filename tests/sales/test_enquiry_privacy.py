"""Duplicate hints are for staff only (docs/security.md "Duplicate hints are for
staff only"): a customer who sets their phone to someone else's number and raises
an enquiry must not read that person's contact data in the answer, while staff
raising an enquiry for the same customer still see the look-alike."""

import pytest

from tests.factories import API, raise_enquiry

URL = f"{API}/enquiries"
VICTIM_PHONE = "+44 20 7946 0958"


def victim_and_attacker(actors) -> tuple[dict, dict]:
    """A customer with VICTIM_PHONE and a name and email of their own, and a
    customer without a phone."""
    victim = actors.customer(
        name="Victoria Target", email="victoria.target@example.test", phone=VICTIM_PHONE
    )
    attacker = actors.customer(name="Mallory", phone=None)
    return victim, attacker


def take_phone(client, attacker: dict, phone: str) -> None:
    """The attacker sets their own phone (a customer may edit their contact data)."""
    response = client.patch(
        f"{API}/customers/{attacker['id']}",
        json={"phone": phone},
        headers=attacker["headers"],
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["phone"] == phone


@pytest.mark.parametrize(
    "phone",
    [VICTIM_PHONE, "020-7946-0958", "0044 (20) 7946 0958"],
    ids=["same", "national", "international"],
)
def test_customer_enquiry_never_reveals_duplicates(client, actors, phone):
    victim, attacker = victim_and_attacker(actors)
    take_phone(client, attacker, phone)

    response = client.post(
        URL,
        json={"subject": "Lisbon", "message": "Any dates in May?"},
        headers=attacker["headers"],
    )

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["customer_id"] == attacker["id"]
    assert "duplicates" not in body
    text = response.get_data(as_text=True)
    assert victim["email"] not in text
    assert "Victoria Target" not in text
    assert VICTIM_PHONE not in text


def test_customer_reads_of_the_enquiry_have_no_duplicates(client, actors):
    victim, attacker = victim_and_attacker(actors)
    take_phone(client, attacker, "020-7946-0958")
    created = client.post(
        URL,
        json={"subject": "Lisbon", "message": "Any dates in May?"},
        headers=attacker["headers"],
    ).get_json()

    for response in (
        client.get(f"{URL}/{created['id']}", headers=attacker["headers"]),
        client.get(URL, headers=attacker["headers"]),
    ):
        assert response.status_code == 200
        assert "duplicates" not in response.get_data(as_text=True)
        assert victim["email"] not in response.get_data(as_text=True)


def test_staff_enquiry_for_the_customer_still_shows_the_duplicate(client, actors):
    victim, attacker = victim_and_attacker(actors)
    take_phone(client, attacker, "020-7946-0958")

    enquiry = raise_enquiry(client, actors, attacker["id"])

    assert [(d["id"], d["email"], d["matched_on"]) for d in enquiry["duplicates"]] == [
        (victim["id"], victim["email"], ["phone"])
    ]


def test_staff_enquiry_without_look_alikes_has_an_empty_hint(client, actors):
    _victim, attacker = victim_and_attacker(actors)

    enquiry = raise_enquiry(client, actors, attacker["id"])

    assert enquiry["duplicates"] == []


def test_customer_self_registration_never_reveals_duplicates(client, actors):
    victim, _attacker = victim_and_attacker(actors)

    response = client.post(
        f"{API}/auth/register",
        json={
            "name": "Mallory Two",
            "email": "mallory.two@example.test",
            "phone": "020-7946-0958",
            "password": "a-longer-passphrase-42",
        },
    )

    assert response.status_code == 201, response.get_json()
    assert "duplicates" not in response.get_json()
    assert victim["email"] not in response.get_data(as_text=True)
