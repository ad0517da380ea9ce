"""Several server processes on one database: presence changes once, and sockets resync.

The processes themselves run in tests/live/test_cluster.py; here each "process" is a
server id, and the races are played out one step after the other.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from retro import create_app
from retro.config import ConfigError, load_config
from retro.extensions import db, socketio
from retro.models import Connection
from retro.models.base import utcnow
from retro.services import rooms
from retro.sockets import RoomQueue, resync


def age(sid: str, seconds: int) -> None:
    """Pretend the socket `sid` last sent a heartbeat `seconds` ago."""
    seen = utcnow() - timedelta(seconds=seconds)
    db.session.execute(update(Connection).where(Connection.sid == sid).values(seen_at=seen))
    db.session.commit()


def stale_sids(seconds: int) -> list[str]:
    """Return what a process's expiry reads as stale, before it changes anything."""
    cutoff = utcnow() - timedelta(seconds=seconds)
    return list(db.session.scalars(select(Connection.sid).where(Connection.seen_at < cutoff)))


def test_two_processes_expiring_the_same_sockets_change_the_room_once(
    make_room, make_member, make_connection, stored_room, monkeypatch
):
    room, fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    make_connection(fien.id, server_id="alive")
    dead = make_connection(ann.id, server_id="dead")
    age(dead, 300)
    seq = stored_room(room)["seq"]
    change = rooms._change
    winner = []

    def other_process_first(*args):
        # Both have read the stale socket; the other process takes the room's lock first.
        monkeypatch.setattr(rooms, "_change", change)
        winner.extend(rooms.expire_connections(90))
        return change(*args)

    monkeypatch.setattr(rooms, "_change", other_process_first)
    assert rooms.expire_connections(90) == []
    assert [o.seq for o in winner] == [seq + 1]
    assert stored_room(room)["seq"] == seq + 1


def test_a_heartbeat_between_reading_and_expiring_keeps_the_socket(
    make_room, make_member, make_connection, stored_room
):
    room, _fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    slow = make_connection(ann.id, server_id="slow")
    age(slow, 300)
    seq = stored_room(room)["seq"]
    cutoff = utcnow() - timedelta(seconds=90)
    stale = stale_sids(90)

    rooms.heartbeat("slow")  # the process was only late
    assert rooms.forget_connections(stale, stale_before=cutoff) == []

    assert db.session.get(Connection, slow) is not None
    assert stored_room(room)["seq"] == seq


def test_a_disconnect_racing_the_expiry_changes_nothing(
    make_room, make_member, make_connection, stored_room, monkeypatch
):
    room, _fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    sid = make_connection(ann.id)
    seq = stored_room(room)["seq"]
    change = rooms._change

    def expired_meanwhile(*args):
        # The disconnect handler has found the row; another process's expiry deletes it.
        with db.engine.begin() as other:
            other.execute(delete(Connection).where(Connection.sid == sid))
        return change(*args)

    monkeypatch.setattr(rooms, "_change", expired_meanwhile)
    assert rooms.disconnect(sid) is None
    assert stored_room(room)["seq"] == seq


def test_resync_sends_this_processs_sockets_the_current_state(app, make_room, make_member):
    room, fien, fien_token = make_room()
    ann, ann_token = make_member(room, "Ann")
    socks = [
        socketio.test_client(app, auth={"room": room.code, "token": token})
        for token in (fien_token, ann_token)
    ]
    try:
        for sock in socks:
            sock.get_received()
        # A change this process's sockets never heard of (made by another process).
        rooms.connect(ann.id, "elsewhere", "other-server")
        seq = rooms.snapshot(fien.id).seq

        resync(app.config["SERVER_ID"])

        for sock, member in zip(socks, (fien, ann), strict=True):
            received = {m["name"]: m["args"][0] for m in sock.get_received()}
            assert received["state"]["seq"] == seq
            assert received["me"]["member_id"] == member.id
    finally:
        for sock in socks:
            sock.disconnect()


def test_resync_leaves_other_processes_sockets_alone(app, make_room):
    room, fien, _token = make_room()
    rooms.connect(fien.id, "elsewhere", "other-server")
    assert rooms.server_members("other-server") == {room.id: {fien.id}}
    assert rooms.server_members(app.config["SERVER_ID"]) == {}
    resync(app.config["SERVER_ID"])  # nothing to send, nothing sent


def test_a_redis_url_makes_the_processes_share_a_queue_on_their_channel(tmp_path):
    queued = create_app(
        {
            "RETRO_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'queued.sqlite3'}",
            "ASYNC_MODE": "threading",
            "SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:1/0",
            "SOCKETIO_CHANNEL": "retro-blue",
        }
    )
    manager = socketio.server.manager
    assert isinstance(manager, RoomQueue)
    assert (manager.redis_url, manager.channel) == ("redis://127.0.0.1:1/0", "retro-blue")
    assert queued.config["SOCKETIO_CHANNEL"] == "retro-blue"
    # The next app without a queue must not inherit it: Flask-SocketIO keeps options.
    create_app(
        {
            "RETRO_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'single.sqlite3'}",
            "ASYNC_MODE": "threading",
        }
    )
    assert not isinstance(socketio.server.manager, RoomQueue)


def test_redis_settings_come_from_the_environment(tmp_path):
    base = {"RETRO_ENV": "testing", "SECRET_KEY": "-", "RETRO_INSTANCE_PATH": str(tmp_path)}
    assert load_config(base)["SOCKETIO_MESSAGE_QUEUE"] is None
    assert load_config(base)["SOCKETIO_CHANNEL"] == "retro"
    settings = load_config(
        {**base, "REDIS_URL": " redis://cache:6379/2 ", "RETRO_REDIS_CHANNEL": "retro-green"}
    )
    assert settings["SOCKETIO_MESSAGE_QUEUE"] == "redis://cache:6379/2"
    assert settings["SOCKETIO_CHANNEL"] == "retro-green"


def test_a_message_queue_other_than_redis_is_refused(tmp_path):
    base = {"RETRO_ENV": "testing", "SECRET_KEY": "-", "RETRO_INSTANCE_PATH": str(tmp_path)}
    with pytest.raises(ConfigError, match="REDIS_URL"):
        load_config({**base, "REDIS_URL": "amqp://user:secret@rabbit//"})
