"""The floor for our stack: a bare python-socketio server (gevent) that only broadcasts.

It speaks the same events as Retro to the load generator and sends views of the
same shape and size, but keeps everything in memory: no Flask, no database, no
validation. What Retro costs above this is what Retro adds.

    python -m bench.baseline_socketio PORT
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
import time  # noqa: E402

import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402

STEPS = 12
PROMPT = "How are you arriving today?"

sio = socketio.Server(
    async_mode="gevent",
    transports=["websocket"],
    ping_interval=20,
    ping_timeout=20,
    max_http_buffer_size=65536,
)


class Room:
    """One room's state, the way Retro keeps it, but in a dict."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.seq = 0
        self.status = "lobby"
        self.step_index = 0
        self.members: dict[int, str] = {}
        self.online: set[int] = set()
        self.answers: list[dict[int, str]] = [{} for _ in range(STEPS)]
        self.revealed = [False] * STEPS
        self.facilitator: int | None = None

    def view(self) -> dict:
        """Return a public view shaped like Retro's (rooms.public_view)."""
        now = time.time()
        answers = self.answers[self.step_index]
        revealed = self.revealed[self.step_index]
        return {
            "seq": self.seq,
            "server_time": now,
            "room": {
                "code": self.code,
                "title": "",
                "team": "Bench team",
                "status": self.status,
                "step_index": self.step_index,
                "facilitator_id": self.facilitator,
                "claimable_at": None,
            },
            "members": [
                {"id": m, "name": name, "online": m in self.online}
                for m, name in self.members.items()
            ],
            "agenda": [
                {"kind": "checkin", "mode": "simultaneous", "prompt": PROMPT, "prompt_id": None}
                for _ in range(STEPS)
            ],
            "step": {
                "kind": "checkin",
                "prompt": PROMPT,
                "prompt_id": None,
                "mode": "simultaneous",
                "started": self.status != "lobby",
                "order": [],
                "speaker": None,
                "heard": [],
                "passed": [],
                "waiting": [],
                "answered": sorted(answers),
                "answers": {str(m): t for m, t in answers.items()} if revealed else {},
                "revealed": revealed,
                "scales": [],
                "scale_results": None,
            },
            "timer": {"running": False, "remaining": None, "deadline": None},
            "charter": None,
            "committed_at": now,
        }


rooms: dict[str, Room] = {}
members: dict[str, tuple[Room, int]] = {}
next_member = [0]


@sio.event
def connect(sid, environ, auth):
    """Join the room named in auth; snapshot to the newcomer, state to the others."""
    code = auth["room"]
    room = rooms.get(code) or rooms.setdefault(code, Room(code))
    next_member[0] += 1
    member = next_member[0]
    room.members[member] = f"Member {member}"
    room.online.add(member)
    if room.facilitator is None:
        room.facilitator = member
    members[sid] = (room, member)
    sio.enter_room(sid, code)
    room.seq += 1
    view = room.view()
    sio.emit("snapshot", {**view, "me": private(room, member)}, to=sid)
    sio.emit("state", view, to=code, skip_sid=sid)


@sio.event
def disconnect(sid, reason=None):
    """Tell the room who left."""
    room, member = members.pop(sid)
    room.online.discard(member)
    room.seq += 1
    sio.emit("state", room.view(), to=room.code)


def private(room: Room, member: int) -> dict:
    """Return a private view shaped like Retro's."""
    return {
        "member_id": member,
        "is_facilitator": room.facilitator == member,
        "steps": [{"answer": a.get(member), "passed": False} for a in room.answers],
    }


def command(name):
    """Apply a ritual command, broadcast the room's state and ack like Retro does."""

    def handler(sid, data):
        room, member = members[sid]
        if name == "start":
            room.status = "running"
        elif name == "next":
            room.step_index = min(room.step_index + 1, STEPS - 1)
        elif name == "reveal":
            room.revealed[room.step_index] = True
        elif name == "answer":
            room.answers[room.step_index][member] = data["text"]
        room.seq += 1
        sio.emit("state", room.view(), to=room.code)
        me = private(room, member)
        sio.emit("me", me, to=sid)
        return {"ok": True, "seq": room.seq, "duplicate": False, "me": me}

    return handler


for _name in ("start", "next", "reveal", "answer"):
    sio.on(_name, command(_name))


def main() -> None:
    """Serve on 127.0.0.1:PORT with gevent and gevent-websocket, as Flask-SocketIO does."""
    port = int(sys.argv[1])
    app = socketio.WSGIApp(sio)
    server = pywsgi.WSGIServer(("127.0.0.1", port), app, handler_class=WebSocketHandler, log=None)
    print(f"bare python-socketio on {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
