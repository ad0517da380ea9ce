"""The JSON API for programs: create teams and rooms, join rooms."""

from __future__ import annotations

import pytest

from retro.extensions import db
from retro.messages import message_for
from retro.models import Member, Room, Team
from retro.services import rooms

CHECKIN = {"kind": "checkin", "prompt_id": "energy-weather", "mode": "round", "scales": []}


def refused(response, code: str) -> None:
    """Assert a 400 answer carrying the error `code` and its readable message."""
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"] and isinstance(error["message"], str)


def test_creating_a_team_returns_its_secret_key(client):
    response = client.post("/api/teams", json={"name": "The A-team"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "The A-team"
    assert rooms.team_by_key(body["key"]).name == "The A-team"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"data": "name=The A-team"}, "invalid_payload"),
        ({"data": "{not json", "content_type": "application/json"}, "invalid_payload"),
        ({"json": ["The A-team"]}, "invalid_payload"),
        ({"json": "The A-team"}, "invalid_payload"),
        ({"json": {}}, "invalid_value"),
        ({"json": {"name": 42}}, "invalid_value"),
        ({"json": {"name": "   "}}, "empty_name"),
        ({"json": {"name": "x" * 81}}, "too_long"),
    ],
)
def test_a_bad_team_body_is_refused_and_creates_nothing(client, kwargs, code):
    refused(client.post("/api/teams", **kwargs), code)
    assert db.session.query(Team).count() == 0


def test_creating_a_room_returns_its_code_and_the_facilitator_token(client, make_team):
    team = make_team()
    agenda = [CHECKIN, {"kind": "checkout"}]
    response = client.post(
        f"/api/teams/{team.key}/rooms",
        json={"facilitator_name": "Fien", "agenda": agenda, "title": "Monday"},
    )
    assert response.status_code == 201
    body = response.get_json()
    facilitator = rooms.member_for_token(body["code"], body["token"])
    assert facilitator.id == body["member_id"]
    assert facilitator.room.facilitator_id == facilitator.id
    assert facilitator.room.title == "Monday"
    assert [step.kind for step in facilitator.room.steps] == ["checkin", "checkout"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"facilitator_name": "Fien"}, "invalid_field"),
        ({"facilitator_name": "Fien", "agenda": "checkin"}, "invalid_field"),
        ({"facilitator_name": "Fien", "agenda": ["checkin"]}, "invalid_field"),
        ({"facilitator_name": "Fien", "agenda": []}, "empty_agenda"),
        ({"facilitator_name": "Fien", "agenda": [CHECKIN] * 13}, "agenda_too_long"),
        ({"facilitator_name": "Fien", "agenda": [{"kind": "lunch"}]}, "unknown_step_kind"),
        ({"facilitator_name": "Fien", "agenda": [{}]}, "unknown_step_kind"),
        ({"facilitator_name": "Fien", "agenda": [CHECKIN], "title": 7}, "invalid_field"),
        ({"agenda": [CHECKIN]}, "invalid_value"),
        ({"facilitator_name": "", "agenda": [CHECKIN]}, "empty_name"),
        ({"facilitator_name": "x" * 65, "agenda": [CHECKIN]}, "too_long"),
    ],
)
def test_a_bad_room_body_is_refused_and_creates_nothing(client, make_team, body, code):
    team = make_team()
    refused(client.post(f"/api/teams/{team.key}/rooms", json=body), code)
    assert db.session.query(Room).count() == 0


@pytest.mark.parametrize(
    ("step", "code"),
    [
        ({"prompt_id": "no-such-prompt"}, "unknown_prompt"),
        ({"prompt_id": ["energy-weather"]}, "unknown_prompt"),
        ({"prompt_id": 7}, "unknown_prompt"),
        ({"mode": "whenever"}, "invalid_mode"),
        ({"mode": ["round"]}, "invalid_mode"),
        ({"scales": ["mood"]}, "unknown_scale"),
        ({"scales": ["energy", "energy"]}, "unknown_scale"),
        ({"scales": "energy"}, "unknown_scale"),
        ({"scales": 5}, "unknown_scale"),
        ({"scales": [["energy"]]}, "unknown_scale"),
        ({"prompt_id": None, "prompt": ""}, "empty_text"),
        ({"prompt_id": None, "prompt": 42}, "invalid_value"),
        ({"prompt_id": None, "prompt": "x" * 301}, "too_long"),
    ],
)
def test_a_bad_check_in_step_is_refused_and_creates_nothing(client, make_team, step, code):
    team = make_team()
    body = {"facilitator_name": "Fien", "agenda": [{**CHECKIN, **step}]}
    refused(client.post(f"/api/teams/{team.key}/rooms", json=body), code)
    assert db.session.query(Room).count() == 0


