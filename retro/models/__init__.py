"""SQLAlchemy models, one module per aggregate."""

from retro.models.room import Connection, Member, ProcessedAction, Room, Step
from retro.models.team import Team

__all__ = ["Connection", "Member", "ProcessedAction", "Room", "Step", "Team"]
