"""The room by keyboard, on a 375 px phone, and on the meeting-room projector."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import button, create_room, join_as, screenshot
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.live]

ACTIVE = """() => {
  const el = document.activeElement;
  return { tag: el.tagName.toLowerCase(), id: el.id, focus: el.dataset.focus || null,
           text: el.textContent.trim() };
}"""


def active(page: Page) -> dict[str, Any]:
    """Describe the focused element of `page`."""
    return page.evaluate(ACTIVE)


def tab_to(page: Page, selector: str, *, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} never got focus with Tab; last focused: {active(page)}")


def assert_focus(page: Page, *, focus: str, text: str | None = None) -> None:
    """Assert that the element with this data-focus key (and text) has focus."""
    now = active(page)
    assert now["tag"] != "body", "focus fell back to <body>"
    assert now["focus"] == focus, now
    if text is not None:
        assert now["text"] == text, now


def test_a_facilitator_drives_a_step_with_the_keyboard_and_focus_is_never_lost(
    live_server, open_page
):
    server = live_server()
    fien = open_page(server.url + "/")
    share = create_room(fien, scale=False, simultaneous=True)
    ann = join_as(open_page, share, "Ann")
    bob = join_as(open_page, share, "Bob")
    expect(fien.locator("#people li.online")).to_have_count(3)

    # Start: focus lands on the new step's heading, for the facilitator and the members.
    tab_to(fien, "#facilitation [data-focus=start]")
    fien.keyboard.press("Enter")
    expect(fien.locator("#stage-title")).to_have_text("Check-in round · Simultaneous")
    assert_focus(fien, focus="stage-title", text="Check-in round · Simultaneous")
    expect(ann.locator("#stage-title")).to_have_text("Check-in round · Simultaneous")
    assert_focus(ann, focus="stage-title")

    # The facilitator waits on "Reveal the answers" while the answers come in: every
    # broadcast changes the status part around the button, and focus stays on it.
    tab_to(fien, "[data-focus=reveal]")
    bob.get_by_label("Your answer").fill("Bob's answer")
    button(bob, "Save my answer").click()
    expect(fien.locator(".stage-status .callout")).to_have_text("1 of 3 have answered")
    assert_focus(fien, focus="reveal", text="Reveal the answers")

    # A member types and saves with the keyboard; the rebuilt form keeps focus on its button.
    ann.keyboard.press("Tab")
    assert_focus(ann, focus="answer")
    ann.keyboard.type("Rested and curious")
    tab_to(ann, "[data-focus=answer-submit]")
    ann.keyboard.press("Enter")
    expect(ann.locator("[data-focus=answer-submit]")).to_have_text("Update my answer")
    assert_focus(ann, focus="answer-submit", text="Update my answer")
    expect(fien.locator(".stage-status .callout")).to_have_text("2 of 3 have answered")
    assert_focus(fien, focus="reveal", text="Reveal the answers")

    # The timer: starting it puts focus on its stop button, stopping it back on start.
    tab_to(fien, "[data-focus=timer-start]")
    fien.keyboard.press("Enter")
    expect(fien.locator("#timer")).to_be_visible()
    assert_focus(fien, focus="timer-stop", text="Stop timer")
    fien.keyboard.press("Space")
    expect(fien.locator("#timer")).to_be_hidden()
    assert_focus(fien, focus="timer-start", text="Start timer")

    # Reveal with the space bar: the button goes, focus goes to the answers it revealed.
    tab_to(fien, "[data-focus=reveal]")
    fien.keyboard.press("Space")
    expect(fien.locator(".answers")).to_contain_text("Rested and curious")
    assert_focus(fien, focus="answers-title", text="Answers")
    expect(ann.locator(".answers")).to_contain_text("Bob's answer")
    assert_focus(ann, focus="answer-submit")

    # Next step: the members land on the new step's heading; the facilitator, driving
    # from the panel, stays there (on "Previous step", as the last step has no next).
    tab_to(fien, "#facilitation [data-focus=next]")
    fien.keyboard.press("Enter")
    expect(ann.locator("#stage-title")).to_have_text("Check-out")
    assert_focus(ann, focus="stage-title", text="Check-out")
    expect(fien.locator("#stage-title")).to_have_text("Check-out")
    assert_focus(fien, focus="previous", text="← Previous step")
    fien.keyboard.press("Enter")
    expect(fien.locator("#stage-title")).to_have_text("Check-in round · Simultaneous")
    assert_focus(fien, focus="next", text="Next step →")
    assert_focus(bob, focus="stage-title", text="Check-in round · Simultaneous")
    for page in (fien, ann, bob):
        assert page.errors == []


def fits(page: Page, width: int = 375) -> None:
    """Assert that nothing on the page is wider than the phone's screen."""
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width} px wide on a {width} px screen"


