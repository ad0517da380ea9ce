"""The deeds review and the agreements check that open a team's next room."""

from __future__ import annotations

import inspect
import json
import random

import pytest

from retro.rituals import RitualError
from retro.rituals.agreements import FLAG_REASONS
from retro.rituals.base import MIN_AGGREGATE
from retro.rituals.review import (
    DECISIONS,
    REASON_LIMIT,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    AgreementsCheck,
    DeedsReview,
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

ANN, BOB, CAT, DAN = 5101, 5202, 5303, 5404

DEEDS = [
    {
        "id": 11,
        "text": "Write the onboarding page.",
        "owner": "Ann",
        "due": "2027-02-01",
        "room": "Retro of 12 January",
        "room_date": "2027-01-12",
        "carried": 0,
        "agreement_text": "We document as we go.",
    },
    {
        "id": 12,
        "text": "Try mob programming.",
        "owner": None,
        "due": None,
        "room": "",
        "room_date": "2027-01-05",
        "carried": 2,
        "agreement_text": None,
    },
]


def make_review(deeds=DEEDS) -> DeedsReview:
    """Return a started deeds review with the DEEDS loaded."""
    review = DeedsReview.create()
    review.begin([FACILITATOR_ID, ANN, BOB], random.Random(0))
    review.load_deeds(deeds)
    return review


def deed(review: DeedsReview, deed_id: int) -> dict:
    """Return one deed from the public view."""
    return next(d for d in review.public_view()["deeds"] if d["id"] == deed_id)


# -- deeds review: the protocol -------------------------------------------------------------------


def test_deciding_takes_the_actor_and_the_payload_fields():
    parameters = list(inspect.signature(DeedsReview.decide_deed).parameters)
    assert parameters == ["self", "actor", "deed", "decision", "reason"]


def test_the_decisions_are_done_carry_drop_and_open():
    assert DECISIONS == ("done", "carry", "drop", "open")
    assert REASON_LIMIT == 280


def test_a_new_review_is_not_started_and_lists_no_deeds():
    review = DeedsReview.create()
    assert review.kind == "deeds_review"
    assert review.public_view() == {
        "kind": "deeds_review",
        "started": False,
        "deeds": [],
        "decided": 0,
        "today": None,
    }
    assert review.private_view(ANN) == {}


@pytest.mark.parametrize(
    ("given", "kept"),
    [("2027-03-01", "2027-03-01"), ("2027-3-1", None), ("yesterday", None), (20270301, None)],
)
def test_the_teams_date_is_kept_when_the_deeds_load(given, kept):
    review = DeedsReview.create()
    review.begin([ANN], random.Random(0))
    review.load_deeds(DEEDS, today=given)
    review.load_deeds(DEEDS, today="2030-01-01")  # later loads change nothing
    assert review.public_view()["today"] == kept
    assert DeedsReview.from_state(review.to_state()).public_view()["today"] == kept


def test_no_decision_is_taken_before_the_step_starts():
    review = DeedsReview.create()
    review.load_deeds(DEEDS)
    assert refused(review.decide_deed, member(ANN), 11, "done", "") == "step_not_started"


def test_the_loaded_deeds_are_listed_undecided():
    view = make_review().public_view()
    assert view["started"] is True
    assert view["decided"] == 0
    assert view["deeds"] == [{**d, "decision": None, "reason": "", "by": None} for d in DEEDS]


def test_the_deeds_are_loaded_only_once():
    review = make_review()
    review.load_deeds([{"id": 99, "text": "Another", "room": "Later"}])
    assert [d["id"] for d in review.public_view()["deeds"]] == [11, 12]


def test_loading_nothing_still_counts_as_loaded():
    review = DeedsReview.create()
    review.load_deeds(None)
    assert review.loaded is True
    assert review.deeds == []
    review.load_deeds(DEEDS)
    assert review.deeds == []


def test_missing_optional_fields_get_their_defaults():
    review = make_review([{"id": 3, "text": "Tidy the board."}])
    assert review.public_view()["deeds"] == [
        {
            "id": 3,
            "text": "Tidy the board.",
            "owner": None,
            "due": None,
            "room": "",
            "carried": 0,
            "agreement_text": None,
            "room_date": None,
            "decision": None,
            "reason": "",
            "by": None,
        }
    ]


@pytest.mark.parametrize(
    "item",
    [
        "junk",
        None,
        {},
        {"text": "No id"},
        {"id": "11", "text": "String id"},
        {"id": True, "text": "Boolean id"},
        {"id": 1.0, "text": "Float id"},
        {"id": 5},
        {"id": 5, "text": None},
        {"id": 5, "text": "x", "owner": 7},
        {"id": 5, "text": "x", "due": 20270101},
        {"id": 5, "text": "x", "agreement_text": ["a"]},
        {"id": 5, "text": "x", "room": None},
        {"id": 5, "text": "x", "carried": "1"},
        {"id": 5, "text": "x", "carried": -1},
        {"id": 5, "text": "x", "carried": True},
    ],
    ids=repr,
)
def test_malformed_deeds_are_skipped(item):
    review = make_review([item, {"id": 1, "text": "Fine."}])
    assert [d["id"] for d in review.deeds] == [1]


def test_a_repeated_deed_id_is_kept_once():
    review = make_review([{"id": 1, "text": "First"}, {"id": 1, "text": "Second"}])
    assert [d["text"] for d in review.deeds] == ["First"]


# -- deeds review: deciding -----------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["done", "carry"])
def test_a_member_marks_a_deed_done_or_carried_over(decision):
    review = make_review()
    review.decide_deed(member(ANN), 11, decision, "")
    assert deed(review, 11) == {**DEEDS[0], "decision": decision, "reason": "", "by": ANN}
    assert review.public_view()["decided"] == 1
    assert review.decisions() == {11: (decision, "")}


def test_dropping_a_deed_keeps_the_reason_stripped():
    review = make_review()
    review.decide_deed(member(BOB), 12, "drop", "  Nobody needs it any more.\n")
    assert deed(review, 12)["decision"] == "drop"
    assert deed(review, 12)["reason"] == "Nobody needs it any more."
    assert deed(review, 12)["by"] == BOB
    assert review.decisions() == {12: ("drop", "Nobody needs it any more.")}


def test_a_drop_reason_may_take_several_lines_up_to_the_limit():
    review = make_review()
    reason = "Done elsewhere.\n" + "x" * (REASON_LIMIT - len("Done elsewhere.\n"))
    review.decide_deed(member(ANN), 11, "drop", reason)
    assert deed(review, 11)["reason"] == reason


def test_a_drop_reason_loses_its_invisible_characters():
    review = make_review()
    review.decide_deed(member(ANN), 11, "drop", "\u202eOut of\u200b scope")
    assert deed(review, 11)["reason"] == "Out of scope"


@pytest.mark.parametrize("reason", ["", "   ", "\n\t", "\u200b", "\u202e \u2069"], ids=repr)
def test_dropping_needs_a_reason(reason):
    assert refused(make_review().decide_deed, member(ANN), 11, "drop", reason) == (
        "drop_reason_required"
    )


def test_a_drop_reason_over_the_limit_is_refused():
    review = make_review()
    with pytest.raises(RitualError) as caught:
        review.decide_deed(member(ANN), 11, "drop", "x" * (REASON_LIMIT + 1))
    assert caught.value.code == "too_long"
    assert caught.value.params == {"limit": REASON_LIMIT}
    assert deed(review, 11)["decision"] is None


@pytest.mark.parametrize("reason", [None, 7, ["Because"]], ids=repr)
def test_a_drop_reason_that_is_not_text_is_refused(reason):
    assert refused(make_review().decide_deed, member(ANN), 11, "drop", reason) == "invalid_value"


@pytest.mark.parametrize("decision", ["done", "carry", "open"])
@pytest.mark.parametrize("reason", ["Because", " ", None])
def test_only_a_drop_takes_a_reason(decision, reason):
    review = make_review()
    with pytest.raises(RitualError) as caught:
        review.decide_deed(member(ANN), 11, decision, reason)
    assert caught.value.code == "invalid_field"
    assert caught.value.params == {"field": "reason"}
    assert review.deeds[0]["decision"] is None


@pytest.mark.parametrize("deed_id", [99, "11", 11.0, True, None, [11]], ids=repr)
def test_an_unknown_deed_is_refused(deed_id):
    assert refused(make_review().decide_deed, member(ANN), deed_id, "done", "") == "unknown_deed"


def test_no_deed_is_known_before_the_deeds_are_loaded():
    review = DeedsReview.create()
    review.begin([ANN], random.Random(0))
    assert refused(review.decide_deed, member(ANN), 11, "done", "") == "unknown_deed"


@pytest.mark.parametrize("decision", ["finished", "DONE", "", None, 1, ["done"]], ids=repr)
def test_an_unknown_decision_is_refused(decision):
    assert refused(make_review().decide_deed, member(ANN), 11, decision, "") == "invalid_value"


def test_open_takes_a_decision_back():
    review = make_review()
    review.decide_deed(member(ANN), 11, "drop", "Obsolete")
    review.decide_deed(member(BOB), 11, "open", "")
    assert deed(review, 11) == {**DEEDS[0], "decision": None, "reason": "", "by": None}
    assert review.public_view()["decided"] == 0
    assert review.decisions() == {}


def test_opening_an_undecided_deed_changes_nothing():
    review = make_review()
    before = review.to_state()
    review.decide_deed(member(ANN), 12, "open", "")
    assert review.to_state() == before


def test_a_later_decision_replaces_an_earlier_one_and_names_its_author():
    review = make_review()
    review.decide_deed(member(ANN), 11, "drop", "Obsolete")
    review.decide_deed(FACILITATOR, 11, "carry", "")
    assert (deed(review, 11)["decision"], deed(review, 11)["reason"]) == ("carry", "")
    assert deed(review, 11)["by"] == FACILITATOR_ID
    review.decide_deed(member(BOB), 12, "done", "")
    assert review.decisions() == {11: ("carry", ""), 12: ("done", "")}
    assert review.public_view()["decided"] == 2


def test_a_second_begin_a_late_join_and_leaving_a_review_change_nothing():
    review = make_review()
    review.decide_deed(member(ANN), 11, "done", "")
    before = review.to_state()
    review.begin([9], random.Random(1))
    review.join(9)
    review.suspend()
    assert review.to_state() == before


# -- deeds review: persistence --------------------------------------------------------------------


def test_a_review_survives_a_trip_through_json_at_every_stage():
    review = round_trip(DeedsReview.create())
    review.begin([ANN], random.Random(0))
    review = round_trip(review)
    review.load_deeds(DEEDS)
    review = round_trip(review)
    review.decide_deed(member(ANN), 11, "drop", "Obsolete")
    review.decide_deed(member(BOB), 12, "carry", "")
    restored = round_trip(review)
    assert restored.public_view() == review.public_view()
    assert restored.decisions() == {11: ("drop", "Obsolete"), 12: ("carry", "")}
    # Loaded once, also after the trip.
    restored.load_deeds([{"id": 1, "text": "New"}])
    assert [d["id"] for d in restored.deeds] == [11, 12]


def test_an_empty_state_is_a_new_review():
    assert DeedsReview.from_state({}) == DeedsReview()


def test_a_review_state_is_a_snapshot_that_later_moves_do_not_change():
    review = make_review()
    state = review.to_state()
    frozen = json.dumps(state, sort_keys=True)
    review.decide_deed(member(ANN), 11, "drop", "Obsolete")
    assert json.dumps(state, sort_keys=True) == frozen


def test_the_public_view_is_a_copy():
    review = make_review()
    review.public_view()["deeds"][0]["decision"] = "done"
    assert review.decisions() == {}


# -- agreements check: settings and lifecycle -----------------------------------------------------

CHARTER = [
    {"id": "a1", "text": "We start on time.", "review_date": None},
    {"id": "a2", "text": "We answer within a day.", "review_date": "2027-01-01"},
    {"id": "a3", "text": "We demo on Fridays.", "review_date": "2027-01-02"},
]
TODAY = "2027-01-01"


def make_check(threshold: int = 3, agreements=CHARTER, today: str = TODAY) -> AgreementsCheck:
    """Return a started agreements check on the agreements of CHARTER."""
    check = AgreementsCheck.create(threshold=threshold)
    check.begin([FACILITATOR_ID, ANN, BOB, CAT], random.Random(0))
    check.load_charter("We ship software.", agreements, today)
    return check


def pulses(check: AgreementsCheck, *answers: tuple[int, int, int]) -> None:
    """Let ANN, BOB, CAT, DAN (in turn) rate a1, a2, a3."""
    for who, values in zip((ANN, BOB, CAT, DAN), answers, strict=False):
        check.pulse(member(who), dict(zip(("a1", "a2", "a3"), values, strict=True)))


def agreement_flags(check: AgreementsCheck) -> dict[str, list[str]]:
    """Return agreement id -> flags from the public view."""
    return {a["id"]: a["flags"] for a in check.public_view()["agreements"]}


def test_the_check_commands_take_the_actor_and_the_payload_fields():
    assert list(inspect.signature(AgreementsCheck.pulse).parameters) == ["self", "actor", "values"]
    assert list(inspect.signature(AgreementsCheck.reveal).parameters) == ["self", "actor"]


def test_a_new_check_has_threshold_three_and_is_not_started():
    check = AgreementsCheck.create()
    assert check.kind == "agreements_check"
    assert check.threshold == 3
    assert (THRESHOLD_MIN, THRESHOLD_MAX) == (1, 5)
    view = check.public_view()
    assert view["started"] is False
    assert view["agreements"] == []


@pytest.mark.parametrize("threshold", [THRESHOLD_MIN, 4, THRESHOLD_MAX])
def test_a_threshold_from_one_to_five_is_accepted(threshold):
    assert AgreementsCheck.create(threshold=threshold).public_view()["threshold"] == threshold


@pytest.mark.parametrize("threshold", [0, 6, -3, True, False, 3.0, "3", None], ids=repr)
def test_a_bad_threshold_is_refused(threshold):
    with pytest.raises(RitualError) as caught:
        AgreementsCheck.create(threshold=threshold)
    assert caught.value.code == "invalid_field"
    assert caught.value.params == {"field": "threshold"}


@pytest.mark.parametrize(
    ("command", "args"),
    [("pulse", (member(ANN), {"a1": 3, "a2": 3, "a3": 3})), ("reveal", (FACILITATOR,))],
)
def test_no_command_is_accepted_before_the_check_starts(command, args):
    check = AgreementsCheck.create()
    check.load_charter("", CHARTER, TODAY)
    assert refused(getattr(check, command), *args) == "step_not_started"


def test_the_charters_agreements_are_listed_as_they_were_when_the_step_opened():
    check = make_check()
    check.load_charter(
        "Newer", [{"id": "a9", "text": "We changed.", "review_date": None}], "2030-01-01"
    )
    view = check.public_view()
    assert view == {
        "kind": "agreements_check",
        "started": True,
        "threshold": 3,
        "agreements": [
            {"id": "a1", "text": "We start on time.", "review_date": None, "flags": []},
            {
                "id": "a2",
                "text": "We answer within a day.",
                "review_date": "2027-01-01",
                "flags": ["review_due"],
            },
            {
                "id": "a3",
                "text": "We demo on Fridays.",
                "review_date": "2027-01-02",
                "flags": [],
            },
        ],
        "answered": 0,
        "revealed": False,
        "results": {"ready": False, "revealed": False, "enough": False, "needed": MIN_AGGREGATE},
    }
    assert check.today == TODAY


def test_malformed_agreements_are_skipped_and_malformed_review_dates_are_none():
    check = make_check(
        agreements=[
            {"id": "a1", "text": "Ok", "review_date": "2026-13-01"},
            {"id": "a1", "text": "Repeated"},
            {"id": 2, "text": "x"},
            {"id": "a3"},
            "junk",
            {"id": "a4", "text": "Fine", "review_date": 20260101},
            {"id": "a5", "text": "Dated", "review_date": "2026-12-31"},
        ]
    )
    assert check.agreements == [
        {"id": "a1", "text": "Ok", "review_date": None},
        {"id": "a4", "text": "Fine", "review_date": None},
        {"id": "a5", "text": "Dated", "review_date": "2026-12-31"},
    ]
    assert check.tally.scales == ["a1", "a4", "a5"]


@pytest.mark.parametrize("today", [None, "", "tomorrow", "2027-1-1", 20270101], ids=repr)
def test_without_a_valid_today_nothing_is_due_for_review(today):
    check = make_check(today=today)
    assert check.today is None
    assert check.flags() == {}


def test_a_second_begin_a_late_join_and_leaving_a_check_change_nothing():
    check = make_check()
    pulses(check, (3, 4, 5))
    before = check.to_state()
    check.begin([9], random.Random(1))
    check.join(9)
    check.suspend()
    assert check.to_state() == before


# -- agreements check: the pulse ------------------------------------------------------------------


def test_a_member_rates_every_agreement_at_once_and_only_counts_are_kept():
    check = make_check()
    pulses(check, (2, 4, 5))
    assert check.tally.counts == {
        "a1": [0, 1, 0, 0, 0],
        "a2": [0, 0, 0, 1, 0],
        "a3": [0, 0, 0, 0, 1],
    }
    assert check.tally.responders == [ANN]
    assert check.public_view()["answered"] == 1
    assert check.private_view(ANN) == {"rated": True}
    assert check.private_view(BOB) == {"rated": False}


def test_a_member_rates_only_once():
    check = make_check()
    pulses(check, (2, 4, 5))
    assert refused(check.pulse, member(ANN), {"a1": 5, "a2": 5, "a3": 5}) == "already_rated"


def test_every_agreement_must_be_rated():
    check = make_check()
    assert refused(check.pulse, member(ANN), {"a1": 5, "a2": 5}) == "incomplete_scales"


def test_an_unknown_agreement_is_refused():
    check = make_check()
    values = {"a1": 5, "a2": 5, "a3": 5, "a9": 5}
    assert refused(check.pulse, member(ANN), values) == "unknown_scale"


@pytest.mark.parametrize("value", [0, 6, -1, True, False, 4.0, "4", None], ids=repr)
def test_a_value_outside_one_to_five_is_refused(value):
    check = make_check()
    assert refused(check.pulse, member(ANN), {"a1": value, "a2": 3, "a3": 3}) == "invalid_value"


@pytest.mark.parametrize("values", [{}, None, [3, 3, 3], "a1=3"], ids=repr)
def test_values_that_are_not_a_mapping_of_answers_are_refused(values):
    assert refused(make_check().pulse, member(ANN), values) == "invalid_value"


@pytest.mark.parametrize("agreements", [[], None, ["junk"]], ids=repr)
def test_a_check_without_agreements_takes_no_pulse(agreements):
    check = make_check(agreements=agreements)
    assert refused(check.pulse, member(ANN), {}) == "no_agreements"
    assert refused(check.pulse, member(ANN), {"a1": 3}) == "no_agreements"


def test_a_check_whose_charter_is_not_loaded_takes_no_pulse():
    check = AgreementsCheck.create()
    check.begin([ANN], random.Random(0))
    assert refused(check.pulse, member(ANN), {"a1": 3}) == "no_agreements"


def test_the_pulse_closes_at_the_reveal():
    check = make_check()
    pulses(check, (2, 4, 5))
    check.reveal(FACILITATOR)
    assert refused(check.pulse, member(BOB), {"a1": 5, "a2": 5, "a3": 5}) == "scales_closed"
    assert check.private_view(BOB) == {"rated": False}


def test_only_the_facilitator_reveals():
    check = make_check()
    assert refused(check.reveal, member(ANN)) == "not_facilitator"
    assert check.public_view()["revealed"] is False


def test_the_results_are_revealed_only_once():
    check = make_check()
    check.reveal(FACILITATOR)
    assert refused(check.reveal, FACILITATOR) == "already_revealed"


# -- agreements check: privacy --------------------------------------------------------------------


def test_results_stay_hidden_before_the_reveal_even_with_enough_answers():
    check = make_check()
    pulses(check, (1, 2, 3), (5, 4, 3), (2, 2, 2))
    view = check.public_view()
    assert view["answered"] == 3
    assert view["results"] == {"ready": False, "revealed": False, "enough": True, "needed": 3}
    assert "distribution" not in as_json(view)
    assert all(a["flags"] in ([], ["review_due"]) for a in view["agreements"])


def test_results_stay_hidden_below_three_answers_after_the_reveal():
    check = make_check()
    pulses(check, (1, 1, 1), (1, 1, 1))
    check.reveal(FACILITATOR)
    view = check.public_view()
    assert view["results"] == {"ready": False, "revealed": True, "enough": False, "needed": 3}
    assert "low" not in as_json(view)
    assert check.flags() == {"a2": ["review_due"]}


def test_revealed_results_are_team_aggregates_per_agreement():
    check = make_check()
    pulses(check, (1, 4, 5), (2, 4, 5), (3, 5, 5), (4, 5, 5))
    check.reveal(FACILITATOR)
    results = check.public_view()["results"]
    assert results["ready"] is True
    assert results["count"] == 4
    assert results["scales"] == {
        "a1": {"distribution": [1, 1, 1, 1, 0], "count": 4, "average": 2.5},
        "a2": {"distribution": [0, 0, 0, 2, 2], "count": 4, "average": 4.5},
        "a3": {"distribution": [0, 0, 0, 0, 4], "count": 4, "average": 5.0},
    }


def test_no_public_view_says_who_gave_which_pulse():
    check = make_check()
    for stage in ("before", "answered", "revealed"):
        if stage == "answered":
            pulses(check, (1, 4, 5), (2, 4, 5), (3, 5, 5))
        if stage == "revealed":
            check.reveal(FACILITATOR)
        wire = as_json(check.public_view())
        for who in (ANN, BOB, CAT):
            assert str(who) not in wire
        for node in walk(check.public_view()):
            assert not (isinstance(node, dict) and "responders" in node)


def test_the_stored_state_keeps_who_answered_but_not_who_gave_what():
    check = make_check()
    pulses(check, (1, 4, 5), (2, 4, 5), (3, 5, 5))
    state = check.to_state()
    assert state["tally"]["responders"] == [ANN, BOB, CAT]
    # Only histograms: no list or mapping ties a member id to a value.
    assert set(state["tally"]) == {"scales", "responders", "counts"}
    assert state["tally"]["counts"]["a1"] == [1, 1, 1, 0, 0]


# -- agreements check: flags ----------------------------------------------------------------------


def test_review_due_is_flagged_on_and_before_today_but_not_after():
    check = make_check(
        agreements=[
            {"id": "past", "text": "A", "review_date": "2026-12-31"},
            {"id": "today", "text": "B", "review_date": TODAY},
            {"id": "future", "text": "C", "review_date": "2027-01-02"},
            {"id": "none", "text": "D", "review_date": None},
        ]
    )
    assert check.flags() == {"past": ["review_due"], "today": ["review_due"]}
    assert agreement_flags(check) == {
        "past": ["review_due"],
        "today": ["review_due"],
        "future": [],
        "none": [],
    }


def test_an_average_below_the_threshold_is_low_and_one_equal_to_it_is_not():
    check = make_check(threshold=3)
    # a1 averages 8/3 (below 3), a2 exactly 3, a3 10/3.
    pulses(check, (2, 3, 4), (3, 3, 3), (3, 3, 3))
    check.reveal(FACILITATOR)
    assert check.flags() == {"a1": ["low"], "a2": ["review_due"]}


@pytest.mark.parametrize(
    ("threshold", "flagged"),
    [(1, set()), (2, set()), (3, {"a1"}), (4, {"a1", "a2"}), (5, {"a1", "a2", "a3"})],
)
def test_the_threshold_decides_what_is_low(threshold, flagged):
    check = make_check(threshold=threshold, today="2000-01-01")
    # Averages: a1 2.0, a2 3.0, a3 4.0 (a minimum of 1 never makes anything low).
    pulses(check, (2, 3, 4), (2, 3, 4), (2, 3, 4))
    check.reveal(FACILITATOR)
    assert set(check.flags()) == flagged


def test_low_needs_the_reveal_and_three_answers():
    check = make_check(today="2000-01-01")
    pulses(check, (1, 1, 1), (1, 1, 1))
    assert check.flags() == {}
    check.pulse(member(CAT), {"a1": 1, "a2": 1, "a3": 1})
    assert check.flags() == {}
    check.reveal(FACILITATOR)
    assert check.flags() == {"a1": ["low"], "a2": ["low"], "a3": ["low"]}


def test_low_comes_before_review_due_and_both_are_known_reasons():
    check = make_check()
    pulses(check, (1, 1, 5), (1, 1, 5), (1, 1, 5))
    check.reveal(FACILITATOR)
    assert check.flags() == {"a1": ["low"], "a2": ["low", "review_due"]}
    assert agreement_flags(check)["a2"] == ["low", "review_due"]
    assert all(set(reasons) <= set(FLAG_REASONS) for reasons in check.flags().values())


def test_flags_survive_a_trip_through_json():
    check = make_check()
    pulses(check, (1, 1, 5), (1, 1, 5), (1, 1, 5))
    check.reveal(FACILITATOR)
    assert round_trip(check).flags() == check.flags()


# -- agreements check: persistence ----------------------------------------------------------------


def test_a_check_survives_a_trip_through_json_at_every_stage():
    check = round_trip(AgreementsCheck.create(threshold=4))
    check.begin([ANN], random.Random(0))
    check.load_charter("", CHARTER, TODAY)
    check = round_trip(check)
    pulses(check, (1, 2, 3), (3, 4, 5))
    check = round_trip(check)
    assert refused(check.pulse, member(ANN), {"a1": 1, "a2": 1, "a3": 1}) == "already_rated"
    check.pulse(member(CAT), {"a1": 5, "a2": 5, "a3": 5})
    check.reveal(FACILITATOR)
    restored = round_trip(check)
    assert restored.public_view() == check.public_view()
    assert restored.private_view(CAT) == {"rated": True}
    # Loaded once, also after the trip.
    restored.load_charter("", [{"id": "a9", "text": "New"}], "2030-01-01")
    assert restored.to_state() == check.to_state()


def test_an_empty_state_is_a_new_check():
    assert AgreementsCheck.from_state({}) == AgreementsCheck()


def test_a_check_state_is_a_snapshot_that_later_moves_do_not_change():
    check = make_check()
    state = check.to_state()
    frozen = json.dumps(state, sort_keys=True)
    pulses(check, (1, 2, 3))
    check.reveal(FACILITATOR)
    assert json.dumps(state, sort_keys=True) == frozen
