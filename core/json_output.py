"""JSON responses encoded with orjson when the bytes are the same as Flask's.

Flask's DefaultJSONProvider encodes with the standard library (compact separators
outside debug, `ensure_ascii`, keys in insertion order here: app.py turns
`sort_keys` off). orjson writes the same bytes for the JSON types the API sends
(str, int, bool, None, lists, dicts with str keys) as long as the text is printable
ASCII, several times faster; everything else goes through Flask's encoder:

- dates, datetimes, Decimal, UUID, dataclasses and subclasses of the built-in
  types are handed to Flask's `default` (OPT_PASSTHROUGH_*: RFC 822 dates, money
  as the Decimal's string), and anything orjson refuses (int keys, ints beyond 64
  bits) falls back to the standard library;
- output with a non-ASCII character, DEL or any `\\u` escape (which `ensure_ascii`
  and control characters produce), or a number in exponent notation (floats,
  which the two write differently) is encoded again by the standard library.

So every body, problem+json errors included (errors.problem builds them with
Flask's `jsonify` too), keeps its exact bytes (tests/core/test_json_output.py).
"""

import re

import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_APPEND_NEWLINE
)
# A digit followed by an exponent: a float in scientific notation (or a string
# that looks like one: then the standard library encodes it, same bytes anyway).
EXPONENT = re.compile(rb"[0-9][eE][-+0-9]")


def fast_body(obj, default) -> bytes | None:
    """`obj` as compact JSON plus a newline, when orjson's bytes are certainly
    those of `json.dumps(obj, default=default, separators=(",", ":"),
    ensure_ascii=True)`; None otherwise."""
    try:
        body = orjson.dumps(obj, default=default, option=OPTIONS)
    except TypeError:  # orjson.JSONEncodeError included
        return None
    if not body.isascii() or b"\\u" in body or b"\x7f" in body:
        return None
    if EXPONENT.search(body):
        return None
    return body


class FastJSONProvider(DefaultJSONProvider):
    """Flask's DefaultJSONProvider whose `response` uses orjson when the body
    comes out byte for byte the same (see the module docstring)."""

    def response(self, *args, **kwargs):
        """As DefaultJSONProvider.response (compact outside debug, `mimetype`)."""
        obj = self._prepare_response_obj(args, kwargs)
        indented = self.compact is False or (self.compact is None and self._app.debug)
        if not (indented or self.sort_keys or not self.ensure_ascii):
            body = fast_body(obj, self.default)
            if body is not None:
                return self._app.response_class(body, mimetype=self.mimetype)
        return super().response(obj)
