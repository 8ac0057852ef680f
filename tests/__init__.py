"""The test suite, grouped by domain like the code (tests/<domain>/, a conftest per
domain); fixtures every domain uses are in tests/conftest.py, builders of test data
in tests/factories.py."""

from pathlib import Path

# The project's root folder (the repository checkout).
ROOT = Path(__file__).resolve().parent.parent
