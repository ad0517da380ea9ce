"""Pure ritual state machines: no Flask, SQLAlchemy or Socket.IO in here.

Each ritual is a dataclass that serialises to plain JSON (`to_state`/`from_state`),
takes the clock and randomness as arguments, and raises `RitualError` for any
illegal move, leaving itself unchanged.
"""

from retro.rituals.agreements import AgreementDrafting
from retro.rituals.base import Actor, RitualError
from retro.rituals.checkin import CheckInRound
from retro.rituals.checkout import CheckOut
from retro.rituals.consent import ConsentVote
from retro.rituals.purpose import PurposeAlignment
from retro.rituals.retrospective import Retrospective
from retro.rituals.review import AgreementsCheck, DeedsReview
from retro.rituals.room import RoomFlow

STEP_KINDS: dict[
    str,
    type[CheckInRound]
    | type[CheckOut]
    | type[PurposeAlignment]
    | type[AgreementDrafting]
    | type[Retrospective]
    | type[DeedsReview]
    | type[AgreementsCheck],
] = {
    "checkin": CheckInRound,
    "checkout": CheckOut,
    "purpose": PurposeAlignment,
    "agreements": AgreementDrafting,
    "retro": Retrospective,
    "deeds_review": DeedsReview,
    "agreements_check": AgreementsCheck,
}

__all__ = [
    "STEP_KINDS",
    "Actor",
    "AgreementDrafting",
    "AgreementsCheck",
    "CheckInRound",
    "CheckOut",
    "ConsentVote",
    "DeedsReview",
    "PurposeAlignment",
    "Retrospective",
    "RitualError",
    "RoomFlow",
]
