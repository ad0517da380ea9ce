"""The Socket.IO namespace: validate the payload, call a service, emit. Nothing else."""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import ConnectionRefusedError, Namespace, join_room
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from socketio import RedisManager
from socketio.packet import Packet

from retro import jsoncodec, memberships
from retro.extensions import MAX_MESSAGE_BYTES, db, socketio
from retro.messages import error_payload, message_for
from retro.rituals import RitualError
from retro.services import rooms
from retro.services.rooms import Outcome
from retro.validation import validate

log = logging.getLogger(__name__)

# A client may send this many commands per window; more get "rate_limited".
RATE_LIMIT, RATE_WINDOW = 30, 5.0
# While Redis is away: how long one attempt to reach it may take, and how often to retry.
QUEUE_TIMEOUT, QUEUE_RETRY = 2.0, 1.0


class RoomPacket(Packet):
    """A Socket.IO packet encoded with orjson, and never binary.

    Everything the server sends is JSON-ready. For every packet python-socketio would
    otherwise search the payload for bytes, item by item, which took about as long as
    encoding a room's state.
    """

    uses_binary_events = False
    json = jsoncodec


def room_channel(room_id: int) -> str:
    """Return the Socket.IO room that every member of a room listens on."""
    return f"room:{room_id}"


def member_channel(member_id: int) -> str:
    """Return the Socket.IO room of one member's open tabs."""
    return f"member:{member_id}"


def broadcast(outcome: Outcome, skip_sid: str | None = None) -> None:
    """Send a committed change to the room (public) and to the actor's tabs (private)."""
    socketio.emit(
        "state",
        outcome.public,
        to=room_channel(outcome.room_id),
        namespace="/",
        skip_sid=skip_sid,
    )
    if outcome.private is not None:
        socketio.emit(
            "me", outcome.private, to=member_channel(outcome.private["member_id"]), namespace="/"
        )


class RoomNamespace(Namespace):
    """Live room events on the default namespace."""

    def __init__(self, namespace: str = "/") -> None:
        super().__init__(namespace)
        self._recent: dict[str, deque[float]] = {}

    def on_connect(self, auth: Any = None) -> None:
        """Bind the socket to a member (token or session), then send a full snapshot."""
        ensure_background_tasks(current_app._get_current_object())
        member = _identify(auth)
        if member is None:
            message = message_for("unauthorized")
            # The client's connect_error gets `message`, and `data` with the code.
            raise ConnectionRefusedError(message, {"code": "unauthorized", "message": message})
        viewer = isinstance(auth, dict) and auth.get("view") == "projector"
        # Join before the change commits: a change committed right after it (in another
        # process, say) could otherwise be broadcast before the socket joins, and never
        # reach it. What arrives before the snapshot is then older than the snapshot, but
        # for a change committed in the instant between this commit and the send.
        join_room(room_channel(member.room_id))
        join_room(member_channel(member.id))
        outcome = rooms.connect(
            member.id, request.sid, current_app.config["SERVER_ID"], viewer=viewer
        )
        # The socket is here: the other processes need not hear of it.
        socketio.emit(
            "snapshot",
            {**outcome.public, "me": outcome.private},
            to=request.sid,
            namespace="/",
            ignore_queue=True,
        )
        # The newcomer has it all in the snapshot; the others learn they are online.
        broadcast(Outcome(outcome.room_id, outcome.seq, outcome.public), skip_sid=request.sid)

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the socket and tell the room who went offline."""
        self._recent.pop(request.sid, None)
        outcome = rooms.disconnect(request.sid)
        if outcome is not None:
            broadcast(Outcome(outcome.room_id, outcome.seq, outcome.public))

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Route every other event, known or not, through `_command`."""
        # A client may emit an ordinary event named "connect" or "disconnect". The real
        # ones arrive while the socket is still connecting or already disconnecting,
        # which is when the manager reports it as not connected (with always_connect
        # left off, its default).
        sid = args[0] if args else None
        if event in ("connect", "disconnect") and not self.server.manager.is_connected(
            sid, self.namespace
        ):
            return super().trigger_event(event, *args)
        return self.socketio._handle_event(self._command, event, self.namespace, *args)

    def _command(self, *data: Any) -> dict[str, Any]:
        """Validate one command, apply it for the bound member, broadcast, acknowledge."""
        event = request.event["message"]
        try:
            self._throttle(request.sid)
            if len(data) != 1:
                raise RitualError("invalid_payload")
            action_id, args = validate(event, data[0])
            member_id = _bound_member(request.sid)
            outcome = rooms.execute(member_id, event, args, action_id)
        except RitualError as error:
            return error_payload(error)
        except Exception:  # the connection must survive whatever went wrong
            db.session.rollback()
            log.exception("command %s failed", event)
            return error_payload(RitualError("server_error"))
        if not outcome.duplicate:
            broadcast(outcome)
        return {
            "ok": True,
            "seq": outcome.seq,
            "duplicate": outcome.duplicate,
            "me": outcome.private,
        }

    def _throttle(self, sid: str) -> None:
        """Refuse a command when this socket sent too many in the last window."""
        now = time.monotonic()
        recent = self._recent.setdefault(sid, deque())
        while recent and now - recent[0] > RATE_WINDOW:
            recent.popleft()
        if len(recent) >= RATE_LIMIT:
            raise RitualError("rate_limited")
        recent.append(now)


def _identify(auth: Any):
    """Return the member a connecting socket speaks for, or None."""
    if not isinstance(auth, dict):
        return None
    code, token = auth.get("room"), auth.get("token")
    if not isinstance(code, str) or len(code) > 64:
        return None
    if token is None:
        token = memberships.token_for(code)
    if not isinstance(token, str) or len(token) > 128:
        return None
    return rooms.member_for_token(code, token)


