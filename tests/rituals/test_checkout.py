"""The check-out: one word each, hidden until revealed, and an anonymous ROTI."""

from __future__ import annotations

import json
import random

import pytest

from retro.rituals import CheckOut, RitualError
from retro.rituals.checkout import WORD_LIMIT
from tests.rituals.helpers import FACILITATOR, as_json, member


def make_checkout() -> CheckOut:
    """Return a started check-out."""
    checkout = CheckOut.create()
    checkout.begin([1, 2, 3, 4], random.Random(0))
    return checkout


def refusal(call, *args) -> str:
    """Call a command on a check-out, check it refused and changed nothing, return the code."""
    checkout = call.__self__
    before = checkout.to_state()
    with pytest.raises(RitualError) as caught:
        call(*args)
    assert checkout.to_state() == before
    return caught.value.code


def test_a_new_check_out_is_not_started():
    checkout = CheckOut.create()
    assert checkout.started is False
    assert checkout.kind == "checkout"
    assert checkout.public_view()["started"] is False


def test_begin_opens_the_check_out_and_a_second_begin_changes_nothing():
    checkout = make_checkout()
    checkout.answer(member(2), "Grateful")
    before = checkout.to_state()
    checkout.begin([7, 8], random.Random(1))
    assert checkout.started is True
    assert checkout.to_state() == before


def test_joining_a_check_out_changes_nothing():
    checkout = make_checkout()
    before = checkout.to_state()
    checkout.join(9)
    assert checkout.to_state() == before


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("answer", (member(2), "Done")),
        ("pass_", (member(2),)),
        ("reveal", (FACILITATOR,)),
        ("rate", (member(2), {"roti": 4})),
    ],
)
def test_no_command_is_accepted_before_the_check_out_starts(command, args):
    checkout = CheckOut.create()
    assert refusal(getattr(checkout, command), *args) == "step_not_started"


def test_a_word_is_stored_without_surrounding_whitespace():
    checkout = make_checkout()
    checkout.answer(member(2), "  Energised \n")
    assert checkout.words == {2: "Energised"}


def test_a_member_may_change_their_word():
    checkout = make_checkout()
    checkout.answer(member(2), "Tired")
    checkout.answer(member(2), "Hopeful")
    assert checkout.words == {2: "Hopeful"}


def test_words_are_hidden_until_the_reveal():
    checkout = make_checkout()
    checkout.answer(member(2), "Overwhelmed")
    checkout.answer(member(3), "Relieved")
    view = checkout.public_view()
    assert view["answers"] == {}
    assert view["answered"] == [2, 3]
    assert view["revealed"] is False
    assert "Overwhelmed" not in as_json(view)
    assert "Relieved" not in as_json(view)


def test_the_reveal_shows_every_word():
    checkout = make_checkout()
    checkout.answer(member(2), "Overwhelmed")
    checkout.answer(member(3), "Relieved")
    checkout.reveal(FACILITATOR)
    view = checkout.public_view()
    assert view["revealed"] is True
    assert view["answers"] == {"2": "Overwhelmed", "3": "Relieved"}


def test_only_the_facilitator_can_reveal_the_words():
    checkout = make_checkout()
    checkout.answer(member(2), "Secret")
    assert refusal(checkout.reveal, member(2)) == "not_facilitator"
    assert checkout.public_view()["answers"] == {}


def test_the_words_cannot_be_revealed_twice():
    checkout = make_checkout()
    checkout.reveal(FACILITATOR)
    assert refusal(checkout.reveal, FACILITATOR) == "already_revealed"


def test_a_check_out_has_no_turns_to_pass():
    assert refusal(make_checkout().pass_turn, FACILITATOR) == "not_round_mode"


def test_an_empty_word_is_refused():
    assert refusal(make_checkout().answer, member(2), "   ") == "empty_text"


def test_a_word_over_the_limit_is_refused():
    checkout = make_checkout()
    with pytest.raises(RitualError) as caught:
        checkout.answer(member(2), "x" * (WORD_LIMIT + 1))
    assert caught.value.code == "too_long"
    assert caught.value.params == {"limit": WORD_LIMIT}
    assert checkout.words == {}


def test_a_short_phrase_up_to_the_limit_is_accepted():
    checkout = make_checkout()
    checkout.answer(member(2), "x" * WORD_LIMIT)
    assert checkout.words == {2: "x" * WORD_LIMIT}


@pytest.mark.parametrize("text", [None, 7, ["word"]])
def test_a_word_that_is_not_text_is_refused(text):
    assert refusal(make_checkout().answer, member(2), text) == "invalid_value"


@pytest.mark.parametrize(
    "text",
    ["two\nlines", "two\r\nlines", "two\rlines", "two\u2028lines"],
    ids=["newline", "crlf", "carriage-return", "line-separator"],
)
def test_a_word_must_fit_on_one_line(text):
    assert refusal(make_checkout().answer, member(2), text) == "one_line"


