"""The charter service: numbered immutable versions, conflicts, restores, room publications."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlalchemy import delete, func, select, update

from retro.charter.content import Agreement, Anchor, CharterContent
from retro.extensions import db
from retro.models import Charter, CharterVersion, Room
from retro.models.charter import ImmutableVersionError
from retro.rituals import RitualError
from retro.services import charter as charters

FIRST = CharterContent(
    purpose="We help small shops sell online.",
    agreements=(
        Agreement("a1", "We start on time."),
        Agreement("a2", "We keep cameras on.", "2027-01-31"),
    ),
    anchors=(Anchor("k1", "Weekly retro", "weekly", "checkin"),),
    leadership="The product owner decides on scope.",
)
SECOND = replace(FIRST, purpose="We help every shop sell online.")
THIRD = replace(FIRST, leadership="Decisions by consent.")

AMEND = {"op": "amend", "id": "a1", "text": "We start at 9:00.", "review_date": ""}
ADD = {"op": "add", "text": "We laugh.", "review_date": "2027-06-30"}
RETIRE = {"op": "retire", "id": "a2"}


@pytest.fixture
def chartered(make_team):
    """Return a team whose charter has version 1 (FIRST, by Fien)."""

    def make():
        team = make_team()
        charters.save_manual(team, 0, FIRST, "Fien")
        return team

    return make


def version_count() -> int:
    """Return how many versions are stored, all teams together."""
    return db.session.scalar(select(func.count()).select_from(CharterVersion))


def head_of(team) -> int:
    """Return the stored head number of a team's charter."""
    db.session.expire_all()
    return db.session.scalar(select(Charter.head).where(Charter.team_id == team.id))


# -- reading and the first version --------------------------------------------------------


def test_a_new_team_has_no_charter_versions(make_team):
    team = make_team()
    assert charters.current_version(team) is None
    assert charters.version(team, 1) is None
    assert charters.history(team) == []
    assert charters.current_purpose(team) == ""
    assert charters.current_agreements(team) == []
    assert charters.open_deeds(team) == []
    # Reading creates nothing.
    assert db.session.scalar(select(func.count()).select_from(Charter)) == 0


def test_the_first_save_makes_version_one(make_team):
    team = make_team()
    saved = charters.save_manual(team, 0, FIRST, "  Fien ")
    assert saved.number == 1
    assert saved.author == "Fien"
    assert saved.source == "manual"
    assert saved.room_id is None and saved.restored_from is None and saved.draft_key is None
    assert saved.ratified_by == []
    assert saved.content == FIRST.to_dict()
    assert [c["kind"] for c in saved.summary][:2] == ["purpose_set", "agreement_added"]
    assert charters.current_version(team).number == 1
    assert team.charter is not None and head_of(team) == 1


def test_the_current_purpose_and_agreements_are_read_for_a_room(chartered):
    team = chartered()
    assert charters.current_purpose(team) == FIRST.purpose
    assert charters.current_agreements(team) == [
        {"id": "a1", "text": "We start on time.", "review_date": None},
        {"id": "a2", "text": "We keep cameras on.", "review_date": "2027-01-31"},
    ]
    assert charters.current_content(team) == FIRST


def test_versions_are_numbered_and_listed_newest_first(chartered):
    team = chartered()
    charters.save_manual(team, 1, SECOND, "Bo")
    charters.save_manual(team, 2, THIRD, "Ann")
    assert [v.number for v in charters.history(team)] == [3, 2, 1]
    assert [v.author for v in charters.history(team)] == ["Ann", "Bo", "Fien"]
    assert charters.version(team, 2).content == SECOND.to_dict()
    assert charters.version(team, 4) is None
    assert charters.current_version(team).number == 3


def test_each_team_numbers_its_own_versions(chartered):
    one, two = chartered(), chartered()
    charters.save_manual(one, 1, SECOND, "Bo")
    assert charters.current_version(one).number == 2
    assert charters.current_version(two).number == 1
    assert charters.version(two, 2) is None


