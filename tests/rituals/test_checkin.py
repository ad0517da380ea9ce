"""The check-in round: a talking-stick round or simultaneous writing, every illegal move refused."""

from __future__ import annotations

import json
import random

import pytest

from retro.rituals import CheckInRound, RitualError
from retro.rituals.checkin import ANSWER_LIMIT, PROMPT_LIMIT
from tests.rituals.helpers import FACILITATOR, FACILITATOR_ID, KeepOrder, as_json, member

PROMPT = "How are you arriving today?"


def make_checkin(mode: str = "round", scales: tuple[str, ...] = ()) -> CheckInRound:
    """Return a check-in that has not started yet."""
    return CheckInRound.create(prompt=PROMPT, mode=mode, scales=scales)


def make_round(members: tuple[int, ...] = (FACILITATOR_ID, 2, 3, 4)) -> CheckInRound:
    """Return a started round whose talking stick goes to `members` in the order given."""
    checkin = make_checkin("round")
    checkin.begin(list(members), KeepOrder())
    return checkin


def make_simultaneous(
    members: tuple[int, ...] = (FACILITATOR_ID, 2, 3, 4), scales: tuple[str, ...] = ()
) -> CheckInRound:
    """Return a started simultaneous check-in."""
    checkin = make_checkin("simultaneous", scales)
    checkin.begin(list(members), KeepOrder())
    return checkin


def error_code(call, *args) -> str:
    """Call and return the code of the RitualError it raises."""
    with pytest.raises(RitualError) as caught:
        call(*args)
    return caught.value.code


# -- creating ---------------------------------------------------------------------


def test_a_new_check_in_is_not_started_and_keeps_its_settings():
    checkin = CheckInRound.create(prompt="  Weather report?  ", mode="simultaneous")
    assert checkin.started is False
    assert checkin.prompt == "Weather report?"
    assert checkin.mode == "simultaneous"
    assert checkin.kind == "checkin"
    assert checkin.public_view()["scale_results"] is None


def test_a_library_prompt_needs_no_typed_text():
    checkin = CheckInRound.create(prompt_id="energy-weather")
    assert checkin.prompt_id == "energy-weather"
    assert checkin.prompt == ""


def test_an_empty_prompt_id_counts_as_none():
    checkin = CheckInRound.create(prompt="Typed", prompt_id="")
    assert checkin.prompt_id is None
    assert checkin.prompt == "Typed"


def test_an_unknown_mode_is_refused():
    assert error_code(lambda: CheckInRound.create(prompt=PROMPT, mode="popcorn")) == "invalid_mode"


def test_a_typed_prompt_may_not_be_blank():
    assert error_code(lambda: CheckInRound.create(prompt="   ")) == "empty_text"


def test_a_typed_prompt_may_not_be_too_long():
    with pytest.raises(RitualError) as caught:
        CheckInRound.create(prompt="x" * (PROMPT_LIMIT + 1))
    assert caught.value.code == "too_long"
    assert caught.value.params == {"limit": PROMPT_LIMIT}


def test_a_typed_prompt_of_exactly_the_limit_is_accepted():
    assert CheckInRound.create(prompt="x" * PROMPT_LIMIT).prompt == "x" * PROMPT_LIMIT


def test_a_typed_prompt_must_be_text():
    assert error_code(lambda: CheckInRound.create(prompt=42)) == "invalid_value"  # type: ignore[arg-type]


def test_an_unknown_scale_is_refused():
    code = error_code(lambda: CheckInRound.create(prompt=PROMPT, scales=["mood"]))
    assert code == "unknown_scale"


def test_a_scale_may_not_be_asked_twice():
    code = error_code(lambda: CheckInRound.create(prompt=PROMPT, scales=["energy", "energy"]))
    assert code == "unknown_scale"


# -- beginning ------------------------------------------------------------------


def test_round_mode_shuffles_the_members_with_the_given_random():
    members = [1, 2, 3, 4, 5, 6]
    checkin = make_checkin("round")
    checkin.begin(members, random.Random(7))
    expected = list(members)
    random.Random(7).shuffle(expected)
    assert checkin.order == expected
    assert sorted(checkin.order) == members
    assert checkin.speaker == expected[0]


