"""Charter pages: the charter, history, compare, editing and conflicts, restore, exports."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from retro.agendas import PRESETS
from retro.charter.content import Agreement, Anchor, CharterContent
from retro.extensions import db
from retro.services import charter as charters
from retro.services import rooms

HOSTILE_MARKDOWN = (
    "<script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror=alert(1)> "
    '<a href="javascript:alert(2)">raw</a> [data](data:text/html;base64,PHNjcmlwdD4=) '
    "[spaced](  JaVaScRiPt:alert(3)) <svg onload=alert(4)>"
)
HOSTILE_NAME = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


class TagCollector(HTMLParser):
    """Collect every start tag with its attributes, and the text inside <script> tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.in_script = False
        self.script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script:
            self.script_text.append(data)


def assert_inert(html: str) -> None:
    """Assert that nothing a user typed can run in this page."""
    assert "<script>alert" not in html
    parser = TagCollector()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src", "action", "formaction"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:")), (tag, attrs)
        if tag == "script":
            assert attrs.get("src") or attrs.get("type") == "application/json", attrs
        assert tag not in ("img", "svg", "iframe", "object", "embed"), (tag, attrs)
    assert "alert" not in "".join(parser.script_text)


def edit_data(
    base: int,
    author: str = "Ann",
    purpose: str = "",
    agreements: tuple = (),
    anchors: tuple = (),
    leadership: str = "",
) -> dict[str, str]:
    """Return the fields of the edit form.

    `agreements` holds (id, text, review_date, retire); `anchors` (id, name, cadence, agenda,
    remove). An id of "" is a new row.
    """
    data = {"base_version": str(base), "author": author, "purpose": purpose}
    data["leadership"] = leadership
    for n, (item_id, text, review, retire) in enumerate(agreements):
        data |= {f"agreements-{n}-id": item_id, f"agreements-{n}-text": text}
        data[f"agreements-{n}-review_date"] = review or ""
        if retire:
            data[f"agreements-{n}-retire"] = "y"
    for n, (item_id, name, cadence, agenda, remove) in enumerate(anchors):
        data |= {f"anchors-{n}-id": item_id, f"anchors-{n}-name": name}
        data |= {f"anchors-{n}-cadence": cadence, f"anchors-{n}-agenda": agenda}
        if remove:
            data[f"anchors-{n}-remove"] = "y"
    return data


def form_values(html: str) -> dict[str, str]:
    """Return the name → value of the inputs and textareas of a page (last one wins)."""
    values = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    for name, text in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>\s*(.*?)</textarea>', html, re.S
    ):
        values[name] = text
    return values


CONTENT = CharterContent(
    purpose="We help **small shops** sell online.",
    agreements=(
        Agreement(id="a1", text="We start on time.", review_date="2030-01-15"),
        Agreement(id="a2", text="We *ask* before we assume."),
    ),
    anchors=(Anchor(id="k1", name="Monday check-in", cadence="weekly", agenda="checkin"),),
    leadership="Decisions by consent; Fien facilitates.",
)


@pytest.fixture
def chartered(make_team):
    """Return a team whose charter has version 1 (CONTENT, by Fien)."""

    def make(content: CharterContent = CONTENT, author: str = "Fien"):
        team = make_team()
        charters.save_manual(team, 0, content, author)
        return team

    return make


def amended(content: CharterContent, **changes) -> CharterContent:
    """Return a copy of content with some sections replaced."""
    fields = {
        "purpose": content.purpose,
        "agreements": content.agreements,
        "anchors": content.anchors,
        "leadership": content.leadership,
    }
    return CharterContent(**(fields | changes))


# -- the charter page -------------------------------------------------------------------


def test_a_team_without_a_charter_is_invited_to_write_the_first_version(client, make_team):
    team = make_team()
    response = client.get(f"/t/{team.key}/charter")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "This team has no charter yet" in html
    assert f'href="/t/{team.key}/charter/edit"' in html
    assert client.get(f"/t/{team.key}/charter.md").status_code == 404
    assert client.get(f"/t/{team.key}/charter.json").status_code == 404


