"""Languages (docs/i18n.md): the locale of a request (Accept-Language, or the
signed-in account's `locale`), Content-Language on every answer, problem texts in
the caller's language, and mail in the recipient's language.

German and Spanish assertions are marked `translated`: they need the compiled
catalogues (`make translations`).
"""

import time
from datetime import timedelta

import pytest

from core.extensions import db
from models import Booking
from services.messaging import notifications
from tests.core.conftest import assert_problem
from tests.factories import make_booking, make_departure, now

CUSTOMERS = "/api/v1/customers"
ME = "/api/v1/auth/me"


def _lang(client, accept: str | None, path="/health", headers=None):
    """The Content-Language of an answer to `path` with `accept`."""
    headers = dict(headers or {})
    if accept is not None:
        headers["Accept-Language"] = accept
    response = client.get(path, headers=headers)
    return response.headers.get("Content-Language")


@pytest.mark.parametrize(
    "accept,expected",
    [
        (None, "en"),
        ("de", "de"),
        ("de-AT,de;q=0.9", "de"),
        ("es-ES", "es"),
        ("fr", "en"),
        ("fr-FR,fr;q=0.9", "en"),
        ("fr;q=1.0, es;q=0.8, de;q=0.5", "es"),
        ("en;q=0.1, de;q=0.9", "de"),
        ("*", "en"),
    ],
)
def test_content_language_follows_accept_language(client, accept, expected):
    assert _lang(client, accept) == expected


def test_content_language_on_problems_and_vary(client):
    response = client.get("/api/v1/nowhere", headers={"Accept-Language": "es"})
    assert response.status_code == 404
    assert response.headers["Content-Language"] == "es"
    assert "Accept-Language" in response.headers["Vary"]


def test_signed_in_account_locale_wins_over_accept_language(client, actors):
    german = actors.customer(locale="de")
    assert _lang(client, "es", ME, german["headers"]) == "de"
    undecided = actors.employee("sales")  # locale null: Accept-Language decides
    assert _lang(client, "es", ME, undecided["headers"]) == "es"
    assert _lang(client, None, ME, undecided["headers"]) == "en"


def test_english_problem_texts_unchanged(client, actors):
    body = assert_problem(client.get("/api/v1/nowhere"), 404)
    assert body["title"] == "Not Found"
    body = assert_problem(client.get(ME), 401)
    assert body["title"] == "Unauthorized"
    assert body["detail"] == "A bearer access token is required."
    response = client.post(
        CUSTOMERS, json={"email": "not-an-email"}, headers=actors.headers("sales")
    )
    body = assert_problem(response, 422)
    assert body["title"] == "Unprocessable Content"
    assert body["errors"]["name"] == ["Missing data for required field."]
    assert body["errors"]["email"] == ["Not a valid email address."]
    body = assert_problem(
        client.get(f"{CUSTOMERS}/999999", headers=actors.headers("sales")), 404
    )
    assert body["detail"] == "Customer not found."


@pytest.mark.translated
@pytest.mark.parametrize(
    "language,not_found,unauthorized,unprocessable,missing,no_customer",
    [
        (
            "de",
            "Nicht gefunden",
            "Nicht autorisiert",
            "Nicht verarbeitbarer Inhalt",
            "Pflichtfeld fehlt.",
            "Kunde nicht gefunden.",
        ),
        (
            "es",
            "No encontrado",
            "No autorizado",
            "Contenido no procesable",
            "Falta un dato obligatorio.",
            "No se ha encontrado: Cliente.",
        ),
    ],
)
def test_problem_titles_and_messages_translated(
    client,
    actors,
    language,
    not_found,
    unauthorized,
    unprocessable,
    missing,
    no_customer,
):
    lang = {"Accept-Language": language}
    body = assert_problem(client.get("/api/v1/nowhere", headers=lang), 404)
    assert body["title"] == not_found
    assert body["type"] == "about:blank"
    body = assert_problem(client.get(ME, headers=lang), 401)
    assert body["title"] == unauthorized
    assert body["type"] == "/problems/unauthorized"
    assert body["detail"] != "A bearer access token is required."
    staff = {**actors.headers("sales"), **lang}
    body = assert_problem(
        client.post(CUSTOMERS, json={"email": "x@example.test"}, headers=staff), 422
    )
    assert body["title"] == unprocessable
    assert body["type"] == "/problems/validation-error"
    assert body["errors"]["name"] == [missing]
    body = assert_problem(client.get(f"{CUSTOMERS}/999999", headers=staff), 404)
    assert body["detail"] == no_customer
    assert body["type"] == "/problems/not-found"


