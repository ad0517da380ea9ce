"""The team charter: numbered, immutable versions from manual edits, restores and rooms.

A new version starts with one UPDATE of the charter's `head` (the current number).
That first write takes the row lock (PostgreSQL) or the write lock (SQLite), so two
saves never get the same number. A manual save or a restore is conditional on the
version it was based on (`... WHERE head = :base`): a save on top of a newer version
changes no row and becomes a `CharterConflict` that carries the text that was not saved.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from retro.agendas import PRESETS
from retro.charter.content import CharterContent, apply_draft, check_draft, diff, validate
from retro.extensions import db
from retro.models import Charter, CharterVersion, Deed, Team
from retro.rituals import RitualError
from retro.rituals.base import clean_name
from retro.services import deeds

AUTHOR_LIMIT = 64
MAX_RATIFIERS = 200


class CharterConflict(RitualError):
    """The charter moved on since the version a save was based on; nothing was saved."""

    def __init__(self, current: CharterVersion, mine: CharterContent) -> None:
        super().__init__("charter_conflict", number=current.number)
        self.current = current
        self.mine = mine


# -- reading --------------------------------------------------------------------------


def charter_for(team: Team) -> Charter:
    """Return the team's charter, creating it (uncommitted) if it has none yet.

    Two first saves may race to create it: the loser's insert fails inside a savepoint
    and it reads the winner's row instead.
    """
    charter = _charter_of(team)
    if charter is not None:
        return charter
    try:
        with db.session.begin_nested():
            charter = Charter(team_id=team.id, head=0)
            db.session.add(charter)
    except IntegrityError:
        charter = _charter_of(team)
        if charter is None:
            raise
    return charter


def _charter_of(team: Team) -> Charter | None:
    """Return the team's charter, if it has one."""
    return db.session.scalar(select(Charter).where(Charter.team_id == team.id))


def _versions(team: Team):
    """Return a query of the team's versions."""
    return select(CharterVersion).join(Charter).where(Charter.team_id == team.id)


def current_version(team: Team) -> CharterVersion | None:
    """Return the team's newest charter version, or None before the first one."""
    return db.session.scalar(_versions(team).order_by(CharterVersion.number.desc()).limit(1))


def version(team: Team, number: int) -> CharterVersion | None:
    """Return version `number` of the team's charter, if it exists."""
    return db.session.scalar(_versions(team).where(CharterVersion.number == number))


def history(team: Team) -> list[CharterVersion]:
    """Return every version of the team's charter, newest first."""
    return list(db.session.scalars(_versions(team).order_by(CharterVersion.number.desc())))


def content_of(version: CharterVersion | None) -> CharterContent:
    """Return a version's content, or an empty charter for no version."""
    return CharterContent.from_dict(version.content) if version is not None else CharterContent()


def current_content(team: Team) -> CharterContent:
    """Return the content of the team's current version (empty before the first one)."""
    return content_of(current_version(team))


def current_agreements(team: Team) -> list[dict[str, Any]]:
    """Return the current agreements as [{"id", "text", "review_date"}], for a room step."""
    return [asdict(agreement) for agreement in current_content(team).agreements]


def current_purpose(team: Team) -> str:
    """Return the current purpose statement ("" before one is written), for a room step."""
    return current_content(team).purpose


def open_deeds(team: Team) -> list[Deed]:
    """Return the team's open deeds, for the charter's Deeds section."""
    return deeds.open_deeds(team)


def room_publications(room_id: int) -> list[CharterVersion]:
    """Return the versions a room published, oldest first."""
    return list(
        db.session.scalars(
            select(CharterVersion)
            .where(CharterVersion.room_id == room_id)
            .order_by(CharterVersion.number)
        )
    )


def room_publication(room_id: int) -> CharterVersion | None:
    """Return the newest version published from this room, if any."""
    return db.session.scalar(
        select(CharterVersion)
        .where(CharterVersion.room_id == room_id)
        .order_by(CharterVersion.id.desc())
        .limit(1)
    )


# -- manual saves and restores ----------------------------------------------------------


