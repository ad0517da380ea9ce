"""A room that recovers: taking over from an absent facilitator, and a socket the server forgot."""

from __future__ import annotations

import sqlite3
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import button, create_room, join_as

pytestmark = [pytest.mark.browser, pytest.mark.live]

GRACE = 3


def test_take_over_is_offered_only_after_the_facilitator_has_been_away_for_the_grace_period(
    live_server, open_page
):
    server = live_server(RETRO_CLAIM_GRACE=str(GRACE))
    fien = open_page(server.url + "/")
    share = create_room(fien, scale=False)
    ann = join_as(open_page, share, "Ann")
    expect(ann.locator("#people li.online")).to_have_count(2)
    claim = button(ann, "Take over facilitation")
    expect(claim).to_have_count(0)

    fien.close()
    gone = time.monotonic()
    expect(ann.locator("#people li.offline")).to_contain_text("Fien")
    # Offline, but not yet for long: a refresh or a Wi-Fi blip must not cost the role.
    expect(claim).to_have_count(0)
    expect(claim).to_be_visible(timeout=(GRACE + 5) * 1000)
    assert time.monotonic() - gone >= GRACE - 1
    claim.focus()
    ann.keyboard.press("Enter")
    expect(ann.locator("#facilitation")).to_be_visible()
    expect(claim).to_have_count(0)
    # The button went away with the take-over: focus lands on the panel it opened.
    assert ann.evaluate("() => document.activeElement.id") == "facilitation-title"
    assert ann.errors == []


def test_a_command_on_a_socket_the_server_forgot_reconnects_and_still_applies(
    live_server, open_page
):
    server = live_server()
    fien = open_page(server.url + "/")
    share = create_room(fien, scale=False, simultaneous=True)
    ann = join_as(open_page, share, "Ann")
    button(fien, "Start the room").first.click()
    expect(ann.get_by_label("Your answer")).to_be_visible()

    # The server loses Ann's connection record (as when it expired) while her socket lives on.
    with sqlite3.connect(server.database) as db:
        db.execute(
            "DELETE FROM connections WHERE member_id IN "
            "(SELECT id FROM members WHERE display_name = 'Ann')"
        )
    ann.get_by_label("Your answer").fill("Sent on a forgotten socket")
    button(ann, "Save my answer").click()
    # The client reconnects, gets a fresh snapshot and sends the answer once more.
    expect(ann.locator("[data-focus=answer-submit]")).to_have_text("Update my answer")
    expect(fien.locator(".stage-status .chips")).to_contain_text("Ann")
    expect(fien.locator("#people li.online")).to_have_count(2)
    expect(ann.locator("#toast")).to_be_hidden()
    assert ann.errors == []