def test_different_seeds_give_different_orders():
    orders = set()
    for seed in range(10):
        checkin = make_checkin("round")
        checkin.begin([1, 2, 3, 4, 5, 6], random.Random(seed))
        orders.add(tuple(checkin.order))
    assert len(orders) > 1


def test_begin_does_not_shuffle_the_callers_list():
    members = [1, 2, 3, 4, 5, 6]
    make_checkin("round").begin(members, random.Random(3))
    assert members == [1, 2, 3, 4, 5, 6]


def test_a_second_begin_changes_nothing():
    checkin = make_round((1, 2, 3))
    checkin.pass_turn(FACILITATOR)
    before = checkin.to_state()
    checkin.begin([7, 8, 9], random.Random(1))
    assert checkin.to_state() == before
    assert checkin.order == [1, 2, 3]


def test_simultaneous_mode_has_no_order_and_no_speaker():
    checkin = make_simultaneous()
    assert checkin.started is True
    assert checkin.order == []
    assert checkin.speaker is None


def test_a_round_begun_with_nobody_present_has_no_speaker():
    checkin = make_checkin("round")
    checkin.begin([], random.Random(0))
    assert checkin.started is True
    assert checkin.speaker is None


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("answer", (member(2), "Fine")),
        ("pass_", (member(2),)),
        ("pass_turn", (FACILITATOR,)),
        ("reveal", (FACILITATOR,)),
        ("rate", (member(2), {"energy": 3})),
    ],
)
def test_no_command_is_accepted_before_the_step_starts(command, args):
    checkin = make_checkin("simultaneous" if command == "reveal" else "round", scales=("energy",))
    before = checkin.to_state()
    assert error_code(getattr(checkin, command), *args) == "step_not_started"
    assert checkin.to_state() == before


# -- round mode -----------------------------------------------------------------


def test_the_speakers_answer_is_public_at_once():
    checkin = make_round()
    checkin.answer(FACILITATOR, "Rested and curious")
    view = checkin.public_view()
    assert view["answers"] == {"1": "Rested and curious"}
    assert view["answered"] == [1]


def test_an_answer_is_stored_without_surrounding_whitespace():
    checkin = make_round()
    checkin.answer(FACILITATOR, "  Sunny \n")
    assert checkin.answers == {1: "Sunny"}


def test_a_member_cannot_answer_before_their_turn():
    checkin = make_round()
    assert error_code(checkin.answer, member(3), "Me first") == "not_your_turn"
    assert checkin.answers == {}


def test_the_speaker_can_change_their_answer_during_their_turn():
    checkin = make_round()
    checkin.answer(FACILITATOR, "Tired")
    checkin.answer(FACILITATOR, "Tired but glad to be here")
    assert checkin.answers == {1: "Tired but glad to be here"}


def test_the_speaker_passes_the_turn_to_the_next_member():
    checkin = make_round()
    checkin.answer(FACILITATOR, "Good")
    checkin.pass_turn(FACILITATOR)
    assert checkin.heard == [1]
    assert checkin.speaker == 2


def test_a_speaker_who_is_not_facilitator_passes_their_own_turn():
    checkin = make_round()
    checkin.pass_turn(FACILITATOR)
    checkin.answer(member(2), "Busy week")
    checkin.pass_turn(member(2))
    assert checkin.heard == [1, 2]
    assert checkin.speaker == 3


def test_the_facilitator_can_pass_the_turn_for_the_speaker():
    checkin = make_round((2, 3, FACILITATOR_ID))
    checkin.pass_turn(FACILITATOR)
    assert checkin.heard == [2]
    assert checkin.speaker == 3


def test_a_member_who_is_not_speaking_cannot_pass_the_turn():
    checkin = make_round()
    assert error_code(checkin.pass_turn, member(3)) == "not_your_turn"
    assert checkin.speaker == 1
    assert checkin.heard == []


def test_passing_the_turn_after_everyone_was_heard_is_refused():
    checkin = make_round((1, 2))
    checkin.pass_turn(FACILITATOR)
    checkin.pass_turn(FACILITATOR)
    assert checkin.speaker is None
    assert error_code(checkin.pass_turn, FACILITATOR) == "round_complete"
    assert checkin.heard == [1, 2]


