"""PostgreSQL for the tests: is a server there, and a throwaway database on it.

The suite never touches the database a URL names: that one (`postgres` by default) is
only where it connects to create a fresh database for a run, and to drop it afterwards.

`python -m tests.postgres [URL]` exits 0 when the server answers (for the Makefile).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def suite_server() -> URL | None:
    """Return the PostgreSQL server the in-process suite runs on (DATABASE_URL), if any.

    DATABASE_URL is read by retro.config, the way the app reads it (so `postgres://`
    works too); only a PostgreSQL URL moves the suite off its per-test SQLite files.
    """
    from retro.config import load_config

    raw = os.environ.get("DATABASE_URL", "").strip()
    if not raw:
        return None
    settings = load_config(
        {"DATABASE_URL": raw},
        overrides={"RETRO_ENV": "testing", "SECRET_KEY": "-", "INSTANCE_PATH": "/nonexistent"},
    )
    url = make_url(settings["SQLALCHEMY_DATABASE_URI"])
    return url if url.get_backend_name() == "postgresql" else None


def migrations_server() -> URL:
    """Return the PostgreSQL server the migration tests use (RETRO_TEST_POSTGRES_URL)."""
    return make_url(os.environ.get("RETRO_TEST_POSTGRES_URL", "").strip() or DEFAULT_SERVER)


def answers(server: URL | str) -> bool:
    """Return whether the PostgreSQL server accepts a connection within a few seconds."""
    engine = create_engine(server, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False
    finally:
        engine.dispose()


@contextmanager
def fresh_database(server: URL | str, prefix: str = "retro_test") -> Iterator[URL]:
    """Create an empty database on the server, yield its URL, and drop it afterwards.

    The name is unique per call, so several runs can share one server at once.
    """
    server = make_url(server)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name)
        finally:
            with admin.connect() as connection:
                # FORCE: a connection a failed test left open must not keep it alive.
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


if __name__ == "__main__":
    target = make_url(sys.argv[1]) if len(sys.argv) > 1 else migrations_server()
    sys.exit(0 if answers(target) else 1)