def test_a_save_summarises_the_change_from_the_previous_version(chartered):
    team = chartered()
    later = replace(SECOND, agreements=(FIRST.agreements[0],))
    saved = charters.save_manual(team, 1, later, "Bo")
    assert saved.summary == [
        {"kind": "purpose_changed"},
        {"kind": "agreement_retired", "id": "a2", "text": "We keep cameras on."},
    ]


def test_a_save_stores_the_content_tidied(make_team):
    team = make_team()
    saved = charters.save_manual(team, 0, CharterContent(purpose="  We help.\r\n"), "Fien")
    assert saved.content["purpose"] == "We help."


# -- refusals ---------------------------------------------------------------------------------


def test_saving_identical_content_is_refused_and_makes_no_version(chartered):
    team = chartered()
    with pytest.raises(RitualError) as refused:
        charters.save_manual(team, 1, FIRST, "Bo")
    assert refused.value.code == "no_change"
    assert version_count() == 1 and head_of(team) == 1


def test_identical_content_after_tidying_is_no_change(chartered):
    team = chartered()
    with pytest.raises(RitualError) as refused:
        charters.save_manual(team, 1, replace(FIRST, purpose=FIRST.purpose + "  \n"), "Bo")
    assert refused.value.code == "no_change"


@pytest.mark.parametrize(
    ("author", "code"),
    [
        ("", "empty_name"),
        ("  \u200b ", "empty_name"),
        ("x" * 65, "too_long"),
        (None, "invalid_value"),
    ],
)
def test_a_save_needs_an_author_name(make_team, author, code):
    team = make_team()
    with pytest.raises(RitualError) as refused:
        charters.save_manual(team, 0, FIRST, author)
    assert refused.value.code == code
    assert version_count() == 0


def test_invalid_content_is_refused_before_anything_is_stored(make_team):
    team = make_team()
    with pytest.raises(RitualError) as refused:
        charters.save_manual(team, 0, CharterContent(purpose="x" * 2001), "Fien")
    assert refused.value.code == "too_long"
    assert version_count() == 0


def test_a_new_anchor_needs_a_known_agenda(chartered):
    team = chartered()
    odd = Anchor("k2", "Odd one", "monthly", "no-such-agenda")
    with pytest.raises(RitualError) as refused:
        charters.save_manual(team, 1, replace(FIRST, anchors=(*FIRST.anchors, odd)), "Bo")
    assert refused.value.code == "unknown_agenda"


def test_an_unchanged_anchor_keeps_an_agenda_that_was_since_removed(make_team, app):
    team = make_team()
    legacy = Anchor("k9", "Legacy", "monthly", "retired-agenda")
    # Stored as if an older release had that agenda preset.
    charter = charters.charter_for(team)
    db.session.add(
        CharterVersion(
            charter_id=charter.id,
            number=1,
            content=CharterContent(anchors=(legacy,)).to_dict(),
            author="Fien",
            source="manual",
        )
    )
    charter.head = 1
    db.session.commit()
    saved = charters.save_manual(
        team, 1, CharterContent(purpose="We help.", anchors=(legacy,)), "Bo"
    )
    assert saved.number == 2


# -- optimistic concurrency ----------------------------------------------------------------


def test_a_save_on_an_old_version_is_a_conflict_that_keeps_its_text(chartered):
    team = chartered()
    charters.save_manual(team, 1, SECOND, "Bo")
    with pytest.raises(charters.CharterConflict) as conflict:
        charters.save_manual(team, 1, THIRD, "Ann")
    assert conflict.value.code == "charter_conflict"
    assert conflict.value.params == {"number": 2}
    assert conflict.value.current.number == 2
    assert conflict.value.current.content == SECOND.to_dict()
    assert conflict.value.mine == THIRD
    assert version_count() == 2 and head_of(team) == 2
    # Based on the new head, the same text saves.
    assert charters.save_manual(team, 2, conflict.value.mine, "Ann").number == 3


def test_two_saves_from_the_same_base_apply_exactly_one(chartered):
    team = chartered()
    results = []
    for content, author in ((SECOND, "Bo"), (THIRD, "Ann")):
        try:
            results.append(charters.save_manual(team, 1, content, author))
        except charters.CharterConflict as conflict:
            results.append(conflict)
    saved, conflict = results
    assert isinstance(saved, CharterVersion) and saved.number == 2
    assert isinstance(conflict, charters.CharterConflict)
    assert conflict.mine == THIRD and conflict.current.number == 2
    assert [v.number for v in charters.history(team)] == [2, 1]


