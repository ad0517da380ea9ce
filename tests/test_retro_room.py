"""Retrospectives in a room: deeds written through to the team, reviewed in the next room,
and agreements flagged by a check offered to the next drafting step."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from retro.charter.content import Agreement, CharterContent
from retro.extensions import db
from retro.i18n import today_iso
from retro.models import Deed, DeedDecision
from retro.rituals import RitualError
from retro.services import charter, deeds, rooms

RETRO = [{"kind": "retro", "format": "ssc", "anonymous": False, "votes": 3}, {"kind": "checkout"}]
REVIEW = [{"kind": "deeds_review"}, {"kind": "agreements_check", "threshold": 3}]
START = CharterContent(
    purpose="We ship software.",
    agreements=(
        Agreement("a1", "We start on time."),
        Agreement("a2", "We answer within a day."),
        Agreement("a3", "We demo on Fridays.", "2000-01-01"),
    ),
)


def step_view(member_id: int) -> dict:
    """Return the current step as one member's snapshot shows it."""
    return rooms.snapshot(member_id).public["step"]


def team_deeds(team) -> list[Deed]:
    """Return the team's deed rows as stored, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(select(Deed).where(Deed.team_id == team.id).order_by(Deed.id)))


@pytest.fixture
def retro_room(make_room, make_member, make_connection):
    """Return a started retrospective room with its charter at version 1 and three members."""
    room, fien, _ = make_room(RETRO)
    charter.save_manual(room.team, 0, START, "Fien")
    ann, _ = make_member(room, "Ann")
    bob, _ = make_member(room, "Bob")
    for member in (fien, ann, bob):
        make_connection(member.id)
    return room, fien, ann, bob


def run_retro(act, fien, ann, bob) -> None:
    """Write, reveal, vote, discuss the top topic and agree two deeds."""
    act(fien.id, "start")
    act(ann.id, "add_card", step=0, column="stop", text="Meetings that overrun")
    act(bob.id, "add_card", step=0, column="start", text="Pairing on reviews")
    act(fien.id, "reveal", step=0)
    act(fien.id, "open_voting", step=0, votes=2, per_card=2)
    act(ann.id, "vote", step=0, group="c1")
    act(bob.id, "vote", step=0, group="c1")
    act(fien.id, "close_voting", step=0)
    act(fien.id, "highlight", step=0, topic="c1", seconds=300)
    act(
        ann.id,
        "add_deed",
        step=0,
        text="Timebox every meeting",
        owner=ann.id,
        due="2030-01-31",
        agreement="a1",
    )
    act(fien.id, "start_deeds", step=0)
    act(bob.id, "add_deed", step=0, text="Pair on two reviews", owner=None, due="", agreement=None)


def test_deeds_are_written_to_the_team_as_they_are_agreed(retro_room, act):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)

    stored = team_deeds(room.team)
    assert [(d.text, d.owner_name, d.due, d.status) for d in stored] == [
        ("Timebox every meeting", "Ann", "2030-01-31", "open"),
        ("Pair on two reviews", None, None, "open"),
    ]
    assert stored[0].agreement_id == "a1"
    assert stored[0].agreement_text == "We start on time."
    assert [d.text for d in charter.open_deeds(room.team)] == [d.text for d in stored]


def test_editing_and_deleting_a_deed_follow_through_to_the_team(retro_room, act):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)

    act(
        ann.id,
        "edit_deed",
        step=0,
        deed="d1",
        text="Timebox meetings to 25 minutes",
        owner=bob.id,
        due="",
        agreement=None,
    )
    act(fien.id, "delete_deed", step=0, deed="d2")

    stored = team_deeds(room.team)
    assert [(d.text, d.owner_name, d.due, d.agreement_id) for d in stored] == [
        ("Timebox meetings to 25 minutes", "Bob", None, None)
    ]


def test_a_refused_deed_changes_nothing_stored(retro_room, act, stored_room):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)
    before = stored_room(room)

    with pytest.raises(RitualError):
        act(ann.id, "add_deed", step=0, text="x", owner=999_999, due="", agreement=None)
    with pytest.raises(RitualError):
        act(ann.id, "add_deed", step=0, text="x", owner=None, due="31-01-2030", agreement=None)

    assert stored_room(room) == before
    assert len(team_deeds(room.team)) == 2


def test_the_next_room_reviews_the_deeds_and_carries_one_over(
    retro_room, act, make_member, make_connection
):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)
    act(fien.id, "end")

    second, lea, _ = rooms.create_room(room.team, "Lea", REVIEW + RETRO)
    tom, _ = make_member(second, "Tom")
    for member in (lea, tom):
        make_connection(member.id)
    act(lea.id, "start")

    listed = step_view(tom.id)["deeds"]
    assert [(d["text"], d["owner"], d["due"]) for d in listed] == [
        ("Timebox every meeting", "Ann", "2030-01-31"),
        ("Pair on two reviews", None, None),
    ]
    first, other = (d["id"] for d in listed)
    act(tom.id, "decide_deed", step=0, deed=first, decision="done", reason="")
    act(lea.id, "decide_deed", step=0, deed=other, decision="carry", reason="")

    stored = team_deeds(room.team)
    assert [(d.status, d.carried) for d in stored] == [("done", 0), ("open", 1)]
    assert stored[0].closed_at is not None
    assert [d.text for d in deeds.open_deeds(room.team)] == ["Pair on two reviews"]
    decisions = db.session.scalars(select(DeedDecision).order_by(DeedDecision.id)).all()
    assert [(d.decision, d.decided_by, d.room_id) for d in decisions] == [
        ("done", "Tom", second.id),
        ("carry", "Lea", second.id),
    ]

    # Changing one's mind in the same room replaces the decision, it does not add one.
    act(lea.id, "decide_deed", step=0, deed=other, decision="drop", reason="Nobody needs it")
    act(tom.id, "decide_deed", step=0, deed=first, decision="open", reason="")
    stored = team_deeds(room.team)
    assert [(d.status, d.carried, d.reason) for d in stored] == [
        ("open", 0, ""),
        ("dropped", 0, "Nobody needs it"),
    ]
    assert db.session.scalar(select(db.func.count()).select_from(DeedDecision)) == 1


def test_a_carried_deed_is_reviewed_again_in_the_room_after(retro_room, act):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)
    act(fien.id, "end")
    for round_number in (1, 2):
        review, lea, _ = rooms.create_room(room.team, "Lea", [{"kind": "deeds_review"}])
        act(lea.id, "start")
        listed = step_view(lea.id)["deeds"]
        assert len(listed) == 2
        for deed in listed:
            act(lea.id, "decide_deed", step=0, deed=deed["id"], decision="carry", reason="")
        assert {d["carried"] for d in listed} == {round_number - 1}
        act(lea.id, "end")
    assert [d.carried for d in team_deeds(room.team)] == [2, 2]


def test_a_review_lists_only_its_own_teams_open_deeds(retro_room, act, make_team):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)
    other_team_room, lea, _ = rooms.create_room(make_team("Others"), "Lea", REVIEW)
    act(lea.id, "start")
    assert step_view(lea.id)["deeds"] == []

    # A forged decision on another team's deed id is refused by the step and stores nothing.
    foreign = team_deeds(room.team)[0].id
    with pytest.raises(RitualError):
        act(lea.id, "decide_deed", step=0, deed=foreign, decision="done", reason="")
    assert team_deeds(room.team)[0].status == "open"


def agreements_check(act, make_member, make_connection, team, scores):
    """Run an agreements check in a new room of `team`; return (room, facilitator)."""
    room, lea, _ = rooms.create_room(team, "Lea", [{"kind": "agreements_check", "threshold": 3}])
    members = [lea] + [make_member(room, f"M{i}")[0] for i in range(len(scores) - 1)]
    for member in members:
        make_connection(member.id)
    act(lea.id, "start")
    for member, values in zip(members, scores, strict=True):
        act(member.id, "pulse", step=0, values=values)
    act(lea.id, "reveal", step=0)
    return room, lea


def test_agreements_the_check_flags_are_offered_to_the_next_drafting_step(
    retro_room, act, make_member, make_connection
):
    room = retro_room[0]
    low = {"a1": 1, "a2": 4, "a3": 5}
    check_room, lea = agreements_check(
        act, make_member, make_connection, room.team, [low, low, {"a1": 2, "a2": 5, "a3": 4}]
    )
    flags = {a["id"]: a["flags"] for a in step_view(lea.id)["agreements"]}
    assert flags == {"a1": ["low"], "a2": [], "a3": ["review_due"]}
    act(lea.id, "end")

    drafting, kim, _ = rooms.create_room(room.team, "Kim", [{"kind": "agreements"}])
    act(kim.id, "start")
    assert step_view(kim.id)["flags"] == {"a1": ["low"], "a3": ["review_due"]}


def test_a_check_earlier_in_the_same_room_flags_the_drafting_after_it(
    retro_room, act, make_member, make_connection
):
    room = retro_room[0]
    agenda = [{"kind": "agreements_check", "threshold": 4}, {"kind": "agreements"}]
    check_room, lea, _ = rooms.create_room(room.team, "Lea", agenda)
    members = [lea] + [make_member(check_room, name)[0] for name in ("Ann", "Bob")]
    for member in members:
        make_connection(member.id)
    act(lea.id, "start")
    for member in members:
        act(member.id, "pulse", step=0, values={"a1": 4, "a2": 3, "a3": 5})
    act(lea.id, "reveal", step=0)
    act(lea.id, "next")
    assert step_view(lea.id)["flags"] == {"a2": ["low"], "a3": ["review_due"]}


def test_an_unrevealed_check_flags_nothing_but_review_dates(
    retro_room, act, make_member, make_connection
):
    room = retro_room[0]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    later = CharterContent(
        purpose=START.purpose,
        agreements=(*START.agreements[:2], Agreement("a3", "We demo on Fridays.", tomorrow)),
    )
    charter.save_manual(room.team, 1, later, "Fien")
    check_room, lea, _ = rooms.create_room(room.team, "Lea", [{"kind": "agreements_check"}])
    act(lea.id, "start")
    act(lea.id, "pulse", step=0, values={"a1": 1, "a2": 1, "a3": 1})
    act(lea.id, "end")

    drafting, kim, _ = rooms.create_room(room.team, "Kim", [{"kind": "agreements"}])
    act(kim.id, "start")
    assert step_view(kim.id)["flags"] == {}


def test_the_charter_lists_the_open_deeds_with_owner_and_due_date(retro_room, act, client):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)
    act(fien.id, "delete_deed", step=0, deed="d2")
    act(
        bob.id,
        "add_deed",
        step=0,
        text="<b>Fix</b> the build",
        owner=bob.id,
        due="",
        agreement=None,
    )

    page = client.get(f"/t/{room.team.key}/charter").get_data(as_text=True)
    deeds_section = page[page.index('id="charter-deeds"') :]
    assert "Timebox every meeting" in deeds_section and "2030-01-31" in deeds_section
    assert "&lt;b&gt;Fix&lt;/b&gt; the build" in deeds_section
    assert "<b>Fix</b>" not in page
    assert "Pair on two reviews" not in page

    exported = client.get(f"/t/{room.team.key}/charter.md").get_data(as_text=True)
    assert "- Timebox every meeting (owner: Ann; due 2030-01-31)" in exported


def test_a_later_rooms_decision_is_not_undone_by_an_earlier_room_deciding_again(retro_room, act):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)
    first_review, lea, _ = rooms.create_room(room.team, "Lea", [{"kind": "deeds_review"}])
    act(lea.id, "start")
    timebox, pairing = (d["id"] for d in step_view(lea.id)["deeds"])
    act(lea.id, "decide_deed", step=0, deed=timebox, decision="carry", reason="")

    second_review, kim, _ = rooms.create_room(room.team, "Kim", [{"kind": "deeds_review"}])
    act(kim.id, "start")
    act(kim.id, "decide_deed", step=0, deed=timebox, decision="done", reason="")
    # The first review is still running: it decides about the other deed now, which
    # must not make its earlier "carry" newer than the second room's "done".
    act(lea.id, "decide_deed", step=0, deed=pairing, decision="drop", reason="Not needed")

    stored = {d.id: d for d in team_deeds(room.team)}
    assert (stored[timebox].status, stored[timebox].carried) == ("done", 1)
    assert stored[pairing].status == "dropped"


def test_a_check_with_too_few_answers_does_not_hide_an_earlier_conclusive_one(
    retro_room, act, make_member, make_connection
):
    room = retro_room[0]
    low = {"a1": 1, "a2": 4, "a3": 5}
    agreements_check(act, make_member, make_connection, room.team, [low, low, low])
    agreements_check(act, make_member, make_connection, room.team, [{"a1": 5, "a2": 5, "a3": 5}])

    drafting, kim, _ = rooms.create_room(room.team, "Kim", [{"kind": "agreements"}])
    act(kim.id, "start")
    assert step_view(kim.id)["flags"] == {"a1": ["low"], "a3": ["review_due"]}


def test_a_reviewed_deed_can_no_longer_change_in_its_room(retro_room, act, stored_room):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)
    review, lea, _ = rooms.create_room(room.team, "Lea", [{"kind": "deeds_review"}])
    act(lea.id, "start")
    reviewed = step_view(lea.id)["deeds"][0]["id"]
    act(lea.id, "decide_deed", step=0, deed=reviewed, decision="carry", reason="")
    before = stored_room(room)

    # The retrospective's room still runs, but the team's record of a reviewed deed stays.
    for command, args in (
        ("delete_deed", {"deed": "d1"}),
        ("edit_deed", {"deed": "d1", "text": "Other", "owner": None, "due": "", "agreement": None}),
    ):
        with pytest.raises(RitualError) as refused:
            act(fien.id, command, step=0, **args)
        assert refused.value.code == "deed_reviewed"
    assert stored_room(room) == before
    assert [d.text for d in deeds.open_deeds(room.team)][0] == "Timebox every meeting"
    # Deeds no review has seen yet still change freely.
    act(fien.id, "delete_deed", step=0, deed="d2")
    assert [d.text for d in deeds.open_deeds(room.team)] == ["Timebox every meeting"]


def test_deciding_about_a_deed_its_room_deleted_meanwhile_is_refused(retro_room, act):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)
    review, lea, _ = rooms.create_room(room.team, "Lea", [{"kind": "deeds_review"}])
    act(lea.id, "start")
    vanished = step_view(lea.id)["deeds"][1]["id"]
    act(fien.id, "delete_deed", step=0, deed="d2")

    with pytest.raises(RitualError) as refused:
        act(lea.id, "decide_deed", step=0, deed=vanished, decision="done", reason="")
    assert refused.value.code == "unknown_deed"
    assert step_view(lea.id)["deeds"][1]["decision"] is None


def test_a_review_knows_the_teams_date_for_overdue_deeds(retro_room, act):
    room, fien, ann, bob = retro_room
    run_retro(act, fien, ann, bob)
    review, lea, _ = rooms.create_room(room.team, "Lea", [{"kind": "deeds_review"}])
    act(lea.id, "start")
    assert step_view(lea.id)["today"] == today_iso()
