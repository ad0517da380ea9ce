"""A room: one live session of a team, its agenda of steps, its members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from retro.extensions import db
from retro.models.base import new_token, utcnow
from retro.models.team import Team


class Room(db.Model):
    """A live room. `seq` counts committed changes and orders broadcasts."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, default=lambda: new_token(12))
    title: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(16), default="lobby")
    step_index: Mapped[int] = mapped_column(Integer, default=-1)
    facilitator_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # When the facilitator's last socket closed (epoch seconds); None while they are here.
    facilitator_away_since: Mapped[float | None] = mapped_column(Float, nullable=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    timer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)

    team: Mapped[Team] = relationship(back_populates="rooms")
    steps: Mapped[list[Step]] = relationship(
        back_populates="room", order_by="Step.position", cascade="all, delete-orphan"
    )
    members: Mapped[list[Member]] = relationship(
        back_populates="room", order_by="Member.id", cascade="all, delete-orphan"
    )


class Step(db.Model):
    """One ritual step of a room's agenda; `state` is the ritual's serialised state."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("room_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    room: Mapped[Room] = relationship(back_populates="steps")


class Member(db.Model):
    """Someone who joined a room with a display name; the token is their identity."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    room: Mapped[Room] = relationship(back_populates="members")


class Connection(db.Model):
    """One open socket of a member; a member with a participant socket is online.

    A viewer socket (the projector view) follows the room without taking part.
    """

    __tablename__ = "connections"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    server_id: Mapped[str] = mapped_column(String(40))
    viewer: Mapped[bool] = mapped_column(Boolean, default=False)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ProcessedAction(db.Model):
    """A client action already applied: a retry with the same id gets the same answer."""

    __tablename__ = "processed_actions"
    __table_args__ = (UniqueConstraint("member_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    action_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
