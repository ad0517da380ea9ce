"""A charter's content as immutable values, and the differences between two versions.

Deeds are not part of the content: they are read from the team's open action items.
Agreements and anchors carry ids, so a change is matched item by item even when the
text changed or the list was reordered.
"""

from __future__ import annotations

import difflib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from retro.rituals.base import RitualError

PURPOSE_LIMIT = 2000
AGREEMENT_LIMIT = 500
LEADERSHIP_LIMIT = 4000
ANCHOR_NAME_LIMIT = 80
MAX_AGREEMENTS = 50
MAX_ANCHORS = 12
ID_LIMIT = 32
ITEM_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{ID_LIMIT}}}")
AGENDA_LIMIT = 32

CADENCES = ("weekly", "biweekly", "monthly", "quarterly", "adhoc")

# A review date is an ISO date string "YYYY-MM-DD", or None for no review date. Its year
# lies in REVIEW_YEARS (inclusive): a year such as 0001 or 9999 is a typing slip.
REVIEW_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
REVIEW_YEARS = (2000, 2100)


def new_item_id() -> str:
    """Return a fresh id for an agreement or an anchor."""
    return secrets.token_hex(4)


@dataclass(frozen=True)
class Agreement:
    """One working agreement ("We …"), Markdown, with an optional review date."""

    id: str
    text: str
    review_date: str | None = None


@dataclass(frozen=True)
class Anchor:
    """A connection anchor: a recurring ritual, its cadence and the agenda preset it runs."""

    id: str
    name: str
    cadence: str
    agenda: str


@dataclass(frozen=True)
class CharterContent:
    """The stored sections of one charter version (everything but the deeds)."""

    purpose: str = ""
    agreements: tuple[Agreement, ...] = ()
    anchors: tuple[Anchor, ...] = ()
    leadership: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the content as JSON-ready data, keys in a stable order."""
        return {
            "purpose": self.purpose,
            "agreements": [asdict(agreement) for agreement in self.agreements],
            "anchors": [asdict(anchor) for anchor in self.anchors],
            "leadership": self.leadership,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CharterContent:
        """Return the content stored as `data`; missing or malformed parts read as empty."""
        if not isinstance(data, Mapping):
            return cls()
        return cls(
            purpose=_text(data.get("purpose")),
            agreements=tuple(
                Agreement(
                    id=_text(item.get("id")) or new_item_id(),
                    text=_text(item.get("text")),
                    review_date=parse_review_date(item.get("review_date")),
                )
                for item in _items(data.get("agreements"))
            ),
            anchors=tuple(
                Anchor(
                    id=_text(item.get("id")) or new_item_id(),
                    name=_text(item.get("name")),
                    cadence=_text(item.get("cadence")),
                    agenda=_text(item.get("agenda")),
                )
                for item in _items(data.get("anchors"))
            ),
            leadership=_text(data.get("leadership")),
        )

    def is_empty(self) -> bool:
        """Return whether every section is blank."""
        return not (
            self.purpose.strip() or self.agreements or self.anchors or self.leadership.strip()
        )


def _text(value: Any) -> str:
    """Return `value` if it is a string, else an empty string."""
    return value if isinstance(value, str) else ""


def _items(value: Any) -> list[Mapping[str, Any]]:
    """Return the mappings in a list, skipping anything else."""
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def parse_review_date(value: Any) -> str | None:
    """Return a valid ISO review date, or None for anything else (including "").

    A date outside REVIEW_YEARS is not a valid review date either.
    """
    if isinstance(value, date):
        parsed = value
    elif not isinstance(value, str) or not REVIEW_DATE.fullmatch(value.strip()):
        return None
    else:
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            return None
    low, high = REVIEW_YEARS
    return parsed.isoformat() if low <= parsed.year <= high else None


def review_date_error(value: Any) -> RitualError:
    """Return the error for a review date `parse_review_date` does not accept."""
    try:
        well_formed = isinstance(value, str) and bool(REVIEW_DATE.fullmatch(value.strip()))
        if well_formed:
            date.fromisoformat(value.strip())
    except ValueError:
        well_formed = False
    if not well_formed:
        return RitualError("invalid_date")
    low, high = REVIEW_YEARS
    return RitualError("date_out_of_range", low=low, high=high)


# -- checking content before it is stored -------------------------------------------------


def _clean(text: str) -> str:
    """Return text with unified line ends and no surrounding whitespace."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def one_line(text: str) -> str:
    """Return text with each line break (and the space around it) made one space.

    An agreement is a list item rendered inline: a line break would not survive.
    """
    return _LINE_BREAK.sub(" ", text).strip()


