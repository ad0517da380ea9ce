"""SQLAlchemy models, one module per aggregate."""

from retro.models.charter import Charter, CharterVersion
from retro.models.deed import Deed, DeedDecision
from retro.models.room import Connection, Member, ProcessedAction, Room, Step
from retro.models.team import Team

__all__ = [
    "Charter",
    "CharterVersion",
    "Connection",
    "Deed",
    "DeedDecision",
    "Member",
    "ProcessedAction",
    "Room",
    "Step",
    "Team",
]
