"""The charter steps in real browsers: a facilitator and three members, one on a phone.

They align on a purpose (write, reveal, group by drag and drop and by keyboard, dot-vote,
draft the statement live, consent with an objection, amend, consent again), draft their
working agreements (one new, one amended), publish the draft, and a member finds the new
charter version and compares it with the previous one.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from retro import create_app
from retro.charter.content import Agreement, CharterContent
from retro.extensions import db
from retro.services import charter, rooms
from tests.browser.conftest import button, join_three_and_start, screenshot, url_matching

pytestmark = [pytest.mark.browser, pytest.mark.live]

VERSION_1 = CharterContent(
    purpose="We build tools.",
    agreements=(
        Agreement("a1", "We start on time."),
        Agreement("a2", "We answer within a day.", "2027-01-01"),
    ),
)
FIRST_DRAFT = "We exist to help people learn"
AMENDED = "We exist to help people learn from each other, every day."
NEW_AGREEMENT = "We pair at least once a day."
AMENDMENT = "We start on time, or tell the team before."


def seed_charter(server, key: str) -> None:
    """Save version 1 of the team's charter straight into the live server's database."""
    app = create_app(
        {
            "RETRO_ENV": "testing",
            "SECRET_KEY": "seed-secret",
            "INSTANCE_PATH": str(server.directory),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{server.database}",
            "ASYNC_MODE": "threading",
        }
    )
    with app.app_context():
        charter.save_manual(rooms.team_by_key(key), 0, VERSION_1, "Fien")
        db.session.remove()
        db.engine.dispose()


def start_charter_room(page: Page, server) -> str:
    """Create a team with a charter and a room on its purpose and agreements; return the link."""
    page.get_by_label("Team name").fill("Team Zonnebloem")
    page.locator("#submit").click()
    page.wait_for_url(url_matching(r"/t/"))
    seed_charter(server, re.search(r"/t/([^/?#]+)", page.url).group(1))
    page.get_by_label("Your name (you will facilitate)").fill("Fien")
    page.locator("#steps-0-kind").select_option("purpose")
    page.locator("#steps-1-kind").select_option("agreements")
    page.locator("#submit").click()
    page.wait_for_url(url_matching(r"/r/"))
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    return page.locator("#share-link").input_value()


def card(page: Page, text: str):
    """Return the card whose text is exactly `text`."""
    exact = page.locator(".pcard-text", has_text=re.compile(f"^{re.escape(text)}$"))
    return page.locator("li.pcard").filter(has=exact)


def write(page: Page, column: str, text: str) -> None:
    """Add a card to a column with the keyboard (Enter adds it)."""
    field = page.locator(f"#card-text-{column}")
    field.fill(text)
    field.press("Enter")
    expect(page.locator(".pcards.own li", has_text=text)).to_have_count(1)
    expect(field).to_have_value("")


def consent(page: Page, score: int, reason: str = "") -> None:
    """Give a fist-of-five score (with a reason) and wait until it is recorded."""
    page.locator(f".fist-option.fist-{score}").click()
    if reason:
        page.get_by_label("Reason (required)").fill(reason)
    page.locator(".consent-form button[type=submit]").click()
    expect(page.locator(".consent-mine")).to_contain_text(f"Your vote: {score},")


def vote_all(pages, score: int = 4) -> None:
    """Let everyone consent with the same score."""
    for page in pages:
        consent(page, score)


def test_a_team_ratifies_its_purpose_and_agreements_and_publishes_them(live_server, open_page):
    server = live_server()
    fien = open_page(server.url + "/")
    share = start_charter_room(fien, server)
    ann, bob, cas = join_three_and_start(open_page, fien, share)
    everyone = (fien, ann, bob, cas)

    # Writing: cards stay with their author until the reveal; the others see a count.
    write(ann, "exists", "To help people learn from each other")
    write(bob, "exists", "Help people learn")
    write(fien, "exists", "Make learning visible")
    write(cas, "bring", "Calm when things break")
    expect(bob.locator(".slot-status .callout")).to_have_text("Cards written: 4")
    expect(bob.locator(".purpose-step")).not_to_contain_text("To help people learn")
    screenshot(ann, "charter-room-write-member-phone")
    button(fien, "Reveal all cards").click()

    # Grouping by drag and drop ...
    ann_card = card(bob, "To help people learn from each other")
    card(bob, "Help people learn").drag_to(bob.locator("li.pgroup").filter(has=ann_card))
    expect(fien.locator("li.pgroup.stack li.pcard")).to_have_count(2)
    # ... and with the keyboard alone: pick a group in "Move to", Tab to "Move", Enter.
    moving = card(cas, "Make learning visible")
    moving.get_by_label("Move to").focus()
    cas.keyboard.press("Home")
    expect(moving.get_by_label("Move to")).to_have_value(re.compile(r"^c\d+$"))
    cas.keyboard.press("Tab")
    cas.keyboard.press("Enter")
    expect(fien.locator("li.pgroup.stack li.pcard")).to_have_count(3)
    # Focus stays on the moved card's control, so the keyboard user can go on.
    expect(card(cas, "Make learning visible").get_by_role("button", name="Move")).to_be_focused()
    title = ann.locator("li.pgroup.stack").get_by_label("Group title")
    title.fill("Learning together")
    title.press("Enter")
    expect(bob.locator("li.pgroup.stack").get_by_label("Group title")).to_have_value(
        "Learning together"
    )
    screenshot(fien, "charter-room-group-facilitator")

    # Dot voting: everyone sees only their own dots until voting closes.
    fien.get_by_label("Dots per person").select_option("2")
    button(fien, "Open dot voting").click()
    for page in everyone:
        page.get_by_role("button", name="Give a dot to “Learning together”").click()
    bob.get_by_role("button", name="Give a dot to “Calm when things break”").click()
    expect(ann.locator(".slot-status .callout")).to_have_text("You have 1 of 2 dots left.")
    calm = ann.locator("li.pgroup", has_text="Calm when things break")
    expect(calm).to_contain_text("Your dots: 0")
    button(fien, "Close voting").click()
    expect(ann.locator(".ranked li").first).to_contain_text("Learning together")
    expect(ann.locator(".ranked li").first).to_contain_text("4 dots")

    # The statement appears live, as plain text, for everyone.
    fien.get_by_label("Purpose statement").fill(FIRST_DRAFT)
    expect(bob.locator(".statement .statement-text")).to_have_text(FIRST_DRAFT)
    fien.get_by_label("Consent threshold").select_option("3")
    button(fien, "Ask the room for consent").click()

    # Under the threshold, a reason is required before the vote goes out.
    ann.locator(".fist-option.fist-1").click()
    ann.locator(".consent-form button[type=submit]").click()
    assert ann.get_by_label("Reason (required)").evaluate("field => !field.checkValidity()")
    expect(ann.locator(".consent-mine")).to_have_count(0)
    consent(ann, 1, "Too vague: learn what?")
    vote_all((bob, cas, fien))
    expect(fien.locator(".consent-count")).to_have_text("4 of 4 have voted")
    screenshot(ann, "charter-room-consent-member-phone")
    button(fien, "Close the vote").click()
    objection = bob.locator(".consent-result.objected .objections li")
    expect(objection).to_contain_text("Too vague: learn what?")
    expect(objection).to_contain_text("Ann")
    screenshot(fien, "charter-room-objection-facilitator")

    # Amend and ask again: this time the room consents.
    fien.get_by_label("Purpose statement").fill(AMENDED)
    button(fien, "Ask the room for consent").click()
    expect(ann.locator(".slot-ballot .consent-text")).to_have_text(AMENDED)
    vote_all(everyone)
    button(fien, "Close the vote").click()
    expect(ann.locator(".ratified .statement-text")).to_have_text(AMENDED)
    expect(ann.locator("#charter-draft")).to_contain_text(AMENDED)
    screenshot(ann, "charter-room-ratified-member-phone")

    # Agreement drafting: one new agreement, one amendment of the charter's first one.
    button(fien, "Next step →").click()
    expect(bob.locator("li.agreement")).to_have_count(2)
    bob.get_by_label("Propose a new agreement").fill(NEW_AGREEMENT)
    button(bob, "Propose").click()
    ann.locator("li.agreement", has_text="We start on time.").get_by_role(
        "button", name="Propose an amendment"
    ).click()
    ann.get_by_label("Amended agreement").fill(AMENDMENT)
    button(ann, "Propose this amendment").click()
    expect(fien.locator("li.proposal")).to_have_count(2)
    for text in (NEW_AGREEMENT, AMENDMENT):
        fien.locator("li.proposal", has_text=text).get_by_role(
            "button", name="Call consent vote"
        ).click()
        expect(ann.locator(".slot-ballot .consent-text")).to_have_text(text)
        vote_all(everyone)
        button(fien, "Close the vote").click()
        expect(bob.locator("li.proposal", has_text=text)).to_contain_text("accepted")
    expect(ann.locator("li.agreement", has_text="We start on time.")).to_contain_text("amended")
    draft = ann.locator("#charter-draft")
    expect(draft).to_contain_text(NEW_AGREEMENT)
    expect(draft).to_contain_text(AMENDMENT)
    screenshot(fien, "charter-room-agreements-facilitator")

    # Publishing: a double click still makes one version.
    fien.on("dialog", lambda dialog: dialog.accept())
    button(fien, "Publish to the charter").dblclick()
    for page in everyone:
        expect(page.locator("#charter-draft")).to_contain_text("Published as version 2")
    screenshot(fien, "charter-room-published-facilitator")

    # A member finds the new version on the charter page and compares it with version 1.
    ann.get_by_role("link", name="Open the charter").click()
    ann.wait_for_url(url_matching(r"/charter$"))
    main = ann.locator("main")
    expect(main).to_contain_text(AMENDED)
    expect(main).to_contain_text(NEW_AGREEMENT)
    expect(main).to_contain_text(AMENDMENT)
    expect(main).to_contain_text("Fien, Ann, Bob, Cas")
    # Two clicks on publish made one version: the comparison offers versions 1 and 2 only.
    expect(ann.locator("#compare-to option")).to_have_count(2)
    ann.get_by_label("From version").select_option("1")
    ann.get_by_label("To version").select_option("2")
    button(ann, "Compare").click()
    ann.wait_for_url(url_matching(r"/charter\?from=1&to=2$"))
    expect(ann.locator("main del", has_text="build tools.")).to_be_visible()
    expect(ann.locator("main ins").first).to_be_visible()
    expect(ann.locator("main")).to_contain_text(NEW_AGREEMENT)
    screenshot(ann, "charter-room-compare-member-phone")

    for page in everyone:
        assert page.errors == [], page.errors
