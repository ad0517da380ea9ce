"""What one room change costs the server in-process, without the network.

    python -m bench.change_cost                  # 12 check-ins, 50 members, 1,200 commands
    python -m bench.change_cost --socketio       # through Flask-SocketIO, packets encoded
    python -m bench.change_cost --agenda mixed   # one step of every kind (a charter room)
    python -m bench.change_cost --profile 30     # and cProfile's top 30, own and cumulative

One room of `--members` members, all connected, gets the load of `make bench`: per step,
answers (or cards, or proposals) from random members, the facilitator's reveal, more
answers, `next`. By default each command goes the way a socket event does, minus the
transport: in a fresh app context (Flask-SocketIO pushes one per event, and the database
session goes with it), the payload validated, the bound member read from its connection
row, `rooms.execute`, the public view encoded once as JSON (python-socketio encodes a
room's broadcast once for all its members). With `--socketio` every member has a
Flask-SocketIO test client and each command is a real event: the request context, the
packets (`state`, `me` and the acknowledgement) encoded; only what the server then does
per recipient (the fan-out floor's work) is skipped, and the test client's own small
share (its command's packet, reading the acknowledgement) is counted in.

Prints the time per command, wall clock and CPU. Compare it with the fan-out floor:
`make bench`'s bare python-socketio row costs 40-45 µs per delivered message, so about
2.3 ms for a change broadcast to a room of 50; the issue's target (at most twice the
floor's CPU per message) leaves about as much again for everything else.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

MIXED = [
    {"kind": "deeds_review"},
    {"kind": "agreements_check"},
    {"kind": "checkin", "prompt_id": "energy-weather", "mode": "simultaneous"},
    {"kind": "purpose"},
    {"kind": "agreements"},
    {"kind": "retro", "format": "ssc"},
    {"kind": "checkout"},
]
WORDS = "sunny calm tired curious focused busy rested foggy hopeful stormy bright quiet".split()


def agenda(kind: str, steps: int) -> list[dict[str, Any]]:
    """Return the agenda: `steps` simultaneous check-ins, or one step of every kind."""
    if kind == "mixed":
        return MIXED
    return [
        {"kind": "checkin", "prompt": f"Check-in {i + 1}", "mode": "simultaneous"}
        for i in range(steps)
    ]


def command_for(step: dict[str, Any], index: int, rnd: random.Random) -> tuple[str, dict] | None:
    """Return a member's command for the current step, or None for a kind it does not load."""
    words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 5)))
    kind = step["kind"]
    if kind in ("checkin", "checkout"):
        return "answer", {"step": index, "text": words}
    if kind in ("purpose", "retro"):
        column = "exists" if kind == "purpose" else "start"
        return "add_card", {"step": index, "column": column, "text": words}
    if kind == "agreements":
        return "propose", {
            "step": index,
            "kind": "add",
            "target": None,
            "text": "We " + words,
            "review_date": "",
        }
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--steps", type=int, default=12, help="check-ins in the agenda")
    parser.add_argument("--agenda", choices=("checkin", "mixed"), default="checkin")
    parser.add_argument("--per-step", type=int, default=100, help="changes per step")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print N functions")
    parser.add_argument("--database", help="a SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--socketio",
        action="store_true",
        help="send through Flask-SocketIO's test client: the whole event, broadcasts encoded",
    )
    args = parser.parse_args(argv)

    from retro import create_app, sockets
    from retro.extensions import db, socketio
    from retro.services import rooms
    from retro.sockets import _bound_member
    from retro.validation import validate

    try:
        from retro.jsoncodec import dumps as encode
    except ImportError:  # a revision from before it, measured for comparison
        encode = partial(json.dumps, separators=(",", ":"))

    workdir = Path(tempfile.mkdtemp(prefix="change-cost-"))
    app = create_app(
        {
            "RETRO_ENV": "production",
            "SECRET_KEY": "change-cost",
            "INSTANCE_PATH": str(workdir),
            "SQLALCHEMY_DATABASE_URI": args.database or f"sqlite:///{workdir / 'retro.sqlite3'}",
            "ASYNC_MODE": "threading",
            "MAX_ROOM_MEMBERS": max(200, args.members),
            "PRESENCE_UPKEEP": False,
        }
    )
    steps = agenda(args.agenda, args.steps)
    with app.app_context():
        db.create_all()
        team = rooms.create_team("Bench team")
        room, facilitator, token = rooms.create_room(team, "Facilitator", steps, "Bench room")
        code, facilitator_id = room.code, facilitator.id
        tokens = {facilitator_id: token}
        for n in range(1, args.members):
            member, token = rooms.join_room(room, f"Member {n}", args.members)
            tokens[member.id] = token
        members = list(tokens)
        sids = {m: uuid.uuid4().hex for m in members}
        if not args.socketio:
            for member_id, sid in sids.items():
                rooms.connect(member_id, sid, "change-cost")
    clients = {
        member_id: socketio.test_client(app, auth={"room": code, "token": token})
        for member_id, token in (tokens.items() if args.socketio else ())
    }
    if clients:
        # A benchmark sends faster than people: no socket may be rate-limited.
        sockets.RATE_LIMIT = 10**9

        def deliver(_eio_sid: str, _packet: Any) -> None:
            """Skip what the server does per recipient: that is the fan-out floor's work."""

        socketio.server._send_eio_packet = deliver

    rnd = random.Random(5)  # noqa: S311 - not for secrets
    sizes: list[int] = []
    refused: dict[str, int] = {}

    def send(member_id: int, event: str, payload: dict[str, Any]) -> bool:
        """Run one command the way a socket event does; return whether it applied."""
        if args.socketio:
            ack = clients[member_id].emit(
                event, {"action_id": uuid.uuid4().hex, **payload}, callback=True
            )
            if not ack["ok"]:
                code = ack["error"]["code"]
                refused[code] = refused.get(code, 0) + 1
            return ack["ok"]
        with app.app_context():
            action_id, fields = validate(event, {"action_id": uuid.uuid4().hex, **payload})
            try:
                outcome = rooms.execute(_bound_member(sids[member_id]), event, fields, action_id)
            except rooms.RitualError as error:
                db.session.rollback()
                refused[error.code] = refused.get(error.code, 0) + 1
                return False
            sizes.append(len(encode(outcome.public)))
            return True

    plan: list[tuple[int, str, dict[str, Any]]] = [(facilitator_id, "start", {})]
    for index, step in enumerate(steps):
        for n in range(args.per_step - 2):
            command = command_for(step, index, rnd)
            if command is not None:
                plan.append((rnd.choice(members[1:]), *command))
            if n == args.per_step * 7 // 10 and step["kind"] in ("checkin", "checkout"):
                plan.append((facilitator_id, "reveal", {"step": index}))
        if index + 1 < len(steps):
            plan.append((facilitator_id, "next", {}))

    profiler = cProfile.Profile() if args.profile else None
    applied = 0
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    took: list[float] = []
    for member_id, event, payload in plan:
        began = time.perf_counter()
        applied += send(member_id, event, payload)
        took.append(time.perf_counter() - began)
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    print(
        f"{args.agenda} agenda, {len(steps)} steps, {args.members} members: "
        f"{len(plan)} commands, {applied} applied; per command "
        f"{wall / len(plan) * 1000:.3f} ms wall, {cpu / len(plan) * 1000:.3f} ms CPU"
        + (f"; public view {sum(sizes) / len(sizes) / 1024:.1f} KiB" if sizes else "")
        + (f"; refused {refused}" if refused else "")
    )
    took.sort()
    print(
        "wall ms per command p50 / p99 / max: "
        + " / ".join(f"{took[int(q * (len(took) - 1))] * 1000:.2f}" for q in (0.5, 0.99, 1.0))
    )
    if profiler is not None:
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
