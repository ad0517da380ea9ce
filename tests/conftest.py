"""Fixtures: an app with a fresh SQLite database per test, clients, and factories."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from retro import create_app
from retro.extensions import db, socketio
from retro.models import ProcessedAction, Room
from retro.services import rooms

REQUIRE_SERVICES = os.environ.get("RETRO_REQUIRE_SERVICES") == "1"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


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


@pytest.fixture
def app(tmp_path):
    """Return an app on a fresh SQLite database, in threading mode, for in-process tests."""
    app = create_app(
        {
            "RETRO_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite3'}",
            "ASYNC_MODE": "threading",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            # Tests of the take-over grace period set their own.
            "CLAIM_GRACE": 0,
        }
    )
    with app.app_context():
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
def csrf_app(tmp_path):
    """Return an app like `app` but with CSRF protection on, as in production.

    Do not combine with `app`: both bind the one Socket.IO server.
    """
    app = create_app(
        {
            "RETRO_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'csrf.sqlite3'}",
            "ASYNC_MODE": "threading",
            "WTF_CSRF_ENABLED": True,
            "SERVER_NAME": "localhost",
        }
    )
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()
