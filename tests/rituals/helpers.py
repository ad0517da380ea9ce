"""Small builders shared by the ritual tests: actors, an order-keeping random, seen strings."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from retro.rituals import Actor, RitualError

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


def refused(call: Any, *args: Any, **kwargs: Any) -> str:
    """Call a ritual's command, check it was refused and changed nothing, return the code."""
    ritual = call.__self__
    before = json.dumps(ritual.to_state(), sort_keys=True)
    with pytest.raises(RitualError) as caught:
        call(*args, **kwargs)
    assert json.dumps(ritual.to_state(), sort_keys=True) == before
    return caught.value.code


def round_trip(ritual: Any) -> Any:
    """Return the ritual rebuilt from its state after a trip through JSON, checking it is equal."""
    restored = type(ritual).from_state(json.loads(json.dumps(ritual.to_state())))
    assert restored == ritual
    assert restored.to_state() == ritual.to_state()
    return restored


def walk(node: Any) -> Any:
    """Yield every dict and list inside a JSON-like value."""
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from walk(child)
