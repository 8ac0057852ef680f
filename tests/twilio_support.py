"""The local Twilio-compatible SMS server of the tests (scripts/twilio_server.py,
a real HTTP server speaking Twilio's Messages API, never a mocked library) and what
the SMS tests read from it.

`SmsServer.config()` is the app configuration that sends through it; the
`sms_server` fixture (tests/conftest.py) applies it for one test.
"""

import re

from scripts.twilio_server import LocalTwilio

ACCOUNT_SID = "AC" + "e" * 32
AUTH_TOKEN = "twilio-test-auth-token"
FROM = "+15005550006"


class SmsServer(LocalTwilio):
    """A LocalTwilio for the test account, with readers for the tests."""

    def __init__(self):
        super().__init__(0, ACCOUNT_SID, AUTH_TOKEN)

    def config(self) -> dict:
        """The app settings that send SMS to this server."""
        return {
            "SMS_PROVIDER": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM": FROM,
            "TWILIO_API_BASE": self.base_url,
            "SMS_TIMEOUT": 5.0,
        }

    def to(self, number: str) -> list[dict]:
        """Accepted messages to `number` (E.164), oldest first."""
        with self.lock:
            return [m for m in self.messages if m["to"] == number]

    def last_code(self, number: str) -> str:
        """The 6-digit code in the newest message to `number`."""
        return re.search(r"\b(\d{6})\b", self.to(number)[-1]["body"]).group(1)
