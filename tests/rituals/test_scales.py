"""What every ritual shares: the domain error, actors, clean text and anonymous 1-5 scales."""

from __future__ import annotations

import dataclasses
import json

import pytest

from retro.rituals import Actor, RitualError
from retro.rituals.base import (
    MIN_AGGREGATE,
    ScaleTally,
    clean_text,
    int_keys,
    require_facilitator,
)
from tests.rituals.helpers import as_json

MEMBER_IDS = (9001, 9002, 9003, 9004)


def make_tally(*scales: str) -> ScaleTally:
    """Return an empty tally for `scales` (energy only by default)."""
    return ScaleTally(scales=list(scales or ("energy",)))


def make_rated_tally(values: list[dict[str, int]]) -> ScaleTally:
    """Return a tally of energy and autonomy rated once per entry in `values`."""
    tally = make_tally("energy", "autonomy")
    for member_id, answer in zip(MEMBER_IDS, values, strict=False):
        tally.rate(member_id, answer)
    return tally


def refusal(tally: ScaleTally, member_id: int, values) -> str:
    """Return the error code of a refused rating, checking that nothing was recorded."""
    before = tally.to_state()
    with pytest.raises(RitualError) as caught:
        tally.rate(member_id, values)
    assert tally.to_state() == before
    return caught.value.code


# -- the shared pieces ----------------------------------------------------------------


def test_a_ritual_error_carries_its_code_and_parameters():
    error = RitualError("too_long", limit=40)
    assert error.code == "too_long"
    assert error.params == {"limit": 40}
    assert str(error) == "too_long"


def test_an_actor_is_a_plain_member_unless_told_otherwise():
    assert Actor(5).is_facilitator is False
    assert Actor(5, is_facilitator=True).is_facilitator is True


