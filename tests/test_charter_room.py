"""A room's charter steps: the charter they start from, the draft, publishing it once."""

from __future__ import annotations

import pytest

from retro.charter.content import Agreement, CharterContent
from retro.rituals import RitualError
from retro.services import charter, rooms

CHARTER_AGENDA = [
    {"kind": "purpose", "anonymous": False, "votes": 2},
    {"kind": "agreements", "anonymous": False},
    {"kind": "checkout"},
]
START = CharterContent(
    purpose="We ship software.",
    agreements=(
        Agreement("a1", "We start on time."),
        Agreement("a2", "We answer within a day.", "2027-01-01"),
    ),
)


@pytest.fixture
def charter_room(make_room, make_member, make_connection):
    """Return a room on a charter session agenda, its team's charter at version 1, and members."""
    room, fien, _ = make_room(CHARTER_AGENDA)
    charter.save_manual(room.team, 0, START, "Fien")
    ann, _ = make_member(room, "Ann")
    bob, _ = make_member(room, "Bob")
    for member in (fien, ann, bob):
        make_connection(member.id)
    return room, fien, ann, bob


def step_view(member_id: int) -> dict:
    """Return the current step as one member's snapshot shows it."""
    return rooms.snapshot(member_id).public["step"]


def ratify(act, facilitator, voters, step: int, proposal=None, text=None) -> None:
    """Call a consent vote (on the purpose statement or a proposal) and pass it."""
    if text is not None:
        act(facilitator.id, "draft_statement", step=step, text=text)
    act(facilitator.id, "call_consent", step=step, threshold=3, proposal=proposal)
    for voter in voters:
        act(voter.id, "consent", step=step, score=4, reason="")
    act(facilitator.id, "close_consent", step=step)


def run_session(act, room, fien, ann, bob) -> None:
    """Ratify a new purpose and one new agreement, and retire an old one."""
    everyone = (fien, ann, bob)
    act(fien.id, "start")
    act(ann.id, "add_card", step=0, column="exists", text="To help people <b>learn</b>")
    act(bob.id, "add_card", step=0, column="bring", text="Patience")
    act(fien.id, "reveal", step=0)
    ratify(act, fien, everyone, 0, text="We exist to help people learn.")
    act(fien.id, "next")
    act(ann.id, "propose", step=1, kind="add", target=None, text="We pair daily.", review_date="")
    act(bob.id, "propose", step=1, kind="retire", target="a1", text="", review_date="")
    for proposal in step_view(fien.id)["proposals"]:
        ratify(act, fien, everyone, 1, proposal=proposal["id"])


def test_the_agreements_step_lists_the_charter_as_it_is_when_the_step_opens(charter_room, act):
    room, fien, ann, _bob = charter_room
    act(fien.id, "start")
    later = CharterContent(
        purpose=START.purpose,
        agreements=(*START.agreements, Agreement("a3", "We demo on Fridays.")),
    )
    charter.save_manual(room.team, 1, later, "Ann")
    act(fien.id, "next")

    assert step_view(ann.id)["kind"] == "agreements"
    assert [a["text"] for a in step_view(ann.id)["agreements"]] == [
        "We start on time.",
        "We answer within a day.",
        "We demo on Fridays.",
    ]
    # Once open, the step keeps its list: a later edit shows up in the next drafting step.
    charter.save_manual(room.team, 2, START, "Ann")
    act(fien.id, "previous")
    act(fien.id, "next")
    assert len(step_view(ann.id)["agreements"]) == 3


def test_the_purpose_step_shows_the_current_purpose(charter_room, act):
    _room, fien, ann, _bob = charter_room
    act(fien.id, "start")
    assert step_view(ann.id)["current_purpose"] == "We ship software."


