"""Purpose alignment: private cards, grouping, dot votes and a statement ratified by consent."""

from __future__ import annotations

import inspect
import json
import random

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from retro.charter import content
from retro.rituals import STEP_KINDS, Actor, AgreementDrafting, PurposeAlignment, RitualError
from retro.rituals.base import MIN_AGGREGATE
from retro.rituals.purpose import (
    CARD_LIMIT,
    GROUP_TITLE_LIMIT,
    MAX_CARDS_PER_MEMBER,
    MAX_VOTES,
    PURPOSE_LIMIT,
)
from tests.rituals.helpers import (
    FACILITATOR,
    FACILITATOR_ID,
    as_json,
    member,
    refused,
    round_trip,
    walk,
)

# Member ids that cannot be mistaken for any other number in a view.
ANN, BOB, CAT = 4101, 4202, 4303


def make_purpose(anonymous: bool = False, votes: int = 3) -> PurposeAlignment:
    """Return a started purpose alignment."""
    purpose = PurposeAlignment.create(anonymous=anonymous, votes=votes)
    purpose.begin([FACILITATOR_ID, ANN, BOB, CAT], random.Random(0))
    return purpose


def with_cards(anonymous: bool = False, votes: int = 3) -> PurposeAlignment:
    """Return a purpose alignment with four cards (c1-c4) written, not yet revealed."""
    purpose = make_purpose(anonymous, votes)
    purpose.add_card(member(ANN), "exists", "To help people learn")
    purpose.add_card(member(BOB), "bring", "Patience")
    purpose.add_card(member(CAT), "exists", "To teach")
    purpose.add_card(member(ANN), "bring", "Humour")
    return purpose


def revealed(anonymous: bool = False, votes: int = 3) -> PurposeAlignment:
    """Return a purpose alignment with four cards, revealed (the group phase)."""
    purpose = with_cards(anonymous, votes)
    purpose.reveal(FACILITATOR)
    return purpose


def voting(votes: int = 3) -> PurposeAlignment:
    """Return a purpose alignment in the vote phase with groups c1 {c1, c3}, c2 and c4."""
    purpose = revealed(votes=votes)
    purpose.group_card(member(BOB), "c3", "c1")
    purpose.open_voting(FACILITATOR, votes)
    return purpose


def consenting(anonymous: bool = False, threshold: int = 3) -> PurposeAlignment:
    """Return a purpose alignment with a consent vote open on a drafted statement."""
    purpose = revealed(anonymous)
    purpose.draft_statement(FACILITATOR, "We exist to help people learn.")
    purpose.call_consent(FACILITATOR, threshold, None)
    return purpose


def groups(purpose: PurposeAlignment) -> dict[str, list[str]]:
    """Return the public groups as id -> card ids."""
    return {g["id"]: g["cards"] for g in purpose.public_view()["groups"]}


# -- the protocol ---------------------------------------------------------------------------

PURPOSE_COMMANDS = {
    "add_card": ["column", "text"],
    "edit_card": ["card", "text"],
    "delete_card": ["card"],
    "reveal": ["rng"],
    "group_card": ["card", "target"],
    "title_group": ["group", "title"],
    "open_voting": ["votes"],
    "vote": ["group"],
    "unvote": ["group"],
    "close_voting": [],
    "draft_statement": ["text"],
    "call_consent": ["threshold", "proposal"],
    "consent": ["score", "reason"],
    "close_consent": [],
    "cancel_consent": [],
}
AGREEMENT_ONLY = ["propose", "amend_proposal", "withdraw", "keep"]


@pytest.mark.parametrize(("command", "fields"), PURPOSE_COMMANDS.items())
def test_every_command_takes_the_actor_and_the_payload_fields(command, fields):
    parameters = list(inspect.signature(getattr(PurposeAlignment, command)).parameters)
    assert parameters == ["self", "actor", *fields]


@pytest.mark.parametrize("command", AGREEMENT_ONLY)
def test_the_purpose_step_has_no_agreement_commands(command):
    assert not hasattr(PurposeAlignment, command)


def test_both_charter_steps_are_step_kinds():
    assert STEP_KINDS["purpose"] is PurposeAlignment
    assert STEP_KINDS["agreements"] is AgreementDrafting
    assert PurposeAlignment.kind == "purpose"


def test_the_limits_match_the_charter():
    assert PURPOSE_LIMIT == content.PURPOSE_LIMIT
    assert (CARD_LIMIT, GROUP_TITLE_LIMIT) == (280, 80)


# -- settings and lifecycle -------------------------------------------------------------------


def test_a_new_purpose_alignment_is_not_started():
    purpose = PurposeAlignment.create()
    assert purpose.started is False
    assert purpose.public_view()["started"] is False
    assert purpose.public_view()["votes_per_person"] == 3


@pytest.mark.parametrize(
    ("settings_", "field"),
    [
        ({"votes": 0}, "votes"),
        ({"votes": MAX_VOTES + 1}, "votes"),
        ({"votes": True}, "votes"),
        ({"votes": "3"}, "votes"),
        ({"anonymous": "yes"}, "anonymous"),
        ({"anonymous": 1}, "anonymous"),
    ],
)
def test_bad_settings_are_refused(settings_, field):
    with pytest.raises(RitualError) as caught:
        PurposeAlignment.create(**settings_)
    assert caught.value.code == "invalid_field"
    assert caught.value.params == {"field": field}


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("add_card", (member(ANN), "exists", "x")),
        ("edit_card", (member(ANN), "c1", "x")),
        ("delete_card", (member(ANN), "c1")),
        ("reveal", (FACILITATOR,)),
        ("group_card", (member(ANN), "c1", None)),
        ("title_group", (member(ANN), "c1", "x")),
        ("open_voting", (FACILITATOR, 3)),
        ("vote", (member(ANN), "c1")),
        ("unvote", (member(ANN), "c1")),
        ("close_voting", (FACILITATOR,)),
        ("draft_statement", (FACILITATOR, "x")),
        ("call_consent", (FACILITATOR, 3, None)),
        ("consent", (member(ANN), 3, "")),
        ("close_consent", (FACILITATOR,)),
    ],
)
def test_no_command_is_accepted_before_the_step_starts(command, args):
    purpose = PurposeAlignment.create()
    assert refused(getattr(purpose, command), *args) == "step_not_started"