def test_the_charter_page_renders_every_section(client, chartered):
    team = chartered()
    html = client.get(f"/t/{team.key}/charter").get_data(as_text=True)
    assert "<strong>small shops</strong>" in html
    assert "We start on time." in html and "<em>ask</em>" in html
    assert html.index("We start on time.") < html.index("ask</em> before")
    assert "Monday check-in" in html and "Weekly" in html
    assert "No open deeds. Deeds come from retrospectives." in html
    assert "Decisions by consent" in html
    assert "Start this anchor now" in html
    for path in ("charter/edit", "charter/history", "charter.md", "charter.json"):
        assert f'href="/t/{team.key}/{path}"' in html
    assert "Restore this version" not in html


def test_an_old_version_has_its_own_page_with_a_restore_form(client, chartered):
    team = chartered()
    charters.save_manual(team, 1, amended(CONTENT, purpose="A new purpose."), "Bo")
    html = client.get(f"/t/{team.key}/charter/v/1").get_data(as_text=True)
    assert "This is an old version" in html
    assert "small shops" in html and "A new purpose." not in html
    assert f'action="/t/{team.key}/charter/v/1/restore"' in html
    assert 'name="base_version" type="hidden" value="2"' in html
    assert "Start this anchor now" not in html


@pytest.mark.parametrize(
    "path",
    [
        "charter",
        "charter/history",
        "charter/compare",
        "charter/edit",
        "charter.md",
        "charter.json",
        "charter/v/1",
        "charter/v/1.md",
        "charter/v/1.json",
    ],
)
def test_an_unknown_team_has_no_charter_pages(client, path):
    assert client.get(f"/t/no-such-team/{path}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "charter/v/2",
        "charter/v/0",
        "charter/v/2.md",
        "charter/v/2.json",
        "charter/compare?from=1&to=2",
        "charter/compare?from=7",
    ],
)
def test_an_unknown_version_is_not_found(client, chartered, path):
    team = chartered()
    assert client.get(f"/t/{team.key}/{path}").status_code == 404


def test_unknown_versions_and_anchors_cannot_be_posted_to(client, chartered):
    team = chartered()
    restore = client.post(f"/t/{team.key}/charter/v/5/restore", data={"author": "Ann"})
    assert restore.status_code == 404
    start = client.post(
        f"/t/{team.key}/charter/anchors/nope/start", data={"facilitator_name": "Ann"}
    )
    assert start.status_code == 404


# -- editing ----------------------------------------------------------------------------


def test_the_first_save_makes_version_one_and_remembers_the_author(client, make_team):
    team = make_team()
    html = client.get(f"/t/{team.key}/charter/edit").get_data(as_text=True)
    assert 'name="base_version" type="hidden" value="0"' in html
    data = edit_data(
        0,
        author="Ann",
        purpose="We *exist* to help.",
        agreements=(("", "We listen.", "2031-03-01", False), ("", "", "", False)),
        anchors=(("", "Friday retro", "biweekly", "checkin", False),),
        leadership="Rotating facilitator.",
    )
    response = client.post(f"/t/{team.key}/charter/edit", data=data)
    assert response.status_code == 302
    assert response.location.endswith(f"/t/{team.key}/charter?saved=1")
    head = charters.current_version(team)
    content = CharterContent.from_dict(head.content)
    assert (head.number, head.author, head.source) == (1, "Ann", "manual")
    assert content.purpose == "We *exist* to help."
    assert [(a.text, a.review_date) for a in content.agreements] == [("We listen.", "2031-03-01")]
    assert [(a.name, a.cadence, a.agenda) for a in content.anchors] == [
        ("Friday retro", "biweekly", "checkin")
    ]
    assert content.leadership == "Rotating facilitator."
    page = client.get(response.location).get_data(as_text=True)
    assert "Version 1 saved." in page
    again = client.get(f"/t/{team.key}/charter/edit").get_data(as_text=True)
    assert form_values(again)["author"] == "Ann"
    assert form_values(again)["base_version"] == "1"


def test_the_edit_form_is_prefilled_with_blank_rows_and_date_inputs(client, chartered):
    team = chartered()
    html = client.get(f"/t/{team.key}/charter/edit").get_data(as_text=True)
    values = form_values(html)
    assert values["base_version"] == "1"
    assert values["agreements-0-id"] == "a1" and values["agreements-1-id"] == "a2"
    assert values["agreements-0-text"] == "We start on time."
    assert 'name="agreements-0-review_date" type="date" value="2030-01-15"' in html
    # Two agreements plus five blank rows; one anchor plus two blank rows.
    assert "agreements-6-text" in html and "agreements-7-text" not in html
    assert "anchors-2-name" in html and "anchors-3-name" not in html
    assert 'name="agreements-0-retire"' in html and 'name="agreements-2-retire"' not in html
    assert 'name="anchors-0-remove"' in html
    assert '<option selected value="checkin">' in html


