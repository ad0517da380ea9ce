"""Deeds: a retrospective's action items, written through to the team while its room runs.

A room's step state stays the source of a deed while that room runs; every change of
a deed (or of a deeds review's decision) is written to these rows in the same
transaction as the room change, so the team page and the next room read them at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from retro.extensions import db
from retro.models import Deed, DeedDecision, Room, Team
from retro.models.base import utcnow


def open_deeds(team: Team) -> list[Deed]:
    """Return the team's open deeds, oldest first."""
    return list(
        db.session.scalars(
            select(Deed)
            .where(Deed.team_id == team.id, Deed.status == "open")
            .order_by(Deed.created_at, Deed.id)
        )
    )


def team_deeds(team: Team) -> list[Deed]:
    """Return all of the team's deeds, open ones first, then the newest closed ones."""
    return list(
        db.session.scalars(
            select(Deed)
            .where(Deed.team_id == team.id)
            .order_by((Deed.status != "open"), Deed.closed_at.desc(), Deed.created_at, Deed.id)
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
                "room": deed.room.title or deed.room.created_at.date().isoformat(),
                "carried": deed.carried,
                "agreement_text": deed.agreement_text,
            }
        )
    return items


def sync(room: Room, position: int, ritual: Any, names: Mapping[int, str]) -> None:
    """Write a retrospective's deeds, or a deeds review's decisions, to the team's rows.

    Called inside the room's change, before its commit.
    """
    view = ritual.public_view()
    if view["kind"] == "retro":
        _sync_retro(room, position, view, names)
    else:
        _sync_review(room, view, names)


def _sync_retro(
    room: Room, position: int, view: Mapping[str, Any], names: Mapping[int, str]
) -> None:
    """Insert, update or remove the rows of one retrospective step's deeds."""
    prefix = f"{position}:"
    rows = {
        row.origin_key: row
        for row in db.session.scalars(
            select(Deed).where(Deed.room_id == room.id, Deed.origin_key.startswith(prefix))
        )
    }
    agreements = {a["id"]: a["text"] for a in view.get("agreements", [])}
    for item in view["deeds"]:
        key = f"{prefix}{item['id']}"
        row = rows.pop(key, None)
        if row is None:
            row = Deed(team_id=room.team_id, room_id=room.id, origin_key=key)
            db.session.add(row)
        owner = item.get("owner")
        row.text = item["text"]
        row.owner_name = names.get(owner) if owner is not None else None
        row.due = item.get("due") or None
        row.agreement_id = item.get("agreement")
        row.agreement_text = agreements.get(item.get("agreement") or "")
    for row in rows.values():
        # A deed deleted in its room goes, unless a review already decided about it.
        if not row.decisions:
            db.session.delete(row)


def _sync_review(room: Room, view: Mapping[str, Any], names: Mapping[int, str]) -> None:
    """Record each decision of a deeds review and update the deeds it decided."""
    for item in view["deeds"]:
        deed = db.session.get(Deed, item["id"])
        if deed is None or deed.team_id != room.team_id:
            continue
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
            elif (decided.decision, decided.reason, decided.decided_by) == values:
                continue  # unchanged: its time must stay, or it would outrank later rooms'
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
