"""JSON for the database's JSON columns and Socket.IO packets: orjson, else the `json` module.

Every change of a room reads its steps' states and sends its views as JSON; orjson does
that several times faster than the `json` module. Where orjson refuses what `json`
accepts (a lone surrogate in a text, an integer beyond 64 bits; reading NaN), the `json`
module does the work, so nothing that used to be stored or sent is refused now. orjson
writes NaN and the infinities as null: JSON has none of them, and browsers refuse them.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Integer keys become strings, as with `json`.
_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any, **_options: Any) -> str:
    """Return `value` as compact JSON text (the options of `json.dumps` are ignored)."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Return the value of a JSON text."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
