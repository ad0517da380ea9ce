"""The front page (create a team) and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from retro.extensions import limiter
from retro.forms import TeamForm
from retro.i18n import LANG_COOKIE
from retro.services import rooms

bp = Blueprint("home", __name__)


@bp.route("/", methods=["GET", "POST"])
@limiter.limit("20 per minute; 200 per day", methods=["POST"])
def index():
    """Show what Retro is and create a team."""
    form = TeamForm()
    if form.validate_on_submit():
        team = rooms.create_team(form.name.data)
        return redirect(url_for("teams.show", key=team.key, created=1))
    return render_template("index.html", form=form), 400 if form.errors else 200


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the chosen language in a cookie and go back where the user was."""
    target = request.args.get("next") or url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        target = url_for("home.index")  # only ever redirect within this site
    response = redirect(target)
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax")
    return response
