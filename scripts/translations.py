"""The message catalogues under translations/ (docs/i18n.md): extract, update,
import reviewed translations, compile, check.

    python scripts/translations.py update    # extract + update every language's .po,
                                             # import translations/pending/*.json,
                                             # compile the .mo files
    python scripts/translations.py check     # fail when a language misses or has a
                                             # fuzzy entry, a catalogue is stale
                                             # (the code has msgids it lacks) or a
                                             # .mo file is not the compiled .po

Extraction is Babel's own (`pybabel extract` with babel.cfg); update and compile are
Babel's frontend too. `translations/pending/<name>.json` (`{msgid: {"de": ..., "es":
...}}`) fills entries that are still empty, so translators can hand in a file
without editing the catalogues (delete a file once imported). Exit status 1 with
one line per problem when `check` fails.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "translations"
PENDING = CATALOGUES / "pending"
LANGUAGES = ("de", "es")  # English is the source language: msgid == text
KEYWORDS = ["-k", "_l", "-k", "lazy_gettext"]


def _pybabel(*args: str) -> None:
    """Run Babel's command line from this virtualenv, quietly; raise on failure."""
    command = [str(Path(sys.executable).parent / "pybabel"), *args]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)


def extract(pot: Path) -> None:
    """Extract every msgid of the code and templates (babel.cfg) into `pot`,
    without source locations (stable diffs)."""
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        *KEYWORDS,
        "--no-location",
        "--sort-output",
        "--project",
        "Easy Travels API",
        "-o",
        str(pot),
        ".",
    )


def _po_path(language: str) -> Path:
    return CATALOGUES / language / "LC_MESSAGES" / "messages.po"


def update() -> None:
    """Extract, create or update each language's catalogue (new msgids empty,
    vanished ones dropped), import pending translations, compile."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        extract(pot)
        for language in LANGUAGES:
            po = _po_path(language)
            if po.exists():
                _pybabel(
                    "update",
                    "-i",
                    str(pot),
                    "-d",
                    "translations",
                    "-l",
                    language,
                    "--no-fuzzy-matching",
                    "--ignore-obsolete",
                )
            else:
                _pybabel("init", "-i", str(pot), "-d", "translations", "-l", language)
    imported = import_pending()
    _pybabel("compile", "-d", "translations")
    print(
        f"translations: {', '.join(LANGUAGES)} updated; {imported} pending "
        "translation(s) imported; compiled"
    )
    problems = check()
    for problem in problems[:20]:
        print(f"  {problem}")
    if len(problems) > 20:
        print(f"  ... and {len(problems) - 20} more")


def import_pending() -> int:
    """Fill empty entries from translations/pending/*.json. Returns how many
    entries were filled."""
    files = sorted(PENDING.glob("*.json")) if PENDING.exists() else []
    pending = {path: json.loads(path.read_text("utf-8")) for path in files}
    filled = 0
    for language in LANGUAGES:
        po_path = _po_path(language)
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for entries in pending.values():
            for msgid, texts in entries.items():
                message = catalog.get(msgid)
                text = (texts or {}).get(language)
                if message is None or not text or message.string:
                    continue
                message.string = text
                message.flags.discard("fuzzy")
                filled += 1
        with po_path.open("wb") as handle:
            write_po(handle, catalog, width=88, omit_header=False)
    return filled


def _catalog(language: str):
    with _po_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def check() -> list[str]:
    """Every problem with the catalogues, one line each (empty: all good)."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        pot_path = Path(tmp) / "messages.pot"
        extract(pot_path)
        with pot_path.open("rb") as handle:
            wanted = {message.id for message in read_po(handle) if message.id}
    for language in LANGUAGES:
        if not _po_path(language).exists():
            problems.append(f"{language}: no catalogue (run `make translations`)")
            continue
        catalog = _catalog(language)
        present = {message.id for message in catalog if message.id}
        problems += [
            f"{language}: stale, lacks {_key(msgid)!r}" for msgid in wanted - present
        ]
        for message in catalog:
            if not message.id:
                continue
            if message.fuzzy:
                problems.append(f"{language}: fuzzy {_key(message.id)!r}")
            if not all(_strings(message.string)):
                problems.append(f"{language}: untranslated {_key(message.id)!r}")
        problems += _check_compiled(language, catalog)
    return problems


def _check_compiled(language: str, catalog) -> list[str]:
    """The .mo file holds exactly the .po's translations."""
    mo_path = _po_path(language).with_suffix(".mo")
    if not mo_path.exists():
        return [f"{language}: messages.mo missing (run `make translations`)"]
    with mo_path.open("rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    expected = {
        m.id: m.string
        for m in catalog
        if m.id and not m.fuzzy and all(_strings(m.string))
    }
    if compiled != expected:
        return [f"{language}: messages.mo is not the compiled messages.po"]
    return []


def _strings(string) -> tuple:
    """A message's translation(s): one string, or one per plural form."""
    return string if isinstance(string, tuple) else (string,)


def _key(msgid) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def main(argv: list[str]) -> int:
    """`update` or `check` (see the module docstring)."""
    if argv[1:] == ["update"]:
        update()
        return 0
    if argv[1:] == ["check"]:
        problems = check()
        for problem in problems:
            print(problem)
        print(f"translations: {len(problems)} problem(s)")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
