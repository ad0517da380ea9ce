"""The one validator for socket payloads: types, lengths and allowed fields per event."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from retro.rituals import RitualError
from retro.rituals.checkin import ANSWER_LIMIT, SCALES

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


STEP = integer(0, 99)
# The allowed timer range is a rule of the room (RoomFlow), with its own message.
SECONDS = integer(0, 2**31 - 1)
MEMBER = integer(1, 2**31 - 1)

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
}


def validate(event: str, payload: Any) -> tuple[str, dict[str, Any]]:
    """Return (action_id, arguments) for a well-formed command, or raise RitualError."""
    schema = SCHEMAS.get(event)
    if schema is None:
        raise RitualError("unknown_event")
    if not isinstance(payload, Mapping):
        raise RitualError("invalid_payload")
    action_id = payload.get("action_id")
    if not isinstance(action_id, str) or not 1 <= len(action_id) <= ACTION_ID_LIMIT:
        raise RitualError("invalid_field", field="action_id")
    extra = set(payload) - set(schema) - {"action_id"}
    if extra:
        raise RitualError("invalid_field", field=sorted(extra)[0])
    args: dict[str, Any] = {}
    for name, check in schema.items():
        if name not in payload:
            raise RitualError("invalid_field", field=name)
        try:
            args[name] = check(payload[name])
        except (ValueError, TypeError):
            raise RitualError("invalid_field", field=name) from None
    return action_id, args
