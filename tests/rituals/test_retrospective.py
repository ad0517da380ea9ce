"""Retrospective: private cards in columns, grouping, dot votes, discussion and deeds."""

from __future__ import annotations

import inspect
import json
import random

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from retro.rituals import Actor, RitualError
from retro.rituals.board import GROUP_TITLE_LIMIT, MAX_CARDS_PER_MEMBER, MAX_VOTES
from retro.rituals.retrospective import (
    CARD_LIMIT,
    COLUMN_KEYS,
    COLUMN_TITLE_LIMIT,
    DEED_LIMIT,
    FORMATS,
    MAX_DEEDS,
    PHASES,
    Retrospective,
)
from retro.rituals.room import TIMER_MAX, TIMER_MIN
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
ANN, BOB, CAT = 5101, 5202, 5303
MEMBERS = [FACILITATOR_ID, ANN, BOB, CAT]
AGREEMENTS = [
    {"id": "a1", "text": "We start on time.", "review_date": "2030-01-01"},
    {"id": "a2", "text": "We say no kindly."},
]
# The clock the service would pass in.
NOW = 1_000_000.0


def make_retro(**settings_) -> Retrospective:
    """Return a started retrospective (Start/Stop/Continue unless told otherwise)."""
    retro = Retrospective.create(**settings_)
    retro.begin(MEMBERS, random.Random(0))
    return retro


def with_cards(**settings_) -> Retrospective:
    """Return a retrospective with four cards (c1-c4) written, not yet revealed."""
    retro = make_retro(**settings_)
    retro.add_card(member(ANN), "start", "Pairing on reviews")
    retro.add_card(member(BOB), "stop", "Late stand-ups")
    retro.add_card(member(CAT), "start", "Pair programming")
    retro.add_card(member(ANN), "continue", "Demo Fridays")
    return retro


def revealed(**settings_) -> Retrospective:
    """Return a retrospective with four cards, revealed (the group phase)."""
    retro = with_cards(**settings_)
    retro.reveal(FACILITATOR)
    return retro


def voting(votes: int = 3, per_card: int | None = None, **settings_) -> Retrospective:
    """Return a retrospective in the vote phase with groups c1 {c1, c3}, c2 and c4."""
    retro = revealed(**settings_)
    retro.group_card(member(BOB), "c3", "c1")
    retro.open_voting(FACILITATOR, votes, per_card)
    return retro


def discussing(**settings_) -> Retrospective:
    """Return a retrospective in the discuss phase: topics c2 (2 votes), c1 (1), c4 (0)."""
    retro = voting(**settings_)
    retro.load_charter("We ship.", AGREEMENTS)
    retro.vote(member(ANN), "c2")
    retro.vote(member(BOB), "c2")
    retro.vote(member(CAT), "c1")
    retro.close_voting(FACILITATOR)
    return retro


def add_deed(retro: Retrospective, actor: Actor = FACILITATOR, **fields) -> None:
    """Add a deed with sensible defaults for the fields the test does not care about."""
    values = {"text": "Book a room for pairing", "owner": None, "due": "", "agreement": None}
    retro.add_deed(actor, **{**values, **fields}, members=MEMBERS)


def refused_deed(retro: Retrospective, actor: Actor = FACILITATOR, **fields) -> str:
    """Try to add a deed that should be refused; return the error code."""
    values = {"text": "Book a room", "owner": None, "due": "", "agreement": None}
    return refused(retro.add_deed, actor, **{**values, **fields}, members=MEMBERS)


def groups(retro: Retrospective) -> dict[str, list[str]]:
    """Return the public groups as id -> card ids."""
    return {g["id"]: g["cards"] for g in retro.public_view()["groups"]}


# -- the protocol ---------------------------------------------------------------------------

COMMANDS = {
    "add_card": ["column", "text"],
    "edit_card": ["card", "text"],
    "delete_card": ["card"],
    "reveal": ["rng"],
    "group_card": ["card", "target"],
    "title_group": ["group", "title"],
    "lock_grouping": ["locked"],
    "open_voting": ["votes", "per_card"],
    "vote": ["group"],
    "unvote": ["group"],
    "close_voting": [],
    "skip_voting": [],
    "highlight": ["topic", "seconds", "now"],
    "extend_topic": ["seconds", "now"],
    "start_deeds": [],
    "add_deed": ["text", "owner", "due", "agreement", "members"],
    "edit_deed": ["deed", "text", "owner", "due", "agreement", "members"],
    "delete_deed": ["deed"],
    "ready": ["ready"],
}
# What the service supplies itself, only to the methods that declare them.
SERVICE_SUPPLIED = {"now", "members", "rng"}


@pytest.mark.parametrize(("command", "fields"), COMMANDS.items())
def test_every_command_takes_the_actor_and_the_payload_fields(command, fields):
    parameters = inspect.signature(getattr(Retrospective, command)).parameters
    assert list(parameters) == ["self", "actor", *fields]
    for name, parameter in parameters.items():
        keyword_only = parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert keyword_only == (name in SERVICE_SUPPLIED)


def test_the_retrospective_has_no_charter_commands():
    for command in ("draft_statement", "call_consent", "consent", "propose"):
        assert not hasattr(Retrospective, command)


def test_the_kind_phases_and_limits():
    assert Retrospective.kind == "retro"
    assert PHASES == ("write", "group", "vote", "discuss", "deeds")
    assert FORMATS == ("ssc", "msg", "4ls", "connection", "custom")
    assert (CARD_LIMIT, DEED_LIMIT, COLUMN_TITLE_LIMIT, MAX_DEEDS) == (280, 280, 40, 30)


# -- settings -------------------------------------------------------------------------------


def test_a_new_retrospective_is_start_stop_continue_with_three_votes_and_not_started():
    retro = Retrospective.create()
    view = retro.public_view()
    assert view["started"] is False
    assert view["format"] == "ssc"
    assert view["anonymous"] is False
    assert (view["votes_per_person"], view["per_card"]) == (3, 3)


@pytest.mark.parametrize(
    ("format_", "keys"),
    [
        ("ssc", ["start", "stop", "continue"]),
        ("msg", ["mad", "sad", "glad"]),
        ("4ls", ["liked", "learned", "lacked", "longed"]),
        ("connection", ["purpose", "agreements", "anchors", "deeds", "leadership"]),
    ],
)
def test_a_built_in_format_has_its_columns_without_titles(format_, keys):
    view = Retrospective.create(format=format_).public_view()
    assert view["columns"] == [{"key": k, "title": ""} for k in keys]
    assert view["written"] == dict.fromkeys(keys, 0)
    assert list(COLUMN_KEYS[format_]) == keys


def test_a_custom_format_has_the_facilitators_titles_keyed_k1_to_kn():
    retro = Retrospective.create(format="custom", columns=[" Kudos ", "Puzzles", "Ideas"])
    assert retro.public_view()["columns"] == [
        {"key": "k1", "title": "Kudos"},
        {"key": "k2", "title": "Puzzles"},
        {"key": "k3", "title": "Ideas"},
    ]


def test_a_custom_format_takes_two_to_six_columns_up_to_the_title_limit():
    Retrospective.create(format="custom", columns=["A", "B"])
    Retrospective.create(format="custom", columns=[f"C{n}" for n in range(6)])
    Retrospective.create(format="custom", columns=["x" * COLUMN_TITLE_LIMIT, "y"])


def test_settings_are_kept():
    retro = Retrospective.create(format="msg", anonymous=True, votes=MAX_VOTES)
    view = retro.public_view()
    assert (view["format"], view["anonymous"], view["votes_per_person"]) == ("msg", True, 10)