@pytest.mark.translated
def test_parametrised_validation_message_translated(client, actors):
    headers = {**actors.headers("sales"), "Accept-Language": "de"}
    body = assert_problem(
        client.post(
            CUSTOMERS,
            json={"name": "Ada", "email": "ada@example.test", "locale": "fr"},
            headers=headers,
        ),
        422,
    )
    [message] = body["errors"]["locale"]
    assert message == "Muss einer der folgenden Werte sein: en, de, es."


def _mails_to(mailbox, address, wait=10.0):
    """The mail to `address`, waiting for a code sent from a background thread
    (services.accounts.accounts.request_code_by_email) on a loaded machine."""
    deadline = time.monotonic() + wait
    while not (mails := mailbox.to(address)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return mails


def _held_booking(app, locale):
    """A German- (or other-) speaking customer's held booking of 1234.50 EUR."""
    with app.app_context():
        from models import Customer

        customer = Customer(
            name="Greta Berg",
            email=f"greta.{locale}@example.test",
            locale=locale,
        )
        db.session.add(customer)
        db.session.commit()
        customer_id = customer.id
    dep = make_departure(app, price="1234.50", title="Alpine Lakes")
    return make_booking(
        app,
        departure_id=dep,
        customer_id=customer_id,
        price="1234.50",
        hold_expires_at=now() + timedelta(minutes=30),
    )


def _mail_held(app, booking_id):
    with app.app_context():
        notifications.booking_held(db.session.get(Booking, booking_id))
        db.session.commit()


def test_booking_mail_in_english_by_default(app, mailbox):
    booking_id = _held_booking(app, None)
    _mail_held(app, booking_id)
    [mail] = mailbox.to("greta.None@example.test")
    assert "seats held until" in mail["Subject"] and "UTC" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert text.startswith("Hello Greta Berg,")
    assert "Total 1234.50 EUR" in text


@pytest.mark.translated
def test_booking_mail_in_german(app, mailbox):
    booking_id = _held_booking(app, "de")
    _mail_held(app, booking_id)
    [mail] = mailbox.to("greta.de@example.test")
    assert mail["Subject"].startswith("Buchung ")
    assert "reserviert bis" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert text.startswith("Hallo Greta Berg,")
    assert "1234,50 EUR" in text


@pytest.mark.translated
def test_otp_mail_in_spanish(client, actors, mailbox):
    me = actors.customer(locale="es")
    response = client.post(
        "/api/v1/auth/password/forgot",
        json={"email": me["email"], "account": "customer"},
        headers={"Accept-Language": "de"},  # the account's locale wins
    )
    assert response.status_code == 202
    assert response.headers["Content-Language"] == "de"
    [mail] = _mails_to(mailbox, me["email"])
    assert mail["Subject"] == "Su código de Easy Travels para restablecer la contraseña"
    text = mail.get_body(("plain",)).get_content()
    assert text.startswith("Hola, Customer")
    assert "Su código es " in text and "minutos" in text


@pytest.mark.translated
def test_otp_mail_to_unknown_locale_follows_request(client, actors, mailbox):
    me = actors.customer()  # locale null: the request's language
    response = client.post(
        "/api/v1/auth/password/forgot",
        json={"email": me["email"], "account": "customer"},
        headers={"Accept-Language": "es"},
    )
    assert response.status_code == 202
    assert response.get_json()["detail"] == (
        "Si la cuenta existe, se le ha enviado un código por correo."
    )
    [mail] = _mails_to(mailbox, me["email"])
    assert "Su código es " in mail.get_body(("plain",)).get_content()


@pytest.mark.translated
def test_service_detail_in_the_account_language(client, actors, app):
    dep = make_departure(app, status="cancelled")
    me = actors.customer(locale="de")
    response = client.post(
        "/api/v1/bookings",
        json={"departure_id": dep, "seats": 1},
        headers={**me["headers"], "Accept-Language": "es"},
    )
    body = assert_problem(response, 409)
    assert body["type"] == "/problems/departure-cancelled"  # codes never change
    assert (body["title"], body["detail"]) == ("Konflikt", "Die Abreise ist abgesagt.")
    staff = {**actors.headers("sales"), "Accept-Language": "es"}
    response = client.post(
        "/api/v1/bookings", json={"departure_id": dep, "seats": 1}, headers=staff
    )
    body = assert_problem(response, 422)
    assert body["errors"]["customer_id"] == [
        "El personal debe indicar el cliente para el que reserva."
    ]