def test_no_one_can_answer_once_the_round_is_complete():
    checkin = make_round((1, 2))
    checkin.pass_turn(FACILITATOR)
    checkin.pass_turn(FACILITATOR)
    assert error_code(checkin.answer, member(2), "One more thing") == "not_your_turn"


def test_a_member_who_passes_before_their_turn_is_skipped():
    checkin = make_round((1, 2, 3))
    checkin.pass_(member(2))
    assert checkin.speaker == 1
    checkin.pass_turn(FACILITATOR)
    assert checkin.speaker == 3
    assert checkin.passed == [2]


def test_the_speaker_passing_ends_their_turn():
    checkin = make_round((1, 2, 3))
    checkin.pass_(FACILITATOR)
    assert checkin.passed == [1]
    assert checkin.heard == []
    assert checkin.speaker == 2


def test_a_speaker_who_passes_withdraws_their_answer():
    checkin = make_round((1, 2, 3))
    checkin.answer(FACILITATOR, "Actually, never mind")
    checkin.pass_(FACILITATOR)
    assert checkin.answers == {}
    assert checkin.public_view()["answers"] == {}


def test_the_round_is_complete_when_the_last_member_passes():
    checkin = make_round((1, 2))
    checkin.pass_turn(FACILITATOR)
    checkin.pass_(member(2))
    assert checkin.speaker is None
    assert checkin.public_view()["waiting"] == []


def test_a_member_cannot_pass_twice_in_a_round():
    checkin = make_round((1, 2, 3))
    checkin.pass_(member(3))
    assert error_code(checkin.pass_, member(3)) == "already_passed"
    assert checkin.passed == [3]


def test_a_member_who_was_heard_cannot_pass_afterwards():
    checkin = make_round((1, 2, 3))
    checkin.answer(FACILITATOR, "Here")
    checkin.pass_turn(FACILITATOR)
    assert error_code(checkin.pass_, FACILITATOR) == "already_heard"
    assert checkin.answers == {1: "Here"}
    assert checkin.passed == []


def test_a_member_outside_the_round_cannot_pass():
    checkin = make_round((1, 2, 3))
    assert error_code(checkin.pass_, member(99)) == "not_in_round"
    assert checkin.passed == []


def test_the_public_view_shows_who_has_not_been_heard_yet():
    checkin = make_round((1, 2, 3, 4))
    checkin.pass_turn(FACILITATOR)
    checkin.pass_(member(4))
    view = checkin.public_view()
    assert view["speaker"] == 2
    assert view["heard"] == [1]
    assert view["passed"] == [4]
    assert view["waiting"] == [2, 3]
    assert view["order"] == [1, 2, 3, 4]


def test_a_late_joiner_is_added_to_the_end_of_the_order():
    checkin = make_round((1, 2))
    checkin.join(5)
    assert checkin.order == [1, 2, 5]
    assert checkin.speaker == 1
    checkin.pass_turn(FACILITATOR)
    checkin.pass_turn(FACILITATOR)
    assert checkin.speaker == 5


def test_a_late_joiner_speaks_at_once_when_the_round_was_complete():
    checkin = make_round((1, 2))
    checkin.pass_turn(FACILITATOR)
    checkin.pass_turn(FACILITATOR)
    checkin.join(5)
    assert checkin.speaker == 5
    checkin.answer(member(5), "Sorry I'm late")
    assert checkin.answers == {5: "Sorry I'm late"}


def test_a_late_joiner_speaks_at_once_when_nobody_was_present_at_the_start():
    checkin = make_checkin("round")
    checkin.begin([], random.Random(0))
    checkin.join(4)
    assert checkin.order == [4]
    assert checkin.speaker == 4


def test_a_member_who_rejoins_keeps_their_place():
    checkin = make_round((1, 2, 3))
    checkin.join(2)
    assert checkin.order == [1, 2, 3]


def test_joining_before_the_round_begins_changes_nothing():
    checkin = make_checkin("round")
    checkin.join(5)
    assert checkin.order == []
    assert checkin.speaker is None


def test_joining_a_simultaneous_check_in_changes_nothing():
    checkin = make_simultaneous()
    checkin.join(5)
    assert checkin.order == []
    assert checkin.speaker is None