def test_a_conflicting_save_of_the_same_text_is_no_change(chartered):
    team = chartered()
    charters.save_manual(team, 1, SECOND, "Bo")
    with pytest.raises(RitualError) as refused:
        charters.save_manual(team, 1, SECOND, "Ann")
    assert refused.value.code == "no_change"
    assert not isinstance(refused.value, charters.CharterConflict)


def test_a_base_from_the_future_is_a_conflict(chartered):
    team = chartered()
    with pytest.raises(charters.CharterConflict) as conflict:
        charters.save_manual(team, 7, SECOND, "Bo")
    assert conflict.value.current.number == 1


def test_a_made_up_base_without_any_version_is_refused(make_team):
    team = make_team()
    with pytest.raises(RitualError) as refused:
        charters.save_manual(team, 3, FIRST, "Bo")
    assert refused.value.code == "invalid_field"
    assert version_count() == 0


def test_concurrent_saves_from_the_same_base_apply_exactly_one(app, chartered):
    team = chartered()
    team_id = team.id
    contents = [replace(FIRST, purpose=f"Purpose number {n}.") for n in range(6)]
    saved: list[int] = []
    conflicts: list[charters.CharterConflict] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(contents))

    def save(content: CharterContent) -> None:
        # Each thread has its own app context, so its own session and connection.
        with app.app_context():
            try:
                mine = db.session.get_one(type(team), team_id)
                barrier.wait()
                saved.append(charters.save_manual(mine, 1, content, "Someone").number)
            except charters.CharterConflict as conflict:
                conflicts.append(conflict)
            except BaseException as error:  # collected and re-raised in the test thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(c,)) for c in contents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert saved == [2]
    assert len(conflicts) == len(contents) - 1
    winner = charters.version(team, 2)
    for conflict in conflicts:
        assert conflict.current.number == 2
        assert conflict.mine in contents and conflict.mine.to_dict() != winner.content
    assert {c.mine.purpose for c in conflicts} | {winner.content["purpose"]} == {
        c.purpose for c in contents
    }
    assert [v.number for v in charters.history(team)] == [2, 1]


def test_concurrent_first_saves_create_one_charter(app, make_team):
    team = make_team()
    team_id = team.id
    outcomes: list[object] = []
    barrier = threading.Barrier(4)

    def save(n: int) -> None:
        with app.app_context():
            try:
                mine = db.session.get_one(type(team), team_id)
                barrier.wait()
                outcomes.append(
                    charters.save_manual(mine, 0, replace(FIRST, purpose=f"P{n}."), "X").number
                )
            except BaseException as error:
                outcomes.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    numbers = [o for o in outcomes if isinstance(o, int)]
    others = [o for o in outcomes if not isinstance(o, int)]
    assert numbers == [1]
    assert all(isinstance(o, charters.CharterConflict) for o in others), others
    assert db.session.scalar(select(func.count()).select_from(Charter)) == 1


# -- immutability ----------------------------------------------------------------------------


def test_a_stored_version_cannot_be_updated(chartered):
    team = chartered()
    stored = charters.version(team, 1)
    stored.author = "Mallory"
    with pytest.raises(ImmutableVersionError):
        db.session.commit()
    db.session.rollback()
    db.session.expire_all()
    assert charters.version(team, 1).author == "Fien"


def test_a_stored_versions_content_cannot_be_replaced(chartered):
    team = chartered()
    stored = charters.version(team, 1)
    stored.content = CharterContent(purpose="Rewritten history.").to_dict()
    with pytest.raises(ImmutableVersionError):
        db.session.flush()
    db.session.rollback()
    assert charters.version(team, 1).content == FIRST.to_dict()


def test_a_stored_version_cannot_be_deleted(chartered):
    team = chartered()
    db.session.delete(charters.version(team, 1))
    with pytest.raises(ImmutableVersionError):
        db.session.commit()
    db.session.rollback()
    assert version_count() == 1


