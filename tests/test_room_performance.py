"""What keeps a room's change cheap, and the rules that must hold while it is.

A change reads and writes plain rows (retro/services/rooms.py), rebuilds only the steps
it uses, records the action id before anything else, and JSON goes through orjson
(retro/jsoncodec.py); `python -m bench.change_cost` measures what that costs.
"""

from __future__ import annotations

import json
import threading
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from socketio import packet
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from retro import jsoncodec
from retro.extensions import db
from retro.models import ProcessedAction
from retro.rituals import CheckOut, RitualError
from retro.services import rooms
from retro.sockets import RoomPacket

CHECKINS = [
    {"kind": "checkin", "prompt": f"Check-in {n}", "mode": "simultaneous"} for n in range(12)
]


@contextmanager
def statements() -> Iterator[list[str]]:
    """Collect the SQL statements run meanwhile, each as its first two words and table."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(" ".join(statement.split()[:4]))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def started_room(make_room, make_member, make_connection, members: int, steps: int):
    """Return a running room of `steps` check-ins and `members` online members besides Fien."""
    room, fien, _token = make_room(CHECKINS[:steps])
    people = [make_member(room, f"Member {n}")[0] for n in range(members)]
    for member in [fien, *people]:
        make_connection(member.id)
    rooms.execute(fien.id, "start", {}, "start")
    return room, fien, people


def test_an_answer_runs_the_same_few_statements_in_a_small_and_a_full_room(
    make_room, make_member, make_connection, act
):
    counts = []
    for members, steps in ((2, 2), (49, 12)):
        _room, _fien, people = started_room(make_room, make_member, make_connection, members, steps)
        first, second = people[0].id, people[1].id
        act(first, "answer", step=0, text="Warming up")  # the timer's first write
        with statements() as seen:
            act(second, "answer", step=0, text="Sunny")
        counts.append(len(seen))
        # The room's seq, the action, the steps, the members with who is online, and
        # the one step that changed: nothing per member, per step or per ORM object.
        assert len(seen) <= 5, seen
        assert sum(s.startswith("UPDATE steps") for s in seen) == 1, seen
    assert counts[0] == counts[1]


def test_a_rooms_steps_are_rebuilt_when_first_used():
    Stored = namedtuple("Stored", "id position kind state")
    steps = rooms.Steps([Stored(n, n, "checkout", CheckOut.create().to_state()) for n in range(3)])
    assert list(steps.used()) == []
    assert steps[1].kind == "checkout"
    assert [stored.position for stored, _ritual in steps.used()] == [1]
    assert steps[:2] == [steps[0], steps[1]] and steps[-1] is steps[2]
    assert len(list(steps)) == len(steps) == len(list(steps.used())) == 3


def test_a_change_writes_back_only_the_step_it_changed(
    make_room, make_member, make_connection, act, stored_room
):
    room, fien, people = started_room(make_room, make_member, make_connection, 2, 3)
    before = stored_room(room)["steps"]
    act(people[0].id, "answer", step=0, text="Sunny")
    after = stored_room(room)["steps"]
    assert after[0]["answers"] == {str(people[0].id): "Sunny"}
    assert after[1:] == before[1:]
    # Moving on changes the step entered (and the room), and its view shows it begun.
    outcome = act(fien.id, "next")
    assert outcome.public["step"]["started"] is True
    assert stored_room(room)["steps"][1]["started"] is True


def test_a_retry_racing_its_first_attempt_applies_once(
    app, make_room, make_member, make_connection, stored_room
):
    room, _fien, people = started_room(make_room, make_member, make_connection, 1, 1)
    ann = people[0]
    seq = stored_room(room)["seq"]
    barrier = threading.Barrier(2)
    outcomes: list[rooms.Outcome] = []
    errors: list[BaseException] = []

    def send(text: str) -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcomes.append(rooms.execute(ann.id, "answer", {"step": 0, "text": text}, "a-1"))
            except BaseException as error:  # re-raised in the test thread
                errors.append(error)

    threads = [threading.Thread(target=send, args=(text,)) for text in ("First", "Again")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(o.duplicate for o in outcomes) == [False, True]
    assert {o.seq for o in outcomes} == {seq + 1}
    stored = stored_room(room)
    assert stored["seq"] == seq + 1
    assert stored["steps"][0]["answers"][str(ann.id)] in ("First", "Again")
    assert stored["actions"] == 2  # the start and this answer, once


def test_a_retry_is_answered_as_a_duplicate_even_after_the_room_ended(
    make_room, make_member, make_connection, act, stored_room
):
    room, fien, people = started_room(make_room, make_member, make_connection, 1, 1)
    first = act(people[0].id, "answer", action_id="a-1", step=0, text="Sunny")
    act(fien.id, "end")
    state = stored_room(room)
    again = act(people[0].id, "answer", action_id="a-1", step=0, text="Sunny")
    assert again.duplicate is True and again.seq == first.seq
    assert again.public["room"]["status"] == "ended"
    assert stored_room(room) == state
    with pytest.raises(RitualError) as refused:
        act(people[0].id, "answer", action_id="a-2", step=0, text="Late")
    assert refused.value.code == "room_ended"


def test_a_refused_command_leaves_no_action_behind(
    make_room, make_member, make_connection, act, stored_room
):
    room, _fien, people = started_room(make_room, make_member, make_connection, 1, 2)
    state = stored_room(room)
    with pytest.raises(RitualError):
        act(people[0].id, "answer", action_id="a-1", step=1, text="Too soon")
    assert stored_room(room) == state
    # The same action id is free again: nothing of the refused command was kept.
    assert act(people[0].id, "answer", action_id="a-1", step=0, text="Now").duplicate is False


def test_another_integrity_error_is_not_taken_for_a_duplicate(
    make_room, make_member, make_connection, act, stored_room, monkeypatch
):
    room, _fien, people = started_room(make_room, make_member, make_connection, 1, 1)
    state = stored_room(room)

    def clash(*_args) -> None:
        raise IntegrityError("INSERT INTO deeds ...", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(rooms, "_step_command", clash)
    with pytest.raises(IntegrityError):
        act(people[0].id, "answer", action_id="a-1", step=0, text="Sunny")
    assert stored_room(room) == state


def test_changes_work_without_returning_as_on_sqlite_before_3_35(
    make_room, make_member, make_connection, act, stored_room, monkeypatch
):
    room, fien, people = started_room(make_room, make_member, make_connection, 2, 2)
    seq = stored_room(room)["seq"]
    monkeypatch.setattr(db.session.get_bind().dialect, "update_returning", False)
    with statements() as seen:
        outcome = act(people[0].id, "answer", step=0, text="Sunny")
    assert not any("RETURNING" in s for s in seen)
    assert outcome.seq == outcome.public["seq"] == seq + 1
    assert outcome.public["room"]["team"] == "The A-team"
    assert rooms.disconnect(rooms.server_sids("test-server")[0]).seq == seq + 2
    assert stored_room(room)["seq"] == seq + 2
    assert fien.id in {m["id"] for m in outcome.public["members"]}


def test_text_that_orjson_refuses_is_stored_and_sent_all_the_same(
    make_room, make_member, make_connection, act
):
    # A lone surrogate (half an emoji cut by a browser) is what orjson cannot encode.
    text = "half \ud83d an emoji"
    _room, fien, people = started_room(make_room, make_member, make_connection, 1, 1)
    act(people[0].id, "answer", step=0, text=text)
    outcome = act(fien.id, "reveal", step=0)
    assert outcome.public["step"]["answers"][str(people[0].id)] == text
    sent = RoomPacket(packet.EVENT, data=["state", outcome.public]).encode()
    assert packet.Packet(encoded_packet=sent).data[1]["step"]["answers"] == {
        str(people[0].id): text
    }
    assert db.session.scalar(select(func.count()).select_from(ProcessedAction)) == 3


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, 2.5, None, True], "b": "Zoë"},
        {1: "member ids as keys"},
        "lone \udc00 surrogate",
        [2**70],
    ],
)
def test_the_json_codec_writes_what_the_json_module_would(value):
    assert json.loads(jsoncodec.dumps(value)) == json.loads(json.dumps(value))


def test_the_json_codec_writes_nan_as_null_which_every_json_parser_reads():
    assert jsoncodec.dumps([float("nan")]) == "[null]"


@pytest.mark.parametrize(
    "text", ['{"a":[1,2.5,null,true],"b":"Zo\\u00eb"}', '"lone \\udc00"', "[NaN]", "[1e400]"]
)
def test_the_json_codec_reads_what_the_json_module_would(text):
    assert repr(jsoncodec.loads(text)) == repr(json.loads(text))


def test_a_room_packet_is_never_binary_and_reads_as_standard_socket_io():
    view = {"seq": 3, "room": {"title": "Zoë's room"}, "members": [{"id": 1, "online": True}]}
    encoded = RoomPacket(packet.EVENT, data=["state", view]).encode()
    assert encoded.startswith(str(packet.EVENT))
    assert packet.Packet(encoded_packet=encoded).data == ["state", view]
    assert RoomPacket(encoded_packet=encoded).data == ["state", view]