def test_reveal_in_round_mode_without_scales_is_refused():
    checkin = make_round()
    assert checkin.tally.scales == []
    assert error_code(checkin.reveal, FACILITATOR) == "not_simultaneous_mode"
    assert checkin.revealed is False


def test_reveal_in_round_mode_with_scales_publishes_the_scale_results():
    checkin = make_checkin("round", scales=("energy",))
    checkin.begin([1, 2, 3, 4], KeepOrder())
    checkin.answer(FACILITATOR, "Ready")
    for member_id, value in ((2, 1), (3, 3), (4, 5)):
        checkin.rate(member(member_id), {"energy": value})
    checkin.reveal(FACILITATOR)
    view = checkin.public_view()
    assert view["revealed"] is True
    assert view["answers"] == {"1": "Ready"}
    assert view["scale_results"] == {
        "ready": True,
        "revealed": True,
        "count": 3,
        "scales": {"energy": {"distribution": [1, 0, 1, 0, 1], "count": 3, "average": 3.0}},
    }


def test_only_the_facilitator_can_reveal_the_scales_of_a_round():
    checkin = make_checkin("round", scales=("energy",))
    checkin.begin([1, 2, 3], KeepOrder())
    assert error_code(checkin.reveal, member(2)) == "not_facilitator"
    assert checkin.revealed is False


def test_the_scales_of_a_round_cannot_be_revealed_twice():
    checkin = make_checkin("round", scales=("energy",))
    checkin.begin([1, 2, 3], KeepOrder())
    checkin.reveal(FACILITATOR)
    assert error_code(checkin.reveal, FACILITATOR) == "already_revealed"
    assert checkin.revealed is True


def test_an_empty_answer_is_refused():
    checkin = make_round()
    assert error_code(checkin.answer, FACILITATOR, " \t\n ") == "empty_text"
    assert checkin.answers == {}


def test_an_answer_over_the_limit_is_refused():
    checkin = make_round()
    with pytest.raises(RitualError) as caught:
        checkin.answer(FACILITATOR, "x" * (ANSWER_LIMIT + 1))
    assert caught.value.code == "too_long"
    assert caught.value.params == {"limit": ANSWER_LIMIT}
    assert checkin.answers == {}


def test_an_answer_of_exactly_the_limit_is_accepted():
    checkin = make_round()
    checkin.answer(FACILITATOR, "x" * ANSWER_LIMIT)
    assert len(checkin.answers[1]) == ANSWER_LIMIT


@pytest.mark.parametrize("text", [None, 42, ["Fine"], {"text": "Fine"}, b"Fine"])
def test_an_answer_that_is_not_text_is_refused(text):
    checkin = make_round()
    assert error_code(checkin.answer, FACILITATOR, text) == "invalid_value"
    assert checkin.answers == {}


# -- simultaneous mode --------------------------------------------------------------


def test_everyone_may_answer_at_once_in_simultaneous_mode():
    checkin = make_simultaneous()
    checkin.answer(member(3), "Calm")
    checkin.answer(member(2), "Stormy")
    assert checkin.answers == {3: "Calm", 2: "Stormy"}


def test_simultaneous_answers_are_hidden_until_the_reveal():
    checkin = make_simultaneous()
    checkin.answer(member(2), "Secretly exhausted")
    checkin.answer(member(3), "Quietly thrilled")
    view = checkin.public_view()
    assert view["answers"] == {}
    assert view["answered"] == [2, 3]
    assert view["revealed"] is False
    wire = as_json(view)
    assert "exhausted" not in wire
    assert "thrilled" not in wire


def test_the_reveal_shows_every_simultaneous_answer():
    checkin = make_simultaneous()
    checkin.answer(member(2), "Secretly exhausted")
    checkin.answer(member(3), "Quietly thrilled")
    checkin.reveal(FACILITATOR)
    view = checkin.public_view()
    assert view["revealed"] is True
    assert view["answers"] == {"2": "Secretly exhausted", "3": "Quietly thrilled"}


def test_an_answer_given_after_the_reveal_is_public_at_once():
    checkin = make_simultaneous()
    checkin.reveal(FACILITATOR)
    checkin.answer(member(4), "Late but here")
    assert checkin.public_view()["answers"] == {"4": "Late but here"}


