"""Room pages: join, the live room, the QR code, the summary and its Markdown export."""

from __future__ import annotations

import io

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from retro import memberships
from retro.agendas import CADENCE_LABELS, PRESETS
from retro.charter.content import compare
from retro.client_text import SCALE_LABELS, client_catalog
from retro.extensions import limiter
from retro.forms import JoinForm
from retro.messages import message_for
from retro.prompts import BY_ID
from retro.rituals import RitualError
from retro.services import charter as charters
from retro.services import rooms
from retro.views.export import summary_markdown

bp = Blueprint("rooms", __name__, url_prefix="/r")


def share_url(code: str) -> str:
    """Return the absolute share link of a room."""
    base = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    return base + url_for("rooms.show", code=code)


def current_member(room):
    """Return the member this browser joined the room as, if any."""
    token = memberships.token_for(room.code)
    return rooms.member_for_token(room.code, token) if token else None


@bp.route("/<code>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def show(code: str):
    """Show the live room to a member, or the join form to anyone else."""
    room = rooms.room_by_code(code) or abort(404)
    member = current_member(room)
    if member is not None:
        prompts = {p.id: str(p.text) for p in BY_ID.values()}
        return render_template(
            "room.html",
            room=room,
            member=member,
            share=share_url(code),
            catalog=client_catalog(),
            prompts=prompts,
            projector=request.args.get("view") == "projector",
        )
    if room.status == "ended":
        return redirect(url_for("rooms.summary", code=code))
    form = JoinForm()
    error = None
    if form.validate_on_submit():
        try:
            _member, token = rooms.join_room(
                room, form.display_name.data, current_app.config["MAX_ROOM_MEMBERS"]
            )
        except RitualError as exc:
            error = message_for(exc.code, **exc.params)
        else:
            memberships.remember(room.code, token)
            return redirect(url_for("rooms.show", code=code))
    status = 400 if (form.errors or error) else 200
    return render_template("join.html", room=room, form=form, error=error), status


@bp.get("/<code>/qr.svg")
def qr(code: str):
    """Return the QR code of the room's share link as SVG."""
    rooms.room_by_code(code) or abort(404)
    out = io.BytesIO()
    segno.make(share_url(code), error="m").save(
        out, kind="svg", scale=6, border=2, xmldecl=False, title="QR"
    )
    return Response(
        out.getvalue(),
        mimetype="image/svg+xml",
        headers={"Cache-Control": "public, max-age=3600", "Vary": "Host"},
    )


@bp.get("/<code>/summary")
def summary(code: str):
    """Show the read-only summary of a room."""
    room = rooms.room_by_code(code) or abort(404)
    return render_template(
        "summary.html", **rooms.summary(room), prompts=BY_ID, scale_labels=SCALE_LABELS
    )


@bp.get("/<code>/summary.md")
def export(code: str):
    """Return the summary as a Markdown file."""
    room = rooms.room_by_code(code) or abort(404)
    text = summary_markdown(rooms.summary(room))
    filename = f"retro-{room.created_at:%Y-%m-%d}-{room.code}.md"
    return Response(
        text,
        mimetype="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/<code>/charter")
def charter(code: str):
    """Show the team's charter, read-only, to the room's members, with what changed last."""
    room = rooms.room_by_code(code) or abort(404)
    if current_member(room) is None:
        # The charter belongs to the team: only people in the room may read it from here.
        return redirect(url_for("rooms.show", code=code))
    team = room.team
    head = charters.current_version(team)
    old = new = diff = None
    if head is not None:
        new = charters.version(team, request.args.get("to", head.number, type=int)) or abort(404)
        wanted = request.args.get("from", max(1, new.number - 1), type=int)
        old = charters.version(team, wanted) or abort(404)
        diff = compare(charters.content_of(old), charters.content_of(new))
    return render_template(
        "room_charter.html",
        room=room,
        team=team,
        head=head,
        content=charters.content_of(head),
        old=old,
        new=new,
        diff=diff,
        versions=charters.history(team),
        deeds=charters.open_deeds(team),
        presets=PRESETS,
        cadence_labels=CADENCE_LABELS,
    )
