"""A team: a name and a secret team link."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from retro.extensions import db
from retro.models.base import new_token, utcnow

if TYPE_CHECKING:
    from retro.models.charter import Charter
    from retro.models.room import Room


class Team(db.Model):
    """A team owns rooms (and, later, a charter); its key is the secret team link."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(40), unique=True, default=lambda: new_token(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rooms: Mapped[list[Room]] = relationship(
        back_populates="team", order_by="Room.created_at.desc()"
    )
    charter: Mapped[Charter | None] = relationship(back_populates="team", uselist=False)