@pytest.mark.parametrize(
    "statement",
    [
        update(CharterVersion).values(author="Mallory"),
        delete(CharterVersion),
    ],
)
def test_bulk_statements_on_versions_are_refused(chartered, statement):
    chartered()
    with pytest.raises(ImmutableVersionError):
        db.session.execute(statement)
    db.session.rollback()
    assert version_count() == 1


def test_saving_and_publishing_never_touch_older_versions(chartered):
    team = chartered()
    before = {v.number: (v.content, v.summary, v.author) for v in charters.history(team)}
    charters.save_manual(team, 1, SECOND, "Bo")
    charters.restore(team, 1, 2, "Ann")
    room = make_room_for(team)
    charters.publish_draft(team, room.id, None, [ADD], ["Ann"], "Ann")
    db.session.commit()
    db.session.expire_all()
    assert {
        v.number: (v.content, v.summary, v.author) for v in charters.history(team) if v.number == 1
    } == before
    assert charters.version(team, 2).content == SECOND.to_dict()


def make_room_for(team) -> Room:
    """Return a new room of this team, committed."""
    from retro.services import rooms

    room, _member, _token = rooms.create_room(team, "Fien", [{"kind": "checkout"}])
    return room


# -- restore -------------------------------------------------------------------------------


def test_restoring_makes_a_new_version_with_the_old_content(chartered):
    team = chartered()
    charters.save_manual(team, 1, SECOND, "Bo")
    restored = charters.restore(team, 1, 2, "Ann")
    assert restored.number == 3
    assert restored.source == "restore" and restored.restored_from == 1
    assert restored.content == FIRST.to_dict()
    assert restored.summary == [{"kind": "purpose_changed"}]
    assert restored.author == "Ann"
    assert [v.number for v in charters.history(team)] == [3, 2, 1]


def test_restoring_the_current_content_is_no_change(chartered):
    team = chartered()
    with pytest.raises(RitualError) as refused:
        charters.restore(team, 1, 1, "Ann")
    assert refused.value.code == "no_change"


def test_restoring_an_unknown_version_is_refused(chartered):
    team = chartered()
    with pytest.raises(RitualError) as refused:
        charters.restore(team, 5, 1, "Ann")
    assert refused.value.code == "unknown_version"


def test_restoring_on_an_old_base_is_a_conflict(chartered):
    team = chartered()
    charters.save_manual(team, 1, SECOND, "Bo")
    charters.save_manual(team, 2, THIRD, "Bo")
    with pytest.raises(charters.CharterConflict) as conflict:
        charters.restore(team, 1, 2, "Ann")
    assert conflict.value.current.number == 3
    assert conflict.value.mine == FIRST


# -- a room's publication ------------------------------------------------------------------


def test_a_room_publishes_its_draft_as_a_new_version(chartered):
    team = chartered()
    room = make_room_for(team)
    published, created = charters.publish_draft(
        team, room.id, "We help every shop.", [AMEND, RETIRE, ADD], ["Fien", "Ann"], "Fien"
    )
    db.session.commit()
    assert created is True
    assert published.number == 2
    assert published.source == "room" and published.room_id == room.id
    assert published.ratified_by == ["Fien", "Ann"]
    assert published.author == "Fien"
    assert published.draft_key == charters.draft_key("We help every shop.", [AMEND, RETIRE, ADD])
    content = CharterContent.from_dict(published.content)
    assert content.purpose == "We help every shop."
    assert [(a.text, a.review_date) for a in content.agreements] == [
        ("We start at 9:00.", None),
        ("We laugh.", "2027-06-30"),
    ]
    assert content.anchors == FIRST.anchors and content.leadership == FIRST.leadership
    assert [c["kind"] for c in published.summary] == [
        "purpose_changed",
        "agreement_amended",
        "agreement_added",
        "agreement_retired",
    ]
    assert charters.room_publication(room.id).number == 2


def test_publishing_does_not_commit(chartered):
    team = chartered()
    room = make_room_for(team)
    charters.publish_draft(team, room.id, "We help.", [], ["Fien"], "Fien")
    db.session.rollback()
    assert charters.current_version(team).number == 1
    assert head_of(team) == 1