def test_a_room_for_an_unknown_team_is_not_found(client):
    response = client.post("/api/teams/nope/rooms", json={"agenda": [CHECKIN]})
    assert response.status_code == 404


def test_joining_returns_a_member_token(client, make_room):
    room, _fien, _token = make_room()
    response = client.post(f"/api/rooms/{room.code}/members", json={"display_name": "Ann"})
    assert response.status_code == 201
    body = response.get_json()
    member = rooms.member_for_token(room.code, body["token"])
    assert member.id == body["member_id"]
    assert member.display_name == "Ann"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_value"),
        ({"display_name": ["Ann"]}, "invalid_value"),
        ({"display_name": ""}, "empty_name"),
        ({"display_name": "x" * 65}, "too_long"),
    ],
)
def test_a_bad_join_body_is_refused_and_adds_nobody(client, make_room, body, code):
    room, _fien, _token = make_room()
    refused(client.post(f"/api/rooms/{room.code}/members", json=body), code)
    assert db.session.query(Member).count() == 1


def test_joining_a_full_room_is_refused(app, client, make_room, make_member):
    app.config["MAX_ROOM_MEMBERS"] = 2
    room, _fien, _token = make_room()
    make_member(room, "Ann")
    response = client.post(f"/api/rooms/{room.code}/members", json={"display_name": "Bo"})
    refused(response, "room_full")
    assert response.get_json()["error"]["message"] == message_for("room_full")


def test_joining_an_ended_room_is_refused(client, make_room, act):
    room, fien, _token = make_room()
    act(fien.id, "end")
    refused(
        client.post(f"/api/rooms/{room.code}/members", json={"display_name": "Ann"}), "room_ended"
    )


def test_joining_an_unknown_room_is_not_found(client):
    response = client.post("/api/rooms/nope/members", json={"display_name": "Ann"})
    assert response.status_code == 404


def test_the_api_needs_no_csrf_token(csrf_app):
    response = csrf_app.test_client().post("/api/teams", json={"name": "The A-team"})
    assert response.status_code == 201


def test_creating_teams_too_fast_is_refused_with_429_json(client):
    answers = [client.post("/api/teams", json={"name": f"Team {n}"}) for n in range(21)]
    assert [a.status_code for a in answers[:20]] == [201] * 20
    assert answers[20].status_code == 429
    assert answers[20].get_json()["error"]["code"] == "too_many_requests"


def test_an_unknown_api_path_answers_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_body_over_64_kb_is_refused_before_it_is_read(client):
    response = client.post("/api/teams", json={"name": "x" * (70 * 1024)})
    assert response.status_code == 413
    assert "shorter" in response.get_json()["error"]["message"]


def test_a_prompt_text_beside_a_library_prompt_is_refused(client):
    key = client.post("/api/teams", json={"name": "T"}).get_json()["key"]
    step = {"kind": "checkin", "prompt_id": "energy-weather", "prompt": "x" * 50_000}
    response = client.post(
        f"/api/teams/{key}/rooms", json={"facilitator_name": "Fien", "agenda": [step]}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "invalid_field",
        "message": "The field “prompt” is missing or not valid.",
    }


def test_a_mode_that_is_not_text_is_refused(client):
    key = client.post("/api/teams", json={"name": "T"}).get_json()["key"]
    step = {"kind": "checkin", "prompt_id": "energy-weather", "mode": ["round"]}
    response = client.post(
        f"/api/teams/{key}/rooms", json={"facilitator_name": "Fien", "agenda": [step]}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_mode"


def test_invisible_characters_cannot_disguise_a_display_name(client):
    key = client.post("/api/teams", json={"name": "T"}).get_json()["key"]
    code = client.post(
        f"/api/teams/{key}/rooms",
        json={"facilitator_name": "Fien", "agenda": [{"kind": "checkout"}]},
    ).get_json()["code"]
    member = client.post(
        f"/api/rooms/{code}/members", json={"display_name": "\u202eFien\u200b"}
    ).get_json()
    from retro.extensions import db
    from retro.models import Member

    assert db.session.get(Member, member["member_id"]).display_name == "Fien"