@pytest.mark.parametrize(
    ("settings_", "field"),
    [
        ({"format": "starfish"}, "format"),
        ({"format": None}, "format"),
        ({"format": ["ssc"]}, "format"),
        ({"format": "custom"}, "columns"),
        ({"format": "custom", "columns": ["Only one"]}, "columns"),
        ({"format": "custom", "columns": [f"C{n}" for n in range(7)]}, "columns"),
        ({"format": "custom", "columns": "AB"}, "columns"),
        ({"format": "custom", "columns": ["A", " "]}, "columns"),
        ({"format": "custom", "columns": ["A", "\u200b"]}, "columns"),
        ({"format": "custom", "columns": ["A", None]}, "columns"),
        ({"format": "custom", "columns": ["A", "two\nlines"]}, "columns"),
        ({"format": "custom", "columns": ["A", "x" * (COLUMN_TITLE_LIMIT + 1)]}, "columns"),
        ({"format": "custom", "columns": ["Same", " Same "]}, "columns"),
        ({"format": "ssc", "columns": ["A", "B"]}, "columns"),
        ({"format": "4ls", "columns": "A"}, "columns"),
        ({"anonymous": "yes"}, "anonymous"),
        ({"anonymous": 1}, "anonymous"),
        ({"anonymous": None}, "anonymous"),
        ({"votes": 0}, "votes"),
        ({"votes": MAX_VOTES + 1}, "votes"),
        ({"votes": True}, "votes"),
        ({"votes": "3"}, "votes"),
        ({"votes": 2.0}, "votes"),
    ],
    ids=repr,
)
def test_bad_settings_are_refused(settings_, field):
    with pytest.raises(RitualError) as caught:
        Retrospective.create(**settings_)
    assert caught.value.code == "invalid_field"
    assert caught.value.params == {"field": field}


def test_a_built_in_format_may_get_an_empty_column_list():
    assert Retrospective.create(format="ssc", columns=[]).column_titles == []


# -- lifecycle ------------------------------------------------------------------------------

NOT_STARTED = [
    ("add_card", (member(ANN), "start", "x"), {}),
    ("edit_card", (member(ANN), "c1", "x"), {}),
    ("delete_card", (member(ANN), "c1"), {}),
    ("reveal", (FACILITATOR,), {}),
    ("group_card", (member(ANN), "c1", None), {}),
    ("title_group", (member(ANN), "c1", "x"), {}),
    ("lock_grouping", (FACILITATOR, True), {}),
    ("open_voting", (FACILITATOR, 3), {}),
    ("vote", (member(ANN), "c1"), {}),
    ("unvote", (member(ANN), "c1"), {}),
    ("close_voting", (FACILITATOR,), {}),
    ("skip_voting", (FACILITATOR,), {}),
    ("highlight", (FACILITATOR, "c1", 0), {"now": NOW}),
    ("extend_topic", (FACILITATOR, 60), {"now": NOW}),
    ("start_deeds", (FACILITATOR,), {}),
    ("add_deed", (member(ANN), "x", None, "", None), {"members": MEMBERS}),
    ("edit_deed", (member(ANN), "d1", "x", None, "", None), {"members": MEMBERS}),
    ("delete_deed", (member(ANN), "d1"), {}),
    ("ready", (member(ANN), True), {}),
]


@pytest.mark.parametrize(
    ("command", "args", "kwargs"), NOT_STARTED, ids=[c[0] for c in NOT_STARTED]
)
def test_no_command_is_accepted_before_the_step_starts(command, args, kwargs):
    retro = Retrospective.create()
    assert refused(getattr(retro, command), *args, **kwargs) == "step_not_started"


def test_a_second_begin_a_late_join_and_leaving_the_step_change_nothing():
    retro = with_cards()
    before = retro.to_state()
    retro.begin([9], random.Random(1))
    retro.join(9)
    retro.suspend()
    assert retro.to_state() == before


def test_the_charters_agreements_are_loaded_once_with_id_and_text_only():
    retro = make_retro()
    retro.load_charter(
        "We ship.", [*AGREEMENTS, {"id": 3, "text": "Bad id"}, "not an item", {"id": "a4"}]
    )
    retro.load_charter("Later.", [{"id": "a9", "text": "Newer"}])
    assert retro.loaded is True
    assert retro.public_view()["agreements"] == [
        {"id": "a1", "text": "We start on time."},
        {"id": "a2", "text": "We say no kindly."},
    ]


def test_agreements_that_are_not_a_list_load_as_none():
    retro = make_retro()
    retro.load_charter(None, None)
    assert retro.loaded is True
    assert retro.public_view()["agreements"] == []


# -- writing --------------------------------------------------------------------------------


def test_cards_go_into_the_formats_columns_and_are_numbered():
    retro = make_retro(format="4ls")
    retro.add_card(member(ANN), "liked", "  The demo \n")
    retro.add_card(member(BOB), "longed", "More time")
    assert [(c.id, c.column, c.text, c.author) for c in retro.cards] == [
        ("c1", "liked", "The demo", ANN),
        ("c2", "longed", "More time", BOB),
    ]
    assert retro.public_view()["written"] == {"liked": 1, "learned": 0, "lacked": 0, "longed": 1}


def test_a_custom_retrospectives_cards_go_into_k_columns():
    retro = make_retro(format="custom", columns=["Kudos", "Ideas"])
    retro.add_card(member(ANN), "k2", "Mob on Fridays")
    assert refused(retro.add_card, member(ANN), "k3", "x") == "invalid_value"
    assert refused(retro.add_card, member(ANN), "Ideas", "x") == "invalid_value"
    assert retro.public_view()["written"] == {"k1": 0, "k2": 1}


@pytest.mark.parametrize(
    ("column", "text", "code"),
    [
        ("mad", "x", "invalid_value"),  # another format's column
        ("exists", "x", "invalid_value"),  # purpose alignment's column
        (None, "x", "invalid_value"),
        (["start"], "x", "invalid_value"),
        ("start", "   ", "empty_text"),
        ("start", "\u200b\u202e", "empty_text"),
        ("start", None, "invalid_value"),
        ("start", 42, "invalid_value"),
        ("start", "x" * (CARD_LIMIT + 1), "too_long"),
    ],
    ids=repr,
)
def test_a_bad_card_is_refused(column, text, code):
    assert refused(make_retro().add_card, member(ANN), column, text) == code


def test_a_card_up_to_the_limit_and_over_several_lines_is_accepted():
    retro = make_retro()
    retro.add_card(member(ANN), "start", "x" * CARD_LIMIT)
    retro.add_card(member(ANN), "stop", "one\r\ntwo")
    assert [c.text for c in retro.cards] == ["x" * CARD_LIMIT, "one\ntwo"]


def test_a_member_writes_a_limited_number_of_cards():
    retro = make_retro()
    for n in range(MAX_CARDS_PER_MEMBER):
        retro.add_card(member(ANN), "start", f"Card {n}")
    assert refused(retro.add_card, member(ANN), "start", "One more") == "too_many_cards"
    retro.add_card(member(BOB), "start", "Bob's first")


def test_card_text_is_private_until_the_reveal_but_counts_are_public():
    retro = with_cards()
    view = retro.public_view()
    assert view["cards"] == []
    assert view["groups"] == []
    assert view["written"] == {"start": 2, "stop": 1, "continue": 1}
    assert view["writers"] == [ANN, BOB, CAT]
    for text in ("Pairing on reviews", "Late stand-ups", "Pair programming", "Demo Fridays"):
        assert text not in as_json(view)


def test_a_member_sees_only_their_own_cards():
    retro = with_cards()
    assert retro.private_view(ANN)["cards"] == [
        {"id": "c1", "column": "start", "text": "Pairing on reviews"},
        {"id": "c4", "column": "continue", "text": "Demo Fridays"},
    ]
    assert "Late stand-ups" not in as_json(retro.private_view(ANN))