def test_publishing_the_same_draft_twice_makes_one_version(chartered):
    team = chartered()
    room = make_room_for(team)
    first, created = charters.publish_draft(team, room.id, None, [ADD], ["Fien"], "Fien")
    db.session.commit()
    again, created_again = charters.publish_draft(team, room.id, None, [ADD], ["Fien"], "Fien")
    db.session.commit()
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert [v.number for v in charters.history(team)] == [2, 1]
    assert head_of(team) == 2


def test_the_same_draft_is_recognised_whatever_the_key_order(chartered):
    team = chartered()
    room = make_room_for(team)
    charters.publish_draft(team, room.id, None, [ADD], [], "Fien")
    shuffled = {key: ADD[key] for key in reversed(ADD)}
    _version, created = charters.publish_draft(team, room.id, None, [shuffled], [], "Fien")
    assert created is False


def test_a_changed_draft_from_the_same_room_makes_a_new_version(chartered):
    team = chartered()
    room = make_room_for(team)
    charters.publish_draft(team, room.id, "We help every shop.", [], ["Fien"], "Fien")
    db.session.commit()
    later, created = charters.publish_draft(
        team, room.id, "We help every shop.", [ADD], ["Fien", "Bo"], "Fien"
    )
    db.session.commit()
    assert created is True and later.number == 3
    assert later.summary == [
        {"kind": "agreement_added", "id": later.content["agreements"][2]["id"], "text": "We laugh."}
    ]
    assert charters.room_publication(room.id).number == 3


def test_a_second_publication_does_not_add_an_agreement_twice(chartered):
    team = chartered()
    room = make_room_for(team)
    charters.publish_draft(team, room.id, None, [ADD], [], "Fien")
    charters.publish_draft(team, room.id, None, [ADD, RETIRE], [], "Fien")
    db.session.commit()
    texts = [a["text"] for a in charters.current_version(team).content["agreements"]]
    assert texts == ["We start on time.", "We laugh."]


def test_a_second_publication_does_not_undo_a_manual_edit_made_meanwhile(chartered):
    team = chartered()
    room = make_room_for(team)
    charters.publish_draft(team, room.id, "Room purpose.", [], [], "Fien")
    db.session.commit()
    charters.save_manual(team, 2, replace(FIRST, purpose="Edited by hand."), "Bo")
    charters.publish_draft(team, room.id, "Room purpose.", [ADD], [], "Fien")
    db.session.commit()
    content = charters.current_content(team)
    assert content.purpose == "Edited by hand."
    assert content.agreements[-1].text == "We laugh."


def test_two_rooms_with_the_same_draft_each_publish(chartered):
    team = chartered()
    one, two = make_room_for(team), make_room_for(team)
    _first, created_one = charters.publish_draft(team, one.id, None, [ADD], [], "Fien")
    _second, created_two = charters.publish_draft(team, two.id, None, [ADD], [], "Bo")
    db.session.commit()
    assert created_one and created_two
    assert [v.number for v in charters.history(team)] == [3, 2, 1]


def test_a_draft_on_agreements_removed_meanwhile_records_them_as_not_applied(chartered):
    team = chartered()
    room = make_room_for(team)
    charters.save_manual(team, 1, replace(FIRST, agreements=()), "Bo")
    published, _created = charters.publish_draft(
        team, room.id, None, [AMEND_SEEN, RETIRE_SEEN, ADD], [], "F"
    )
    db.session.commit()
    assert [a["text"] for a in published.content["agreements"]] == ["We laugh."]
    assert published.summary[0]["kind"] == "agreement_added"
    assert published.summary[1:] == [
        not_applied("amend", "removed", "a1", "We start at 9:00.", "We start on time."),
        not_applied("retire", "removed", "a2", "We keep cameras on.", "We keep cameras on."),
    ]


# Ops as a room ratifies them: amend and retire carry the agreement as the room saw it.
SEEN_A1 = {"text": "We start on time.", "review_date": None}
SEEN_A2 = {"text": "We keep cameras on.", "review_date": "2027-01-31"}
AMEND_SEEN = AMEND | {"base": SEEN_A1}
RETIRE_SEEN = {"op": "retire", "id": "a2", "text": "We keep cameras on.", "base": SEEN_A2}


