"""Migrations: `flask db upgrade` builds exactly the schema the models describe.

Runs on SQLite always, and on the PostgreSQL server that RETRO_TEST_POSTGRES_URL names
(postgresql+psycopg://postgres@127.0.0.1:5432/postgres by default) when it answers; each run
gets a fresh database there, dropped afterwards. CI requires it to answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import retro.models  # noqa: F401 - every table in the metadata
from retro.extensions import db
from tests.conftest import need
from tests.postgres import answers, fresh_database, migrations_server

ROOT = Path(__file__).resolve().parent.parent
CHARTER_TABLES = {"charters", "charter_versions"}
DEED_TABLES = {"deeds", "deed_decisions"}
# What each revision's database still lacks of the models' schema.
LACKING = {"0001_rooms": CHARTER_TABLES | DEED_TABLES, "0002_charter": DEED_TABLES}


def flask_db(url: str, *args: str) -> None:
    """Run `flask db <args>` against the database at `url`, as an operator would."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith("RETRO_") and k not in ("SECRET_KEY", "DATABASE_URL")
        },
        "FLASK_APP": "app.py",
        "RETRO_ENV": "production",
        "SECRET_KEY": "migration-test-secret",
        "DATABASE_URL": url,
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "db", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def differences(url: str) -> list:
    """Return what Alembic autogenerate finds between the database and the models."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def added_tables(diffs: list) -> set[str]:
    """Return the tables a diff would add, failing on any other kind of difference.

    A new table's indexes come as their own "add_index" differences.
    """
    tables = {d[1].name for d in diffs if d[0] == "add_table"}
    others = [d for d in diffs if d[0] != "add_table"]
    assert all(d[0] == "add_index" and d[1].table.name in tables for d in others), diffs
    return tables


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Return the URL of a fresh, empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    server = migrations_server()
    need(answers(server), f"no PostgreSQL server answers at {server!r}")
    with fresh_database(server, "retro_migrations") as url:
        yield url.render_as_string(hide_password=False)


def test_upgrading_builds_the_schema_the_models_describe(database_url):
    flask_db(database_url, "upgrade")
    assert differences(database_url) == []


@pytest.mark.parametrize("revision", sorted(LACKING))
def test_an_earlier_revision_lacks_only_the_tables_later_ones_add(database_url, revision):
    flask_db(database_url, "upgrade", revision)
    assert added_tables(differences(database_url)) == LACKING[revision]


def test_the_migrations_downgrade_and_upgrade_again(database_url):
    flask_db(database_url, "upgrade")
    for revision in ("0002_charter", "0001_rooms"):
        flask_db(database_url, "downgrade", revision)
        assert added_tables(differences(database_url)) == LACKING[revision]
    flask_db(database_url, "upgrade")
    assert differences(database_url) == []