def test_an_empty_author_name_is_refused(client, chartered):
    team = chartered()
    data = edit_data(1, author=" \u200b ", purpose="Changed")
    response = client.post(f"/t/{team.key}/charter/edit", data=data)
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    assert charters.current_version(team).number == 1


def test_an_emptied_agreement_must_be_retired_instead(client, chartered):
    team = chartered()
    data = edit_data(1, purpose=CONTENT.purpose, agreements=(("a1", " ", "", False),))
    response = client.post(f"/t/{team.key}/charter/edit", data=data)
    assert response.status_code == 400
    assert "tick “Retire”" in response.get_data(as_text=True)


def test_an_invalid_review_date_is_refused(client, chartered):
    team = chartered()
    data = edit_data(1, agreements=(("", "We rest.", "not-a-date", False),))
    response = client.post(f"/t/{team.key}/charter/edit", data=data)
    assert response.status_code == 400
    assert charters.current_version(team).number == 1


@pytest.mark.parametrize("review", ["1999-12-31", "2101-01-01", "0001-01-01"])
def test_a_review_date_outside_2000_to_2100_is_refused(client, chartered, review):
    team = chartered()
    data = edit_data(1, agreements=(("", "We rest.", review, False),))
    response = client.post(f"/t/{team.key}/charter/edit", data=data)
    assert response.status_code == 400
    assert "Choose a review date in the years 2000 to 2100." in response.get_data(as_text=True)
    assert charters.current_version(team).number == 1


def test_the_review_date_inputs_offer_only_2000_to_2100(client, chartered):
    html = client.get(f"/t/{chartered().key}/charter/edit").get_data(as_text=True)
    assert 'max="2100-12-31"' in html and 'min="2000-01-01"' in html


def test_an_agreement_typed_on_several_lines_is_saved_as_one(client, chartered):
    team = chartered()
    data = edit_data(
        1,
        purpose="Line one.\r\nLine two.",
        agreements=(("a1", "We start\r\n  on time,\r\n\r\nalways.", "", False),),
    )
    assert client.post(f"/t/{team.key}/charter/edit", data=data).status_code == 302
    content = CharterContent.from_dict(charters.current_version(team).content)
    assert content.agreements[0].text == "We start on time, always."
    assert content.purpose == "Line one.\nLine two."  # the purpose may have paragraphs


def test_saving_without_a_change_says_so_and_makes_no_version(client, chartered):
    team = chartered()
    data = edit_data(
        1,
        purpose=CONTENT.purpose,
        agreements=(
            ("a1", "We start on time.", "2030-01-15", False),
            ("a2", "We *ask* before we assume.", "", False),
            ("", "", "", False),
        ),
        anchors=(
            ("k1", "Monday check-in", "weekly", "checkin", False),
            ("", "", "weekly", "checkin", False),
        ),
        leadership=CONTENT.leadership,
    )
    response = client.post(f"/t/{team.key}/charter/edit", data=data)
    assert response.status_code == 200
    assert "Nothing changed, so no new version was made." in response.get_data(as_text=True)
    assert charters.current_version(team).number == 1


def test_retiring_amending_and_adding_keeps_the_order_of_the_form(client, chartered):
    team = chartered()
    data = edit_data(
        1,
        purpose=CONTENT.purpose,
        agreements=(
            ("a2", "We ask before we assume.", "", False),
            ("a1", "We start on time.", "", True),
            ("", "We write things down.", "", False),
        ),
        anchors=(("k1", "Monday check-in", "weekly", "checkin", True),),
        leadership=CONTENT.leadership,
    )
    assert client.post(f"/t/{team.key}/charter/edit", data=data).status_code == 302
    content = CharterContent.from_dict(charters.current_version(team).content)
    assert [a.text for a in content.agreements] == [
        "We ask before we assume.",
        "We write things down.",
    ]
    assert content.agreements[0].id == "a2"
    assert content.agreements[1].id not in ("a1", "a2", "")
    assert content.anchors == ()


