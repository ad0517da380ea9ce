"""The team page: its secret link, its rooms, and starting a new room."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from retro import memberships
from retro.extensions import limiter
from retro.forms import StartRoomForm
from retro.services import rooms

bp = Blueprint("teams", __name__, url_prefix="/t")


@bp.route("/<key>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def show(key: str):
    """Show the team and start a room from the agenda form."""
    team = rooms.team_by_key(key) or abort(404)
    form = StartRoomForm()
    if request.method == "GET":
        form.with_default_agenda()
    if form.validate_on_submit():
        room, _member, token = rooms.create_room(
            team, form.facilitator_name.data, form.agenda(), form.title.data or ""
        )
        memberships.remember(room.code, token)
        return redirect(url_for("rooms.show", code=room.code))
    status = 400 if form.errors else 200
    return render_template(
        "team.html", team=team, form=form, created=request.args.get("created")
    ), status
