"""The summary page and Markdown export of the retrospective, deeds review and agreements check."""

from __future__ import annotations

import re
from html import escape
from typing import Any

import pytest
from flask import render_template

from retro.client_text import SCALE_LABELS
from retro.prompts import BY_ID
from retro.rituals.base import Actor
from retro.rituals.retrospective import Retrospective
from retro.rituals.review import AgreementsCheck, DeedsReview
from retro.views.export import summary_markdown

FACILITATOR = Actor(1, is_facilitator=True)
SCRIPT = "<script>alert(1)</script>"
LINK = "[x](javascript:alert(1))"


class Keep:
    """A random source that changes nothing: the steps here draw nothing."""


@pytest.fixture
def page(app, make_room):
    """Return a function rendering steps into the summary page and the Markdown export."""
    room, fien, _token = make_room()

    def render(steps: list[dict[str, Any]], names: dict[int, str]) -> tuple[str, str]:
        summary = {"room": room, "names": names, "steps": steps, "published": []}
        with app.test_request_context():
            html = render_template(
                "summary.html", **summary, prompts=BY_ID, scale_labels=SCALE_LABELS
            )
            text = summary_markdown(summary)
        return html, text

    return render


def text_of(html: str) -> str:
    """Return the visible text of some HTML, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# -- retrospective -----------------------------------------------------------------------

NAMES = {1: "Fien", 2: "Ann", 3: "Bo"}
ANN, BO = Actor(2), Actor(3)
NOW = 1_000_000.0
CARDS = [
    (ANN, "start", "Pair on reviews"),
    (BO, "stop", "Late standups"),
    (BO, "start", "Review in pairs"),
    (ANN, "continue", "Demo day"),
]


def new_retro(
    cards: list[tuple[Actor, str, str]] = CARDS,
    agreement: str = "We start meetings on time",
    **settings: Any,
) -> Retrospective:
    """Return a started retrospective that knows one agreement (a1), with cards written."""
    retro = Retrospective.create(**settings)
    retro.begin(list(NAMES), Keep())
    retro.load_charter("Our purpose", [{"id": "a1", "text": agreement}])
    for actor, column, text in cards:
        retro.add_card(actor, column, text)
    return retro


def grouped_retro(**settings: Any) -> Retrospective:
    """Return a retrospective after the reveal: the two review cards grouped, two titles."""
    retro = new_retro(**settings)
    retro.reveal(FACILITATOR)
    retro.group_card(ANN, "c3", "c1")
    retro.title_group(ANN, "c1", "Reviews")
    retro.title_group(BO, "c4", "Demos")
    return retro


def voted_retro(**settings: Any) -> Retrospective:
    """Return a retrospective whose voting closed: stop 5 dots, reviews 3, demos 1."""
    retro = grouped_retro(**settings)
    retro.open_voting(FACILITATOR, 3)
    for actor, groups in ((FACILITATOR, "c2 c2 c2"), (ANN, "c2 c2 c1"), (BO, "c1 c1 c4")):
        for group in groups.split():
            retro.vote(actor, group)
    retro.close_voting(FACILITATOR)
    return retro


def discussed_retro(**settings: Any) -> dict[str, Any]:
    """Return the view of a retrospective that discussed the stop topic, then the reviews.

    The room ended while the reviews were highlighted; two deeds were written.
    """
    retro = voted_retro(**settings)
    retro.highlight(FACILITATOR, "c2", 0, now=NOW)
    retro.add_deed(ANN, "Start standups on time", 3, "2031-05-02", "a1", members=list(NAMES))
    retro.highlight(FACILITATOR, "c1", 300, now=NOW)
    retro.add_deed(BO, "Pair on every review", None, "", None, members=list(NAMES))
    return retro.public_view()


def test_a_retro_summary_shows_its_format_and_the_topics_in_vote_order(page):
    html, text = page([discussed_retro()], NAMES)
    visible = text_of(html)
    assert "1. Retrospective" in visible
    assert "Format: Start, stop, continue" in visible
    assert "Columns: Start · Stop · Continue" in visible
    # The stop card has most votes, then the reviews, then the demos.
    assert visible.index("Late standups") < visible.index("Reviews") < visible.index("Demos")
    assert "Topics 5 votes discussed Stop: Late standups (Bo)" in visible
    # The topic highlighted when the room ended counts as discussed.
    assert (
        "Reviews 3 votes discussed Start: Pair on reviews (Ann) Start: Review in pairs (Bo)"
    ) in visible
    assert "Demos 1 vote Continue: Demo day (Ann)" in visible
    assert "## 1. Retrospective" in text
    assert "Format: Start, stop, continue  \nColumns: Start · Stop · Continue" in text
    assert (
        "**Topics**\n\n"
        "- **–** · 5 votes · discussed\n"
        "  - Stop: Late standups (Bo)\n"
        "- **Reviews** · 3 votes · discussed\n"
        "  - Start: Pair on reviews (Ann)\n"
        "  - Start: Review in pairs (Bo)\n"
        "- **Demos** · 1 vote\n"
        "  - Continue: Demo day (Ann)\n"
    ) in text


def test_a_retro_summary_lists_the_deeds_with_owner_due_date_and_agreement(page):
    html, text = page([discussed_retro()], NAMES)
    visible = text_of(html)
    assert (
        "Deeds Start standups on time Owner: Bo · Due May 2, 2031 · "
        "Agreement: “We start meetings on time” Pair on every review Owner: Everyone"
    ) in visible
    assert (
        "**Deeds**\n\n"
        "- Start standups on time · Owner: Bo · Due 2031-05-02 · "
        "Agreement: “We start meetings on time”\n"
        "- Pair on every review · Owner: Everyone\n"
    ) in text


def test_an_anonymous_retro_summary_names_no_author(page):
    view = discussed_retro(anonymous=True)
    html, text = page([view], NAMES)
    body = html.split('class="card summary-step"', 1)[1]
    for page_text in (body, text):
        assert "(Ann)" not in page_text and "(Bo)" not in page_text
        assert "Pair on reviews" in page_text
        # Owners of deeds are named: an owner is no author.
        assert "Owner: Bo" in page_text
    assert "Format: Start, stop, continue Anonymous" in text_of(body)
    assert "Format: Start, stop, continue · Anonymous" in text


def test_an_anonymous_retro_names_no_author_even_if_a_view_carried_one(page):
    view = discussed_retro(anonymous=True)
    for card in view["cards"]:
        card["author"] = 2
    html, text = page([view], NAMES)
    assert "(Ann)" not in html and "(Ann)" not in text
    assert "Pair on reviews" in html


def test_a_retro_ended_before_the_reveal_shows_only_card_counts(page):
    html, text = page([new_retro().public_view()], NAMES)
    visible = text_of(html)
    assert "Cards were not revealed. Start: 2 cards Stop: 1 card Continue: 1 card" in visible
    assert (
        "Cards were not revealed.\n\n- Start: 2 cards\n- Stop: 1 card\n- Continue: 1 card\n" in text
    )
    for page_text in (html, text):
        for _actor, _column, card_text in CARDS:
            assert card_text not in page_text
        assert "Deeds" not in page_text
        assert "vote" not in page_text


def test_a_retro_without_cards_says_so(page):
    html, text = page([new_retro(cards=[]).public_view()], NAMES)
    assert "No cards." in html and "No cards." in text
    assert "Cards were not revealed." not in html + text


def test_a_retro_that_was_not_reached_says_so(page):
    html, text = page([Retrospective.create().public_view()], NAMES)
    assert "This step was not reached." in html
    assert "This step was not reached." in text
    assert "Format:" not in html + text


def test_a_retro_ended_while_voting_shows_groups_without_votes(page):
    retro = grouped_retro()
    retro.open_voting(FACILITATOR, 3)
    retro.vote(ANN, "c2")
    html, text = page([retro.public_view()], NAMES)
    for page_text in (text_of(html), text):
        assert "Voting was not closed, so no votes are shown." in page_text
        assert "1 vote" not in page_text
        # Groups stay in their own order.
        assert page_text.index("Reviews") < page_text.index("Late standups")
        assert "Deeds" not in page_text


def test_a_retro_with_skipped_voting_shows_no_vote_counts(page):
    retro = grouped_retro()
    retro.skip_voting(FACILITATOR)
    html, text = page([retro.public_view()], NAMES)
    for page_text in (text_of(html), text):
        assert "No votes were cast." in page_text
        assert "0 votes" not in page_text
        assert "discussed" not in page_text
        assert page_text.index("Reviews") < page_text.index("Late standups")
    assert "No deeds." in html and "No deeds." in text


def test_a_custom_retro_shows_the_facilitators_column_titles(page):
    cards = [(ANN, "k2", "Flaky CI")]
    retro = new_retro(cards, format="custom", columns=["Wins", "Puzzles"])
    retro.reveal(FACILITATOR)
    html, text = page([retro.public_view()], NAMES)
    assert "Format: Own columns Columns: Wins · Puzzles" in text_of(html)
    assert "Cards Puzzles: Flaky CI (Ann)" in text_of(html)
    assert "Format: Own columns  \nColumns: Wins · Puzzles" in text
    assert "**Cards**\n\n- **–**\n  - Puzzles: Flaky CI (Ann)\n" in text


def test_hostile_retro_text_is_escaped_on_the_page_and_in_the_export(page):
    cards = [(ANN, "k1", SCRIPT), (BO, "k2", "# " + LINK)]
    retro = new_retro(cards, "| " + LINK, format="custom", columns=["# " + SCRIPT, LINK])
    retro.reveal(FACILITATOR)
    retro.title_group(ANN, "c1", "<b>bold</b>")
    retro.skip_voting(FACILITATOR)
    retro.add_deed(ANN, "# " + SCRIPT, 3, "", "a1", members=list(NAMES))
    html, text = page([retro.public_view()], {1: "Fien", 2: "<i>Ann</i>", 3: "| Bo"})
    assert SCRIPT not in html and "<b>bold</b>" not in html and "<i>Ann</i>" not in html
    assert escape(SCRIPT, quote=False) in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&amp;lt;" not in html  # escaped once, not twice
    assert not re.search(r'href="javascript', html)
    assert "<script>" not in text and "<b>" not in text and "<i>" not in text
    assert r"Columns: \# \<script\>alert(1)\</script\> · \[x\](javascript:alert(1))" in text
    assert r"- **\<b\>bold\</b\>**" in text
    assert r": \<script\>alert(1)\</script\> (\<i\>Ann\</i\>)" in text
    assert r": \# \[x\](javascript:alert(1)) (\| Bo)" in text
    assert r"- \# \<script\>alert(1)\</script\> · Owner: \| Bo" in text
    assert r"Agreement: “\| \[x\](javascript:alert(1))”" in text
    # No link, heading or raw HTML anywhere in the user text.
    assert not re.search(r"(?<!\\)\]\(", text)
    headings = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert headings == ["# Room of The A-team", "## 1. Retrospective"]


# -- deeds review ------------------------------------------------------------------------


def deeds_review(deeds: list[dict[str, Any]], decide: list[tuple[int, str, str]]) -> dict:
    """Return the public view of a real deeds review after some decisions."""
    review = DeedsReview.create()
    review.begin([1, 2], Keep())
    review.load_deeds(deeds)
    for deed, decision, reason in decide:
        review.decide_deed(Actor(2), deed, decision, reason)
    return review.public_view()


DEEDS = [
    {
        "id": 7,
        "text": "Fix the build",
        "owner": "Ann",
        "due": "2031-01-15",
        "room": "Sprint 4",
        "carried": 0,
        "agreement_text": None,
    },
    {
        "id": 8,
        "text": "Book the offsite",
        "owner": None,
        "due": None,
        "room": "Sprint 4",
        "carried": 2,
        "agreement_text": "We meet in person monthly",
    },
    {
        "id": 9,
        "text": "Rewrite the wiki",
        "owner": "Bo",
        "due": None,
        "room": "Sprint 3",
        "carried": 1,
        "agreement_text": None,
    },
    {
        "id": 10,
        "text": "Try mob programming",
        "owner": "Bo",
        "due": None,
        "room": "",
        "carried": 0,
        "agreement_text": None,
    },
]


def test_a_deeds_review_summary_shows_each_decision_owner_and_due_date(page):
    view = deeds_review(DEEDS, [(7, "done", ""), (8, "carry", ""), (9, "drop", "Nobody reads it")])
    html, text = page([view], NAMES)
    visible = text_of(html)
    assert "1. Deeds review" in visible
    assert "3 of 4 deeds decided." in visible
    assert "Fix the build done Owner: Ann · Due Jan 15, 2031 · From “Sprint 4”" in visible
    assert (
        "Book the offsite carried over Owner: Everyone · Agreement: “We meet in person "
        "monthly” · From “Sprint 4” · carried over 2 times before"
    ) in visible
    assert "Rewrite the wiki dropped Reason: Nobody reads it Owner: Bo" in visible
    assert "Try mob programming not decided Owner: Bo" in visible
    assert "## 1. Deeds review\n\n3 of 4 deeds decided.\n\n" in text
    assert (
        "- Fix the build · **done** · Owner: Ann · Due 2031-01-15 · From “Sprint 4”\n"
        "- Book the offsite · **carried over** · Owner: Everyone · "
        "Agreement: “We meet in person monthly” · From “Sprint 4” · carried over 2 times before\n"
        "- Rewrite the wiki · **dropped** · Reason: Nobody reads it · Owner: Bo · "
        "From “Sprint 3” · carried over 1 time before\n"
        "- Try mob programming · **not decided** · Owner: Bo\n"
    ) in text


def test_a_deeds_review_without_open_deeds_says_so(page):
    html, text = page([deeds_review([], [])], NAMES)
    assert "There were no open deeds to review." in html
    assert "There were no open deeds to review." in text


def test_a_deeds_review_that_was_not_reached_says_so(page):
    html, text = page([DeedsReview.create().public_view()], NAMES)
    assert "This step was not reached." in html and "This step was not reached." in text


def test_hostile_deed_text_is_escaped_on_the_page_and_in_the_export(page):
    deed = {
        "id": 1,
        "text": "# " + SCRIPT,
        "owner": "<i>Ann</i>",
        "due": None,
        "room": LINK,
        "carried": 0,
        "agreement_text": "| a | b |",
    }
    view = deeds_review([deed], [(1, "drop", "[x](javascript:alert(1)) <b>no</b>")])
    html, text = page([view], NAMES)
    assert SCRIPT not in html and "<i>Ann</i>" not in html and "<b>no</b>" not in html
    assert escape(SCRIPT, quote=False) in html
    assert "<script>" not in text and "<i>" not in text and "<b>" not in text
    assert r"- \# \<script\>alert(1)\</script\>" in text
    assert r"Reason: \[x\](javascript:alert(1)) \<b\>no\</b\>" in text
    assert r"Owner: \<i\>Ann\</i\>" in text
    assert r"Agreement: “\| a \| b \|”" in text
    assert r"From “\[x\](javascript:alert(1))”" in text


# -- agreements check --------------------------------------------------------------------

AGREEMENTS = [
    {"id": "a1", "text": "We start on time", "review_date": "2030-01-01"},
    {"id": "a2", "text": "We review within a day", "review_date": None},
]


def agreements_check(
    answers: list[dict[str, int]], reveal: bool = True, agreements: list | None = None
) -> dict:
    """Return the public view of a real agreements check, answered and maybe revealed."""
    check = AgreementsCheck.create(threshold=3)
    check.begin([1, 2, 3, 4], Keep())
    check.load_charter(
        "Our purpose", AGREEMENTS if agreements is None else agreements, "2030-06-01"
    )
    for member_id, values in enumerate(answers, start=1):
        check.pulse(Actor(member_id), values)
    if reveal:
        check.reveal(FACILITATOR)
    return check.public_view()


def test_an_agreements_check_shows_averages_distribution_and_flags_once_revealed(page):
    view = agreements_check([{"a1": 1, "a2": 4}, {"a1": 2, "a2": 5}, {"a1": 4, "a2": 4}])
    html, text = page([view], NAMES)
    visible = text_of(html)
    assert "1. Agreements check" in visible
    assert "An average below 3 out of 5 flags an agreement. 3 people answered." in visible
    assert "How well we keep our agreements (3 answers)" in visible
    assert "We start on time kept poorly review date passed 1 1 0 1 0 2.33" in visible
    assert "We review within a day 0 0 0 2 1 4.33" in visible
    assert (
        "| Agreement | 1 | 2 | 3 | 4 | 5 | Average | Flags |\n"
        "|---|---|---|---|---|---|---|---|\n"
        "| We start on time | 1 | 1 | 0 | 1 | 0 | 2.33 | kept poorly, review date passed |\n"
        "| We review within a day | 0 | 0 | 0 | 2 | 1 | 4.33 | – |\n"
    ) in text


def test_an_agreements_check_with_fewer_than_three_answers_shows_no_results(page):
    view = agreements_check([{"a1": 1, "a2": 4}, {"a1": 2, "a2": 5}])
    html, text = page([view], NAMES)
    for page_text in (text_of(html), text):
        assert "2 people answered." in page_text
        assert "Fewer than 3 people answered, so no results are shown." in page_text
        assert "How well we keep" not in page_text
        assert "1.5" not in page_text and "4.5" not in page_text
        assert "kept poorly" not in page_text
        # The review date is known without any answer.
        assert "review date passed" in page_text


def test_an_agreements_check_that_was_not_revealed_shows_no_results(page):
    one = agreements_check([{"a1": 1, "a2": 4}], reveal=False)
    three = agreements_check([{"a1": 1, "a2": 4}] * 3, reveal=False)
    for step in (one, three):
        html, text = page([step], NAMES)
        for page_text in (text_of(html), text):
            assert "The results were not revealed." in page_text
            assert "How well we keep" not in page_text
            assert "kept poorly" not in page_text


def test_an_agreements_check_uses_only_the_public_results(page):
    # A view that claims results are not ready shows none, whatever else it carries.
    view = agreements_check([{"a1": 1, "a2": 4}, {"a1": 2, "a2": 5}, {"a1": 4, "a2": 4}])
    view["results"] = {"ready": False, "revealed": True, "enough": False, "needed": 3}
    html, text = page([view], NAMES)
    assert "2.33" not in html and "2.33" not in text
    assert "Fewer than 3 people answered" in html and "Fewer than 3 people answered" in text


def test_an_agreements_check_without_agreements_says_so(page):
    html, text = page([agreements_check([], reveal=True, agreements=[])], NAMES)
    assert "The charter had no agreements yet." in html
    assert "The charter had no agreements yet." in text


def test_hostile_agreement_text_is_escaped_in_the_table_and_on_the_page(page):
    agreements = [
        {"id": "a1", "text": "# " + SCRIPT, "review_date": None},
        {"id": "a2", "text": "a | b " + LINK, "review_date": None},
    ]
    hidden = agreements_check([{"a1": 3, "a2": 3}], reveal=False, agreements=agreements)
    answered = agreements_check(
        [{"a1": 3, "a2": 3}, {"a1": 4, "a2": 3}, {"a1": 5, "a2": 3}], agreements=agreements
    )
    for step in (hidden, answered):
        html, text = page([step], NAMES)
        assert SCRIPT not in html and escape(SCRIPT, quote=False) in html
        assert "<script>" not in text
        assert r"\# \<script\>alert(1)\</script\>" in text
        assert r"a \| b \[x\](javascript:alert(1))" in text
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) == 4
    # Every row keeps its 8 cells (9 unescaped pipes): the | in the text is escaped.
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 9 for row in rows)


# -- all together ------------------------------------------------------------------------


def test_the_export_of_the_three_steps_is_deterministic(page):
    steps = [
        deeds_review(DEEDS, [(7, "done", "")]),
        agreements_check([{"a1": 1, "a2": 4}, {"a1": 2, "a2": 5}, {"a1": 4, "a2": 4}]),
        discussed_retro(),
    ]
    html, text = page(steps, NAMES)
    again_html, again_text = page(steps, NAMES)
    assert text == again_text
    assert html == again_html
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## 1. Deeds review", "## 2. Agreements check", "## 3. Retrospective"]


def test_the_summary_page_and_export_of_a_room_show_the_new_steps(client, make_room, act):
    agenda = [
        {"kind": "deeds_review"},
        {"kind": "agreements_check", "threshold": 3},
        {"kind": "retro", "format": "msg", "anonymous": False, "votes": 3},
    ]
    room, fien, _token = make_room(agenda)
    act(fien.id, "start")
    act(fien.id, "end")
    html = text_of(client.get(f"/r/{room.code}/summary").get_data(as_text=True))
    text = client.get(f"/r/{room.code}/summary.md").get_data(as_text=True)
    assert "1. Deeds review There were no open deeds to review." in html
    assert "2. Agreements check This step was not reached." in html
    assert "3. Retrospective This step was not reached." in html
    assert "## 1. Deeds review\n\nThere were no open deeds to review.\n" in text
    assert "## 2. Agreements check\n\nThis step was not reached.\n" in text
    assert "## 3. Retrospective\n\nThis step was not reached.\n" in text


def test_a_reviewed_deed_from_an_untitled_room_is_named_by_its_date(page):
    review = DeedsReview.create()
    review.begin(list(NAMES), Keep())
    review.load_deeds(
        [{"id": 7, "text": "Tidy the board", "room": "", "room_date": "2027-01-12", "carried": 1}]
    )
    html, text = page([review.public_view()], NAMES)
    assert "From the room on Jan 12, 2027" in text_of(html)
    assert "From the room on Jan 12, 2027" in text
