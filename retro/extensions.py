"""Unbound extensions, bound to the app in `init_app`; no app imports, no cycles."""

from __future__ import annotations

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from retro import jsoncodec

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
socketio = SocketIO()
# HTTP rate limits; socket events have their own small limiter in sockets.py.
limiter = Limiter(key_func=get_remote_address)

# Engine.IO's default (1 MB) is far more than a text app needs.
MAX_MESSAGE_BYTES = 64 * 1024


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Put every SQLite connection in WAL mode with a busy timeout and foreign keys."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "connect")
def _psycopg_wait(dbapi_connection, _record) -> None:
    """Make every PostgreSQL connection's queries block one greenlet, not the process."""
    if type(dbapi_connection).__module__.startswith("psycopg"):
        _cooperative_psycopg()


def _cooperative_psycopg() -> None:
    """Make psycopg wait for PostgreSQL through the patched `select`, if one is patched.

    psycopg 3 picks how it waits for the server when it is first imported: in C, which
    blocks the whole process, unless gevent has patched `select` by then. app.py patches
    before anything imports psycopg, but psycopg does not detect eventlet at all, and
    gunicorn --preload imports the app before its gevent worker patches. A wait through
    the patched `select` blocks only the greenlet that runs the query.
    """
    from psycopg import waiting

    if _patched("eventlet.patcher", "is_monkey_patched"):
        waiting.wait = waiting.wait_select  # eventlet's green `select` has no poll()
    elif _patched("gevent.monkey", "is_module_patched") and waiting.wait is getattr(
        waiting, "wait_c", None
    ):
        waiting.wait = waiting.wait_poll  # what psycopg itself picks under gevent


def _patched(module: str, check: str) -> bool:
    """Return whether the async library `module` (if imported at all) patched `select`."""
    import sys

    patcher = sys.modules.get(module)
    return patcher is not None and bool(getattr(patcher, check)("select"))


def init_app(app: Flask) -> None:
    """Bind the database, migrations and CSRF protection to the app."""
    # Every change of a room reads and writes step states as JSON: orjson is faster.
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("json_serializer", jsoncodec.dumps)
    options.setdefault("json_deserializer", jsoncodec.loads)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR", _migrations_dir())))
    csrf.init_app(app)
    limiter.init_app(app)


def _migrations_dir() -> str:
    """Return the migrations folder at the repository root."""
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")
