"""What every ritual shares: who acts, the one domain error, anonymous scales."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Aggregates of anonymous answers are shown only from this many answers on.
MIN_AGGREGATE = 3
SCALE_MIN, SCALE_MAX = 1, 5


class RitualError(Exception):
    """An illegal move; `code` names it and the transport translates it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Actor:
    """The member who sends a command, with the role read from storage."""

    member_id: int
    is_facilitator: bool = False


def require_facilitator(actor: Actor) -> None:
    """Refuse a command that only the facilitator may give."""
    if not actor.is_facilitator:
        raise RitualError("not_facilitator")


# Zero-width (non-)joiners shape words in some scripts and join emoji: kept between two
# visible characters, dropped anywhere else (a run of them alone looks like nothing).
_LOOSE_JOINERS = re.compile(
    r"(?<![^\s\u200c\u200d])[\u200c\u200d]+"  # after the start, a space or a joiner
    r"|[\u200c\u200d]+(?![^\s\u200c\u200d])"  # before the end or a space
)
_JOINERS = ("\u200c", "\u200d")


def tidy_text(text: str) -> str:
    """Return the text without invisible characters, line breaks as "\\n", stripped.

    Format characters (zero-width spaces, bidi overrides and isolates) and control
    characters could make a text look blank or look like another one; they go, except
    line breaks ("\\r\\n" and a lone "\\r" become "\\n") and tabs (a space).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = "".join(
        c for c in text if c == "\n" or c in _JOINERS or unicodedata.category(c) not in ("Cc", "Cf")
    )
    return _LOOSE_JOINERS.sub("", text).strip()


def clean_text(text: Any, limit: int) -> str:
    """Return the tidied text (see `tidy_text`), refusing an empty or oversize one."""
    return _checked(text, limit, tidy_text, "empty_text")


def visible_text(text: str | None) -> str:
    """Return the text without control or format characters, whitespace collapsed.

    Bidi overrides and zero-width characters could make one name look like another's.
    """
    text = "".join(c for c in text or "" if unicodedata.category(c) not in ("Cc", "Cf"))
    return " ".join(text.split())


def clean_name(name: Any, limit: int) -> str:
    """Return a display name without invisible characters, refusing an empty or oversize one."""
    return _checked(name, limit, visible_text, "empty_name")


def _checked(value: Any, limit: int, tidy: Callable[[str], str], empty_code: str) -> str:
    """Return `tidy(value)`, refusing a non-string, an empty result or one over `limit`."""
    if not isinstance(value, str):
        raise RitualError("invalid_value")
    value = tidy(value)
    if not value:
        raise RitualError(empty_code)
    if len(value) > limit:
        raise RitualError("too_long", limit=limit)
    return value


@dataclass
class ScaleTally:
    """Anonymous 1-5 answers kept only as counts, so no value can be tied to a person.

    `responders` records who answered (to allow one answer each); the values go
    into per-scale histograms that never say who gave which.
    """

    scales: list[str]
    responders: list[int] = field(default_factory=list)
    counts: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for scale in self.scales:
            self.counts.setdefault(scale, [0] * (SCALE_MAX - SCALE_MIN + 1))

    def rate(self, member_id: int, values: Mapping[str, Any]) -> None:
        """Record one member's anonymous answers; each member answers once."""
        if not self.scales:
            raise RitualError("no_scales")
        if member_id in self.responders:
            raise RitualError("already_rated")
        if not values or not isinstance(values, Mapping):
            raise RitualError("invalid_value")
        for scale, value in values.items():
            if scale not in self.scales:
                raise RitualError("unknown_scale")
            if isinstance(value, bool) or not isinstance(value, int):
                raise RitualError("invalid_value")
            if not SCALE_MIN <= value <= SCALE_MAX:
                raise RitualError("invalid_value")
        # Every scale at once: a scale answered by fewer people than the
        # others could show one person's value inside a "ready" aggregate.
        if set(values) != set(self.scales):
            raise RitualError("incomplete_scales")
        for scale, value in values.items():
            self.counts[scale][value - SCALE_MIN] += 1
        self.responders.append(member_id)

    def view(self, revealed: bool) -> dict[str, Any]:
        """Return the team aggregate once revealed and answered by enough people.

        Results are published once, at the reveal, after which the scales close:
        a live-updating aggregate would give away each later answer by difference.
        Before that, clients learn only whether enough people answered.
        """
        answered = len(self.responders)
        enough = answered >= MIN_AGGREGATE
        if not revealed or not enough:
            return {"ready": False, "revealed": revealed, "enough": enough, "needed": MIN_AGGREGATE}
        scales = {}
        for scale in self.scales:
            dist = self.counts[scale]
            total = sum(dist)
            mean = sum((i + SCALE_MIN) * n for i, n in enumerate(dist)) / total if total else None
            scales[scale] = {
                "distribution": list(dist),
                "count": total,
                "average": round(mean, 2) if mean is not None else None,
            }
        return {"ready": True, "revealed": True, "count": answered, "scales": scales}

    def to_state(self) -> dict[str, Any]:
        """Serialise to JSON-ready data."""
        return {
            "scales": list(self.scales),
            "responders": list(self.responders),
            "counts": {k: list(v) for k, v in self.counts.items()},
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> ScaleTally:
        """Rebuild from `to_state` output."""
        return cls(
            scales=list(data.get("scales", [])),
            responders=[int(m) for m in data.get("responders", [])],
            counts={k: [int(n) for n in v] for k, v in data.get("counts", {}).items()},
        )


def charter_agreements(agreements: Any) -> list[dict[str, Any]]:
    """Return the charter's agreements a step loads: {"id", "text", "review_date"}, in order.

    Entries that are not a mapping with a string id and text, and repeated ids, are
    skipped; a review date that is not a non-empty string counts as none.
    """
    kept: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in agreements if isinstance(agreements, list | tuple) else []:
        if not isinstance(item, Mapping):
            continue
        agreement_id, text, review = item.get("id"), item.get("text"), item.get("review_date")
        if isinstance(agreement_id, str) and isinstance(text, str) and agreement_id not in seen:
            seen.add(agreement_id)
            kept.append(
                {
                    "id": agreement_id,
                    "text": text,
                    "review_date": review if isinstance(review, str) and review else None,
                }
            )
    return kept


def int_keys(data: Mapping[str, Any]) -> dict[int, Any]:
    """Turn JSON's string keys back into member ids."""
    return {int(k): v for k, v in data.items()}