def test_a_room_publishes_what_it_ratified_as_one_new_version(charter_room, act):
    room, fien, ann, bob = charter_room
    run_session(act, room, fien, ann, bob)
    before = rooms.snapshot(fien.id).public["charter"]
    assert before["can_publish"] is True
    assert before["draft"]["purpose"] == "We exist to help people learn."
    assert [op["op"] for op in before["draft"]["ops"]] == ["add", "retire"]

    first = act(fien.id, "publish")
    second = act(fien.id, "publish")

    versions = charter.history(room.team)
    assert [v.number for v in versions] == [2, 1]
    newest = versions[0]
    assert newest.source == "room"
    assert newest.room_id == room.id
    assert newest.ratified_by == ["Fien", "Ann", "Bob"]
    assert newest.author == "Fien"
    assert newest.content["purpose"] == "We exist to help people learn."
    assert [a["text"] for a in newest.content["agreements"]] == [
        "We answer within a day.",
        "We pair daily.",
    ]
    kinds = {change["kind"] for change in newest.summary}
    assert {"agreement_added", "agreement_retired"} <= kinds
    for outcome in (first, second):
        assert outcome.public["charter"]["published"]["number"] == 2
        assert outcome.public["charter"]["dirty"] is False
        assert outcome.public["charter"]["can_publish"] is False


def test_ratified_by_lists_who_took_part_in_the_passing_votes(
    charter_room, act, make_member, make_connection
):
    room, fien, ann, bob = charter_room
    make_member(room, "Absent Ada")
    cas, _ = make_member(room, "Cas")
    make_connection(cas.id)  # present all along, but never in a passing vote
    act(fien.id, "start")
    act(fien.id, "reveal", step=0)
    act(fien.id, "draft_statement", step=0, text="We exist.")
    act(fien.id, "call_consent", step=0, threshold=3, proposal=None)
    act(cas.id, "consent", step=0, score=1, reason="Too short.")
    act(fien.id, "close_consent", step=0)
    # Bob votes before Ann: the names still come in the room's member order.
    ratify(act, fien, (bob, ann), 0, text="We exist to help people learn.")
    act(fien.id, "next")
    act(ann.id, "propose", step=1, kind="add", target=None, text="We pair daily.", review_date="")
    ratify(act, fien, (fien,), 1, proposal="p1")

    act(fien.id, "publish")

    assert charter.current_version(room.team).ratified_by == ["Fien", "Ann", "Bob"]


def test_a_change_after_publishing_can_be_published_as_the_next_version(charter_room, act):
    room, fien, ann, bob = charter_room
    run_session(act, room, fien, ann, bob)
    act(fien.id, "publish")
    act(
        ann.id,
        "propose",
        step=1,
        kind="amend",
        target="a2",
        text="We answer within hours.",
        review_date="2027-06-01",
    )
    proposal = step_view(fien.id)["proposals"][-1]["id"]
    ratify(act, fien, (fien, ann, bob), 1, proposal=proposal)

    assert rooms.snapshot(fien.id).public["charter"]["dirty"] is True
    act(fien.id, "publish")

    current = charter.current_version(room.team)
    assert current.number == 3
    amended = [a for a in current.content["agreements"] if a["id"] == "a2"]
    assert amended == [{"id": "a2", "text": "We answer within hours.", "review_date": "2027-06-01"}]


def test_only_the_facilitator_publishes(charter_room, act):
    room, fien, ann, bob = charter_room
    run_session(act, room, fien, ann, bob)
    with pytest.raises(RitualError) as refused:
        act(ann.id, "publish")
    assert refused.value.code == "not_facilitator"
    assert charter.current_version(room.team).number == 1


def test_an_empty_draft_cannot_be_published(charter_room, act):
    room, fien, _ann, _bob = charter_room
    act(fien.id, "start")
    assert rooms.snapshot(fien.id).public["charter"]["can_publish"] is False
    with pytest.raises(RitualError) as refused:
        act(fien.id, "publish")
    assert refused.value.code == "empty_draft"
    assert charter.current_version(room.team).number == 1


