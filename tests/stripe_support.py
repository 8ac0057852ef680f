"""A real localstripe process for the tests and a real HTTP receiver for the webhooks
it signs and sends (never a mocked library).

The receiver stores each delivery exactly as it arrived (raw body and
Stripe-Signature), so a test decides when (and how often) to hand it to the service:
on time, twice, five times at once, late, or never (reconciliation).
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stripe

from scripts.localstripe_server import LocalStripe

WEBHOOK_SECRET = "whsec_test_easytravels_local"
SECRET_KEY = "sk_test_easytravels_local"
PUBLISHABLE_KEY = "pk_test_easytravels_local"
API = "/api/v1"


class Delivery:
    """One webhook delivery as localstripe sent it."""

    def __init__(self, body: bytes, signature: str):
        self.body = body
        self.signature = signature
        self.event = json.loads(body)

    @property
    def type(self) -> str:
        return self.event["type"]

    @property
    def object_id(self) -> str:
        return self.event["data"]["object"]["id"]

    def headers(self) -> dict:
        return {
            "Stripe-Signature": self.signature,
            "Content-Type": "application/json; charset=utf-8",
        }


class Receiver:
    """A ThreadingHTTPServer on a free port collecting webhook deliveries."""

    def __init__(self):
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.deliveries.append(
                        Delivery(body, self.headers.get("Stripe-Signature", ""))
                    )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(
        self, event_type: str, object_id: str, timeout: float = 10.0, *, field="id"
    ) -> Delivery:
        """The first delivery of `event_type` whose object's `field` (default its
        id) is `object_id`; AssertionError after `timeout` seconds (localstripe
        sends about 1 s after the event)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for delivery in self.deliveries:
                    found = delivery.event["data"]["object"].get(field)
                    if delivery.type == event_type and found == object_id:
                        return delivery
            time.sleep(0.05)
        raise AssertionError(
            f"no {event_type} webhook for {object_id} within {timeout} s"
        )

    def stop(self):
        self.server.shutdown()


class Provider:
    """The session's localstripe, its webhook receiver and a Stripe client on it."""

    def __init__(self):
        self.server = LocalStripe().start()
        self.base_url = self.server.base_url
        self.receiver = Receiver()
        self.server.register_webhook(self.receiver.url, WEBHOOK_SECRET)
        self.client = stripe.StripeClient(
            SECRET_KEY, base_addresses={"api": self.base_url}, max_network_retries=0
        )

    def config(self) -> dict:
        """The app config pointing at this provider."""
        return {
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.base_url,
        }

    def confirm(self, intent_id: str, payment_method: str = "pm_card_visa"):
        """Confirm an intent as a client SDK would: attach the card, then confirm
        (localstripe answers 500 to confirm with a payment_method argument)."""
        self.client.v1.payment_intents.update(
            intent_id, params={"payment_method": payment_method}
        )
        try:
            return self.client.v1.payment_intents.confirm(intent_id)
        except stripe.CardError as exc:  # a declined card: the intent stays unpaid
            return exc

    def pay(self, intent_id: str, payment_method: str = "pm_card_visa") -> Delivery:
        """Confirm `intent_id` and wait for the webhook it causes."""
        self.confirm(intent_id, payment_method)
        kind = (
            "payment_intent.succeeded"
            if payment_method == "pm_card_visa"
            else "payment_intent.payment_failed"
        )
        return self.receiver.wait_for(kind, intent_id)

    def refunds(self, intent_id: str) -> list:
        """The provider's refunds of an intent."""
        return list(
            self.client.v1.refunds.list(params={"payment_intent": intent_id}).data
        )

    def stop(self):
        self.receiver.stop()
        self.server.stop()


def deliver(client, delivery: Delivery):
    """Hand a captured delivery to the service's webhook endpoint."""
    return client.post(
        f"{API}/webhooks/stripe", data=delivery.body, headers=delivery.headers()
    )
