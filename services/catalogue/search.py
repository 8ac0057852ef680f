"""Full-text search over packages with the database's own engine (docs/design.md
"API conventions": `q=` for search; "Purpose": catalogue search).

`packages.search_document` holds the searchable text of a package (see
`build_search_document`). On SQLite it is indexed by the external-content FTS5 table
`package_fts` (porter stemming, kept in sync by triggers); on PostgreSQL by the GIN
expression index `ix_packages_search_fts` on `to_tsvector('english', search_document)`.
Both are created by the DDL listeners in models/package.py.
"""

import re

from sqlalchemy import column, func, literal_column, select, table

from core.extensions import db
from models import Package

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 16
# Must match the index expression in models/package.py exactly, constant included,
# or PostgreSQL cannot use the GIN index.
PG_CONFIG = literal_column("'english'")
PACKAGE_FTS = table("package_fts", column("rowid"), column("package_fts"))


def build_search_document(package) -> str:
    """The searchable text of `package`: title, description, destination, origin and
    every itinerary day's title, description and location, then the package's
    translated titles and descriptions (docs/i18n.md "Catalogue translations"), one
    per line (empty parts skipped). Callers store it in `package.search_document`.
    The index stems English words; translated words match as written."""
    parts = [package.title, package.description, package.destination, package.origin]
    for day in package.itinerary:
        parts.extend([day.title, day.description, day.location])
    for texts in (package.translations or {}).values():
        parts.extend([texts.get("title"), texts.get("description")])
    return "\n".join(part.strip() for part in parts if part and part.strip())


def search_terms(q: str | None) -> list[str]:
    """The words of a user query (letters, digits, underscore), at most MAX_TERMS;
    punctuation and FTS operators are dropped, so any input is safe."""
    return WORD.findall(q or "")[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression with every word quoted (so `AND`, `NEAR`, `*` and
    `-` are plain words) and the words ANDed (implicit in FTS5)."""
    return " ".join(f'"{term}"' for term in terms)


def search_condition(q: str | None):
    """A WHERE condition on `packages` that holds for packages whose search document
    matches every word of `q` (stemmed: "beaches" finds "beach").

    On PostgreSQL it is `to_tsvector(...) @@ plainto_tsquery(...)` on the package row
    itself, so the planner can use the GIN index or filter the rows it already reads
    (a self-join through `id IN (SELECT ...)` re-checked the vector per row: 428 ms
    against 47 ms for a page at 1M packages, bench/load.py). On SQLite it is
    `id IN (SELECT rowid FROM package_fts WHERE package_fts MATCH ...)`.

    Returns None when `q` holds no searchable word (blank or only punctuation): the
    caller then applies no text filter. Visibility is the caller's job.
    """
    terms = search_terms(q)
    if not terms:
        return None
    if db.engine.dialect.name == "postgresql":
        vector = func.to_tsvector(PG_CONFIG, Package.search_document)
        query = func.plainto_tsquery(PG_CONFIG, " ".join(terms))
        return vector.bool_op("@@")(query)
    return Package.id.in_(
        select(PACKAGE_FTS.c.rowid).where(
            PACKAGE_FTS.c.package_fts.match(fts5_query(terms))
        )
    )