def test_two_editors_from_the_same_base_conflict_and_the_second_can_save_deliberately(
    app, chartered
):
    team = chartered()
    ann, bo = app.test_client(), app.test_client()
    url = f"/t/{team.key}/charter/edit"
    for client in (ann, bo):
        assert form_values(client.get(url).get_data(as_text=True))["base_version"] == "1"
    first = ann.post(url, data=edit_data(1, author="Ann", purpose="The purpose by Ann."))
    assert first.status_code == 302
    mine = edit_data(
        1,
        author="Bo",
        purpose="The *purpose* by Bo.",
        agreements=(
            ("a1", "We start at five past.", "", False),
            ("", "A new one by Bo.", "", False),
        ),
        leadership="Bo leads.",
    )
    second = bo.post(url, data=mine)
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "Your version" in html and "The current version (2, by Ann)" in html
    assert "The <em>purpose</em> by Bo." in html and "The purpose by Ann." in html
    values = form_values(html)
    assert values["base_version"] == "2"
    assert values["purpose"] == "The *purpose* by Bo."
    assert values["agreements-0-text"] == "We start at five past."
    assert values["agreements-1-text"] == "A new one by Bo."
    assert values["leadership"] == "Bo leads."
    assert charters.current_version(team).number == 2
    third = bo.post(url, data=mine | {"base_version": values["base_version"]})
    assert third.status_code == 302
    head = charters.current_version(team)
    assert (head.number, head.author) == (3, "Bo")
    content = CharterContent.from_dict(head.content)
    assert content.purpose == "The *purpose* by Bo."
    assert [a.text for a in content.agreements] == ["We start at five past.", "A new one by Bo."]


def full_form(content: CharterContent, base: int, author: str, **changes) -> dict[str, str]:
    """Return the edit form as a browser posts it for `content`, with some sections changed."""
    content = amended(content, **changes)
    return edit_data(
        base,
        author=author,
        purpose=content.purpose,
        agreements=tuple((a.id, a.text, a.review_date, False) for a in content.agreements),
        anchors=tuple((a.id, a.name, a.cadence, a.agenda, False) for a in content.anchors),
        leadership=content.leadership,
    )


def test_a_conflict_keeps_their_changes_in_the_sections_you_did_not_touch(app, chartered):
    team = chartered()
    url = f"/t/{team.key}/charter/edit"
    tab_a, tab_b = app.test_client(), app.test_client()
    purpose_by_a = "We help **every** shop."
    leadership_by_b = "Bo decides on Fridays."
    saved = tab_a.post(url, data=full_form(CONTENT, 1, "Ann", purpose=purpose_by_a))
    assert saved.status_code == 302

    conflict = tab_b.post(url, data=full_form(CONTENT, 1, "Bo", leadership=leadership_by_b))

    assert conflict.status_code == 409
    html = conflict.get_data(as_text=True)
    values = form_values(html)
    assert values["base_version"] == "2"
    assert values["purpose"] == purpose_by_a  # A's change, not B's stale copy of version 1
    assert values["leadership"] == leadership_by_b
    assert values["agreements-0-id"] == "a1" and values["agreements-1-id"] == "a2"
    assert "What changed since you opened the form" in html
    sections = re.findall(r'<li class="conflict-(\w+)"><strong>([^<]+)</strong>', html)
    assert sections == [("theirs", "Purpose"), ("mine", "Leadership")]

    # Posted as a browser would: unticked retire and remove boxes send nothing.
    posted = {k: v for k, v in values.items() if not k.endswith(("-retire", "-remove"))}
    again = tab_b.post(url, data=posted)

    assert again.status_code == 302
    head = charters.current_version(team)
    content = CharterContent.from_dict(head.content)
    assert (head.number, content.purpose, content.leadership) == (3, purpose_by_a, leadership_by_b)
    assert content.agreements == CONTENT.agreements and content.anchors == CONTENT.anchors


