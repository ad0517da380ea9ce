"""The charter steps over Socket.IO: privacy of cards and votes, bad input, publishing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from retro.services import charter
from tests.test_sockets import Peer, ok, refused, start_with_three, walk

PURPOSE = [{"kind": "purpose", "anonymous": False, "votes": 2}, {"kind": "agreements"}]
ANONYMOUS = [
    {"kind": "purpose", "anonymous": True, "votes": 2},
    {"kind": "agreements", "anonymous": True},
]


@pytest.fixture
def meet(make_room, make_socket, make_member):
    """Return a factory of a started room with facilitator Fien and members Ann and Bo online."""

    def make(agenda=PURPOSE) -> tuple[Any, Peer, Peer, Peer]:
        room, _facilitator, token = make_room(agenda)
        return room, *start_with_three(room, token, make_socket, make_member)

    return make


def received_by(peer: Peer) -> str:
    """Return everything a peer received except its own acknowledgements and private views."""
    peer.drain()
    public = [m for m in peer.log if m["name"] in ("state", "snapshot")]
    for message in public:
        message["args"][0].pop("me", None)
    return json.dumps(public)


def test_card_text_reaches_nobody_else_before_the_reveal(meet):
    _room, fien, ann, bo = meet()
    ok(ann.send("add_card", step=0, column="exists", text="Secret purpose"))
    ok(ann.send("edit_card", step=0, card="c1", text="Edited secret"))
    for peer in (fien, bo):
        text = peer.everything()
        assert "Secret purpose" not in text and "Edited secret" not in text
    assert fien.last_state()["step"]["written"]["exists"] == 1

    ok(fien.send("reveal", step=0))

    cards = bo.last_state()["step"]["cards"]
    assert [(c["text"], c["author"]) for c in cards] == [("Edited secret", ann.id)]


def test_an_anonymous_step_never_sends_an_author(meet):
    _room, fien, ann, bo = meet(ANONYMOUS)
    ok(ann.send("add_card", step=0, column="bring", text="Humour"))
    ok(fien.send("reveal", step=0))
    ok(fien.send("draft_statement", step=0, text="We exist to learn."))
    ok(fien.send("call_consent", step=0, threshold=3, proposal=None))
    ok(ann.send("consent", step=0, score=1, reason="Too vague"))
    ok(bo.send("consent", step=0, score=5, reason=""))
    # While open, the room learns how many voted, not who.
    vote = fien.last_state()["step"]["vote"]
    assert vote["count"] == 2 and "voted" not in vote
    refused(fien.send("close_consent", step=0), "anonymous_needs_three")
    ok(fien.send("consent", step=0, score=4, reason=""))
    ok(fien.send("close_consent", step=0))

    result = bo.last_state()["step"]["rounds"][-1]
    assert [o["reason"] for o in result["objections"]] == ["Too vague"]
    for peer in (fien, bo):
        for node in walk(json.loads(received_by(peer))):
            if isinstance(node, dict):
                assert node.get("author") is None
                assert node.get("member") is None
                assert "voted" not in node
                # (A purpose step's "voters" is how many have dot-voted.)
                assert isinstance(node.get("voters", 0), int)
                assert "scores" not in node or not node["scores"]


def test_an_anonymous_close_under_three_votes_is_explained(meet):
    _room, fien, ann, _bo = meet(ANONYMOUS)
    ok(fien.send("reveal", step=0))
    ok(fien.send("draft_statement", step=0, text="We exist to learn."))
    ok(fien.send("call_consent", step=0, threshold=3, proposal=None))
    ok(ann.send("consent", step=0, score=5, reason=""))
    ack = fien.send("close_consent", step=0)
    assert ack["ok"] is False
    assert ack["error"] == {
        "code": "anonymous_needs_three",
        "message": "An anonymous vote shows its result from 3 votes on.",
    }


def test_the_facilitator_cancels_a_vote_and_no_round_is_kept(meet, stored_room):
    room, fien, ann, bo = meet(ANONYMOUS)
    ok(fien.send("reveal", step=0))
    ok(fien.send("draft_statement", step=0, text="We exist to learn."))
    ok(fien.send("call_consent", step=0, threshold=3, proposal=None))
    ok(ann.send("consent", step=0, score=1, reason="Too vague"))
    refused(ann.send("cancel_consent", step=0), "not_facilitator")

    ok(fien.send("cancel_consent", step=0))

    step = bo.last_state()["step"]
    assert (step["phase"], step["vote"], step["rounds"]) == ("draft", None, [])
    stored = stored_room(room)["steps"][0]
    assert stored["ballot"] is None and stored["rounds"] == []
    assert "Too vague" not in json.dumps(stored)
    refused(fien.send("cancel_consent", step=0), "no_vote_open")
    ok(fien.send("draft_statement", step=0, text="We exist to learn together."))


def test_cancelling_a_vote_on_a_proposal_makes_it_open_again(meet):
    _room, fien, ann, bo = meet()
    ok(fien.send("next"))
    ok(ann.send("propose", step=1, kind="add", target=None, text="We pair.", review_date=""))
    ok(fien.send("call_consent", step=1, threshold=3, proposal="p1"))
    ok(bo.send("consent", step=1, score=4, reason=""))
    ok(fien.send("cancel_consent", step=1))
    step = bo.last_state()["step"]
    assert step["vote"] is None
    assert [(p["status"], p["rounds"]) for p in step["proposals"]] == [("open", [])]
    ok(ann.send("amend_proposal", step=1, proposal="p1", text="We pair weekly."))


@pytest.mark.parametrize("command", ["next", "end"])
def test_leaving_a_step_with_an_open_vote_discards_it(meet, stored_room, command):
    room, fien, ann, bo = meet(ANONYMOUS)
    ok(fien.send("reveal", step=0))
    ok(fien.send("draft_statement", step=0, text="We exist to learn."))
    ok(fien.send("call_consent", step=0, threshold=3, proposal=None))
    ok(ann.send("consent", step=0, score=1, reason="Too vague"))
    ok(bo.send("consent", step=0, score=5, reason=""))

    ok(fien.send(command))

    stored = stored_room(room)["steps"][0]
    assert stored["ballot"] is None
    assert stored["rounds"] == []
    assert stored["phase"] == "draft"
    assert "Too vague" not in json.dumps(stored)


def test_going_back_from_a_step_with_an_open_vote_discards_it(meet, stored_room):
    room, fien, ann, _bo = meet(ANONYMOUS)
    ok(fien.send("next"))
    ok(ann.send("propose", step=1, kind="add", target=None, text="We pair.", review_date=""))
    ok(fien.send("call_consent", step=1, threshold=3, proposal="p1"))
    ok(ann.send("consent", step=1, score=2, reason="Too often"))

    ok(fien.send("previous"))

    stored = stored_room(room)["steps"][1]
    assert stored["ballot"] is None and stored["voting"] is None
    assert [(p["status"], p["rounds"]) for p in stored["proposals"]] == [("open", [])]
    assert "Too often" not in json.dumps(stored)
    ok(fien.send("next"))
    assert ann.last_state()["step"]["vote"] is None


def test_dot_votes_stay_hidden_until_voting_closes(meet):
    _room, fien, ann, bo = meet()
    ok(ann.send("add_card", step=0, column="exists", text="Teach"))
    ok(bo.send("add_card", step=0, column="exists", text="Ship"))
    ok(fien.send("reveal", step=0))
    ok(fien.send("open_voting", step=0, votes=2))
    ack = ok(ann.send("vote", step=0, group="c2"))
    assert ack["me"]["steps"][0]["votes_left"] == 1
    ok(ann.send("vote", step=0, group="c2"))
    refused(ann.send("vote", step=0, group="c1"), "no_votes_left")
    assert bo.last_state()["step"]["results"] in ([], None)

    ok(fien.send("close_voting", step=0))

    results = bo.last_state()["step"]["results"]
    assert results[0] == {"group": "c2", "votes": 2}


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("add_card", {"step": 0, "column": "elsewhere", "text": "x"}),
        ("add_card", {"step": 0, "column": "exists", "text": 5}),
        ("add_card", {"step": 0, "column": "exists", "text": "x" * 281}),
        ("add_card", {"step": 0, "column": "exists"}),
        ("group_card", {"step": 0, "card": "c1", "target": 3}),
        ("group_card", {"step": 0, "card": "../c1", "target": None}),
        ("open_voting", {"step": 0, "votes": 11}),
        ("consent", {"step": 0, "score": 6, "reason": ""}),
        ("consent", {"step": 0, "score": True, "reason": ""}),
        ("consent", {"step": 0, "score": 2}),
        ("call_consent", {"step": 0, "threshold": -1, "proposal": None}),
        ("call_consent", {"step": 0, "threshold": 0, "proposal": None}),
        ("cancel_consent", {"step": 0, "proposal": None}),
        ("cancel_consent", {}),
        ("propose", {"step": 0, "kind": "replace", "target": None, "text": "x", "review_date": ""}),
        ("propose", {"step": 0, "kind": "add", "target": None, "text": "x", "review_date": 2027}),
        ("keep", {"step": 0, "agreement": {"id": "a1"}}),
        ("publish", {"room": 1}),
    ],
)
def test_bad_charter_input_is_refused_and_changes_nothing(meet, stored_room, event, payload):
    room, fien, ann, _bo = meet()
    before = stored_room(room)
    ack = ann.send(event, **payload)
    assert ack["ok"] is False
    assert ack["error"]["code"] in ("invalid_field", "too_long")
    assert stored_room(room) == before
    ok(ann.send("add_card", step=0, column="exists", text="Still here"))


def test_hostile_card_text_is_sent_as_plain_text(meet):
    _room, fien, ann, bo = meet()
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    ok(ann.send("add_card", step=0, column="exists", text=hostile))
    ok(fien.send("reveal", step=0))
    assert bo.last_state()["step"]["cards"][0]["text"] == hostile


def test_publishing_twice_over_sockets_makes_one_version(meet):
    room, fien, ann, bo = meet()
    ok(ann.send("add_card", step=0, column="exists", text="Learn"))
    ok(fien.send("reveal", step=0))
    ok(fien.send("draft_statement", step=0, text="We exist to learn together."))
    ok(fien.send("call_consent", step=0, threshold=3, proposal=None))
    for peer in (fien, ann, bo):
        ok(peer.send("consent", step=0, score=5, reason=""))
    ok(fien.send("close_consent", step=0))
    refused(ann.send("publish"), "not_facilitator")

    first = ok(fien.send("publish", action_id="publish-1"))
    second = ok(fien.send("publish", action_id="publish-2"))

    assert second["seq"] > first["seq"]
    assert [v.number for v in charter.history(room.team)] == [1]
    state = bo.last_state()
    assert state["charter"]["published"]["number"] == 1
    assert state["charter"]["can_publish"] is False
