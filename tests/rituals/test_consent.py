"""The fist-of-five consent vote: thresholds, objections, changing votes, anonymity."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retro.rituals import ConsentVote, RitualError
from retro.rituals.base import MIN_AGGREGATE
from retro.rituals.consent import REASON_LIMIT, public_round, require_open, voters_of
from tests.rituals.helpers import as_json, refused, round_trip

ROOT = Path(__file__).resolve().parents[2]


def make_vote(threshold: int = 3, anonymous: bool = False) -> ConsentVote:
    """Return an open vote on a purpose statement."""
    return ConsentVote.create("We exist to learn together.", threshold, anonymous=anonymous)


def test_a_new_vote_is_open_with_nobody_voted():
    vote = make_vote()
    assert vote.public_view() == {
        "open": True,
        "text": "We exist to learn together.",
        "threshold": 3,
        "count": 0,
        "voted": [],
    }


@pytest.mark.parametrize("threshold", [0, -1, 6, True, 3.0, "3", None], ids=repr)
def test_a_threshold_outside_one_to_five_is_refused(threshold):
    # 0 would count a block (score 0) as consent.
    with pytest.raises(RitualError) as caught:
        ConsentVote.create("x", threshold)
    assert caught.value.code == "invalid_value"


@pytest.mark.parametrize("threshold", [1, 5])
def test_the_threshold_may_be_anything_from_one_to_five(threshold):
    assert make_vote(threshold).threshold == threshold


@pytest.mark.parametrize(
    ("scores", "passed"),
    [
        ([3, 3, 3], True),
        ([5, 4, 3], True),
        ([5, 5, 2], False),
        ([0], False),
    ],
    ids=["all-at-threshold", "above", "one-under", "a-block"],
)
def test_a_vote_passes_only_when_every_score_reaches_the_threshold(scores, passed):
    vote = make_vote(threshold=3)
    for member_id, score in enumerate(scores, start=2):
        vote.cast(member_id, score, "" if score >= 3 else "Not yet")
    assert vote.close()["passed"] is passed


def test_a_block_never_consents_even_at_the_lowest_threshold():
    vote = make_vote(threshold=1)
    assert refused(vote.cast, 2, 0, "") == "reason_required"
    vote.cast(2, 0, "Harmful")
    vote.cast(3, 1, "")
    assert vote.close()["passed"] is False


def test_an_objection_needs_a_reason():
    vote = make_vote(threshold=3)
    with pytest.raises(RitualError) as caught:
        vote.cast(2, 2, "   ")
    assert caught.value.code == "reason_required"
    assert caught.value.params == {"threshold": 3}
    assert vote.scores == {}


def test_a_score_at_the_threshold_needs_no_reason():
    vote = make_vote(threshold=3)
    vote.cast(2, 3, "")
    assert vote.private_view(2) == {"score": 3, "reason": ""}


def test_a_reason_is_kept_without_surrounding_whitespace():
    vote = make_vote()
    vote.cast(2, 1, "  Too vague \n")
    assert vote.private_view(2) == {"score": 1, "reason": "Too vague"}


@pytest.mark.parametrize(
    "blank", ["\u200b", "\u202e\u202c", "\u2066\u2069", " \u200d\u2060 ", "\x00\x1f"], ids=repr
)
def test_a_reason_of_invisible_characters_is_no_reason(blank):
    vote = make_vote(threshold=3)
    assert refused(vote.cast, 2, 1, blank) == "reason_required"
    vote.cast(2, 4, blank)
    assert vote.private_view(2) == {"score": 4, "reason": ""}


def test_a_reason_loses_bidi_overrides_but_keeps_its_line_breaks():
    vote = make_vote(threshold=3)
    vote.cast(2, 1, "\u202eTwo\r\nlines\u2066")
    assert vote.private_view(2)["reason"] == "Two\nlines"


def test_a_reason_over_the_limit_is_refused():
    vote = make_vote()
    assert refused(vote.cast, 2, 1, "x" * (REASON_LIMIT + 1)) == "too_long"


@pytest.mark.parametrize("score", [-1, 6, True, 2.0, "4", None], ids=repr)
def test_a_score_outside_zero_to_five_is_refused(score):
    assert refused(make_vote().cast, 2, score, "reason") == "invalid_value"


@pytest.mark.parametrize("reason", [None, 4, ["why"]], ids=repr)
def test_a_reason_that_is_not_text_is_refused(reason):
    assert refused(make_vote().cast, 2, 4, reason) == "invalid_value"


def test_a_member_may_change_their_vote_while_it_is_open():
    vote = make_vote()
    vote.cast(2, 1, "Unclear")
    vote.cast(2, 4, "")
    assert vote.public_view()["voted"] == [2]
    result = vote.close()
    assert result["passed"] is True
    assert result["count"] == 1
    assert result["objections"] == []


def test_scores_are_hidden_while_the_vote_is_open():
    vote = make_vote()
    vote.cast(7, 1, "A secret worry")
    vote.cast(8, 5, "")
    view = as_json(vote.public_view())
    assert "A secret worry" not in view
    assert vote.public_view()["voted"] == [7, 8]
    assert "histogram" not in view


def test_a_vote_nobody_cast_cannot_close():
    assert refused(make_vote().close) == "no_votes"


def test_a_closed_vote_takes_no_more_scores_and_does_not_close_again():
    vote = make_vote()
    vote.cast(2, 5, "")
    vote.close()
    assert refused(vote.cast, 3, 5, "") == "no_vote_open"
    assert refused(vote.close) == "no_vote_open"


def test_require_open_refuses_a_missing_or_closed_vote():
    vote = make_vote()
    assert require_open(vote) is vote
    vote.cast(2, 4, "")
    vote.close()
    for missing in (None, vote):
        with pytest.raises(RitualError) as caught:
            require_open(missing)
        assert caught.value.code == "no_vote_open"


def test_the_result_names_who_objected_when_the_vote_is_not_anonymous():
    vote = make_vote(threshold=3)
    vote.cast(4, 1, "Too vague")
    vote.cast(2, 5, "")
    vote.cast(3, 1, "Missing customers")
    vote.cast(5, 0, "Wrong team")
    result = vote.close()
    assert result == {
        "passed": False,
        "count": 4,
        "threshold": 3,
        "histogram": [1, 2, 0, 0, 0, 1],
        "voters": [4, 2, 3, 5],
        "objections": [
            {"score": 0, "reason": "Wrong team", "member": 5},
            {"score": 1, "reason": "Missing customers", "member": 3},
            {"score": 1, "reason": "Too vague", "member": 4},
        ],
        "scores": {"2": 5, "3": 1, "4": 1, "5": 0},
    }
    published = {k: v for k, v in result.items() if k != "voters"}
    assert vote.public_view() == {
        "open": False,
        "text": "We exist to learn together.",
        "threshold": 3,
        "result": published,
    }


def test_an_anonymous_result_names_nobody_and_orders_objections_by_content():
    vote = make_vote(threshold=3, anonymous=True)
    vote.cast(41, 2, "Zebra")
    vote.cast(42, 1, "Too vague")
    vote.cast(43, 2, "Apple")
    vote.cast(44, 4, "")
    result = vote.close()
    assert result == {
        "passed": False,
        "count": 4,
        "threshold": 3,
        "histogram": [0, 1, 2, 0, 1, 0],
        "voters": [41, 42, 43, 44],
        "objections": [
            {"score": 1, "reason": "Too vague"},
            {"score": 2, "reason": "Apple"},
            {"score": 2, "reason": "Zebra"},
        ],
    }
    for member_id in ("41", "42", "43", "44"):
        assert member_id not in as_json(vote.public_view())


def test_an_anonymous_vote_forgets_who_gave_which_score_when_it_closes():
    vote = make_vote(anonymous=True)
    vote.cast(41, 1, "Too vague")
    vote.cast(42, 5, "")
    vote.cast(43, 4, "")
    vote.close()
    assert vote.scores == {}
    assert vote.reasons == {}
    assert vote.private_view(41) is None
    stored = vote.to_state()
    assert stored["scores"] == {} and stored["reasons"] == {}
    # Who took part is kept (without scores), never published.
    assert stored["result"]["voters"] == [41, 42, 43]
    assert "scores" not in stored["result"]
    assert all("member" not in o for o in stored["result"]["objections"])
    for member_id in ("41", "42", "43"):
        assert member_id not in as_json(vote.public_view())


def test_an_open_anonymous_vote_shows_only_how_many_have_voted():
    vote = make_vote(anonymous=True)
    vote.cast(41, 5, "")
    vote.cast(42, 1, "Not yet")
    assert vote.public_view() == {
        "open": True,
        "text": "We exist to learn together.",
        "threshold": 3,
        "count": 2,
    }
    for member_id in ("41", "42"):
        assert member_id not in as_json(vote.public_view())


def test_an_open_named_vote_shows_who_has_voted():
    vote = make_vote()
    vote.cast(42, 5, "")
    vote.cast(41, 4, "")
    assert vote.public_view()["voted"] == [41, 42]
    assert vote.public_view()["count"] == 2


@pytest.mark.parametrize("votes", range(1, MIN_AGGREGATE))
def test_an_anonymous_vote_closes_only_from_three_votes_on(votes):
    vote = make_vote(anonymous=True)
    for member_id in range(41, 41 + votes):
        vote.cast(member_id, 5, "")
    with pytest.raises(RitualError) as caught:
        vote.close()
    assert caught.value.code == "anonymous_needs_three"
    assert caught.value.params == {"count": MIN_AGGREGATE}
    assert refused(vote.close) == "anonymous_needs_three"
    for member_id in range(91, 91 + MIN_AGGREGATE - votes):
        vote.cast(member_id, 4, "")
    assert vote.close()["count"] == MIN_AGGREGATE


def test_a_named_vote_closes_from_one_vote_on():
    vote = make_vote()
    vote.cast(2, 5, "")
    assert vote.close()["count"] == 1


def test_voters_are_kept_in_the_order_they_first_voted():
    vote = make_vote()
    vote.cast(7, 1, "No")
    vote.cast(3, 5, "")
    vote.cast(7, 4, "")  # a changed vote keeps its place
    vote.cast(5, 3, "")
    assert vote.close()["voters"] == [7, 3, 5]


def test_the_public_form_of_a_round_leaves_out_the_voters():
    round_ = {"passed": True, "count": 1, "voters": [7], "text": "x"}
    assert public_round(round_) == {"passed": True, "count": 1, "text": "x"}
    assert round_["voters"] == [7]


def test_voters_of_rounds_are_each_listed_once_in_first_vote_order():
    rounds = [{"voters": [4, 2]}, {"voters": ["2", 9, 4]}, {}]
    assert voters_of(rounds) == [4, 2, 9]


def test_someone_who_never_votes_does_not_block():
    # Members 2, 3 and 4 were present when the vote was called; 4 left without voting.
    vote = make_vote()
    vote.cast(2, 4, "")
    vote.cast(3, 5, "")
    result = vote.close()
    assert result["passed"] is True
    assert result["count"] == 2


def test_a_vote_cast_by_someone_who_left_still_counts():
    # Member 3 objected and then left the room before the vote closed.
    vote = make_vote()
    vote.cast(2, 5, "")
    vote.cast(3, 1, "We never agreed on this")
    result = vote.close()
    assert result["passed"] is False
    assert result["objections"] == [{"score": 1, "reason": "We never agreed on this", "member": 3}]


def test_a_vote_survives_a_trip_through_json_open_and_closed():
    vote = make_vote()
    vote.cast(2, 1, "Unclear")
    vote.cast(3, 5, "")
    vote = round_trip(vote)
    vote.close()
    round_trip(vote)


def test_a_state_snapshot_is_not_changed_by_later_moves():
    vote = make_vote()
    vote.cast(2, 4, "")
    state = vote.to_state()
    frozen = json.dumps(state, sort_keys=True)
    vote.cast(3, 1, "No")
    vote.close()
    assert json.dumps(state, sort_keys=True) == frozen


votes = st.lists(
    st.tuples(
        st.integers(min_value=2, max_value=7),
        st.integers(min_value=0, max_value=5),
        st.sampled_from(["", "Why", "Because"]),
    ),
    max_size=12,
)


@settings(max_examples=100, deadline=None, database=None)
@given(threshold=st.integers(1, 5), anonymous=st.booleans(), casts=votes)
def test_the_result_follows_each_members_last_accepted_score(threshold, anonymous, casts):
    vote = ConsentVote.create("Text", threshold, anonymous=anonymous)
    last: dict[int, tuple[int, str]] = {}
    for member_id, score, reason in casts:
        before = json.dumps(vote.to_state(), sort_keys=True)
        try:
            vote.cast(member_id, score, reason)
        except RitualError as error:
            assert error.code == "reason_required"
            assert score < threshold and not reason
            assert json.dumps(vote.to_state(), sort_keys=True) == before
        else:
            last.setdefault(member_id, (score, reason))  # the first accepted vote sets the order
            last[member_id] = (score, reason)
        view = vote.public_view()
        assert view["count"] == len(last)
        assert view.get("voted") == (None if anonymous else sorted(last))
    if not last:
        assert refused(vote.close) == "no_votes"
        return
    if anonymous and len(last) < MIN_AGGREGATE:
        assert refused(vote.close) == "anonymous_needs_three"
        return
    result = vote.close()
    assert result["voters"] == list(last)
    assert result["count"] == len(last)
    assert sum(result["histogram"]) == len(last)
    assert result["passed"] == all(s >= threshold for s, _ in last.values())
    objections = sorted((s, r) for s, r in last.values() if s < threshold)
    assert sorted((o["score"], o["reason"]) for o in result["objections"]) == objections
    assert all(o["reason"] for o in result["objections"])
    if anonymous:
        assert "scores" not in result
        assert all("member" not in o for o in result["objections"])
        assert [(o["score"], o["reason"]) for o in result["objections"]] == objections
        assert vote.scores == {}
    else:
        assert result["scores"] == {str(m): s for m, (s, _) in last.items()}
    round_trip(vote)


# -- every refusal can be explained to a person -------------------------------------------


def raised_codes(path: Path) -> set[str]:
    """Return every literal code passed to RitualError in a module."""
    codes = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "RitualError"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            codes.add(node.args[0].value)
    return codes


def message_codes() -> set[str]:
    """Return the codes that have a message, read from the source so no Flask is needed."""
    tree = ast.parse((ROOT / "retro" / "messages.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "MESSAGES" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            return {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    raise AssertionError("MESSAGES not found")


@pytest.mark.parametrize(
    "module", sorted(p.name for p in (ROOT / "retro" / "rituals").glob("*.py"))
)
def test_every_error_code_a_ritual_raises_has_a_message(module):
    codes = raised_codes(ROOT / "retro" / "rituals" / module)
    assert codes - message_codes() == set()