def test_a_second_begin_and_a_late_join_change_nothing():
    purpose = with_cards()
    before = purpose.to_state()
    purpose.begin([9], random.Random(1))
    purpose.join(9)
    assert purpose.to_state() == before


def test_the_charters_purpose_is_loaded_once():
    purpose = make_purpose()
    purpose.load_charter("We ship software.", [{"id": "a1", "text": "We start on time."}])
    purpose.load_charter("Something newer.", [])
    assert purpose.public_view()["current_purpose"] == "We ship software."


# -- writing -----------------------------------------------------------------------------------


def test_cards_are_numbered_and_stored_without_surrounding_whitespace():
    purpose = make_purpose()
    purpose.add_card(member(ANN), "exists", "  To learn \n")
    purpose.add_card(member(BOB), "bring", "Tea")
    assert [(c.id, c.column, c.text, c.author) for c in purpose.cards] == [
        ("c1", "exists", "To learn", ANN),
        ("c2", "bring", "Tea", BOB),
    ]


def test_the_facilitator_writes_cards_too():
    purpose = make_purpose()
    purpose.add_card(FACILITATOR, "bring", "Structure")
    assert purpose.private_view(FACILITATOR_ID)["cards"] == [
        {"id": "c1", "column": "bring", "text": "Structure"}
    ]


@pytest.mark.parametrize(
    ("column", "text", "code"),
    [
        ("elsewhere", "x", "invalid_value"),
        (None, "x", "invalid_value"),
        (["exists"], "x", "invalid_value"),
        ("exists", "   ", "empty_text"),
        ("exists", None, "invalid_value"),
        ("exists", "x" * (CARD_LIMIT + 1), "too_long"),
    ],
)
def test_a_bad_card_is_refused(column, text, code):
    assert refused(make_purpose().add_card, member(ANN), column, text) == code


def test_a_card_up_to_the_limit_is_accepted():
    purpose = make_purpose()
    purpose.add_card(member(ANN), "exists", "x" * CARD_LIMIT)
    assert purpose.cards[0].text == "x" * CARD_LIMIT


def test_a_member_writes_a_limited_number_of_cards():
    purpose = make_purpose()
    for n in range(MAX_CARDS_PER_MEMBER):
        purpose.add_card(member(ANN), "exists", f"Card {n}")
    assert refused(purpose.add_card, member(ANN), "exists", "One more") == "too_many_cards"
    purpose.add_card(member(BOB), "exists", "Bob's first")


def test_card_text_is_private_until_the_reveal():
    purpose = with_cards()
    view = purpose.public_view()
    assert view["cards"] == []
    assert view["groups"] == []
    assert view["written"] == {"exists": 2, "bring": 2}
    assert view["writers"] == [ANN, BOB, CAT]
    for text in ("To help people learn", "Patience", "To teach", "Humour"):
        assert text not in as_json(view)


def test_an_anonymous_step_does_not_say_who_wrote_before_the_reveal():
    view = with_cards(anonymous=True).public_view()
    assert view["writers"] == []
    for member_id in (ANN, BOB, CAT):
        assert str(member_id) not in as_json(view)


def test_a_member_sees_only_their_own_cards():
    purpose = with_cards()
    assert purpose.private_view(ANN)["cards"] == [
        {"id": "c1", "column": "exists", "text": "To help people learn"},
        {"id": "c4", "column": "bring", "text": "Humour"},
    ]
    private = as_json(purpose.private_view(ANN))
    assert "Patience" not in private
    assert "To teach" not in private


def test_an_author_edits_and_deletes_their_own_card():
    purpose = with_cards()
    purpose.edit_card(member(ANN), "c1", "To help people grow")
    purpose.delete_card(member(ANN), "c4")
    assert purpose.private_view(ANN)["cards"] == [
        {"id": "c1", "column": "exists", "text": "To help people grow"}
    ]


def test_a_deleted_cards_id_is_not_used_again():
    purpose = with_cards()
    purpose.delete_card(member(ANN), "c4")
    purpose.add_card(member(ANN), "bring", "Energy")
    assert [c.id for c in purpose.cards] == ["c1", "c2", "c3", "c5"]


@pytest.mark.parametrize("command", ["edit_card", "delete_card"])
def test_nobody_changes_someone_elses_card_not_even_the_facilitator(command):
    purpose = with_cards()
    args = ("Mine now",) if command == "edit_card" else ()
    for actor in (member(BOB), FACILITATOR):
        assert refused(getattr(purpose, command), actor, "c1", *args) == "not_author"


@pytest.mark.parametrize("card", ["c9", None, 1, ["c1"]], ids=repr)
def test_an_unknown_card_is_refused(card):
    assert refused(with_cards().delete_card, member(ANN), card) == "unknown_card"


def test_an_edit_to_an_empty_text_is_refused():
    assert refused(with_cards().edit_card, member(ANN), "c1", " ") == "empty_text"


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("add_card", ("exists", "Late")),
        ("edit_card", ("c1", "Changed")),
        ("delete_card", ("c1",)),
    ],
)
def test_cards_are_fixed_once_revealed(command, args):
    purpose = revealed()
    assert refused(getattr(purpose, command), member(ANN), *args) == "already_revealed"


# -- the reveal ----------------------------------------------------------------------------------


def test_only_the_facilitator_reveals_and_only_once():
    purpose = with_cards()
    assert refused(purpose.reveal, member(ANN)) == "not_facilitator"
    purpose.reveal(FACILITATOR)
    assert purpose.phase == "group"
    assert refused(purpose.reveal, FACILITATOR) == "already_revealed"