_LINE_BREAK = re.compile(r"[ \t]*(?:\r\n|\r|\n)\s*")


def _limited(text: str, limit: int, field: str) -> str:
    """Return cleaned text, refusing it beyond `limit` characters."""
    text = _clean(text)
    if len(text) > limit:
        raise RitualError("too_long", limit=limit, field=field)
    return text


def validate(content: CharterContent) -> CharterContent:
    """Return the content with whitespace tidied, refusing what breaks a limit.

    An agreement's line breaks become spaces: it is one line, as in a room.

    Raises RitualError: "too_long", "empty_text" (an agreement without text),
    "empty_name" (an anchor without a name), "too_many_agreements", "too_many_anchors",
    "invalid_cadence", "invalid_date", "date_out_of_range" (a year outside REVIEW_YEARS)
    or "duplicate_id".
    """
    if len(content.agreements) > MAX_AGREEMENTS:
        raise RitualError("too_many_agreements", limit=MAX_AGREEMENTS)
    if len(content.anchors) > MAX_ANCHORS:
        raise RitualError("too_many_anchors", limit=MAX_ANCHORS)
    ids = [a.id for a in content.agreements] + [a.id for a in content.anchors]
    # Ids travel in socket payloads (keep, amend, retire), which accept only these characters.
    if len(set(ids)) != len(ids) or not all(ITEM_ID.fullmatch(i) for i in ids):
        raise RitualError("duplicate_id")
    agreements = []
    for agreement in content.agreements:
        text = _limited(one_line(agreement.text), AGREEMENT_LIMIT, "agreement")
        if not text:
            raise RitualError("empty_text")
        review = agreement.review_date
        if review is not None and parse_review_date(review) != review:
            raise review_date_error(review)
        agreements.append(replace(agreement, text=text))
    anchors = []
    for anchor in content.anchors:
        name = _limited(" ".join(anchor.name.split()), ANCHOR_NAME_LIMIT, "anchor")
        if not name:
            raise RitualError("empty_name")
        if anchor.cadence not in CADENCES:
            raise RitualError("invalid_cadence")
        if not anchor.agenda or len(anchor.agenda) > AGENDA_LIMIT:
            raise RitualError("invalid_value")
        anchors.append(replace(anchor, name=name))
    return CharterContent(
        purpose=_limited(content.purpose, PURPOSE_LIMIT, "purpose"),
        agreements=tuple(agreements),
        anchors=tuple(anchors),
        leadership=_limited(content.leadership, LEADERSHIP_LIMIT, "leadership"),
    )


# -- the change summary stored with a version -----------------------------------------


def _text_change(section: str, old: str, new: str) -> list[dict[str, Any]]:
    """Return the summary entry for a free-text section: set, changed or cleared."""
    if old.strip() == new.strip():
        return []
    if not old.strip():
        return [{"kind": f"{section}_set"}]
    if not new.strip():
        return [{"kind": f"{section}_cleared"}]
    return [{"kind": f"{section}_changed"}]


