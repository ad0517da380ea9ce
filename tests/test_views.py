"""HTML pages: the front page, the team page, joining, the room, QR, summary and export."""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlsplit

import pytest
from sqlalchemy.exc import OperationalError

from retro.extensions import db
from retro.i18n import LANG_COOKIE
from retro.models import Member, Team
from retro.services import rooms

HOSTILE = "<script>alert(1)</script>"
SIMULTANEOUS_WITH_SCALES = [
    {
        "kind": "checkin",
        "prompt_id": "energy-weather",
        "mode": "simultaneous",
        "scales": ["energy"],
    },
    {"kind": "checkout"},
]
START_FORM = {
    "facilitator_name": "Fien",
    "title": "Monday check-in",
    "steps-0-kind": "checkin",
    "steps-0-prompt_id": "autonomy-say",
    "steps-0-mode": "simultaneous",
    "steps-0-scales": ["energy", "relatedness"],
    "steps-1-kind": "checkout",
}


def csrf_token(html: str) -> str:
    """Return the CSRF token of the form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def session_token(client, code: str) -> str:
    """Return the member secret that a browser keeps for a room in its session."""
    with client.session_transaction() as session:
        return dict(session["rooms"])[code]


@pytest.fixture
def ran_room(make_room, make_member, make_connection, act):
    """Return a room that ran and ended: revealed answers, 3 energy ratings, hidden words."""

    def run(answer: str = "Sunny with a chance of coffee", name: str = "Ann"):
        room, fien, _token = make_room(SIMULTANEOUS_WITH_SCALES)
        ann, _ = make_member(room, name)
        bo, _ = make_member(room, "Bo")
        for member in (fien, ann, bo):
            make_connection(member.id)
        act(fien.id, "start")
        act(ann.id, "answer", step=0, text=answer)
        act(bo.id, "answer", step=0, text="Foggy")
        for member, value in ((fien, 4), (ann, 2), (bo, 4)):
            act(member.id, "rate", step=0, values={"energy": value})
        act(fien.id, "reveal", step=0)
        act(fien.id, "next")
        act(ann.id, "answer", step=1, text="Unrevealed-word")
        act(fien.id, "end")
        return room

    return run


# -- front page and team page -------------------------------------------------------


def test_the_front_page_offers_the_create_team_form(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="name"' in html
    assert 'method="post"' in html


def test_creating_a_team_leads_to_its_page(client):
    response = client.post("/", data={"name": "The A-team"})
    assert response.status_code == 302
    team = db.session.query(Team).one()
    assert response.location.endswith(f"/t/{team.key}?created=1")
    assert team.name == "The A-team"


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_a_team_needs_a_name_of_at_most_80_characters(client, name):
    response = client.post("/", data={"name": name})
    assert response.status_code == 400
    assert db.session.query(Team).count() == 0


def test_a_form_posted_without_a_csrf_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/", data={"name": "The A-team"})
    assert response.status_code == 400
    assert db.session.query(Team).count() == 0


def test_a_form_posted_with_its_csrf_token_is_accepted(csrf_app):
    client = csrf_app.test_client()
    token = csrf_token(client.get("/").get_data(as_text=True))
    response = client.post("/", data={"name": "The A-team", "csrf_token": token})
    assert response.status_code == 302
    assert db.session.query(Team).count() == 1


def test_starting_a_room_without_a_csrf_token_is_refused(csrf_app):
    team = rooms.create_team("The A-team")
    client = csrf_app.test_client()
    response = client.post(f"/t/{team.key}", data=START_FORM)
    assert response.status_code == 400
    assert team.rooms == []


def test_joining_without_a_csrf_token_is_refused(csrf_app):
    team = rooms.create_team("The A-team")
    room, _fien, _token = rooms.create_room(team, "Fien", [{"kind": "checkout"}])
    client = csrf_app.test_client()
    response = client.post(f"/r/{room.code}", data={"display_name": "Ann"})
    assert response.status_code == 400
    assert len(room.members) == 1


def test_the_team_page_shows_the_secret_link_and_the_start_room_form(client, make_team):
    team = make_team("The A-team")
    response = client.get(f"/t/{team.key}?created=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'value="http://localhost/t/{team.key}"' in html
    assert "The A-team" in html
    for field in ("facilitator_name", "steps-0-kind", "steps-0-prompt_id", "steps-1-kind"):
        assert f'name="{field}"' in html
    assert '<option selected value="checkin">' in html


def test_posting_the_start_room_form_creates_the_room_with_its_agenda(client, make_team):
    team = make_team()
    response = client.post(f"/t/{team.key}", data=START_FORM)
    assert response.status_code == 302
    room = team.rooms[0]
    assert response.location.endswith(f"/r/{room.code}")
    assert room.title == "Monday check-in"
    assert [step.kind for step in room.steps] == ["checkin", "checkout"]
    checkin = room.steps[0].state
    assert checkin["prompt_id"] == "autonomy-say"
    assert checkin["mode"] == "simultaneous"
    assert checkin["tally"]["scales"] == ["energy", "relatedness"]
    facilitator = db.session.get(Member, room.facilitator_id)
    assert facilitator.display_name == "Fien"


def test_a_room_can_start_with_a_prompt_of_its_own(client, make_team):
    team = make_team()
    form = {
        "facilitator_name": "Fien",
        "steps-0-kind": "checkin",
        "steps-0-prompt_id": "custom",
        "steps-0-custom_prompt": "What are you proud of?",
        "steps-0-mode": "round",
    }
    assert client.post(f"/t/{team.key}", data=form).status_code == 302
    assert team.rooms[0].steps[0].state["prompt"] == "What are you proud of?"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"facilitator_name": ""}, "This field is required."),
        ({"facilitator_name": "x" * 65}, "Field cannot be longer than 64 characters."),
        ({"steps-0-kind": "", "steps-1-kind": ""}, "Add at least one step to the agenda."),
        ({"steps-0-prompt_id": "custom"}, "Write your prompt, or pick one from the library."),
        (
            {"steps-0-prompt_id": "custom", "steps-0-custom_prompt": "   "},
            "Write your prompt, or pick one from the library.",
        ),
    ],
)
def test_a_start_room_form_with_a_mistake_is_shown_again_with_a_message(
    client, make_team, change, message
):
    team = make_team()
    response = client.post(f"/t/{team.key}", data={**START_FORM, **change})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert team.rooms == []


@pytest.mark.parametrize(
    "change",
    [
        {"steps-0-mode": "whenever"},
        {"steps-0-scales": ["mood"]},
        {"steps-0-kind": "lunch"},
        {"steps-0-prompt_id": "no-such-prompt"},
    ],
)
def test_a_tampered_start_room_form_is_refused(client, make_team, change):
    team = make_team()
    response = client.post(f"/t/{team.key}", data={**START_FORM, **change})
    assert response.status_code == 400
    assert team.rooms == []
    # The form says what is wrong, next to the field.
    page = response.get_data(as_text=True)
    assert '<p class="error" role="alert">' in page
    assert "valid choice" in page


def test_the_facilitator_lands_in_the_room_and_a_stranger_on_the_join_form(app, client, make_team):
    team = make_team()
    location = client.post(f"/t/{team.key}", data=START_FORM).location
    room = team.rooms[0]

    facilitator_page = client.get(location).get_data(as_text=True)
    assert 'id="room"' in facilitator_page
    assert f'data-member="{room.facilitator_id}"' in facilitator_page

    stranger_page = app.test_client().get(location).get_data(as_text=True)
    assert 'id="room"' not in stranger_page
    assert 'name="display_name"' in stranger_page


def test_no_page_anyone_can_open_holds_the_facilitator_secret(app, client, make_team):
    team = make_team()
    client.post(f"/t/{team.key}", data=START_FORM)
    room = team.rooms[0]
    secret = session_token(client, room.code)
    member = app.test_client()
    member.post(f"/r/{room.code}", data={"display_name": "Ann"})
    pages = [
        client.get(f"/r/{room.code}"),
        client.get(f"/t/{team.key}"),
        member.get(f"/r/{room.code}"),
        app.test_client().get(f"/r/{room.code}"),
        client.get(f"/r/{room.code}/summary"),
        client.get(f"/r/{room.code}/summary.md"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert secret not in page.get_data(as_text=True)
    share = f'value="http://localhost/r/{room.code}"'
    assert share in pages[0].get_data(as_text=True)


# -- joining ------------------------------------------------------------------------


def test_joining_with_a_name_puts_the_member_in_the_room(client, make_room):
    room, _fien, _token = make_room()
    response = client.post(f"/r/{room.code}", data={"display_name": "  Ann   Peeters "})
    assert response.status_code == 302
    assert response.location.endswith(f"/r/{room.code}")
    member = rooms.member_for_token(room.code, session_token(client, room.code))
    assert member.display_name == "Ann Peeters"
    assert 'id="room"' in client.get(f"/r/{room.code}").get_data(as_text=True)


def test_a_display_name_of_64_characters_is_accepted(client, make_room):
    room, _fien, _token = make_room()
    response = client.post(f"/r/{room.code}", data={"display_name": "x" * 64})
    assert response.status_code == 302
    assert room.members[-1].display_name == "x" * 64


@pytest.mark.parametrize("name", ["x" * 65, "", "    "])
def test_a_display_name_that_is_empty_or_too_long_is_refused(client, make_room, name):
    room, _fien, _token = make_room()
    response = client.post(f"/r/{room.code}", data={"display_name": name})
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    assert len(room.members) == 1


def test_joining_a_full_room_is_refused_with_a_message(app, client, make_room):
    app.config["MAX_ROOM_MEMBERS"] = 1
    room, _fien, _token = make_room()
    response = client.post(f"/r/{room.code}", data={"display_name": "Ann"})
    assert response.status_code == 400
    assert "This room is full." in response.get_data(as_text=True)
    assert len(room.members) == 1


def test_the_link_of_an_ended_room_leads_strangers_to_its_summary(client, ran_room):
    room = ran_room()
    response = client.get(f"/r/{room.code}")
    assert response.status_code == 302
    assert response.location.endswith(f"/r/{room.code}/summary")


def test_the_qr_code_is_an_svg(client, make_room):
    room, _fien, _token = make_room()
    response = client.get(f"/r/{room.code}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).lstrip().startswith("<svg")


# -- summary and export ---------------------------------------------------------------


def test_the_summary_shows_revealed_answers_scale_totals_and_what_stayed_hidden(client, ran_room):
    room = ran_room()
    html = client.get(f"/r/{room.code}/summary").get_data(as_text=True)
    assert "Sunny with a chance of coffee" in html
    assert "Foggy" in html
    assert "Anonymous scales (3 answers)" in html
    assert "<td>0</td><td>1</td><td>0</td><td>2</td><td>0</td><td>3.33</td>" in html
    assert "Answers were not revealed." in html
    assert "Unrevealed-word" not in html


def test_the_markdown_export_holds_the_same_summary(client, ran_room):
    room = ran_room()
    response = client.get(f"/r/{room.code}/summary.md")
    assert response.status_code == 200
    assert response.mimetype == "text/markdown"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Content-Disposition"].endswith(f'-{room.code}.md"')
    text = response.get_data(as_text=True)
    assert "- **Ann**: Sunny with a chance of coffee" in text
    assert "- **Bo**: Foggy" in text
    assert "Anonymous scales (3 answers):" in text
    assert "| Energy | 0 | 1 | 0 | 2 | 0 | 3.33 |" in text
    assert "Answers were not revealed." in text
    assert "Unrevealed-word" not in text


def test_scales_with_fewer_than_three_answers_show_no_results(client, make_room, act):
    room, fien, _token = make_room(SIMULTANEOUS_WITH_SCALES)
    act(fien.id, "start")
    act(fien.id, "rate", step=0, values={"energy": 5})
    act(fien.id, "reveal", step=0)
    act(fien.id, "end")
    html = client.get(f"/r/{room.code}/summary").get_data(as_text=True)
    text = client.get(f"/r/{room.code}/summary.md").get_data(as_text=True)
    for page in (html, text):
        assert "Fewer than 3 people answered the scales" in page
        assert "Anonymous scales" not in page
    assert "This step was not reached." in html


def test_the_summary_of_a_running_room_keeps_hidden_answers_hidden(client, make_room, act):
    room, fien, _token = make_room(SIMULTANEOUS_WITH_SCALES)
    act(fien.id, "start")
    act(fien.id, "answer", step=0, text="Not-for-your-eyes")
    html = client.get(f"/r/{room.code}/summary").get_data(as_text=True)
    text = client.get(f"/r/{room.code}/summary.md").get_data(as_text=True)
    assert "This room is still open." in html
    assert "Not-for-your-eyes" not in html
    assert "Not-for-your-eyes" not in text


def test_hostile_html_is_escaped_on_the_summary_page(client, ran_room):
    room = ran_room(answer=HOSTILE, name="<b>Ann</b>")
    html = client.get(f"/r/{room.code}/summary").get_data(as_text=True)
    assert HOSTILE not in html
    assert "<b>Ann</b>" not in html
    assert escape(HOSTILE, quote=False) in html
    assert "&lt;b&gt;Ann&lt;/b&gt;" in html


def test_hostile_html_is_escaped_in_the_markdown_export(client, ran_room):
    room = ran_room(answer=HOSTILE, name="<b>Ann</b>")
    text = client.get(f"/r/{room.code}/summary.md").get_data(as_text=True)
    assert "<script>" not in text
    assert "<b>" not in text
    assert r"\<script\>alert(1)\</script\>" in text
    assert r"**\<b\>Ann\</b\>**" in text


# -- languages ------------------------------------------------------------------------


def test_the_language_switch_sets_the_cookie_and_goes_back(client, make_team):
    team = make_team()
    response = client.get(f"/lang/nl?next=/t/{team.key}")
    assert response.status_code == 302
    assert response.location.endswith(f"/t/{team.key}")
    cookie = client.get_cookie(LANG_COOKIE)
    assert cookie is not None and cookie.value == "nl"
    assert '<html lang="nl">' in client.get(f"/t/{team.key}").get_data(as_text=True)


def test_an_unknown_language_sets_no_cookie(client):
    response = client.get("/lang/xx?next=/")
    assert response.status_code == 302
    assert client.get_cookie(LANG_COOKIE) is None


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_the_language_switch_never_redirects_off_site(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert location.scheme in ("", "http") and location.netloc in ("", "localhost")
    assert location.path.startswith("/") and not location.path.startswith("//")


def test_a_dutch_browser_gets_dutch_pages(client):
    html = client.get("/", headers={"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"}).get_data(
        as_text=True
    )
    assert '<html lang="nl">' in html


def test_an_english_browser_gets_english_pages(client):
    html = client.get("/", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_the_chosen_language_wins_over_the_browser_language(client):
    client.set_cookie(LANG_COOKIE, "nl", domain="localhost")
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nl">' in html


def test_a_forged_language_cookie_falls_back_to_the_browser_language(client):
    client.set_cookie(LANG_COOKIE, "xx", domain="localhost")
    html = client.get("/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert '<html lang="nl">' in html


# -- health and unknown pages -----------------------------------------------------------


def test_healthz_reports_an_unreachable_database_as_503(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("no such database"))

    monkeypatch.setattr(db.session, "execute", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


@pytest.mark.parametrize(
    "path",
    [
        "/t/no-such-team",
        "/r/no-such-room",
        "/r/no-such-room/qr.svg",
        "/r/no-such-room/summary",
        "/r/no-such-room/summary.md",
    ],
)
def test_unknown_teams_and_rooms_are_not_found(client, path):
    assert client.get(path).status_code == 404


def test_a_browser_remembers_its_twenty_most_recent_rooms(app, client, make_team):
    team = make_team()
    codes = []
    for number in range(22):
        response = client.post(
            f"/t/{team.key}",
            data={"facilitator_name": f"Fien {number}", "steps-0-kind": "checkout"},
        )
        codes.append(response.headers["Location"].rsplit("/", 1)[-1])
    with client.session_transaction() as session:
        remembered = [code for code, _token in session["rooms"]]
    assert remembered == codes[-20:]
    assert "Join the room" in client.get(f"/r/{codes[0]}").get_data(as_text=True)
    assert 'id="room"' in client.get(f"/r/{codes[-1]}").get_data(as_text=True)


def test_an_unknown_page_shows_a_friendly_404_in_the_browsers_language(client):
    response = client.get("/t/no-such-team", headers={"Accept-Language": "nl"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Deze pagina bestaat niet" in page
    assert 'lang="nl"' in page


def test_the_markdown_export_keeps_plain_text_readable_and_inert():
    from retro.views.export import md_escape

    typed = (
        "Done. Ship it!\n# not a heading\n- not a list\n12. not a list\n&lt;b&gt; [x](javascript:y)"
    )
    assert md_escape(typed) == (
        "Done. Ship it\\!  \n"
        "\\# not a heading  \n"
        "\\- not a list  \n"
        "12\\. not a list  \n"
        "&amp;lt;b&amp;gt; \\[x\\](javascript:y)"
    )
    assert md_escape("first\nsecond", quote=True) == "first  \n> second"


@pytest.mark.parametrize("name", ["\u200b", "\u202e\u200d"])
def test_a_team_name_of_invisible_characters_is_refused_as_empty(client, name):
    response = client.post("/", data={"name": name})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)


def test_a_facilitator_name_of_invisible_characters_is_refused_as_empty(client, make_team):
    team = make_team()
    response = client.post(f"/t/{team.key}", data={**START_FORM, "facilitator_name": "\u200b"})
    assert response.status_code == 400
    assert team.rooms == []


def test_a_ready_made_agenda_ignores_the_rows_it_replaces(client, make_team):
    team = make_team()
    broken_row = {
        "steps-0-kind": "checkin",
        "steps-0-prompt_id": "custom",
        "steps-0-custom_prompt": "",
    }
    response = client.post(f"/t/{team.key}", data={**START_FORM, **broken_row, "preset": "health"})
    assert response.status_code == 302
    assert [step.kind for step in team.rooms[0].steps][:3] == [
        "checkin",
        "deeds_review",
        "agreements_check",
    ]
