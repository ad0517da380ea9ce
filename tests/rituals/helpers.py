"""Small builders shared by the ritual tests: actors, an order-keeping random, seen strings."""

from __future__ import annotations

import json
import random
from typing import Any

from retro.rituals import Actor

FACILITATOR_ID = 1
FACILITATOR = Actor(FACILITATOR_ID, is_facilitator=True)


def member(member_id: int) -> Actor:
    """Return a plain member (no facilitator rights)."""
    return Actor(member_id)


class KeepOrder(random.Random):
    """A random source whose shuffle keeps the given order, so scenarios are predictable."""

    def shuffle(self, x: Any) -> None:
        """Leave the list as it is."""


def as_json(view: Any) -> str:
    """Return a view exactly as it would travel to a client."""
    return json.dumps(view, sort_keys=True, ensure_ascii=False)