def test_an_author_edits_and_deletes_their_own_card_and_ids_are_not_reused():
    retro = with_cards()
    retro.edit_card(member(ANN), "c1", "Pairing on every review")
    retro.delete_card(member(ANN), "c4")
    retro.add_card(member(ANN), "stop", "Meetings without agenda")
    assert retro.private_view(ANN)["cards"] == [
        {"id": "c1", "column": "start", "text": "Pairing on every review"},
        {"id": "c5", "column": "stop", "text": "Meetings without agenda"},
    ]


@pytest.mark.parametrize("command", ["edit_card", "delete_card"])
def test_nobody_changes_someone_elses_card_not_even_the_facilitator(command):
    retro = with_cards()
    args = ("Mine now",) if command == "edit_card" else ()
    for actor in (member(BOB), FACILITATOR):
        assert refused(getattr(retro, command), actor, "c1", *args) == "not_author"


@pytest.mark.parametrize("card", ["c9", None, 1, ["c1"]], ids=repr)
def test_an_unknown_card_is_refused(card):
    assert refused(with_cards().edit_card, member(ANN), card, "x") == "unknown_card"
    assert refused(with_cards().delete_card, member(ANN), card) == "unknown_card"


@pytest.mark.parametrize(("text", "code"), [(" ", "empty_text"), (None, "invalid_value")])
def test_a_bad_edit_is_refused(text, code):
    assert refused(with_cards().edit_card, member(ANN), "c1", text) == code


@pytest.mark.parametrize(
    ("command", "args"),
    [("add_card", ("start", "Late")), ("edit_card", ("c1", "Changed")), ("delete_card", ("c1",))],
)
def test_cards_are_fixed_once_revealed(command, args):
    retro = revealed()
    assert refused(getattr(retro, command), member(ANN), *args) == "already_revealed"
    retro = discussing()
    assert refused(getattr(retro, command), member(ANN), *args) == "already_revealed"


# -- the reveal -----------------------------------------------------------------------------


def test_only_the_facilitator_reveals_and_only_once():
    retro = with_cards()
    assert refused(retro.reveal, member(ANN)) == "not_facilitator"
    retro.reveal(FACILITATOR)
    assert retro.phase == "group"
    assert refused(retro.reveal, FACILITATOR) == "already_revealed"


def test_the_reveal_shows_every_card_with_its_author_each_in_its_own_group():
    view = revealed().public_view()
    assert view["cards"] == [
        {"id": "c1", "column": "start", "text": "Pairing on reviews", "group": "c1", "author": ANN},
        {"id": "c2", "column": "stop", "text": "Late stand-ups", "group": "c2", "author": BOB},
        {"id": "c3", "column": "start", "text": "Pair programming", "group": "c3", "author": CAT},
        {"id": "c4", "column": "continue", "text": "Demo Fridays", "group": "c4", "author": ANN},
    ]
    assert view["groups"] == [
        {"id": f"c{n}", "title": "", "cards": [f"c{n}"]} for n in (1, 2, 3, 4)
    ]


# -- anonymity ------------------------------------------------------------------------------


def card_parts(view: dict) -> str:
    """Return everything in a public view except the deeds (which name their author)."""
    return as_json({k: v for k, v in view.items() if k != "deeds"})


def test_an_anonymous_retrospective_never_names_a_cards_author_in_any_phase():
    retro = with_cards(anonymous=True)
    views = [retro.public_view()]
    retro.reveal(FACILITATOR)
    retro.group_card(member(BOB), "c3", "c1")
    views.append(retro.public_view())
    retro.open_voting(FACILITATOR, 3)
    retro.vote(member(ANN), "c2")
    views.append(retro.public_view())
    retro.close_voting(FACILITATOR)
    retro.highlight(FACILITATOR, "c2", 0, now=NOW)
    views.append(retro.public_view())
    retro.start_deeds(FACILITATOR)
    views.append(retro.public_view())
    for view in views:
        assert view["writers"] == []
        for node in walk(view):
            if isinstance(node, dict):
                assert "author" not in node
        for member_id in (ANN, BOB, CAT):
            assert str(member_id) not in as_json(view)
    assert [c["text"] for c in views[-1]["cards"]] == [
        "Pairing on reviews",
        "Late stand-ups",
        "Pair programming",
        "Demo Fridays",
    ]


def test_an_anonymous_retrospectives_deeds_do_not_reveal_any_cards_author():
    retro = discussing(anonymous=True)
    add_deed(retro, member(CAT), owner=BOB)
    view = retro.public_view()
    assert view["deeds"][0]["author"] == CAT  # a deed is an open commitment, not a card
    assert all("author" not in c for c in view["cards"])
    for member_id in (ANN, BOB, CAT):
        assert str(member_id) not in card_parts(view)


def test_no_command_is_about_anonymity_it_is_fixed_at_creation():
    methods = [name for name, _ in inspect.getmembers(Retrospective, inspect.isfunction)]
    assert not [name for name in methods if "anonym" in name and not name.startswith("_")]


def test_per_person_votes_are_never_public_not_even_after_closing():
    retro = voting()
    retro.vote(member(ANN), "c2")
    retro.vote(member(ANN), "c2")
    retro.vote(member(BOB), "c4")
    during = retro.public_view()
    assert during["voters"] == 2
    assert during["topics"] == []
    assert "c2" not in as_json({k: v for k, v in during.items() if k not in ("cards", "groups")})
    retro.close_voting(FACILITATOR)
    after = retro.public_view()
    assert after["voters"] == 2
    assert after["topics"] == [
        {"group": "c2", "votes": 2},
        {"group": "c4", "votes": 1},
        {"group": "c1", "votes": 0},
    ]
    for view in (during, after):
        assert "dots" not in as_json(view)
        for member_id in (ANN, BOB):
            assert f'"{member_id}"' not in as_json(view)
    assert retro.private_view(ANN)["votes"] == {"c2": 2}


# -- grouping -------------------------------------------------------------------------------


def test_anyone_groups_and_titles_while_grouping_is_open():
    retro = revealed()
    retro.group_card(member(BOB), "c3", "c1")
    retro.group_card(member(CAT), "c4", "c3")
    retro.title_group(member(ANN), "c1", " Pairing ")
    assert groups(retro) == {"c1": ["c1", "c3", "c4"], "c2": ["c2"]}
    assert retro.public_view()["groups"][0]["title"] == "Pairing"


def test_when_the_card_naming_a_group_leaves_the_group_takes_its_earliest_cards_id():
    retro = revealed()
    retro.group_card(member(ANN), "c3", "c1")
    retro.group_card(member(ANN), "c4", "c1")
    retro.title_group(member(ANN), "c1", "Pairing")
    retro.group_card(member(ANN), "c1", "c2")
    assert groups(retro) == {"c2": ["c1", "c2"], "c3": ["c3", "c4"]}
    assert {g["id"]: g["title"] for g in retro.public_view()["groups"]} == {
        "c2": "",
        "c3": "Pairing",
    }


@pytest.mark.parametrize(
    ("group", "title", "code"),
    [
        ("c9", "x", "unknown_group"),
        ("c1", None, "invalid_value"),
        ("c1", "x" * (GROUP_TITLE_LIMIT + 1), "too_long"),
        ("c1", "two\nlines", "one_line"),
    ],
)
def test_a_bad_group_title_is_refused(group, title, code):
    assert refused(revealed().title_group, member(ANN), group, title) == code


@pytest.mark.parametrize(("card", "target"), [("c9", None), ("c1", "c9"), ("c1", 3)])
def test_grouping_an_unknown_card_is_refused(card, target):
    assert refused(revealed().group_card, member(ANN), card, target) == "unknown_card"


