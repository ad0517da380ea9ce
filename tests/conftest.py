"""Fixtures: an app with a fresh SQLite database per test, clients, and factories."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from retro import create_app
from retro.extensions import db, socketio
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
