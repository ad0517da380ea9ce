"""Retrospectives over Socket.IO: what reaches whom, and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from retro.charter.content import Agreement, CharterContent
from retro.services import charter
from tests.test_sockets import Peer, ok, refused, start_with_three, walk

NAMED = [{"kind": "retro", "format": "msg", "anonymous": False, "votes": 3}]
ANONYMOUS = [{"kind": "retro", "format": "4ls", "anonymous": True, "votes": 3}]
CHECK = [{"kind": "agreements_check", "threshold": 3}]


@pytest.fixture
def meet(make_room, make_socket, make_member):
    """Return a factory of a started room with facilitator Fien and members Ann and Bo online."""

    def make(agenda=NAMED) -> tuple[Any, Peer, Peer, Peer]:
        room, _facilitator, token = make_room(agenda)
        charter.save_manual(
            room.team,
            0,
            CharterContent(agreements=(Agreement("a1", "We start on time."),)),
            "Fien",
        )
        return room, *start_with_three(room, token, make_socket, make_member)

    return make


def public_messages(peer: Peer) -> list[dict[str, Any]]:
    """Return the state and snapshot payloads of a running step a peer received, without
    its private part (the first snapshot shows the lobby)."""
    peer.drain()
    public = [m["args"][0] for m in peer.log if m["name"] in ("state", "snapshot")]
    running = [message for message in public if message["step"] is not None]
    assert running, "expected states of a running step"
    return [{k: v for k, v in message.items() if k != "me"} for message in running]


def test_nobody_else_receives_a_card_before_the_reveal(meet):
    _room, fien, ann, bo = meet()
    ok(ann.send("add_card", step=0, column="mad", text="Secret frustration"))
    ok(ann.send("edit_card", step=0, card="c1", text="Edited frustration"))
    ok(ann.send("add_card", step=0, column="glad", text="Throwaway"))
    mine = ok(ann.send("delete_card", step=0, card="c2"))["me"]["steps"][0]
    for peer in (fien, bo):
        text = peer.everything()
        for secret in ("Secret frustration", "Edited frustration", "Throwaway"):
            assert secret not in text
    assert fien.last_state()["step"]["written"] == {"mad": 1, "sad": 0, "glad": 0}
    assert mine["cards"] == [{"id": "c1", "column": "mad", "text": "Edited frustration"}]

    ok(fien.send("reveal", step=0))
    cards = bo.last_state()["step"]["cards"]
    assert [(c["text"], c["author"]) for c in cards] == [("Edited frustration", ann.id)]


def test_an_anonymous_cards_author_reaches_no_client_not_even_the_facilitator(meet):
    _room, fien, ann, bo = meet(ANONYMOUS)
    ok(ann.send("add_card", step=0, column="liked", text="The demo"))
    ok(bo.send("add_card", step=0, column="lacked", text="Time"))
    revealed = ok(fien.send("reveal", step=0))
    # The cards took new ids at the reveal (and a shuffled order): the ids the writers
    # saw while writing, c1 and c2, tell nothing of who wrote which any more.
    cards = bo.last_state()["step"]["cards"]
    assert sorted(c["id"] for c in cards) == ["c3", "c4"]
    time_card = next(c["id"] for c in cards if c["text"] == "Time")
    ok(fien.send("open_voting", step=0, votes=2))
    ok(ann.send("vote", step=0, group=time_card))
    ok(fien.send("close_voting", step=0))

    for peer in (fien, ann, bo):
        for message in public_messages(peer):
            step = message["step"]
            assert step["anonymous"] is True
            assert step["writers"] == []
            for card in step["cards"]:
                assert "author" not in card
    # The facilitator's own private view holds only their own (no) cards.
    assert revealed["me"]["steps"][0]["cards"] == []


def test_per_person_votes_never_reach_another_client(meet):
    _room, fien, ann, bo = meet()
    ok(ann.send("add_card", step=0, column="sad", text="Flaky tests"))
    ok(fien.send("reveal", step=0))
    ok(fien.send("open_voting", step=0, votes=3, per_card=2))
    ok(ann.send("vote", step=0, group="c1"))
    ok(ann.send("vote", step=0, group="c1"))
    refused(ann.send("vote", step=0, group="c1"), "card_vote_limit")
    taken_back = ok(ann.send("unvote", step=0, group="c1"))
    ok(fien.send("close_voting", step=0))

    for peer in (fien, bo):
        for message in public_messages(peer):
            for value in walk(message["step"]):
                # No mapping keyed by member ids: votes are public only as totals per topic.
                if isinstance(value, dict):
                    assert str(ann.id) not in value and ann.id not in value
    assert bo.last_state()["step"]["topics"] == [{"group": "c1", "votes": 1}]
    assert taken_back["me"]["steps"][0]["votes"] == {"c1": 1}


def test_agreement_pulse_values_are_never_sent_per_person(meet):
    _room, fien, ann, bo = meet(CHECK)
    for peer, score in ((fien, 1), (ann, 4), (bo, 5)):
        ok(peer.send("pulse", step=0, values={"a1": score}))
    before = fien.last_state()["step"]
    assert before["answered"] == 3 and before["results"]["ready"] is False
    ok(fien.send("reveal", step=0))
    results = bo.last_state()["step"]["results"]
    assert results["scales"]["a1"]["distribution"] == [1, 0, 0, 1, 1]
    for peer in (fien, ann, bo):
        for message in public_messages(peer):
            step = message["step"]
            assert "responders" not in json.dumps(step)
            assert isinstance(step["answered"], int)


@pytest.mark.parametrize(
    ("event", "payload", "code"),
    [
        ("add_deed", {"text": "x", "owner": "Ann", "due": "", "agreement": None}, "invalid_field"),
        ("add_deed", {"text": 5, "owner": None, "due": "", "agreement": None}, "invalid_field"),
        ("add_deed", {"text": "x" * 281, "owner": None, "due": "", "agreement": None}, "too_long"),
        ("highlight", {"topic": "c1", "seconds": "300"}, "invalid_field"),
        ("ready", {"ready": "yes"}, "invalid_field"),
        ("lock_grouping", {"locked": 1}, "invalid_field"),
        ("decide_deed", {"deed": 1, "decision": "maybe", "reason": ""}, "invalid_field"),
        ("pulse", {"values": {"a1": 6}}, "invalid_field"),
        ("pulse", {"values": []}, "invalid_field"),
        ("open_voting", {"votes": 2, "per_card": 0}, "invalid_field"),
    ],
)
def test_bad_payloads_are_refused_and_the_connection_survives(meet, event, payload, code):
    room, fien, ann, _bo = meet()
    seq = fien.last_state()["seq"]
    refused(ann.send(event, step=0, **payload), code)
    ok(ann.send("ready", step=0, ready=True))
    assert fien.last_state()["step"]["ready"] == 1
    assert fien.last_state()["seq"] == seq + 1


def test_commands_of_another_step_kind_are_refused(meet):
    _room, fien, ann, _bo = meet(CHECK)
    refused(
        ann.send("add_deed", step=0, text="x", owner=None, due="", agreement=None),
        "not_in_this_step",
    )
    refused(fien.send("skip_voting", step=0), "not_in_this_step")
    refused(ann.send("decide_deed", step=0, deed=1, decision="done", reason=""), "not_in_this_step")


def test_a_setting_only_another_kind_of_step_takes_is_refused(make_room, make_socket):
    room, _facilitator, token = make_room([{"kind": "purpose", "votes": 2}])
    fien = Peer(make_socket(room, token), room, token)
    ok(fien.send("start"))
    ok(fien.send("add_card", step=0, column="exists", text="Help people learn"))
    ok(fien.send("reveal", step=0))
    refused(fien.send("open_voting", step=0, votes=2, per_card=1), "invalid_field")
    assert fien.last_state()["step"]["phase"] == "group"
    ok(fien.send("open_voting", step=0, votes=2))