def test_grouping_happens_only_in_the_group_phase():
    for retro in (with_cards(), voting(), discussing()):
        assert refused(retro.group_card, member(ANN), "c2", "c1") == "wrong_phase"
        assert refused(retro.title_group, member(ANN), "c1", "x") == "wrong_phase"
        assert refused(retro.lock_grouping, FACILITATOR, True) == "wrong_phase"


def test_a_locked_grouping_is_left_to_the_facilitator():
    retro = revealed()
    assert refused(retro.lock_grouping, member(ANN), True) == "not_facilitator"
    retro.lock_grouping(FACILITATOR, True)
    assert retro.public_view()["grouping_locked"] is True
    assert refused(retro.group_card, member(ANN), "c3", "c1") == "grouping_locked"
    assert refused(retro.title_group, member(ANN), "c1", "x") == "grouping_locked"
    retro.group_card(FACILITATOR, "c3", "c1")
    retro.title_group(FACILITATOR, "c1", "Pairing")
    retro.lock_grouping(FACILITATOR, False)
    retro.group_card(member(ANN), "c4", "c1")
    assert groups(retro) == {"c1": ["c1", "c3", "c4"], "c2": ["c2"]}


@pytest.mark.parametrize("locked", [None, 1, "true"], ids=repr)
def test_locking_takes_a_boolean(locked):
    assert refused(revealed().lock_grouping, FACILITATOR, locked) == "invalid_value"


# -- dot voting -----------------------------------------------------------------------------


def test_only_the_facilitator_opens_voting_from_the_group_phase():
    retro = revealed()
    assert refused(retro.open_voting, member(ANN), 3) == "not_facilitator"
    assert refused(with_cards().open_voting, FACILITATOR, 3) == "wrong_phase"
    retro.open_voting(FACILITATOR, 5, 2)
    view = retro.public_view()
    assert (view["phase"], view["votes_per_person"], view["per_card"]) == ("vote", 5, 2)
    assert refused(retro.open_voting, FACILITATOR, 3) == "wrong_phase"


def test_without_a_per_card_limit_a_member_may_stack_their_whole_budget():
    retro = voting(votes=4)
    assert retro.public_view()["per_card"] == 4
    for _ in range(4):
        retro.vote(member(ANN), "c2")
    assert retro.private_view(ANN)["votes"] == {"c2": 4}
    assert refused(retro.vote, member(ANN), "c2") == "no_votes_left"


@pytest.mark.parametrize(
    ("votes", "per_card"),
    [(0, None), (MAX_VOTES + 1, None), (True, None), ("3", None), (None, None), (3, 0), (3, 4)]
    + [(3, True), (3, "1"), (3, 1.0)],
    ids=repr,
)
def test_bad_vote_limits_are_refused(votes, per_card):
    assert refused(revealed().open_voting, FACILITATOR, votes, per_card) == "invalid_value"


def test_voting_needs_a_card():
    retro = make_retro()
    retro.reveal(FACILITATOR)
    assert refused(retro.open_voting, FACILITATOR, 3) == "no_cards"


def test_the_per_card_limit_and_the_budget_hold_per_person():
    retro = voting(votes=3, per_card=2)
    retro.vote(member(ANN), "c2")
    retro.vote(member(ANN), "c2")
    with pytest.raises(RitualError) as caught:
        retro.vote(member(ANN), "c2")
    assert (caught.value.code, caught.value.params) == ("card_vote_limit", {"limit": 2})
    retro.vote(member(ANN), "c1")
    with pytest.raises(RitualError) as caught:
        retro.vote(member(ANN), "c4")
    assert (caught.value.code, caught.value.params) == ("no_votes_left", {"limit": 3})
    retro.vote(member(BOB), "c2")
    retro.vote(member(BOB), "c2")
    assert retro.private_view(ANN) == {
        "cards": [
            {"id": "c1", "column": "start", "text": "Pairing on reviews"},
            {"id": "c4", "column": "continue", "text": "Demo Fridays"},
        ],
        "votes": {"c2": 2, "c1": 1},
        "votes_left": 0,
        "ready": False,
        "ready_phase": None,
    }
    assert retro.private_view(BOB)["votes_left"] == 1


def test_a_member_takes_a_vote_back_and_may_spend_it_again():
    retro = voting(votes=2, per_card=1)
    retro.vote(member(ANN), "c2")
    retro.vote(member(ANN), "c1")
    retro.unvote(member(ANN), "c2")
    assert retro.private_view(ANN)["votes"] == {"c1": 1}
    assert retro.private_view(ANN)["votes_left"] == 1
    retro.vote(member(ANN), "c2")
    retro.unvote(member(ANN), "c1")
    retro.unvote(member(ANN), "c2")
    assert retro.public_view()["voters"] == 0
    assert refused(retro.unvote, member(ANN), "c2") == "not_voted"
    assert refused(retro.unvote, member(ANN), "c9") == "not_voted"


@pytest.mark.parametrize("group", ["c3", "c9", None, 1], ids=repr)
def test_a_vote_goes_only_to_a_group(group):
    # c3 was grouped into c1, so it is a card but no longer a group.
    assert refused(voting().vote, member(ANN), group) == "unknown_group"


def test_voting_happens_only_in_the_vote_phase():
    for retro in (revealed(), discussing()):
        assert refused(retro.vote, member(ANN), "c1") == "wrong_phase"
        assert refused(retro.unvote, member(ANN), "c1") == "wrong_phase"
        assert refused(retro.close_voting, FACILITATOR) == "wrong_phase"


def test_closing_the_vote_ranks_the_groups_as_topics_and_ties_keep_the_group_order():
    retro = voting()
    retro.vote(member(ANN), "c4")
    retro.vote(member(BOB), "c2")
    assert refused(retro.close_voting, member(ANN)) == "not_facilitator"
    retro.close_voting(FACILITATOR)
    view = retro.public_view()
    assert view["phase"] == "discuss"
    assert view["topics"] == [
        {"group": "c2", "votes": 1},
        {"group": "c4", "votes": 1},
        {"group": "c1", "votes": 0},
    ]
    assert (view["current_topic"], view["discussed"]) == (None, [])


def test_voting_may_be_skipped_straight_from_grouping():
    retro = revealed()
    retro.group_card(member(ANN), "c1", "c4")
    assert refused(retro.skip_voting, member(ANN)) == "not_facilitator"
    assert retro.public_view()["voting_skipped"] is False
    retro.skip_voting(FACILITATOR)
    view = retro.public_view()
    assert view["phase"] == "discuss"
    assert view["voting_skipped"] is True
    assert Retrospective.from_state(retro.to_state()).public_view()["voting_skipped"] is True
    # In group order: the group c4 holds the first card written, c1.
    assert view["topics"] == [
        {"group": "c4", "votes": 0},
        {"group": "c2", "votes": 0},
        {"group": "c3", "votes": 0},
    ]
    assert refused(retro.skip_voting, FACILITATOR) == "wrong_phase"
    assert refused(voting().skip_voting, FACILITATOR) == "wrong_phase"
    assert refused(with_cards().skip_voting, FACILITATOR) == "wrong_phase"


def test_an_empty_retrospective_may_skip_to_discussing_and_deeds():
    retro = make_retro()
    retro.reveal(FACILITATOR)
    retro.skip_voting(FACILITATOR)
    assert retro.public_view()["topics"] == []
    assert refused(retro.highlight, FACILITATOR, "c1", 0, now=NOW) == "unknown_group"
    add_deed(retro, text="Write cards next time")
    assert retro.public_view()["deeds"][0]["topic"] is None


# -- discussing -----------------------------------------------------------------------------


