"""Looking back at the start of a room: the deeds review and the agreements check.

The deeds review lets the room mark each open deed of the team done, carried over or
dropped (with a reason). The agreements check asks everyone, anonymously, how well the
team keeps each agreement (1-5) and flags the agreements that drift or are due for review.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from retro.rituals.base import (
    MIN_AGGREGATE,
    SCALE_MIN,
    Actor,
    RitualError,
    ScaleTally,
    charter_agreements,
    clean_text,
    require_facilitator,
    tidy_text,
)

REASON_LIMIT = 280
# "open" takes a decision back: the deed stays open.
DECISIONS = ("done", "carry", "drop", "open")
THRESHOLD_MIN, THRESHOLD_MAX = 1, 5
DEFAULT_THRESHOLD = 3

# Optional text fields of a loaded deed: a string or None (also when missing).
# "room" is the title of the deed's room ("" for none) and "room_date" its date, so that
# every client can name an untitled room in its own language.
_OPTIONAL_DEED_TEXTS = ("owner", "due", "agreement_text", "room_date")


def _is_int(value: Any) -> bool:
    """Tell whether a value is an int (JSON's true and false are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _deed_record(item: Any) -> dict[str, Any] | None:
    """Return a loaded deed as the review keeps it, or None when it is malformed."""
    if not isinstance(item, Mapping):
        return None
    if not _is_int(item.get("id")) or not isinstance(item.get("text"), str):
        return None
    room = item.get("room", "")
    carried = item.get("carried", 0)
    if not isinstance(room, str) or not _is_int(carried) or carried < 0:
        return None
    record: dict[str, Any] = {"id": item["id"], "text": item["text"]}
    for name in _OPTIONAL_DEED_TEXTS:
        value = item.get(name)
        if value is not None and not isinstance(value, str):
            return None
        record[name] = value
    record.update(room=room, carried=carried, decision=None, reason="", by=None)
    return record


@dataclass
class DeedsReview:
    """State of the deeds-review step: the team's open deeds and what the room decided.

    Any member decides about any deed; the last decision counts and names who made it.
    """

    started: bool = False
    loaded: bool = False
    deeds: list[dict[str, Any]] = field(default_factory=list)
    # The team's date when the step opened ("YYYY-MM-DD"): deeds due before it are overdue.
    today: str | None = None

    kind = "deeds_review"

    @classmethod
    def create(cls) -> DeedsReview:
        """Return a new, not yet started deeds review."""
        return cls()

    # -- lifecycle ---------------------------------------------------------

    def begin(self, member_ids: Sequence[int], rng: Any) -> None:
        """Open the step; a second call changes nothing."""
        self.started = True

    def join(self, member_id: int) -> None:
        """Nothing to do: a late member decides like everyone else."""

    def suspend(self) -> None:
        """Nothing to cancel when the room leaves the step: every decision stays."""

    def load_deeds(self, deeds: Any, today: Any = None) -> None:
        """Copy the team's open deeds as the step first opened; later calls change nothing.

        Each deed is {"id": int, "text", "owner", "due", "room", "room_date", "carried",
        "agreement_text"}; malformed entries and repeated ids are skipped. `today` is the
        team's date ("YYYY-MM-DD"), kept only when it is one.
        """
        if self.loaded:
            return
        self.today = _iso_date(today)
        items = deeds if isinstance(deeds, list | tuple) else []
        kept: list[dict[str, Any]] = []
        for item in items:
            record = _deed_record(item)
            if record is not None and all(d["id"] != record["id"] for d in kept):
                kept.append(record)
        self.deeds = kept
        self.loaded = True

    # -- commands ----------------------------------------------------------

    def decide_deed(self, actor: Actor, deed: Any, decision: Any, reason: Any) -> None:
        """Mark a deed done, carried over or dropped (with a reason), or open again."""
        self._require_started()
        record = self._deed(deed)
        if not isinstance(decision, str) or decision not in DECISIONS:
            raise RitualError("invalid_value")
        if decision == "drop":
            if not isinstance(reason, str):
                raise RitualError("invalid_value")
            # A reason of spaces or invisible characters is no reason.
            if not tidy_text(reason):
                raise RitualError("drop_reason_required")
            reason = clean_text(reason, REASON_LIMIT)
        elif reason != "":
            raise RitualError("invalid_field", field="reason")
        if decision == "open":
            record.update(decision=None, reason="", by=None)
        else:
            record.update(decision=decision, reason=reason, by=actor.member_id)

    # -- for the service -----------------------------------------------------

    def decisions(self) -> dict[int, tuple[str, str]]:
        """Return {deed id: (decision, reason)} for the deeds decided; open ones are absent."""
        return {d["id"]: (d["decision"], d["reason"]) for d in self.deeds if d["decision"]}

    # -- views -------------------------------------------------------------

    def public_view(self) -> dict[str, Any]:
        """Return what every member may see: the deeds, their decisions and who made them."""
        return {
            "kind": self.kind,
            "started": self.started,
            "deeds": copy.deepcopy(self.deeds),
            "decided": sum(d["decision"] is not None for d in self.deeds),
            "today": self.today,
        }

    def private_view(self, member_id: int) -> dict[str, Any]:
        """Return nothing: every decision is public."""
        return {}

    # -- persistence -------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "started": self.started,
            "loaded": self.loaded,
            "deeds": copy.deepcopy(self.deeds),
            "today": self.today,
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> DeedsReview:
        """Rebuild from `to_state` output."""
        return cls(
            started=bool(data.get("started")),
            loaded=bool(data.get("loaded")),
            deeds=copy.deepcopy(list(data.get("deeds", []))),
            today=data.get("today"),
        )

    # -- internals ---------------------------------------------------------

    def _require_started(self) -> None:
        if not self.started:
            raise RitualError("step_not_started")

    def _deed(self, deed_id: Any) -> dict[str, Any]:
        """Return the loaded deed with this id."""
        if _is_int(deed_id):
            for record in self.deeds:
                if record["id"] == deed_id:
                    return record
        raise RitualError("unknown_deed")


def _iso_date(value: Any) -> str | None:
    """Return a "YYYY-MM-DD" date as it is, None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return value if date.fromisoformat(value).isoformat() == value else None
    except ValueError:
        return None


@dataclass
class AgreementsCheck:
    """State of the agreements-check step: an anonymous 1-5 pulse on every agreement.

    Each member rates all agreements at once; only per-agreement histograms are kept
    (a `ScaleTally` whose scales are the agreement ids). The facilitator reveals once,
    which closes the pulse; the results show from MIN_AGGREGATE answers on.
    """

    threshold: int = DEFAULT_THRESHOLD
    started: bool = False
    loaded: bool = False
    today: str | None = None
    agreements: list[dict[str, Any]] = field(default_factory=list)
    revealed: bool = False
    tally: ScaleTally = field(default_factory=lambda: ScaleTally(scales=[]))

    kind = "agreements_check"

    @classmethod
    def create(cls, *, threshold: Any = DEFAULT_THRESHOLD) -> AgreementsCheck:
        """Return a new, not yet started check with a validated threshold (1-5)."""
        if not _is_int(threshold) or not THRESHOLD_MIN <= threshold <= THRESHOLD_MAX:
            raise RitualError("invalid_field", field="threshold")
        return cls(threshold=threshold)

    # -- lifecycle ---------------------------------------------------------

    def begin(self, member_ids: Sequence[int], rng: Any) -> None:
        """Open the step; a second call changes nothing."""
        self.started = True

    def join(self, member_id: int) -> None:
        """Nothing to do: a late member rates like everyone else."""

    def suspend(self) -> None:
        """Nothing to cancel when the room leaves the step: the answers are anonymous."""

    def load_charter(self, purpose: Any, agreements: Any, today: Any) -> None:
        """Copy the charter's agreements and today's date ("YYYY-MM-DD") as the step opened.

        Later calls change nothing. Malformed agreements and repeated ids are skipped; a
        malformed review date counts as none.
        """
        if self.loaded:
            return
        kept = [
            {**item, "review_date": _iso_date(item["review_date"])}
            for item in charter_agreements(agreements)
        ]
        self.agreements = kept
        self.today = _iso_date(today)
        self.tally = ScaleTally(scales=[a["id"] for a in kept])
        self.loaded = True

    # -- commands ----------------------------------------------------------

    def pulse(self, actor: Actor, values: Any) -> None:
        """Record the actor's anonymous 1-5 answer for every agreement at once."""
        self._require_started()
        if not self.agreements:
            raise RitualError("no_agreements")
        if self.revealed:
            raise RitualError("scales_closed")
        self.tally.rate(actor.member_id, values)

    def reveal(self, actor: Actor) -> None:
        """Close the pulse and show the results (facilitator only, once)."""
        require_facilitator(actor)
        self._require_started()
        if self.revealed:
            raise RitualError("already_revealed")
        self.revealed = True

    # -- flags -------------------------------------------------------------

    @property
    def conclusive(self) -> bool:
        """Tell whether the results are out: revealed, and answered by enough people."""
        return self.revealed and len(self.tally.responders) >= MIN_AGGREGATE

    def flags(self) -> dict[str, list[str]]:
        """Return {agreement id: reasons} for the flagged agreements only.

        "low": revealed, answered by enough people and the average is below the threshold;
        "review_due": the review date is today or past.
        """
        flagged: dict[str, list[str]] = {}
        for agreement in self.agreements:
            reasons = self._reasons(agreement)
            if reasons:
                flagged[agreement["id"]] = reasons
        return flagged

    # -- views -------------------------------------------------------------

    def public_view(self) -> dict[str, Any]:
        """Return what every member may see: never who gave which answer."""
        return {
            "kind": self.kind,
            "started": self.started,
            "threshold": self.threshold,
            "agreements": [{**a, "flags": self._reasons(a)} for a in self.agreements],
            "answered": len(self.tally.responders),
            "revealed": self.revealed,
            "results": self.tally.view(self.revealed),
        }

    def private_view(self, member_id: int) -> dict[str, Any]:
        """Return whether this member answered the pulse."""
        return {"rated": member_id in self.tally.responders}

    # -- persistence -------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "threshold": self.threshold,
            "started": self.started,
            "loaded": self.loaded,
            "today": self.today,
            "agreements": copy.deepcopy(self.agreements),
            "revealed": self.revealed,
            "tally": self.tally.to_state(),
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> AgreementsCheck:
        """Rebuild from `to_state` output."""
        return cls(
            threshold=int(data.get("threshold", DEFAULT_THRESHOLD)),
            started=bool(data.get("started")),
            loaded=bool(data.get("loaded")),
            today=data.get("today"),
            agreements=copy.deepcopy(list(data.get("agreements", []))),
            revealed=bool(data.get("revealed")),
            tally=ScaleTally.from_state(data.get("tally", {})),
        )

    # -- internals ---------------------------------------------------------

    def _require_started(self) -> None:
        if not self.started:
            raise RitualError("step_not_started")

    def _reasons(self, agreement: Mapping[str, Any]) -> list[str]:
        """Return why an agreement is flagged, in the order of agreements.FLAG_REASONS."""
        reasons: list[str] = []
        if self._low(agreement["id"]):
            reasons.append("low")
        review = agreement["review_date"]
        if review is not None and self.today is not None and review <= self.today:
            reasons.append("review_due")
        return reasons

    def _low(self, agreement_id: str) -> bool:
        """Tell whether the revealed average for an agreement is below the threshold."""
        if not self.conclusive:
            return False
        dist = self.tally.counts.get(agreement_id, [])
        total = sum(dist)
        if not total:
            return False
        # Compared in integers: an average equal to the threshold is not low.
        score = sum((i + SCALE_MIN) * n for i, n in enumerate(dist))
        return score < self.threshold * total
