"""A team's charter and its immutable versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, event, inspect
from sqlalchemy.orm import (
    InstanceState,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    relationship,
)

from retro.extensions import db
from retro.models.base import utcnow
from retro.models.room import Room
from retro.models.team import Team


class Charter(db.Model):
    """One per team; `head` is the number of the current version (0: none yet).

    Every new version starts by incrementing `head` in one UPDATE, which takes the
    row lock (PostgreSQL) or the write lock (SQLite), so versions are numbered
    one after the other whatever the number of server processes.
    """

    __tablename__ = "charters"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), unique=True)
    head: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship(back_populates="charter")
    versions: Mapped[list[CharterVersion]] = relationship(
        back_populates="charter", order_by="CharterVersion.number"
    )


class CharterVersion(db.Model):
    """One immutable version of a charter: once inserted it is never updated or deleted.

    `source` is "manual", "room" or "restore". A room's publication carries the room,
    its `draft` and a `draft_key` (a digest of the draft), so publishing the same draft
    twice finds the first version instead of making a second.
    """

    __tablename__ = "charter_versions"
    __table_args__ = (
        UniqueConstraint("charter_id", "number"),
        UniqueConstraint("room_id", "draft_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    charter_id: Mapped[int] = mapped_column(ForeignKey("charters.id"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    author: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), nullable=True
    )
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ratified_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    draft_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # What a room published ({"purpose", "ops"}), so its next publication applies only
    # what is new since; None for manual edits and restores.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    charter: Mapped[Charter] = relationship(back_populates="versions")
    # Read-only: the database sets room_id to NULL when the room is deleted.
    room: Mapped[Room | None] = relationship(viewonly=True)


class ImmutableVersionError(Exception):
    """Something tried to change or delete a stored charter version."""


@event.listens_for(CharterVersion, "before_update")
def _refuse_update(_mapper, _connection, target: CharterVersion) -> None:
    """Refuse to write a change to a stored version."""
    state: InstanceState[CharterVersion] = inspect(target)
    if any(attr.history.has_changes() for attr in state.attrs):
        raise ImmutableVersionError(f"charter version {target.id} is immutable")


@event.listens_for(CharterVersion, "before_delete")
def _refuse_delete(_mapper, _connection, target: CharterVersion) -> None:
    """Refuse to delete a stored version."""
    raise ImmutableVersionError(f"charter version {target.id} is immutable")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """Refuse ORM bulk UPDATE and DELETE statements on versions, which skip the events above."""
    if (state.is_update or state.is_delete) and state.bind_mapper is inspect(CharterVersion):
        raise ImmutableVersionError("charter versions are immutable")
