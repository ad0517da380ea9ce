"""The live room over Socket.IO, through Flask-SocketIO's test client."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from retro.extensions import db, socketio
from retro.messages import message_for
from retro.models import Connection
from retro.services import rooms

SIMULTANEOUS = [
    {"kind": "checkin", "prompt_id": "energy-weather", "mode": "simultaneous", "scales": []},
    {"kind": "checkout"},
]
ROUND = [
    {"kind": "checkin", "prompt_id": "energy-weather", "mode": "round", "scales": []},
    {"kind": "checkout"},
]
WITH_SCALES = [
    {
        "kind": "checkin",
        "prompt_id": "energy-weather",
        "mode": "simultaneous",
        "scales": ["energy", "relatedness"],
    },
    {"kind": "checkout"},
]
THREE_STEPS = [
    {"kind": "checkin", "prompt_id": "energy-weather", "mode": "simultaneous", "scales": []},
    {"kind": "checkin", "prompt": "What made you smile?", "mode": "simultaneous"},
    {"kind": "checkout"},
]
SCALE_NAMES = {"energy", "autonomy", "competence", "relatedness", "roti"}


class Peer:
    """One person's socket: sends commands with fresh action ids and keeps all it received."""

    def __init__(self, sock, room, token: str) -> None:
        self.sock, self.room, self.token = sock, room, token
        self.log: list[dict[str, Any]] = []
        snapshot = self.drain()[0]
        assert snapshot["name"] == "snapshot"
        self.id: int = snapshot["args"][0]["me"]["member_id"]

    def send(self, event: str, action_id: str | None = None, **args: Any) -> dict[str, Any]:
        """Emit a command and return its acknowledgement (kept in the log too)."""
        payload = {"action_id": action_id or uuid.uuid4().hex, **args}
        return self.emit(event, payload)

    def emit(self, event: str, *data: Any) -> dict[str, Any]:
        """Emit raw arguments and return the acknowledgement."""
        ack = self.sock.emit(event, *data, callback=True)
        self.log.append({"name": "ack", "args": [ack]})
        return ack

    def drain(self) -> list[dict[str, Any]]:
        """Return the messages received since the last call, keeping them in the log."""
        fresh = self.sock.get_received() if self.sock.is_connected() else []
        self.log += fresh
        return fresh

    def states(self) -> list[dict[str, Any]]:
        """Return the payloads of the `state` broadcasts received since the last drain."""
        return [m["args"][0] for m in self.drain() if m["name"] == "state"]

    def last_state(self) -> dict[str, Any]:
        """Return the newest `state` broadcast received so far."""
        self.drain()
        states = [m["args"][0] for m in self.log if m["name"] == "state"]
        assert states, "expected a state broadcast"
        return states[-1]

    def everything(self) -> str:
        """Return every message and acknowledgement received so far, as JSON text."""
        self.drain()
        return json.dumps(self.log)

    def disconnect(self) -> None:
        """Close the socket."""
        self.drain()
        self.sock.disconnect()


@pytest.fixture
def make_peer(make_socket, make_member):
    """Return a factory of connected peers: by token, or joining under a new name."""

    def make(room, token: str | None = None, name: str = "Ann") -> Peer:
        if token is None:
            _member, token = make_member(room, name)
        return Peer(make_socket(room, token), room, token)

    return make


def start_with_three(room, token: str, make_socket, make_member) -> tuple[Peer, Peer, Peer]:
    """Connect the facilitator (by `token`), Ann and Bo, start the room; return their peers."""
    fien = Peer(make_socket(room, token), room, token)
    peers = [fien]
    for name in ("Ann", "Bo"):
        _member, member_token = make_member(room, name)
        peers.append(Peer(make_socket(room, member_token), room, member_token))
    ok(fien.send("start"))
    for peer in peers:
        peer.drain()
    return peers[0], peers[1], peers[2]


@pytest.fixture
def gather(make_room, make_peer):
    """Return a factory of a room with its facilitator Fien and members Ann and Bo online."""

    def make(agenda=SIMULTANEOUS) -> tuple[Any, Peer, Peer, Peer]:
        room, _facilitator, token = make_room(agenda)
        fien = make_peer(room, token)
        ann = make_peer(room, name="Ann")
        bo = make_peer(room, name="Bo")
        for peer in (fien, ann, bo):
            peer.drain()
        return room, fien, ann, bo

    return make


def ok(ack: dict[str, Any]) -> dict[str, Any]:
    """Assert that a command was accepted and return its acknowledgement."""
    assert ack["ok"] is True, ack
    return ack


def refused(ack: dict[str, Any], code: str) -> None:
    """Assert that a command was refused with `code` and a readable message."""
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == code
    assert isinstance(ack["error"]["message"], str) and ack["error"]["message"]


