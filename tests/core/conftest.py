"""What the core tests share: `assert_problem`, the RFC 9457 problem shape every
error answers with (errors, database faults, rate limits), defined in
tests/factories.py beside the helpers of the other domains.

Fixtures come from tests/conftest.py (`app`, `client`, `actors`, `spec`,
`mailbox`, `password_hash`, `provider`); `StallingSmtp` and `flask_cli` beside
them; servers from tests/live.py.
"""

from tests.factories import PROBLEM_KEYS, assert_problem

__all__ = ["PROBLEM_KEYS", "assert_problem"]