def not_applied(change: str, reason: str, item_id, text: str, old) -> dict:
    """Return the summary entry of a ratified change that was not applied."""
    return {
        "kind": "not_applied",
        "change": change,
        "reason": reason,
        "id": item_id,
        "text": text,
        "old": old,
    }


def test_an_agreement_changed_meanwhile_keeps_that_change_and_the_room_op_is_recorded(chartered):
    team = chartered()
    room = make_room_for(team)
    edited = (Agreement("a1", "We start at 9:05."), FIRST.agreements[1])
    charters.save_manual(team, 1, replace(FIRST, agreements=edited), "Bo")
    published, created = charters.publish_draft(team, room.id, None, [AMEND_SEEN, ADD], [], "F")
    db.session.commit()
    assert created and published.number == 3
    content = CharterContent.from_dict(published.content)
    # Bo's edit is not silently overwritten by what the room ratified on the older text.
    assert content.agreements[0] == Agreement("a1", "We start at 9:05.")
    assert content.agreements[-1].text == "We laugh."
    assert published.summary[-1] == not_applied(
        "amend", "changed", "a1", "We start at 9:00.", "We start on time."
    )


def test_a_review_date_changed_meanwhile_is_a_change_too(chartered):
    team = chartered()
    room = make_room_for(team)
    moved = (FIRST.agreements[0], replace(FIRST.agreements[1], review_date="2028-01-31"))
    charters.save_manual(team, 1, replace(FIRST, agreements=moved), "Bo")
    published, _created = charters.publish_draft(team, room.id, None, [RETIRE_SEEN, ADD], [], "F")
    assert [a["id"] for a in published.content["agreements"]][:2] == ["a1", "a2"]
    assert published.summary[-1]["kind"] == "not_applied"
    assert published.summary[-1]["reason"] == "changed"


def test_an_agreement_amended_meanwhile_to_what_the_room_agreed_is_no_conflict(chartered):
    team = chartered()
    room = make_room_for(team)
    same = (Agreement("a1", "We start at 9:00."), FIRST.agreements[1])
    charters.save_manual(team, 1, replace(FIRST, agreements=same), "Bo")
    published, _created = charters.publish_draft(team, room.id, None, [AMEND_SEEN, ADD], [], "F")
    assert [c["kind"] for c in published.summary] == ["agreement_added"]


def test_a_ratified_purpose_is_not_applied_when_the_purpose_changed_meanwhile(chartered):
    team = chartered()
    room = make_room_for(team)
    charters.save_manual(team, 1, SECOND, "Bo")
    published, _created = charters.publish_draft(
        team, room.id, "The room's purpose.", [ADD], [], "F", purpose_base=FIRST.purpose
    )
    db.session.commit()
    assert published.content["purpose"] == SECOND.purpose
    assert published.summary[-1] == not_applied(
        "purpose", "changed", None, "The room's purpose.", FIRST.purpose
    )
    assert published.draft["purpose_base"] == FIRST.purpose


def test_a_ratified_purpose_on_an_unchanged_purpose_is_applied(chartered):
    team = chartered()
    room = make_room_for(team)
    published, _created = charters.publish_draft(
        team, room.id, "The room's purpose.", [], [], "F", purpose_base=FIRST.purpose
    )
    assert published.content["purpose"] == "The room's purpose."
    assert published.summary == [{"kind": "purpose_changed"}]


def test_a_draft_of_which_nothing_can_be_applied_is_refused(chartered):
    team = chartered()
    room = make_room_for(team)
    charters.save_manual(team, 1, replace(SECOND, agreements=()), "Bo")
    with pytest.raises(RitualError) as refused:
        charters.publish_draft(
            team, room.id, "Ours.", [AMEND_SEEN, RETIRE_SEEN], [], "F", purpose_base=FIRST.purpose
        )
    assert refused.value.code == "charter_changed"
    db.session.rollback()
    assert version_count() == 2 and head_of(team) == 2


