"""Invariants of the check-in round under any sequence of moves, legal or not (Hypothesis)."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from retro.rituals import Actor, CheckInRound, RitualError
from retro.rituals.base import MIN_AGGREGATE, tidy_text
from retro.rituals.checkin import ANSWER_LIMIT, MODES, SCALES
from tests.rituals.helpers import FACILITATOR_ID, as_json

# Every valid answer starts with this marker, so a leak is easy to spot in any view.
SECRET = "secret:"

member_ids = st.integers(min_value=1, max_value=8)
answers = st.one_of(
    st.text(max_size=12).map(lambda t: SECRET + t),
    st.sampled_from(["", "   ", "\n\t "]),
    st.just(SECRET + "x" * ANSWER_LIMIT),
    st.none(),
    st.integers(),
)
scale_values = st.one_of(st.integers(min_value=-1, max_value=7), st.booleans(), st.just(3.0))
ratings = st.one_of(
    st.dictionaries(st.sampled_from([*SCALES, "mood"]), scale_values, max_size=5),
    st.none(),
)

valid_ratings = st.fixed_dictionaries({scale: st.integers(1, 5) for scale in SCALES})


def actor(member_id: int) -> Actor:
    """Return the member as the service would build them: member 1 facilitates."""
    return Actor(member_id, is_facilitator=member_id == FACILITATOR_ID)


def frozen(checkin: CheckInRound) -> str:
    """Return the check-in's stored state as one comparable string."""
    return json.dumps(checkin.to_state(), sort_keys=True)


