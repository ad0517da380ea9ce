"""Fixtures: an app with an empty database per test, clients, and factories.

The database is a fresh SQLite file per test, unless DATABASE_URL names a PostgreSQL
server (`make test` sets it to RETRO_TEST_POSTGRES_URL for its second run): then the
whole run shares one database created there for it (the one the URL names is never
touched), and each test leaves it empty again for the next.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import URL

from retro import create_app
from retro.extensions import db, socketio
from retro.models import ProcessedAction, Room
from retro.services import rooms
from tests.postgres import answers, fresh_database, suite_server

REQUIRE_SERVICES = os.environ.get("RETRO_REQUIRE_SERVICES") == "1"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# The PostgreSQL server the in-process tests run on (from DATABASE_URL), or None for SQLite.
POSTGRES = suite_server()


def need(condition: bool, reason: str) -> None:
    """Skip for a missing service on a laptop; fail instead when CI requires services."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"RETRO_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def chromium_path() -> str | None:
    """Return Debian's Chromium binary, if installed."""
    for candidate in ("/usr/bin/chromium", "/usr/lib/chromium/chromium"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


class PostgresDatabase:
    """The run's database on the PostgreSQL server, with the schema, emptied after each test."""

    def __init__(self, url: URL) -> None:
        self.uri = url.render_as_string(hide_password=False)
        self.engine: Engine = create_engine(url, pool_size=1)
        db.metadata.create_all(self.engine)
        counters = [
            f"setval(pg_get_serial_sequence('{table.name}', '{table.autoincrement_column.name}'),"
            " 1, false)"
            for table in db.metadata.sorted_tables
            if table.autoincrement_column is not None
        ]
        self._restart_ids = text("SELECT " + ", ".join(counters))

    def empty(self) -> None:
        """Delete every row and restart the ids at 1, as in a fresh SQLite file.

        DELETE, not TRUNCATE: on tables this small it is ten times faster. A connection
        a test left in a transaction would block it: fail after a while instead of hanging.
        """
        with self.engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
            connection.execute(self._restart_ids)


def pytest_sessionstart(session) -> None:
    """Refuse to run when DATABASE_URL asks for a PostgreSQL server that does not answer."""
    if POSTGRES is not None and not answers(POSTGRES):
        # Running on SQLite instead would pass for a run on PostgreSQL.
        raise pytest.UsageError(f"DATABASE_URL names {POSTGRES!r}, but no PostgreSQL answers")


@pytest.fixture(scope="session")
def postgres_database():
    """Return the database this run's in-process tests share on the PostgreSQL server."""
    assert POSTGRES is not None
    with fresh_database(POSTGRES) as url:
        database = PostgresDatabase(url)
        yield database
        database.engine.dispose()


@pytest.fixture
def database_uri(request, tmp_path):
    """Return the URI of an empty database for one test."""
    if POSTGRES is None:
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    database = request.getfixturevalue("postgres_database")
    yield database.uri
    # Runs after the app's teardown, so its sessions and connections are gone by now.
    database.empty()


def make_test_app(tmp_path, database_uri: str, **overrides):
    """Return an app for in-process tests, in threading mode, on `database_uri`."""
    return create_app(
        {
            "RETRO_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "ASYNC_MODE": "threading",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            **overrides,
        }
    )


@pytest.fixture(autouse=True)
def no_client_left_reconnecting():
    """Stop Socket.IO clients that a test left in their reconnect loop.

    Their retry jitter draws from the global `random` module in a background thread; a
    Hypothesis test running meanwhile sees that as randomness inside its strategies and
    fails as flaky.
    """
    yield
    from socketio import base_client

    for client in list(base_client.reconnecting_clients):
        if client._reconnect_abort is not None:
            client._reconnect_abort.set()
    deadline = time.monotonic() + 5
    while base_client.reconnecting_clients and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture
def app(tmp_path, database_uri):
    """Return an app on an empty database, in threading mode, for in-process tests."""
    # Tests of the take-over grace period set their own.
    app = make_test_app(tmp_path, database_uri, CLAIM_GRACE=0)
    with app.app_context():
        if POSTGRES is None:
            db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """Return an HTTP test client."""
    return app.test_client()


@pytest.fixture
def make_team(app):
    """Return a factory of teams."""

    def make(name: str = "The A-team"):
        return rooms.create_team(name)

    return make


DEFAULT_AGENDA = [
    {"kind": "checkin", "prompt_id": "energy-weather", "mode": "round", "scales": []},
    {"kind": "checkout"},
]


@pytest.fixture
def make_room(app, make_team):
    """Return a factory of rooms: (room, facilitator, facilitator token)."""

    def make(agenda=None, facilitator: str = "Fien"):
        return rooms.create_room(make_team(), facilitator, agenda or DEFAULT_AGENDA)

    return make


@pytest.fixture
def make_socket(app):
    """Return a factory of Socket.IO test clients authenticated by member token."""
    opened = []

    def make(room, token: str):
        sock = socketio.test_client(app, auth={"room": room.code, "token": token})
        opened.append(sock)
        return sock

    yield make
    for sock in opened:
        if sock.is_connected():
            sock.disconnect()


@pytest.fixture
def make_member(app):
    """Return a factory of members joining a room: (member, token)."""

    def make(room, name: str = "Ann"):
        return rooms.join_room(room, name, app.config["MAX_ROOM_MEMBERS"])

    return make


@pytest.fixture
def act(app):
    """Return a function that runs one command for a member, with a fresh action id."""

    def run(member_id: int, command: str, action_id: str | None = None, **args):
        return rooms.execute(member_id, command, args, action_id or uuid.uuid4().hex)

    return run


@pytest.fixture
def make_connection(app):
    """Return a factory of open sockets recorded without Socket.IO: returns the sid."""

    def make(member_id: int, server_id: str = "test-server") -> str:
        sid = uuid.uuid4().hex
        rooms.connect(member_id, sid, server_id)
        return sid

    return make


@pytest.fixture
def stored_room(app):
    """Return a function that reads back everything stored about a room."""

    def read(room) -> dict:
        db.session.expire_all()
        fresh = db.session.get_one(Room, room.id)
        return {
            "seq": fresh.seq,
            "status": fresh.status,
            "step_index": fresh.step_index,
            "facilitator_id": fresh.facilitator_id,
            "timer": dict(fresh.timer or {}),
            "steps": [dict(step.state) for step in fresh.steps],
            "members": [(m.id, m.display_name) for m in fresh.members],
            "actions": db.session.scalar(
                select(func.count())
                .select_from(ProcessedAction)
                .where(ProcessedAction.room_id == room.id)
            ),
        }

    return read


@pytest.fixture
def csrf_app(tmp_path, database_uri):
    """Return an app like `app` but with CSRF protection on, as in production.

    Do not combine with `app`: both bind the one Socket.IO server.
    """
    app = make_test_app(tmp_path, database_uri, WTF_CSRF_ENABLED=True)
    with app.app_context():
        if POSTGRES is None:
            db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()
