"""Every repository path the docs name exists: README.md, examples/README.md and
docs/*.md (docs/design.md, the product design, is left out).

Paths are looked for in two places:

- inline code spans, word by word (`services/booking/bookings.py`, or the words of
  `.venv/bin/python bench/load.py --help`), relative to the repository root;
- markdown link and image targets ([the layers](docs/architecture.md)), relative to
  the page that holds them, without their #anchor.

The matcher is conservative. A word of a code span counts as a path only when its
first segment is a top-level entry of the repository (`routes/`, `tests/...`,
`.ci/run`) or it ends with a known file extension (`app.py`, `docs/api.md`).
URLs, absolute paths (`/api/v1/bookings`, /tmp, /usr), globs, `<placeholders>`,
shell variables and fenced code blocks are never read.
"""

import re
from pathlib import Path

import pytest

from tests import ROOT

PAGES = sorted(
    {ROOT / "README.md", ROOT / "examples" / "README.md"}
    | set((ROOT / "docs").glob("*.md")) - {ROOT / "docs" / "design.md"}
)
EXTENSIONS = (
    ".py",
    ".md",
    ".json",
    ".toml",
    ".ini",
    ".txt",
    ".js",
    ".cfg",
    ".html",
    ".css",
    ".png",
    ".yaml",
    ".yml",
    ".mako",
    ".sh",
)
FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# What a repository path is spelled with: no ':' (URLs), '*' (globs), '<' (a
# placeholder), '$' (a variable), '=' or '|'; never starting with '/' (absolute).
PATH_WORD = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*")
STRIP_LEFT = "([{\"'"
STRIP_RIGHT = ")]}\"',;:."


def top_level_names(root: Path) -> set[str]:
    """The names of the files and folders at the repository root."""
    return {entry.name for entry in root.iterdir()}


def looks_like_path(word: str, top: set[str]) -> bool:
    """True when a code-span word is meant as a repository path."""
    if not PATH_WORD.fullmatch(word) or word in (".", ".."):
        return False
    if "/" in word:
        return word.split("/", 1)[0] in top or word.endswith(EXTENSIONS)
    return word.endswith(EXTENSIONS)


def span_paths(text: str, top: set[str]) -> list[str]:
    """The repository paths named in the inline code spans of `text`."""
    found = []
    for match in CODE_SPAN.finditer(text):
        for raw in match.group(2).split():
            word = raw.lstrip(STRIP_LEFT).split("::", 1)[0].rstrip(STRIP_RIGHT)
            if looks_like_path(word, top):
                found.append(word)
    return found


def link_targets(text: str) -> list[str]:
    """The local targets of the markdown links and images of `text`, anchors cut."""
    found = []
    for match in LINK.finditer(text):
        target = match.group(1).split("#", 1)[0]
        if not target or "://" in target or target.startswith(("mailto:", "/")):
            continue
        found.append(target)
    return found


def missing_paths(text: str, page_dir: Path, root: Path = ROOT) -> list[str]:
    """The paths named in the markdown `text` (of a page in `page_dir`) that do not
    exist: code-span paths from `root`, link targets from `page_dir`."""
    text = FENCE.sub("", text)
    top = top_level_names(root)
    missing = [p for p in span_paths(text, top) if not (root / p).exists()]
    for target in link_targets(text):
        resolved = (page_dir / target).resolve()
        if not resolved.is_relative_to(root.resolve()) or not resolved.exists():
            missing.append(target)
    return missing


def test_the_pages_are_found():
    names = {page.relative_to(ROOT).as_posix() for page in PAGES}
    assert {"README.md", "examples/README.md", "docs/architecture.md"} <= names
    assert "docs/design.md" not in names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_path_a_page_names_exists(page):
    assert missing_paths(page.read_text(encoding="utf-8"), page.parent) == []


def test_the_checker_finds_made_up_paths_and_ignores_the_rest():
    text = "\n".join(
        [
            "The engine is `services/booking/bookings.py` (`create_booking`), the",
            "seats `services/booking/seat_locks.py`, the layers `routes/`,",
            "`tests/core/test_layers.py::test_no_cycle_between_service_modules` and",
            "`tests/core/test_nothing.py::test_x`; run `.venv/bin/python",
            "bench/nowhere.py --help`; see `frobnicate.py`, `services/nodomain/`,",
            "[the layers](architecture.md), [gone](no-such-page.md#top),",
            "[a section](#pagination), ![shot](screenshots/none.png) and",
            "[outside](../../etc/passwd).",
            "Never paths: `/api/v1/bookings`, `text/csv`,",
            "`http://127.0.0.1:5000/x.py`,",
            "`docs/*.md`, `tests/<domain>/conftest.py`, `$tmp/x.py`, `/tmp/a.py`,",
            "`/usr/bin/chromium`, `services.booking.bookings`, `e.g.`, `0.25`,",
            "`PYTEST_ARGS=tests/x.py`, [Stripe](https://stripe.com/docs/x.md).",
            "```sh",
            "python fenced/only.py",
            "```",
        ]
    )
    assert missing_paths(text, ROOT / "docs") == [
        "services/booking/seat_locks.py",
        "tests/core/test_nothing.py",
        "bench/nowhere.py",
        "frobnicate.py",
        "services/nodomain/",
        "no-such-page.md",
        "screenshots/none.png",
        "../../etc/passwd",
    ]
