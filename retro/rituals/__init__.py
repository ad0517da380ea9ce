"""Pure ritual state machines: no Flask, SQLAlchemy or Socket.IO in here.

Each ritual is a dataclass that serialises to plain JSON (`to_state`/`from_state`),
takes the clock and randomness as arguments, and raises `RitualError` for any
illegal move, leaving itself unchanged.
"""

from retro.rituals.base import Actor, RitualError
from retro.rituals.checkin import CheckInRound
from retro.rituals.checkout import CheckOut
from retro.rituals.room import RoomFlow

STEP_KINDS: dict[str, type[CheckInRound] | type[CheckOut]] = {
    "checkin": CheckInRound,
    "checkout": CheckOut,
}

__all__ = ["STEP_KINDS", "Actor", "CheckInRound", "CheckOut", "RitualError", "RoomFlow"]
