"""Print CI's closing tally, ``N passed, M failed``, over pytest's JUnit XML files.

Usage: ``python scripts/ci_tally.py DIR`` reads every ``*.xml`` report under DIR (one
per pytest run: SQLite, PostgreSQL, ...). ``passed`` counts tests that neither failed,
errored nor were skipped; ``failed`` counts failures plus errors. A run that wrote no
report (it crashed before pytest finished) adds nothing, so its step's own exit code is
what fails CI.
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def tally(directory: Path) -> tuple[int, int, int]:
    """``(passed, failed, skipped)`` summed over the JUnit files in ``directory``."""
    passed = failed = skipped = 0
    for report in sorted(directory.glob("*.xml")):
        root = ET.parse(report).getroot()
        suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
        for suite in suites:
            tests = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skip = int(suite.get("skipped", 0))
            passed += tests - bad - skip
            failed += bad
            skipped += skip
    return passed, failed, skipped


def main() -> None:
    """Print the tally line for the directory named on the command line."""
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "ci-reports")
    passed, failed, skipped = tally(directory) if directory.is_dir() else (0, 0, 0)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")


if __name__ == "__main__":
    main()
