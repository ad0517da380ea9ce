"""The card board both purpose alignment and the retrospective run."""

from __future__ import annotations

import pytest

from retro.rituals import PurposeAlignment, RitualError
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