LONG = "Antidisestablishmentarianism-and-a-very-long-unbroken-word-" * 3


def test_the_room_fits_a_375_px_phone_and_the_facilitator_keeps_next_step_in_reach(
    live_server, open_page
):
    server = live_server()
    fien = open_page(server.url + "/", phone=True)
    share = create_room(fien)
    ann = join_as(
        open_page,
        share,
        "Ann with a rather long display name that goes on and on and on",
        phone=True,
    )
    expect(fien.locator("#people li.online")).to_have_count(2)
    fits(fien)
    fits(ann)
    screenshot(fien, "phone-lobby-facilitator")

    fien.get_by_role("button", name="Start the room").first.click()
    expect(fien.locator(".talking-order li")).to_have_count(2)
    speaker = fien.locator(".talking-order li.speaking .person-name").text_content()
    page = fien if speaker == "Fien" else ann
    page.get_by_label("Your answer").fill(LONG)
    button(page, "Share").click()
    expect(fien.locator(".talking-order")).to_contain_text(LONG)
    fits(fien)
    fits(ann)

    # On a phone "Next step" sits in a bar at the bottom of the screen, in reach at once.
    bar_next = fien.locator("#facilitation-bar").get_by_role("button", name="Next step →")
    expect(bar_next).to_be_visible()
    assert bar_next.bounding_box()["y"] + bar_next.bounding_box()["height"] <= 812
    expect(ann.locator("#facilitation-bar")).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    fien.screenshot(path=str(ARTIFACTS / "phone-step-facilitator-viewport.png"))
    screenshot(fien, "phone-step-facilitator")
    screenshot(ann, "phone-step-member")

    bar_next.click()
    expect(fien.locator("#stage-title")).to_have_text("Check-out")
    fits(fien)
    fits(ann)
    for page in (fien, ann):
        assert page.errors == []


def test_the_projector_view_shows_the_room_without_controls_and_takes_no_part(
    live_server, open_page
):
    server = live_server()
    fien = open_page(server.url + "/")
    share = create_room(fien, scale=False)
    ann = join_as(open_page, share, "Ann")
    bob = join_as(open_page, share, "Bob")
    participants = 3
    expect(fien.locator("#people li.online")).to_have_count(participants)

    # The facilitator opens the projector view in a second tab of the same browser.
    with fien.context.expect_page() as opened:
        fien.get_by_role("link", name="Open the projector view").click()
    projector = opened.value
    projector.errors = []
    projector.on("pageerror", lambda error: projector.errors.append(str(error)))
    expect(projector.locator("#room")).to_have_attribute("data-view", "projector")
    expect(projector.locator("#connection")).to_have_attribute("data-state", "connected")
    expect(projector.locator(".projector-qr img")).to_be_visible()
    expect(projector.locator(".projector-qr figcaption")).to_have_text(share)
    controls = "form, button, input, select, textarea"
    expect(projector.locator(controls)).to_have_count(0)
    expect(projector.locator("#people li")).to_have_count(participants)
    expect(projector.locator("#people .tag", has_text="you")).to_have_count(0)
    screenshot(projector, "projector-lobby")

    button(fien, "Start the room").first.click()
    # Nobody extra in the talking-stick order.
    expect(projector.locator(".talking-order li")).to_have_count(participants)
    expect(projector.locator(".prompt")).to_have_text(fien.locator(".prompt").text_content())
    speaker = projector.locator(".talking-order li.speaking .person-name").text_content()
    pages = {"Fien": fien, "Ann": ann, "Bob": bob}
    pages[speaker].get_by_label("Your answer").fill("Seen on the big screen")
    button(pages[speaker], "Share").click()
    expect(projector.locator(".talking-order li.speaking")).to_contain_text(
        "Seen on the big screen"
    )
    # The big screen never speaks to one person, even when the facilitator has the stick.
    expect(projector.locator(".callout")).to_have_text(f"It is {speaker}'s turn.")
    expect(projector.locator(controls)).to_have_count(0)
    expect(projector.locator("#people li")).to_have_count(participants)
    screenshot(projector, "projector-step")

    # The projector does not count as a person online: with the facilitator's own tab
    # closed, the room sees the facilitator offline although the projector still runs.
    fien.close()
    expect(ann.locator("#people li.online")).to_have_count(participants - 1)
    expect(ann.locator("#people li.offline")).to_contain_text("Fien")
    expect(projector.locator("#people li.online")).to_have_count(participants - 1)
    expect(projector.locator("#people-count")).to_have_text(f"{participants - 1}/{participants}")
    for page in (ann, bob, projector):
        assert page.errors == []
