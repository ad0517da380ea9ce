"""Check-in round: a prompt answered in a talking-stick round or simultaneously."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from retro.rituals.base import (
    Actor,
    RitualError,
    ScaleTally,
    clean_text,
    int_keys,
    require_facilitator,
)

MODES = ("round", "simultaneous")
SCALES = ("energy", "autonomy", "competence", "relatedness")
ANSWER_LIMIT = 1000
PROMPT_LIMIT = 300


@dataclass
class CheckInRound:
    """State of one check-in step.

    In *round* mode a talking stick goes round in a random order: only the
    current speaker answers, and their answer is public at once. In
    *simultaneous* mode everyone writes and only *that* someone answered is
    public until the facilitator reveals. Optional scales are anonymous.
    """

    prompt: str = ""
    prompt_id: str | None = None
    mode: Literal["round", "simultaneous"] = "round"
    started: bool = False
    order: list[int] = field(default_factory=list)
    speaker: int | None = None
    heard: list[int] = field(default_factory=list)
    passed: list[int] = field(default_factory=list)
    answers: dict[int, str] = field(default_factory=dict)
    revealed: bool = False
    tally: ScaleTally = field(default_factory=lambda: ScaleTally(scales=[]))

    kind = "checkin"

    @classmethod
    def create(
        cls,
        *,
        prompt: str = "",
        prompt_id: str | None = None,
        mode: str = "round",
        scales: Sequence[str] = (),
    ) -> CheckInRound:
        """Return a new, not yet started check-in with validated settings."""
        if mode not in MODES:
            raise RitualError("invalid_mode")
        if not prompt_id:
            prompt = clean_text(prompt, PROMPT_LIMIT)
        unknown = [s for s in scales if s not in SCALES]
        if unknown or len(set(scales)) != len(scales):
            raise RitualError("unknown_scale")
        return cls(
            prompt=prompt,
            prompt_id=prompt_id or None,
            mode=mode,  # type: ignore[arg-type]
            tally=ScaleTally(scales=list(scales)),
        )

    # -- lifecycle ---------------------------------------------------------

    def begin(self, member_ids: Sequence[int], rng: random.Random) -> None:
        """Open the step for the members present; a second call changes nothing."""
        if self.started:
            return
        self.started = True
        if self.mode == "round":
            self.order = list(member_ids)
            rng.shuffle(self.order)
            self.speaker = self.order[0] if self.order else None

    def join(self, member_id: int) -> None:
        """Add a member who arrived after the round began to the end of the order."""
        if self.mode != "round" or not self.started or member_id in self.order:
            return
        self.order.append(member_id)
        if self.speaker is None:
            self.speaker = member_id

    # -- commands ----------------------------------------------------------

    def answer(self, actor: Actor, text: Any) -> None:
        """Record the actor's answer (in round mode only while it is their turn)."""
        self._require_started()
        text = clean_text(text, ANSWER_LIMIT)
        if self.mode == "round" and actor.member_id != self.speaker:
            raise RitualError("not_your_turn")
        if actor.member_id in self.passed:
            self.passed.remove(actor.member_id)
        self.answers[actor.member_id] = text

    def pass_(self, actor: Actor) -> None:
        """Let the actor pass; in round mode their turn is skipped or ends."""
        self._require_started()
        member = actor.member_id
        if member in self.passed:
            raise RitualError("already_passed")
        if self.mode == "round":
            if member not in self.order:
                raise RitualError("not_in_round")
            if member in self.heard:
                raise RitualError("already_heard")
            self.answers.pop(member, None)
            self.passed.append(member)
            if member == self.speaker:
                self._advance()
        else:
            self.answers.pop(member, None)
            self.passed.append(member)

    def pass_turn(self, actor: Actor) -> None:
        """End the current speaker's turn (the speaker or the facilitator)."""
        self._require_started()
        if self.mode != "round":
            raise RitualError("not_round_mode")
        if self.speaker is None:
            raise RitualError("round_complete")
        if actor.member_id != self.speaker and not actor.is_facilitator:
            raise RitualError("not_your_turn")
        self.heard.append(self.speaker)
        self._advance()

    def reveal(self, actor: Actor) -> None:
        """Show the hidden answers and the scale results, and close the scales.

        In round mode answers are public already, so only the scales are revealed.
        """
        require_facilitator(actor)
        self._require_started()
        if self.mode != "simultaneous" and not self.tally.scales:
            raise RitualError("not_simultaneous_mode")
        if self.revealed:
            raise RitualError("already_revealed")
        self.revealed = True

    def rate(self, actor: Actor, values: Mapping[str, Any]) -> None:
        """Record the actor's anonymous scale answers (until the reveal)."""
        self._require_started()
        if self.tally.scales and self.revealed:
            raise RitualError("scales_closed")
        self.tally.rate(actor.member_id, values)

    # -- views -------------------------------------------------------------

    def public_view(self) -> dict[str, Any]:
        """Return what every member may see; hidden answers are never in it."""
        visible = self.mode == "round" or self.revealed
        return {
            "kind": self.kind,
            "prompt": self.prompt,
            "prompt_id": self.prompt_id,
            "mode": self.mode,
            "started": self.started,
            "order": list(self.order),
            "speaker": self.speaker,
            "heard": list(self.heard),
            "passed": list(self.passed),
            "waiting": [m for m in self.order if m not in self.heard and m not in self.passed],
            "answered": sorted(self.answers),
            "answers": {str(m): t for m, t in self.answers.items()} if visible else {},
            "revealed": self.revealed,
            "scales": list(self.tally.scales),
            "scale_results": self.tally.view(self.revealed) if self.tally.scales else None,
        }

    def private_view(self, member_id: int) -> dict[str, Any]:
        """Return what only this member may see about their own part."""
        return {
            "answer": self.answers.get(member_id),
            "passed": member_id in self.passed,
            "rated": member_id in self.tally.responders,
        }

    # -- persistence -------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "prompt": self.prompt,
            "prompt_id": self.prompt_id,
            "mode": self.mode,
            "started": self.started,
            "order": list(self.order),
            "speaker": self.speaker,
            "heard": list(self.heard),
            "passed": list(self.passed),
            "answers": {str(m): t for m, t in self.answers.items()},
            "revealed": self.revealed,
            "tally": self.tally.to_state(),
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> CheckInRound:
        """Rebuild from `to_state` output."""
        return cls(
            prompt=data.get("prompt", ""),
            prompt_id=data.get("prompt_id"),
            mode=data.get("mode", "round"),
            started=bool(data.get("started")),
            order=[int(m) for m in data.get("order", [])],
            speaker=data.get("speaker"),
            heard=[int(m) for m in data.get("heard", [])],
            passed=[int(m) for m in data.get("passed", [])],
            answers=int_keys(data.get("answers", {})),
            revealed=bool(data.get("revealed")),
            tally=ScaleTally.from_state(data.get("tally", {"scales": []})),
        )

    # -- internals ---------------------------------------------------------

    def _require_started(self) -> None:
        if not self.started:
            raise RitualError("step_not_started")

    def _advance(self) -> None:
        """Hand the stick to the next member in order who was not heard and did not pass."""
        done = set(self.heard) | set(self.passed)
        self.speaker = next((m for m in self.order if m not in done), None)
