"""A small JSON API so that programs (tests, other clients) can create and join rooms.

CSRF-exempt: nothing here acts on ambient authority. Every call creates
something new and returns its secret; none reads a cookie.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from retro.extensions import limiter
from retro.messages import message_for
from retro.rituals import RitualError
from retro.services import rooms

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.errorhandler(RitualError)
def refused(error: RitualError):
    """Turn a domain error into a 400 with a translated message."""
    return jsonify(
        error={"code": error.code, "message": message_for(error.code, **error.params)}
    ), 400


def body() -> dict:
    """Return the JSON object body, refusing anything else."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise RitualError("invalid_payload")
    return data


@bp.post("/teams")
@limiter.limit("20 per minute; 200 per day")
def create_team():
    """Create a team; returns its secret key."""
    team = rooms.create_team(body().get("name"))
    return jsonify(key=team.key, name=team.name), 201


@bp.post("/teams/<key>/rooms")
@limiter.limit("30 per minute")
def create_room(key: str):
    """Create a room with an agenda; returns its code and the facilitator's token."""
    team = rooms.team_by_key(key) or abort(404)
    data = body()
    agenda = data.get("agenda")
    if not isinstance(agenda, list) or not all(isinstance(s, dict) for s in agenda):
        raise RitualError("invalid_field", field="agenda")
    title = data.get("title") or ""
    if not isinstance(title, str):
        raise RitualError("invalid_field", field="title")
    room, member, token = rooms.create_room(team, data.get("facilitator_name"), agenda, title)
    return jsonify(code=room.code, member_id=member.id, token=token), 201


@bp.post("/rooms/<code>/members")
@limiter.limit("60 per minute")
def join_room(code: str):
    """Join a room with a display name; returns the member id and token."""
    room = rooms.room_by_code(code) or abort(404)
    member, token = rooms.join_room(
        room, body().get("display_name"), current_app.config["MAX_ROOM_MEMBERS"]
    )
    return jsonify(member_id=member.id, token=token), 201