def _bound_member(sid: str) -> int:
    """Return the member id bound to this socket at connect, from storage."""
    bound = rooms.socket_member(sid)
    if bound is None:
        raise RitualError("unauthorized")
    member_id, viewer = bound
    if viewer:
        raise RitualError("viewer_only")
    return member_id


def upkeep(server_id: str, timeout: int) -> list[Outcome]:
    """Reconcile this process's recorded sockets with its live ones, then expire dead processes.

    A record can outlive its socket when a disconnect handler failed; it would
    show its member online for ever. Those are dropped here.
    """
    manager = socketio.server.manager
    dead = [sid for sid in rooms.server_sids(server_id) if not manager.is_connected(sid, "/")]
    outcomes = rooms.forget_connections(dead)
    rooms.heartbeat(server_id)
    return outcomes + rooms.expire_connections(timeout)


def resync(server_id: str) -> None:
    """Send this process's sockets their rooms' current state, which they may have missed.

    Only to this process's own sockets (the others resync their own): the room's public
    view, which a client ignores unless it is newer, and each member's private view.
    """
    for room_id, member_ids in rooms.server_members(server_id).items():
        views = {member_id: rooms.snapshot(member_id) for member_id in sorted(member_ids)}
        latest = max(views.values(), key=lambda view: view.seq)
        socketio.emit(
            "state", latest.public, to=room_channel(room_id), namespace="/", ignore_queue=True
        )
        for member_id, view in views.items():
            socketio.emit(
                "me", view.private, to=member_channel(member_id), namespace="/", ignore_queue=True
            )


def _resync_task(app: Flask) -> None:
    """Run `resync` for this process, logging instead of raising."""
    with app.app_context():
        try:
            resync(app.config["SERVER_ID"])
        except Exception:
            db.session.rollback()
            log.exception("resync after subscribing to the message queue failed")


class RoomQueue(RedisManager):
    """The Redis message queue between server processes, which reports each subscription.

    Redis pub/sub keeps nothing for a subscriber that is away: what is published before
    this process subscribes, or while Redis is down, never reaches its sockets. So after
    every subscription, `on_subscribed` runs in a background task (it resyncs them).
    """

    name = "retro-redis"

    def __init__(self, url: str, channel: str, on_subscribed: Callable[[], None]) -> None:
        # A command waits for its broadcast to be published: fail fast while Redis is away
        # (redis-py would otherwise retry for seconds) rather than hold up the answer.
        options = {
            "socket_connect_timeout": QUEUE_TIMEOUT,
            "socket_timeout": QUEUE_TIMEOUT,
            "retry": Retry(NoBackoff(), 0),
        }
        super().__init__(url, channel=channel, redis_options=options)
        self.on_subscribed = on_subscribed

    def _listen(self) -> Iterator[bytes]:
        """Yield every message published on the channel, resubscribing while Redis is away.

        python-socketio's own listener waits up to a minute between attempts and shares its
        connection with the publisher; this one has its own and retries every second.
        """
        channel = self.channel.encode()
        away = False
        while True:
            client = pubsub = None
            try:
                client = Redis.from_url(
                    self.redis_url,
                    socket_connect_timeout=QUEUE_TIMEOUT,
                    socket_timeout=None,
                    retry=Retry(NoBackoff(), 0),
                )
                pubsub = client.pubsub()
                pubsub.subscribe(self.channel)
                for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        if away:
                            log.warning("message queue reachable again")
                            away = False
                        self.server.start_background_task(self.on_subscribed)
                    elif message["type"] == "message" and message["channel"] == channel:
                        yield message["data"]
            except Exception as error:
                # Whatever it is (a refused connection, a bad URL), wait here before trying
                # again: python-socketio would call this again at once, in a tight loop.
                if not away:
                    log.error("message queue unreachable (%s); retrying", error)
                    away = True
            finally:
                for connection in (pubsub, client):
                    if connection is not None:
                        connection.close()
            self.server.sleep(QUEUE_RETRY)


def _presence_loop(app: Flask) -> None:
    """Keep this process's sockets alive in storage and expire those of dead processes."""
    interval = app.config["PRESENCE_HEARTBEAT"]
    while True:
        socketio.sleep(interval)
        with app.app_context():
            try:
                for outcome in upkeep(app.config["SERVER_ID"], app.config["PRESENCE_TIMEOUT"]):
                    broadcast(outcome)
            except Exception:
                db.session.rollback()
                log.exception("presence upkeep failed")


def ensure_background_tasks(app: Flask) -> None:
    """Start the presence upkeep once per process (not under in-process tests)."""
    if app.config["PRESENCE_UPKEEP"] and not app.extensions.get("retro_presence_upkeep"):
        app.extensions["retro_presence_upkeep"] = True
        socketio.start_background_task(_presence_loop, app)


def init_app(app: Flask) -> None:
    """Bind Socket.IO to the app with explicit async mode, origins and size limits."""
    app.config.setdefault("SERVER_ID", uuid.uuid4().hex[:16])
    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        cors_allowed_origins=app.config["ALLOWED_ORIGINS"],
        max_http_buffer_size=MAX_MESSAGE_BYTES,
        # Always given (None: in-memory, one process), since init_app keeps earlier options.
        client_manager=(
            RoomQueue(queue, app.config["SOCKETIO_CHANNEL"], partial(_resync_task, app))
            if queue
            else None
        ),
        transports=app.config["SOCKETIO_TRANSPORTS"],
        serializer=RoomPacket,
        ping_interval=20,
        ping_timeout=20,
    )
    socketio.on_namespace(RoomNamespace("/"))
