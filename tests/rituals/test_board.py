"""The card board both purpose alignment and the retrospective run."""

from __future__ import annotations

import random

import pytest

from retro.rituals import Actor, PurposeAlignment, RitualError
from retro.rituals.board import CardBoard, int_in_range, one_line_text
from retro.rituals.retrospective import Retrospective


@pytest.mark.parametrize("ritual", [PurposeAlignment, Retrospective])
def test_both_card_rituals_run_a_board(ritual):
    assert issubclass(ritual, CardBoard)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, True), (10, True), (0, False), (11, False), (True, False), (5.0, False), ("5", False)],
    ids=repr,
)
def test_int_in_range_takes_only_true_integers(value, expected):
    assert int_in_range(value, 1, 10) is expected


def test_one_line_text_is_tidied():
    assert one_line_text("  Pairing\u200b ", 10) == "Pairing"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("a\nb", "one_line"),
        ("a\u2028b", "one_line"),
        ("a\rb", "one_line"),
        (" ", "empty_text"),
        ("x" * 11, "too_long"),
        (None, "invalid_value"),
    ],
    ids=repr,
)
def test_one_line_text_refuses_what_would_break_a_line(value, code):
    with pytest.raises(RitualError) as caught:
        one_line_text(value, 10)
    assert caught.value.code == code


def test_a_purpose_board_has_no_per_card_limit_but_a_retrospective_has_one():
    assert PurposeAlignment()._per_card_limit() is None
    assert Retrospective(per_card=2)._per_card_limit() == 2


def test_an_anonymous_reveal_shuffles_the_cards_and_gives_them_new_ids():
    orders = set()
    for seed in range(20):
        retro = Retrospective.create(anonymous=True)
        retro.begin([1, 2], random.Random(0))
        for author, text in ((Actor(1), "first"), (Actor(2), "second"), (Actor(1), "third")):
            retro.add_card(author, "start", text)
        retro.delete_card(Actor(2), "c2")
        retro.add_card(Actor(2), "stop", "fourth")
        retro.reveal(Actor(1, is_facilitator=True), rng=random.Random(seed))
        view = retro.public_view()
        assert [c["id"] for c in view["cards"]] == ["c5", "c6", "c7"]
        assert all(c["group"] == c["id"] for c in view["cards"])
        orders.add(tuple(c["text"] for c in view["cards"]))
        # Each author still knows their own cards, under the new ids.
        mine = {c["text"]: c["id"] for c in retro.private_view(1)["cards"]}
        by_id = {c["id"]: c["text"] for c in view["cards"]}
        assert {by_id[card_id] for card_id in mine.values()} == {"first", "third"}
    assert len(orders) > 1


def test_a_named_reveal_keeps_the_order_and_ids_of_writing():
    retro = Retrospective.create(anonymous=False)
    retro.begin([1, 2], random.Random(0))
    retro.add_card(Actor(1), "start", "first")
    retro.add_card(Actor(2), "stop", "second")
    retro.reveal(Actor(1, is_facilitator=True), rng=random.Random(3))
    assert [(c["id"], c["text"]) for c in retro.public_view()["cards"]] == [
        ("c1", "first"),
        ("c2", "second"),
    ]