def diff(old: CharterContent | None, new: CharterContent) -> list[dict[str, Any]]:
    """Return the change summary from `old` (None: no version yet) to `new`, JSON-ready.

    Kinds, in this order: purpose_set / purpose_changed / purpose_cleared; agreement_added,
    agreement_amended and agreement_review_date (in the new order); agreement_retired (in
    the old order); agreements_reordered; anchor_added / anchor_changed (new order),
    anchor_removed; leadership_set / leadership_changed / leadership_cleared.
    """
    old = old or CharterContent()
    changes = _text_change("purpose", old.purpose, new.purpose)

    before = {a.id: a for a in old.agreements}
    after_ids = {a.id for a in new.agreements}
    for agreement in new.agreements:
        previous = before.get(agreement.id)
        if previous is None:
            changes.append({"kind": "agreement_added", "id": agreement.id, "text": agreement.text})
            continue
        if previous.text != agreement.text:
            changes.append(
                {
                    "kind": "agreement_amended",
                    "id": agreement.id,
                    "old": previous.text,
                    "text": agreement.text,
                }
            )
        if previous.review_date != agreement.review_date:
            changes.append(
                {
                    "kind": "agreement_review_date",
                    "id": agreement.id,
                    "text": agreement.text,
                    "old": previous.review_date,
                    "new": agreement.review_date,
                }
            )
    for agreement in old.agreements:
        if agreement.id not in after_ids:
            changes.append(
                {"kind": "agreement_retired", "id": agreement.id, "text": agreement.text}
            )
    kept_before = [a.id for a in old.agreements if a.id in after_ids]
    kept_after = [a.id for a in new.agreements if a.id in before]
    if kept_before != kept_after:
        changes.append({"kind": "agreements_reordered"})

    anchors_before = {a.id: a for a in old.anchors}
    anchors_after = {a.id for a in new.anchors}
    for anchor in new.anchors:
        previous_anchor = anchors_before.get(anchor.id)
        if previous_anchor is None:
            changes.append({"kind": "anchor_added", "id": anchor.id, "name": anchor.name})
        elif previous_anchor != anchor:
            changes.append({"kind": "anchor_changed", "id": anchor.id, "name": anchor.name})
    for anchor in old.anchors:
        if anchor.id not in anchors_after:
            changes.append({"kind": "anchor_removed", "id": anchor.id, "name": anchor.name})

    changes += _text_change("leadership", old.leadership, new.leadership)
    return changes


# -- comparing two versions for people ------------------------------------------------

