"""The message catalogues are complete and current (docs/i18n.md): every msgid of
the code and the document templates is translated in German and Spanish, none is
fuzzy, and the compiled .mo files are the .po files (scripts/translations.py)."""

import pytest
from babel.messages.pofile import read_po

from scripts import translations


def test_every_language_has_every_message_translated_and_compiled():
    """`make translations-check`'s rule: no missing, fuzzy, stale or uncompiled
    entry in any language."""
    assert translations.check() == []


@pytest.mark.parametrize("language", translations.LANGUAGES)
def test_catalogue_is_not_empty_and_keeps_placeholders(language):
    """Each catalogue translates real text, and a translation keeps the named
    placeholders of its msgid (a lost %(amount)s would print the raw template)."""
    with translations._po_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    messages = [message for message in catalog if message.id]
    assert len(messages) > 50
    for message in messages:
        if isinstance(message.id, tuple):
            continue
        for name in _placeholders(message.id):
            assert name in message.string, (language, message.id)


def _placeholders(text: str) -> set[str]:
    import re

    return set(re.findall(r"%\(\w+\)s", text))


def test_check_reports_a_missing_translation(tmp_path, monkeypatch):
    """The check fails on an untranslated entry (proves it can fail)."""
    import shutil

    copy = tmp_path / "translations"
    shutil.copytree(translations.CATALOGUES, copy)
    po_path = copy / "de" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale="de")
    first = next(message for message in catalog if message.id)
    first.string = ""
    from babel.messages.pofile import write_po

    with po_path.open("wb") as handle:
        write_po(handle, catalog)
    monkeypatch.setattr(translations, "CATALOGUES", copy)
    problems = translations.check()
    assert any(p.startswith("de: untranslated") for p in problems)
