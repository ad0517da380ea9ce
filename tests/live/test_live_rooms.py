"""The real server, real WebSockets: whole rooms, reconnects, and a server killed mid-round."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import socketio

from tests.live.conftest import LiveServer, Peer, normalize, wait_until

pytestmark = pytest.mark.live

MEMBERS = ("Ann", "Bob", "Cas")
AGENDA = [
    {"kind": "checkin", "prompt_id": "energy-weather", "mode": "round", "scales": ["energy"]},
    {"kind": "checkout"},
]


@dataclass
class Seat:
    """Who someone is in a room: name, member id and secret token."""

    name: str
    member_id: int
    token: str


@dataclass
class Room:
    """A room created through the API: its code, facilitator and members."""

    code: str
    facilitator: Seat
    members: list[Seat]

    @property
    def seats(self) -> list[Seat]:
        """Return the facilitator followed by the members."""
        return [self.facilitator, *self.members]


def open_room(server: LiveServer) -> Room:
    """Create a team and a room with a check-in round and a check-out; three members join."""
    team = server.post("/api/teams", {"name": "Live team"})
    made = server.post(
        f"/api/teams/{team['key']}/rooms", {"facilitator_name": "Fien", "agenda": AGENDA}
    )
    members = []
    for name in MEMBERS:
        joined = server.post(f"/api/rooms/{made['code']}/members", {"display_name": name})
        members.append(Seat(name, joined["member_id"], joined["token"]))
    return Room(made["code"], Seat("Fien", made["member_id"], made["token"]), members)


def join_all(room: Room, server: LiveServer, peers, reconnect: bool = False) -> list[Peer]:
    """Connect everyone in the room and wait until everyone sees everyone online."""
    clients = [peers(server, room.code, s.token, s.name, reconnect=reconnect) for s in room.seats]
    for client, seat in zip(clients, room.seats, strict=True):
        assert client.member_id == seat.member_id
    settle(clients, lambda view: all(m["online"] for m in view["members"]), "all online")
    return clients


def settle(clients: list[Peer], condition=None, what: str = "") -> dict[str, Any]:
    """Wait until every client's latest view has the same seq (and meets `condition`)."""

    def agreed() -> dict[str, Any] | None:
        views = [c.latest for c in clients]
        if any(v is None for v in views) or len({v["seq"] for v in views}) != 1:
            return None
        if condition is not None and not condition(views[0]):
            return None
        return views[0]

    return wait_until(agreed, what=what or "all clients to agree")


def after(clients: list[Peer], seq: int, condition=None, what: str = "") -> dict[str, Any]:
    """Wait until every client saw change `seq` (or later) and agrees; return the view."""
    return settle(
        clients,
        lambda view: view["seq"] >= seq and (condition is None or condition(view)),
        what or f"seq {seq}",
    )


def open_sockets(server: LiveServer) -> int:
    """Return how many sockets the server's database holds as open."""
    return server.query("SELECT count(*) FROM connections")[0][0]


def online(view: dict[str, Any]) -> dict[int, bool]:
    """Return member id -> online, from a room view."""
    return {m["id"]: m["online"] for m in view["members"]}


def run_round(
    clients: list[Peer], by_id: dict[int, Peer], passer: int, stop_after: int | None = None
) -> dict[str, Any]:
    """Let each speaker answer and pass the stick; `passer` passes. Return the last view.

    With `stop_after`, stop once that many turns were taken.
    """
    view = settle(clients)
    turns = 0
    while view["step"]["speaker"] is not None and (stop_after is None or turns < stop_after):
        speaker = by_id[view["step"]["speaker"]]
        if speaker.member_id == passer:
            seq = speaker.do("pass", step=0)
        else:
            text = f"{speaker.name} feels sunny"
            seq = speaker.do("answer", step=0, text=text)
            # The speaker's answer is live for everyone before the stick moves on.
            after(
                clients,
                seq,
                lambda v, s=speaker, t=text: v["step"]["answers"][str(s.member_id)] == t,
            )
            seq = speaker.do("pass_turn", step=0)
        view = after(clients, seq)
        turns += 1
    return view


def assert_round_complete(view: dict[str, Any], room: Room, passer: int) -> None:
    """Check a finished round: everyone heard or passed, every answer kept."""
    step = view["step"]
    everyone = {s.member_id for s in room.seats}
    assert step["kind"] == "checkin" and step["started"]
    assert set(step["order"]) == everyone
    assert step["speaker"] is None and step["waiting"] == []
    assert step["passed"] == [passer]
    assert set(step["heard"]) == everyone - {passer}
    assert step["answers"] == {
        str(s.member_id): f"{s.name} feels sunny" for s in room.seats if s.member_id != passer
    }


