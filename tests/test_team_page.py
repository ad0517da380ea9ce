"""The team page tells a story: charter, open deeds, pulse trends, past rooms, a new room."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from markupsafe import escape

from retro.extensions import db
from retro.models import Deed, Room, Step

HOSTILE = '<script>alert("x")</script>'
MONDAY = datetime(2025, 3, 3, 9, 0)


def scale_state(key: str, histogram: list[int]) -> dict:
    """Return a revealed step state holding one ScaleTally under `key`."""
    name = "roti" if key == "roti" else "energy"
    return {
        "revealed": True,
        key: {
            "scales": [name],
            "responders": list(range(1, sum(histogram) + 1)),
            "counts": {name: histogram},
        },
    }


@pytest.fixture
def team(make_team):
    """Return a team for the page."""
    return make_team("The A-team")


@pytest.fixture
def add_room(team):
    """Return a factory of the team's rooms, written straight to the database."""

    def make(title="", status="ended", days=0, energy=None, roti=None):
        created = MONDAY + timedelta(days=days)
        room = Room(
            team=team,
            title=title,
            status=status,
            created_at=created,
            started_at=None if status == "lobby" else created,
            ended_at=created if status == "ended" else None,
        )
        if energy:
            room.steps.append(Step(position=0, kind="checkin", state=scale_state("tally", energy)))
        if roti:
            room.steps.append(Step(position=1, kind="checkout", state=scale_state("roti", roti)))
        db.session.add(room)
        db.session.commit()
        return room

    return make


@pytest.fixture
def add_deed(team):
    """Return a factory of deeds of the team, written straight to the database."""
    made = []

    def make(room, text="Book the demo room", **fields):
        deed = Deed(
            team_id=team.id,
            room_id=room.id,
            origin_key=f"0:d{len(made) + 1}",
            text=text,
            **fields,
        )
        db.session.add(deed)
        db.session.commit()
        made.append(deed)
        return deed

    return make