class CheckInMachine(RuleBasedStateMachine):
    """Drive one check-in with random moves by random members and check it after each."""

    checkin: CheckInRound
    # The tally as it stood at the reveal; it must never change afterwards.
    tally_at_reveal: str | None

    @initialize(mode=st.sampled_from(MODES), scales=st.lists(st.sampled_from(SCALES), unique=True))
    def create(self, mode: str, scales: list[str]) -> None:
        """Start from a freshly created, not yet begun check-in."""
        self.checkin = CheckInRound.create(prompt="How do you arrive?", mode=mode, scales=scales)
        self.tally_at_reveal = None

    def attempt(self, move) -> None:
        """Make a move; if it is illegal, the stored state must be exactly as before."""
        before = frozen(self.checkin)
        try:
            move()
        except RitualError:
            assert frozen(self.checkin) == before

    def expect(self, move, code: str | None) -> None:
        """Make a move that must succeed (`code` None) or be refused with `code`, unchanged."""
        before = frozen(self.checkin)
        try:
            move()
        except RitualError as error:
            assert error.code == code
            assert frozen(self.checkin) == before
        else:
            assert code is None

    def rating_refusal(self, member_id: int) -> str | None:
        """Return why a complete, valid rating by `member_id` must be refused now, if at all."""
        if self.checkin.revealed:
            return "scales_closed"
        if member_id in self.checkin.tally.responders:
            return "already_rated"
        return None

    @rule(
        present=st.lists(member_ids, unique=True, max_size=6),
        seed=st.integers(min_value=0, max_value=2**16),
    )
    def begin(self, present: list[int], seed: int) -> None:
        """Open the step (again): a second begin changes nothing."""
        was_started = self.checkin.started
        before = frozen(self.checkin)
        self.checkin.begin(present, random.Random(seed))
        if was_started:
            assert frozen(self.checkin) == before
        elif self.checkin.mode == "round":
            assert sorted(self.checkin.order) == sorted(present)

    @rule(member_id=member_ids)
    def join(self, member_id: int) -> None:
        """A member (re)connects."""
        self.checkin.join(member_id)

    @rule(member_id=member_ids, text=answers)
    def answer(self, member_id: int, text) -> None:
        """A member answers."""
        self.attempt(lambda: self.checkin.answer(actor(member_id), text))

    @rule(member_id=member_ids)
    def pass_(self, member_id: int) -> None:
        """A member passes."""
        self.attempt(lambda: self.checkin.pass_(actor(member_id)))

    @rule(member_id=member_ids)
    def pass_turn(self, member_id: int) -> None:
        """A member (or the facilitator) ends the turn."""
        self.attempt(lambda: self.checkin.pass_turn(actor(member_id)))

    @precondition(lambda self: self.checkin.speaker is not None)
    @rule()
    def speaker_passes_the_turn(self) -> None:
        """The current speaker ends their own turn, so rounds actually progress."""
        self.checkin.pass_turn(Actor(self.checkin.speaker))

    @precondition(lambda self: self.checkin.speaker is not None)
    @rule(text=st.text(max_size=12))
    def speaker_answers(self, text: str) -> None:
        """The current speaker answers, so round answers actually occur."""
        self.checkin.answer(Actor(self.checkin.speaker), SECRET + text)

    @rule(member_id=member_ids)
    def reveal(self, member_id: int) -> None:
        """Someone asks to reveal."""
        self.attempt(lambda: self.checkin.reveal(actor(member_id)))

    @rule(member_id=member_ids, values=ratings)
    def rate(self, member_id: int, values) -> None:
        """A member rates the scales."""
        self.attempt(lambda: self.checkin.rate(actor(member_id), values))

    @precondition(
        lambda self: (
            self.checkin.started
            and not self.checkin.revealed
            and (
                not self.checkin.tally.scales or len(self.checkin.tally.responders) >= MIN_AGGREGATE
            )
        )
    )
    @rule()
    def facilitator_reveals(self) -> None:
        """The facilitator reveals: refused only in a round without scales.

        With scales, only once enough members rated, so ready aggregates are reached
        often; earlier reveals still come from the `reveal` rule.
        """
        checkin = self.checkin
        refused = checkin.mode == "round" and not checkin.tally.scales
        code = "not_simultaneous_mode" if refused else None
        self.expect(lambda: checkin.reveal(actor(FACILITATOR_ID)), code)

    @precondition(lambda self: self.checkin.started and self.checkin.tally.scales)
    @rule(raters=st.lists(member_ids, unique=True, min_size=1, max_size=4), values=valid_ratings)
    def members_rate_every_scale(self, raters: list[int], values: dict[str, int]) -> None:
        """Members rate every scale: accepted once each, only before the reveal.

        Several at a time, so aggregates become ready before a reveal often enough.
        """
        asked = {s: v for s, v in values.items() if s in self.checkin.tally.scales}
        for member_id in raters:
            code = self.rating_refusal(member_id)
            self.expect(lambda m=member_id: self.checkin.rate(actor(m), asked), code)

    @precondition(lambda self: self.checkin.started and self.checkin.tally.scales)
    @rule(member_id=member_ids, values=valid_ratings, left_out=st.integers(0, len(SCALES) - 1))
    def rate_leaving_out_a_scale(self, member_id: int, values: dict[str, int], left_out: int):
        """A member rates all scales but one, which is never accepted."""
        scales = self.checkin.tally.scales
        skipped = scales[left_out % len(scales)]
        asked = {s: v for s, v in values.items() if s in scales and s != skipped}
        code = self.rating_refusal(member_id) or ("incomplete_scales" if asked else "invalid_value")
        self.expect(lambda: self.checkin.rate(actor(member_id), asked), code)

    @invariant()
    def the_speaker_is_the_first_member_not_yet_heard_or_passed(self) -> None:
        checkin = self.checkin
        done = set(checkin.heard) | set(checkin.passed)
        expected = next((m for m in checkin.order if m not in done), None)
        assert checkin.speaker == expected

    @invariant()
    def heard_and_passed_are_disjoint_members_of_the_order(self) -> None:
        checkin = self.checkin
        assert len(set(checkin.heard)) == len(checkin.heard)
        assert len(set(checkin.passed)) == len(checkin.passed)
        assert not set(checkin.heard) & set(checkin.passed)
        if checkin.mode == "round":
            assert set(checkin.heard) | set(checkin.passed) <= set(checkin.order)
            assert len(set(checkin.order)) == len(checkin.order)

    @invariant()
    def nobody_both_answered_and_passed(self) -> None:
        assert not set(self.checkin.answers) & set(self.checkin.passed)

    @invariant()
    def in_a_round_only_the_heard_and_the_speaker_have_answers(self) -> None:
        checkin = self.checkin
        if checkin.mode == "round":
            assert set(checkin.answers) <= {*checkin.heard, checkin.speaker}

    @invariant()
    def hidden_answers_never_reach_the_public_view(self) -> None:
        checkin = self.checkin
        view = checkin.public_view()
        if checkin.mode == "simultaneous" and not checkin.revealed:
            assert view["answers"] == {}
            assert SECRET not in as_json(view)
        else:
            assert view["answers"] == {str(m): t for m, t in checkin.answers.items()}

    @invariant()
    def only_a_round_with_scales_or_a_simultaneous_check_in_is_revealed(self) -> None:
        checkin = self.checkin
        if checkin.revealed:
            assert checkin.mode == "simultaneous" or checkin.tally.scales

    @invariant()
    def every_responder_answered_every_scale(self) -> None:
        tally = self.checkin.tally
        for scale in tally.scales:
            assert sum(tally.counts[scale]) == len(tally.responders)

    @invariant()
    def the_scales_are_closed_after_the_reveal(self) -> None:
        if not self.checkin.revealed:
            return
        tally = json.dumps(self.checkin.tally.to_state(), sort_keys=True)
        if self.tally_at_reveal is None:
            self.tally_at_reveal = tally
        assert tally == self.tally_at_reveal

    @invariant()
    def scales_are_only_a_team_aggregate_published_at_the_reveal(self) -> None:
        checkin = self.checkin
        results = checkin.public_view()["scale_results"]
        answered = len(checkin.tally.responders)
        enough = answered >= MIN_AGGREGATE
        if not checkin.tally.scales:
            assert results is None
        elif not checkin.revealed or not enough:
            assert results == {
                "ready": False,
                "revealed": checkin.revealed,
                "enough": enough,
                "needed": MIN_AGGREGATE,
            }
        else:
            assert set(results) == {"ready", "revealed", "count", "scales"}
            assert results["ready"] is True
            assert results["revealed"] is True
            assert results["count"] == answered
            assert list(results["scales"]) == checkin.tally.scales
            for scale in results["scales"].values():
                assert set(scale) == {"distribution", "count", "average"}
                assert scale["count"] == answered

    @invariant()
    def the_state_survives_a_trip_through_json(self) -> None:
        state = json.loads(json.dumps(self.checkin.to_state()))
        restored = CheckInRound.from_state(state)
        assert restored == self.checkin
        assert frozen(restored) == frozen(self.checkin)


CheckInMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCheckInMachine = CheckInMachine.TestCase


@settings(max_examples=100, deadline=None, database=None)
@given(
    present=st.lists(member_ids, unique=True, max_size=8),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_round_order_is_a_shuffle_of_the_members_present(present, seed):
    checkin = CheckInRound.create(prompt="Hi", mode="round")
    checkin.begin(present, random.Random(seed))
    assert sorted(checkin.order) == sorted(present)
    assert checkin.speaker == (checkin.order[0] if present else None)
    assert checkin.heard == []
    assert checkin.passed == []


@settings(max_examples=100, deadline=None, database=None)
@given(texts=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=6))
def test_no_simultaneous_answer_is_public_before_the_reveal(texts):
    checkin = CheckInRound.create(prompt="Hi", mode="simultaneous")
    checkin.begin([], random.Random(0))
    written = {}
    for member_id, text in enumerate(texts, start=2):
        try:
            checkin.answer(Actor(member_id), SECRET + text)
        except RitualError as error:
            assert error.code == "too_long"
            continue
        # Stored without invisible characters (see tidy_text).
        written[str(member_id)] = tidy_text(SECRET + text)
    before = checkin.public_view()
    assert before["answers"] == {}
    assert SECRET not in as_json(before)
    checkin.reveal(Actor(FACILITATOR_ID, is_facilitator=True))
    assert checkin.public_view()["answers"] == written