def test_the_facilitator_highlights_topics_in_turn_and_the_last_one_counts_as_discussed():
    retro = discussing()
    assert refused(retro.highlight, member(ANN), "c2", 0, now=NOW) == "not_facilitator"
    retro.highlight(FACILITATOR, "c2", 300, now=NOW)
    view = retro.public_view()
    assert view["current_topic"] == "c2"
    assert view["discussed"] == []
    assert view["topic_timer"] == {"ends_at": NOW + 300, "duration": 300}
    retro.highlight(FACILITATOR, "c1", 0, now=NOW + 200)
    view = retro.public_view()
    assert view["current_topic"] == "c1"
    assert view["discussed"] == ["c2"]
    assert view["topic_timer"] == {"ends_at": None, "duration": 0}
    retro.highlight(FACILITATOR, "c2", 60, now=NOW + 400)
    assert retro.public_view()["discussed"] == ["c2", "c1"]


def test_highlighting_the_current_topic_again_restarts_its_timebox():
    retro = discussing()
    retro.highlight(FACILITATOR, "c2", 60, now=NOW)
    retro.highlight(FACILITATOR, "c2", 120, now=NOW + 100)
    view = retro.public_view()
    assert view["discussed"] == []
    assert view["topic_timer"] == {"ends_at": NOW + 220, "duration": 120}


@pytest.mark.parametrize(
    ("topic", "seconds", "code"),
    [
        ("c3", 0, "unknown_group"),  # a card grouped into c1, not a topic
        ("c9", 0, "unknown_group"),
        (None, 0, "unknown_group"),
        ("c2", TIMER_MIN - 1, "invalid_timer"),
        ("c2", TIMER_MAX + 1, "invalid_timer"),
        ("c2", -10, "invalid_timer"),
        ("c2", True, "invalid_value"),
        ("c2", False, "invalid_value"),
        ("c2", "60", "invalid_value"),
        ("c2", 60.0, "invalid_value"),
        ("c2", None, "invalid_value"),
    ],
    ids=repr,
)
def test_a_bad_highlight_is_refused(topic, seconds, code):
    assert refused(discussing().highlight, FACILITATOR, topic, seconds, now=NOW) == code


def test_an_out_of_range_timebox_names_the_range():
    with pytest.raises(RitualError) as caught:
        discussing().highlight(FACILITATOR, "c2", 5, now=NOW)
    assert caught.value.params == {"low": TIMER_MIN, "high": TIMER_MAX}


def test_the_timebox_limits_are_accepted():
    retro = discussing()
    retro.highlight(FACILITATOR, "c2", TIMER_MIN, now=NOW)
    retro.highlight(FACILITATOR, "c1", TIMER_MAX, now=NOW)
    assert retro.public_view()["topic_timer"]["duration"] == TIMER_MAX


@pytest.mark.parametrize("retro", [with_cards, revealed, voting], ids=lambda f: f.__name__)
def test_topics_are_highlighted_only_while_discussing_or_writing_deeds(retro):
    ritual = retro()
    assert refused(ritual.highlight, FACILITATOR, "c1", 0, now=NOW) == "wrong_phase"
    assert refused(ritual.extend_topic, FACILITATOR, 60, now=NOW) == "wrong_phase"


def test_a_running_timebox_is_extended_and_an_expired_one_restarts():
    retro = discussing()
    retro.highlight(FACILITATOR, "c2", 60, now=NOW)
    assert refused(retro.extend_topic, member(ANN), 30, now=NOW) == "not_facilitator"
    retro.extend_topic(FACILITATOR, 30, now=NOW + 10)
    assert retro.public_view()["topic_timer"] == {"ends_at": NOW + 90, "duration": 90}
    retro.extend_topic(FACILITATOR, 120, now=NOW + 500)
    assert retro.public_view()["topic_timer"] == {"ends_at": NOW + 620, "duration": 120}
    # Exactly at the deadline counts as run out.
    retro.extend_topic(FACILITATOR, 10, now=NOW + 620)
    assert retro.public_view()["topic_timer"] == {"ends_at": NOW + 630, "duration": 10}


def test_extending_needs_a_timeboxed_topic():
    retro = discussing()
    assert refused(retro.extend_topic, FACILITATOR, 60, now=NOW) == "timer_not_running"
    retro.highlight(FACILITATOR, "c2", 0, now=NOW)
    assert refused(retro.extend_topic, FACILITATOR, 60, now=NOW) == "timer_not_running"


@pytest.mark.parametrize(
    ("seconds", "code"),
    [(0, "invalid_timer"), (TIMER_MAX + 1, "invalid_timer"), (True, "invalid_value")],
    ids=repr,
)
def test_a_bad_extension_is_refused(seconds, code):
    retro = discussing()
    retro.highlight(FACILITATOR, "c2", 60, now=NOW)
    assert refused(retro.extend_topic, FACILITATOR, seconds, now=NOW) == code


def test_the_facilitator_turns_to_the_deeds_and_the_current_topic_counts_as_discussed():
    retro = discussing()
    retro.highlight(FACILITATOR, "c1", 60, now=NOW)
    assert refused(retro.start_deeds, member(ANN)) == "not_facilitator"
    retro.start_deeds(FACILITATOR)
    view = retro.public_view()
    assert view["phase"] == "deeds"
    assert view["discussed"] == ["c1"]
    assert refused(retro.start_deeds, FACILITATOR) == "wrong_phase"
    # Topics can still be picked to write their deeds, and their timebox extended.
    retro.highlight(FACILITATOR, "c2", 0, now=NOW)
    retro.highlight(FACILITATOR, "c4", 60, now=NOW)
    retro.extend_topic(FACILITATOR, 60, now=NOW)
    assert retro.public_view()["discussed"] == ["c1", "c2"]


@pytest.mark.parametrize("retro", [with_cards, revealed, voting], ids=lambda f: f.__name__)
def test_deeds_start_only_from_the_discussion(retro):
    assert refused(retro().start_deeds, FACILITATOR) == "wrong_phase"


# -- deeds ----------------------------------------------------------------------------------


def test_anyone_writes_a_deed_for_the_current_topic():
    retro = discussing()
    add_deed(retro, member(BOB), text="  Book a room ", owner=ANN, due="2031-02-03")
    retro.highlight(FACILITATOR, "c2", 0, now=NOW)
    add_deed(retro, member(CAT), text="Stand up at 9:15", owner=None, due="", agreement="a1")
    assert retro.public_view()["deeds"] == [
        {
            "id": "d1",
            "text": "Book a room",
            "owner": ANN,
            "due": "2031-02-03",
            "agreement": None,
            "topic": None,
            "author": BOB,
        },
        {
            "id": "d2",
            "text": "Stand up at 9:15",
            "owner": None,
            "due": None,
            "agreement": "a1",
            "topic": "c2",
            "author": CAT,
        },
    ]


def test_deeds_are_written_in_the_deeds_phase_too():
    retro = discussing()
    retro.start_deeds(FACILITATOR)
    add_deed(retro, member(ANN), owner=FACILITATOR_ID)
    assert retro.public_view()["deeds"][0]["owner"] == FACILITATOR_ID


