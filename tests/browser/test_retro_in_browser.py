"""A retrospective in real browsers, and its deeds reviewed by the team's next room.

A facilitator and three members (one on a phone) run a Start/Stop/Continue retrospective:
write privately, reveal, group by drag and drop and by keyboard, lock grouping, dot-vote
with a per-topic limit, discuss the top topic in a timebox, agree two deeds; then rate the
room (ROTI) and end it. The team's next room reviews the two deeds (one done, one dropped
with a reason) and the team page shows the open deeds and the ROTI trend chart.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    button,
    join,
    join_three_and_start,
    screenshot,
    url_matching,
)
from tests.browser.test_charter_room import card, seed_charter, write

pytestmark = [pytest.mark.browser, pytest.mark.live]


def start_room(page: Page, *, retro: bool) -> str:
    """Start a room from the team page: a retrospective and a check-out, or a deeds review."""
    page.get_by_label("Your name (you will facilitate)").fill("Fien")
    page.locator("#steps-0-kind").select_option("retro" if retro else "deeds_review")
    if retro:
        expect(page.locator("#steps-0-format")).to_be_visible()
        page.locator("#steps-0-format").select_option("ssc")
        page.locator("#steps-1-kind").select_option("checkout")
    else:
        page.locator("#steps-1-kind").select_option("")
    page.locator("#submit").click()
    page.wait_for_url(url_matching(r"/r/"))
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    return page.locator("#share-link").input_value()


def group(page: Page, title: str):
    """Return the group whose title field holds `title`."""
    return page.locator("li.pgroup").filter(has=page.locator(f"input[value='{title}']"))


def test_a_retrospective_makes_deeds_the_next_room_reviews(live_server, open_page):
    server = live_server()
    fien = open_page(server.url + "/")
    fien.get_by_label("Team name").fill("Team Zonnebloem")
    fien.locator("#submit").click()
    fien.wait_for_url(url_matching(r"/t/"))
    team_page = fien.url.split("?")[0]
    seed_charter(server, re.search(r"/t/([^/?#]+)", fien.url).group(1))
    share = start_room(fien, retro=True)
    ann, bob, cas = join_three_and_start(open_page, fien, share)
    everyone = (fien, ann, bob, cas)

    # Writing: private until the reveal; others see counts and who wrote.
    write(ann, "stop", "Meetings without an agenda")
    write(bob, "start", "Pair on the hard bugs")
    write(cas, "start", "Pairing more often")
    write(fien, "continue", "Friday demos")
    expect(bob.locator(".slot-status .callout")).to_contain_text("4")
    expect(bob.locator(".retro-step")).not_to_contain_text("Meetings without an agenda")
    ann.locator("[data-focus=ready]").click()
    expect(fien.locator("#ready-count")).to_contain_text("1 of 4")
    screenshot(ann, "retro-write-member-phone")
    fien.locator("[data-focus=reveal-cards]").click()
    for page in everyone:
        expect(page.locator("li.pcard")).to_have_count(4)
    expect(fien.locator("#ready-count")).to_contain_text("0 of 4")
    # A new phase starts with nobody ready, also on the page of who was ready before.
    expect(ann.locator("[data-focus=ready]")).to_have_attribute("aria-pressed", "false")

    # Grouping: drag one card onto another, then title the group; keyboard "Move to" too.
    cas_card = card(bob, "Pairing more often")
    cas_card.drag_to(card(bob, "Pair on the hard bugs"))
    expect(fien.locator("li.pgroup.stack li.pcard")).to_have_count(2)
    stack = fien.locator("li.pgroup.stack")
    stack.get_by_label("Group title").fill("Pairing")
    stack.get_by_label("Group title").press("Enter")
    expect(group(ann, "Pairing")).to_have_count(1)
    moving = card(cas, "Friday demos")
    target = moving.locator("select option", has_text="Pairing").get_attribute("value")
    moving.locator("select").select_option(target)
    moving.get_by_role("button", name="Move").click()
    expect(fien.locator("li.pgroup.stack li.pcard")).to_have_count(3)
    card(fien, "Friday demos").locator("select").select_option(label="On its own")
    card(fien, "Friday demos").get_by_role("button", name="Move").click()
    expect(fien.locator("li.pgroup.stack li.pcard")).to_have_count(2)
    fien.locator("[data-focus=lock-grouping]").click()
    expect(ann.locator(".callout.locked")).to_be_visible()
    screenshot(fien, "retro-group-facilitator")

    # Voting: 4 votes (not the step's default 3), at most 2 on one topic; votes stay
    # hidden until the vote closes.
    fien.locator("#retro-votes").select_option("4")
    fien.locator("#retro-per-card").select_option("2")
    fien.locator("[data-focus=open-voting]").click()
    expect(bob.locator(".slot-status .callout")).to_contain_text("4 of 4")
    pairing = "Give a vote to “Pairing”"
    for page in (ann, bob, cas):
        page.get_by_role("button", name=pairing).click()
        expect(page.locator(".slot-status .callout")).to_contain_text("3 of 4")
    ann.get_by_role("button", name=pairing).click()
    expect(ann.get_by_role("button", name=pairing)).to_be_disabled()
    ann.get_by_role("button", name="Take a vote back from “Pairing”").click()
    expect(ann.locator(".slot-status .callout")).to_contain_text("3 of 4")
    bob.get_by_role("button", name="Give a vote to “Meetings without an agenda”").click()
    expect(fien.locator(".retro-step")).to_contain_text("People who have voted: 3")
    expect(fien.locator(".rank-votes")).to_have_count(0)
    screenshot(ann, "retro-vote-member-phone")
    fien.locator("[data-focus=close-voting]").click()
    first_topic = fien.locator("ol.topics li.topic").first
    expect(first_topic).to_contain_text("Pairing")
    expect(first_topic.locator(".rank-votes")).to_contain_text("3")

    # Discussing: the top topic with a 5-minute timebox, extended by two minutes.
    fien.locator("#topic-timebox").select_option("300")
    fien.locator("[data-focus=next-topic]").click()
    for page in everyone:
        expect(page.locator("#current-topic-title")).to_have_text("Pairing")
        expect(page.locator(".topic-countdown")).to_contain_text("left")
    fien.locator("[data-focus=extend-topic]").click()
    expect(ann.locator(".topic-countdown")).to_contain_text(re.compile(r"[67]:\d\d left"))

    # Deeds: two, one with an owner, a due date and a link to an agreement.
    bob.locator("#deed-text").fill("Pair on every bug older than a week")
    bob.locator("#deed-owner").select_option(label="Bob")
    bob.locator("#deed-due").fill("2030-03-01")
    bob.locator("#deed-agreement").select_option(label="We start on time.")
    bob.locator("[data-focus=deed-add]").click()
    fien.locator("[data-focus=start-deeds]").click()
    ann.locator("#deed-text").fill("Send an agenda with every invitation")
    ann.locator("#deed-text").press("Enter")
    for page in everyone:
        expect(page.locator("ul.deeds li.deed")).to_have_count(2)
    expect(fien.locator("ul.deeds li.deed").first).to_contain_text("Bob")
    expect(fien.locator("ul.deeds li.deed").first).to_contain_text("We start on time.")
    screenshot(fien, "retro-deeds-facilitator")
    screenshot(cas, "retro-deeds-member")

    # Check-out: an anonymous ROTI from all four, revealed, then the room ends.
    button(fien, "Next step →").click()
    for page in everyone:
        page.locator("input[name=scale-roti][value='4']").check()
        button(page, "Send anonymously").click()
        expect(page.locator(".stage-scales")).to_contain_text("anonymously")
    button(fien, "Reveal the answers").click()
    expect(ann.locator(".histogram")).to_contain_text("average 4")
    fien.once("dialog", lambda dialog: dialog.accept())
    button(fien, "End the room").click()
    expect(ann.locator("#stage-title")).to_have_text("This room has ended")
    ann.get_by_role("link", name="Open the summary").click()
    ann.wait_for_url(url_matching(r"/summary$"))
    expect(ann.locator("main")).to_contain_text("Pair on every bug older than a week")
    expect(ann.locator("main")).to_contain_text("Pairing")
    screenshot(ann, "retro-summary-member-phone")

    # The next room of the team reviews the deeds: one done, one dropped with a reason.
    fien.goto(team_page)
    expect(fien.locator("main")).to_contain_text("Pair on every bug older than a week")
    share = start_room(fien, retro=False)
    tom = open_page(share)
    join(tom, "Tom")
    button(fien, "Start the room").first.click()
    deeds = tom.locator("li.review-deed")
    expect(deeds).to_have_count(2)
    expect(deeds.first).to_contain_text("the room on")
    done = deeds.filter(has_text="Pair on every bug")
    dropped = deeds.filter(has_text="Send an agenda")
    done.locator("[data-focus^=review-done-]").click()
    expect(fien.locator("li.review-deed.decision-done")).to_have_count(1)
    dropped.locator("[data-focus^=review-drop-]").click()
    dropped.get_by_label("Why drop it? (required)").fill("Invitations come from the calendar")
    dropped.locator("[data-focus^=review-drop-send-]").click()
    expect(fien.locator("li.review-deed.decision-drop")).to_contain_text("calendar")
    expect(fien.locator("#decided-count")).to_contain_text("2 of 2")
    screenshot(tom, "deeds-review-member")
    fien.once("dialog", lambda dialog: dialog.accept())
    button(fien, "End the room").click()
    expect(tom.locator("#stage-title")).to_have_text("This room has ended")

    # The team page: no deed is open any more, and the ROTI trend has its first point.
    fien.goto(team_page)
    expect(fien.locator("main")).not_to_contain_text("Pair on every bug older than a week")
    roti = fien.locator("figure", has_text="Return on time invested")
    expect(roti.locator("svg[role=img]")).to_have_count(1)
    expect(roti.locator("table")).to_contain_text("4")
    screenshot(fien, "retro-team-page")
    for page in (*everyone, tom):
        assert page.errors == [], page.errors
