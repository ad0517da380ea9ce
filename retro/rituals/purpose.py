"""Purpose alignment: private cards, grouped and dot-voted, then a statement ratified by consent."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from retro.rituals.base import (
    Actor,
    RitualError,
    require_facilitator,
    tidy_text,
)

# The card limits live with the board; imported from here by forms, validation and tests.
from retro.rituals.board import CARD_LIMIT as CARD_LIMIT
from retro.rituals.board import GROUP_TITLE_LIMIT as GROUP_TITLE_LIMIT
from retro.rituals.board import MAX_CARDS_PER_MEMBER as MAX_CARDS_PER_MEMBER
from retro.rituals.board import MAX_VOTES, MIN_VOTES, CardBoard, int_in_range
from retro.rituals.consent import (
    ConsentSteps,
    ConsentVote,
    public_round,
    require_open,
    voters_of,
)

COLUMNS = ("exists", "bring")
PHASES = ("write", "group", "vote", "draft", "consent", "ratified")
# The charter's PURPOSE_LIMIT (retro.charter.content imports the rituals, so not from there).
PURPOSE_LIMIT = 2000


@dataclass
class PurposeAlignment(CardBoard, ConsentSteps):
    """State of the purpose-alignment step.

    Phases: "write" (cards private to their authors) -> reveal -> "group" -> open_voting
    -> "vote" (dot votes hidden until closed) -> close_voting -> "draft" -> call_consent
    -> "consent" -> close_consent -> "ratified", or back to "draft" to amend and vote again.
    A consent vote may also be called straight from "group", skipping the dot vote.
    cancel_consent (or the room leaving the step: `suspend`) discards an open vote and
    goes back to "draft" without a round. The cards, groups and dots are a `CardBoard`
    with the columns "exists" (what the team exists for) and "bring" (what one brings).
    """

    loaded: bool = False
    current_purpose: str = ""
    results: list[dict[str, Any]] | None = None
    statement: str = ""
    # The consent vote being held (`vote` is the dot-vote command).
    ballot: ConsentVote | None = None
    rounds: list[dict[str, Any]] = field(default_factory=list)
    ratified: str | None = None

    kind = "purpose"

    @classmethod
    def create(cls, *, anonymous: Any = False, votes: Any = 3) -> PurposeAlignment:
        """Return a new, not yet started purpose alignment with validated settings."""
        if not isinstance(anonymous, bool):
            raise RitualError("invalid_field", field="anonymous")
        if not int_in_range(votes, MIN_VOTES, MAX_VOTES):
            raise RitualError("invalid_field", field="votes")
        return cls(anonymous=anonymous, votes_per_person=votes)

    # -- lifecycle ---------------------------------------------------------

    def load_charter(self, purpose: Any, agreements: Any) -> None:
        """Remember the charter's purpose as the step first opened; later calls change nothing."""
        if self.loaded:
            return
        self.current_purpose = purpose if isinstance(purpose, str) else ""
        self.loaded = True

    # -- dot voting --------------------------------------------------------

    def open_voting(self, actor: Actor, votes: Any) -> None:
        """Stop grouping and give everyone `votes` dots to spend (facilitator only)."""
        require_facilitator(actor)
        self._require_phase("group")
        if not int_in_range(votes, MIN_VOTES, MAX_VOTES):
            raise RitualError("invalid_value")
        self._require_cards()
        self.votes_per_person = votes
        self.phase = "vote"

    def close_voting(self, actor: Actor) -> None:
        """Close the dot vote and publish the ranking (facilitator only)."""
        require_facilitator(actor)
        self._require_phase("vote")
        self.results = self._ranking()
        self.phase = "draft"

    # -- the statement and its ratification --------------------------------

    def draft_statement(self, actor: Actor, text: Any) -> None:
        """Write (or rewrite) the purpose statement live; an empty text clears it."""
        require_facilitator(actor)
        self._require_phase("group", "vote", "draft")
        if not isinstance(text, str):
            raise RitualError("invalid_value")
        text = tidy_text(text)
        if len(text) > PURPOSE_LIMIT:
            raise RitualError("too_long", limit=PURPOSE_LIMIT)
        self.statement = text

    def call_consent(self, actor: Actor, threshold: Any, proposal: Any) -> None:
        """Ask the room to consent to the statement (facilitator only; `proposal` is None)."""
        require_facilitator(actor)
        self._require_phase("group", "draft")
        if proposal is not None:
            raise RitualError("invalid_field", field="proposal")
        if not self.statement:
            raise RitualError("empty_text")
        self.ballot = ConsentVote.create(self.statement, threshold, anonymous=self.anonymous)
        self.phase = "consent"

    def consent(self, actor: Actor, score: Any, reason: Any) -> None:
        """Record the actor's fist-of-five score on the statement."""
        self._require_started()
        require_open(self.ballot).cast(actor.member_id, score, reason)

    def close_consent(self, actor: Actor) -> None:
        """Close the vote: ratify the statement, or go back to drafting (facilitator only)."""
        require_facilitator(actor)
        self._require_started()
        vote = require_open(self.ballot)
        result = vote.close()
        self.rounds.append({**result, "text": vote.text})
        self.ballot = None
        if result["passed"]:
            self.ratified = vote.text
            self.phase = "ratified"
        else:
            self.phase = "draft"

    def suspend(self) -> None:
        """Discard a vote still open as the room leaves the step: no round, no scores kept.

        Otherwise an anonymous vote's scores would stay stored next to their members.
        """
        if self.ballot is not None and not self.ballot.closed:
            self.ballot = None
            self.phase = "draft"

    def ratifiers(self) -> list[int]:
        """Return who took part in the vote that ratified the statement, in voting order."""
        if self.ratified is None:
            return []
        return voters_of(
            r for r in self.rounds if r.get("passed") and r.get("text") == self.ratified
        )

    # -- views -------------------------------------------------------------

    def public_view(self) -> dict[str, Any]:
        """Return what every member may see; no card text before the reveal."""
        return {
            "kind": self.kind,
            "started": self.started,
            "phase": self.phase,
            "anonymous": self.anonymous,
            "current_purpose": self.current_purpose,
            "columns": list(COLUMNS),
            **self._board_view(),
            "votes_per_person": self.votes_per_person,
            "voters": len(self.dots),
            "results": copy.deepcopy(self.results) if self.results is not None else [],
            "statement": self.statement,
            "vote": self.ballot.public_view() if self.ballot else None,
            "rounds": [public_round(r) for r in self.rounds],
            "ratified": self.ratified,
        }

    def private_view(self, member_id: int) -> dict[str, Any]:
        """Return the member's own cards, dots and consent score."""
        return {
            "cards": self._own_cards(member_id),
            **self._own_dots(member_id),
            "consent": self.ballot.private_view(member_id) if self.ballot else None,
        }

    # -- persistence -------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "anonymous": self.anonymous,
            "votes_per_person": self.votes_per_person,
            "started": self.started,
            "loaded": self.loaded,
            "phase": self.phase,
            "current_purpose": self.current_purpose,
            **self._board_state(),
            "results": copy.deepcopy(self.results),
            "statement": self.statement,
            "ballot": self.ballot.to_state() if self.ballot else None,
            "rounds": copy.deepcopy(self.rounds),
            "ratified": self.ratified,
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> PurposeAlignment:
        """Rebuild from `to_state` output."""
        ballot = data.get("ballot")
        return cls(
            anonymous=bool(data.get("anonymous")),
            votes_per_person=int(data.get("votes_per_person", 3)),
            started=bool(data.get("started")),
            loaded=bool(data.get("loaded")),
            phase=data.get("phase", "write"),
            current_purpose=data.get("current_purpose", ""),
            **cls._board_fields(data),
            results=copy.deepcopy(data.get("results")),
            statement=data.get("statement", ""),
            ballot=ConsentVote.from_state(ballot) if ballot else None,
            rounds=copy.deepcopy(data.get("rounds", [])),
            ratified=data.get("ratified"),
        )

    # -- internals ---------------------------------------------------------

    def _column_keys(self) -> tuple[str, ...]:
        """Return the purpose board's columns."""
        return COLUMNS