def page(client, team) -> str:
    """Return the team page's HTML."""
    response = client.get(f"/t/{team.key}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def deed_item(html: str, text: str) -> str:
    """Return the HTML of the deed list item holding `text`."""
    for item in re.findall(r'<li class="deed-card[^"]*">.*?</li>', html, re.S):
        if text in item:
            return item
    raise AssertionError(f"no deed {text!r} on the page")


def test_the_page_links_its_own_stylesheet_and_keeps_its_story_in_order(client, team):
    html = page(client, team)
    assert 'href="/static/css/team.css"' in html
    order = ["Your secret team link", "Team charter", "Open deeds", "Pulse trends", "Rooms"]
    positions = [html.index(f">{heading}</h2>") for heading in order]
    assert positions == sorted(positions)
    assert html.index('id="start-room"') > positions[-1]
    assert 'href="#start-room"' in html


def test_a_new_team_sees_friendly_empty_states(client, team):
    html = page(client, team)
    assert "No open deeds. Deeds come from retrospectives." in html
    assert "No trends yet." in html
    assert "<svg" not in html
    assert "No rooms yet. Start the first one." in html


def test_open_deeds_show_owner_due_date_origin_and_agreement(client, team, add_room, add_deed):
    room = add_room(title="Sprint 12 retro")
    add_deed(
        room,
        "Write the onboarding guide",
        owner_name="Ann",
        due="2999-12-31",
        agreement_id="a1",
        agreement_text="We document what we learn",
        carried=2,
    )
    add_deed(room, "Tidy the backlog", owner_name=None)
    html = page(client, team)
    guide = deed_item(html, "Write the onboarding guide")
    assert "<dd>Ann</dd>" in guide
    assert '<time datetime="2999-12-31">Dec 31, 2999</time>' in guide
    assert "overdue" not in guide
    assert f'<a href="/r/{room.code}/summary">Sprint 12 retro</a>' in guide
    assert "carried over 2 times" in guide
    assert "We document what we learn" in guide
    backlog = deed_item(html, "Tidy the backlog")
    assert "<dd>Everyone</dd>" in backlog
    assert "carried over" not in backlog
    assert "<dt>Due</dt>" not in backlog
    assert '<span class="badge">2</span>' in html


def test_a_deed_past_its_due_date_is_marked_overdue(client, team, add_room, add_deed):
    add_deed(add_room(), "Send the minutes", due="2000-01-31", carried=1)
    item = deed_item(page(client, team), "Send the minutes")
    assert item.startswith('<li class="deed-card overdue">')
    assert '<span class="badge warn">overdue</span>' in item
    assert "carried over 1 time<" in item


def test_closed_deeds_are_not_listed(client, team, add_room, add_deed):
    room = add_room()
    add_deed(room, "Done already", status="done")
    add_deed(room, "Dropped already", status="dropped", reason="No longer needed")
    add_deed(room, "Still open")
    html = page(client, team)
    assert "Still open" in html
    assert "Done already" not in html
    assert "Dropped already" not in html


def test_a_deed_from_an_untitled_room_links_to_it_by_date(client, team, add_room, add_deed):
    room = add_room(title="")
    add_deed(room, "Plan the offsite")
    item = deed_item(page(client, team), "Plan the offsite")
    assert f'<a href="/r/{room.code}/summary">Room on Mar 3, 2025</a>' in item


def test_pulse_trends_show_a_chart_per_scale_with_a_table(client, team, add_room):
    first = add_room(title="First", energy=[0, 0, 3, 0, 0], roti=[0, 0, 0, 3, 0])
    add_room(title="Second", days=7, energy=[0, 0, 0, 1, 2], roti=[0, 0, 0, 0, 3])
    html = page(client, team)
    for key, caption in (("energy", "Energy"), ("roti", "Return on time invested")):
        assert f'<svg class="trend-chart" id="trend-{key}"' in html
        assert f"<caption>{caption} per room, from 1 to 5</caption>" in html
    assert html.count("<svg") == 2
    # The scales no room used say so instead of drawing an empty chart.
    assert html.count("Not enough answers yet") == 4
    assert f'<th scope="row"><a href="/r/{first.code}/summary">First</a></th>' in html
    assert "<td>4.67</td>" in html
    assert "Show as table" in html


def test_past_rooms_link_to_their_summary_export_or_live_room(client, team, add_room):
    ended = add_room(title="Retro of March", roti=[0, 0, 0, 1, 2])
    live = add_room(title="Today", status="running", days=1)
    lobby = add_room(title="Tomorrow", status="lobby", days=2)
    html = page(client, team)
    assert f'href="/r/{ended.code}/summary">Retro of March</a>' in html
    assert f'href="/r/{ended.code}/summary.md"' in html
    assert f'href="/r/{live.code}">Today</a>' in html
    assert f'href="/r/{lobby.code}">Tomorrow</a>' in html
    assert f'href="/r/{live.code}/summary.md"' not in html
    assert ">live</span>" in html and ">lobby</span>" in html
    # The newest room first, each with its date, and the ROTI of the room that has one.
    rooms = html[html.index('id="past-rooms"') : html.index('id="start-room"')]
    assert rooms.index("Tomorrow") < rooms.index("Today") < rooms.index("Retro of March")
    assert '<time datetime="2025-03-03">Mar 3, 2025</time>' in rooms
    assert re.search(r"ROTI</abbr> 4\.67</span>", rooms)


def test_hostile_deed_and_room_text_is_escaped(client, team, add_room, add_deed):
    room = add_room(title=HOSTILE, energy=[0, 0, 3, 0, 0])
    add_deed(room, HOSTILE, owner_name=HOSTILE, agreement_text=HOSTILE, due="2000-01-01")
    html = page(client, team)
    assert HOSTILE not in html
    assert "<script>" not in html
    # Deed text, owner, agreement, origin link; room list; chart tooltip, desc and table.
    assert html.count(str(escape(HOSTILE))) >= 7


def test_a_start_room_form_with_a_mistake_points_to_the_form(client, team):
    response = client.post(f"/t/{team.key}", data={"facilitator_name": "", "steps-0-kind": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<a href="#start-room">The room has not started yet' in html
    assert "<svg" not in html  # still the whole page, with its empty states