def test_the_reveal_shows_every_card_with_its_author_each_in_its_own_group():
    view = revealed().public_view()
    assert view["cards"] == [
        {
            "id": "c1",
            "column": "exists",
            "text": "To help people learn",
            "group": "c1",
            "author": ANN,
        },
        {"id": "c2", "column": "bring", "text": "Patience", "group": "c2", "author": BOB},
        {"id": "c3", "column": "exists", "text": "To teach", "group": "c3", "author": CAT},
        {"id": "c4", "column": "bring", "text": "Humour", "group": "c4", "author": ANN},
    ]
    assert view["groups"] == [
        {"id": "c1", "title": "", "cards": ["c1"]},
        {"id": "c2", "title": "", "cards": ["c2"]},
        {"id": "c3", "title": "", "cards": ["c3"]},
        {"id": "c4", "title": "", "cards": ["c4"]},
    ]


def test_an_anonymous_step_never_shows_an_author():
    purpose = revealed(anonymous=True)
    purpose.group_card(member(BOB), "c3", "c1")
    view = purpose.public_view()
    assert [c["text"] for c in view["cards"]] == [
        "To help people learn",
        "Patience",
        "To teach",
        "Humour",
    ]
    assert all("author" not in c for c in view["cards"])
    for member_id in (ANN, BOB, CAT):
        assert str(member_id) not in as_json(view)


def test_the_reveal_may_come_before_anyone_wrote():
    purpose = make_purpose()
    purpose.reveal(FACILITATOR)
    assert purpose.public_view()["groups"] == []
    assert refused(purpose.open_voting, FACILITATOR, 3) == "no_cards"


# -- grouping ------------------------------------------------------------------------------------


def test_anyone_moves_a_card_into_the_group_of_another_card():
    purpose = revealed()
    purpose.group_card(member(BOB), "c3", "c1")
    purpose.group_card(member(CAT), "c4", "c3")
    assert groups(purpose) == {"c1": ["c1", "c3", "c4"], "c2": ["c2"]}


def test_groups_are_listed_in_the_order_of_their_first_card():
    purpose = revealed()
    purpose.group_card(member(ANN), "c1", "c4")
    purpose.group_card(member(ANN), "c2", "c4")
    assert list(groups(purpose)) == ["c4", "c3"]
    assert groups(purpose) == {"c4": ["c1", "c2", "c4"], "c3": ["c3"]}


def test_a_card_can_be_put_back_on_its_own():
    purpose = revealed()
    purpose.group_card(member(BOB), "c3", "c1")
    purpose.group_card(member(BOB), "c3", None)
    assert groups(purpose) == {"c1": ["c1"], "c2": ["c2"], "c3": ["c3"], "c4": ["c4"]}


def test_when_the_card_naming_a_group_leaves_the_group_takes_its_earliest_cards_id():
    purpose = revealed()
    purpose.group_card(member(ANN), "c4", "c2")
    purpose.group_card(member(ANN), "c3", "c2")
    purpose.title_group(member(ANN), "c2", "Craft")
    assert groups(purpose) == {"c1": ["c1"], "c2": ["c2", "c3", "c4"]}

    purpose.group_card(member(BOB), "c2", "c1")

    assert groups(purpose) == {"c1": ["c1", "c2"], "c3": ["c3", "c4"]}
    titles = {g["id"]: g["title"] for g in purpose.public_view()["groups"]}
    assert titles == {"c1": "", "c3": "Craft"}


def test_when_the_card_naming_a_group_goes_on_its_own_the_rest_keep_the_title():
    purpose = revealed()
    purpose.group_card(member(ANN), "c3", "c1")
    purpose.group_card(member(ANN), "c4", "c1")
    purpose.title_group(member(ANN), "c1", "Learning")
    purpose.group_card(member(ANN), "c1", None)
    view = {g["id"]: (g["title"], g["cards"]) for g in purpose.public_view()["groups"]}
    assert view == {"c1": ("", ["c1"]), "c2": ("", ["c2"]), "c3": ("Learning", ["c3", "c4"])}


def test_a_group_that_loses_its_last_card_loses_its_title():
    purpose = revealed()
    purpose.title_group(member(ANN), "c3", "Teaching")
    purpose.group_card(member(ANN), "c3", "c1")
    purpose.group_card(member(ANN), "c3", None)
    assert {g["id"]: g["title"] for g in purpose.public_view()["groups"]}["c3"] == ""
    assert purpose.titles == {}


def test_votes_on_a_group_that_disappears_go_back_to_the_voters():
    # Grouping and voting are separate phases, so this state is reached only through a
    # stored state (say from before that rule): the budget must still come out right.
    purpose = revealed(votes=3)
    state = purpose.to_state()
    state["dots"] = {str(ANN): ["c3", "c1", "c3"], str(BOB): ["c3"]}
    purpose = PurposeAlignment.from_state(state)
    purpose.group_card(member(CAT), "c3", "c1")
    assert purpose.dots == {ANN: ["c1"]}
    assert purpose.private_view(ANN)["votes_left"] == 2
    assert purpose.private_view(BOB)["votes_left"] == 3
    assert purpose.public_view()["voters"] == 1


def test_votes_follow_a_group_that_is_renamed():
    purpose = revealed()
    purpose.group_card(member(CAT), "c3", "c1")
    state = purpose.to_state()
    state["dots"] = {str(ANN): ["c1", "c2"]}
    purpose = PurposeAlignment.from_state(state)
    purpose.group_card(member(CAT), "c1", "c2")
    assert groups(purpose) == {"c2": ["c1", "c2"], "c3": ["c3"], "c4": ["c4"]}
    assert purpose.dots == {ANN: ["c3", "c2"]}


@pytest.mark.parametrize(("card", "target"), [("c3", "c3"), ("c3", None)])
def test_a_move_that_changes_nothing_is_accepted_and_changes_nothing(card, target):
    purpose = revealed()
    before = purpose.to_state()
    purpose.group_card(member(ANN), card, target)
    assert purpose.to_state() == before


def test_moving_a_card_to_a_card_of_its_own_group_changes_nothing():
    purpose = revealed()
    purpose.group_card(member(ANN), "c3", "c1")
    before = purpose.to_state()
    purpose.group_card(member(ANN), "c1", "c3")
    assert purpose.to_state() == before


@pytest.mark.parametrize(("card", "target"), [("c9", None), ("c1", "c9"), ("c1", 3)])
def test_grouping_an_unknown_card_is_refused(card, target):
    assert refused(revealed().group_card, member(ANN), card, target) == "unknown_card"