def test_an_ended_room_can_still_publish_its_draft(charter_room, act):
    room, fien, ann, bob = charter_room
    run_session(act, room, fien, ann, bob)
    act(fien.id, "end")
    view = rooms.snapshot(fien.id).public["charter"]
    assert view["dirty"] is True and view["can_publish"] is True
    add = {"step": 1, "kind": "add", "target": None, "text": "We x.", "review_date": ""}
    for member, command, args, code in [
        (ann.id, "publish", {}, "not_facilitator"),
        (fien.id, "next", {}, "room_ended"),
        (ann.id, "propose", add, "room_ended"),
    ]:
        with pytest.raises(RitualError) as refused:
            act(member, command, **args)
        assert refused.value.code == code

    outcome = act(fien.id, "publish")

    assert charter.current_version(room.team).number == 2
    assert outcome.public["room"]["status"] == "ended"
    assert outcome.public["charter"]["dirty"] is False
    assert outcome.public["charter"]["published"]["number"] == 2


def test_the_draft_carries_what_the_room_saw(charter_room, act):
    room, fien, ann, bob = charter_room
    run_session(act, room, fien, ann, bob)
    draft = rooms.snapshot(fien.id).public["charter"]["draft"]
    assert draft["purpose_base"] == "We ship software."
    retire = draft["ops"][1]
    assert retire["base"] == {"text": "We start on time.", "review_date": None}
    # The same ratified draft always has the same key: publishing twice makes one version.
    again = rooms.charter_draft(rooms.load_rituals(room))
    assert again == draft
    assert charter.draft_key(again["purpose"], again["ops"]) == charter.draft_key(
        draft["purpose"], draft["ops"]
    )


def edit_meanwhile(room, purpose: str, agreements) -> None:
    """Save a manual edit of the room's team charter on its current version."""
    head = charter.current_version(room.team).number
    content = CharterContent(purpose=purpose, agreements=tuple(agreements))
    charter.save_manual(room.team, head, content, "Dee")


def run_amending_session(act, room, fien, ann, bob) -> None:
    """Ratify a new purpose, an amendment of a2 and the retirement of a1."""
    everyone = (fien, ann, bob)
    act(fien.id, "start")
    act(fien.id, "reveal", step=0)
    ratify(act, fien, everyone, 0, text="We exist to help people learn.")
    act(fien.id, "next")
    amend = {"kind": "amend", "target": "a2", "text": "We answer in hours.", "review_date": ""}
    act(ann.id, "propose", step=1, **amend)
    act(bob.id, "propose", step=1, kind="retire", target="a1", text="", review_date="")
    for proposal in ("p1", "p2"):
        ratify(act, fien, everyone, 1, proposal=proposal)


PURPOSE_LEFT_OUT = (
    "Not applied: the ratified purpose “We exist to help people learn.”, because the "
    "purpose was changed meanwhile."
)
AMEND_LEFT_OUT = (
    "Not applied: amending “We answer within a day.” to “We answer in hours.”, because "
    "that agreement was changed meanwhile."
)