def save_manual(team: Team, base: int, content: CharterContent, author: str) -> CharterVersion:
    """Save an edit made on version `base` as the next version, and commit.

    Raises CharterConflict when `base` is no longer the current version, and
    RitualError("no_change") when the content equals the current version's.
    """
    content = validate(content)
    _check_agendas(content, current_content(team))
    return _save(team, base, content, author, source="manual")


def restore(team: Team, number: int, base: int, author: str) -> CharterVersion:
    """Make version `number` current again as a new version (source "restore"), and commit."""
    old = version(team, number)
    if old is None:
        raise RitualError("unknown_version")
    return _save(team, base, content_of(old), author, source="restore", restored_from=number)


def _check_agendas(content: CharterContent, current: CharterContent) -> None:
    """Refuse a new or changed anchor whose agenda is not a known preset."""
    unchanged = set(current.anchors)
    for anchor in content.anchors:
        if anchor not in unchanged and anchor.agenda not in PRESETS:
            raise RitualError("unknown_agenda")


def _save(
    team: Team,
    base: int,
    content: CharterContent,
    author: str,
    source: str,
    restored_from: int | None = None,
) -> CharterVersion:
    """Insert `content` as version base + 1 if `base` is still current; commit."""
    name = clean_name(author, AUTHOR_LIMIT)
    try:
        charter = charter_for(team)
        moved = cast(
            CursorResult[Any],
            db.session.execute(
                update(Charter)
                .where(Charter.id == charter.id, Charter.head == base)
                .values(head=Charter.head + 1)
                .execution_options(synchronize_session=False)
            ),
        )
        if moved.rowcount == 1:
            previous = content_of(version(team, base))
            if previous == content:
                raise RitualError("no_change")
            saved = CharterVersion(
                charter_id=charter.id,
                number=base + 1,
                content=content.to_dict(),
                summary=diff(previous, content),
                author=name,
                source=source,
                restored_from=restored_from,
                ratified_by=[],
            )
            db.session.add(saved)
            db.session.commit()
            return saved
        db.session.rollback()
    except BaseException:
        db.session.rollback()
        raise
    # Raised after the rollback, so the current version it carries stays loaded.
    raise _conflict(team, content)


def _conflict(team: Team, mine: CharterContent) -> RitualError:
    """Return the error for a save based on an old version."""
    current = current_version(team)
    if current is None:
        # There is no version to conflict with: the base number was made up.
        return RitualError("invalid_field", field="base_version")
    if content_of(current) == mine:
        # Someone else already saved exactly this: nothing is lost.
        return RitualError("no_change")
    return CharterConflict(current, mine)


# -- a room's publication ---------------------------------------------------------------