def test_grouping_happens_only_in_the_group_phase():
    before_reveal = with_cards()
    assert refused(before_reveal.group_card, member(ANN), "c2", "c1") == "wrong_phase"
    assert refused(before_reveal.title_group, member(ANN), "c1", "x") == "wrong_phase"
    during_vote = voting()
    assert refused(during_vote.group_card, member(ANN), "c2", "c1") == "wrong_phase"
    assert refused(during_vote.title_group, member(ANN), "c1", "x") == "wrong_phase"


def test_anyone_titles_a_group_and_an_empty_title_clears_it():
    purpose = revealed()
    purpose.title_group(member(BOB), "c1", "  Learning  ")
    assert purpose.public_view()["groups"][0]["title"] == "Learning"
    purpose.title_group(member(CAT), "c1", "")
    assert purpose.public_view()["groups"][0]["title"] == ""
    purpose.title_group(member(CAT), "c2", " ")
    assert purpose.titles == {}


@pytest.mark.parametrize(
    ("group", "title", "code"),
    [
        ("c9", "x", "unknown_group"),
        ("c1", None, "invalid_value"),
        ("c1", "x" * (GROUP_TITLE_LIMIT + 1), "too_long"),
        ("c1", "two\nlines", "one_line"),
        ("c1", "two\u2028lines", "one_line"),
    ],
)
def test_a_bad_group_title_is_refused(group, title, code):
    assert refused(revealed().title_group, member(ANN), group, title) == code


def test_a_title_names_a_group_not_a_card_inside_one():
    purpose = revealed()
    purpose.group_card(member(ANN), "c3", "c1")
    assert refused(purpose.title_group, member(ANN), "c3", "x") == "unknown_group"


# -- dot voting ----------------------------------------------------------------------------------


def test_only_the_facilitator_opens_voting_from_the_group_phase():
    purpose = revealed()
    assert refused(purpose.open_voting, member(ANN), 3) == "not_facilitator"
    assert refused(with_cards().open_voting, FACILITATOR, 3) == "wrong_phase"
    purpose.open_voting(FACILITATOR, 5)
    assert purpose.phase == "vote"
    assert purpose.public_view()["votes_per_person"] == 5
    assert refused(purpose.open_voting, FACILITATOR, 3) == "wrong_phase"


@pytest.mark.parametrize("votes", [0, MAX_VOTES + 1, True, "3", None], ids=repr)
def test_votes_per_person_must_be_one_to_ten(votes):
    assert refused(revealed().open_voting, FACILITATOR, votes) == "invalid_value"


def test_a_member_spends_their_votes_and_may_stack_them():
    purpose = voting(votes=3)
    purpose.vote(member(ANN), "c2")
    purpose.vote(member(ANN), "c2")
    purpose.vote(member(ANN), "c1")
    assert purpose.private_view(ANN)["votes"] == {"c2": 2, "c1": 1}
    assert purpose.private_view(ANN)["votes_left"] == 0
    assert refused(purpose.vote, member(ANN), "c4") == "no_votes_left"
    purpose.vote(member(BOB), "c4")
    assert purpose.private_view(BOB)["votes_left"] == 2


def test_dot_votes_stay_hidden_until_voting_closes():
    purpose = voting()
    purpose.vote(member(ANN), "c2")
    purpose.vote(member(BOB), "c2")
    view = purpose.public_view()
    assert view["results"] == []
    assert view["voters"] == 2
    assert '"votes": 2' not in as_json(view)
    assert "dots" not in as_json(view)


def test_a_member_takes_a_vote_back():
    purpose = voting()
    purpose.vote(member(ANN), "c2")
    purpose.vote(member(ANN), "c2")
    purpose.unvote(member(ANN), "c2")
    assert purpose.private_view(ANN)["votes"] == {"c2": 1}
    purpose.unvote(member(ANN), "c2")
    assert purpose.private_view(ANN)["votes"] == {}
    assert purpose.public_view()["voters"] == 0
    assert refused(purpose.unvote, member(ANN), "c2") == "not_voted"


@pytest.mark.parametrize("group", ["c3", "c9", None], ids=repr)
def test_a_vote_goes_only_to_a_group(group):
    # c3 was grouped into c1, so it is a card but no longer a group.
    assert refused(voting().vote, member(ANN), group) == "unknown_group"


def test_voting_happens_only_in_the_vote_phase():
    purpose = revealed()
    assert refused(purpose.vote, member(ANN), "c1") == "wrong_phase"
    assert refused(purpose.unvote, member(ANN), "c1") == "wrong_phase"
    assert refused(purpose.close_voting, FACILITATOR) == "wrong_phase"
    purpose = voting()
    purpose.vote(member(ANN), "c1")
    purpose.close_voting(FACILITATOR)
    assert refused(purpose.vote, member(ANN), "c1") == "wrong_phase"
    assert refused(purpose.unvote, member(ANN), "c1") == "wrong_phase"


def test_closing_the_vote_ranks_every_group_and_ties_keep_the_group_order():
    purpose = voting()
    assert list(groups(purpose)) == ["c1", "c2", "c4"]
    purpose.vote(member(ANN), "c4")
    purpose.vote(member(BOB), "c2")
    assert refused(purpose.close_voting, member(ANN)) == "not_facilitator"
    purpose.close_voting(FACILITATOR)
    assert purpose.phase == "draft"
    assert purpose.public_view()["results"] == [
        {"group": "c2", "votes": 1},
        {"group": "c4", "votes": 1},
        {"group": "c1", "votes": 0},
    ]


def test_voting_may_close_without_votes():
    purpose = voting()
    purpose.close_voting(FACILITATOR)
    assert [r["votes"] for r in purpose.public_view()["results"]] == [0, 0, 0]


# -- the statement -------------------------------------------------------------------------------


def test_the_facilitator_drafts_the_statement_live_in_the_room():
    purpose = revealed()
    purpose.draft_statement(FACILITATOR, "  We exist to\nhelp people learn.  ")
    assert purpose.public_view()["statement"] == "We exist to\nhelp people learn."
    purpose.draft_statement(FACILITATOR, "")
    assert purpose.public_view()["statement"] == ""


