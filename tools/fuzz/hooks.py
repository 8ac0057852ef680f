"""schemathesis hooks for `make fuzz` (loaded by scripts/fuzz.py via
SCHEMATHESIS_HOOKS).

The spec gives an example Idempotency-Key, so generated requests would keep sending
the same key, and after the first one every idempotent POST would stop at "key
reused with another body" (422) before the booking, payment or refund logic runs.
A well-formed key (1-255 characters) is therefore made unique per request; malformed
keys are sent as generated (they must get 400). Replays of one key are covered by the
pytest suite (tests/payments/test_payments.py, tests/booking/test_bookings.py).

A list's `cursor` is an opaque token the service signs (only a `meta.next_cursor` it
gave out is accepted; any other well-formed string is refused with 422, which
tests/core/test_pagination.py covers). A well-formed cursor the fuzzer made up is
therefore left out, so the list's filters and sorts are exercised; malformed cursors are
sent as generated (they must get 422). Likewise `page` reaches only the first 10,000
rows (`(page - 1) * per_page < 10000`, a rule across two parameters that the spec states
in words; deeper pages get 422, also covered there): a deeper, otherwise valid page
number is brought back to the last page within the bound.
"""

import re
import uuid

import schemathesis

HEADER = "Idempotency-Key"
# schemas/common.py CURSOR_PATTERN and MAX_CURSOR (the spec's pattern and maxLength),
# matched as the service's validator matches it (re.match: `$` before a final newline).
CURSOR = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
MAX_CURSOR = 2048
# services/shared/pagination.py MAX_OFFSET and schemas/common.py PageArgs defaults.
MAX_OFFSET = 10_000
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


@schemathesis.hook
def before_call(context, case, kwargs):
    """Give a well-formed Idempotency-Key a unique suffix and drop a well-formed,
    made-up list cursor and bring a too deep page number within the OFFSET bound
    before the request is sent."""
    headers = case.headers
    key = headers.get(HEADER) if headers else None
    if isinstance(key, str) and 1 <= len(key) <= 200:
        headers[HEADER] = f"{key}-{uuid.uuid4().hex}"
    query = case.query
    cursor = query.get("cursor") if query else None
    if isinstance(cursor, str) and len(cursor) <= MAX_CURSOR and CURSOR.match(cursor):
        del query["cursor"]
    page = _as_int(query.get("page")) if query else None
    per_page = _as_int(query.get("per_page", DEFAULT_PER_PAGE)) if query else None
    if (
        page is not None
        and per_page is not None
        and page >= 1
        and 1 <= per_page <= MAX_PER_PAGE
        and (page - 1) * per_page >= MAX_OFFSET
    ):
        query["page"] = 1 + (MAX_OFFSET - 1) // per_page


def _as_int(value) -> int | None:
    """`value` as an int when it is one (not a bool) or a string of ASCII digits
    (some phases send query values as text), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None
