"""The charter's edit form in a real browser: one blank row at a time, "add another" for more."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import button, screenshot, url_matching

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_agreements_are_added_one_row_at_a_time(live_server, open_page):
    server = live_server()
    page = open_page(server.url + "/", phone=True)
    page.get_by_label("Team name").fill("Team Zonnebloem")
    page.locator("#submit").click()
    page.wait_for_url(url_matching(r"/t/"))
    page.get_by_role("link", name="Write the first version").click()
    page.wait_for_url(url_matching(r"/charter/edit$"))

    new_rows = page.locator("ol.edit-rows li.new-row:not(.anchor-row)")
    expect(new_rows).to_have_count(5)
    expect(page.locator("ol.edit-rows li.new-row:not(.anchor-row):visible")).to_have_count(1)
    new_rows.nth(0).get_by_label("New agreement").fill("We start on time.")
    add = button(page, "+ Add another agreement")
    add.click()
    second = new_rows.nth(1).get_by_label("New agreement")
    expect(second).to_be_focused()
    second.fill("We answer within a day.")
    for _extra in range(3):
        add.click()
    expect(add).to_be_hidden()
    screenshot(page, "charter-edit-phone")

    page.get_by_label("Your name").fill("Fien")
    button(page, "Save a new version").click()
    page.wait_for_url(url_matching(r"/charter\?saved=1$"))
    expect(page.locator("main")).to_contain_text("We start on time.")
    expect(page.locator("main")).to_contain_text("We answer within a day.")
    assert page.errors == []
