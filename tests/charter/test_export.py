"""Exports of a charter version: the JSON document and the Markdown document."""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace

import pytest
from markdown_it import MarkdownIt

from retro.charter.content import Agreement, Anchor, CharterContent
from retro.charter.export import demote_headings, to_json, to_markdown

CONTENT = CharterContent(
    purpose="We help **small shops** sell online.\n\n# Why\n\nBecause we care.",
    agreements=(
        Agreement("a1", "We start *on time*."),
        Agreement("a2", "# We keep cameras on.", "2027-01-31"),
        Agreement("a3", "1. We  give\nfeedback."),
    ),
    anchors=(
        Anchor("k1", "Weekly retro", "weekly", "checkin"),
        Anchor("k2", "Charter review", "quarterly", "gone-agenda"),
    ),
    leadership="## Roles\n\nThe product owner decides on scope.\n\n```\n# not a heading\n```",
)


def stored(**fields):
    """Return something shaped like a stored CharterVersion."""
    values = {
        "number": 3,
        "author": "Fien",
        "created_at": datetime(2026, 11, 27, 9, 30, 15, 123456),
        "source": "manual",
        "room": None,
        "restored_from": None,
        "ratified_by": [],
        "summary": [{"kind": "purpose_changed"}],
        "content": CONTENT.to_dict(),
        "charter": SimpleNamespace(team=SimpleNamespace(name="The A-team", key="secret-key")),
    }
    values.update(fields)
    return SimpleNamespace(**values)