def test_a_conflict_in_one_section_keeps_yours_and_says_both_changed(app, chartered):
    team = chartered()
    url = f"/t/{team.key}/charter/edit"
    first = app.test_client().post(url, data=full_form(CONTENT, 1, "Ann", purpose="By Ann."))
    assert first.status_code == 302
    mine = full_form(CONTENT, 1, "Bo", purpose="By Bo.")
    mine |= {
        "agreements-2-id": "",
        "agreements-2-text": "We add one.",
        "agreements-2-review_date": "",
    }
    html = app.test_client().post(url, data=mine).get_data(as_text=True)
    values = form_values(html)
    assert values["purpose"] == "By Bo."
    assert values["agreements-2-text"] == "We add one."
    assert values["agreements-2-id"] == ""  # still a new row, not an item of a saved version
    sections = re.findall(r'<li class="conflict-(\w+)"><strong>([^<]+)</strong>', html)
    assert sections == [("both", "Purpose"), ("mine", "Working agreements")]


# -- history, compare, restore ----------------------------------------------------------


def test_the_history_tells_each_version_in_sentences_with_its_source(client, chartered, make_room):
    team = chartered()
    charters.save_manual(
        team,
        1,
        amended(
            CONTENT,
            purpose="We help shops.",
            agreements=(CONTENT.agreements[1], Agreement(id="a3", text="We pair on hard things.")),
        ),
        "Bo",
    )
    charters.restore(team, 1, 2, "Cas")
    room, _fien, _token = rooms.create_room(team, "Fien", [{"kind": "checkout"}], "Charter day")
    charters.publish_draft(team, room.id, "We help shops grow.", [], ["Ann", "Bo"], "Fien")
    db.session.commit()
    html = client.get(f"/t/{team.key}/charter/history").get_data(as_text=True)
    numbers = [int(n) for n in re.findall(r'id="version-(\d+)"', html)]
    assert numbers == [4, 3, 2, 1]
    assert "Purpose changed" in html
    assert "Agreement added: We pair on hard things." in html
    assert "Agreement retired: We start on time." in html
    assert "restored from version 1" in html
    assert "manual edit" in html
    assert f'the room “<a href="/r/{room.code}/summary">Charter day</a>”' in html
    assert "Ratified by Ann, Bo" in html
    assert f'href="/t/{team.key}/charter/compare?from=3&amp;to=4"' in html


def test_compare_defaults_to_the_previous_and_the_current_version(client, chartered):
    team = chartered()
    charters.save_manual(
        team,
        1,
        amended(
            CONTENT,
            purpose="We help small shops sell well online.",
            agreements=(
                Agreement(id="a1", text="We start on time.", review_date="2030-01-15"),
                Agreement(id="a3", text="We pair on hard things."),
            ),
        ),
        "Bo",
    )
    response = client.get(f"/t/{team.key}/charter/compare")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "From version 1" in html and "to version 2" in html
    assert re.search(r"<ins><span class=\"visually-hidden\">\[added: </span>[^<]*well", html)
    assert re.search(r"<del><span class=\"visually-hidden\">\[removed: </span>", html)
    assert '<span class="change-status change-added">added</span>' in html
    assert '<span class="change-status change-retired">retired</span>' in html
    assert '<span class="change-status change-unchanged">unchanged</span>' in html
    assert "pair on hard things" in html


def test_compare_of_two_chosen_versions(client, chartered):
    team = chartered()
    charters.save_manual(team, 1, amended(CONTENT, leadership="Bo leads."), "Bo")
    charters.save_manual(team, 2, amended(CONTENT, leadership="Cas leads."), "Cas")
    html = client.get(f"/t/{team.key}/charter/compare?from=1&to=3").get_data(as_text=True)
    assert "From version 1" in html and "to version 3" in html
    assert "Cas" in html and "consent" in html


def test_restoring_an_old_version_makes_a_new_one(client, chartered):
    team = chartered()
    charters.save_manual(team, 1, amended(CONTENT, purpose="Changed."), "Bo")
    response = client.post(
        f"/t/{team.key}/charter/v/1/restore", data={"base_version": "2", "author": "Cas"}
    )
    assert response.status_code == 302
    assert response.location.endswith("/charter?saved=3")
    head = charters.current_version(team)
    assert (head.number, head.source, head.restored_from, head.author) == (3, "restore", 1, "Cas")
    assert CharterContent.from_dict(head.content) == CONTENT


