"""The code base is self-contained in its citations: source files cite the project's
own docs (docs/design.md and its sections), never a design file outside the
repository or tracker issue numbers.

The files checked are the tracked ones (`git ls-files`): Python, Makefiles, .js/.ts
outside node_modules, .toml, .cfg, .sh and the CI entry point .ci/run. This file
names the forbidden patterns, so it is left out.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import ROOT

THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()

SUFFIXES = (".py", ".js", ".ts", ".toml", ".cfg", ".sh")
NAMES = ("Makefile",)
PATHS = (".ci/run",)

# Case-sensitive: the project's own docs/design.md is allowed. Spelled in two parts
# so that grepping the tree for the old name finds nothing, this file included.
OLD_NAME = "DESIGN" + ".md"
OUTSIDE_DESIGN = re.compile(
    re.escape(OLD_NAME) + "|" + re.escape("ENGINEERING" + ".md")
)
TRACKER_ISSUE = re.compile(r"\bissues? #\d+", re.IGNORECASE)


def _checked(path: str) -> bool:
    if path == THIS or "node_modules/" in path:
        return False
    return path in PATHS or path.rsplit("/", 1)[-1] in NAMES or path.endswith(SUFFIXES)


def _tracked_files() -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    done = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    return [p for p in done.stdout.split("\0") if p and _checked(p)]


def test_the_selection_is_what_the_rule_names():
    assert _checked("services/booking/bookings.py")
    assert _checked("Makefile") and _checked(".ci/run")
    assert _checked("tools/fuzz/schemathesis.toml")
    assert _checked("tools/postman/check.js")
    assert not _checked("tools/postman/node_modules/x/index.js")
    assert not _checked("docs/design.md") and not _checked("README.md")
    assert not _checked(THIS)


def test_patterns_catch_citations_and_spare_the_projects_own_docs():
    assert OUTSIDE_DESIGN.search(f'({OLD_NAME} "Rules with numbers": OTP)')
    assert not OUTSIDE_DESIGN.search('(docs/design.md "Rules with numbers": OTP)')
    assert OUTSIDE_DESIGN.search("see " + "ENGINEERING" + '.md "Traps"')
    assert not OUTSIDE_DESIGN.search('docs/architecture.md "Stack notes"')
    for text in (
        "issue #3 item 7",
        "(Issue #4)",
        "issues #5 and #6",
        'issue #3 "Must show"',
    ):
        assert TRACKER_ISSUE.search(text), text
    for text in ("issue_tokens(account)", "issue date", "tissue #3"):
        assert not TRACKER_ISSUE.search(text), text


def test_no_tracked_source_file_cites_outside_design_or_tracker_issues():
    files = _tracked_files()
    assert files, "git ls-files listed no source file"
    found = []
    for path in files:
        full = ROOT / path
        if not full.is_file():  # deleted in the work tree, not yet committed
            continue
        text = full.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE_DESIGN.search(line) or TRACKER_ISSUE.search(line):
                found.append(f"{path}:{number}: {line.strip()}")
    assert not found, (
        f"cite docs/design.md and its section names, not {OLD_NAME} or tracker "
        "issues:\n" + "\n".join(found)
    )
