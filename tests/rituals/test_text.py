"""Free text from members: invisible characters go, line breaks stay, blank-looking is empty."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retro.rituals import RitualError
from retro.rituals.base import clean_text, tidy_text

PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want", with a ZWNJ
TECHNOLOGIST = "\U0001f469\u200d\U0001f4bb"  # one emoji, two joined by a ZWJ
BLANK_LOOKING = [
    "\u200b",  # zero-width space
    "\u202e",  # right-to-left override
    "\u202e\u202c",  # override and pop, nothing between
    "\u2066",  # left-to-right isolate
    "\u2066\u2069",  # an isolate and its end
    "\ufeff",  # byte-order mark / zero-width no-break space
    "\u2060\u180e",  # word joiner, Mongolian vowel separator
    "\u200d\u200c",  # joiners with nothing to join
    " \u200b\n\u200b\t ",
    "\x00\x07\x1b",  # control characters
    "\r\n\r",
]


@pytest.mark.parametrize("text", BLANK_LOOKING, ids=repr)
def test_a_text_that_looks_blank_is_empty(text):
    assert tidy_text(text) == ""
    with pytest.raises(RitualError) as caught:
        clean_text(text, 100)
    assert caught.value.code == "empty_text"


@pytest.mark.parametrize(
    ("text", "tidy"),
    [
        ("\u202eWe ship.", "We ship."),
        ("We \u2066ship\u2069.", "We ship."),
        ("Zero\u200bwidth", "Zerowidth"),
        ("One\r\nTwo\rThree\nFour", "One\nTwo\nThree\nFour"),
        ("Tab\tseparated", "Tab separated"),
        ("  padded \n", "padded"),
        # Joiners shape words and emoji: they stay between two visible characters.
        (PERSIAN, PERSIAN),
        (TECHNOLOGIST, TECHNOLOGIST),
        ("\u200dEdge\u200c", "Edge"),
        ("a \u200db", "a b"),
    ],
    ids=repr,
)
def test_invisible_characters_go_and_line_breaks_stay(text, tidy):
    assert tidy_text(text) == tidy
    assert clean_text(text, 100) == tidy


def test_the_limit_counts_what_is_kept():
    assert clean_text("\u200b" * 10 + "abc", 3) == "abc"
    with pytest.raises(RitualError) as caught:
        clean_text("abcd", 3)
    assert caught.value.code == "too_long"


def test_only_text_is_accepted():
    with pytest.raises(RitualError) as caught:
        clean_text(None, 3)
    assert caught.value.code == "invalid_value"


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_tidy_text_leaves_no_control_or_format_character_but_line_breaks_and_joiners(text):
    tidy = tidy_text(text)
    assert tidy == tidy.strip()
    assert "\r" not in tidy
    for char in tidy:
        if char in "\n\u200c\u200d":
            continue
        assert unicodedata.category(char) not in ("Cc", "Cf")
    assert tidy_text(tidy) == tidy