def test_a_room_publishes_around_a_change_made_meanwhile_and_says_what_it_left_out(
    app, charter_room, act
):
    room, fien, ann, bob = charter_room
    run_amending_session(act, room, fien, ann, bob)
    edit_meanwhile(
        room,
        "Dee's purpose.",
        [Agreement("a1", "We start on time."), Agreement("a2", "Dee's answer.", "2027-01-01")],
    )

    view = rooms.snapshot(fien.id).public["charter"]
    assert view["can_publish"] is True and view["blocked"] is None
    assert [(c["change"], c["reason"], c["id"]) for c in view["conflicts"]] == [
        ("purpose", "changed", None),
        ("amend", "changed", "a2"),
    ]

    act(fien.id, "publish")

    published = charter.current_version(room.team)
    assert published.number == 3
    assert published.content["purpose"] == "Dee's purpose."
    assert published.content["agreements"] == [
        {"id": "a2", "text": "Dee's answer.", "review_date": "2027-01-01"}
    ]
    kinds = [c["kind"] for c in published.summary]
    assert kinds == ["agreement_retired", "not_applied", "not_applied"]
    assert rooms.snapshot(fien.id).public["charter"]["dirty"] is False

    client = app.test_client()
    act(fien.id, "end")
    for url in (
        f"/t/{room.team.key}/charter/history",
        f"/t/{room.team.key}/charter/v/3",
        f"/t/{room.team.key}/charter/v/3.md",
        f"/r/{room.code}/summary",
        f"/r/{room.code}/summary.md",
    ):
        text = client.get(url).get_data(as_text=True)
        if url.endswith("summary.md"):
            text = text.replace("\\", "")  # user text is escaped there
        assert PURPOSE_LEFT_OUT in text, url
        assert AMEND_LEFT_OUT in text, url
        assert "Ratified but not published" not in text


def test_a_room_whose_every_change_conflicts_cannot_publish(charter_room, act):
    room, fien, ann, bob = charter_room
    run_amending_session(act, room, fien, ann, bob)
    edit_meanwhile(room, "Dee's purpose.", [Agreement("a2", "Dee's answer.")])

    view = rooms.snapshot(fien.id).public["charter"]
    assert view["can_publish"] is False and view["blocked"] == "charter_changed"
    assert len(view["conflicts"]) == 3
    with pytest.raises(RitualError) as refused:
        act(fien.id, "publish")
    assert refused.value.code == "charter_changed"
    assert charter.current_version(room.team).number == 2


def test_a_draft_the_charter_already_holds_is_not_published(charter_room, act):
    room, fien, ann, bob = charter_room
    act(fien.id, "start")
    act(fien.id, "reveal", step=0)
    ratify(act, fien, (fien, ann, bob), 0, text="We exist.")
    edit_meanwhile(room, "We exist.", START.agreements)

    view = rooms.snapshot(fien.id).public["charter"]
    assert view["dirty"] is True and view["conflicts"] == []
    assert (view["can_publish"], view["blocked"]) == (False, "draft_unchanged")
    with pytest.raises(RitualError) as refused:
        act(fien.id, "publish")
    assert refused.value.code == "draft_unchanged"
    assert charter.current_version(room.team).number == 2


def test_a_room_without_charter_steps_has_no_draft(make_room, act):
    _room, fien, _ = make_room()
    assert rooms.snapshot(fien.id).public["charter"] is None
    act(fien.id, "start")
    with pytest.raises(RitualError) as refused:
        act(fien.id, "publish")
    assert refused.value.code == "empty_draft"


def test_a_command_of_another_step_kind_is_refused(charter_room, act, stored_room):
    room, fien, ann, _bob = charter_room
    act(fien.id, "start")
    before = stored_room(room)
    for command, args in [
        ("answer", {"text": "hi"}),
        ("propose", {"kind": "add", "target": None, "text": "We x.", "review_date": ""}),
    ]:
        with pytest.raises(RitualError) as refused:
            act(ann.id, command, step=0, **args)
        assert refused.value.code == "not_in_this_step"
    assert stored_room(room) == before


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"kind": "purpose", "votes": 0}, "votes"),
        ({"kind": "purpose", "votes": 11}, "votes"),
        ({"kind": "purpose", "votes": True}, "votes"),
        ({"kind": "purpose", "anonymous": "yes"}, "anonymous"),
        ({"kind": "agreements", "anonymous": 1}, "anonymous"),
    ],
)
def test_bad_charter_step_settings_are_refused(make_team, spec, field):
    with pytest.raises(RitualError) as refused:
        rooms.create_room(make_team(), "Fien", [spec])
    assert refused.value.code == "invalid_field"
    assert refused.value.params == {"field": field}


# -- the read-only charter page of a room ---------------------------------------------


