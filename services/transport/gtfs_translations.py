"""translations.txt of a GTFS feed (GTFS reference "translations.txt",
https://gtfs.org/schedule/reference/#translationstxt; docs/transport.md "GTFS
import"; docs/i18n.md "Catalogue translations").

Reading: every row is checked like the other files (errors `{file, row, field,
reason}` refuse the feed): table_name, field_name, language and translation are
required; table_name is a GTFS table; language an IETF BCP 47 tag; feed_info rows
have neither record_id nor field_value, other rows exactly one of them, and a
record_id of stop_times comes with a record_sub_id; a record_id of `stops` names a
stop of the feed. The stop_name translations are kept on the stops
(`Stop.translations`, language tag -> name): by record_id, or by field_value on
every stop of that name. Everything else (agency, route and trip texts, feed_info,
a field_value no stop has) is counted in one warning, `translations_ignored`.

Writing: `station_translations(stop.translations)` turns them into what a Station
stores, `{"de": {"name": ...}}`, only for the languages of LANGUAGES other than the
original (BABEL_DEFAULT_LOCALE); `translation_rows(stations)` gives the rows the
export writes back.
"""

from collections import defaultdict

from flask import current_app
from sqlalchemy import update

from core.extensions import db
from models import Station
from services.transport.gtfs_files import (
    LANGUAGE_TAG,
    REQUIRED_COLUMNS,
    TRANSLATION_TABLES,
    Feed,
)

FILE = "translations.txt"
COLUMNS = ("table_name", "field_name", "language", "translation")
# Station.name holds at most this many characters.
NAME_LENGTH = 160


def read_translations(rows, feed: Feed) -> None:
    """Read translations.txt with `rows` (gtfs_files.RowReader.rows) into the
    stops of `feed` (see the module docstring); problems go to `feed.problems`.
    Call it after stops.txt was read."""
    problems = feed.problems
    ignored = 0
    by_name: dict[str, list] | None = None
    for line, row in rows(FILE, REQUIRED_COLUMNS[FILE]):
        if not _row_ok(problems, line, row):
            continue
        if (row["table_name"], row["field_name"]) != ("stops", "stop_name"):
            ignored += 1
        elif row.get("record_id"):
            _translate_stop(feed, line, row)
        else:
            if by_name is None:
                by_name = defaultdict(list)
                for stop in feed.stops.values():
                    by_name[stop.name].append(stop)
            stops = by_name.get(row["field_value"], ())
            for stop in stops:
                stop.translations[row["language"]] = row["translation"]
            ignored += not stops
    if ignored:
        problems.warn(
            "translations_ignored",
            FILE,
            None,
            None,
            f"{ignored} translation(s) not imported: only stop names are.",
        )


def _row_ok(problems, line: int, row: dict) -> bool:
    """Record the errors of a row; True when it has none: required values, a
    GTFS table_name, an IETF BCP 47 language and the reference (_reference_ok)."""
    for column in COLUMNS:
        if not row[column]:
            problems.error(FILE, line, column, "Required value missing.")
            return False
    if row["table_name"] not in TRANSLATION_TABLES:
        reason = "Must be one of " + ", ".join(TRANSLATION_TABLES) + "."
        problems.error(FILE, line, "table_name", reason)
        return False
    if not LANGUAGE_TAG.match(row["language"]):
        problems.error(FILE, line, "language", "Not an IETF BCP 47 language tag.")
        return False
    return _reference_ok(problems, line, row)


def _reference_ok(problems, line: int, row: dict) -> bool:
    """record_id / field_value of a row: both empty for feed_info; else exactly
    one of them, and a record_sub_id with a record_id of stop_times."""
    record_id, field_value = row.get("record_id"), row.get("field_value")
    if row["table_name"] == "feed_info":
        if record_id or field_value:
            column = "record_id" if record_id else "field_value"
            problems.error(FILE, line, column, "Must be empty for feed_info.")
            return False
        return True
    if record_id and field_value:
        problems.error(
            FILE, line, "field_value", "Must be empty when record_id is given."
        )
        return False
    if not (record_id or field_value):
        problems.error(FILE, line, "record_id", "Give record_id or field_value.")
        return False
    if row["table_name"] == "stop_times" and record_id and not row.get("record_sub_id"):
        problems.error(
            FILE, line, "record_sub_id", "Required with a record_id of stop_times."
        )
        return False
    return True


def _translate_stop(feed: Feed, line: int, row: dict) -> None:
    """Keep the translation on the stop named by record_id; an error when the
    feed has no such stop (unless its row was refused already)."""
    stop = feed.stops.get(row["record_id"])
    if stop is not None:
        stop.translations[row["language"]] = row["translation"]
    elif not feed.problems.known("stops.txt", row["record_id"], ()):
        feed.problems.error(
            FILE, line, "record_id", f"Unknown stop {row['record_id']!r}."
        )


def translated_languages() -> dict[str, str]:
    """Language tag (lower case, `de`) -> the language stored: LANGUAGES other
    than the original language of names (BABEL_DEFAULT_LOCALE)."""
    config = current_app.config
    return {
        code: code
        for code in config["LANGUAGES"]
        if code != config["BABEL_DEFAULT_LOCALE"]
    }


def station_translations(translations: dict) -> dict | None:
    """A stop's translations (language tag -> name) as a Station stores them:
    `{"de": {"name": ...}}` for the languages translated_languages() names (a
    regional tag `de-AT` counts as `de`, the plain tag winning); None when none
    is left. Names are cut to NAME_LENGTH characters."""
    wanted = translated_languages()
    stored: dict = {}
    for tag, name in sorted(translations.items(), key=lambda item: len(item[0])):
        language = wanted.get(tag.split("-", 1)[0].lower())
        if language and language not in stored and name.strip():
            stored[language] = {"name": name.strip()[:NAME_LENGTH]}
    return stored or None


def merged_translations(current: dict | None, incoming: dict | None) -> dict | None:
    """The translations of an existing station after an import: its own, plus the
    feed's for languages it has none in (an import never overwrites a name an
    editor set)."""
    if not incoming:
        return current
    merged = dict(incoming)
    merged.update(current or {})
    return merged


def add_translations(row, stop) -> None:
    """Give the existing station `row` (id, translations) the names `stop` has
    in languages it has none in (merged_translations); no commit."""
    merged = merged_translations(
        row.translations, station_translations(stop.translations)
    )
    if merged != row.translations:
        db.session.execute(
            update(Station).where(Station.id == row.id).values(translations=merged)
        )


def city_translations(feed_stops: dict, stops: list) -> dict:
    """City name (its first 120 characters) -> the stored translations of the
    top-level station a new city is named after (the parent of each of `stops`,
    else the stop; the first with translations wins). `feed_stops`: stop_id ->
    Stop."""
    found = {}
    for stop in stops:
        top = (feed_stops.get(stop.parent) if stop.parent else None) or stop
        name = top.name[:120]
        if name not in found and top.translations:
            found[name] = station_translations(top.translations)
    return found


def translation_rows(stations) -> list[dict]:
    """translations.txt rows (`table_name, field_name, language, translation,
    record_id`) for the stop_name translations of `stations` (objects with `code`
    and `translations`), by station code then language."""
    rows = []
    for station in sorted(stations, key=lambda s: s.code):
        for language, texts in sorted((station.translations or {}).items()):
            if (texts or {}).get("name"):
                rows.append(
                    {
                        "table_name": "stops",
                        "field_name": "stop_name",
                        "language": language,
                        "translation": texts["name"],
                        "record_id": station.code,
                    }
                )
    return rows
