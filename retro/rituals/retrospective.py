"""Retrospective: private cards in a format's columns, grouped, dot-voted, discussed, deeds."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from retro.rituals.agreements import review_date_value
from retro.rituals.base import Actor, RitualError, charter_agreements, require_facilitator
from retro.rituals.board import (
    CARD_LIMIT,
    MAX_VOTES,
    MIN_VOTES,
    CardBoard,
    int_in_range,
    one_line_text,
)
from retro.rituals.room import TIMER_MAX, TIMER_MIN

__all__ = [
    "CARD_LIMIT",
    "COLUMN_KEYS",
    "COLUMN_TITLE_LIMIT",
    "DEED_LIMIT",
    "FORMATS",
    "MAX_COLUMNS",
    "MAX_DEEDS",
    "MIN_COLUMNS",
    "PHASES",
    "Deed",
    "Retrospective",
]

FORMATS = ("ssc", "msg", "4ls", "connection", "custom")
# The columns of the built-in formats; clients translate the keys. A custom format's
# columns are k1..kN with the facilitator's titles.
COLUMN_KEYS: dict[str, tuple[str, ...]] = {
    "ssc": ("start", "stop", "continue"),
    "msg": ("mad", "sad", "glad"),
    "4ls": ("liked", "learned", "lacked", "longed"),
    "connection": ("purpose", "agreements", "anchors", "deeds", "leadership"),
}
MIN_COLUMNS, MAX_COLUMNS = 2, 6
COLUMN_TITLE_LIMIT = 40
PHASES = ("write", "group", "vote", "discuss", "deeds")
# Topics are highlighted and deeds written while discussing and in the deeds phase.
DISCUSSION_PHASES = ("discuss", "deeds")
DEED_LIMIT = 280
MAX_DEEDS = 30


@dataclass
class Deed:
    """An action item: what, who ("everyone" when `owner` is None), by when, and why."""

    id: str
    text: str
    owner: int | None
    due: str | None
    agreement: str | None
    topic: str | None
    author: int

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data (also the deed's public view)."""
        return {
            "id": self.id,
            "text": self.text,
            "owner": self.owner,
            "due": self.due,
            "agreement": self.agreement,
            "topic": self.topic,
            "author": self.author,
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> Deed:
        """Rebuild from `to_state` output."""
        owner = data.get("owner")
        return cls(
            id=data["id"],
            text=data.get("text", ""),
            owner=int(owner) if owner is not None else None,
            due=data.get("due"),
            agreement=data.get("agreement"),
            topic=data.get("topic"),
            author=int(data["author"]),
        )


@dataclass
class Retrospective(CardBoard):
    """State of a retrospective step.

    Phases: "write" (cards private to their authors, in the format's columns) -> reveal
    -> "group" (the facilitator may lock grouping to themselves) -> open_voting -> "vote"
    (dots hidden from the room, a budget per person and a limit per group) -> close_voting
    -> "discuss" (the topics ranked by dots; skip_voting comes here straight from "group")
    -> start_deeds -> "deeds". The facilitator highlights one topic at a time, with an
    optional timebox. Deeds are written while discussing and in the deeds phase.
    Anonymity is settled when the step is created: no command changes it.
    """

    format: str = "ssc"
    # The facilitator's column titles, for the custom format only.
    column_titles: list[str] = field(default_factory=list)
    # How many of one member's dots may go on one group (the whole budget: stacking).
    per_card: int = 3
    loaded: bool = False
    grouping_locked: bool = False
    # The facilitator went from grouping straight to the discussion.
    voting_skipped: bool = False
    topics: list[dict[str, Any]] = field(default_factory=list)
    current_topic: str | None = None
    discussed: list[str] = field(default_factory=list)
    topic_ends_at: float | None = None
    topic_duration: int = 0
    deeds: list[Deed] = field(default_factory=list)
    # Deed ids are never reused either.
    deed_count: int = 0
    agreements: list[dict[str, str]] = field(default_factory=list)
    # Who said they are ready in the current phase; a new phase starts with nobody.
    ready_members: list[int] = field(default_factory=list)

    kind = "retro"

    @classmethod
    def create(
        cls,
        *,
        format: Any = "ssc",
        columns: Any = None,
        anonymous: Any = False,
        votes: Any = 3,
    ) -> Retrospective:
        """Return a new, not yet started retrospective with validated settings."""
        if not isinstance(format, str) or format not in FORMATS:
            raise RitualError("invalid_field", field="format")
        titles = _column_titles(columns) if format == "custom" else []
        if format != "custom" and columns not in (None, [], ()):
            raise RitualError("invalid_field", field="columns")
        if not isinstance(anonymous, bool):
            raise RitualError("invalid_field", field="anonymous")
        if not int_in_range(votes, MIN_VOTES, MAX_VOTES):
            raise RitualError("invalid_field", field="votes")
        return cls(
            format=format,
            column_titles=titles,
            anonymous=anonymous,
            votes_per_person=votes,
            per_card=votes,
        )

    # -- lifecycle ---------------------------------------------------------

    def load_charter(self, purpose: Any, agreements: Any) -> None:
        """Keep the charter's agreements (id and text) for deeds to link to; once only."""
        if self.loaded:
            return
        self.agreements = [
            {"id": item["id"], "text": item["text"]} for item in charter_agreements(agreements)
        ]
        self.loaded = True

    def suspend(self) -> None:
        """Nothing to discard when the room leaves the step: everything waits for its return."""

    # -- grouping ----------------------------------------------------------

    def lock_grouping(self, actor: Actor, locked: Any) -> None:
        """Let only the facilitator move cards and title groups, or everyone again."""
        require_facilitator(actor)
        self._require_phase("group")
        if not isinstance(locked, bool):
            raise RitualError("invalid_value")
        self.grouping_locked = locked

    # -- dot voting --------------------------------------------------------

    def open_voting(self, actor: Actor, votes: Any, per_card: Any = None) -> None:
        """Stop grouping and give everyone `votes` dots, at most `per_card` on one group.

        Facilitator only. `per_card` None lets a member stack their whole budget.
        """
        require_facilitator(actor)
        self._require_phase("group")
        if not int_in_range(votes, MIN_VOTES, MAX_VOTES):
            raise RitualError("invalid_value")
        if per_card is None:
            per_card = votes
        elif not int_in_range(per_card, 1, votes):
            raise RitualError("invalid_value")
        self._require_cards()
        self.votes_per_person = votes
        self.per_card = per_card
        self._set_phase("vote")

    def close_voting(self, actor: Actor) -> None:
        """Close the dot vote: the groups become topics, most dots first (facilitator only)."""
        require_facilitator(actor)
        self._require_phase("vote")
        self.topics = self._ranking()
        self._set_phase("discuss")

    def skip_voting(self, actor: Actor) -> None:
        """Discuss straight after grouping: topics in group order (facilitator only)."""
        require_facilitator(actor)
        self._require_phase("group")
        self.topics = [{"group": g, "votes": 0} for g in self._groups()]
        self.voting_skipped = True
        self._set_phase("discuss")

    # -- discussing --------------------------------------------------------

    def highlight(self, actor: Actor, topic: Any, seconds: Any, *, now: float) -> None:
        """Make `topic` the one the room discusses, timeboxed to `seconds` (0: no timebox).

        Facilitator only. The topic highlighted before counts as discussed.
        """
        require_facilitator(actor)
        self._require_phase(*DISCUSSION_PHASES)
        if topic not in self._topic_ids():
            raise RitualError("unknown_group")
        seconds = _timebox(seconds, none_allowed=True)
        if topic != self.current_topic:  # highlighting it again restarts its timebox
            self._mark_discussed()
        self.current_topic = topic
        self.topic_ends_at = float(now + seconds) if seconds else None
        self.topic_duration = seconds

    def extend_topic(self, actor: Actor, seconds: Any, *, now: float) -> None:
        """Add `seconds` to the current topic's timebox, or restart it if it ran out."""
        require_facilitator(actor)
        self._require_phase(*DISCUSSION_PHASES)
        seconds = _timebox(seconds)
        if self.current_topic is None or self.topic_ends_at is None:
            raise RitualError("timer_not_running")
        if self.topic_ends_at <= now:  # ran out: a fresh timebox of `seconds`
            self.topic_ends_at = float(now + seconds)
            self.topic_duration = seconds
        else:
            self.topic_ends_at += seconds
            self.topic_duration += seconds

    def start_deeds(self, actor: Actor) -> None:
        """End the discussion and turn to the deeds (facilitator only)."""
        require_facilitator(actor)
        self._require_phase("discuss")
        self._mark_discussed()
        self._set_phase("deeds")

    # -- deeds -------------------------------------------------------------

    def add_deed(
        self,
        actor: Actor,
        text: Any,
        owner: Any,
        due: Any,
        agreement: Any,
        *,
        members: Collection[int],
    ) -> None:
        """Write down a deed for the current topic; `owner` None means everyone."""
        self._require_phase(*DISCUSSION_PHASES)
        values = self._deed_values(text, owner, due, agreement, members)
        if len(self.deeds) >= MAX_DEEDS:
            raise RitualError("too_many_deeds", limit=MAX_DEEDS)
        self.deed_count += 1
        self.deeds.append(
            Deed(
                id=f"d{self.deed_count}",
                topic=self.current_topic,
                author=actor.member_id,
                **values,
            )
        )

    def edit_deed(
        self,
        actor: Actor,
        deed: Any,
        text: Any,
        owner: Any,
        due: Any,
        agreement: Any,
        *,
        members: Collection[int],
    ) -> None:
        """Change a deed (its author or the facilitator); its topic stays."""
        self._require_phase(*DISCUSSION_PHASES)
        chosen = self._changeable_deed(actor, deed)
        values = self._deed_values(text, owner, due, agreement, members)
        for name, value in values.items():
            setattr(chosen, name, value)

    def delete_deed(self, actor: Actor, deed: Any) -> None:
        """Remove a deed (its author or the facilitator); its id is not used again."""
        self._require_phase(*DISCUSSION_PHASES)
        self.deeds.remove(self._changeable_deed(actor, deed))

    # -- readiness ---------------------------------------------------------

    def ready(self, actor: Actor, ready: Any) -> None:
        """Say whether the actor is done with the current phase."""
        self._require_started()
        if not isinstance(ready, bool):
            raise RitualError("invalid_value")
        if ready and actor.member_id not in self.ready_members:
            self.ready_members.append(actor.member_id)
        elif not ready and actor.member_id in self.ready_members:
            self.ready_members.remove(actor.member_id)

    # -- views -------------------------------------------------------------

    def public_view(self) -> dict[str, Any]:
        """Return what every member may see.

        No card text before the reveal, no card author in an anonymous step, and never
        whose dots went where: only how many members voted, and the totals once closed.
        """
        return {
            "kind": self.kind,
            "started": self.started,
            "phase": self.phase,
            "format": self.format,
            "anonymous": self.anonymous,
            "columns": self._columns(),
            **self._board_view(),
            "grouping_locked": self.grouping_locked,
            "voting_skipped": self.voting_skipped,
            "votes_per_person": self.votes_per_person,
            "per_card": self.per_card,
            "voters": len(self.dots),
            "topics": copy.deepcopy(self.topics),
            "current_topic": self.current_topic,
            "discussed": list(self.discussed),
            "topic_timer": {"ends_at": self.topic_ends_at, "duration": self.topic_duration},
            "deeds": [d.to_state() for d in self.deeds],
            "agreements": copy.deepcopy(self.agreements),
            "ready": len(self.ready_members),
        }

    def private_view(self, member_id: int) -> dict[str, Any]:
        """Return the member's own cards and dots, and whether they said they are ready.

        Only the member's own commands send them this view, so `ready_phase` (the phase
        it is for) lets their client tell that a later phase started without them.
        """
        ready = member_id in self.ready_members
        return {
            "cards": self._own_cards(member_id),
            **self._own_dots(member_id),
            "ready": ready,
            "ready_phase": self.phase if ready else None,
        }

    # -- persistence -------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "format": self.format,
            "column_titles": list(self.column_titles),
            "anonymous": self.anonymous,
            "votes_per_person": self.votes_per_person,
            "per_card": self.per_card,
            "started": self.started,
            "loaded": self.loaded,
            "phase": self.phase,
            **self._board_state(),
            "grouping_locked": self.grouping_locked,
            "voting_skipped": self.voting_skipped,
            "topics": copy.deepcopy(self.topics),
            "current_topic": self.current_topic,
            "discussed": list(self.discussed),
            "topic_timer": {"ends_at": self.topic_ends_at, "duration": self.topic_duration},
            "deeds": [d.to_state() for d in self.deeds],
            "deed_count": self.deed_count,
            "agreements": copy.deepcopy(self.agreements),
            "ready": list(self.ready_members),
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> Retrospective:
        """Rebuild from `to_state` output."""
        votes = int(data.get("votes_per_person", 3))
        timer = data.get("topic_timer") or {}
        ends_at = timer.get("ends_at")
        return cls(
            format=data.get("format", "ssc"),
            column_titles=list(data.get("column_titles", [])),
            anonymous=bool(data.get("anonymous")),
            votes_per_person=votes,
            per_card=int(data.get("per_card", votes)),
            started=bool(data.get("started")),
            loaded=bool(data.get("loaded")),
            phase=data.get("phase", "write"),
            **cls._board_fields(data),
            grouping_locked=bool(data.get("grouping_locked")),
            voting_skipped=bool(data.get("voting_skipped")),
            topics=copy.deepcopy(list(data.get("topics", []))),
            current_topic=data.get("current_topic"),
            discussed=list(data.get("discussed", [])),
            topic_ends_at=float(ends_at) if ends_at is not None else None,
            topic_duration=int(timer.get("duration", 0)),
            deeds=[Deed.from_state(d) for d in data.get("deeds", [])],
            deed_count=int(data.get("deed_count", 0)),
            agreements=copy.deepcopy(list(data.get("agreements", []))),
            ready_members=[int(m) for m in data.get("ready", [])],
        )

    # -- internals ---------------------------------------------------------

    def _column_keys(self) -> tuple[str, ...]:
        """Return the keys of this retrospective's columns."""
        return tuple(column["key"] for column in self._columns())

    def _columns(self) -> list[dict[str, str]]:
        """Return the columns with their titles ("" for a built-in format's: clients translate)."""
        if self.format == "custom":
            return [{"key": f"k{n}", "title": t} for n, t in enumerate(self.column_titles, 1)]
        return [{"key": key, "title": ""} for key in COLUMN_KEYS.get(self.format, ())]

    def _require_grouping(self, actor: Actor) -> None:
        """Refuse a grouping move outside the group phase, or by a member once locked."""
        self._require_phase("group")
        if self.grouping_locked and not actor.is_facilitator:
            raise RitualError("grouping_locked")

    def _per_card_limit(self) -> int | None:
        return self.per_card

    def _set_phase(self, phase: str) -> None:
        """Move to another phase; nobody is ready for it yet."""
        self.phase = phase
        self.ready_members = []

    def _topic_ids(self) -> list[str]:
        return [t["group"] for t in self.topics]

    def _mark_discussed(self) -> None:
        """Count the highlighted topic as discussed."""
        if self.current_topic is not None and self.current_topic not in self.discussed:
            self.discussed.append(self.current_topic)

    def _deed(self, deed_id: Any) -> Deed:
        """Return the deed with this id."""
        for deed in self.deeds:
            if deed.id == deed_id:
                return deed
        raise RitualError("unknown_deed")

    def _changeable_deed(self, actor: Actor, deed_id: Any) -> Deed:
        """Return a deed the actor may change: their own, or any for the facilitator."""
        deed = self._deed(deed_id)
        if deed.author != actor.member_id and not actor.is_facilitator:
            raise RitualError("not_author")
        return deed

    def _deed_values(
        self, text: Any, owner: Any, due: Any, agreement: Any, members: Collection[int]
    ) -> dict[str, Any]:
        """Return a deed's validated text, owner, due date and agreement."""
        text = one_line_text(text, DEED_LIMIT)
        if owner is not None:
            if isinstance(owner, bool) or not isinstance(owner, int):
                raise RitualError("invalid_value")
            if owner not in members:
                raise RitualError("unknown_member")
        when = review_date_value(due)
        if agreement is not None and agreement not in {a["id"] for a in self.agreements}:
            raise RitualError("unknown_agreement")
        return {"text": text, "owner": owner, "due": when, "agreement": agreement}


def _column_titles(columns: Any) -> list[str]:
    """Return a custom format's column titles: 2 to 6 distinct one-line titles."""
    if not isinstance(columns, list | tuple) or not MIN_COLUMNS <= len(columns) <= MAX_COLUMNS:
        raise RitualError("invalid_field", field="columns")
    try:
        titles = [one_line_text(title, COLUMN_TITLE_LIMIT) for title in columns]
    except RitualError:
        raise RitualError("invalid_field", field="columns") from None
    if len(set(titles)) != len(titles):
        raise RitualError("invalid_field", field="columns")
    return titles


def _timebox(seconds: Any, *, none_allowed: bool = False) -> int:
    """Return a topic timebox in seconds within the room timer's range (0: none, if allowed)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise RitualError("invalid_value")
    if seconds == 0 and none_allowed:
        return 0
    if not TIMER_MIN <= seconds <= TIMER_MAX:
        raise RitualError("invalid_timer", low=TIMER_MIN, high=TIMER_MAX)
    return seconds