def walk(value: Any) -> Iterator[Any]:
    """Yield every value nested in a JSON-like structure, itself included."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def per_person_values(messages: list[dict[str, Any]], member_ids: set[int]) -> list[Any]:
    """Return every mapping in `messages` that ties a member to a scale value."""
    ids = {str(m) for m in member_ids} | set(member_ids)
    found = []
    for node in walk(messages):
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            is_number = isinstance(value, int) and not isinstance(value, bool)
            is_scale_map = isinstance(value, dict) and bool(SCALE_NAMES & set(value))
            if key in ids and (is_number or is_scale_map):
                found.append(node)
        person = any(
            isinstance(node.get(k), int | str) and node.get(k) in ids
            for k in ("id", "member_id", "member")
        )
        if person and (SCALE_NAMES | {"value", "values"}) & set(node):
            found.append(node)
    return found


# -- connecting ---------------------------------------------------------------


def test_connecting_with_a_member_token_sends_a_full_snapshot(make_room, make_socket):
    room, facilitator, token = make_room()
    sock = make_socket(room, token)
    received = sock.get_received()
    assert received[0]["name"] == "snapshot"
    snapshot = received[0]["args"][0]
    assert snapshot["room"]["code"] == room.code
    assert snapshot["room"]["status"] == "lobby"
    assert snapshot["room"]["facilitator_id"] == facilitator.id
    assert snapshot["members"] == [{"id": facilitator.id, "name": "Fien", "online": True}]
    assert [entry["kind"] for entry in snapshot["agenda"]] == ["checkin", "checkout"]
    assert snapshot["step"] is None
    assert snapshot["timer"]["running"] is False
    assert snapshot["seq"] == room.seq
    assert snapshot["me"]["member_id"] == facilitator.id
    assert snapshot["me"]["is_facilitator"] is True
    assert len(snapshot["me"]["steps"]) == 2


def test_a_reconnecting_member_gets_the_current_state_in_the_snapshot(gather, make_peer):
    room, fien, ann, _bo = gather()
    ok(fien.send("start"))
    ok(ann.send("answer", step=0, text="Sunny"))
    ann.disconnect()
    again = make_peer(room, ann.token)
    snapshot = again.log[0]["args"][0]
    assert snapshot["room"]["status"] == "running"
    assert snapshot["step"]["answered"] == [ann.id]
    assert snapshot["me"]["member_id"] == ann.id
    assert snapshot["me"]["steps"][0]["answer"] == "Sunny"


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param(lambda code, token: None, id="no auth"),
        pytest.param(lambda code, token: {}, id="empty auth"),
        pytest.param(lambda code, token: "token", id="auth not a mapping"),
        pytest.param(lambda code, token: {"room": code}, id="no token and no session"),
        pytest.param(lambda code, token: {"room": code, "token": "nope"}, id="wrong token"),
        pytest.param(lambda code, token: {"room": code, "token": 42}, id="token not text"),
        pytest.param(lambda code, token: {"room": code, "token": ""}, id="empty token"),
        pytest.param(lambda code, token: {"room": "elsewhere", "token": token}, id="other room"),
        pytest.param(lambda code, token: {"room": code, "token": token * 10}, id="huge token"),
    ],
)
def test_a_socket_without_a_valid_member_token_is_refused(app, make_room, stored_room, auth):
    room, _facilitator, token = make_room()
    before = stored_room(room)
    sock = socketio.test_client(app, auth=auth(room.code, token))
    assert not sock.is_connected()
    assert stored_room(room) == before


def test_a_token_only_opens_the_room_it_belongs_to(app, make_room):
    room, _facilitator, _token = make_room()
    _other, _someone, other_token = make_room()
    sock = socketio.test_client(app, auth={"room": room.code, "token": other_token})
    assert not sock.is_connected()


def test_the_session_cookie_of_the_join_form_identifies_the_socket(app, client, make_room):
    room, _facilitator, _token = make_room()
    client.post(f"/r/{room.code}", data={"display_name": "Ann"})
    sock = socketio.test_client(app, flask_test_client=client, auth={"room": room.code})
    assert sock.is_connected()
    snapshot = sock.get_received()[0]["args"][0]
    names = {m["id"]: m["name"] for m in snapshot["members"]}
    assert names[snapshot["me"]["member_id"]] == "Ann"
    assert snapshot["me"]["is_facilitator"] is False
    sock.disconnect()


# -- facilitation ---------------------------------------------------------------


@pytest.fixture
def mid_meeting(gather):
    """Return a room on its second of three steps, timer running, Ann having answered."""
    room, fien, ann, bo = gather(THREE_STEPS)
    ok(fien.send("start"))
    ok(fien.send("next"))
    ok(fien.send("timer_start", seconds=60))
    ok(ann.send("answer", step=1, text="A good coffee"))
    for peer in (fien, ann, bo):
        peer.drain()
    return room, fien, ann, bo


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("next", {}),
        ("previous", {}),
        ("end", {}),
        ("timer_start", {"seconds": 120}),
        ("timer_extend", {"seconds": 30}),
        ("timer_stop", {}),
        ("handover", {"member": "bo"}),
        ("reveal", {"step": 1}),
    ],
)
def test_a_member_cannot_give_facilitator_commands(mid_meeting, stored_room, command, args):
    room, fien, ann, bo = mid_meeting
    args = {k: bo.id if v == "bo" else v for k, v in args.items()}
    before = stored_room(room)
    refused(ann.send(command, **args), "not_facilitator")
    assert stored_room(room) == before
    assert fien.states() == [] and bo.states() == []


def test_a_member_cannot_start_the_room(gather, stored_room):
    room, fien, ann, _bo = gather()
    before = stored_room(room)
    ack = ann.send("start")
    refused(ack, "not_facilitator")
    assert ack["error"]["message"] == message_for("not_facilitator")
    assert stored_room(room) == before
    assert fien.states() == []


def test_an_answer_for_another_step_is_refused_as_wrong_step(gather, stored_room):
    room, fien, ann, _bo = gather()
    ok(fien.send("start"))
    before = stored_room(room)
    refused(ann.send("answer", step=1, text="Sunny"), "wrong_step")
    refused(fien.send("reveal", step=1), "wrong_step")
    assert stored_room(room) == before


def test_an_answer_for_the_step_just_left_is_refused_as_wrong_step(gather, stored_room):
    room, fien, ann, _bo = gather()
    ok(fien.send("start"))
    ok(fien.send("next"))
    before = stored_room(room)
    refused(ann.send("answer", step=0, text="Late"), "wrong_step")
    assert stored_room(room) == before


@pytest.mark.parametrize(
    ("who", "command", "args"),
    [
        ("ann", "answer", {"step": 0, "text": "Early"}),
        ("ann", "pass", {"step": 0}),
        ("ann", "rate", {"step": 0, "values": {"energy": 3, "relatedness": 3}}),
        ("fien", "reveal", {"step": 0}),
        ("fien", "next", {}),
        ("fien", "previous", {}),
        ("fien", "timer_start", {"seconds": 60}),
    ],
)
def test_a_command_before_the_start_is_refused_as_not_running(
    gather, stored_room, who, command, args
):
    room, fien, ann, _bo = gather(WITH_SCALES)
    before = stored_room(room)
    refused({"fien": fien, "ann": ann}[who].send(command, **args), "not_running")
    assert stored_room(room) == before


def test_handover_moves_facilitation_at_once(gather):
    _room, fien, ann, bo = gather(THREE_STEPS)
    ok(fien.send("start"))
    ack = ok(fien.send("handover", member=ann.id))
    assert ack["me"]["is_facilitator"] is False
    assert bo.last_state()["room"]["facilitator_id"] == ann.id
    refused(fien.send("next"), "not_facilitator")
    ok(ann.send("next"))
    assert bo.last_state()["room"]["step_index"] == 1


def test_handover_to_someone_outside_the_room_is_refused(gather, make_room, stored_room):
    room, fien, _ann, _bo = gather()
    _elsewhere, stranger, _token = make_room(facilitator="Stranger")
    before = stored_room(room)
    refused(fien.send("handover", member=stranger.id), "unknown_member")
    assert stored_room(room) == before


def test_claiming_is_refused_while_the_facilitator_is_connected(gather, stored_room):
    room, _fien, ann, _bo = gather()
    before = stored_room(room)
    refused(ann.send("claim"), "facilitator_present")
    assert stored_room(room) == before


def test_claiming_is_refused_while_any_tab_of_the_facilitator_is_open(gather, make_peer):
    room, fien, ann, _bo = gather()
    second_tab = make_peer(room, fien.token)
    fien.disconnect()
    refused(ann.send("claim"), "facilitator_present")
    second_tab.disconnect()
    ok(ann.send("claim"))


def test_a_member_claims_facilitation_once_the_facilitator_has_no_connection(gather, make_peer):
    room, fien, ann, bo = gather(THREE_STEPS)
    ok(fien.send("start"))
    fien.disconnect()
    ack = ok(ann.send("claim"))
    assert ack["me"]["is_facilitator"] is True
    assert bo.last_state()["room"]["facilitator_id"] == ann.id
    ok(ann.send("next"))
    back = make_peer(room, fien.token)
    refused(back.send("next"), "not_facilitator")


def test_the_facilitator_cannot_claim_what_they_have(gather):
    _room, fien, _ann, _bo = gather()
    refused(fien.send("claim"), "already_facilitator")


def test_the_timer_start_extend_and_stop_appear_in_everyones_state(gather):
    _room, fien, ann, _bo = gather()
    ok(fien.send("start"))
    ok(fien.send("timer_start", seconds=60))
    timer = ann.last_state()["timer"]
    assert timer["running"] is True and timer["duration"] == 60
    assert 59 <= timer["remaining"] <= 60
    ok(fien.send("timer_extend", seconds=30))
    timer = ann.last_state()["timer"]
    assert timer["running"] is True and timer["duration"] == 90
    assert 89 <= timer["remaining"] <= 90
    ok(fien.send("timer_stop"))
    assert ann.last_state()["timer"]["running"] is False


def test_a_timer_outside_its_limits_is_refused(gather, stored_room):
    room, fien, _ann, _bo = gather()
    ok(fien.send("start"))
    before = stored_room(room)
    refused(fien.send("timer_start", seconds=5), "invalid_timer")
    refused(fien.send("timer_extend", seconds=30), "timer_not_running")
    refused(fien.send("timer_stop"), "timer_not_running")
    assert stored_room(room) == before


def test_moving_to_another_step_stops_the_timer(gather):
    _room, fien, ann, _bo = gather()
    ok(fien.send("start"))
    ok(fien.send("timer_start", seconds=60))
    ok(fien.send("next"))
    assert ann.last_state()["timer"]["running"] is False


# -- safety: hidden answers and anonymous scales --------------------------------


def test_simultaneous_answers_reach_nobody_else_before_the_reveal(gather, make_peer):
    room, fien, ann, bo = gather()
    ok(fien.send("start"))
    ok(ann.send("answer", step=0, text="Secret-of-Ann-7f3"))
    ok(bo.send("answer", step=0, text="Secret-of-Bo-2c9"))
    ok(ann.send("answer", step=0, text="Secret-of-Ann-revised-41d"))
    bo_second_tab = make_peer(room, bo.token)
    latecomer = make_peer(room, name="Cas")
    ok(fien.send("timer_start", seconds=60))
    ok(latecomer.send("answer", step=0, text="Secret-of-Cas-9ab"))

    for secret in ("Secret-of-Ann-7f3", "Secret-of-Ann-revised-41d"):
        for other in (fien, bo, bo_second_tab, latecomer):
            assert secret not in other.everything()
    for other in (fien, ann, latecomer):
        assert "Secret-of-Bo-2c9" not in other.everything()
    for other in (fien, ann, bo, bo_second_tab):
        assert "Secret-of-Cas-9ab" not in other.everything()
    # Each one's own tabs do get their own answer back.
    assert "Secret-of-Ann-revised-41d" in ann.everything()
    assert "Secret-of-Bo-2c9" in bo_second_tab.everything()
    assert fien.last_state()["step"]["answered"] == sorted([ann.id, bo.id, latecomer.id])

    ok(fien.send("reveal", step=0))
    for peer in (fien, ann, bo, bo_second_tab, latecomer):
        answers = peer.last_state()["step"]["answers"]
        assert answers == {
            str(ann.id): "Secret-of-Ann-revised-41d",
            str(bo.id): "Secret-of-Bo-2c9",
            str(latecomer.id): "Secret-of-Cas-9ab",
        }


def test_check_out_words_reach_nobody_else_before_the_reveal(gather, make_peer):
    room, fien, ann, bo = gather()
    ok(fien.send("start"))
    ok(fien.send("next"))
    ok(ann.send("answer", step=1, text="Zebrafinch"))
    ok(bo.send("answer", step=1, text="Quokka"))
    latecomer = make_peer(room, name="Cas")
    ok(fien.send("previous"))
    ok(fien.send("next"))

    for other in (fien, bo, latecomer):
        assert "Zebrafinch" not in other.everything()
    for other in (fien, ann, latecomer):
        assert "Quokka" not in other.everything()
    assert "Zebrafinch" in ann.everything()

    ok(fien.send("reveal", step=1))
    for peer in (fien, ann, bo, latecomer):
        assert peer.last_state()["step"]["answers"] == {
            str(ann.id): "Zebrafinch",
            str(bo.id): "Quokka",
        }


def test_a_withdrawn_answer_is_never_revealed(gather):
    _room, fien, ann, bo = gather()
    ok(fien.send("start"))
    ok(ann.send("answer", step=0, text="Rather not say"))
    ok(ann.send("pass", step=0))
    ok(fien.send("reveal", step=0))
    assert "Rather not say" not in bo.everything()
    assert bo.last_state()["step"]["passed"] == [ann.id]


def scale_results_received(peer: Peer) -> list[dict[str, Any]]:
    """Return every `scale_results` in the snapshots and states a peer received."""
    peer.drain()
    views = [m["args"][0] for m in peer.log if m["name"] in ("state", "snapshot")]
    return [v["step"]["scale_results"] for v in views if v["step"]]


def test_scale_results_are_never_sent_with_fewer_than_three_raters(gather):
    _room, fien, ann, bo = gather(WITH_SCALES)
    ok(fien.send("start"))
    ok(ann.send("rate", step=0, values={"energy": 5, "relatedness": 1}))
    ok(bo.send("rate", step=0, values={"energy": 2, "relatedness": 4}))
    ok(fien.send("reveal", step=0))
    for peer in (fien, ann, bo):
        results = scale_results_received(peer)
        assert results and all(r["ready"] is False and "scales" not in r for r in results)
        assert results[-1] == {"ready": False, "revealed": True, "enough": False, "needed": 3}
        assert per_person_values(peer.log, {fien.id, ann.id, bo.id}) == []


def test_scale_results_of_three_raters_are_sent_only_as_an_aggregate_at_the_reveal(gather):
    _room, fien, ann, bo = gather(WITH_SCALES)
    ok(fien.send("start"))
    ok(ann.send("rate", step=0, values={"energy": 5, "relatedness": 1}))
    ok(bo.send("rate", step=0, values={"energy": 2, "relatedness": 4}))
    ack = ok(fien.send("rate", step=0, values={"energy": 5, "relatedness": 4}))
    assert ack["me"]["steps"][0]["rated"] is True
    before_reveal = bo.last_state()["step"]["scale_results"]
    assert before_reveal == {"ready": False, "revealed": False, "enough": True, "needed": 3}
    ok(fien.send("reveal", step=0))
    assert bo.last_state()["step"]["scale_results"] == {
        "ready": True,
        "revealed": True,
        "count": 3,
        "scales": {
            "energy": {"distribution": [0, 1, 0, 0, 2], "count": 3, "average": 4.0},
            "relatedness": {"distribution": [1, 0, 0, 2, 0], "count": 3, "average": 3.0},
        },
    }
    for peer in (fien, ann, bo):
        assert [r for r in scale_results_received(peer) if r["ready"]] != []
        assert per_person_values(peer.log, {fien.id, ann.id, bo.id}) == []


def test_the_scales_close_at_the_reveal(gather, make_peer, stored_room):
    room, fien, ann, bo = gather(WITH_SCALES)
    latecomer = make_peer(room, name="Cas")
    ok(fien.send("start"))
    for peer, value in ((fien, 3), (ann, 4), (bo, 5)):
        ok(peer.send("rate", step=0, values={"energy": value, "relatedness": value}))
    ok(fien.send("reveal", step=0))
    before = stored_room(room)
    # A fourth answer after the reveal would give itself away by difference.
    refused(latecomer.send("rate", step=0, values={"energy": 1, "relatedness": 1}), "scales_closed")
    assert stored_room(room) == before


def test_every_scale_must_be_answered_at_once(gather, stored_room):
    room, fien, ann, _bo = gather(WITH_SCALES)
    ok(fien.send("start"))
    before = stored_room(room)
    refused(ann.send("rate", step=0, values={"energy": 5}), "incomplete_scales")
    assert stored_room(room) == before


def test_the_roti_is_only_sent_as_an_aggregate(gather):
    _room, fien, ann, bo = gather()
    ok(fien.send("start"))
    ok(fien.send("next"))
    ok(ann.send("rate", step=1, values={"roti": 4}))
    ok(bo.send("rate", step=1, values={"roti": 2}))
    ok(fien.send("rate", step=1, values={"roti": 4}))
    assert ann.last_state()["step"]["scale_results"]["ready"] is False
    ok(fien.send("reveal", step=1))
    roti = ann.last_state()["step"]["scale_results"]["scales"]["roti"]
    assert roti == {"distribution": [0, 1, 0, 2, 0], "count": 3, "average": 3.33}
    for peer in (fien, ann, bo):
        assert per_person_values(peer.log, {fien.id, ann.id, bo.id}) == []


def test_a_member_rates_only_once(gather, stored_room):
    room, fien, ann, _bo = gather(WITH_SCALES)
    ok(fien.send("start"))
    ok(ann.send("rate", step=0, values={"energy": 5, "relatedness": 5}))
    before = stored_room(room)
    refused(ann.send("rate", step=0, values={"energy": 1, "relatedness": 1}), "already_rated")
    assert stored_room(room) == before


# -- validation -------------------------------------------------------------------


def answer(**fields: Any) -> dict[str, Any]:
    """Return a valid answer payload for step 0 with `fields` overriding it."""
    payload = {"action_id": "a-1", "step": 0, "text": "Sunny"}
    payload.update(fields)
    return {k: v for k, v in payload.items() if v is not ...}


@pytest.mark.parametrize(
    ("event", "data", "code"),
    [
        pytest.param("answer", (answer(step="0"),), "invalid_field", id="step as text"),
        pytest.param("answer", (answer(step=True),), "invalid_field", id="step as bool"),
        pytest.param("answer", (answer(step=-1),), "invalid_field", id="negative step"),
        pytest.param("answer", (answer(text=42),), "invalid_field", id="text as number"),
        pytest.param("answer", (answer(text=None),), "invalid_field", id="text null"),
        pytest.param("answer", (answer(text=...),), "invalid_field", id="text missing"),
        pytest.param("answer", (answer(action_id=...),), "invalid_field", id="no action id"),
        pytest.param("answer", (answer(action_id=7),), "invalid_field", id="action id number"),
        pytest.param("answer", (answer(action_id=""),), "invalid_field", id="empty action id"),
        pytest.param(
            "answer", (answer(action_id="a\x00b"),), "invalid_field", id="NUL in action id"
        ),
        pytest.param("answer", (answer(action_id="x" * 65),), "invalid_field", id="long id"),
        pytest.param("answer", (answer(text="x" * 1001),), "too_long", id="answer too long"),
        pytest.param("answer", (answer(text="   "),), "empty_text", id="blank answer"),
        pytest.param("answer", (answer(member=1),), "invalid_field", id="extra member field"),
        pytest.param("answer", (answer(room="x"),), "invalid_field", id="extra room field"),
        pytest.param("answer", ("Sunny",), "invalid_payload", id="payload is text"),
        pytest.param("answer", ([0, "Sunny"],), "invalid_payload", id="payload is a list"),
        pytest.param("answer", (None,), "invalid_payload", id="payload is null"),
        pytest.param("answer", (), "invalid_payload", id="no payload"),
        pytest.param("answer", (answer(), answer()), "invalid_payload", id="several args"),
        pytest.param(
            "rate",
            ({"action_id": "r", "step": 0, "values": {"energy": 6}},),
            "invalid_field",
            id="scale value out of range",
        ),
        pytest.param(
            "rate",
            ({"action_id": "r", "step": 0, "values": {"mood": 3}},),
            "invalid_field",
            id="unknown scale name",
        ),
        pytest.param(
            "rate",
            ({"action_id": "r", "step": 0, "values": [3]},),
            "invalid_field",
            id="scale values as list",
        ),
        pytest.param(
            "timer_start", ({"action_id": "t", "seconds": "60"},), "invalid_field", id="seconds"
        ),
        pytest.param("handover", ({"action_id": "h", "member": "1"},), "invalid_field", id="who"),
        pytest.param("become_facilitator", ({"action_id": "u"},), "unknown_event", id="unknown"),
        pytest.param("message", ("hello",), "unknown_event", id="plain message event"),
    ],
)
def test_bad_input_gets_an_error_changes_nothing_and_the_connection_survives(
    gather, stored_room, event, data, code
):
    room, fien, ann, bo = gather()
    ok(fien.send("start"))
    for peer in (fien, ann, bo):
        peer.drain()
    before = stored_room(room)
    refused(ann.emit(event, *data), code)
    assert stored_room(room) == before
    assert fien.states() == [] and bo.states() == []
    assert ann.sock.is_connected()
    ok(ann.send("answer", step=0, text="Still here"))


@pytest.mark.parametrize("event", ["connect", "disconnect"])
def test_an_event_named_like_a_lifecycle_event_is_an_unknown_command(gather, stored_room, event):
    room, fien, ann, bo = gather()
    before = stored_room(room)
    refused(ann.emit(event, {"room": room.code, "token": fien.token}), "unknown_event")
    assert stored_room(room) == before
    assert fien.states() == [] and bo.states() == []
    ok(fien.send("start"))
    ack = ok(ann.send("answer", step=0, text="Still me"))
    assert ack["me"]["member_id"] == ann.id


def test_an_answer_of_exactly_the_limit_is_accepted(gather):
    _room, fien, ann, _bo = gather()
    ok(fien.send("start"))
    ack = ok(ann.send("answer", step=0, text="x" * 1000))
    assert ack["me"]["steps"][0]["answer"] == "x" * 1000


def test_an_unexpected_failure_is_acknowledged_and_the_connection_survives(
    gather, stored_room, monkeypatch
):
    room, fien, ann, _bo = gather()
    ok(fien.send("start"))
    before = stored_room(room)

    def broken(*args: Any, **kwargs: Any):
        raise RuntimeError("database on fire")

    with monkeypatch.context() as patch:
        patch.setattr(rooms, "execute", broken)
        refused(ann.send("answer", step=0, text="Sunny"), "server_error")
    assert stored_room(room) == before
    ok(ann.send("answer", step=0, text="Sunny"))


def test_a_socket_whose_connection_record_expired_is_asked_to_rejoin(gather, stored_room):
    room, fien, ann, _bo = gather()
    ok(fien.send("start"))
    db.session.query(Connection).filter_by(member_id=ann.id).delete()
    db.session.commit()
    before = stored_room(room)
    refused(ann.send("answer", step=0, text="Sunny"), "unauthorized")
    assert stored_room(room) == before


def test_hostile_html_in_an_answer_is_stored_and_sent_as_plain_text(gather):
    _room, fien, ann, bo = gather()
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    ok(fien.send("start"))
    ok(ann.send("answer", step=0, text=hostile))
    ok(fien.send("reveal", step=0))
    assert bo.last_state()["step"]["answers"][str(ann.id)] == hostile


# -- retries, presence, order -----------------------------------------------------


def test_a_retried_action_applies_once(gather, stored_room):
    room, fien, ann, bo = gather()
    ok(fien.send("start"))
    first = ok(ann.send("answer", action_id="answer-1", text="Sunny", step=0))
    assert first["duplicate"] is False
    bo.drain()
    before = stored_room(room)
    retry = ok(ann.send("answer", action_id="answer-1", text="Sunny", step=0))
    assert retry["duplicate"] is True
    assert retry["seq"] == first["seq"]
    assert retry["me"]["steps"][0]["answer"] == "Sunny"
    assert stored_room(room) == before
    assert bo.states() == []


def test_a_retry_carrying_other_content_still_applies_only_the_first(gather, stored_room):
    room, fien, ann, _bo = gather()
    ok(fien.send("start"))
    ok(ann.send("answer", action_id="answer-1", text="Sunny", step=0))
    retry = ok(ann.send("answer", action_id="answer-1", text="Stormy", step=0))
    assert retry["duplicate"] is True
    assert retry["me"]["steps"][0]["answer"] == "Sunny"


def test_action_ids_only_need_to_be_unique_per_member(gather):
    _room, fien, ann, bo = gather()
    ok(fien.send("start"))
    ok(ann.send("answer", action_id="1", text="Sunny", step=0))
    ack = ok(bo.send("answer", action_id="1", text="Cloudy", step=0))
    assert ack["duplicate"] is False
    assert ack["me"]["steps"][0]["answer"] == "Cloudy"


def test_a_refused_action_can_be_retried_once_it_is_allowed(gather):
    _room, fien, ann, _bo = gather()
    refused(ann.send("answer", action_id="early", text="Sunny", step=0), "not_running")
    ok(fien.send("start"))
    ack = ok(ann.send("answer", action_id="early", text="Sunny", step=0))
    assert ack["duplicate"] is False


def test_presence_flips_when_a_member_connects_and_disconnects(make_room, make_peer):
    room, _facilitator, token = make_room()
    fien = make_peer(room, token)
    ann = make_peer(room, name="Ann")
    online = {m["id"]: m["online"] for m in fien.last_state()["members"]}
    assert online == {fien.id: True, ann.id: True}
    ann.disconnect()
    online = {m["id"]: m["online"] for m in fien.last_state()["members"]}
    assert online == {fien.id: True, ann.id: False}


def test_a_member_stays_online_while_another_tab_is_open(make_room, make_peer):
    room, _facilitator, token = make_room()
    fien = make_peer(room, token)
    ann = make_peer(room, name="Ann")
    ann_second_tab = make_peer(room, ann.token)
    ann.disconnect()
    online = {m["id"]: m["online"] for m in fien.last_state()["members"]}
    assert online[ann_second_tab.id] is True


def test_private_views_only_go_to_the_members_own_tabs(gather, make_peer):
    room, fien, ann, bo = gather()
    ann_second_tab = make_peer(room, ann.token)
    ok(fien.send("start"))
    ok(ann.send("answer", step=0, text="Sunny"))
    for peer in (fien, ann, bo, ann_second_tab):
        peer.drain()
    mine = [m["args"][0]["member_id"] for m in ann_second_tab.log if m["name"] == "me"]
    assert mine and set(mine) == {ann.id}
    for other, own_id in ((fien, fien.id), (bo, bo.id)):
        assert {m["args"][0]["member_id"] for m in other.log if m["name"] == "me"} <= {own_id}


def test_broadcast_sequence_numbers_strictly_increase(gather, make_peer):
    room, fien, ann, bo = gather(WITH_SCALES)
    acks = [
        ok(fien.send("start")),
        ok(ann.send("answer", step=0, text="Sunny")),
        ok(bo.send("rate", step=0, values={"energy": 3, "relatedness": 2})),
        ok(fien.send("timer_start", seconds=60)),
    ]
    latecomer = make_peer(room, name="Cas")
    acks += [ok(fien.send("reveal", step=0)), ok(fien.send("next"))]
    bo.disconnect()
    acks.append(ok(fien.send("end")))
    for peer in (fien, ann, latecomer):
        peer.drain()
        seqs = [m["args"][0]["seq"] for m in peer.log if m["name"] == "state"]
        assert seqs == sorted(set(seqs)) and len(seqs) >= 4
    fien_seqs = {m["args"][0]["seq"] for m in fien.log if m["name"] == "state"}
    assert {ack["seq"] for ack in acks} <= fien_seqs


# -- talking stick ----------------------------------------------------------------


@pytest.fixture
def round_started(gather):
    """Return a started round-mode check-in: (fien, peers in speaking order)."""
    _room, fien, ann, bo = gather(ROUND)
    ok(fien.send("start"))
    step = fien.last_state()["step"]
    by_id = {p.id: p for p in (fien, ann, bo)}
    assert sorted(step["order"]) == sorted(by_id)
    assert step["speaker"] == step["order"][0]
    return fien, [by_id[m] for m in step["order"]]


def test_in_a_round_only_the_speaker_may_answer(round_started):
    fien, (first, second, third) = round_started
    refused(second.send("answer", step=0, text="Me first"), "not_your_turn")
    ok(first.send("answer", step=0, text="Sunny with clouds"))
    for peer in (second, third):
        assert peer.last_state()["step"]["answers"] == {str(first.id): "Sunny with clouds"}


def test_passing_the_turn_hands_the_stick_to_the_next_in_order(round_started):
    fien, (first, second, third) = round_started
    ok(first.send("answer", step=0, text="Sunny"))
    ok(first.send("pass_turn", step=0))
    step = third.last_state()["step"]
    assert step["speaker"] == second.id
    assert step["heard"] == [first.id]
    assert step["waiting"] == [second.id, third.id]
    ok(second.send("answer", step=0, text="Foggy"))


def test_only_the_speaker_or_the_facilitator_ends_a_turn(round_started):
    fien, order = round_started
    if order[0] is fien:  # let the facilitator's own turn go by first
        ok(fien.send("pass_turn", step=0))
    speaker, other = [p for p in order if p is not fien]
    refused(other.send("pass_turn", step=0), "not_your_turn")
    ok(fien.send("pass_turn", step=0))
    step = other.last_state()["step"]
    assert step["heard"][-1] == speaker.id
    assert step["speaker"] != speaker.id


def test_anyone_may_pass_and_is_skipped_by_the_stick(round_started):
    _fien, (first, second, third) = round_started
    ok(third.send("pass", step=0))
    assert first.last_state()["step"]["waiting"] == [first.id, second.id]
    ok(first.send("pass_turn", step=0))
    ok(second.send("pass_turn", step=0))
    step = first.last_state()["step"]
    assert step["speaker"] is None
    assert step["waiting"] == []
    assert step["passed"] == [third.id]
    refused(second.send("pass_turn", step=0), "round_complete")


def test_the_speaker_passing_hands_on_the_stick(round_started):
    _fien, (first, second, _third) = round_started
    ok(first.send("pass", step=0))
    assert second.last_state()["step"]["speaker"] == second.id


def test_a_member_arriving_mid_round_joins_the_end_of_the_order(round_started, make_peer):
    fien, order = round_started
    latecomer = make_peer(fien.room, name="Cas")
    step = fien.last_state()["step"]
    assert step["order"] == [p.id for p in order] + [latecomer.id]


# -- ended rooms and rate limits ---------------------------------------------------


@pytest.mark.parametrize(
    ("who", "command", "args"),
    [
        ("fien", "start", {}),
        ("fien", "next", {}),
        ("fien", "previous", {}),
        ("fien", "end", {}),
        ("fien", "timer_start", {"seconds": 60}),
        ("fien", "handover", {"member": "ann"}),
        ("fien", "reveal", {"step": 0}),
        ("ann", "next", {}),
        ("ann", "claim", {}),
        ("ann", "answer", {"step": 0, "text": "Too late"}),
        ("ann", "pass", {"step": 0}),
        ("ann", "rate", {"step": 0, "values": {"energy": 4, "relatedness": 4}}),
    ],
)
def test_a_room_that_ended_refuses_every_command(gather, stored_room, who, command, args):
    room, fien, ann, _bo = gather(WITH_SCALES)
    ok(fien.send("start"))
    ok(fien.send("end"))
    args = {k: ann.id if v == "ann" else v for k, v in args.items()}
    before = stored_room(room)
    refused({"fien": fien, "ann": ann}[who].send(command, **args), "room_ended")
    assert stored_room(room) == before


def test_ending_the_room_is_broadcast_to_everyone(gather):
    _room, fien, ann, bo = gather()
    ok(fien.send("start"))
    ok(fien.send("end"))
    assert ann.last_state()["room"]["status"] == "ended"
    assert bo.last_state()["room"]["status"] == "ended"


def test_the_thirty_first_quick_command_is_rate_limited(gather, stored_room):
    room, _fien, ann, _bo = gather()
    for _ in range(30):
        refused(ann.send("timer_stop"), "not_facilitator")
    before = stored_room(room)
    refused(ann.send("timer_stop"), "rate_limited")
    assert stored_room(room) == before
    assert ann.sock.is_connected()


def test_the_rate_limit_counts_per_socket(gather, make_peer):
    room, fien, ann, _bo = gather()
    for _ in range(30):
        ann.send("timer_stop")
    refused(ann.send("claim"), "rate_limited")
    ok(fien.send("start"))
    ok(make_peer(room, ann.token).send("answer", step=0, text="Other tab"))


# -- the facilitator's grace period, viewers, stale records ---------------------------


def test_a_take_over_is_refused_right_after_the_facilitator_left_and_allowed_after_the_grace(
    app, gather, monkeypatch
):
    app.config["CLAIM_GRACE"] = 60
    _room, fien, ann, _bo = gather()
    fien.disconnect()
    state = ann.last_state()
    assert state["room"]["claimable_at"] == pytest.approx(state["server_time"] + 60, abs=2)
    refused(ann.send("claim"), "facilitator_present")
    later = state["server_time"] + 61
    monkeypatch.setattr("retro.services.rooms.time.time", lambda: later)
    ok(ann.send("claim"))
    assert ann.last_state()["room"]["facilitator_id"] == ann.id


def test_a_returning_facilitator_is_no_longer_claimable(app, gather, make_peer):
    app.config["CLAIM_GRACE"] = 60
    room, fien, ann, _bo = gather()
    fien.disconnect()
    assert ann.last_state()["room"]["claimable_at"] is not None
    make_peer(room, fien.token)
    assert ann.last_state()["room"]["claimable_at"] is None


def test_a_projector_follows_the_room_without_taking_part(app, gather, make_room):
    room, fien, ann, bo = gather(ROUND)
    projector = socketio.test_client(
        app, auth={"room": room.code, "token": fien.token, "view": "projector"}
    )
    try:
        snapshot = projector.get_received()[0]["args"][0]
        assert snapshot["room"]["code"] == room.code
        fien.disconnect()
        # The projector tab keeps nobody online ...
        online = {m["name"]: m["online"] for m in ann.last_state()["members"]}
        assert online == {"Fien": False, "Ann": True, "Bo": True}
        # ... and is not put in the talking-stick order when the round begins.
        fien2 = socketio.test_client(app, auth={"room": room.code, "token": fien.token})
        ok(fien2.emit("start", {"action_id": "start"}, callback=True))
        order = ann.last_state()["step"]["order"]
        assert sorted(order) == sorted([ann.id, bo.id, fien.id])
        fien2.disconnect()
    finally:
        projector.disconnect()


def test_a_record_whose_socket_is_gone_is_dropped_by_the_upkeep(app, gather, make_connection):
    from retro.sockets import upkeep

    room, _fien, ann, _bo = gather()
    # A record left behind by a disconnect handler that failed:
    ghost = make_connection(ann.id, server_id=app.config["SERVER_ID"])
    ann.disconnect()
    assert {m["name"]: m["online"] for m in rooms.snapshot(ann.id).public["members"]}["Ann"]
    upkeep(app.config["SERVER_ID"], timeout=3600)
    assert db.session.get(Connection, ghost) is None
    online = {m["name"]: m["online"] for m in rooms.snapshot(ann.id).public["members"]}
    assert online == {"Fien": True, "Ann": False, "Bo": True}


def test_every_broadcast_is_already_committed_when_it_is_sent(app, gather, monkeypatch):
    from sqlalchemy import create_engine, text

    # A separate engine, so a separate connection: it sees only what was committed.
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    _room, fien, ann, _bo = gather()
    seen: list[tuple[int, int]] = []
    emit = socketio.emit

    def checking_emit(event, data=None, *args, **kwargs):
        if event == "state":
            with other.connect() as connection:
                stored = connection.scalar(text("SELECT seq FROM rooms"))
            seen.append((data["seq"], stored))
        return emit(event, data, *args, **kwargs)

    monkeypatch.setattr(socketio, "emit", checking_emit)
    try:
        ok(fien.send("start"))
        ok(ann.send("answer", step=0, text="Sunny"))
        ok(fien.send("reveal", step=0))
    finally:
        other.dispose()
    assert len(seen) == 3
    assert all(sent <= stored for sent, stored in seen), seen


def test_a_projector_socket_cannot_give_commands(app, gather):
    room, fien, _ann, _bo = gather()
    projector = socketio.test_client(
        app, auth={"room": room.code, "token": fien.token, "view": "projector"}
    )
    try:
        ack = projector.emit("start", {"action_id": "from-the-wall"}, callback=True)
        refused(ack, "viewer_only")
        assert rooms.snapshot(fien.id).public["room"]["status"] == "lobby"
    finally:
        projector.disconnect()


def test_handing_over_to_someone_away_starts_their_grace_period_afresh(
    app, gather, make_member, monkeypatch
):
    app.config["CLAIM_GRACE"] = 60
    room, fien, ann, _bo = gather()
    absent, _token = make_member(room, "Cas")
    ok(fien.send("handover", member=absent.id))
    claimable = ann.last_state()["room"]["claimable_at"]
    assert claimable == pytest.approx(ann.last_state()["server_time"] + 60, abs=2)
    refused(ann.send("claim"), "facilitator_present")


def test_an_ended_room_cannot_be_claimed_and_says_so(app, gather):
    _room, fien, ann, _bo = gather()
    ok(fien.send("end"))
    fien.disconnect()
    assert ann.last_state()["room"]["claimable_at"] is None
    refused(ann.send("claim"), "room_ended")