def test_passing_withdraws_a_word():
    checkout = make_checkout()
    checkout.answer(member(2), "Meh")
    checkout.pass_(member(2))
    assert checkout.words == {}
    assert checkout.passed == [2]
    assert checkout.public_view()["answered"] == []


def test_a_member_cannot_pass_twice():
    checkout = make_checkout()
    checkout.pass_(member(2))
    assert refusal(checkout.pass_, member(2)) == "already_passed"


def test_writing_a_word_after_passing_takes_the_pass_back():
    checkout = make_checkout()
    checkout.pass_(member(2))
    checkout.answer(member(2), "Okay")
    assert checkout.passed == []
    assert checkout.words == {2: "Okay"}


def test_a_member_sees_their_own_word_and_whether_they_rated():
    checkout = make_checkout()
    checkout.answer(member(2), "Proud")
    checkout.rate(member(2), {"roti": 5})
    assert checkout.private_view(2) == {"answer": "Proud", "passed": False, "rated": True}
    assert checkout.private_view(3) == {"answer": None, "passed": False, "rated": False}


# -- ROTI -------------------------------------------------------------------------------


def test_the_roti_is_hidden_below_three_answers():
    checkout = make_checkout()
    checkout.rate(member(2), {"roti": 5})
    checkout.rate(member(3), {"roti": 1})
    view = checkout.public_view()
    assert view["scales"] == ["roti"]
    assert view["scale_results"] == {
        "ready": False,
        "revealed": False,
        "enough": False,
        "needed": 3,
    }


def test_the_roti_stays_hidden_before_the_reveal_even_with_three_answers():
    checkout = make_checkout()
    for member_id, score in ((501, 1), (502, 5), (503, 3)):
        checkout.rate(member(member_id), {"roti": score})
    view = checkout.public_view()
    assert view["scale_results"] == {
        "ready": False,
        "revealed": False,
        "enough": True,
        "needed": 3,
    }
    assert "distribution" not in as_json(view)


def test_the_roti_stays_hidden_after_the_reveal_below_three_answers():
    checkout = make_checkout()
    checkout.rate(member(2), {"roti": 5})
    checkout.rate(member(3), {"roti": 1})
    checkout.reveal(FACILITATOR)
    assert checkout.public_view()["scale_results"] == {
        "ready": False,
        "revealed": True,
        "enough": False,
        "needed": 3,
    }


def test_the_roti_is_shown_as_a_team_aggregate_from_three_answers_after_the_reveal():
    checkout = make_checkout()
    for member_id, score in ((501, 4), (502, 5), (503, 4), (504, 2)):
        checkout.rate(member(member_id), {"roti": score})
    checkout.reveal(FACILITATOR)
    view = checkout.public_view()
    assert view["scale_results"] == {
        "ready": True,
        "revealed": True,
        "count": 4,
        "scales": {"roti": {"distribution": [0, 1, 0, 2, 1], "count": 4, "average": 3.75}},
    }
    wire = as_json(view)
    for member_id in ("501", "502", "503", "504"):
        assert member_id not in wire


def test_a_member_cannot_rate_the_roti_twice():
    checkout = make_checkout()
    checkout.rate(member(2), {"roti": 3})
    assert refusal(checkout.rate, member(2), {"roti": 5}) == "already_rated"


def test_the_roti_cannot_be_rated_after_the_reveal():
    checkout = make_checkout()
    checkout.rate(member(2), {"roti": 3})
    checkout.reveal(FACILITATOR)
    assert refusal(checkout.rate, member(3), {"roti": 5}) == "scales_closed"
    assert checkout.private_view(3)["rated"] is False


def test_the_check_out_asks_only_for_the_roti():
    assert refusal(make_checkout().rate, member(2), {"energy": 3}) == "unknown_scale"


@pytest.mark.parametrize("value", [0, 6, True, 4.0, "4"], ids=repr)
def test_a_roti_outside_one_to_five_is_refused(value):
    assert refusal(make_checkout().rate, member(2), {"roti": value}) == "invalid_value"


# -- persistence ------------------------------------------------------------------------


def test_a_check_out_survives_a_trip_through_json():
    checkout = make_checkout()
    checkout.answer(member(2), "Clear")
    checkout.pass_(member(3))
    checkout.rate(member(2), {"roti": 4})
    checkout.reveal(FACILITATOR)
    restored = CheckOut.from_state(json.loads(json.dumps(checkout.to_state())))
    assert restored == checkout
    assert restored.public_view() == checkout.public_view()


def test_a_check_out_built_from_an_empty_state_still_asks_for_the_roti():
    restored = CheckOut.from_state({})
    assert restored.started is False
    assert restored.roti.scales == ["roti"]


def test_to_state_is_a_snapshot_that_later_moves_do_not_change():
    checkout = make_checkout()
    state = checkout.to_state()
    frozen = json.dumps(state, sort_keys=True)
    checkout.pass_(member(2))
    checkout.rate(member(3), {"roti": 2})
    assert json.dumps(state, sort_keys=True) == frozen
