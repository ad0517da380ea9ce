"""Deeds: a retrospective's action items, written through to the team while its room runs.

A room's step state stays the source of a deed while that room runs; every change of
a deed (or of a deeds review's decision) is written to these rows in the same
transaction as the room change, so the team page and the next room read them at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select

from retro.extensions import db
from retro.models import Deed, DeedDecision, Room, Team
from retro.models.base import utcnow
from retro.rituals import DeedsReview, Retrospective, RitualError


def open_deeds(team: Team) -> list[Deed]:
    """Return the team's open deeds, oldest first."""
    return list(
        db.session.scalars(
            select(Deed)
            .where(Deed.team_id == team.id, Deed.status == "open")
            .order_by(Deed.created_at, Deed.id)
        )
    )


def review_items(room: Room) -> list[dict[str, Any]]:
    """Return the team's open deeds from other rooms, as a deeds-review step loads them."""
    items = []
    for deed in open_deeds(room.team):
        if deed.room_id == room.id:
            continue
        items.append(
            {
                "id": deed.id,
                "text": deed.text,
                "owner": deed.owner_name,
                "due": deed.due,
                "room": deed.room.title,
                "room_date": deed.room.created_at.date().isoformat(),
                "carried": deed.carried,
                "agreement_text": deed.agreement_text,
            }
        )
    return items


def sync(
    room: Room,
    position: int,
    ritual: Retrospective | DeedsReview,
    before: Mapping[str, Any] | None,
    names: Mapping[int, str],
) -> None:
    """Write what changed in a retrospective's deeds, or a review's decisions, to the team.

    `before` is the step's stored state before this change. Called inside the room's
    change, before its commit: a RitualError here refuses the whole change.
    """
    old = type(ritual).from_state(before).public_view()["deeds"] if before else []
    view = ritual.public_view()
    if isinstance(ritual, Retrospective):
        _sync_retro(room, position, old, view, names)
    else:
        _sync_review(room, old, view["deeds"], names)


def _changed(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> tuple[list, list]:
    """Return the items of `new` that are new or differ from `old`, and the ids `new` lacks."""
    before = {item["id"]: item for item in old}
    after = {item["id"] for item in new}
    changed = [item for item in new if before.get(item["id"]) != item]
    return changed, [item_id for item_id in before if item_id not in after]


def _locked(statement: Select[Any]) -> Deed | None:
    """Return the deed a statement selects, locked until the commit (PostgreSQL).

    Two rooms may write the same deed at once: its origin room and a review. SQLite
    has one writer at a time already.
    """
    return db.session.scalar(statement.with_for_update())


def _sync_retro(
    room: Room,
    position: int,
    old: list[dict[str, Any]],
    view: Mapping[str, Any],
    names: Mapping[int, str],
) -> None:
    """Insert, update or remove the rows of the deeds a retrospective step changed.

    A deed a deeds review has decided about is the team's record: its room can no
    longer change or remove it.
    """
    changed, removed = _changed(old, view["deeds"])
    agreements = {a["id"]: a["text"] for a in view.get("agreements", [])}
    for deed_id in removed:
        row = _locked(select(Deed).where(*_origin(room, position, deed_id)))
        if row is not None:
            if row.decisions:
                raise RitualError("deed_reviewed")
            db.session.delete(row)
    for item in changed:
        row = _locked(select(Deed).where(*_origin(room, position, item["id"])))
        if row is None:
            row = Deed(team_id=room.team_id, room_id=room.id, origin_key=f"{position}:{item['id']}")
            db.session.add(row)
        elif row.decisions:
            raise RitualError("deed_reviewed")
        owner = item.get("owner")
        row.text = item["text"]
        row.owner_name = names.get(owner) if owner is not None else None
        row.due = item.get("due") or None
        row.agreement_id = item.get("agreement")
        row.agreement_text = agreements.get(item.get("agreement") or "")


def _origin(room: Room, position: int, deed_id: str) -> tuple[Any, Any]:
    """Return the conditions that select the row of a room's deed."""
    return Deed.room_id == room.id, Deed.origin_key == f"{position}:{deed_id}"


def _sync_review(
    room: Room, old: list[dict[str, Any]], new: list[dict[str, Any]], names: Mapping[int, str]
) -> None:
    """Record each decision the review changed, and settle the deeds it decided about."""
    changed, _removed = _changed(old, new)
    for item in changed:
        deed = _locked(select(Deed).where(Deed.id == item["id"]))
        if deed is None or deed.team_id != room.team_id:
            # Its room deleted it since the review opened (or it was never the team's).
            raise RitualError("unknown_deed")
        decided = next((d for d in deed.decisions if d.room_id == room.id), None)
        decision = item.get("decision")
        if decision in (None, "open"):
            if decided is not None:
                deed.decisions.remove(decided)
        else:
            by = item.get("by")
            values = (decision, item.get("reason") or "", names.get(by, "") if by else "")
            if decided is None:
                decided = DeedDecision(room_id=room.id)
                deed.decisions.append(decided)
            decided.decision, decided.reason, decided.decided_by = values
            decided.decided_at = utcnow()
        _settle(deed)


def _settle(deed: Deed) -> None:
    """Set a deed's status from its latest decision: done, dropped, or open (carried)."""
    latest = max(deed.decisions, key=lambda d: (d.decided_at, d.id or 0), default=None)
    deed.carried = sum(d.decision == "carry" for d in deed.decisions)
    if latest is None or latest.decision == "carry":
        deed.status, deed.reason, deed.closed_at = "open", "", None
    else:
        deed.status = "done" if latest.decision == "done" else "dropped"
        deed.reason = latest.reason
        deed.closed_at = latest.decided_at