def test_a_draft_that_changes_nothing_makes_no_version(chartered):
    team = chartered()
    room = make_room_for(team)
    with pytest.raises(RitualError) as refused:
        charters.publish_draft(team, room.id, FIRST.purpose, [], [], "F", purpose_base="Old.")
    assert refused.value.code == "draft_unchanged"
    db.session.rollback()
    assert version_count() == 1 and head_of(team) == 1


def test_checking_a_publication_tells_the_conflicts_and_writes_nothing(chartered):
    team = chartered()
    room = make_room_for(team)
    charters.save_manual(team, 1, replace(FIRST, agreements=FIRST.agreements[1:]), "Bo")
    check = charters.check_publication(team, room.id, None, [AMEND_SEEN, ADD])
    assert check.blocked is None
    assert check.not_applied == [
        not_applied("amend", "removed", "a1", "We start at 9:00.", "We start on time.")
    ]
    assert [a.text for a in check.content.agreements][-1] == "We laugh."
    assert charters.check_publication(team, room.id, None, [AMEND_SEEN]).blocked == (
        "charter_changed"
    )
    assert version_count() == 2


def test_the_first_version_can_come_from_a_room(make_team):
    team = make_team()
    room = make_room_for(team)
    published, created = charters.publish_draft(team, room.id, "We exist.", [ADD], ["A"], "A")
    db.session.commit()
    assert created and published.number == 1
    assert [c["kind"] for c in published.summary] == ["purpose_set", "agreement_added"]


@pytest.mark.parametrize("purpose", [None, "", "   "])
def test_an_empty_draft_is_refused(chartered, purpose):
    team = chartered()
    room = make_room_for(team)
    with pytest.raises(RitualError) as refused:
        charters.publish_draft(team, room.id, purpose, [], ["Fien"], "Fien")
    assert refused.value.code == "empty_draft"
    db.session.rollback()
    assert version_count() == 1


def test_a_draft_beyond_the_limits_is_refused(chartered):
    team = chartered()
    room = make_room_for(team)
    with pytest.raises(RitualError) as refused:
        charters.publish_draft(team, room.id, "x" * 2001, [], [], "Fien")
    assert refused.value.code == "too_long"
    db.session.rollback()
    assert version_count() == 1 and head_of(team) == 1


def test_a_room_and_a_manual_save_on_the_same_base_conflict(chartered):
    team = chartered()
    room = make_room_for(team)
    charters.publish_draft(team, room.id, None, [ADD], [], "Fien")
    db.session.commit()
    with pytest.raises(charters.CharterConflict) as conflict:
        charters.save_manual(team, 1, SECOND, "Bo")
    assert conflict.value.current.number == 2


def test_a_deleted_room_leaves_its_versions(chartered):
    team = chartered()
    room = make_room_for(team)
    published, _created = charters.publish_draft(team, room.id, None, [ADD], [], "Fien")
    db.session.commit()
    db.session.execute(delete(Room).where(Room.id == room.id))
    db.session.commit()
    db.session.expire_all()
    kept = charters.version(team, 2)
    assert kept.room_id is None and kept.room is None
    assert kept.content == published.content


@pytest.mark.parametrize("room_first", [True, False], ids=["room-locked", "charter-lock-only"])
def test_concurrent_publications_of_one_draft_make_one_version(app, chartered, room_first):
    team = chartered()
    room = make_room_for(team)
    team_id, room_id = team.id, room.id
    outcomes: list[object] = []
    barrier = threading.Barrier(4)

    def publish() -> None:
        with app.app_context():
            try:
                mine = db.session.get_one(type(team), team_id)
                barrier.wait()
                if room_first:
                    # Like a room command: the room's row is the first write.
                    db.session.execute(
                        update(Room).where(Room.id == room_id).values(seq=Room.seq + 1)
                    )
                version, created = charters.publish_draft(mine, room_id, None, [ADD], [], "F")
                outcomes.append((version.number, created))
                db.session.commit()
            except BaseException as error:
                outcomes.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [(2, False), (2, False), (2, False), (2, True)], outcomes
    assert [v.number for v in charters.history(team)] == [2, 1]
