"""Browser fixtures: Debian's Chromium through Playwright, one context per participant."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import ARTIFACTS, chromium_path, need
from tests.live.conftest import live_server, pytest_runtest_makereport  # noqa: F401


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Return a headless Chromium (never a browser downloaded by Playwright)."""
    path = chromium_path()
    need(path is not None, "Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser):
    """Return a factory of pages, each in its own browser context (one per person)."""
    contexts = []

    def open_(url: str, *, phone: bool = False, locale: str = "en-GB") -> Page:
        options = (
            {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
            if phone
            else {"viewport": {"width": 1280, "height": 900}}
        )
        context = browser.new_context(locale=locale, **options)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot as a test artefact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def join(page: Page, name: str) -> None:
    """Join the room shown on `page` with a display name and wait for the live connection."""
    page.get_by_label("Your name").fill(name)
    page.locator("#submit").click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")


def join_as(open_page, share: str, name: str, *, phone: bool = False) -> Page:
    """Open the share link in a new browser context and join the room as `name`."""
    page = open_page(share, phone=phone)
    join(page, name)
    return page


def join_three_and_start(open_page, facilitator: Page, share: str) -> tuple[Page, Page, Page]:
    """Let Ann (on a phone), Bob and Cas join from the share link; the facilitator starts."""
    ann = join_as(open_page, share, "Ann", phone=True)
    bob = join_as(open_page, share, "Bob")
    cas = join_as(open_page, share, "Cas")
    expect(facilitator.locator("#people li.online")).to_have_count(4)
    button(facilitator, "Start the room").first.click()
    return ann, bob, cas


def url_matching(pattern: str) -> re.Pattern[str]:
    """Return a compiled URL pattern for `wait_for_url`."""
    return re.compile(pattern)


def create_room(page: Page, *, scale: bool = True, simultaneous: bool = False) -> str:
    """Create a team and start a room (a check-in and a check-out) from the forms.

    Returns the share link; the page ends in the room as its facilitator, Fien.
    """
    page.get_by_label("Team name").fill("Team Zonnebloem")
    page.locator("#submit").click()
    page.wait_for_url(url_matching(r"/t/"))
    expect(page.locator("#team-link")).to_have_value(url_matching(r"/t/"))
    page.get_by_label("Your name (you will facilitate)").fill("Fien")
    if scale:
        page.locator("#steps-0-scales-0").check()
    if simultaneous:
        page.locator("#steps-0-mode-1").check()
    page.locator("#submit").click()
    page.wait_for_url(url_matching(r"/r/"))
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    return page.locator("#share-link").input_value()


def button(page: Page, name: str):
    """Return the button with exactly this accessible name."""
    return page.get_by_role("button", name=name, exact=True)