def aggregate(step: dict[str, Any], scale: str) -> tuple[int, list[int]]:
    """Return (responders, distribution) of a published scale of a step."""
    results = step["scale_results"]
    assert results["ready"], results
    return results["count"], results["scales"][scale]["distribution"]


def assert_converged(clients: list[Peer]) -> dict[str, Any]:
    """Every client ends with the same state, and saw sequence numbers only go up."""
    view = settle(clients)
    finals = [normalize(c.states[-1]) for c in clients]
    for client, final in zip(clients, finals, strict=True):
        assert final == finals[0], f"{client} ended with a different state"
        client.assert_seq_increasing()
    return view


def check_out(clients: list[Peer], facilitator: Peer, passer: Peer) -> dict[str, Any]:
    """Go to the check-out: a word each (one passes), a ROTI by everyone, reveal, end."""
    view = after(clients, facilitator.do("next"))
    assert view["room"]["step_index"] == 1 and view["step"]["kind"] == "checkout"
    for client in clients:
        if client is passer:
            client.do("pass", step=1)
        else:
            client.do("answer", step=1, text=f"{client.name}-word")
    # Words stay hidden until the reveal; only who answered is public.
    view = settle(clients, lambda v: len(v["step"]["answered"]) == len(clients) - 1)
    assert view["step"]["answers"] == {}
    rotis = [5, 4, 4, 2]
    for client, roti in zip(clients, rotis, strict=True):
        client.do("rate", step=1, values={"roti": roti})
    view = after(clients, facilitator.do("reveal", step=1))
    step = view["step"]
    assert step["revealed"]
    assert step["answers"] == {
        str(c.member_id): f"{c.name}-word" for c in clients if c is not passer
    }
    assert step["passed"] == [passer.member_id]
    assert aggregate(step, "roti") == (4, [0, 1, 0, 2, 1])
    return after(clients, facilitator.do("end"), lambda v: v["room"]["status"] == "ended")


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_a_whole_check_in_round_and_check_out(live_server, peers, mode):
    server = live_server(mode)
    room = open_room(server)
    clients = join_all(room, server, peers)
    facilitator, ann, bob, cas = clients
    by_id = {c.member_id: c for c in clients}

    view = after(clients, facilitator.do("start"))
    assert view["room"]["status"] == "running" and view["room"]["step_index"] == 0
    assert view["step"]["speaker"] in by_id

    view = run_round(clients, by_id, passer=bob.member_id)
    assert_round_complete(view, room, bob.member_id)

    # Anonymous energy: only ever a team aggregate, published at the reveal.
    for client, energy in ((facilitator, 4), (ann, 2), (cas, 3)):
        view = after(clients, client.do("rate", step=0, values={"energy": energy}))
        assert not view["step"]["scale_results"]["ready"]
    view = after(clients, facilitator.do("reveal", step=0))
    assert aggregate(view["step"], "energy") == (3, [0, 1, 1, 1, 0])

    view = check_out(clients, facilitator, passer=bob)
    assert view["room"]["status"] == "ended"
    final = assert_converged(clients)
    assert all(online(final).values())


def test_a_client_that_reconnects_mid_round_ends_like_the_others(live_server, peers):
    server = live_server("gevent")
    room = open_room(server)
    clients = join_all(room, server, peers, reconnect=True)
    facilitator = clients[0]
    by_id = {c.member_id: c for c in clients}

    view = after(clients, facilitator.do("start"))
    speaker = by_id[view["step"]["speaker"]]
    seq = speaker.do("answer", step=0, text=f"{speaker.name} feels sunny")
    after(clients, seq)

    # A member who is not speaking closes the tab; the room sees them go.
    leaver = next(c for c in clients[1:] if c is not speaker)
    leaver.close()
    others = [c for c in clients if c is not leaver]
    after(others, seq + 1, lambda v: not online(v)[leaver.member_id], "leaver offline")
    # The round goes on without them.
    after(others, speaker.do("pass_turn", step=0))

    # They come back in a new client with the same token: same member, current state.
    seat = next(s for s in room.seats if s.member_id == leaver.member_id)
    back = peers(server, room.code, seat.token, seat.name)
    snapshot = back.snapshots[-1]
    assert snapshot["me"]["member_id"] == leaver.member_id
    assert online(snapshot)[leaver.member_id]
    clients[clients.index(leaver)] = back
    by_id[back.member_id] = back
    latest = settle(clients)
    assert latest["seq"] == snapshot["seq"]
    for other in others:
        assert normalize(other.latest) == normalize(snapshot), f"{other} sees another state"

    # Another member loses the network; python-socketio reconnects by itself.
    dropper = next(c for c in clients[1:] if c is not back)
    dropper.drop()
    wait_until(lambda: dropper.reconnected(1), what="reconnect")
    snapshot = dropper.snapshots[-1]
    assert snapshot["me"]["member_id"] == dropper.member_id
    # The server may notice the lost socket before or after the new one, so compare
    # with what the others were sent at the snapshot's own seq.
    for other in clients:
        if other is not dropper:
            sent = wait_until(lambda o=other: o.state_at(snapshot["seq"]), what="the rejoin")
            assert normalize(sent) == normalize(snapshot), f"{other} saw another state"
    settle(clients, lambda v: all(online(v).values()), "all online again")

    passer = next(c for c in clients[1:] if c is not speaker)
    view = run_round(clients, by_id, passer=passer.member_id)
    assert_round_complete(view, room, passer.member_id)
    after(clients, facilitator.do("end"), lambda v: v["room"]["status"] == "ended")
    assert_converged(clients)