def test_only_the_facilitator_drafts_the_statement():
    assert refused(revealed().draft_statement, member(ANN), "We") == "not_facilitator"


@pytest.mark.parametrize(
    ("text", "code"), [("x" * (PURPOSE_LIMIT + 1), "too_long"), (None, "invalid_value")]
)
def test_a_bad_statement_is_refused(text, code):
    assert refused(revealed().draft_statement, FACILITATOR, text) == code


def test_a_statement_up_to_the_limit_is_accepted():
    purpose = revealed()
    purpose.draft_statement(FACILITATOR, "x" * PURPOSE_LIMIT)
    assert len(purpose.statement) == PURPOSE_LIMIT


def test_the_statement_is_drafted_while_grouping_voting_or_drafting():
    purpose = with_cards()
    assert refused(purpose.draft_statement, FACILITATOR, "Early") == "wrong_phase"
    purpose = voting()
    purpose.draft_statement(FACILITATOR, "During the vote")
    purpose.close_voting(FACILITATOR)
    purpose.draft_statement(FACILITATOR, "After the vote")
    purpose.call_consent(FACILITATOR, 3, None)
    assert refused(purpose.draft_statement, FACILITATOR, "While consenting") == "wrong_phase"


# -- consent -------------------------------------------------------------------------------------


def test_a_consent_vote_may_be_called_straight_from_grouping():
    purpose = consenting()
    assert purpose.phase == "consent"
    assert purpose.public_view()["vote"] == {
        "open": True,
        "text": "We exist to help people learn.",
        "threshold": 3,
        "count": 0,
        "voted": [],
    }


def test_a_consent_vote_is_called_after_the_dot_vote_closes_not_during_it():
    purpose = voting()
    purpose.draft_statement(FACILITATOR, "We exist to learn.")
    assert refused(purpose.call_consent, FACILITATOR, 3, None) == "wrong_phase"
    purpose.close_voting(FACILITATOR)
    purpose.call_consent(FACILITATOR, 3, None)
    assert purpose.phase == "consent"


def test_a_consent_vote_needs_a_statement():
    assert refused(revealed().call_consent, FACILITATOR, 3, None) == "empty_text"


def test_the_purpose_consent_vote_is_on_no_proposal():
    purpose = revealed()
    purpose.draft_statement(FACILITATOR, "We exist to learn.")
    with pytest.raises(RitualError) as caught:
        purpose.call_consent(FACILITATOR, 3, "p1")
    assert caught.value.code == "invalid_field"
    assert caught.value.params == {"field": "proposal"}


@pytest.mark.parametrize("threshold", [0, -1, 6, True, None], ids=repr)
def test_a_consent_threshold_outside_one_to_five_is_refused(threshold):
    purpose = revealed()
    purpose.draft_statement(FACILITATOR, "We exist to learn.")
    assert refused(purpose.call_consent, FACILITATOR, threshold, None) == "invalid_value"


def test_only_the_facilitator_calls_and_closes_a_consent_vote():
    purpose = revealed()
    purpose.draft_statement(FACILITATOR, "We exist to learn.")
    assert refused(purpose.call_consent, member(ANN), 3, None) == "not_facilitator"
    purpose.call_consent(FACILITATOR, 3, None)
    purpose.consent(member(ANN), 5, "")
    assert refused(purpose.close_consent, member(ANN)) == "not_facilitator"


def test_consent_is_given_only_while_a_vote_is_open():
    purpose = revealed()
    assert refused(purpose.consent, member(ANN), 5, "") == "no_vote_open"
    assert refused(purpose.close_consent, FACILITATOR) == "no_vote_open"


def test_a_consent_vote_nobody_answered_cannot_close():
    assert refused(consenting().close_consent, FACILITATOR) == "no_votes"


def test_a_second_consent_vote_cannot_be_called_while_one_is_open():
    assert refused(consenting().call_consent, FACILITATOR, 2, None) == "wrong_phase"


def test_everyone_present_votes_including_the_facilitator_and_sees_only_their_own_score():
    purpose = consenting()
    purpose.consent(FACILITATOR, 4, "")
    purpose.consent(member(ANN), 2, "Says nothing about customers")
    assert purpose.public_view()["vote"]["voted"] == [FACILITATOR_ID, ANN]
    assert purpose.private_view(ANN)["consent"] == {
        "score": 2,
        "reason": "Says nothing about customers",
    }
    assert purpose.private_view(BOB)["consent"] is None
    assert "customers" not in as_json(purpose.public_view())


def test_a_passed_vote_ratifies_the_statement():
    purpose = consenting()
    for actor in (FACILITATOR, member(ANN), member(BOB)):
        purpose.consent(actor, 4, "")
    purpose.close_consent(FACILITATOR)
    view = purpose.public_view()
    assert view["phase"] == "ratified"
    assert view["ratified"] == "We exist to help people learn."
    assert view["vote"] is None
    assert view["rounds"] == [
        {
            "passed": True,
            "count": 3,
            "threshold": 3,
            "histogram": [0, 0, 0, 0, 3, 0],
            "objections": [],
            "scores": {str(FACILITATOR_ID): 4, str(ANN): 4, str(BOB): 4},
            "text": "We exist to help people learn.",
        }
    ]
    assert refused(purpose.draft_statement, FACILITATOR, "Again") == "wrong_phase"
    assert refused(purpose.call_consent, FACILITATOR, 3, None) == "wrong_phase"
    assert purpose.ratifiers() == [FACILITATOR_ID, ANN, BOB]


