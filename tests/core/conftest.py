"""What the core tests share: `assert_problem`, the RFC 9457 problem shape every
error answers with (errors, database faults, rate limits).

Fixtures come from tests/conftest.py (`app`, `client`, `actors`, `spec`,
`mailbox`, `password_hash`, `provider`); `StallingSmtp` and `flask_cli` beside
them; servers from tests/live.py.
"""

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response, status):
    """Assert `response` is an RFC 9457 problem with `status` (no traceback in
    it); returns its body."""
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body
