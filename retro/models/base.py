"""Helpers shared by the models."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time in UTC, without tzinfo (as stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_token(nbytes: int = 18) -> str:
    """Return a fresh URL-safe secret."""
    return secrets.token_urlsafe(nbytes)


def digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
