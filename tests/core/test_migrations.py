"""`flask --app app db upgrade` builds the whole schema on an empty database (SQLite
always, PostgreSQL when TEST_DATABASE_URL points at one) and the models agree with
the migrations (`flask db check`)."""

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DB_URL, flask_cli


def assert_upgrade_and_check(url):
    upgraded = flask_cli("db", "upgrade", url=url)
    assert upgraded.returncode == 0, upgraded.stderr
    checked = flask_cli("db", "check", url=url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


def test_upgrade_on_empty_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert_upgrade_and_check(url)
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    assert {
        "employees",
        "customers",
        "packages",
        "departures",
        "bookings",
        "enquiries",
    } <= names
    assert "package_fts" in names
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
        # Table rebuilds in batch mode drop triggers; the full-text index and the
        # append-only audit log need theirs on a migrated database too.
        triggers = set(
            conn.scalars(text("SELECT name FROM sqlite_master WHERE type='trigger'"))
        )
    assert {
        "packages_fts_ai",
        "packages_fts_ad",
        "packages_fts_au",
        "audit_entries_no_update",
        "audit_entries_no_delete",
    } <= triggers
    downgraded = flask_cli("db", "downgrade", "base", url=url)
    assert downgraded.returncode == 0, downgraded.stderr


@pytest.mark.postgres
def test_upgrade_on_empty_postgres():
    base = make_url(TEST_DB_URL)
    name = f"{base.database}_migrations"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        assert_upgrade_and_check(url)
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("packages")}
        engine.dispose()
        assert "ix_packages_search_fts" in indexes
        assert flask_cli("db", "downgrade", "base", url=url).returncode == 0
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
