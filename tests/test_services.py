"""The room service: presence upkeep, idempotent commands, snapshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from retro.extensions import db
from retro.models import Connection, ProcessedAction
from retro.models.base import utcnow
from retro.rituals import RitualError
from retro.services import rooms


def age(sid: str, seconds: int) -> None:
    """Pretend the socket `sid` last sent a heartbeat `seconds` ago."""
    seen = utcnow() - timedelta(seconds=seconds)
    db.session.execute(update(Connection).where(Connection.sid == sid).values(seen_at=seen))
    db.session.commit()


def online(room) -> dict[str, bool]:
    """Return who is online in the room's public view, by name."""
    view = rooms.snapshot(room.facilitator_id).public
    return {m["name"]: m["online"] for m in view["members"]}


def open_sids() -> set[str]:
    """Return the sids of every recorded socket."""
    return set(db.session.scalars(select(Connection.sid)))


def test_expiring_drops_sockets_without_a_recent_heartbeat(
    make_room, make_member, make_connection, stored_room
):
    room, fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    fien_sid = make_connection(fien.id)
    ann_sid = make_connection(ann.id)
    age(ann_sid, 120)
    seq = stored_room(room)["seq"]

    outcomes = rooms.expire_connections(90)

    assert open_sids() == {fien_sid}
    assert [o.room_id for o in outcomes] == [room.id]
    assert outcomes[0].seq == seq + 1
    members = {m["name"]: m["online"] for m in outcomes[0].public["members"]}
    assert members == {"Fien": True, "Ann": False}
    assert outcomes[0].private is None


def test_expiring_with_nothing_stale_changes_nothing(make_room, make_connection, stored_room):
    room, fien, _token = make_room()
    make_connection(fien.id)
    before = stored_room(room)
    assert rooms.expire_connections(90) == []
    assert stored_room(room) == before


def test_expiring_reports_each_room_once(make_room, make_member, make_connection):
    first, fien, _token = make_room()
    second, bo, _token = make_room(facilitator="Bo")
    ann, _ = make_member(first, "Ann")
    for member in (fien, ann, bo):
        age(make_connection(member.id), 300)
    outcomes = rooms.expire_connections(90)
    assert sorted(o.room_id for o in outcomes) == sorted([first.id, second.id])
    assert open_sids() == set()


def test_a_heartbeat_keeps_only_its_own_processs_sockets_alive(
    make_room, make_member, make_connection
):
    room, fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    alive = make_connection(fien.id, server_id="alive")
    dead = make_connection(ann.id, server_id="dead")
    age(alive, 300)
    age(dead, 300)

    rooms.heartbeat("alive")
    rooms.expire_connections(90)

    assert open_sids() == {alive}
    assert online(room) == {"Fien": True, "Ann": False}


def test_disconnecting_an_unknown_socket_changes_nothing(make_room, stored_room):
    room, _fien, _token = make_room()
    before = stored_room(room)
    assert rooms.disconnect("no-such-sid") is None
    assert stored_room(room) == before


def test_a_member_with_two_sockets_is_online_until_both_are_gone(
    make_room, make_member, make_connection
):
    room, _fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    first, second = make_connection(ann.id), make_connection(ann.id)
    rooms.disconnect(first)
    assert online(room)["Ann"] is True
    rooms.disconnect(second)
    assert online(room)["Ann"] is False


def test_reconnecting_during_a_round_keeps_ones_place_in_the_order(
    make_room, make_member, make_connection, act
):
    room, fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    make_connection(fien.id)
    sid = make_connection(ann.id)
    act(fien.id, "start")
    order = rooms.snapshot(fien.id).public["step"]["order"]
    rooms.disconnect(sid)
    make_connection(ann.id)
    assert rooms.snapshot(fien.id).public["step"]["order"] == order


def test_a_command_applies_once_per_action_id(make_room, make_connection, act, stored_room):
    room, fien, _token = make_room()
    make_connection(fien.id)
    first = act(fien.id, "start", action_id="start-1")
    state = stored_room(room)
    again = act(fien.id, "start", action_id="start-1")
    assert first.duplicate is False and again.duplicate is True
    assert again.seq == first.seq
    assert stored_room(room) == state
    assert state["actions"] == 1


def test_a_duplicate_says_when_it_was_applied_and_returns_the_current_state(make_room, act):
    room, fien, _token = make_room()
    first = act(fien.id, "start", action_id="start-1")
    later = act(fien.id, "timer_start", seconds=60)
    again = act(fien.id, "start", action_id="start-1")
    assert again.duplicate is True
    assert again.seq == first.seq
    assert again.public["seq"] == later.seq
    assert again.public["timer"]["running"] is True
    assert again.private["member_id"] == fien.id


def test_a_refused_command_records_no_action_and_no_sequence_number(
    make_room, make_member, act, stored_room
):
    room, _fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    before = stored_room(room)
    with pytest.raises(RitualError) as refused:
        act(ann.id, "start", action_id="sneaky")
    assert refused.value.code == "not_facilitator"
    assert stored_room(room) == before
    assert db.session.scalar(select(ProcessedAction)) is None


