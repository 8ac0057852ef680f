"""schemathesis hooks for `make fuzz` (loaded by scripts/fuzz.py via SCHEMATHESIS_HOOKS).

The spec gives an example Idempotency-Key, so generated requests would keep sending
the same key, and after the first one every idempotent POST would stop at "key
reused with another body" (422) before the booking, payment or refund logic runs.
A well-formed key (1-255 characters) is therefore made unique per request; malformed
keys are sent as generated (they must get 400). Replays of one key are covered by the
pytest suite (tests/test_payments.py, tests/test_bookings.py).
"""

import uuid

import schemathesis

HEADER = "Idempotency-Key"


@schemathesis.hook
def before_call(context, case, kwargs):
    """Give a well-formed Idempotency-Key a unique suffix before the request is sent."""
    headers = case.headers
    key = headers.get(HEADER) if headers else None
    if isinstance(key, str) and 1 <= len(key) <= 200:
        headers[HEADER] = f"{key}-{uuid.uuid4().hex}"
