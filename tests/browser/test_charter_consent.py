"""Consent votes in real browsers: anonymous counts, cancelling, retiring, one proposal a click.

A facilitator and two members run an anonymous purpose alignment and agreement drafting.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import button, join_as, screenshot, url_matching
from tests.browser.test_charter_room import consent, seed_charter

pytestmark = [pytest.mark.browser, pytest.mark.live]

RETIRED = "We start on time."
KEPT = "We answer within a day."


def start_anonymous_room(page: Page, server) -> str:
    """Create a team with a charter and an anonymous purpose + agreements room; return its link."""
    page.get_by_label("Team name").fill("Team Zonnebloem")
    page.locator("#submit").click()
    page.wait_for_url(url_matching(r"/t/"))
    seed_charter(server, re.search(r"/t/([^/?#]+)", page.url).group(1))
    page.get_by_label("Your name (you will facilitate)").fill("Fien")
    for index, kind in enumerate(("purpose", "agreements")):
        page.locator(f"#steps-{index}-kind").select_option(kind)
        page.locator(f"#steps-{index}-anonymous").check()
    page.locator("#submit").click()
    page.wait_for_url(url_matching(r"/r/"))
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    return page.locator("#share-link").input_value()


def test_anonymous_votes_are_counted_cancelled_and_proposals_sent_once(live_server, open_page):
    server = live_server()
    fien = open_page(server.url + "/")
    share = start_anonymous_room(fien, server)
    ann = join_as(open_page, share, "Ann")
    bob = join_as(open_page, share, "Bob", phone=True)
    everyone = (fien, ann, bob)
    expect(fien.locator("#people li.online")).to_have_count(3)
    button(fien, "Start the room").first.click()
    button(fien, "Reveal all cards").click()

    # The threshold goes from 1 to 5: a block never consents.
    fien.get_by_label("Purpose statement").fill("We exist to learn.")
    expect(fien.locator("#consent-threshold option")).to_have_text(
        [re.compile(f"^{n} ") for n in range(1, 6)]
    )
    button(fien, "Ask the room for consent").click()
    # Straight from grouping to consent: the phase bar says the dot vote was skipped.
    expect(ann.locator(".phase-steps li.skipped")).to_have_text("Vote (skipped)")

    # Anonymous: everyone sees how many have voted, never who.
    consent(ann, 1, "Too vague")
    for page in everyone:
        expect(page.locator(".consent-count")).to_have_text("1 have voted")
        expect(page.locator(".slot-ballot .chips")).to_have_count(0)
        expect(page.locator(".slot-ballot")).not_to_contain_text("Ann")
    consent(bob, 5)
    expect(fien.locator(".consent-count")).to_have_text("2 have voted")
    # Closing needs three votes, so that no score stands out.
    expect(button(fien, "Close the vote")).to_be_disabled()
    expect(fien.locator(".slot-ballot")).to_contain_text("once 3 people have voted")
    screenshot(fien, "charter-consent-anonymous-count-facilitator")

    # The facilitator cancels the vote: nothing of it is kept, the statement is editable.
    fien.once("dialog", lambda dialog: dialog.dismiss())
    button(fien, "Cancel the vote").click()
    expect(ann.locator(".consent-form")).to_have_count(1)
    fien.once("dialog", lambda dialog: dialog.accept())
    button(fien, "Cancel the vote").click()
    for page in (ann, bob):
        expect(page.locator(".consent-form")).to_have_count(0)
        expect(page.locator(".consent-result")).to_have_count(0)
    expect(fien.get_by_label("Purpose statement")).to_be_editable()
    expect(fien.get_by_label("Purpose statement")).to_have_value("We exist to learn.")

    # Agreement drafting: "Propose to retire" asks first; a double click makes one proposal.
    button(fien, "Next step →").click()
    agreement = bob.locator("li.agreement", has_text=RETIRED)
    bob.once("dialog", lambda dialog: dialog.dismiss())
    agreement.get_by_role("button", name="Propose to retire").click()
    expect(bob.locator("li.proposal")).to_have_count(0)
    bob.on("dialog", lambda dialog: dialog.accept())
    agreement.get_by_role("button", name="Propose to retire").dblclick()
    expect(fien.locator("li.proposal")).to_have_count(1)

    ann.locator("li.agreement", has_text=RETIRED).get_by_role(
        "button", name="Propose an amendment"
    ).click()
    ann.get_by_label("Amended agreement").fill("We start at nine sharp.")
    button(ann, "Propose this amendment").dblclick()
    ann.get_by_label("Propose a new agreement").fill("We pair daily.")
    button(ann, "Propose").dblclick()
    expect(fien.locator("li.proposal")).to_have_count(3)
    fien.wait_for_timeout(300)  # a second proposal from a double click would show by now
    expect(fien.locator("li.proposal")).to_have_count(3)

    # Retiring the agreement supersedes the amendment still open on it.
    fien.locator("li.proposal", has_text="Retire").get_by_role(
        "button", name="Call consent vote"
    ).click()
    for page in everyone:
        consent(page, 4)
    button(fien, "Close the vote").click()
    amendment = ann.locator("li.proposal", has_text="We start at nine sharp.")
    expect(amendment).to_contain_text("superseded")
    expect(amendment).to_contain_text("The room already decided about this agreement.")
    expect(amendment.get_by_role("button")).to_have_count(0)
    expect(fien.locator("li.agreement", has_text=RETIRED)).to_contain_text("retired")
    screenshot(fien, "charter-consent-superseded-facilitator")

    # Leaving the step with a vote open cancels it.
    fien.locator("li.proposal", has_text="We pair daily.").get_by_role(
        "button", name="Call consent vote"
    ).click()
    consent(bob, 4)
    button(fien, "← Previous step").click()
    button(fien, "Next step →").click()
    expect(bob.locator(".consent-form")).to_have_count(0)
    expect(bob.locator("li.proposal", has_text="We pair daily.")).to_contain_text("open")

    for page in everyone:
        assert page.errors == [], page.errors