def draft_key(purpose: str | None, ops: Sequence[Mapping[str, Any]]) -> str:
    """Return the digest that names a room's draft (a purpose and agreement ops)."""
    canonical = json.dumps(
        [purpose, list(ops)], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def publish_draft(
    team: Team,
    room_id: int,
    purpose: str | None,
    ops: Sequence[Mapping[str, Any]],
    ratified_by: Sequence[str],
    author: str,
    purpose_base: str | None = None,
) -> tuple[CharterVersion, bool]:
    """Publish a room's ratified draft as a new version; does not commit.

    Returns (version, created). The same draft published again from the same room
    returns the first version with created=False. A room that published before
    publishes only what it ratified since, so an edit made meanwhile is not undone
    and an added agreement is not added twice. A ratified change to a purpose or an
    agreement that changed since the room saw it (`purpose_base`, each op's "base") is
    not applied but recorded in the summary as "not_applied" (see `check_draft`).
    Raises RitualError: "empty_draft"; "charter_changed" when none of it can be applied;
    "draft_unchanged" when the charter already reads as the draft would make it.
    """
    if (purpose is None or not purpose.strip()) and not ops:
        raise RitualError("empty_draft")
    draft_ops = [dict(op) for op in ops]
    key = draft_key(purpose, draft_ops)
    existing = _published(room_id, key)
    if existing is not None:
        return existing, False
    charter = charter_for(team)
    # Take the charter's lock, then look again: a concurrent publication of this very
    # draft has committed by the time the lock is ours (the unique key is the backstop).
    _bump_head(charter, 0)
    existing = _published(room_id, key)
    if existing is not None:
        return existing, False
    check = check_publication(team, room_id, purpose, draft_ops, purpose_base)
    if check.blocked is not None:
        raise RitualError(check.blocked)
    number = _bump_head(charter, 1)
    published = CharterVersion(
        charter_id=charter.id,
        number=number,
        content=check.content.to_dict(),
        summary=diff(check.previous, check.content) + check.not_applied,
        author=(author or "").strip()[:AUTHOR_LIMIT],
        source="room",
        room_id=room_id,
        ratified_by=[str(name)[:AUTHOR_LIMIT] for name in ratified_by][:MAX_RATIFIERS],
        draft_key=key,
        draft={"purpose": purpose, "purpose_base": purpose_base, "ops": draft_ops},
    )
    db.session.add(published)
    db.session.flush()
    return published, True


@dataclass(frozen=True)
class PublicationCheck:
    """What publishing a room's draft now would do to the current charter.

    `content` is the charter after it (equal to `previous` when nothing applies);
    `not_applied` the ratified changes that conflict with an edit made meanwhile;
    `blocked` the error code publishing would raise, or None.
    """

    previous: CharterContent
    content: CharterContent
    not_applied: list[dict[str, Any]]
    blocked: str | None


def check_publication(
    team: Team,
    room_id: int,
    purpose: str | None,
    ops: Sequence[Mapping[str, Any]],
    purpose_base: str | None = None,
) -> PublicationCheck:
    """Return what publishing the room's draft on the current version would change.

    Only the part of the draft the room has not published yet counts. Raises the
    RitualError of content beyond the charter's limits ("too_long", …).
    """
    previous = current_content(team)
    purpose_now, ops_now = _since_last_publication(room_id, purpose, [dict(op) for op in ops])
    purpose_now, ops_now, not_applied = check_draft(previous, purpose_now, ops_now, purpose_base)
    content = validate(apply_draft(previous, purpose_now, ops_now))
    blocked = None
    if content == previous:
        blocked = "charter_changed" if not_applied else "draft_unchanged"
    return PublicationCheck(previous, content, not_applied, blocked)


def unpublished_draft(
    room_id: int, purpose: str | None, ops: Sequence[Mapping[str, Any]]
) -> tuple[str | None, list[dict[str, Any]]]:
    """Return the part of a room's ratified draft it has not published yet."""
    if published_key(room_id) == draft_key(purpose, ops):
        return None, []
    return _since_last_publication(room_id, purpose, [dict(op) for op in ops])


def published_key(room_id: int) -> str | None:
    """Return the draft key of the room's newest publication, if any."""
    last = room_publication(room_id)
    return last.draft_key if last is not None else None


def _bump_head(charter: Charter, step: int) -> int:
    """Add `step` to the charter's head (a write, so it takes the lock); return the new head."""
    db.session.execute(
        update(Charter)
        .where(Charter.id == charter.id)
        .values(head=Charter.head + step)
        .execution_options(synchronize_session=False)
    )
    head = db.session.scalar(select(Charter.head).where(Charter.id == charter.id))
    if head is None:  # pragma: no cover - the row was just written
        raise LookupError(charter.id)
    return head


def _published(room_id: int, key: str) -> CharterVersion | None:
    """Return the version this room published with this draft key, if any."""
    return db.session.scalar(
        select(CharterVersion).where(
            CharterVersion.room_id == room_id, CharterVersion.draft_key == key
        )
    )


def _since_last_publication(
    room_id: int, purpose: str | None, ops: list[dict[str, Any]]
) -> tuple[str | None, list[dict[str, Any]]]:
    """Return the part of a room's cumulative draft it has not published yet."""
    last = room_publication(room_id)
    if last is None or not last.draft:
        return purpose, ops
    published = last.draft
    if purpose == published.get("purpose"):
        purpose = None
    done = Counter(_op_key(op) for op in published.get("ops") or [])
    fresh = []
    for op in ops:
        op_key = _op_key(op)
        if done[op_key]:
            done[op_key] -= 1
        else:
            fresh.append(op)
    return purpose, fresh


def _op_key(op: Mapping[str, Any]) -> str:
    """Return a canonical text for one draft op, to compare ops by value."""
    return json.dumps(op, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