def test_an_actor_cannot_be_promoted_after_it_was_made():
    actor = Actor(5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        actor.is_facilitator = True  # type: ignore[misc]
    assert actor.is_facilitator is False


def test_a_plain_member_is_not_a_facilitator():
    with pytest.raises(RitualError) as caught:
        require_facilitator(Actor(5))
    assert caught.value.code == "not_facilitator"


def test_the_facilitator_passes_the_facilitator_check():
    assert require_facilitator(Actor(5, is_facilitator=True)) is None


def test_clean_text_strips_surrounding_whitespace():
    assert clean_text("  hello there \n", 20) == "hello there"


def test_clean_text_refuses_blank_text():
    with pytest.raises(RitualError) as caught:
        clean_text(" \t ", 20)
    assert caught.value.code == "empty_text"


def test_clean_text_measures_the_limit_after_stripping():
    assert clean_text("   abc   ", 3) == "abc"
    with pytest.raises(RitualError) as caught:
        clean_text("abcd", 3)
    assert caught.value.code == "too_long"
    assert caught.value.params == {"limit": 3}


def test_clean_text_refuses_what_is_not_text():
    with pytest.raises(RitualError) as caught:
        clean_text(None, 20)
    assert caught.value.code == "invalid_value"


def test_json_string_keys_turn_back_into_member_ids():
    assert int_keys({"3": "a", "12": "b"}) == {3: "a", 12: "b"}


# -- the tally ------------------------------------------------------------------------


def test_a_new_tally_has_an_empty_histogram_per_scale():
    tally = make_tally("energy", "autonomy")
    assert tally.counts == {"energy": [0, 0, 0, 0, 0], "autonomy": [0, 0, 0, 0, 0]}
    assert tally.responders == []


def test_nothing_is_shown_before_anyone_rated():
    assert make_tally().view(revealed=False) == {
        "ready": False,
        "revealed": False,
        "enough": False,
        "needed": MIN_AGGREGATE,
    }


def test_nothing_is_shown_with_fewer_than_three_responders_even_after_the_reveal():
    tally = make_rated_tally([{"energy": 1, "autonomy": 2}, {"energy": 5, "autonomy": 3}])
    assert tally.view(revealed=True) == {
        "ready": False,
        "revealed": True,
        "enough": False,
        "needed": 3,
    }


def test_three_responders_show_nothing_but_that_there_are_enough_before_the_reveal():
    tally = make_rated_tally([{"energy": 1, "autonomy": 5}] * 3)
    view = tally.view(revealed=False)
    assert view == {"ready": False, "revealed": False, "enough": True, "needed": 3}
    assert "count" not in as_json(view)


def test_three_responders_show_the_distribution_and_average_after_the_reveal():
    tally = make_rated_tally(
        [
            {"energy": 1, "autonomy": 2},
            {"energy": 2, "autonomy": 2},
            {"energy": 2, "autonomy": 5},
        ]
    )
    assert tally.view(revealed=True) == {
        "ready": True,
        "revealed": True,
        "count": 3,
        "scales": {
            "energy": {"distribution": [1, 2, 0, 0, 0], "count": 3, "average": 1.67},
            "autonomy": {"distribution": [0, 2, 0, 0, 1], "count": 3, "average": 3.0},
        },
    }


def test_the_aggregate_grows_with_every_further_responder():
    tally = make_rated_tally([{"energy": 3, "autonomy": 3}] * 4)
    view = tally.view(revealed=True)
    assert view["count"] == 4
    assert view["scales"]["energy"]["distribution"] == [0, 0, 4, 0, 0]


def test_the_aggregate_never_names_a_responder():
    tally = make_rated_tally([{"energy": 1, "autonomy": 5}] * 4)
    wire = as_json(tally.view(revealed=True))
    for member_id in MEMBER_IDS:
        assert str(member_id) not in wire
    assert "responders" not in wire


def test_the_tally_remembers_who_rated_but_not_who_gave_which_value():
    tally = make_rated_tally([{"energy": 1, "autonomy": 5}, {"energy": 4, "autonomy": 2}])
    state = tally.to_state()
    assert state["responders"] == [9001, 9002]
    assert state["counts"] == {"energy": [1, 0, 0, 1, 0], "autonomy": [0, 1, 0, 0, 1]}


def test_a_member_cannot_rate_twice():
    tally = make_rated_tally([{"energy": 3, "autonomy": 3}])
    assert refusal(tally, 9001, {"energy": 4}) == "already_rated"


def test_a_tally_without_scales_refuses_any_rating():
    assert refusal(ScaleTally(scales=[]), 9001, {"energy": 3}) == "no_scales"


def test_a_rating_that_leaves_out_a_scale_is_refused():
    tally = make_tally("energy", "autonomy")
    assert refusal(tally, 9001, {"energy": 3}) == "incomplete_scales"
    assert tally.responders == []


def test_every_scale_of_an_aggregate_counts_every_responder():
    tally = make_rated_tally([{"energy": 2, "autonomy": 4}, {"energy": 3, "autonomy": 1}] * 2)
    view = tally.view(revealed=True)
    assert view["count"] == 4
    assert {name: scale["count"] for name, scale in view["scales"].items()} == {
        "energy": 4,
        "autonomy": 4,
    }


def test_an_unknown_scale_is_reported_before_a_missing_one():
    tally = make_tally("energy", "autonomy")
    assert refusal(tally, 9001, {"energy": 3, "mood": 3}) == "unknown_scale"


def test_a_scale_not_asked_for_is_refused():
    assert refusal(make_tally("energy"), 9001, {"mood": 3}) == "unknown_scale"


def test_one_unknown_scale_refuses_the_whole_rating():
    tally = make_tally("energy")
    assert refusal(tally, 9001, {"energy": 3, "mood": 3}) == "unknown_scale"
    assert tally.counts["energy"] == [0, 0, 0, 0, 0]


@pytest.mark.parametrize(
    "value",
    [True, False, 0, 6, -1, 100, 3.0, 2.5, "3", None, [3]],
    ids=lambda v: repr(v),
)
def test_a_value_that_is_not_a_whole_number_from_one_to_five_is_refused(value):
    assert refusal(make_tally("energy"), 9001, {"energy": value}) == "invalid_value"


@pytest.mark.parametrize("values", [{}, None, [("energy", 3)], "energy=3", 3])
def test_ratings_that_are_not_a_mapping_of_scales_are_refused(values):
    assert refusal(make_tally("energy"), 9001, values) == "invalid_value"


def test_one_bad_value_refuses_the_whole_rating():
    tally = make_tally("energy", "autonomy")
    assert refusal(tally, 9001, {"energy": 4, "autonomy": 9}) == "invalid_value"
    assert tally.counts == {"energy": [0, 0, 0, 0, 0], "autonomy": [0, 0, 0, 0, 0]}
    assert tally.responders == []


@pytest.mark.parametrize("value", [1, 2, 3, 4, 5])
def test_every_value_from_one_to_five_is_counted_in_its_own_bucket(value):
    tally = make_tally("energy")
    tally.rate(9001, {"energy": value})
    expected = [0, 0, 0, 0, 0]
    expected[value - 1] = 1
    assert tally.counts["energy"] == expected


def test_a_tally_survives_a_trip_through_json():
    tally = make_rated_tally([{"energy": 2, "autonomy": 4}] * 3)
    restored = ScaleTally.from_state(json.loads(json.dumps(tally.to_state())))
    assert restored == tally
    assert restored.view(revealed=False) == tally.view(revealed=False)
    assert restored.view(revealed=True) == tally.view(revealed=True)


def test_a_tally_built_from_an_empty_state_has_no_scales():
    restored = ScaleTally.from_state({})
    assert restored.scales == []
    assert restored.view(revealed=True) == {
        "ready": False,
        "revealed": True,
        "enough": False,
        "needed": 3,
    }


def test_to_state_copies_the_histograms():
    tally = make_tally("energy")
    state = tally.to_state()
    tally.rate(9001, {"energy": 5})
    assert state["counts"] == {"energy": [0, 0, 0, 0, 0]}
    assert state["responders"] == []
