"""Objects Alembic autogenerate must leave alone: the full-text search table and
index that migrations create by hand (docs/architecture.md "Stack notes": FTS5)."""

from models.package import FTS_OBJECT_NAMES


def include_name(name, type_, parent_names) -> bool:
    """False for the FTS5 table (and its shadow tables) and the GIN search index."""
    if name is None:
        return True
    if type_ == "table" and name.startswith("package_fts"):
        return False
    return name not in FTS_OBJECT_NAMES