_TOKEN = re.compile(r"\s+|\S+")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Return a word-level diff: ("equal" | "insert" | "delete", text) runs, whitespace kept.

    Joining the "equal" and "delete" texts gives `old` back; "equal" and "insert" give `new`.
    """
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    runs: list[tuple[str, str]] = []

    def emit(op: str, tokens: Sequence[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if runs and runs[-1][0] == op:
            runs[-1] = (op, runs[-1][1] + text)
        else:
            runs.append((op, text))

    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        # A changed stretch reads as the old words struck out, then the new ones.
        emit("delete", deleted)
        emit("insert", inserted)
        deleted.clear()
        inserted.clear()

    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag != "equal":
            deleted += a[i1:i2]
            inserted += b[j1:j2]
            continue
        between_changes = (deleted or inserted) and n + 1 < len(opcodes)
        if between_changes and not "".join(a[i1:i2]).strip():
            # Only a space between two changes: one changed stretch reads better.
            deleted += a[i1:i2]
            inserted += b[j1:j2]
            continue
        flush()
        emit("equal", a[i1:i2])
    flush()
    return runs


def _rows(
    old: Iterable[Any],
    new: Iterable[Any],
    gone: str,
    changed: str,
    words: Callable[[Any, Any], list[tuple[str, str]] | None],
) -> list[dict[str, Any]]:
    """Return item-level rows in the new order, each removed item after its old predecessor."""
    old, new = list(old), list(new)
    before = {item.id: item for item in old}
    after = {item.id for item in new}
    rows: list[dict[str, Any]] = []
    for item in new:
        previous = before.get(item.id)
        if previous is None:
            status, diff_words = "added", None
        elif previous == item:
            status, diff_words = "unchanged", None
        else:
            status, diff_words = changed, words(previous, item)
        rows.append(
            {
                "id": item.id,
                "status": status,
                "old": asdict(previous) if previous is not None else None,
                "new": asdict(item),
                "words": diff_words,
            }
        )
    last: str | None = None
    for item in old:
        if item.id in after:
            last = item.id
            continue
        at = 0 if last is None else next(i for i, r in enumerate(rows) if r["id"] == last) + 1
        rows.insert(
            at, {"id": item.id, "status": gone, "old": asdict(item), "new": None, "words": None}
        )
        last = item.id
    return rows


def compare(old: CharterContent | None, new: CharterContent) -> dict[str, Any]:
    """Return what the comparison page shows between two versions.

    `purpose` and `leadership` are word diffs (empty when both texts are empty);
    `agreements` rows have status "added" | "retired" | "amended" | "unchanged" and, when
    amended, `words` (a word diff of the text; a changed review date alone also amends);
    `anchors` rows have status "added" | "removed" | "changed" | "unchanged". Every row
    has `id`, `old` and `new` (the item as a dict, or None).
    """
    old = old or CharterContent()
    return {
        "purpose": word_diff(old.purpose, new.purpose),
        "agreements": _rows(
            old.agreements,
            new.agreements,
            "retired",
            "amended",
            lambda before, after: word_diff(before.text, after.text),
        ),
        "anchors": _rows(old.anchors, new.anchors, "removed", "changed", lambda *_: None),
        "leadership": word_diff(old.leadership, new.leadership),
    }


# -- a room's draft -----------------------------------------------------------------


def apply_draft(
    content: CharterContent,
    purpose: str | None,
    ops: Sequence[Mapping[str, Any]],
    new_id: Callable[[], str] = new_item_id,
) -> CharterContent:
    """Return the content with a room's ratified purpose and agreement changes applied.

    Ops: {"op": "amend", "id", "text", "review_date"}, {"op": "retire", "id"},
    {"op": "add", "text", "review_date"}. An amend or retire of an id that is no longer
    there (a manual edit removed it meanwhile) is skipped. An amend without text keeps the
    text; an amend without a review date ("" or missing) keeps the review date. Whether
    the charter still reads as the room saw it is `check_draft`'s business.
    """
    agreements = list(content.agreements)
    for op in ops:
        kind = op.get("op")
        if kind == "add":
            text = _clean(_text(op.get("text")))
            if text:
                agreements.append(
                    Agreement(new_id(), text, parse_review_date(op.get("review_date")))
                )
            continue
        at = next((i for i, a in enumerate(agreements) if a.id == op.get("id")), None)
        if at is None:
            continue
        if kind == "retire":
            del agreements[at]
        elif kind == "amend":
            agreements[at] = _amended(agreements[at], op)
    return replace(
        content,
        purpose=_clean(purpose) if purpose is not None else content.purpose,
        agreements=tuple(agreements),
    )


def _amended(current: Agreement, op: Mapping[str, Any]) -> Agreement:
    """Return an agreement as an amend op leaves it."""
    return replace(
        current,
        text=_clean(_text(op.get("text"))) or current.text,
        review_date=parse_review_date(op.get("review_date")) or current.review_date,
    )


def check_draft(
    content: CharterContent,
    purpose: str | None,
    ops: Sequence[Mapping[str, Any]],
    purpose_base: str | None = None,
) -> tuple[str | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """Split a room's draft into what still applies to `content` and what does not.

    A room ratifies changes to the charter as it was when its step opened: the purpose
    step's `purpose_base`, and each amend or retire op's `"base": {"text", "review_date"}`.
    If that purpose or agreement changed since (a manual edit, a restore, another room),
    or the agreement is gone, the room's decision is not applied: nobody in the room saw
    the newer text, and applying it would silently undo someone's change. A change the
    charter already holds is no conflict. Ops without a base are applied as they are.

    Returns (purpose, ops, not_applied): the purpose to apply (None: keep the charter's),
    the ops to apply, and a "not_applied" summary entry for each refused change:
    {"kind": "not_applied", "change": "purpose" | "amend" | "retire",
     "reason": "changed" | "removed", "id", "text" (what the room ratified; for a
     retirement, the agreement's text as the room saw it), "old" (the text the room
     started from, or None)}.
    """
    not_applied: list[dict[str, Any]] = []
    if purpose is not None and purpose_base is not None:
        now, wanted, seen = _clean(content.purpose), _clean(purpose), _clean(purpose_base)
        if now not in (seen, wanted):
            not_applied.append(
                _not_applied("purpose", "changed", None, wanted, seen if seen else None)
            )
            purpose = None
    agreements = {a.id: a for a in content.agreements}
    applied: list[dict[str, Any]] = []
    for op in ops:
        kind, op_id = op.get("op"), op.get("id")
        if kind not in ("amend", "retire") or not isinstance(op_id, str):
            applied.append(dict(op))
            continue
        base = op.get("base") if isinstance(op.get("base"), Mapping) else None
        seen_text = _clean(_text(base.get("text"))) if base is not None else None
        if kind == "retire":
            text = seen_text or _clean(_text(op.get("text")))
        else:
            text = _clean(_text(op.get("text")))
        target = agreements.get(op_id)
        reason = None
        if target is None:
            reason = "removed"
        elif base is not None and (target.text, target.review_date) != (
            seen_text,
            parse_review_date(base.get("review_date")),
        ):
            # Someone amended it to exactly what the room agreed: nothing is lost.
            if kind == "retire" or _amended(target, op) != target:
                reason = "changed"
        if reason is not None:
            not_applied.append(_not_applied(kind, reason, op_id, text, seen_text))
            continue
        applied.append(dict(op))
        if kind == "retire":
            del agreements[op_id]
        elif target is not None:
            agreements[op_id] = _amended(target, op)
    return purpose, applied, not_applied


def _not_applied(
    change: str, reason: str, item_id: str | None, text: str, old: str | None
) -> dict[str, Any]:
    """Return the summary entry of a ratified change that was not applied."""
    return {
        "kind": "not_applied",
        "change": change,
        "reason": reason,
        "id": item_id,
        "text": text,
        "old": old,
    }


# -- a manual save that lost a race ---------------------------------------------------

SECTIONS = ("purpose", "agreements", "anchors", "leadership")


def rebase(
    base: CharterContent, mine: CharterContent, theirs: CharterContent
) -> tuple[CharterContent, dict[str, str]]:
    """Return an edit made on `base` moved onto `theirs` (a newer version), section by section.

    A section the edit left as it was in `base` takes `theirs`, so saving the result
    does not undo someone else's change; a section the edit changed keeps `mine`. The
    agreements and the anchors are each one section (a list). Also returns, for every
    section that differs anywhere, who changed it: "mine", "theirs", "both" (different
    changes: the result keeps mine) or "same" (both made the same change).
    """
    merged: dict[str, Any] = {}
    changed: dict[str, str] = {}
    for section in SECTIONS:
        was, mine_now, theirs_now = (getattr(c, section) for c in (base, mine, theirs))
        mine_changed, theirs_changed = mine_now != was, theirs_now != was
        merged[section] = mine_now if mine_changed else theirs_now
        if mine_changed and theirs_changed:
            changed[section] = "same" if mine_now == theirs_now else "both"
        elif mine_changed or theirs_changed:
            changed[section] = "mine" if mine_changed else "theirs"
    return CharterContent(**merged), changed