@pytest.mark.parametrize("retro", [with_cards, revealed, voting], ids=lambda f: f.__name__)
def test_deeds_wait_for_the_discussion(retro):
    ritual = retro()
    assert refused_deed(ritual, member(ANN)) == "wrong_phase"
    assert refused(ritual.edit_deed, FACILITATOR, "d1", "x", None, "", None, members=MEMBERS) == (
        "wrong_phase"
    )
    assert refused(ritual.delete_deed, FACILITATOR, "d1") == "wrong_phase"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"text": ""}, "empty_text"),
        ({"text": " \u200b "}, "empty_text"),
        ({"text": None}, "invalid_value"),
        ({"text": ["Do it"]}, "invalid_value"),
        ({"text": "x" * (DEED_LIMIT + 1)}, "too_long"),
        ({"text": "two\nlines"}, "one_line"),
        ({"text": "two\u2028lines"}, "one_line"),
        ({"owner": 999}, "unknown_member"),
        ({"owner": True}, "invalid_value"),
        ({"owner": str(ANN)}, "invalid_value"),
        ({"owner": [ANN]}, "invalid_value"),
        ({"due": None}, "invalid_date"),
        ({"due": "2031-02-30"}, "invalid_date"),
        ({"due": "03-02-2031"}, "invalid_date"),
        ({"due": "2027-W01-1"}, "invalid_date"),
        ({"due": 20310203}, "invalid_date"),
        ({"due": "1999-12-31"}, "date_out_of_range"),
        ({"agreement": "a9"}, "unknown_agreement"),
        ({"agreement": 1}, "unknown_agreement"),
        ({"agreement": ""}, "unknown_agreement"),
    ],
    ids=repr,
)
def test_a_bad_deed_is_refused(fields, code):
    assert refused_deed(discussing(), member(ANN), **fields) == code


def test_a_deed_up_to_the_limit_is_accepted():
    retro = discussing()
    add_deed(retro, text="x" * DEED_LIMIT)
    assert retro.deeds[0].text == "x" * DEED_LIMIT


def test_a_deed_cannot_link_an_agreement_when_none_were_loaded():
    retro = voting()
    retro.close_voting(FACILITATOR)
    assert refused_deed(retro, agreement="a1") == "unknown_agreement"


def test_a_retrospective_holds_a_limited_number_of_deeds_and_never_reuses_an_id():
    retro = discussing()
    for n in range(MAX_DEEDS):
        add_deed(retro, member(ANN), text=f"Deed {n}")
    with pytest.raises(RitualError) as caught:
        add_deed(retro, member(BOB), text="One more")
    assert (caught.value.code, caught.value.params) == ("too_many_deeds", {"limit": MAX_DEEDS})
    retro.delete_deed(member(ANN), "d30")
    add_deed(retro, member(BOB), text="One more")
    assert retro.deeds[-1].id == "d31"


def test_the_author_or_the_facilitator_changes_a_deed_and_its_topic_stays():
    retro = discussing()
    retro.highlight(FACILITATOR, "c2", 0, now=NOW)
    add_deed(retro, member(ANN), text="Book a room")
    retro.highlight(FACILITATOR, "c1", 0, now=NOW)
    retro.edit_deed(
        member(ANN), "d1", "Book the big room", BOB, "2031-01-01", "a2", members=MEMBERS
    )
    deed = retro.public_view()["deeds"][0]
    assert deed == {
        "id": "d1",
        "text": "Book the big room",
        "owner": BOB,
        "due": "2031-01-01",
        "agreement": "a2",
        "topic": "c2",
        "author": ANN,
    }
    retro.edit_deed(FACILITATOR, "d1", "Book any room", None, "", None, members=MEMBERS)
    assert retro.public_view()["deeds"][0]["owner"] is None
    assert retro.public_view()["deeds"][0]["author"] == ANN
    edit = retro.edit_deed
    assert refused(edit, member(BOB), "d1", "Mine", None, "", None, members=MEMBERS) == "not_author"
    assert refused(retro.delete_deed, member(BOB), "d1") == "not_author"
    retro.delete_deed(FACILITATOR, "d1")
    assert retro.public_view()["deeds"] == []


def test_an_owner_must_be_among_the_members_the_service_passes():
    retro = discussing()
    add_deed(retro, owner=ANN)
    with pytest.raises(RitualError) as caught:
        retro.add_deed(FACILITATOR, "x", ANN, "", None, members=[FACILITATOR_ID, BOB])
    assert caught.value.code == "unknown_member"


@pytest.mark.parametrize("deed", ["d9", None, 1], ids=repr)
def test_an_unknown_deed_is_refused(deed):
    retro = discussing()
    add_deed(retro)
    edit = retro.edit_deed
    assert refused(edit, FACILITATOR, deed, "x", None, "", None, members=MEMBERS) == "unknown_deed"
    assert refused(retro.delete_deed, FACILITATOR, deed) == "unknown_deed"


def test_a_bad_edit_of_a_deed_is_refused_whole():
    retro = discussing()
    add_deed(retro, member(ANN), text="Book a room", owner=BOB)
    edit = retro.edit_deed
    assert refused(edit, member(ANN), "d1", "New", BOB, "nope", None, members=MEMBERS) == (
        "invalid_date"
    )
    assert refused(edit, member(ANN), "d1", "New", 999, "", None, members=MEMBERS) == (
        "unknown_member"
    )
    assert retro.deeds[0].text == "Book a room"


# -- readiness ------------------------------------------------------------------------------


def test_members_say_they_are_ready_and_change_their_mind():
    retro = with_cards()
    retro.ready(member(ANN), True)
    retro.ready(member(ANN), True)
    retro.ready(member(BOB), True)
    assert retro.public_view()["ready"] == 2
    assert retro.private_view(ANN)["ready"] is True
    assert retro.private_view(ANN)["ready_phase"] == retro.phase
    retro.ready(member(ANN), False)
    retro.ready(member(CAT), False)
    assert retro.public_view()["ready"] == 1
    assert retro.private_view(ANN)["ready"] is False
    assert retro.private_view(ANN)["ready_phase"] is None
    assert str(BOB) not in as_json(retro.public_view()["ready"])


@pytest.mark.parametrize("value", [None, 1, "yes"], ids=repr)
def test_ready_takes_a_boolean(value):
    assert refused(make_retro().ready, member(ANN), value) == "invalid_value"


def test_readiness_is_cleared_by_every_change_of_phase():
    retro = with_cards()
    moves = [
        lambda: retro.reveal(FACILITATOR),
        lambda: retro.open_voting(FACILITATOR, 3),
        lambda: retro.close_voting(FACILITATOR),
        lambda: retro.start_deeds(FACILITATOR),
    ]
    for move in moves:
        retro.ready(member(ANN), True)
        retro.ready(FACILITATOR, True)
        assert retro.public_view()["ready"] == 2
        move()
        assert retro.public_view()["ready"] == 0
        assert retro.private_view(ANN)["ready"] is False
    retro.ready(member(ANN), True)  # any phase, the last one too
    assert retro.public_view()["ready"] == 1


def test_skipping_the_vote_clears_readiness_too():
    retro = revealed()
    retro.ready(member(ANN), True)
    retro.skip_voting(FACILITATOR)
    assert retro.public_view()["ready"] == 0


def test_readiness_stays_within_a_phase():
    retro = discussing()
    retro.ready(member(ANN), True)
    retro.highlight(FACILITATOR, "c2", 60, now=NOW)
    add_deed(retro)
    assert retro.public_view()["ready"] == 1


# -- views ----------------------------------------------------------------------------------


def test_the_public_view_has_exactly_the_documented_shape():
    retro = discussing()
    retro.highlight(FACILITATOR, "c2", 60, now=NOW)
    add_deed(retro, member(ANN), agreement="a1")
    view = retro.public_view()
    assert set(view) == {
        "kind",
        "started",
        "phase",
        "format",
        "anonymous",
        "columns",
        "written",
        "writers",
        "cards",
        "groups",
        "grouping_locked",
        "voting_skipped",
        "votes_per_person",
        "per_card",
        "voters",
        "topics",
        "current_topic",
        "discussed",
        "topic_timer",
        "deeds",
        "agreements",
        "ready",
    }
    assert view["kind"] == "retro"
    assert set(view["cards"][0]) == {"id", "column", "text", "group", "author"}
    assert set(view["groups"][0]) == {"id", "title", "cards"}
    assert set(view["topics"][0]) == {"group", "votes"}
    assert set(view["topic_timer"]) == {"ends_at", "duration"}
    assert set(view["deeds"][0]) == {
        "id",
        "text",
        "owner",
        "due",
        "agreement",
        "topic",
        "author",
    }
    assert view["agreements"][0] == {"id": "a1", "text": "We start on time."}
    assert set(retro.private_view(ANN)) == {"cards", "votes", "votes_left", "ready", "ready_phase"}