def joined_client(app, room, name: str = "Cas"):
    """Return a browser-like client that joined the room through its form."""
    client = app.test_client()
    response = client.post(f"/r/{room.code}", data={"display_name": name})
    assert response.status_code == 302
    return client


def test_a_member_reads_the_published_charter_and_what_changed(app, charter_room, act):
    room, fien, ann, bob = charter_room
    run_session(act, room, fien, ann, bob)
    act(fien.id, "publish")
    client = joined_client(app, room)

    page = client.get(f"/r/{room.code}/charter").get_data(as_text=True)

    assert "We exist to help people learn." in page
    assert "We pair daily." in page
    assert "Fien, Ann, Bob" in page  # ratified by
    assert "From version 1 to version 2." in page
    assert "<del>" in page and "<ins>" in page
    assert "We start on time." in page  # retired: shown in the comparison


def test_someone_outside_the_room_is_sent_to_the_join_form(client, charter_room):
    room, *_ = charter_room
    response = client.get(f"/r/{room.code}/charter")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/r/{room.code}")


def test_the_room_charter_page_compares_chosen_versions_and_refuses_unknown_ones(app, charter_room):
    room, *_ = charter_room
    charter.save_manual(room.team, 1, CharterContent(purpose="Second."), "Ann")
    client = joined_client(app, room)
    page = client.get(f"/r/{room.code}/charter?from=1&to=2").get_data(as_text=True)
    assert "From version 1 to version 2." in page
    assert client.get(f"/r/{room.code}/charter?from=9").status_code == 404


def test_a_team_without_a_charter_shows_an_empty_state(app, make_room):
    room, _fien, _ = make_room(CHARTER_AGENDA)
    page = joined_client(app, room).get(f"/r/{room.code}/charter").get_data(as_text=True)
    assert "This team has no charter yet" in page


def test_hostile_markdown_is_inert_on_the_room_charter_page(app, make_room):
    room, _fien, _ = make_room(CHARTER_AGENDA)
    hostile = '<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror="alert(3)">'
    charter.save_manual(room.team, 0, CharterContent(purpose=hostile), "<b>Eve</b>")
    charter.save_manual(
        room.team,
        1,
        CharterContent(
            purpose=hostile + " more", agreements=(Agreement("z1", hostile),), leadership=hostile
        ),
        "Eve",
    )
    page = joined_client(app, room).get(f"/r/{room.code}/charter").get_data(as_text=True)
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page.lower()
    assert "<img" not in page
    assert "<b>Eve</b>" not in page


# -- the summary and its Markdown export ------------------------------------------------


def test_the_summary_shows_cards_votes_consent_and_the_published_version(client, charter_room, act):
    room, fien, ann, bob = charter_room
    run_session(act, room, fien, ann, bob)
    act(fien.id, "publish")
    act(fien.id, "end")

    page = client.get(f"/r/{room.code}/summary").get_data(as_text=True)
    markdown = client.get(f"/r/{room.code}/summary.md").get_data(as_text=True)

    assert "This room published version 2 of the team charter." in page
    assert "This room published version 2 of the team charter." in markdown
    assert "To help people &lt;b&gt;learn&lt;/b&gt; (Ann)" in page
    assert "To help people \\<b\\>learn\\</b\\> (Ann)" in markdown
    assert "We exist to help people learn." in page and "We exist to help people learn." in markdown
    assert "New agreement: We pair daily." in page
    assert "Retire “We start on time.”" in page
    assert page.count("accepted") >= 2
    assert "Passed" in page and "Passed" in markdown


