"""A local HTTP server speaking the part of Twilio's REST API that sending an SMS
uses, for development and the tests (never a mocked library).

    python scripts/twilio_server.py [--port 8426] [--sid AC...] [--token T]

serves `POST /2010-04-01/Accounts/{sid}/Messages.json` (form fields `To`, `From`,
`Body`; HTTP basic auth `sid:token`, 401 otherwise; 400 without `To`, `From` or
`Body`) and answers 201 with a Message resource as Twilio does (`sid`, `status`
"queued", `date_created` in RFC 2822, `to`, `from`, `body`, ...), the shapes of
Twilio's "Message resource" reference. It keeps every message it accepted:
`GET /_messages` lists them (newest last), `DELETE /_messages` forgets them, and
`POST /_fail?status=500` makes every send fail with that status until
`POST /_fail?status=0`. It prints the settings that point the service at it
(SMS_PROVIDER=twilio, TWILIO_*), then stays in the foreground until interrupted.
Tests import `LocalTwilio` directly (tests/twilio_support.py).
"""

import argparse
import base64
import json
import secrets
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API_VERSION = "2010-04-01"
DEFAULT_SID = "AC" + "0" * 31 + "1"
DEFAULT_TOKEN = "local-twilio-auth-token"
DEFAULT_FROM = "+15005550006"  # Twilio's test "From" number that always works
DEFAULT_PORT = 8426


class LocalTwilio:
    """A ThreadingHTTPServer on 127.0.0.1:`port` (a free one by default) that accepts
    messages for one account (`sid`, `token`); `messages` holds what it accepted
    (dicts as it answered them), `requests` every Messages.json POST it got (with
    the `auth` pair it carried), `fail_status` (0 = off) fails every send."""

    def __init__(
        self, port: int = 0, sid: str = DEFAULT_SID, token: str = DEFAULT_TOKEN
    ):
        self.sid = sid
        self.token = token
        self.messages: list[dict] = []
        self.requests: list[dict] = []
        self.fail_status = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "LocalTwilio":
        """Serve from a daemon thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        """Forget every message and request; stop failing."""
        with self.lock:
            self.messages.clear()
            self.requests.clear()
            self.fail_status = 0

    def accept(self, path: str, auth: tuple[str, str] | None, form: dict) -> tuple:
        """The (status, JSON body) Twilio would answer to a Messages.json POST."""
        with self.lock:
            self.requests.append({"path": path, "auth": auth, "form": form})
        if auth != (self.sid, self.token) or path != _messages_path(self.sid):
            return 401, _error(401, 20003, "Authentication Error - invalid username")
        if self.fail_status:
            return self.fail_status, _error(self.fail_status, 20500, "Internal error")
        missing = [name for name in ("To", "From", "Body") if not form.get(name)]
        if missing:
            return 400, _error(400, 21604, f"A '{missing[0]}' parameter is required.")
        message = self._message(form)
        with self.lock:
            self.messages.append(message)
        return 201, message

    def _message(self, form: dict) -> dict:
        """A Message resource for the accepted form, as Twilio shapes it."""
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC), usegmt=False)
        return {
            "sid": sid,
            "account_sid": self.sid,
            "api_version": API_VERSION,
            "to": form["To"],
            "from": form["From"],
            "body": form["Body"],
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "messaging_service_sid": None,
            "uri": f"{_messages_path(self.sid)[:-5]}/{sid}.json",
            "subresource_uris": {},
        }


def _messages_path(sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{sid}/Messages.json"


def _error(status: int, code: int, message: str) -> dict:
    """Twilio's error body."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    """The (user, password) of an `Authorization: Basic ...` header, else None."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _handler(twilio: LocalTwilio):
    """The request handler class bound to `twilio`."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, payload) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # http.server's hook name
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            if url.path == "/_fail":
                twilio.fail_status = int(parse_qs(url.query).get("status", ["0"])[0])
                return self._answer(200, {"fail_status": twilio.fail_status})
            form = {key: values[-1] for key, values in parse_qs(raw).items()}
            auth = _basic_auth(self.headers.get("Authorization"))
            return self._answer(*twilio.accept(url.path, auth, form))

        def do_GET(self):  # http.server's hook name
            if urlsplit(self.path).path != "/_messages":
                return self._answer(404, _error(404, 20404, "Not found"))
            with twilio.lock:
                return self._answer(200, list(twilio.messages))

        def do_DELETE(self):  # http.server's hook name
            if urlsplit(self.path).path != "/_messages":
                return self._answer(404, _error(404, 20404, "Not found"))
            twilio.reset()
            self.send_response(204)
            self.end_headers()
            return None

        def log_message(self, *args):
            pass

    return Handler


def main() -> None:
    """Serve until interrupted, after printing the settings that use it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--sid", default=DEFAULT_SID)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args()
    server = LocalTwilio(args.port, args.sid, args.token)
    print(
        f"SMS_PROVIDER=twilio TWILIO_API_BASE={server.base_url} "
        f"TWILIO_ACCOUNT_SID={args.sid} TWILIO_AUTH_TOKEN={args.token} "
        f"TWILIO_FROM={DEFAULT_FROM}",
        flush=True,
    )
    try:
        server.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()


if __name__ == "__main__":
    main()