def test_an_objected_statement_is_amended_and_voted_again_keeping_every_round():
    purpose = consenting(threshold=3)
    purpose.consent(member(ANN), 1, "Too vague")
    purpose.consent(member(BOB), 5, "")
    purpose.close_consent(FACILITATOR)
    assert purpose.phase == "draft"
    assert purpose.ratified is None

    purpose.draft_statement(FACILITATOR, "We exist to help our customers learn.")
    purpose.call_consent(FACILITATOR, 3, None)
    assert purpose.private_view(ANN)["consent"] is None
    purpose.consent(member(ANN), 3, "")
    purpose.consent(member(BOB), 5, "")
    purpose.close_consent(FACILITATOR)

    view = purpose.public_view()
    assert view["ratified"] == "We exist to help our customers learn."
    assert [(r["text"], r["passed"]) for r in view["rounds"]] == [
        ("We exist to help people learn.", False),
        ("We exist to help our customers learn.", True),
    ]
    assert view["rounds"][0]["objections"] == [{"score": 1, "reason": "Too vague", "member": ANN}]


def test_a_member_who_leaves_without_voting_does_not_block_ratification():
    purpose = consenting()
    purpose.consent(member(ANN), 5, "")
    # BOB and CAT were present when the vote was called and left without voting.
    purpose.close_consent(FACILITATOR)
    assert purpose.phase == "ratified"


def test_an_anonymous_consent_vote_names_nobody_and_forgets_the_scores():
    purpose = consenting(anonymous=True)
    purpose.consent(member(ANN), 1, "Too vague")
    purpose.consent(member(BOB), 5, "")
    assert purpose.public_view()["vote"] == {
        "open": True,
        "text": "We exist to help people learn.",
        "threshold": 3,
        "count": 2,
    }
    assert refused(purpose.close_consent, FACILITATOR) == "anonymous_needs_three"
    purpose.consent(member(CAT), 4, "")
    purpose.close_consent(FACILITATOR)
    view = purpose.public_view()
    assert view["rounds"][0]["objections"] == [{"score": 1, "reason": "Too vague"}]
    assert "scores" not in view["rounds"][0]
    assert "voters" not in view["rounds"][0]
    for member_id in (ANN, BOB, CAT):
        assert str(member_id) not in as_json(view)
    stored = json.dumps(purpose.to_state())
    # Only the cards still know their authors; no score is tied to anyone.
    assert purpose.to_state()["rounds"][0].get("scores") is None
    assert purpose.to_state()["rounds"][0]["voters"] == [ANN, BOB, CAT]
    assert "Too vague" in stored
    assert purpose.ballot is None


def test_the_facilitator_cancels_a_consent_vote_and_drafts_again():
    purpose = consenting(anonymous=True)
    purpose.consent(member(ANN), 1, "Too vague")
    assert refused(purpose.cancel_consent, member(ANN)) == "not_facilitator"
    purpose.cancel_consent(FACILITATOR)
    view = purpose.public_view()
    assert view["phase"] == "draft"
    assert view["vote"] is None
    assert view["rounds"] == []
    assert purpose.private_view(ANN)["consent"] is None
    assert "Too vague" not in as_json(purpose.to_state())
    assert refused(purpose.cancel_consent, FACILITATOR) == "no_vote_open"
    # The statement is editable again and may be put to a new vote.
    purpose.draft_statement(FACILITATOR, "We exist to help our customers learn.")
    purpose.call_consent(FACILITATOR, 3, None)
    assert purpose.public_view()["vote"]["text"] == "We exist to help our customers learn."


def test_cancelling_needs_an_open_vote_in_a_started_step():
    assert refused(PurposeAlignment.create().cancel_consent, FACILITATOR) == "step_not_started"
    assert refused(revealed().cancel_consent, FACILITATOR) == "no_vote_open"


def test_leaving_the_step_discards_an_open_vote_only():
    purpose = revealed()
    before = purpose.to_state()
    purpose.suspend()
    assert purpose.to_state() == before
    purpose.draft_statement(FACILITATOR, "We exist.")
    purpose.call_consent(FACILITATOR, 3, None)
    purpose.consent(member(ANN), 4, "")
    purpose.suspend()
    assert purpose.phase == "draft"
    assert purpose.ballot is None
    assert purpose.rounds == []
    ratified = consenting()
    ratified.consent(member(ANN), 4, "")
    ratified.close_consent(FACILITATOR)
    frozen = ratified.to_state()
    ratified.suspend()
    assert ratified.to_state() == frozen


def test_ratifiers_are_who_voted_in_the_round_that_ratified():
    purpose = consenting()
    assert purpose.ratifiers() == []
    purpose.consent(member(CAT), 1, "Vague")
    purpose.consent(member(ANN), 5, "")
    purpose.close_consent(FACILITATOR)
    assert purpose.ratifiers() == []
    purpose.draft_statement(FACILITATOR, "We exist to teach.")
    purpose.call_consent(FACILITATOR, 3, None)
    purpose.consent(member(BOB), 4, "")
    purpose.consent(member(ANN), 1, "Hm")
    purpose.consent(member(ANN), 3, "")
    purpose.close_consent(FACILITATOR)
    assert purpose.ratifiers() == [BOB, ANN]
    assert round_trip(purpose).ratifiers() == [BOB, ANN]


@pytest.mark.parametrize(
    "blank",
    ["\u200b", "\u202e", "\u2066\u2069", " \u200b\u200d \n\u2060 ", "\x00\r\n"],
    ids=repr,
)
def test_text_of_invisible_characters_is_empty(blank):
    purpose = make_purpose()
    assert refused(purpose.add_card, member(ANN), "exists", blank) == "empty_text"
    purpose.add_card(member(ANN), "exists", "Teach")
    assert refused(purpose.edit_card, member(ANN), "c1", blank) == "empty_text"
    purpose.add_card(member(BOB), "exists", "Learn")
    purpose.reveal(FACILITATOR)
    purpose.group_card(member(ANN), "c2", "c1")
    purpose.title_group(member(ANN), "c1", "Learning")
    purpose.title_group(member(ANN), "c1", blank)  # clears, like an empty title
    assert purpose.titles == {}
    purpose.draft_statement(FACILITATOR, blank)
    assert purpose.statement == ""
    assert refused(purpose.call_consent, FACILITATOR, 3, None) == "empty_text"


def test_text_loses_bidi_overrides_but_keeps_its_line_breaks():
    purpose = make_purpose()
    purpose.add_card(member(ANN), "exists", "\u202eTo teach\r\nand learn\u2066\u200b")
    assert purpose.cards[0].text == "To teach\nand learn"
    purpose.reveal(FACILITATOR)
    purpose.draft_statement(FACILITATOR, "We exist\r\nto \u202dlearn.\u202c")
    assert purpose.statement == "We exist\nto learn."
    assert refused(purpose.title_group, member(ANN), "c1", "One\r\nTwo") == "one_line"


