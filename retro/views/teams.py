"""The team page: its secret link, charter, open deeds, pulse trends, rooms; starting a room."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from markupsafe import Markup

from retro import memberships, trends
from retro.agendas import PRESETS
from retro.extensions import limiter
from retro.forms import STEP_LABELS, StartRoomForm
from retro.services import rooms
from retro.services.deeds import open_deeds

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
    series = trends.team_trends(team)
    roti = next(s for s in series if s.key == "roti")
    return render_template(
        "team.html",
        team=team,
        form=form,
        created=request.args.get("created"),
        deeds=open_deeds(team),
        trends=series,
        roti_by_room=trends.points_by_room(roti),
        presets=PRESETS,
        step_labels=STEP_LABELS,
    ), status


@bp.app_template_global()
def trend_chart(series: trends.Series) -> Markup:
    """Return a pulse series as an accessible SVG chart (for templates/_trends.html)."""
    return trends.trend_chart(series)


@bp.app_template_global()
def average_text(value: float) -> str:
    """Format an average with two decimals in the reader's language."""
    return trends.average_text(value)