def test_only_the_facilitator_can_reveal():
    checkin = make_simultaneous()
    checkin.answer(member(2), "Hidden")
    assert error_code(checkin.reveal, member(2)) == "not_facilitator"
    assert checkin.revealed is False
    assert checkin.public_view()["answers"] == {}


def test_a_second_reveal_is_refused():
    checkin = make_simultaneous()
    checkin.reveal(FACILITATOR)
    assert error_code(checkin.reveal, FACILITATOR) == "already_revealed"
    assert checkin.revealed is True


def test_pass_turn_in_simultaneous_mode_is_refused():
    checkin = make_simultaneous()
    assert error_code(checkin.pass_turn, FACILITATOR) == "not_round_mode"
    assert checkin.heard == []


def test_passing_withdraws_a_simultaneous_answer():
    checkin = make_simultaneous()
    checkin.answer(member(2), "Something I regret writing")
    checkin.pass_(member(2))
    assert checkin.answers == {}
    assert checkin.passed == [2]
    assert checkin.public_view()["answered"] == []


def test_answering_after_passing_takes_the_pass_back():
    checkin = make_simultaneous()
    checkin.pass_(member(2))
    checkin.answer(member(2), "Changed my mind")
    assert checkin.passed == []
    assert checkin.answers == {2: "Changed my mind"}


def test_anyone_may_pass_in_simultaneous_mode_even_without_being_present_at_the_start():
    checkin = make_simultaneous(members=(1, 2))
    checkin.pass_(member(9))
    assert checkin.passed == [9]


def test_a_member_cannot_pass_twice_in_simultaneous_mode():
    checkin = make_simultaneous()
    checkin.pass_(member(2))
    assert error_code(checkin.pass_, member(2)) == "already_passed"
    assert checkin.passed == [2]


def test_a_member_sees_only_their_own_hidden_answer():
    checkin = make_simultaneous()
    checkin.answer(member(2), "Mine")
    checkin.answer(member(3), "Theirs")
    assert checkin.private_view(2) == {"answer": "Mine", "passed": False, "rated": False}
    assert checkin.private_view(4) == {"answer": None, "passed": False, "rated": False}


def test_the_private_view_says_whether_the_member_passed():
    checkin = make_simultaneous()
    checkin.pass_(member(2))
    assert checkin.private_view(2)["passed"] is True


# -- scales ---------------------------------------------------------------------------


def test_rating_a_check_in_without_scales_is_refused():
    checkin = make_simultaneous()
    assert error_code(checkin.rate, member(2), {"energy": 3}) == "no_scales"
    assert checkin.tally.responders == []


def test_scale_results_stay_hidden_until_three_members_rated():
    checkin = make_simultaneous(scales=("energy",))
    checkin.rate(member(2), {"energy": 2})
    checkin.rate(member(3), {"energy": 4})
    assert checkin.public_view()["scale_results"] == {
        "ready": False,
        "revealed": False,
        "enough": False,
        "needed": 3,
    }


def test_scale_results_stay_hidden_before_the_reveal_even_when_three_members_rated():
    checkin = make_simultaneous(scales=("energy",))
    for member_id, value in ((2, 1), (3, 2), (4, 5)):
        checkin.rate(member(member_id), {"energy": value})
    view = checkin.public_view()
    assert view["scale_results"] == {
        "ready": False,
        "revealed": False,
        "enough": True,
        "needed": 3,
    }
    assert "distribution" not in as_json(view)
    assert "average" not in as_json(view)


def test_scale_results_stay_hidden_after_the_reveal_when_fewer_than_three_rated():
    checkin = make_simultaneous(scales=("energy",))
    checkin.rate(member(2), {"energy": 2})
    checkin.rate(member(3), {"energy": 4})
    checkin.reveal(FACILITATOR)
    assert checkin.public_view()["scale_results"] == {
        "ready": False,
        "revealed": True,
        "enough": False,
        "needed": 3,
    }