# -- persistence ---------------------------------------------------------------------------------


def test_the_step_survives_a_trip_through_json_in_every_phase():
    purpose = with_cards()
    purpose.load_charter("We ship.", [])
    round_trip(purpose)
    purpose.reveal(FACILITATOR)
    purpose.group_card(member(ANN), "c3", "c1")
    purpose.title_group(member(ANN), "c1", "Learning")
    purpose = round_trip(purpose)
    purpose.open_voting(FACILITATOR, 2)
    purpose.vote(member(ANN), "c1")
    purpose.vote(member(ANN), "c1")
    purpose = round_trip(purpose)
    purpose.close_voting(FACILITATOR)
    purpose.draft_statement(FACILITATOR, "We exist to learn.")
    purpose.call_consent(FACILITATOR, 4, None)
    purpose.consent(member(ANN), 2, "Hm")
    purpose = round_trip(purpose)
    assert purpose.private_view(ANN)["consent"] == {"score": 2, "reason": "Hm"}
    purpose.close_consent(FACILITATOR)
    purpose = round_trip(purpose)
    assert purpose.public_view() == PurposeAlignment.from_state(purpose.to_state()).public_view()


def test_an_empty_state_is_a_new_step():
    assert PurposeAlignment.from_state({}) == PurposeAlignment()


def test_to_state_is_a_snapshot_that_later_moves_do_not_change():
    purpose = revealed()
    state = purpose.to_state()
    frozen = json.dumps(state, sort_keys=True)
    purpose.group_card(member(ANN), "c2", "c1")
    purpose.title_group(member(ANN), "c1", "Changed")
    purpose.open_voting(FACILITATOR, 2)
    purpose.vote(member(ANN), "c1")
    purpose.close_voting(FACILITATOR)
    assert json.dumps(state, sort_keys=True) == frozen


# -- invariants under any sequence of moves (Hypothesis) -----------------------------------------

# Every card text starts with this marker, so a leak before the reveal is easy to spot.
SECRET = "secret:"
PEOPLE = [FACILITATOR_ID, ANN, BOB, CAT]
people = st.sampled_from(PEOPLE)
card_ids = st.one_of(st.sampled_from(["c1", "c2", "c3", "c4", "c5", "c6"]), st.none())


def actor(member_id: int) -> Actor:
    """Return the member as the service would build them: FACILITATOR_ID facilitates."""
    return Actor(member_id, is_facilitator=member_id == FACILITATOR_ID)


