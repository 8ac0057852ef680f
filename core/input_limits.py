"""Limits on request bodies, checked before any view parses them (docs/security.md;
docs/design.md "Rules with numbers": request bodies are limited to 1 MiB).

- A body longer than MAX_CONTENT_LENGTH bytes gets 413 before it is read (a body
  without Content-Length is cut by Werkzeug's limited stream, also 413).
- A JSON body nested deeper than Python's recursion limit gets 400 instead of a
  RecursionError (the JSON parsers recurse per level).
- A JSON string holding a lone UTF-16 surrogate (`"\\ud800"`, valid JSON syntax but
  not Unicode text, RFC 8259 section 8.2) gets 400: neither database can store it.
"""

import json

from flask import Flask, current_app, request

from core.errors import problem

BODY_METHODS = {"POST", "PUT", "PATCH"}
# A view method with this attribute takes a non-JSON upload (a file): its value
# names the config setting of its body limit (routes/transport/gtfs.py).
UPLOAD_MARK = "upload_limit_setting"
DEFAULT_UPLOAD_LIMIT = 64 * 1024 * 1024


def upload_limit() -> int | None:
    """The body limit in bytes of the view serving this request when it takes an
    upload (its method carries UPLOAD_MARK; the setting's value, else
    DEFAULT_UPLOAD_LIMIT), None for every other view."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), None) if view_class else view
    setting = getattr(method, UPLOAD_MARK, None)
    if setting is None:
        return None
    return int(current_app.config.get(setting) or DEFAULT_UPLOAD_LIMIT)


def _has_lone_surrogate(document) -> bool:
    """True when any string (key or value) in the parsed `document` cannot be
    encoded as UTF-8. Iterative, so depth costs no recursion."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _too_large(limit: int):
    return problem(
        413, f"The request body is larger than {limit} bytes.", code="payload-too-large"
    )


def _json_refusal():
    """A 400 problem when the JSON body is too deep or holds a lone surrogate; None
    when it is fine or not JSON at all (the views' parser answers malformed JSON)."""
    try:
        document = json.loads(request.get_data(cache=True))
    except RecursionError:
        return problem(400, "The JSON body is nested too deeply.", code="json-too-deep")
    except ValueError:
        return None
    if _has_lone_surrogate(document):
        return problem(
            400,
            "The JSON body holds a lone UTF-16 surrogate (not Unicode text).",
            code="invalid-unicode",
        )
    return None


def init_input_limits(app: Flask) -> None:
    """Register the body checks; they run before every other request hook added
    after this call."""

    @app.before_request
    def _limit_body():
        if request.method not in BODY_METHODS:
            return None
        limit = upload_limit()
        if limit is not None:
            request.max_content_length = limit
        else:
            limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit and (request.content_length or 0) > limit:
            return _too_large(limit)
        if request.is_json and (
            request.content_length or request.headers.get("Transfer-Encoding")
        ):
            return _json_refusal()
        return None
