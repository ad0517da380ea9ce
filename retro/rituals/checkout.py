"""Check-out: one word each, hidden until revealed, plus an anonymous ROTI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from retro.rituals.base import (
    Actor,
    RitualError,
    ScaleTally,
    clean_text,
    int_keys,
    require_facilitator,
)

WORD_LIMIT = 40


@dataclass
class CheckOut:
    """State of the check-out step: words and a return-on-time-invested score (1-5)."""

    started: bool = False
    words: dict[int, str] = field(default_factory=dict)
    passed: list[int] = field(default_factory=list)
    revealed: bool = False
    roti: ScaleTally = field(default_factory=lambda: ScaleTally(scales=["roti"]))

    kind = "checkout"

    @classmethod
    def create(cls) -> CheckOut:
        """Return a new, not yet started check-out."""
        return cls()

    def begin(self, member_ids: Sequence[int], rng: Any) -> None:
        """Open the step; a second call changes nothing."""
        self.started = True

    def join(self, member_id: int) -> None:
        """Nothing to do: everyone may write a word at any time."""

    def answer(self, actor: Actor, text: Any) -> None:
        """Record the actor's word (a short phrase at most)."""
        self._require_started()
        word = clean_text(text, WORD_LIMIT)
        # Any line break (also a lone \r or U+2028) would break the one-line word lists.
        if len(word.splitlines()) > 1:
            raise RitualError("one_line")
        if actor.member_id in self.passed:
            self.passed.remove(actor.member_id)
        self.words[actor.member_id] = word

    def pass_(self, actor: Actor) -> None:
        """Let the actor pass, withdrawing a word they wrote."""
        self._require_started()
        if actor.member_id in self.passed:
            raise RitualError("already_passed")
        self.words.pop(actor.member_id, None)
        self.passed.append(actor.member_id)

    def pass_turn(self, actor: Actor) -> None:
        """There are no turns in a check-out."""
        raise RitualError("not_round_mode")

    def reveal(self, actor: Actor) -> None:
        """Show every word to the room (facilitator only)."""
        require_facilitator(actor)
        self._require_started()
        if self.revealed:
            raise RitualError("already_revealed")
        self.revealed = True

    def rate(self, actor: Actor, values: Mapping[str, Any]) -> None:
        """Record the actor's anonymous ROTI (until the reveal)."""
        self._require_started()
        if self.revealed:
            raise RitualError("scales_closed")
        self.roti.rate(actor.member_id, values)

    def public_view(self) -> dict[str, Any]:
        """Return what every member may see; words only after the reveal."""
        return {
            "kind": self.kind,
            "started": self.started,
            "answered": sorted(self.words),
            "passed": list(self.passed),
            "answers": {str(m): w for m, w in self.words.items()} if self.revealed else {},
            "revealed": self.revealed,
            "scales": ["roti"],
            "scale_results": self.roti.view(self.revealed),
        }

    def private_view(self, member_id: int) -> dict[str, Any]:
        """Return this member's own word and whether they rated."""
        return {
            "answer": self.words.get(member_id),
            "passed": member_id in self.passed,
            "rated": member_id in self.roti.responders,
        }

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "started": self.started,
            "words": {str(m): w for m, w in self.words.items()},
            "passed": list(self.passed),
            "revealed": self.revealed,
            "roti": self.roti.to_state(),
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> CheckOut:
        """Rebuild from `to_state` output."""
        return cls(
            started=bool(data.get("started")),
            words=int_keys(data.get("words", {})),
            passed=[int(m) for m in data.get("passed", [])],
            revealed=bool(data.get("revealed")),
            roti=ScaleTally.from_state(data.get("roti", {"scales": ["roti"]})),
        )

    def _require_started(self) -> None:
        if not self.started:
            raise RitualError("step_not_started")
