"""A fist-of-five consent vote: 0 blocks, 5 is full support, a threshold decides."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from retro.rituals.base import (
    MIN_AGGREGATE,
    Actor,
    RitualError,
    int_keys,
    require_facilitator,
    tidy_text,
)

SCORE_MIN, SCORE_MAX = 0, 5
# A threshold of 0 would count a block (0) as consent.
THRESHOLD_MIN, THRESHOLD_MAX = 1, 5
REASON_LIMIT = 280


class ConsentSteps:
    """What both charter steps do alike with their open vote (`ballot`)."""

    ballot: ConsentVote | None

    def cancel_consent(self, actor: Actor) -> None:
        """Discard the open vote, scores and all (facilitator only); see `suspend`."""
        require_facilitator(actor)
        self._require_started()
        require_open(self.ballot)
        self.suspend()

    def suspend(self) -> None:
        """Discard a vote still open, as the room leaves the step."""
        raise NotImplementedError  # pragma: no cover - each step defines it

    def _require_started(self) -> None:
        raise NotImplementedError  # pragma: no cover - each step defines it


def require_open(vote: ConsentVote | None) -> ConsentVote:
    """Return the open vote, refusing a command when there is none."""
    if vote is None or vote.closed:
        raise RitualError("no_vote_open")
    return vote


def score_value(value: Any) -> int:
    """Return a fist-of-five score (0-5), refusing anything else (also a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RitualError("invalid_value")
    if not SCORE_MIN <= value <= SCORE_MAX:
        raise RitualError("invalid_value")
    return value


def threshold_value(value: Any) -> int:
    """Return a consent threshold (1-5), refusing anything else (also a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RitualError("invalid_value")
    if not THRESHOLD_MIN <= value <= THRESHOLD_MAX:
        raise RitualError("invalid_value")
    return value


def public_round(result: Mapping[str, Any]) -> dict[str, Any]:
    """Return a closed vote's result as the room may see it: without who took part."""
    return {k: copy.deepcopy(v) for k, v in result.items() if k != "voters"}


def voters_of(rounds: Iterable[Mapping[str, Any]]) -> list[int]:
    """Return everyone who voted in these closed rounds, each once, in the order they first did."""
    voters: dict[int, None] = {}
    for round_ in rounds:
        for member_id in round_.get("voters", []):
            voters.setdefault(int(member_id))
    return list(voters)


@dataclass
class ConsentVote:
    """One consent vote on a text: who scored what until it closes, then only the result.

    A score under the threshold is an objection and needs a reason; a score equal to
    the threshold consents. The vote passes when every cast score consents, so a member
    who never votes (or leaves without voting) blocks nothing, while a cast vote counts
    even when its member has left. An anonymous vote forgets who gave which score the
    moment it closes: only the histogram and the reasons remain. While open, its public
    view gives only how many have voted, and it closes (shows a result) only from
    MIN_AGGREGATE votes on, so that no single score stands out.

    The stored result keeps `voters`, the members who voted in the order they first
    did (never their scores): who ratified a text that passed. Public views leave it out.
    """

    text: str
    threshold: int
    anonymous: bool = False
    scores: dict[int, int] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)
    closed: bool = False
    result: dict[str, Any] | None = None

    @classmethod
    def create(cls, text: str, threshold: Any, anonymous: bool = False) -> ConsentVote:
        """Return an open vote on `text` with a validated threshold (1-5)."""
        return cls(text=text, threshold=threshold_value(threshold), anonymous=anonymous)

    def cast(self, member_id: int, score: Any, reason: Any) -> None:
        """Record (or change) a member's score; an objection needs a reason."""
        if self.closed:
            raise RitualError("no_vote_open")
        score = score_value(score)
        if not isinstance(reason, str):
            raise RitualError("invalid_value")
        reason = tidy_text(reason)
        if len(reason) > REASON_LIMIT:
            raise RitualError("too_long", limit=REASON_LIMIT)
        if score < self.threshold and not reason:
            raise RitualError("reason_required", threshold=self.threshold)
        self.scores[member_id] = score
        self.reasons[member_id] = reason

    def close(self) -> dict[str, Any]:
        """Close the vote and return its result; a vote nobody cast cannot close."""
        if self.closed:
            raise RitualError("no_vote_open")
        if not self.scores:
            raise RitualError("no_votes")
        if self.anonymous and len(self.scores) < MIN_AGGREGATE:
            raise RitualError("anonymous_needs_three", count=MIN_AGGREGATE)
        histogram = [0] * (SCORE_MAX - SCORE_MIN + 1)
        for score in self.scores.values():
            histogram[score - SCORE_MIN] += 1
        objectors = [m for m, s in self.scores.items() if s < self.threshold]
        result: dict[str, Any] = {
            "passed": not objectors,
            "count": len(self.scores),
            "threshold": self.threshold,
            "histogram": histogram,
            # In the order they first voted; a changed vote keeps its place.
            "voters": list(self.scores),
        }
        if self.anonymous:
            # Sorted by content, so the order says nothing about who voted when.
            objections = [{"score": self.scores[m], "reason": self.reasons[m]} for m in objectors]
            result["objections"] = sorted(objections, key=lambda o: (o["score"], o["reason"]))
            self.scores, self.reasons = {}, {}
        else:
            ordered = sorted(objectors, key=lambda m: (self.scores[m], m))
            result["objections"] = [
                {"score": self.scores[m], "reason": self.reasons[m], "member": m} for m in ordered
            ]
            result["scores"] = {str(m): s for m, s in sorted(self.scores.items())}
        self.closed = True
        self.result = result
        return copy.deepcopy(result)

    def public_view(self) -> dict[str, Any]:
        """Return what the room sees: how many voted (who, unless anonymous), then the result."""
        view: dict[str, Any] = {
            "open": not self.closed,
            "text": self.text,
            "threshold": self.threshold,
        }
        if self.closed:
            view["result"] = public_round(self.result) if self.result is not None else None
        else:
            view["count"] = len(self.scores)
            if not self.anonymous:
                view["voted"] = sorted(self.scores)
        return view

    def private_view(self, member_id: int) -> dict[str, Any] | None:
        """Return this member's own score and reason, or None if they have none."""
        if member_id not in self.scores:
            return None
        return {"score": self.scores[member_id], "reason": self.reasons.get(member_id, "")}

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "text": self.text,
            "threshold": self.threshold,
            "anonymous": self.anonymous,
            "scores": {str(m): s for m, s in self.scores.items()},
            "reasons": {str(m): r for m, r in self.reasons.items()},
            "closed": self.closed,
            "result": copy.deepcopy(self.result),
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> ConsentVote:
        """Rebuild from `to_state` output."""
        return cls(
            text=data.get("text", ""),
            threshold=int(data.get("threshold", 0)),
            anonymous=bool(data.get("anonymous")),
            scores={m: int(s) for m, s in int_keys(data.get("scores", {})).items()},
            reasons=int_keys(data.get("reasons", {})),
            closed=bool(data.get("closed")),
            result=copy.deepcopy(data.get("result")),
        )
