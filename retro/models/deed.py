"""Deeds: the action items a retrospective agrees, kept per team until a room closes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from retro.extensions import db
from retro.models.base import utcnow
from retro.models.room import Room
from retro.models.team import Team


class Deed(db.Model):
    """An action item from a room's retrospective step, open until a deeds review closes it.

    `origin_key` ("<step position>:<deed id>") ties the row to the deed in its room's step
    state, which stays the source while that room runs: the row is written in the same
    transaction as every change of the deed. `carried` counts the reviews that carried it.
    """

    __tablename__ = "deeds"
    __table_args__ = (UniqueConstraint("room_id", "origin_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    origin_key: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(300))
    owner_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    due: Mapped[str | None] = mapped_column(String(10), nullable=True)
    agreement_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    agreement_text: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    reason: Mapped[str] = mapped_column(String(300), default="")
    carried: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    team: Mapped[Team] = relationship()
    room: Mapped[Room] = relationship()
    decisions: Mapped[list[DeedDecision]] = relationship(
        back_populates="deed", order_by="DeedDecision.id", cascade="all, delete-orphan"
    )

    def to_dict(self) -> dict[str, Any]:
        """Return the deed as plain data, for the charter's JSON and Markdown exports."""
        return {
            "text": self.text,
            "owner": self.owner_name,
            "due": self.due,
            "agreement": self.agreement_id,
            "status": self.status,
            "carried": self.carried,
            "created_at": self.created_at.replace(microsecond=0).isoformat() + "Z",
        }


class DeedDecision(db.Model):
    """What one room's deeds review decided about a deed: done, carried over or dropped."""

    __tablename__ = "deed_decisions"
    __table_args__ = (UniqueConstraint("deed_id", "room_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deed_id: Mapped[int] = mapped_column(ForeignKey("deeds.id", ondelete="CASCADE"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(300), default="")
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    deed: Mapped[Deed] = relationship(back_populates="decisions")
    room: Mapped[Room] = relationship()