def test_scale_results_are_only_a_team_aggregate():
    checkin = make_simultaneous(members=(1, 201, 202, 203), scales=("energy", "relatedness"))
    checkin.rate(member(201), {"energy": 2, "relatedness": 5})
    checkin.rate(member(202), {"energy": 4, "relatedness": 5})
    checkin.rate(member(203), {"energy": 4, "relatedness": 4})
    checkin.reveal(FACILITATOR)
    view = checkin.public_view()
    assert view["scales"] == ["energy", "relatedness"]
    assert view["scale_results"] == {
        "ready": True,
        "revealed": True,
        "count": 3,
        "scales": {
            "energy": {"distribution": [0, 1, 0, 2, 0], "count": 3, "average": 3.33},
            "relatedness": {"distribution": [0, 0, 0, 1, 2], "count": 3, "average": 4.67},
        },
    }
    for member_id in ("201", "202", "203"):
        assert member_id not in as_json(view)


def test_a_member_may_rate_a_round_mode_check_in_out_of_turn():
    checkin = make_checkin("round", scales=("energy",))
    checkin.begin([1, 2, 3], KeepOrder())
    checkin.rate(member(3), {"energy": 5})
    assert checkin.tally.responders == [3]


def test_a_member_cannot_rate_twice():
    checkin = make_simultaneous(scales=("energy",))
    checkin.rate(member(2), {"energy": 2})
    assert error_code(checkin.rate, member(2), {"energy": 5}) == "already_rated"
    assert checkin.tally.counts["energy"] == [0, 1, 0, 0, 0]


def test_a_scale_the_check_in_did_not_ask_for_is_refused():
    checkin = make_simultaneous(scales=("energy",))
    assert error_code(checkin.rate, member(2), {"autonomy": 3}) == "unknown_scale"
    assert checkin.tally.responders == []


def test_a_rating_that_leaves_out_a_scale_of_the_check_in_is_refused():
    checkin = make_simultaneous(scales=("energy", "autonomy"))
    assert error_code(checkin.rate, member(2), {"energy": 3}) == "incomplete_scales"
    assert checkin.tally.responders == []
    assert checkin.tally.counts["energy"] == [0, 0, 0, 0, 0]


@pytest.mark.parametrize("mode", ["round", "simultaneous"])
def test_the_scales_close_at_the_reveal(mode):
    checkin = make_checkin(mode, scales=("energy",))
    checkin.begin([1, 2, 3], KeepOrder())
    checkin.rate(member(2), {"energy": 4})
    checkin.reveal(FACILITATOR)
    before = checkin.to_state()
    assert error_code(checkin.rate, member(3), {"energy": 1}) == "scales_closed"
    assert checkin.to_state() == before
    assert checkin.private_view(3)["rated"] is False


def test_the_private_view_says_whether_the_member_rated_but_not_how():
    checkin = make_simultaneous(scales=("energy",))
    checkin.rate(member(2), {"energy": 1})
    assert checkin.private_view(2) == {"answer": None, "passed": False, "rated": True}


# -- persistence ----------------------------------------------------------------------


def test_a_round_survives_a_trip_through_json():
    checkin = make_checkin("round", scales=("energy", "autonomy"))
    checkin.begin([1, 2, 3, 4], random.Random(11))
    checkin.answer(member(checkin.speaker), "Okay")
    checkin.pass_turn(FACILITATOR)
    checkin.pass_(member(checkin.order[-1]))
    checkin.rate(member(2), {"energy": 3, "autonomy": 4})
    restored = CheckInRound.from_state(json.loads(json.dumps(checkin.to_state())))
    assert restored == checkin
    assert restored.public_view() == checkin.public_view()


def test_a_revealed_simultaneous_check_in_survives_a_trip_through_json():
    checkin = make_simultaneous()
    checkin.answer(member(2), "Here")
    checkin.reveal(FACILITATOR)
    restored = CheckInRound.from_state(json.loads(json.dumps(checkin.to_state())))
    assert restored == checkin
    assert restored.answers == {2: "Here"}
    assert restored.revealed is True


def test_a_check_in_built_from_an_empty_state_is_a_fresh_round():
    restored = CheckInRound.from_state({})
    assert restored.mode == "round"
    assert restored.started is False
    assert restored.tally.scales == []


def test_to_state_is_a_snapshot_that_later_moves_do_not_change():
    checkin = make_round((1, 2, 3))
    state = checkin.to_state()
    frozen = json.dumps(state, sort_keys=True)
    checkin.pass_(member(3))
    checkin.pass_turn(FACILITATOR)
    checkin.join(4)
    assert json.dumps(state, sort_keys=True) == frozen