def test_restoring_from_a_stale_page_shows_the_newer_version_first(client, chartered):
    team = chartered()
    charters.save_manual(team, 1, amended(CONTENT, purpose="Changed."), "Bo")
    charters.save_manual(team, 2, amended(CONTENT, purpose="Changed again."), "Cas")
    response = client.post(
        f"/t/{team.key}/charter/v/1/restore", data={"base_version": "2", "author": "Di"}
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "version 3 is the current one now" in html
    assert 'name="base_version" type="hidden" value="3"' in html
    assert charters.current_version(team).number == 3


def test_restoring_needs_a_name(client, chartered):
    team = chartered()
    charters.save_manual(team, 1, amended(CONTENT, purpose="Changed."), "Bo")
    response = client.post(
        f"/t/{team.key}/charter/v/1/restore", data={"base_version": "2", "author": ""}
    )
    assert response.status_code == 400
    assert charters.current_version(team).number == 2


# -- exports ----------------------------------------------------------------------------


def test_the_markdown_exports_live_at_stable_urls(client, chartered):
    team = chartered()
    charters.save_manual(team, 1, amended(CONTENT, purpose="Second purpose."), "Bo")
    current = client.get(f"/t/{team.key}/charter.md")
    assert current.status_code == 200
    assert current.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert current.headers["Content-Disposition"] == 'inline; filename="charter-the-a-team-v2.md"'
    text = current.get_data(as_text=True)
    assert "Second purpose." in text and "We start on time." in text
    old = client.get(f"/t/{team.key}/charter/v/1.md").get_data(as_text=True)
    assert "small shops" in old and "Second purpose." not in old


def test_the_json_exports_follow_the_documented_schema(client, chartered):
    team = chartered()
    charters.save_manual(team, 1, amended(CONTENT, purpose="Second purpose."), "Bo")
    response = client.get(f"/t/{team.key}/charter/v/1.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    data = json.loads(response.get_data(as_text=True))
    assert list(data) == ["team", "version", "charter", "deeds"]
    assert data["version"]["number"] == 1 and data["version"]["author"] == "Fien"
    assert data["version"]["source"] == "manual"
    assert data["charter"]["purpose"] == CONTENT.purpose
    assert [a["id"] for a in data["charter"]["agreements"]] == ["a1", "a2"]
    assert data["deeds"] == []
    current = client.get(f"/t/{team.key}/charter.json").get_json()
    assert current["version"]["number"] == 2
    assert current["charter"]["purpose"] == "Second purpose."


# -- connection anchors -----------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_starting_an_anchor_creates_a_room_with_its_agenda(client, make_team, preset):
    team = make_team()
    anchor = Anchor(id="k9", name="Our ritual", cadence="monthly", agenda=preset)
    charters.save_manual(team, 0, CharterContent(anchors=(anchor,)), "Fien")
    response = client.post(
        f"/t/{team.key}/charter/anchors/k9/start", data={"facilitator_name": "Fien"}
    )
    assert response.status_code == 302
    code = response.location.rsplit("/", 1)[-1]
    room = rooms.room_by_code(code)
    assert room.title == "Our ritual"
    assert [step.kind for step in room.steps] == [spec["kind"] for spec in PRESETS[preset].steps]
    assert room.members[0].display_name == "Fien" and room.facilitator_id == room.members[0].id
    # The starter is remembered as the facilitator in this browser.
    assert 'id="room"' in client.get(f"/r/{code}").get_data(as_text=True)


def test_starting_an_anchor_needs_a_name(client, chartered):
    team = chartered()
    response = client.post(f"/t/{team.key}/charter/anchors/k1/start", data={"facilitator_name": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This field is required." in html
    assert rooms.team_by_key(team.key).rooms == []


# -- the team page ----------------------------------------------------------------------


def test_the_team_page_shows_the_charter_card(client, chartered):
    team = chartered()
    html = client.get(f"/t/{team.key}").get_data(as_text=True)
    assert "Team charter" in html
    assert "<strong>small shops</strong>" in html
    assert "Version 1" in html
    assert f'href="/t/{team.key}/charter"' in html
    assert f'href="/t/{team.key}/charter/history"' in html
    assert f'href="/t/{team.key}/charter/edit"' in html


def test_the_team_page_invites_a_first_charter(client, make_team):
    team = make_team()
    html = client.get(f"/t/{team.key}").get_data(as_text=True)
    assert "Write the first version" in html


# -- hostile input ----------------------------------------------------------------------


@pytest.fixture
def hostile_team(make_team):
    """Return a team with two versions full of hostile text, one published from a room."""
    team = make_team()
    hostile = CharterContent(
        purpose=HOSTILE_MARKDOWN,
        agreements=(Agreement(id="a1", text=HOSTILE_MARKDOWN),),
        anchors=(Anchor(id="k1", name=HOSTILE_NAME, cadence="weekly", agenda="checkin"),),
        leadership=HOSTILE_MARKDOWN,
    )
    charters.save_manual(team, 0, hostile, HOSTILE_NAME)
    room, _fien, _token = rooms.create_room(team, "Fien", [{"kind": "checkout"}], HOSTILE_NAME)
    charters.publish_draft(
        team,
        room.id,
        HOSTILE_MARKDOWN + " again",
        [
            {"op": "add", "text": HOSTILE_MARKDOWN + " too", "review_date": None},
            # Ratified on an older text: recorded as not applied, with both texts.
            {
                "op": "amend",
                "id": "a1",
                "text": HOSTILE_MARKDOWN + " amended",
                "review_date": None,
                "base": {"text": HOSTILE_MARKDOWN + " before", "review_date": None},
            },
        ],
        [HOSTILE_NAME],
        HOSTILE_NAME,
    )
    db.session.commit()
    assert charters.current_version(team).summary[-1]["kind"] == "not_applied"
    return team


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/charter",
        "/charter/v/1",
        "/charter/history",
        "/charter/compare",
        "/charter/compare?from=1&to=2",
        "/charter/edit",
    ],
)
def test_hostile_markdown_is_inert_on_every_charter_page(client, hostile_team, path):
    response = client.get(f"/t/{hostile_team.key}{path}")
    assert response.status_code == 200
    assert_inert(response.get_data(as_text=True))


def test_hostile_markdown_is_inert_on_the_conflict_page(client, hostile_team):
    data = edit_data(
        1,
        author=HOSTILE_NAME,
        purpose=HOSTILE_MARKDOWN + " mine",
        agreements=(("", HOSTILE_MARKDOWN + " mine", "", False),),
        anchors=(("", HOSTILE_NAME + " mine", "weekly", "checkin", False),),
        leadership=HOSTILE_MARKDOWN,
    )
    response = client.post(f"/t/{hostile_team.key}/charter/edit", data=data)
    assert response.status_code == 409
    assert_inert(response.get_data(as_text=True))


def test_the_inertness_check_catches_live_markup():
    with pytest.raises(AssertionError):
        assert_inert('<p><a href=" JavaScript:alert(1)">x</a></p>')
    with pytest.raises(AssertionError):
        assert_inert('<p><img src="x" onerror="alert(1)"></p>')
    with pytest.raises(AssertionError):
        assert_inert("<script>alert(1)</script>")
    assert_inert("<p>&lt;img src=x onerror=alert(1)&gt; &lt;script&gt;alert(1)</p>")


# -- CSRF -------------------------------------------------------------------------------


def test_charter_posts_without_a_csrf_token_are_refused(csrf_app):
    client = csrf_app.test_client()
    team = rooms.create_team("Guarded")
    url = f"/t/{team.key}/charter/edit"
    refused = client.post(url, data=edit_data(0, purpose="Sneaky."))
    assert refused.status_code == 400
    assert charters.current_version(team) is None
    token = csrf_token(client.get(url).get_data(as_text=True))
    accepted = client.post(url, data=edit_data(0, purpose="Ours.") | {"csrf_token": token})
    assert accepted.status_code == 302
    assert charters.current_version(team).number == 1


def test_restoring_and_starting_an_anchor_need_a_csrf_token_too(csrf_app):
    client = csrf_app.test_client()
    team = rooms.create_team("Guarded")
    charters.save_manual(team, 0, CONTENT, "Fien")
    charters.save_manual(team, 1, amended(CONTENT, purpose="Changed."), "Bo")
    restore = f"/t/{team.key}/charter/v/1/restore"
    assert client.post(restore, data={"base_version": "2", "author": "Di"}).status_code == 400
    start = f"/t/{team.key}/charter/anchors/k1/start"
    assert client.post(start, data={"facilitator_name": "Di"}).status_code == 400
    assert charters.current_version(team).number == 2
    assert rooms.team_by_key(team.key).rooms == []
    token = csrf_token(client.get(f"/t/{team.key}/charter").get_data(as_text=True))
    started = client.post(start, data={"facilitator_name": "Di", "csrf_token": token})
    assert started.status_code == 302