def headings(markdown: str) -> list[tuple[str, str]]:
    """Return (tag, text) of every heading a Markdown document really has."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [
        (token.tag, tokens[n + 1].content)
        for n, token in enumerate(tokens)
        if token.type == "heading_open"
    ]


# -- JSON ------------------------------------------------------------------------------


def test_the_json_export_follows_the_documented_schema():
    data = to_json(stored(), [])
    assert list(data) == ["team", "version", "charter", "deeds"]
    assert data["team"] == {"name": "The A-team"}
    assert data["version"] == {
        "number": 3,
        "author": "Fien",
        "created_at": "2026-11-27T09:30:15Z",
        "source": "manual",
        "room": None,
        "restored_from": None,
        "ratified_by": [],
        "summary": [{"kind": "purpose_changed"}],
    }
    assert data["charter"] == CONTENT.to_dict()
    assert data["deeds"] == []
    assert json.loads(json.dumps(data)) == data


def test_the_json_export_never_contains_the_team_link():
    assert "secret-key" not in json.dumps(to_json(stored(), []))


def test_the_json_export_names_the_room_of_a_publication():
    room = SimpleNamespace(title="Charter session", created_at=datetime(2026, 11, 20, 14, 0))
    data = to_json(
        stored(source="room", room=room, ratified_by=["Fien", "Bo"], summary=[]), [{"text": "x"}]
    )
    assert data["version"]["room"] == {
        "title": "Charter session",
        "created_at": "2026-11-20T14:00:00Z",
    }
    assert data["version"]["ratified_by"] == ["Fien", "Bo"]
    assert data["deeds"] == [{"text": "x"}]


def test_the_json_export_normalises_old_content():
    data = to_json(stored(content={"purpose": "Old."}), [])
    assert data["charter"] == {"purpose": "Old.", "agreements": [], "anchors": [], "leadership": ""}


# -- Markdown ----------------------------------------------------------------------------


def test_the_markdown_export_has_every_section_under_its_heading():
    text = to_markdown(to_json(stored(), []))
    assert headings(text)[:2] == [("h1", "Team charter: The A-team"), ("h2", "Purpose")]
    sections = [title for tag, title in headings(text) if tag == "h2"]
    assert sections == [
        "Purpose",
        "Working agreements",
        "Connection anchors",
        "Deeds",
        "Leadership",
    ]
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_the_markdown_export_carries_the_version_metadata():
    text = to_markdown(to_json(stored(), []))
    assert "- Version: 3" in text
    assert "- By: Fien" in text
    assert "- Saved: 2026-11-27T09:30:15Z" in text
    assert "- Source: manual edit" in text
    assert "Ratified by" not in text


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        ({"source": "restore", "restored_from": 1}, "- Source: restored from version 1"),
        (
            {
                "source": "room",
                "room": SimpleNamespace(title="Retro", created_at=datetime(2026, 1, 1)),
                "ratified_by": ["Fien", "Bo"],
            },
            "- Source: room “Retro”",
        ),
        ({"source": "room", "room": None}, "- Source: room “a room”"),
    ],
)
def test_the_markdown_export_says_where_a_version_came_from(fields, line):
    text = to_markdown(to_json(stored(**fields), []))
    assert line in text
    if fields.get("ratified_by"):
        assert "- Ratified by: Fien, Bo" in text


def test_user_markdown_is_kept_but_its_headings_sit_below_the_sections():
    text = to_markdown(to_json(stored(), []))
    assert "We help **small shops** sell online." in text
    assert ("h3", "Why") in headings(text)
    assert ("h4", "Roles") in headings(text)
    assert "```\n# not a heading\n```" in text
    assert all(tag != "h1" for tag, _title in headings(text)[1:])


def test_agreements_are_a_numbered_list_with_review_dates():
    text = to_markdown(to_json(stored(), []))
    assert "1. We start *on time*." in text
    assert "2. \\# We keep cameras on. _(review on 2027-01-31)_" in text
    assert "3. 1\\. We give feedback." in text
    tokens = MarkdownIt("commonmark").parse(text)
    assert [t.type for t in tokens].count("list_item_open") >= 3
    # An agreement's text cannot start a heading or a nested list of its own.
    assert ("h1", "We keep cameras on.") not in headings(text)


def test_anchors_show_cadence_and_agenda():
    text = to_markdown(to_json(stored(), []))
    assert "- **Weekly retro**: Weekly; agenda: Check-in and check-out" in text
    # An agenda that no longer exists is shown by its key.
    assert "- **Charter review**: Quarterly; agenda: gone-agenda" in text


def test_empty_sections_and_deeds_say_so():
    text = to_markdown(to_json(stored(content={}), []))
    assert text.count("_None_") == 4
    assert "_No open deeds. Deeds come from retrospectives._" in text


def test_open_deeds_are_listed_with_owner_and_due_date():
    deeds = [
        {"text": "Fix the build", "owner": "Ann", "due": "2030-01-31"},
        {"text": "Call the client\n# not a heading", "owner": None, "due": None},
    ]
    text = to_markdown(to_json(stored(), deeds))
    assert "- Fix the build (owner: Ann; due 2030-01-31)\n" in text
    assert "- Call the client # not a heading (owner: everyone)" in text


def test_names_cannot_break_the_document_structure():
    team = SimpleNamespace(name="A\n# Team")
    text = to_markdown(
        to_json(stored(author="Bo\n## Hack", charter=SimpleNamespace(team=team)), [])
    )
    assert headings(text)[0] == ("h1", "Team charter: A # Team")
    assert "- By: Bo ## Hack" in text


# -- demoting headings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# One", "### One"),
        ("## Two\nbody", "#### Two\nbody"),
        ("##### Five", "###### Five"),
        ("###### Six", "###### Six"),
        ("Title\n=====", "### Title"),
        ("Sub\n---", "#### Sub"),
        ("Two line\ntitle\n===", "### Two line title"),
        ("> # Quoted", "> ### Quoted"),
        ("- # In a list", "- ### In a list"),
        ("```\n# code\n```", "```\n# code\n```"),
        ("    # indented code", "    # indented code"),
        ("#hashtag", "#hashtag"),
        ("text # not a heading", "text # not a heading"),
        ("", ""),
    ],
)
def test_headings_are_demoted_two_levels(text, expected):
    assert demote_headings(text) == expected