def test_views_are_copies_that_do_not_change_the_step():
    retro = discussing()
    add_deed(retro)
    before = retro.to_state()
    view = retro.public_view()
    view["topics"][0]["votes"] = 99
    view["agreements"][0]["text"] = "Changed"
    view["deeds"][0]["text"] = "Changed"
    view["discussed"].append("c9")
    assert retro.to_state() == before


# -- persistence ----------------------------------------------------------------------------


def test_the_step_survives_a_trip_through_json_after_every_kind_of_command():
    retro = make_retro(format="custom", columns=["Kudos", "Ideas"], anonymous=True, votes=4)
    retro.load_charter("We ship.", AGREEMENTS)
    retro.add_card(member(ANN), "k1", "Thanks Bob")
    retro.add_card(member(BOB), "k2", "Mob more")
    retro.add_card(member(CAT), "k2", "Mob daily")
    retro = round_trip(retro)
    retro.edit_card(member(ANN), "c1", "Thanks, Bob")
    retro.add_card(member(ANN), "k2", "Gone soon")
    retro.delete_card(member(ANN), "c4")
    retro.ready(member(ANN), True)
    retro = round_trip(retro)
    retro.reveal(FACILITATOR)
    retro = round_trip(retro)
    retro.lock_grouping(FACILITATOR, True)
    retro.group_card(FACILITATOR, "c3", "c2")
    retro.title_group(FACILITATOR, "c2", "Mobbing")
    retro = round_trip(retro)
    retro.open_voting(FACILITATOR, 3, 2)
    retro.vote(member(ANN), "c2")
    retro.vote(member(ANN), "c2")
    retro.vote(member(BOB), "c1")
    retro.unvote(member(BOB), "c1")
    retro = round_trip(retro)
    retro.close_voting(FACILITATOR)
    retro.highlight(FACILITATOR, "c2", 90, now=NOW)
    retro.extend_topic(FACILITATOR, 30, now=NOW + 1)
    retro = round_trip(retro)
    add_deed(retro, member(BOB), owner=ANN, due="2031-05-06", agreement="a2")
    add_deed(retro, member(CAT))
    retro.edit_deed(member(CAT), "d2", "Changed", None, "", None, members=MEMBERS)
    retro.delete_deed(FACILITATOR, "d1")
    retro = round_trip(retro)
    retro.start_deeds(FACILITATOR)
    retro.ready(member(CAT), True)
    retro = round_trip(retro)
    assert retro.public_view() == Retrospective.from_state(retro.to_state()).public_view()
    assert retro.private_view(ANN) == Retrospective.from_state(retro.to_state()).private_view(ANN)


def test_skipped_voting_and_an_integer_clock_survive_a_trip_through_json():
    retro = revealed()
    retro.skip_voting(FACILITATOR)
    retro.highlight(FACILITATOR, "c1", 60, now=1000)
    restored = round_trip(retro)
    assert restored.public_view()["topic_timer"] == {"ends_at": 1060.0, "duration": 60}
    assert json.dumps(restored.to_state()) == json.dumps(retro.to_state())


def test_an_empty_state_is_a_new_step():
    assert Retrospective.from_state({}) == Retrospective()


def test_to_state_is_a_snapshot_that_later_moves_do_not_change():
    retro = discussing()
    state = retro.to_state()
    frozen = json.dumps(state, sort_keys=True)
    retro.highlight(FACILITATOR, "c2", 60, now=NOW)
    add_deed(retro)
    retro.ready(member(ANN), True)
    retro.start_deeds(FACILITATOR)
    assert json.dumps(state, sort_keys=True) == frozen


# -- invariants under any sequence of moves (Hypothesis) ------------------------------------

# Every card text starts with this marker, so a leak before the reveal is easy to spot.
SECRET = "secret:"
people = st.sampled_from(MEMBERS)
card_ids = st.one_of(st.sampled_from(["c1", "c2", "c3", "c4", "c5"]), st.none())
deed_ids = st.sampled_from(["d1", "d2", "d3", None])
seconds_ = st.sampled_from([0, 5, 10, 60, 3600, 3601, True, "60"])
clock = st.floats(NOW, NOW + 7200, allow_nan=False)


def actor(member_id: int) -> Actor:
    """Return the member as the service would build them: FACILITATOR_ID facilitates."""
    return Actor(member_id, is_facilitator=member_id == FACILITATOR_ID)