def test_the_room_survives_the_server_being_killed_mid_round(live_server, peers):
    # Short presence times, so that the killed process's sockets expire quickly.
    server = live_server("gevent", RETRO_PRESENCE_TIMEOUT="3", RETRO_PRESENCE_HEARTBEAT="1")
    room = open_room(server)
    clients = join_all(room, server, peers, reconnect=True)
    facilitator = clients[0]
    by_id = {c.member_id: c for c in clients}
    passer = clients[2]

    after(clients, facilitator.do("start"))
    view = run_round(clients, by_id, passer=passer.member_id, stop_after=1)
    # The second speaker has answered but still holds the stick when the server dies.
    speaker = by_id[view["step"]["speaker"]]
    if speaker is passer:
        view = run_round(clients, by_id, passer=passer.member_id, stop_after=1)
        speaker = by_id[view["step"]["speaker"]]
    ack = speaker.call("answer", action_id="answer-before-kill", step=0, text="still here")
    assert ack["ok"], ack
    before = after(clients, ack["seq"])

    server.kill()
    wait_until(lambda: not any(c.connected for c in clients), what="clients to notice")
    server.restart()

    # Everyone is back by python-socketio's own reconnection, with a fresh snapshot.
    wait_until(lambda: all(c.reconnected(1) for c in clients), what="reconnects")
    for client in clients:
        snapshot = client.snapshots[-1]
        assert snapshot["seq"] > before["seq"]
        assert snapshot["me"]["member_id"] == client.member_id
        assert snapshot["room"] == before["room"]
        assert snapshot["step"] == before["step"]
    view = settle(clients, lambda v: all(online(v).values()), "all online after restart")
    assert view["step"]["answers"][str(speaker.member_id)] == "still here"

    # A client retrying its last action after the restart does not apply it twice.
    ack = speaker.call("answer", action_id="answer-before-kill", step=0, text="still here")
    assert ack["ok"] and ack["duplicate"], ack

    # The dead process's sockets expire: someone who leaves now shows offline...
    leaver = next(c for c in clients[1:] if c not in (speaker, passer))
    leaver.close()
    others = [c for c in clients if c is not leaver]
    settle(others, lambda v: not online(v)[leaver.member_id], "stale sockets expired")
    # ... and online again when they come back.
    seat = next(s for s in room.seats if s.member_id == leaver.member_id)
    back = peers(server, room.code, seat.token, seat.name)
    clients[clients.index(leaver)] = back
    by_id[back.member_id] = back
    settle(clients, lambda v: all(online(v).values()), "back online")
    # Only the four live sockets are left in storage.
    wait_until(lambda: open_sockets(server) == 4, what="only live sockets stored")

    seq = speaker.do("pass_turn", step=0)
    after(clients, seq)
    view = run_round(clients, by_id, passer=passer.member_id)
    step = view["step"]
    assert step["speaker"] is None and step["waiting"] == []
    assert step["answers"][str(speaker.member_id)] == "still here"
    assert len(step["answers"]) == 3 and step["passed"] == [passer.member_id]
    view = check_out(clients, facilitator, passer=passer)
    assert view["room"]["status"] == "ended"
    final = assert_converged(clients)
    assert final["seq"] > before["seq"]


def test_a_socket_with_a_wrong_token_is_refused_with_a_code_and_a_message(live_server):
    server = live_server()
    team = server.post("/api/teams", {"name": "Refusers"})
    room = server.post(
        f"/api/teams/{team['key']}/rooms", {"facilitator_name": "Fien", "agenda": AGENDA}
    )
    client = socketio.Client(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            server.url,
            auth={"room": room["code"], "token": "not-a-token"},
            transports=["websocket"],
        )
    client.disconnect()
    message = "Join the room from its link first."
    assert errors == [{"message": message, "data": {"code": "unauthorized", "message": message}}]
