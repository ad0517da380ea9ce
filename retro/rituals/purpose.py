"""Purpose alignment: private cards, grouped and dot-voted, then a statement ratified by consent."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from retro.rituals.base import (
    Actor,
    RitualError,
    clean_text,
    int_keys,
    require_facilitator,
    tidy_text,
)
from retro.rituals.consent import (
    ConsentSteps,
    ConsentVote,
    public_round,
    require_open,
    voters_of,
)

COLUMNS = ("exists", "bring")
PHASES = ("write", "group", "vote", "draft", "consent", "ratified")
CARD_LIMIT = 280
# The charter's PURPOSE_LIMIT (retro.charter.content imports the rituals, so not from there).
PURPOSE_LIMIT = 2000
GROUP_TITLE_LIMIT = 80
MIN_VOTES, MAX_VOTES = 1, 10
MAX_CARDS_PER_MEMBER = 20


@dataclass
class Card:
    """One card: what the team exists for ("exists") or what its author brings ("bring")."""

    id: str
    column: str
    text: str
    author: int
    group: str

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "id": self.id,
            "column": self.column,
            "text": self.text,
            "author": self.author,
            "group": self.group,
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> Card:
        """Rebuild from `to_state` output."""
        return cls(
            id=data["id"],
            column=data["column"],
            text=data["text"],
            author=int(data["author"]),
            group=data.get("group", data["id"]),
        )


@dataclass
class PurposeAlignment(ConsentSteps):
    """State of the purpose-alignment step.

    Phases: "write" (cards private to their authors) -> reveal -> "group" -> open_voting
    -> "vote" (dot votes hidden until closed) -> close_voting -> "draft" -> call_consent
    -> "consent" -> close_consent -> "ratified", or back to "draft" to amend and vote again.
    A consent vote may also be called straight from "group", skipping the dot vote.
    cancel_consent (or the room leaving the step: `suspend`) discards an open vote and
    goes back to "draft" without a round.
    """

    anonymous: bool = False
    votes_per_person: int = 3
    started: bool = False
    loaded: bool = False
    phase: str = "write"
    current_purpose: str = ""
    cards: list[Card] = field(default_factory=list)
    # Card ids are never reused, so a deleted card's id cannot turn up again as a group.
    card_count: int = 0
    titles: dict[str, str] = field(default_factory=dict)
    # Each member's dot votes, one group id per vote (stacking repeats the id).
    dots: dict[int, list[str]] = field(default_factory=dict)
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
        if isinstance(votes, bool) or not isinstance(votes, int):
            raise RitualError("invalid_field", field="votes")
        if not MIN_VOTES <= votes <= MAX_VOTES:
            raise RitualError("invalid_field", field="votes")
        return cls(anonymous=anonymous, votes_per_person=votes)

    # -- lifecycle ---------------------------------------------------------

    def begin(self, member_ids: Sequence[int], rng: Any) -> None:
        """Open the step; a second call changes nothing."""
        self.started = True

    def join(self, member_id: int) -> None:
        """Nothing to do: a late member writes, groups and votes like everyone else."""

    def load_charter(self, purpose: Any, agreements: Any) -> None:
        """Remember the charter's purpose as the step first opened; later calls change nothing."""
        if self.loaded:
            return
        self.current_purpose = purpose if isinstance(purpose, str) else ""
        self.loaded = True

    # -- writing -----------------------------------------------------------

    def add_card(self, actor: Actor, column: Any, text: Any) -> None:
        """Add a private card to a column (until the reveal)."""
        self._require_writing()
        if column not in COLUMNS:
            raise RitualError("invalid_value")
        text = clean_text(text, CARD_LIMIT)
        if sum(c.author == actor.member_id for c in self.cards) >= MAX_CARDS_PER_MEMBER:
            raise RitualError("too_many_cards", limit=MAX_CARDS_PER_MEMBER)
        self.card_count += 1
        card_id = f"c{self.card_count}"
        self.cards.append(Card(card_id, column, text, actor.member_id, group=card_id))

    def edit_card(self, actor: Actor, card: Any, text: Any) -> None:
        """Change the text of one of the actor's own cards (until the reveal)."""
        self._require_writing()
        mine = self._own_card(actor, card)
        mine.text = clean_text(text, CARD_LIMIT)

    def delete_card(self, actor: Actor, card: Any) -> None:
        """Remove one of the actor's own cards (until the reveal)."""
        self._require_writing()
        self.cards.remove(self._own_card(actor, card))

    def reveal(self, actor: Actor) -> None:
        """Show every card to the room and start grouping (facilitator only)."""
        require_facilitator(actor)
        self._require_started()
        if self.phase != "write":
            raise RitualError("already_revealed")
        self.phase = "group"

    # -- grouping ----------------------------------------------------------

    def group_card(self, actor: Actor, card: Any, target: Any) -> None:
        """Move a card into the group of the `target` card, or on its own (target None).

        A group is named by the id of one of its cards. When the card that names a
        group leaves it, the cards left behind take the id of the earliest of them
        (in the order the cards were written), together with the group's title.
        That rule is deterministic, so every client names the group the same way,
        and a group only changes its id when the card it was named after leaves.
        """
        self._require_phase("group")
        moving = self._card(card)
        if target is None:
            if all(c is moving for c in self.cards if c.group == moving.group):
                return  # already on its own
            destination = moving.id
        else:
            destination = self._card(target).group
            if destination == moving.group:
                return  # already in that group
        old = moving.group
        rest = [c for c in self.cards if c.group == old and c is not moving]
        if not rest:
            self._forget_group(old)
        elif old == moving.id:
            heir = rest[0].id
            for c in rest:
                c.group = heir
            self._rename_group(old, heir)
        moving.group = destination

    def title_group(self, actor: Actor, group: Any, title: Any) -> None:
        """Give a group a one-line title; an empty title clears it."""
        self._require_phase("group")
        if group not in self._groups():
            raise RitualError("unknown_group")
        if not isinstance(title, str):
            raise RitualError("invalid_value")
        if not tidy_text(title):
            self.titles.pop(group, None)
            return
        title = clean_text(title, GROUP_TITLE_LIMIT)
        # Any line break (also a lone \r or U+2028) would break a heading.
        if len(title.splitlines()) > 1:
            raise RitualError("one_line")
        self.titles[group] = title

    # -- dot voting --------------------------------------------------------

    def open_voting(self, actor: Actor, votes: Any) -> None:
        """Stop grouping and give everyone `votes` dots to spend (facilitator only)."""
        require_facilitator(actor)
        self._require_phase("group")
        if isinstance(votes, bool) or not isinstance(votes, int):
            raise RitualError("invalid_value")
        if not MIN_VOTES <= votes <= MAX_VOTES:
            raise RitualError("invalid_value")
        if not self.cards:
            raise RitualError("no_cards")
        self.votes_per_person = votes
        self.phase = "vote"

    def vote(self, actor: Actor, group: Any) -> None:
        """Put one of the actor's dots on a group; several may go on the same one."""
        self._require_phase("vote")
        if group not in self._groups():
            raise RitualError("unknown_group")
        mine = self.dots.get(actor.member_id, [])
        if len(mine) >= self.votes_per_person:
            raise RitualError("no_votes_left", limit=self.votes_per_person)
        self.dots[actor.member_id] = [*mine, group]

    def unvote(self, actor: Actor, group: Any) -> None:
        """Take back one of the actor's dots from a group."""
        self._require_phase("vote")
        mine = list(self.dots.get(actor.member_id, []))
        if group not in mine:
            raise RitualError("not_voted")
        mine.remove(group)
        self._set_dots(actor.member_id, mine)

    def close_voting(self, actor: Actor) -> None:
        """Close the dot vote and publish the ranking (facilitator only)."""
        require_facilitator(actor)
        self._require_phase("vote")
        counts = Counter(g for dots in self.dots.values() for g in dots)
        # sorted() is stable: groups with equal votes keep their first-card order.
        ranked = sorted(self._groups(), key=lambda g: -counts[g])
        self.results = [{"group": g, "votes": counts[g]} for g in ranked]
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
        revealed = self.phase != "write"
        groups = self._groups()
        return {
            "kind": self.kind,
            "started": self.started,
            "phase": self.phase,
            "anonymous": self.anonymous,
            "current_purpose": self.current_purpose,
            "columns": list(COLUMNS),
            "written": {col: sum(c.column == col for c in self.cards) for col in COLUMNS},
            "writers": [] if self.anonymous else sorted({c.author for c in self.cards}),
            "cards": [self._card_view(c) for c in self.cards] if revealed else [],
            "groups": [
                {"id": g, "title": self.titles.get(g, ""), "cards": ids}
                for g, ids in (groups.items() if revealed else ())
            ],
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
        dots = self.dots.get(member_id, [])
        return {
            "cards": [
                {"id": c.id, "column": c.column, "text": c.text}
                for c in self.cards
                if c.author == member_id
            ],
            "votes": dict(Counter(dots)),
            "votes_left": max(0, self.votes_per_person - len(dots)),
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
            "cards": [c.to_state() for c in self.cards],
            "card_count": self.card_count,
            "titles": dict(self.titles),
            "dots": {str(m): list(d) for m, d in self.dots.items()},
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
            cards=[Card.from_state(c) for c in data.get("cards", [])],
            card_count=int(data.get("card_count", 0)),
            titles=dict(data.get("titles", {})),
            dots={m: list(d) for m, d in int_keys(data.get("dots", {})).items()},
            results=copy.deepcopy(data.get("results")),
            statement=data.get("statement", ""),
            ballot=ConsentVote.from_state(ballot) if ballot else None,
            rounds=copy.deepcopy(data.get("rounds", [])),
            ratified=data.get("ratified"),
        )

    # -- internals ---------------------------------------------------------

    def _require_started(self) -> None:
        if not self.started:
            raise RitualError("step_not_started")

    def _require_phase(self, *phases: str) -> None:
        self._require_started()
        if self.phase not in phases:
            raise RitualError("wrong_phase")

    def _require_writing(self) -> None:
        self._require_started()
        if self.phase != "write":
            raise RitualError("already_revealed")

    def _card(self, card_id: Any) -> Card:
        """Return the card with this id."""
        for card in self.cards:
            if card.id == card_id:
                return card
        raise RitualError("unknown_card")

    def _own_card(self, actor: Actor, card_id: Any) -> Card:
        """Return the actor's own card with this id."""
        card = self._card(card_id)
        if card.author != actor.member_id:
            raise RitualError("not_author")
        return card

    def _groups(self) -> dict[str, list[str]]:
        """Return group id -> card ids, groups in the order of their first card."""
        groups: dict[str, list[str]] = {}
        for card in self.cards:
            groups.setdefault(card.group, []).append(card.id)
        return groups

    def _card_view(self, card: Card) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": card.id,
            "column": card.column,
            "text": card.text,
            "group": card.group,
        }
        if not self.anonymous:
            view["author"] = card.author
        return view

    def _set_dots(self, member_id: int, dots: list[str]) -> None:
        if dots:
            self.dots[member_id] = dots
        else:
            self.dots.pop(member_id, None)

    def _rename_group(self, old: str, new: str) -> None:
        """Carry a group's title and dots over to its new id."""
        if old in self.titles:
            self.titles[new] = self.titles.pop(old)
        for member_id, dots in list(self.dots.items()):
            self.dots[member_id] = [new if g == old else g for g in dots]

    def _forget_group(self, group: str) -> None:
        """Drop a group that lost its last card: its title goes, its dots go back to the voters.

        Grouping and voting are separate phases, so no dots exist while cards move;
        this keeps the budget right even for a state where they somehow do.
        """
        self.titles.pop(group, None)
        for member_id, dots in list(self.dots.items()):
            self._set_dots(member_id, [g for g in dots if g != group])