def test_an_anonymous_summary_names_no_author(client, make_room, make_member, make_connection, act):
    room, fien, _ = make_room([{"kind": "purpose", "anonymous": True}])
    ann, _ = make_member(room, "Ann")
    for member in (fien, ann):
        make_connection(member.id)
    act(fien.id, "start")
    act(ann.id, "add_card", step=0, column="bring", text="Calm")
    act(fien.id, "reveal", step=0)
    act(fien.id, "draft_statement", step=0, text="We exist.")
    act(fien.id, "call_consent", step=0, threshold=4, proposal=None)
    act(ann.id, "consent", step=0, score=1, reason="Too short")
    # An anonymous vote shows its result from three votes on.
    act(fien.id, "consent", step=0, score=5, reason="")
    act(make_member(room, "Bo")[0].id, "consent", step=0, score=4, reason="")
    act(fien.id, "close_consent", step=0)
    act(fien.id, "end")

    for text in (
        client.get(f"/r/{room.code}/summary").get_data(as_text=True),
        client.get(f"/r/{room.code}/summary.md").get_data(as_text=True),
    ):
        assert "Calm" in text and "Too short" in text
        assert "(Ann)" not in text


def test_one_vote_is_one_vote_in_the_summary(client, charter_room, act):
    room, fien, ann, _bob = charter_room
    act(fien.id, "start")
    act(fien.id, "reveal", step=0)
    ratify(act, fien, (ann,), 0, text="We exist.")
    act(fien.id, "end")
    page = client.get(f"/r/{room.code}/summary").get_data(as_text=True)
    markdown = client.get(f"/r/{room.code}/summary.md").get_data(as_text=True)
    for text in (page, markdown):
        assert "1 vote, threshold 3" in text
        assert "1 votes" not in text


def test_the_summary_lists_what_was_ratified_but_not_published(client, charter_room, act):
    room, fien, ann, bob = charter_room
    run_amending_session(act, room, fien, ann, bob)
    act(fien.id, "end")

    page = client.get(f"/r/{room.code}/summary").get_data(as_text=True)
    markdown = client.get(f"/r/{room.code}/summary.md").get_data(as_text=True)

    for text in (page, markdown.replace("\\", "")):
        assert "Ratified but not published" in text
        assert "New purpose: We exist to help people learn." in text
        assert "Amend “We answer within a day.” to: We answer in hours." in text
        assert "Retire “We start on time.”" in text
    act(fien.id, "publish")
    for url in (f"/r/{room.code}/summary", f"/r/{room.code}/summary.md"):
        assert "Ratified but not published" not in client.get(url).get_data(as_text=True)


def test_unrevealed_cards_stay_out_of_the_summary(client, charter_room, act):
    room, fien, ann, _bob = charter_room
    act(fien.id, "start")
    act(ann.id, "add_card", step=0, column="exists", text="Hidden thought")
    act(fien.id, "end")
    page = client.get(f"/r/{room.code}/summary").get_data(as_text=True)
    assert "Hidden thought" not in page
    assert "Cards were not revealed." in page
    assert "Hidden thought" not in client.get(f"/r/{room.code}/summary.md").get_data(as_text=True)


def test_the_team_page_starts_a_room_with_charter_steps(client, make_team):
    team = make_team()
    form = {
        "facilitator_name": "Fien",
        "steps-0-kind": "purpose",
        "steps-0-anonymous": "y",
        "steps-0-votes": "4",
        "steps-1-kind": "agreements",
        "steps-1-votes": "99",  # ignored: only a purpose step has votes
    }
    response = client.post(f"/t/{team.key}", data=form)
    assert response.status_code == 302
    room = team.rooms[0]
    assert [step.kind for step in room.steps] == ["purpose", "agreements"]
    assert room.steps[0].state["anonymous"] is True
    assert room.steps[0].state["votes_per_person"] == 4
    assert room.steps[1].state["anonymous"] is False


def test_the_team_page_refuses_a_purpose_step_with_too_many_votes(client, make_team):
    team = make_team()
    form = {"facilitator_name": "Fien", "steps-0-kind": "purpose", "steps-0-votes": "11"}
    response = client.post(f"/t/{team.key}", data=form)
    assert response.status_code == 400
    assert team.rooms == []
