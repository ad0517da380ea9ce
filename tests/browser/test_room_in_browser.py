"""A real room in real browsers: a facilitator and two members, one of them on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import button, create_room, join, join_as, screenshot, url_matching

pytestmark = [pytest.mark.browser, pytest.mark.live]

HOSTILE = "sunny <b>spells</b><img src=x onerror=alert(1)>"


def test_a_facilitator_and_two_members_run_a_check_in_round_and_a_check_out(live_server, open_page):
    server = live_server()
    fien = open_page(server.url + "/")
    share = create_room(fien)
    assert share.startswith(server.url + "/r/")

    ann = join_as(open_page, share, "Ann", phone=True)
    bob = join_as(open_page, share, "Bob")
    pages = {"Fien": fien, "Ann": ann, "Bob": bob}
    expect(fien.locator("#people li.online")).to_have_count(3)
    # Members cannot drive the room.
    expect(ann.locator("#facilitation")).to_be_hidden()

    button(fien, "Start the room").first.click()
    for page in pages.values():
        expect(page.locator(".talking-order li")).to_have_count(3)

    # The talking stick goes round in a random order; Bob passes, the others answer.
    for _turn in range(3):
        speaking = fien.locator(".talking-order li.speaking .person-name")
        name = speaking.text_content()
        page = pages[name]
        expect(page.locator(".callout.turn")).to_be_visible()
        if name == "Bob":
            button(page, "Pass").click()
        else:
            page.get_by_label("Your answer").fill(f"{name}: {HOSTILE}")
            button(page, "Share").click()
            for other_name, other in pages.items():
                # The answer appears live for everyone, as text, not as HTML.
                expect(other.locator(".talking-order li", has_text=name)).to_contain_text(HOSTILE)
                if other_name != name:
                    # Screen readers hear what the speaker said, not only that they answered.
                    said = f"{name}: {name}: {HOSTILE}"
                    expect(other.locator("#announcer")).to_contain_text(said)
            button(page, "I'm done, pass the stick").click()
        done = fien.locator(".talking-order li", has_text=name)
        expect(done).to_have_class(url_matching(r"\b(heard|passed)\b"))
    for page in pages.values():
        expect(page.locator(".stage-status .callout")).to_have_text("Everyone has been heard.")
        expect(page.locator(".talking-order li.passed")).to_contain_text("Bob")

    # Anonymous energy scale: results only at the reveal, once three people answered.
    for count, page in enumerate(pages.values(), start=1):
        page.locator("input[name=scale-energy][value='4']").check()
        button(page, "Send anonymously").click()
        expect(page.locator(".stage-scales")).to_contain_text("anonymously")
        if count < 3:
            expect(fien.locator(".stage-results")).to_contain_text("at least 3 people")
    expect(ann.locator(".stage-results")).to_contain_text("Enough people answered")
    expect(ann.locator(".histogram")).to_have_count(0)
    button(fien, "Show the scale results").click()
    expect(ann.locator(".histogram")).to_contain_text("average 4")
    screenshot(fien, "checkin-round-facilitator")
    screenshot(ann, "checkin-round-member-phone")

    # Check-out: words stay hidden until the facilitator reveals them.
    button(fien, "Next step →").click()
    words = {"Fien": "Grateful", "Ann": "Light", "Bob": "Tired"}
    for name, page in pages.items():
        page.get_by_label("Your word").fill(words[name])
        button(page, "Save my answer").click()
        page.locator("input[name=scale-roti][value='5']").check()
        button(page, "Send anonymously").click()
    expect(ann.locator(".stage-status .chips li")).to_have_count(3)
    expect(ann.locator(".stage-body")).not_to_contain_text("Tired")
    button(fien, "Reveal the answers").click()
    for page in pages.values():
        expect(page.locator(".chips.words")).to_contain_text("Tired")
        expect(page.locator(".histogram")).to_contain_text("average 5")
    screenshot(fien, "checkout-facilitator")
    screenshot(ann, "checkout-member-phone")

    fien.once("dialog", lambda dialog: dialog.accept())
    button(fien, "End the room").click()
    for page in pages.values():
        expect(page.locator("#stage-title")).to_have_text("This room has ended")
    ann.get_by_role("link", name="Open the summary").click()
    ann.wait_for_url(url_matching(r"/summary$"))
    expect(ann.locator("main")).to_contain_text(f"Ann: {HOSTILE}")
    expect(ann.locator("main")).to_contain_text("Return on time invested")
    screenshot(ann, "summary-member-phone")
    for name, page in pages.items():
        assert page.errors == [], (name, page.errors)


def test_simultaneous_answers_stay_hidden_until_the_reveal_and_a_refresh_keeps_the_room(
    live_server, open_page
):
    server = live_server()
    fien = open_page(server.url + "/")
    share = create_room(fien, scale=False, simultaneous=True)
    ann = join_as(open_page, share, "Ann", phone=True)
    bob = join_as(open_page, share, "Bob")
    button(fien, "Start the room").first.click()

    ann.get_by_label("Your answer").fill("A secret only revealed later")
    button(ann, "Save my answer").click()
    expect(bob.locator(".stage-status .chips")).to_contain_text("Ann")
    expect(bob.locator(".stage-body")).not_to_contain_text("A secret only revealed later")
    expect(bob.locator("#announcer")).to_contain_text("Ann answered")
    expect(bob.locator("#announcer")).not_to_contain_text("A secret only revealed later")

    # A refresh puts Ann back as the same member, with her own answer kept.
    ann.reload()
    expect(ann.locator("#connection")).to_have_attribute("data-state", "connected")
    expect(ann.get_by_label("Your answer")).to_have_value("A secret only revealed later")
    expect(fien.locator("#people li.online")).to_have_count(3)

    button(fien, "Reveal the answers").click()
    expect(bob.locator(".answers")).to_contain_text("A secret only revealed later")
    screenshot(bob, "simultaneous-revealed-member")


def test_the_room_page_connects_when_the_server_accepts_only_websocket(live_server, open_page):
    server = live_server(RETRO_WEBSOCKET_ONLY="1")
    fien = open_page(server.url + "/")
    create_room(fien, scale=False)
    ann = open_page(fien.locator("#share-link").input_value(), phone=True)
    join(ann, "Ann")
    expect(fien.locator("#people li.online")).to_have_count(2)
    assert fien.errors == [] and ann.errors == []