def test_an_unknown_command_is_refused(make_room, act, stored_room):
    room, fien, _token = make_room()
    before = stored_room(room)
    with pytest.raises(RitualError) as refused:
        act(fien.id, "become_admin")
    assert refused.value.code == "unknown_event"
    assert stored_room(room) == before


def test_a_snapshot_changes_nothing(make_room, stored_room):
    room, fien, _token = make_room()
    before = stored_room(room)
    outcome = rooms.snapshot(fien.id)
    assert outcome.seq == before["seq"]
    assert outcome.private["is_facilitator"] is True
    assert stored_room(room) == before


def test_a_snapshot_shows_one_committed_state_while_another_process_changes_the_room(
    app, make_room, make_member, monkeypatch
):
    import threading

    room, fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    before = rooms.snapshot(fien.id)
    errors: list[BaseException] = []
    load_flow = rooms.load_flow
    interrupted: list[bool] = []

    def another_process_commits_meanwhile(room):
        # The snapshot has read the room's row; Ann comes online, committed on another
        # connection, before it reads the steps, the members and who is online.
        if interrupted:  # Ann's own change loads the flow too
            return load_flow(room)
        interrupted.append(True)

        def connect() -> None:
            with app.app_context():
                try:
                    rooms.connect(ann.id, "ann-sid", "another-server")
                except BaseException as error:  # re-raised in the test thread
                    errors.append(error)

        thread = threading.Thread(target=connect)
        thread.start()
        thread.join(timeout=30)
        return load_flow(room)

    monkeypatch.setattr(rooms, "load_flow", another_process_commits_meanwhile)
    during = rooms.snapshot(fien.id)
    monkeypatch.undo()
    after = rooms.snapshot(fien.id)

    assert errors == []
    assert after.seq == before.seq + 1
    assert {m["name"]: m["online"] for m in after.public["members"]}["Ann"] is True
    # All of the snapshot taken meanwhile is from before Ann's change, seq included.
    assert during.seq == during.public["seq"] == before.seq
    assert during.public["members"] == before.public["members"]


@pytest.mark.parametrize("lookup", [rooms.room_by_code, rooms.team_by_key])
def test_a_code_or_key_holding_a_nul_names_nothing(app, lookup):
    # PostgreSQL refuses to compare text holding a NUL: a 404, not a database error.
    assert lookup("abc\x00def") is None


def test_a_room_title_keeps_no_invisible_characters(make_team):
    room, _fien, _token = rooms.create_room(
        make_team(), "Fien", [{"kind": "checkout"}], title=" Sprint\x00 12\u202e "
    )
    db.session.expire_all()
    assert room.title == "Sprint 12"


def test_every_change_gets_the_next_sequence_number(make_room, make_member, act):
    room, fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    seqs = [
        rooms.connect(fien.id, "sid-1", "test-server").seq,
        act(fien.id, "start").seq,
        act(fien.id, "timer_start", seconds=60).seq,
        rooms.connect(ann.id, "sid-2", "test-server").seq,
        rooms.disconnect("sid-2").seq,
        act(fien.id, "end").seq,
    ]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_the_summary_names_the_members_and_the_facilitator(make_room, make_member, act):
    room, fien, _token = make_room()
    ann, _ = make_member(room, "Ann")
    act(fien.id, "handover", member=ann.id)
    summary = rooms.summary(room)
    assert summary["names"] == {fien.id: "Fien", ann.id: "Ann"}
    assert summary["facilitator"] == "Ann"
    assert [step["kind"] for step in summary["steps"]] == ["checkin", "checkout"]


def test_concurrent_commands_on_one_room_get_gap_free_sequence_numbers(app, make_room, make_member):
    import threading

    room, fien, _token = make_room(
        [{"kind": "checkin", "prompt_id": "energy-weather", "mode": "simultaneous"}]
    )
    members = [make_member(room, f"Member {n}")[0] for n in range(6)]
    rooms.execute(fien.id, "start", {}, "start")
    before = rooms.snapshot(fien.id).seq
    ids = [m.id for m in members]
    seqs: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(ids))

    def answer(member_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                for n in range(5):
                    outcome = rooms.execute(
                        member_id, "answer", {"step": 0, "text": f"answer {n}"}, f"a{n}"
                    )
                    seqs.append(outcome.seq)
            except BaseException as error:  # collected and re-raised in the test thread
                errors.append(error)

    threads = [threading.Thread(target=answer, args=(member_id,)) for member_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    # Every change got its own number, none was skipped, none was lost.
    assert sorted(seqs) == list(range(before + 1, before + 1 + 30)), (before, sorted(seqs))
    answered = rooms.snapshot(fien.id).public["step"]["answered"]
    assert answered == sorted(ids)
