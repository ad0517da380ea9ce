"""A card board: cards written privately, revealed, grouped and dot-voted.

Purpose alignment and the retrospective both run one; each says which columns it has,
when grouping is allowed and how many dots may go on one group.
"""

from __future__ import annotations

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

CARD_LIMIT = 280
GROUP_TITLE_LIMIT = 80
MIN_VOTES, MAX_VOTES = 1, 10
MAX_CARDS_PER_MEMBER = 20


def int_in_range(value: Any, low: int, high: int) -> bool:
    """Say whether `value` is an int (not a bool) from `low` to `high`."""
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def one_line_text(value: Any, limit: int) -> str:
    """Return the tidied text, refusing an empty, oversize or multi-line one."""
    text = clean_text(value, limit)
    # Any line break (also a lone \r or U+2028) would break a heading or a list item.
    if len(text.splitlines()) > 1:
        raise RitualError("one_line")
    return text


@dataclass
class Card:
    """One card in a column of the board, written by `author`, in the group named `group`."""

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
class CardBoard:
    """The cards, groups and dots of a step, and the commands that change them.

    Phases named here: "write" (cards private to their authors) -> reveal -> "group"
    -> "vote" (dot votes hidden from the room; each member sees only their own).
    A step says which columns it has (`_column_keys`), and may narrow grouping
    (`_require_grouping`) or cap the dots on one group (`_per_card_limit`).
    """

    anonymous: bool = False
    votes_per_person: int = 3
    started: bool = False
    phase: str = "write"
    cards: list[Card] = field(default_factory=list)
    # Card ids are never reused, so a deleted card's id cannot turn up again as a group.
    card_count: int = 0
    titles: dict[str, str] = field(default_factory=dict)
    # Each member's dot votes, one group id per vote (stacking repeats the id).
    dots: dict[int, list[str]] = field(default_factory=dict)

    # -- what each step decides --------------------------------------------

    def _column_keys(self) -> tuple[str, ...]:
        """Return the keys of the columns a card may go in."""
        raise NotImplementedError  # pragma: no cover - each step defines it

    def _require_grouping(self, actor: Actor) -> None:
        """Refuse a grouping move outside the group phase."""
        self._require_phase("group")

    def _per_card_limit(self) -> int | None:
        """Return how many of one member's dots may go on one group; None: the whole budget."""
        return None

    def begin(self, member_ids: Sequence[int], rng: Any) -> None:
        """Open the step; a second call changes nothing."""
        self.started = True

    def join(self, member_id: int) -> None:
        """Nothing to do: a late member writes, groups and votes like everyone else."""

    def _set_phase(self, phase: str) -> None:
        """Move to another phase."""
        self.phase = phase

    # -- writing -----------------------------------------------------------

    def add_card(self, actor: Actor, column: Any, text: Any) -> None:
        """Add a private card to a column (until the reveal)."""
        self._require_writing()
        if not isinstance(column, str) or column not in self._column_keys():
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

    def reveal(self, actor: Actor, *, rng: Any = None) -> None:
        """Show every card to the room and start grouping (facilitator only).

        In an anonymous step the cards are shuffled first and take new ids, so neither
        their order nor their ids tell in which order they were written: together with
        who was seen typing when, that order could name an author. Nothing refers to a
        card by id before the reveal but its author's own view (no groups, no dots yet).
        """
        require_facilitator(actor)
        self._require_started()
        if self.phase != "write":
            raise RitualError("already_revealed")
        if self.anonymous and rng is not None:
            rng.shuffle(self.cards)
            for card in self.cards:
                self.card_count += 1
                card.id = card.group = f"c{self.card_count}"
        self._set_phase("group")

    # -- grouping ----------------------------------------------------------

    def group_card(self, actor: Actor, card: Any, target: Any) -> None:
        """Move a card into the group of the `target` card, or on its own (target None).

        A group is named by the id of one of its cards. When the card that names a
        group leaves it, the cards left behind take the id of the earliest of them
        (in the order the cards were written), together with the group's title.
        That rule is deterministic, so every client names the group the same way,
        and a group only changes its id when the card it was named after leaves.
        """
        self._require_grouping(actor)
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
        self._require_grouping(actor)
        if group not in self._groups():
            raise RitualError("unknown_group")
        if not isinstance(title, str):
            raise RitualError("invalid_value")
        if not tidy_text(title):
            self.titles.pop(group, None)
            return
        self.titles[group] = one_line_text(title, GROUP_TITLE_LIMIT)

    # -- dot voting --------------------------------------------------------

    def vote(self, actor: Actor, group: Any) -> None:
        """Put one of the actor's dots on a group; several may go on the same one."""
        self._require_phase("vote")
        if group not in self._groups():
            raise RitualError("unknown_group")
        mine = self.dots.get(actor.member_id, [])
        if len(mine) >= self.votes_per_person:
            raise RitualError("no_votes_left", limit=self.votes_per_person)
        limit = self._per_card_limit()
        if limit is not None and mine.count(group) >= limit:
            raise RitualError("card_vote_limit", limit=limit)
        self.dots[actor.member_id] = [*mine, group]

    def unvote(self, actor: Actor, group: Any) -> None:
        """Take back one of the actor's dots from a group."""
        self._require_phase("vote")
        mine = list(self.dots.get(actor.member_id, []))
        if group not in mine:
            raise RitualError("not_voted")
        mine.remove(group)
        self._set_dots(actor.member_id, mine)

    def _require_cards(self) -> None:
        """Refuse to open a dot vote on an empty board."""
        if not self.cards:
            raise RitualError("no_cards")

    def _ranking(self) -> list[dict[str, Any]]:
        """Return every group with its dots, most dots first; ties keep the group order."""
        counts = Counter(g for dots in self.dots.values() for g in dots)
        # sorted() is stable: groups with equal votes keep their first-card order.
        ranked = sorted(self._groups(), key=lambda g: -counts[g])
        return [{"group": g, "votes": counts[g]} for g in ranked]

    # -- views -------------------------------------------------------------

    def _board_view(self) -> dict[str, Any]:
        """Return the board as the room sees it: counts only before the reveal."""
        revealed = self.phase != "write"
        keys = self._column_keys()
        return {
            "written": {col: sum(c.column == col for c in self.cards) for col in keys},
            "writers": [] if self.anonymous else sorted({c.author for c in self.cards}),
            "cards": [self._card_view(c) for c in self.cards] if revealed else [],
            "groups": [
                {"id": g, "title": self.titles.get(g, ""), "cards": ids}
                for g, ids in (self._groups().items() if revealed else ())
            ],
        }

    def _own_cards(self, member_id: int) -> list[dict[str, Any]]:
        """Return the member's own cards, text included."""
        return [
            {"id": c.id, "column": c.column, "text": c.text}
            for c in self.cards
            if c.author == member_id
        ]

    def _own_dots(self, member_id: int) -> dict[str, Any]:
        """Return the member's dots per group and how many they have left."""
        dots = self.dots.get(member_id, [])
        return {
            "votes": dict(Counter(dots)),
            "votes_left": max(0, self.votes_per_person - len(dots)),
        }

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

    # -- persistence -------------------------------------------------------

    def _board_state(self) -> dict[str, Any]:
        """Serialise the cards, titles and dots to JSON-ready data."""
        return {
            "cards": [c.to_state() for c in self.cards],
            "card_count": self.card_count,
            "titles": dict(self.titles),
            "dots": {str(m): list(d) for m, d in self.dots.items()},
        }

    @staticmethod
    def _board_fields(data: Mapping[str, Any]) -> dict[str, Any]:
        """Return the cards, titles and dots of `_board_state` output as constructor fields."""
        return {
            "cards": [Card.from_state(c) for c in data.get("cards", [])],
            "card_count": int(data.get("card_count", 0)),
            "titles": dict(data.get("titles", {})),
            "dots": {m: list(d) for m, d in int_keys(data.get("dots", {})).items()},
        }

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
