"""Outgoing SMS through Twilio's Messages API, or the log in development.

`SMS_PROVIDER` picks the way out: `twilio` sends with Twilio's Python library
(Programmable Messaging, "Message resource": `POST
/2010-04-01/Accounts/{AccountSid}/Messages.json` with `To`, `From`, `Body`, HTTP basic
auth with the account SID and auth token); `log` writes the message to the log (a
development aid, refused in production by config.ProductionConfig.validate_sms); empty
sends nothing and fails. Numbers are E.164 (ITU-T E.164, the format Twilio's `To`
requires), normalised with the `phonenumbers` library (Google's libphonenumber).
"""

import logging

import phonenumbers
from flask import current_app
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger("easytravels.sms")
# The development sink: like the mail sink, a logger whose messages are not
# redacted (observability.UNREDACTED_LOGGERS), so a developer can read the codes.
outbox_log = logging.getLogger("easytravels.sms.outbox")


class SmsError(Exception):
    """The SMS could not be handed to the provider (not configured, refused,
    unreachable or silent for SMS_TIMEOUT seconds)."""


def e164(phone: str | None, region: str) -> str | None:
    """`phone` as an E.164 string (`"+353871234567"`), or None when it is empty,
    unparseable or not a valid number. A national number (`"087 123 4567"`) is read
    in `region` (ISO 3166-1 alpha-2, e.g. "IE": DEFAULT_PHONE_REGION); one with a
    leading `+` or `00` carries its own country code."""
    if not phone or not phone.strip():
        return None
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def send_sms(to: str, body: str) -> None:
    """Send `body` (plain text, one SMS segment ideally: 160 GSM-7 characters) to
    `to` (E.164, see `e164`) through SMS_PROVIDER.

    `log`: the whole message is written to the log at INFO and nothing is sent.
    `twilio`: one message is created from TWILIO_FROM. Raises SmsError when no
    provider is configured, or when Twilio refuses, fails or does not answer.
    """
    provider = current_app.config.get("SMS_PROVIDER") or ""
    if provider == "log":
        outbox_log.info("sms (SMS_PROVIDER=log, not sent) to=%s\n%s", to, body)
        return
    if provider != "twilio":
        log.error("sms not sent: SMS_PROVIDER is %r", provider)
        raise SmsError(f"SMS_PROVIDER {provider!r} cannot send")
    _send_twilio(to, body)


def _twilio_client() -> Client:
    """A Twilio client from TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN, with a request
    timeout of SMS_TIMEOUT seconds, pointed at TWILIO_API_BASE when set.

    The environment mapping is explicit so that TWILIO_EDGE / TWILIO_REGION in the
    process environment cannot rewrite the host (the library turns them into
    `api.<edge>.<region>.twilio.com`, which would bypass a local base URL)."""
    cfg = current_app.config
    sid, token = cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"]
    client = Client(
        sid,
        token,
        http_client=TwilioHttpClient(timeout=float(cfg.get("SMS_TIMEOUT") or 10)),
        environment={"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token},
    )
    if cfg.get("TWILIO_API_BASE"):
        client.api.base_url = cfg["TWILIO_API_BASE"]
    return client


def _send_twilio(to: str, body: str) -> None:
    """Create one message with Twilio's Messages API; raises SmsError."""
    try:
        message = _twilio_client().messages.create(
            to=to, from_=current_app.config["TWILIO_FROM"], body=body
        )
    # requests' connection errors and timeouts are OSErrors (RequestException).
    except (TwilioException, OSError) as exc:
        log.warning("sms failed: %s", exc.__class__.__name__)
        raise SmsError(str(exc)) from exc
    log.info("sms queued: %s", message.sid)