class RetroMachine(RuleBasedStateMachine):
    """Drive one retrospective with random moves by random members and check it after each."""

    retro: Retrospective
    anonymous: bool

    @initialize(
        anonymous=st.booleans(),
        votes=st.integers(1, 4),
        format_=st.sampled_from(["ssc", "custom"]),
    )
    def create(self, anonymous: bool, votes: int, format_: str) -> None:
        """Start from a begun step with the charter's agreements loaded."""
        columns = ["Kudos", "Ideas", "Puzzles"] if format_ == "custom" else None
        self.retro = Retrospective.create(
            format=format_, columns=columns, anonymous=anonymous, votes=votes
        )
        self.retro.begin(MEMBERS, random.Random(0))
        self.retro.load_charter("We ship.", AGREEMENTS)
        self.anonymous = anonymous

    def attempt(self, command: str, member_id: int, *args, **kwargs) -> None:
        """Make a move; if it is illegal, the stored state must be exactly as before."""
        before = json.dumps(self.retro.to_state(), sort_keys=True)
        try:
            getattr(self.retro, command)(actor(member_id), *args, **kwargs)
        except RitualError:
            assert json.dumps(self.retro.to_state(), sort_keys=True) == before

    @rule(
        who=people,
        column=st.sampled_from(["start", "stop", "k1", "k3", "mad"]),
        text=st.text(max_size=6),
    )
    def add_card(self, who, column, text):
        """Someone writes a card (in any column, even one this format lacks)."""
        self.attempt("add_card", who, column, SECRET + text)

    @rule(who=people, card=card_ids, text=st.text(max_size=6))
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

    @rule(who=people, locked=st.sampled_from([True, False, None]))
    def lock_grouping(self, who, locked):
        """Someone locks or unlocks grouping."""
        self.attempt("lock_grouping", who, locked)

    @rule(who=people, votes=st.integers(0, 4), per_card=st.sampled_from([None, 0, 1, 2, 5]))
    def open_voting(self, who, votes, per_card):
        """Someone opens the dot vote, maybe with bad limits."""
        self.attempt("open_voting", who, votes, per_card)

    @rule(who=people, group=card_ids, times=st.integers(1, 5))
    def vote(self, who, group, times):
        """Someone spends several dots, maybe more than they may."""
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

    @rule(who=people)
    def skip_voting(self, who):
        """Someone skips the dot vote."""
        self.attempt("skip_voting", who)

    @rule(who=people, topic=card_ids, seconds=seconds_, now=clock)
    def highlight(self, who, topic, seconds, now):
        """Someone highlights a topic, maybe with a bad timebox."""
        self.attempt("highlight", who, topic, seconds, now=now)

    @rule(who=people, seconds=seconds_, now=clock)
    def extend_topic(self, who, seconds, now):
        """Someone extends the topic's timebox."""
        self.attempt("extend_topic", who, seconds, now=now)

    @rule(who=people)
    def start_deeds(self, who):
        """Someone turns to the deeds."""
        self.attempt("start_deeds", who)

    @rule(
        who=people,
        text=st.sampled_from(["Do it", "", "a\nb"]),
        owner=st.sampled_from([None, ANN, 999]),
        due=st.sampled_from(["", "2031-01-01", "soon"]),
        agreement=st.sampled_from([None, "a1", "a9"]),
    )
    def add_deed(self, who, text, owner, due, agreement):
        """Someone writes a deed, maybe a bad one."""
        self.attempt("add_deed", who, text, owner, due, agreement, members=MEMBERS)

    @rule(who=people, deed=deed_ids, text=st.sampled_from(["Done", ""]))
    def edit_deed(self, who, deed, text):
        """Someone changes a deed, theirs or not."""
        self.attempt("edit_deed", who, deed, text, None, "", None, members=MEMBERS)

    @rule(who=people, deed=deed_ids)
    def delete_deed(self, who, deed):
        """Someone deletes a deed, theirs or not."""
        self.attempt("delete_deed", who, deed)

    @rule(who=people, ready=st.sampled_from([True, False, "yes"]))
    def ready(self, who, ready):
        """Someone says they are ready, or not."""
        self.attempt("ready", who, ready)

    # Legal moves, so every phase is reached often; the rules above try anything.

    @precondition(lambda self: self.retro.phase == "write")
    @rule(writers=st.lists(people, min_size=1, max_size=4), text=st.text(max_size=6))
    def members_write_and_the_facilitator_reveals(self, writers, text):
        """Members write cards and the facilitator reveals them."""
        column = self.retro.public_view()["columns"][0]["key"]
        for who in writers:
            self.retro.add_card(actor(who), column, SECRET + "x" + text)
        self.retro.reveal(actor(FACILITATOR_ID))

    @precondition(lambda self: self.retro.phase == "group" and self.retro.cards)
    @rule(who=people, card=st.integers(0, 20), onto=st.integers(-1, 20))
    def someone_groups_a_card(self, who, card, onto):
        """Someone moves an existing card onto another one or on its own."""
        cards = self.retro.cards
        target = None if onto < 0 else cards[onto % len(cards)].id
        self.attempt("group_card", who, cards[card % len(cards)].id, target)

    @precondition(lambda self: self.retro.phase == "group" and self.retro.cards)
    @rule(votes=st.integers(1, 4), per_card=st.integers(1, 4))
    def the_facilitator_opens_voting(self, votes, per_card):
        """The facilitator opens the dot vote."""
        self.retro.open_voting(actor(FACILITATOR_ID), votes, min(per_card, votes))

    @precondition(lambda self: self.retro.phase == "vote")
    @rule(who=people, group=st.integers(0, 20))
    def someone_votes_on_a_group(self, who, group):
        """Someone puts a dot on an existing group."""
        ids = [g["id"] for g in self.retro.public_view()["groups"]]
        self.attempt("vote", who, ids[group % len(ids)])

    @precondition(lambda self: self.retro.phase == "group")
    @rule(locked=st.booleans())
    def the_facilitator_locks_or_unlocks_grouping(self, locked):
        """The facilitator keeps grouping to themselves, or opens it again."""
        self.retro.lock_grouping(actor(FACILITATOR_ID), locked)

    @precondition(lambda self: self.retro.phase == "group")
    @rule()
    def the_facilitator_skips_voting(self):
        """The facilitator goes straight to the discussion."""
        self.retro.skip_voting(actor(FACILITATOR_ID))

    @precondition(lambda self: self.retro.phase == "vote")
    @rule()
    def the_facilitator_closes_voting(self):
        """The facilitator closes the dot vote."""
        self.retro.close_voting(actor(FACILITATOR_ID))

    @precondition(lambda self: self.retro.phase == "discuss")
    @rule()
    def the_facilitator_starts_the_deeds(self):
        """The facilitator turns to the deeds."""
        self.retro.start_deeds(actor(FACILITATOR_ID))

    @precondition(lambda self: self.retro.phase in ("discuss", "deeds") and self.retro.topics)
    @rule(topic=st.integers(0, 20), seconds=st.sampled_from([0, 60]), now=clock)
    def the_facilitator_highlights_a_topic(self, topic, seconds, now):
        """The facilitator highlights an existing topic."""
        topics = self.retro.topics
        chosen = topics[topic % len(topics)]["group"]
        self.retro.highlight(actor(FACILITATOR_ID), chosen, seconds, now=now)

    @precondition(lambda self: self.retro.phase in ("discuss", "deeds"))
    @rule(who=people)
    def someone_writes_a_deed(self, who):
        """Someone writes a valid deed."""
        self.attempt("add_deed", who, "Do it", ANN, "2031-01-01", "a2", members=MEMBERS)

    @invariant()
    def the_phase_is_known_and_anonymity_as_promised(self) -> None:
        assert self.retro.phase in PHASES
        assert self.retro.anonymous is self.anonymous

    @invariant()
    def nobody_spends_more_votes_than_they_may(self) -> None:
        retro = self.retro
        for member_id, dots in retro.dots.items():
            assert 1 <= len(dots) <= retro.votes_per_person
            assert all(dots.count(g) <= retro.per_card for g in dots)
            assert retro.private_view(member_id)["votes_left"] == retro.votes_per_person - len(dots)

    @invariant()
    def topics_are_groups_and_ranked(self) -> None:
        retro = self.retro
        if retro.phase in ("discuss", "deeds"):
            assert [t["group"] for t in retro.topics] == sorted(
                retro._groups(), key=lambda g: -sum(d.count(g) for d in retro.dots.values())
            )
        else:
            assert retro.topics == []
        known = {t["group"] for t in retro.topics}
        assert set(retro.discussed) <= known
        assert retro.current_topic is None or retro.current_topic in known

    @invariant()
    def deeds_are_valid_and_few(self) -> None:
        retro = self.retro
        assert len(retro.deeds) <= MAX_DEEDS
        ids = [d.id for d in retro.deeds]
        assert len(set(ids)) == len(ids)
        assert all(int(i[1:]) <= retro.deed_count for i in ids)
        for deed in retro.deeds:
            assert deed.owner is None or deed.owner in MEMBERS
            assert deed.agreement in (None, "a1", "a2")

    @invariant()
    def no_card_text_is_public_before_the_reveal(self) -> None:
        if self.retro.phase == "write":
            assert SECRET not in as_json(self.retro.public_view())

    @invariant()
    def an_anonymous_step_names_no_cards_author_in_public(self) -> None:
        if not self.retro.anonymous:
            return
        view = self.retro.public_view()
        assert view["writers"] == []
        for node in walk({k: v for k, v in view.items() if k != "deeds"}):
            if isinstance(node, dict):
                assert "author" not in node

    @invariant()
    def no_public_view_says_whose_dots_went_where(self) -> None:
        view = self.retro.public_view()
        for node in walk(view):
            if isinstance(node, dict):
                assert "dots" not in node
                assert not {str(m) for m in MEMBERS} & set(node)
        assert isinstance(view["voters"], int)
        assert isinstance(view["ready"], int)

    @invariant()
    def a_private_view_holds_only_the_members_own_cards(self) -> None:
        for member_id in MEMBERS:
            own = {c.id for c in self.retro.cards if c.author == member_id}
            assert {c["id"] for c in self.retro.private_view(member_id)["cards"]} == own

    @invariant()
    def the_state_survives_a_trip_through_json(self) -> None:
        round_trip(self.retro)


RetroMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRetroMachine = RetroMachine.TestCase
