"""Every error code the server can send has a translatable message."""

from __future__ import annotations

from pathlib import Path

import pytest

from retro.messages import MESSAGES
from tests.rituals.test_consent import raised_codes

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "retro").rglob("*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_every_error_code_raised_anywhere_has_a_message(module):
    assert raised_codes(ROOT / module) - set(MESSAGES) == set()
