"""The one validator for socket payloads: types, lengths and allowed fields per event."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from retro.charter.content import ITEM_ID, MAX_AGREEMENTS
from retro.rituals import RitualError
from retro.rituals.agreements import AGREEMENT_LIMIT
from retro.rituals.checkin import ANSWER_LIMIT, SCALES
from retro.rituals.consent import REASON_LIMIT, THRESHOLD_MAX, THRESHOLD_MIN
from retro.rituals.purpose import CARD_LIMIT, GROUP_TITLE_LIMIT, PURPOSE_LIMIT
from retro.rituals.purpose import COLUMNS as PURPOSE_COLUMNS
from retro.rituals.retrospective import COLUMN_KEYS, DEED_LIMIT, MAX_COLUMNS
from retro.rituals.review import DECISIONS
from retro.rituals.review import REASON_LIMIT as REVIEW_REASON_LIMIT

ACTION_ID_LIMIT = 64
Check = Callable[[Any], Any]


def integer(low: int, high: int) -> Check:
    """Accept an int (not a bool) within [low, high]."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError
        return value

    return check


def text(limit: int) -> Check:
    """Accept a string of at most `limit` characters."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError
        if len(value) > limit:
            raise RitualError("too_long", limit=limit)
        return value

    return check


def scale_values(value: Any) -> dict[str, int]:
    """Accept {scale: 1..5} for known scale names."""
    known = (*SCALES, "roti")
    if not isinstance(value, Mapping) or not 1 <= len(value) <= len(known):
        raise ValueError
    if any(k not in known for k in value):
        raise ValueError
    one_to_five = integer(1, 5)
    return {k: one_to_five(v) for k, v in value.items()}


def one_of(*allowed: str) -> Check:
    """Accept one of a few fixed strings."""

    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError
        return value

    return check


def ident(value: Any) -> str:
    """Accept the id of a card, group, proposal or agreement."""
    if not isinstance(value, str) or not ITEM_ID.fullmatch(value):
        raise ValueError
    return value


def boolean(value: Any) -> bool:
    """Accept true or false."""
    if not isinstance(value, bool):
        raise ValueError
    return value


def pulse_values(value: Any) -> dict[str, int]:
    """Accept {agreement id: 1..5} for at most as many agreements as a charter holds."""
    if not isinstance(value, Mapping) or not 1 <= len(value) <= MAX_AGREEMENTS:
        raise ValueError
    one_to_five = integer(1, 5)
    return {ident(k): one_to_five(v) for k, v in value.items()}


class Omittable:
    """A field the payload may leave out; the command then gets no such argument."""

    def __init__(self, check: Check) -> None:
        self.check = check

    def __call__(self, value: Any) -> Any:
        """Check the value when the payload has the field."""
        return self.check(value)


def nullable(check: Check) -> Check:
    """Accept null as well as what `check` accepts."""

    def wrapped(value: Any) -> Any:
        return None if value is None else check(value)

    return wrapped


# Every column a card may go in: purpose alignment's, the retrospective formats', and
# k1..kN of a retrospective with the facilitator's own columns.
CARD_COLUMNS = (
    *PURPOSE_COLUMNS,
    *(key for keys in COLUMN_KEYS.values() for key in keys),
    *(f"k{n}" for n in range(1, MAX_COLUMNS + 1)),
)
STEP = integer(0, 99)
# The allowed timer range is a rule of the room (RoomFlow), with its own message.
SECONDS = integer(0, 2**31 - 1)
MEMBER = integer(1, 2**31 - 1)
DEED = integer(1, 2**31 - 1)
DATE = text(10)

SCHEMAS: dict[str, dict[str, Check]] = {
    "start": {},
    "next": {},
    "previous": {},
    "end": {},
    "claim": {},
    "timer_start": {"seconds": SECONDS},
    "timer_extend": {"seconds": SECONDS},
    "timer_stop": {},
    "handover": {"member": MEMBER},
    "answer": {"step": STEP, "text": text(ANSWER_LIMIT)},
    "pass": {"step": STEP},
    "pass_turn": {"step": STEP},
    "reveal": {"step": STEP},
    "rate": {"step": STEP, "values": scale_values},
    "publish": {},
    # Purpose alignment
    # Purpose alignment and retrospectives (each step checks its own columns)
    "add_card": {"step": STEP, "column": one_of(*CARD_COLUMNS), "text": text(CARD_LIMIT)},
    "edit_card": {"step": STEP, "card": ident, "text": text(CARD_LIMIT)},
    "delete_card": {"step": STEP, "card": ident},
    "group_card": {"step": STEP, "card": ident, "target": nullable(ident)},
    "title_group": {"step": STEP, "group": ident, "title": text(GROUP_TITLE_LIMIT)},
    "open_voting": {
        "step": STEP,
        "votes": integer(1, 10),
        "per_card": Omittable(integer(1, 10)),
    },
    "vote": {"step": STEP, "group": ident},
    "unvote": {"step": STEP, "group": ident},
    "close_voting": {"step": STEP},
    "draft_statement": {"step": STEP, "text": text(PURPOSE_LIMIT)},
    # Consent, in both charter steps
    "call_consent": {
        "step": STEP,
        "threshold": integer(THRESHOLD_MIN, THRESHOLD_MAX),
        "proposal": nullable(ident),
    },
    "consent": {"step": STEP, "score": integer(0, 5), "reason": text(REASON_LIMIT)},
    "close_consent": {"step": STEP},
    "cancel_consent": {"step": STEP},
    # Working-agreement drafting
    "propose": {
        "step": STEP,
        "kind": one_of("amend", "retire", "add"),
        "target": nullable(ident),
        "text": text(AGREEMENT_LIMIT),
        "review_date": text(10),
    },
    "amend_proposal": {"step": STEP, "proposal": ident, "text": text(AGREEMENT_LIMIT)},
    "withdraw": {"step": STEP, "proposal": ident},
    "keep": {"step": STEP, "agreement": ident},
    # Retrospective
    "lock_grouping": {"step": STEP, "locked": boolean},
    "skip_voting": {"step": STEP},
    "highlight": {"step": STEP, "topic": ident, "seconds": SECONDS},
    "extend_topic": {"step": STEP, "seconds": SECONDS},
    "start_deeds": {"step": STEP},
    "add_deed": {
        "step": STEP,
        "text": text(DEED_LIMIT),
        "owner": nullable(MEMBER),
        "due": DATE,
        "agreement": nullable(ident),
    },
    "edit_deed": {
        "step": STEP,
        "deed": ident,
        "text": text(DEED_LIMIT),
        "owner": nullable(MEMBER),
        "due": DATE,
        "agreement": nullable(ident),
    },
    "delete_deed": {"step": STEP, "deed": ident},
    "ready": {"step": STEP, "ready": boolean},
    # Deeds review and agreements check
    "decide_deed": {
        "step": STEP,
        "deed": DEED,
        "decision": one_of(*DECISIONS),
        "reason": text(REVIEW_REASON_LIMIT),
    },
    "pulse": {"step": STEP, "values": pulse_values},
}


def validate(event: str, payload: Any) -> tuple[str, dict[str, Any]]:
    """Return (action_id, arguments) for a well-formed command, or raise RitualError."""
    schema = SCHEMAS.get(event)
    if schema is None:
        raise RitualError("unknown_event")
    if not isinstance(payload, Mapping):
        raise RitualError("invalid_payload")
    action_id = payload.get("action_id")
    if (
        not isinstance(action_id, str)
        or not 1 <= len(action_id) <= ACTION_ID_LIMIT
        or not action_id.isprintable()
    ):
        raise RitualError("invalid_field", field="action_id")
    extra = set(payload) - set(schema) - {"action_id"}
    if extra:
        raise RitualError("invalid_field", field=sorted(extra)[0])
    args: dict[str, Any] = {}
    for name, check in schema.items():
        if name not in payload:
            if isinstance(check, Omittable):
                continue
            raise RitualError("invalid_field", field=name)
        try:
            args[name] = check(payload[name])
        except (ValueError, TypeError):
            raise RitualError("invalid_field", field=name) from None
    return action_id, args
