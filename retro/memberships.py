"""The rooms this browser joined, kept in the signed session cookie."""

from __future__ import annotations

from flask import session

# A cookie holds about 4 KB; the oldest memberships make room for new ones.
MAX_REMEMBERED = 20


def remember(room_code: str, token: str) -> None:
    """Keep a member's secret for a room, most recent last."""
    pairs = [pair for pair in _pairs() if pair[0] != room_code]
    session["rooms"] = [*pairs, [room_code, token]][-MAX_REMEMBERED:]
    session.permanent = True


def token_for(room_code: str) -> str | None:
    """Return the secret this browser holds for a room, if any."""
    return next((token for code, token in _pairs() if code == room_code), None)


def _pairs() -> list[list[str]]:
    """Return the remembered [code, token] pairs, ignoring anything malformed."""
    stored = session.get("rooms")
    if not isinstance(stored, list):
        return []
    return [
        p
        for p in stored
        if isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
    ]