class PurposeMachine(RuleBasedStateMachine):
    """Drive one purpose alignment with random moves by random members and check it after each."""

    purpose: PurposeAlignment

    @initialize(anonymous=st.booleans(), votes=st.integers(1, 4))
    def create(self, anonymous: bool, votes: int) -> None:
        """Start from a begun step."""
        self.purpose = PurposeAlignment.create(anonymous=anonymous, votes=votes)
        self.purpose.begin(PEOPLE, random.Random(0))

    def attempt(self, command: str, member_id: int, *args) -> None:
        """Make a move; if it is illegal, the stored state must be exactly as before."""
        before = json.dumps(self.purpose.to_state(), sort_keys=True)
        try:
            getattr(self.purpose, command)(actor(member_id), *args)
        except RitualError:
            assert json.dumps(self.purpose.to_state(), sort_keys=True) == before

    @rule(
        who=people, column=st.sampled_from(["exists", "bring", "other"]), text=st.text(max_size=8)
    )
    def add_card(self, who, column, text):
        """Someone writes a card (in any column, even a wrong one)."""
        self.attempt("add_card", who, column, SECRET + text)

    @rule(who=people, card=card_ids, text=st.text(max_size=8))
    def edit_card(self, who, card, text):
        """Someone edits a card, theirs or not."""
        self.attempt("edit_card", who, card, SECRET + text)

    @rule(who=people, card=card_ids)
    def delete_card(self, who, card):
        """Someone deletes a card, theirs or not."""
        self.attempt("delete_card", who, card)

    @rule(who=people)
    def reveal(self, who):
        """Someone asks to reveal."""
        self.attempt("reveal", who)

    @rule(who=people, card=card_ids, onto=card_ids)
    def group_card(self, who, card, onto):
        """Someone moves a card, maybe onto a card that is not there."""
        self.attempt("group_card", who, card, onto)

    @rule(who=people, group=card_ids, title=st.sampled_from(["", "Title", "a\nb"]))
    def title_group(self, who, group, title):
        """Someone titles a group, maybe with two lines."""
        self.attempt("title_group", who, group, title)

    @rule(who=people, votes=st.integers(0, 4))
    def open_voting(self, who, votes):
        """Someone opens the dot vote, maybe with no votes."""
        self.attempt("open_voting", who, votes)

    @precondition(lambda self: self.purpose.phase == "vote")
    @rule(who=people, group=card_ids, times=st.integers(1, 5))
    def vote(self, who, group, times):
        """Someone spends several dots, maybe more than they have."""
        for _ in range(times):
            self.attempt("vote", who, group)

    @rule(who=people, group=card_ids)
    def unvote(self, who, group):
        """Someone takes a dot back."""
        self.attempt("unvote", who, group)

    @rule(who=people)
    def close_voting(self, who):
        """Someone closes the dot vote."""
        self.attempt("close_voting", who)

    @rule(who=people, text=st.sampled_from(["", "We exist to learn.", "We ship."]))
    def draft_statement(self, who, text):
        """Someone drafts the statement."""
        self.attempt("draft_statement", who, text)

    @rule(who=people, threshold=st.integers(-1, 6), proposal=st.sampled_from([None, "p1"]))
    def call_consent(self, who, threshold, proposal):
        """Someone calls a consent vote, maybe with a bad threshold or a proposal."""
        self.attempt("call_consent", who, threshold, proposal)

    @rule(who=people, score=st.integers(0, 5), reason=st.sampled_from(["", "Why not"]))
    def consent(self, who, score, reason):
        """Someone gives a score, maybe an objection without a reason."""
        self.attempt("consent", who, score, reason)

    @rule(who=people)
    def close_consent(self, who):
        """Someone closes the consent vote."""
        self.attempt("close_consent", who)

    @rule(who=people)
    def cancel_consent(self, who):
        """Someone cancels the consent vote."""
        self.attempt("cancel_consent", who)

    @rule()
    def the_room_leaves_the_step(self):
        """The room moves on (and maybe comes back): an open vote is discarded."""
        self.purpose.suspend()
        assert self.purpose.ballot is None

    # Legal moves, so every phase is reached often; the rules above try anything.

    @precondition(lambda self: self.purpose.phase == "write")
    @rule(writers=st.lists(people, min_size=1, max_size=4), text=st.text(max_size=8))
    def members_write_and_the_facilitator_reveals(self, writers, text):
        """Members write cards and the facilitator reveals them."""
        for who in writers:
            self.purpose.add_card(actor(who), "exists", SECRET + "x" + text)
        self.purpose.reveal(actor(FACILITATOR_ID))

    @precondition(lambda self: self.purpose.phase == "group" and self.purpose.cards)
    @rule(who=people, card=st.integers(0, 20), onto=st.integers(-1, 20))
    def someone_groups_a_card(self, who, card, onto):
        """Someone moves an existing card onto another one or on its own."""
        cards = self.purpose.cards
        target = None if onto < 0 else cards[onto % len(cards)].id
        self.purpose.group_card(actor(who), cards[card % len(cards)].id, target)

    @precondition(lambda self: self.purpose.phase == "group" and self.purpose.cards)
    @rule(votes=st.integers(1, 4))
    def the_facilitator_opens_voting(self, votes):
        """The facilitator opens the dot vote."""
        self.purpose.open_voting(actor(FACILITATOR_ID), votes)

    @precondition(lambda self: self.purpose.phase == "vote")
    @rule(who=people, group=st.integers(0, 20))
    def someone_votes_on_a_group(self, who, group):
        """Someone puts a dot on an existing group."""
        ids = list(self.purpose.public_view()["groups"])
        chosen = ids[group % len(ids)]["id"]
        self.attempt("vote", who, chosen)

    @precondition(lambda self: self.purpose.phase in ("group", "draft"))
    @rule(threshold=st.integers(1, 5))
    def the_facilitator_calls_consent(self, threshold):
        """The facilitator drafts a statement and calls a consent vote."""
        self.purpose.draft_statement(actor(FACILITATOR_ID), "We exist to learn.")
        self.purpose.call_consent(actor(FACILITATOR_ID), threshold, None)

    @precondition(lambda self: self.purpose.phase == "consent")
    @rule(scores=st.lists(st.integers(0, 5), min_size=1, max_size=4))
    def everyone_consents_and_the_facilitator_closes(self, scores):
        """Members score with reasons and the facilitator closes the vote."""
        for who, score in zip(PEOPLE, scores, strict=False):
            self.purpose.consent(actor(who), score, "Because")
        voted = len(self.purpose.ballot.scores) if self.purpose.ballot else 0
        if self.purpose.anonymous and voted < MIN_AGGREGATE:
            assert refused(self.purpose.close_consent, actor(FACILITATOR_ID)) == (
                "anonymous_needs_three"
            )
            return
        self.purpose.close_consent(actor(FACILITATOR_ID))

    @invariant()
    def nobody_spends_more_votes_than_they_have(self) -> None:
        purpose = self.purpose
        for member_id, dots in purpose.dots.items():
            assert 1 <= len(dots) <= purpose.votes_per_person
            private = purpose.private_view(member_id)
            assert private["votes_left"] == purpose.votes_per_person - len(dots)

    @invariant()
    def a_group_is_named_by_one_of_its_cards_and_holds_all_the_votes_and_titles(self) -> None:
        purpose = self.purpose
        for card in purpose.cards:
            assert card.group in {c.id for c in purpose.cards if c.group == card.group}
        group_ids = {c.group for c in purpose.cards}
        assert {g for dots in purpose.dots.values() for g in dots} <= group_ids
        assert set(purpose.titles) <= group_ids

    @invariant()
    def no_card_text_is_public_before_the_reveal(self) -> None:
        view = self.purpose.public_view()
        if self.purpose.phase == "write":
            assert SECRET not in as_json(view)

    @invariant()
    def an_anonymous_step_names_nobody_in_public(self) -> None:
        if not self.purpose.anonymous:
            return
        view = self.purpose.public_view()
        assert view["writers"] == []
        for node in walk(view):
            if isinstance(node, dict):
                assert "author" not in node
                assert "member" not in node
                assert "voted" not in node
                assert not node.get("scores")

    @invariant()
    def no_public_view_says_who_took_part_in_a_round(self) -> None:
        rounds = self.purpose.public_view()["rounds"]
        assert all("voters" not in r for r in rounds)

    @invariant()
    def the_ratifiers_voted_in_the_ratifying_round(self) -> None:
        purpose = self.purpose
        if purpose.ratified is None:
            assert purpose.ratifiers() == []
        else:
            assert purpose.ratifiers() == purpose.rounds[-1]["voters"]

    @invariant()
    def a_private_view_holds_only_the_members_own_cards(self) -> None:
        for member_id in PEOPLE:
            own = {c.id for c in self.purpose.cards if c.author == member_id}
            assert {c["id"] for c in self.purpose.private_view(member_id)["cards"]} == own

    @invariant()
    def the_ratified_statement_is_the_last_passed_round(self) -> None:
        purpose = self.purpose
        if purpose.ratified is not None:
            assert purpose.phase == "ratified"
            assert purpose.rounds[-1]["passed"] is True
            assert purpose.rounds[-1]["text"] == purpose.ratified
        assert (purpose.ballot is not None) == (purpose.phase == "consent")

    @invariant()
    def the_state_survives_a_trip_through_json(self) -> None:
        round_trip(self.purpose)


PurposeMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPurposeMachine = PurposeMachine.TestCase
