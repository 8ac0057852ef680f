"""The signed barcode of a ticket (docs/transport.md "Tickets and boarding").

A barcode is `ET1.<payload>.<signature>`: `payload` the base64url (RFC 4648 §5, no
padding) of compact JSON `{"n": number, "t": trip id, "f": from stop sequence, "o":
to stop sequence, "s": section code, "st": seat label or null, "p": passenger
name}`, `signature` the base64url of the Ed25519 signature (RFC 8032) of the ASCII
text before the second dot (`ET1.<payload>`). A scanner holding the public key
(`public_key()`, served at GET /api/v1/transport/ticket-key) verifies it offline;
boarding verifies it again and checks the ticket against the database.

The key: TICKET_SIGNING_KEY, the base64url of a 32-byte Ed25519 private seed. When
it is unset the seed is derived from SECRET_KEY (SHA-256 of
`easytravels-ticket-key:` + SECRET_KEY), so development and tests need no setting
and production, which refuses a default SECRET_KEY, never signs with a public key.
Ed25519 signatures are deterministic: a ticket's barcode is the same text on every
read, so it is computed, never stored.
"""

import base64
import binascii
import hashlib
import json
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app

from core.errors import APIError
from core.i18n import _

VERSION = "ET1"
ALGORITHM = "Ed25519"
SEED_BYTES = 32
DERIVATION_PREFIX = b"easytravels-ticket-key:"
# The payload's keys and what each holds (published with the key).
PAYLOAD_FIELDS = {
    "n": "ticket number",
    "t": "trip id",
    "f": "stop sequence boarded (0 = first stop)",
    "o": "stop sequence left",
    "s": "vehicle section code",
    "st": "seat label (null: an infant without a seat)",
    "p": "passenger name",
}
FORMAT = (
    "ET1.<base64url(payload)>.<base64url(signature)>, base64url without padding; "
    "payload: compact UTF-8 JSON with the keys of `fields`; signature: Ed25519 over "
    "the ASCII text before the second dot"
)
# The longest barcode text looked at (a real one is under 400 characters).
MAX_LENGTH = 2048


class BarcodeInvalid(APIError):
    """422 `barcode-invalid`: the text is not a barcode of ours, or its signature
    does not verify with the current key; `errors: {"barcode": [reason]}`."""

    def __init__(self, reason: str):
        super().__init__(
            422,
            _("The barcode is not a valid ticket barcode."),
            code="barcode-invalid",
            extra={"errors": {"barcode": [reason]}},
        )


def _b64encode(data: bytes) -> str:
    """base64url of `data` without `=` padding (RFC 4648 §5, RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """The bytes of unpadded base64url `text`; ValueError for other characters."""
    if not text or "=" in text or text.strip() != text:
        raise ValueError("not base64url")
    try:
        return base64.b64decode(
            text + "=" * (-len(text) % 4), altchars=b"-_", validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def _seed() -> bytes:
    """The 32-byte private seed: TICKET_SIGNING_KEY decoded, else derived from
    SECRET_KEY. RuntimeError when TICKET_SIGNING_KEY is set but not the base64url
    of 32 bytes (a configuration mistake must not pass silently)."""
    configured = current_app.config.get("TICKET_SIGNING_KEY") or ""
    if not configured:
        secret = current_app.config["SECRET_KEY"]
        return hashlib.sha256(DERIVATION_PREFIX + secret.encode()).digest()
    try:
        seed = _b64decode(configured.strip())
    except ValueError:
        seed = b""
    if len(seed) != SEED_BYTES:
        raise RuntimeError(
            "TICKET_SIGNING_KEY must be the base64url of a 32-byte Ed25519 seed "
            "(docs/configuration.md)."
        )
    return seed


@lru_cache(maxsize=4)
def _keys(seed: bytes) -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    """The key pair of `seed` (cached: the seed rarely changes in a process)."""
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return private, private.public_key()


def _raw_public(public: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key (RFC 8032 encoding)."""
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def payload(ticket) -> dict:
    """What a ticket's barcode signs: number, trip, stop sequences boarded and
    left, section, seat, passenger name (module docstring for the keys)."""
    booking = ticket.booking
    return {
        "n": ticket.number,
        "t": ticket.trip_id,
        "f": booking.from_sequence,
        "o": booking.to_sequence,
        "s": booking.section_code,
        "st": ticket.traveller.seat_label,
        "p": ticket.traveller.name,
    }


def sign(data: dict) -> str:
    """The barcode text of payload `data` signed with the current key."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    signing_input = f"{VERSION}.{_b64encode(body)}"
    private, _public = _keys(_seed())
    return f"{signing_input}.{_b64encode(private.sign(signing_input.encode()))}"


def barcode(ticket) -> str:
    """The signed barcode text of `ticket` (`ET1.<payload>.<signature>`); the same
    text every time, as Ed25519 signatures are deterministic."""
    return sign(payload(ticket))


def verify(text: str) -> dict:
    """The payload of barcode `text` once its signature verifies with the current
    key: `{n, t, f, o, s, st, p}`.

    Raises BarcodeInvalid (422 `barcode-invalid`, `errors.barcode`) for text that
    is not `ET1.<payload>.<signature>` in base64url, a signature that does not
    verify (forged or changed payload, another key) or a payload that is not the
    expected JSON object."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise BarcodeInvalid(_("Not a ticket barcode."))
    parts = text.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise BarcodeInvalid(
            _(
                "Not a ticket barcode: expected %(version)s.<...>.<...>.",
                version=VERSION,
            )
        )
    try:
        body, signature = _b64decode(parts[1]), _b64decode(parts[2])
    except ValueError as exc:
        raise BarcodeInvalid(_("The barcode is not base64url text.")) from exc
    _private, public = _keys(_seed())
    try:
        public.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature as exc:
        raise BarcodeInvalid(
            _("The signature does not match: forged or changed.")
        ) from exc
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise BarcodeInvalid(_("The payload is not JSON.")) from exc
    if not isinstance(data, dict) or set(data) != set(PAYLOAD_FIELDS):
        raise BarcodeInvalid(_("The payload does not have the ticket fields."))
    return data


def public_key() -> dict:
    """The published verification key: `{algorithm: "Ed25519", key (base64url of
    the 32 raw bytes), key_id (first 16 hex digits of the key's SHA-256), format,
    fields}` (GET /api/v1/transport/ticket-key)."""
    _private, public = _keys(_seed())
    raw = _raw_public(public)
    return {
        "algorithm": ALGORITHM,
        "key": _b64encode(raw),
        "key_id": hashlib.sha256(raw).hexdigest()[:16],
        "format": FORMAT,
        "fields": dict(PAYLOAD_FIELDS),
    }
