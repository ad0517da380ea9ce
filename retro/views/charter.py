"""The team charter: current version, history, comparison, editing, restore, exports, anchors."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date
from flask_babel import lazy_gettext as _

from retro import memberships
from retro.agendas import CADENCE_LABELS, PRESETS
from retro.charter.content import REVIEW_YEARS, CharterContent, rebase
from retro.charter.content import compare as compare_contents
from retro.charter.export import to_json, to_markdown
from retro.extensions import limiter
from retro.forms import CharterForm, RestoreForm, StartAnchorForm
from retro.messages import message_for
from retro.rituals import RitualError
from retro.services import charter as charters
from retro.services import rooms

bp = Blueprint("charter", __name__, url_prefix="/t/<key>")

POST_LIMIT = "30 per minute"
# The name last used to edit, restore or start an anchor; pre-fills the next form.
AUTHOR = "charter_author"
NO_CHANGE = _("Nothing changed, so no new version was made.")
RESTORE_CONFLICT = _(
    "The charter changed while you were looking: version %(number)s is the current one now. "
    "Check it, then restore again if you still want to."
)


# -- helpers ----------------------------------------------------------------------------


def team_or_404(key: str):
    """Return the team with this key, or stop with 404."""
    return rooms.team_by_key(key) or abort(404)


def version_or_404(team, number: int):
    """Return version `number` of the team's charter, or stop with 404."""
    return charters.version(team, number) or abort(404)


def remembered_author() -> str:
    """Return the name this browser last used on the charter."""
    name = session.get(AUTHOR)
    return name if isinstance(name, str) else ""


def error_text(error: RitualError) -> str:
    """Return the message for a refused save."""
    return str(NO_CHANGE) if error.code == "no_change" else message_for(error.code, **error.params)


def refused_status(error: RitualError) -> int:
    """Return the status of a refused save: nothing changed is not an error."""
    return 200 if error.code == "no_change" else 400


def export_name(team, version, extension: str) -> str:
    """Return a file name such as charter-the-a-team-v3.md."""
    slug = re.sub(r"[^a-z0-9]+", "-", team.name.lower()).strip("-") or "team"
    return f"charter-{slug}-v{version.number}.{extension}"


def page(team, version, status: int = 200, **extra: Any):
    """Render the charter page for a version (the current one, an old one, or none)."""
    head = charters.current_version(team)
    is_current = version is None or version.number == head.number
    author = remembered_author()
    if not is_current and "restore_form" not in extra:
        extra["restore_form"] = RestoreForm(
            formdata=None, data={"base_version": str(head.number), "author": author}
        )
    content = charters.content_of(version)
    start_forms = extra.pop("start_forms", {})
    for anchor in content.anchors if is_current else ():
        start_forms.setdefault(
            anchor.id, StartAnchorForm(formdata=None, data={"facilitator_name": author})
        )
    return render_template(
        "charter.html",
        team=team,
        version=version,
        head=head,
        content=content,
        is_current=is_current,
        deeds=charters.open_deeds(team),
        start_forms=start_forms,
        saved=request.args.get("saved", type=int),
        **extra,
    ), status


@bp.context_processor
def labels() -> dict[str, Any]:
    """Give the charter templates the words for cadences and agendas."""
    return {"cadence_labels": CADENCE_LABELS, "presets": PRESETS, "review_years": REVIEW_YEARS}


@bp.app_template_global()
def charter_of(team):
    """Return the team's current charter version, or None (for the team page's card)."""
    return charters.current_version(team)


@bp.app_template_global()
def room_unpublished(room) -> dict[str, Any] | None:
    """Return what a room ratified but has not published to the charter (for its summary)."""
    return rooms.unpublished_changes(room)


@bp.app_template_filter("isodate")
def isodate(value: str | None) -> str:
    """Format an ISO date string such as a review date in the reader's language."""
    try:
        return format_date(date.fromisoformat(value or ""), "medium")
    except ValueError:
        return value or ""


# -- pages ------------------------------------------------------------------------------


@bp.get("/charter")
def show(key: str):
    """Show the current charter, or an invitation to write the first version."""
    team = team_or_404(key)
    return page(team, charters.current_version(team))


@bp.get("/charter/v/<int:number>")
def version(key: str, number: int):
    """Show one version of the charter, with a form to restore it."""
    team = team_or_404(key)
    return page(team, version_or_404(team, number))


@bp.get("/charter/history")
def history(key: str):
    """List every version, newest first, with what changed and where it came from."""
    team = team_or_404(key)
    return render_template("charter_history.html", team=team, versions=charters.history(team))


@bp.get("/charter/compare")
def compare(key: str):
    """Compare two versions: previous and current unless `from` and `to` say otherwise."""
    team = team_or_404(key)
    head = charters.current_version(team)
    if head is None:
        return render_template("charter_compare.html", team=team, head=None)
    new = version_or_404(team, request.args.get("to", head.number, type=int))
    old = version_or_404(team, request.args.get("from", max(1, new.number - 1), type=int))
    return render_template(
        "charter_compare.html",
        team=team,
        head=head,
        old=old,
        new=new,
        diff=compare_contents(charters.content_of(old), charters.content_of(new)),
        versions=charters.history(team),
    )


def unsaved_ids_cleared(content: CharterContent, *saved: CharterContent) -> CharterContent:
    """Return content whose items that no saved version has are new rows again (no id)."""
    agreements = {a.id for c in saved for a in c.agreements}
    anchors = {a.id for c in saved for a in c.anchors}
    return CharterContent(
        purpose=content.purpose,
        agreements=tuple(
            a if a.id in agreements else replace(a, id="") for a in content.agreements
        ),
        anchors=tuple(a if a.id in anchors else replace(a, id="") for a in content.anchors),
        leadership=content.leadership,
    )


def edit_page(team, form: CharterForm, head, status: int = 200, **extra: Any):
    """Render the edit form; with a conflict, both versions side by side above it."""
    if "conflict" in extra:
        extra["conflict_current"] = charters.content_of(extra["conflict"].current)
    return render_template("charter_edit.html", team=team, form=form, head=head, **extra), status


@bp.route("/charter/edit", methods=["GET", "POST"])
@limiter.limit(POST_LIMIT, methods=["POST"])
def edit(key: str):
    """Edit the charter; a save on top of a newer version shows both texts (409)."""
    team = team_or_404(key)
    head = charters.current_version(team)
    if request.method == "GET":
        base = head.number if head is not None else 0
        return edit_page(
            team,
            CharterForm.for_content(charters.content_of(head), base, remembered_author()),
            head,
        )
    form = CharterForm()
    if not form.validate():
        return edit_page(team, form, head, 400)
    session[AUTHOR] = form.author.data
    try:
        saved = charters.save_manual(team, form.base(), form.content(), form.author.data)
    except charters.CharterConflict as conflict:
        base = charters.content_of(charters.version(team, form.base()))
        theirs = charters.content_of(conflict.current)
        merged, changed = rebase(base, conflict.mine, theirs)
        form = CharterForm.for_content(
            unsaved_ids_cleared(merged, base, theirs), conflict.current.number, form.author.data
        )
        return edit_page(team, form, conflict.current, 409, conflict=conflict, changed=changed)
    except RitualError as error:
        return edit_page(team, form, head, refused_status(error), notice=error_text(error))
    return redirect(url_for("charter.show", key=key, saved=saved.number))


@bp.post("/charter/v/<int:number>/restore")
@limiter.limit(POST_LIMIT)
def restore(key: str, number: int):
    """Make an old version the current one again, as a new version."""
    team = team_or_404(key)
    old = version_or_404(team, number)
    form = RestoreForm()
    if not form.validate():
        return page(team, old, 400, restore_form=form)
    session[AUTHOR] = form.author.data
    try:
        saved = charters.restore(team, number, form.base(), form.author.data)
    except charters.CharterConflict as conflict:
        form.rebase(conflict.current.number)
        notice = RESTORE_CONFLICT % {"number": conflict.current.number}
        return page(team, old, 409, restore_form=form, notice=notice)
    except RitualError as error:
        return page(team, old, refused_status(error), restore_form=form, notice=error_text(error))
    return redirect(url_for("charter.show", key=key, saved=saved.number))


@bp.post("/charter/anchors/<anchor_id>/start")
@limiter.limit(POST_LIMIT)
def start_anchor(key: str, anchor_id: str):
    """Start a room now with a connection anchor's agenda; its starter facilitates."""
    team = team_or_404(key)
    head = charters.current_version(team)
    anchors = {anchor.id: anchor for anchor in charters.content_of(head).anchors}
    anchor = anchors.get(anchor_id) or abort(404)
    form = StartAnchorForm()
    if not form.validate():
        return page(team, head, 400, start_forms={anchor.id: form})
    session[AUTHOR] = form.facilitator_name.data
    # An anchor saved with an agenda that was since removed runs the plainest one.
    preset = PRESETS.get(anchor.agenda) or PRESETS["checkin"]
    try:
        room, _member, token = rooms.create_room(
            team, form.facilitator_name.data, preset.steps, title=anchor.name
        )
    except RitualError as error:
        form.facilitator_name.errors = [error_text(error)]
        return page(team, head, 400, start_forms={anchor.id: form})
    memberships.remember(room.code, token)
    return redirect(url_for("rooms.show", code=room.code))


# -- exports ----------------------------------------------------------------------------


def markdown_export(team, version) -> Response:
    """Return a version as a Markdown document, shown in the browser."""
    filename = export_name(team, version, "md")
    return Response(
        to_markdown(to_json(version, charters.open_deeds(team))),
        content_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def json_export(team, version) -> Response:
    """Return a version as JSON, keys in the documented order."""
    data = to_json(version, charters.open_deeds(team))
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n",
        content_type="application/json",
        headers={"Content-Disposition": f'inline; filename="{export_name(team, version, "json")}"'},
    )


@bp.get("/charter.md")
def current_markdown(key: str):
    """Return the current version as Markdown."""
    team = team_or_404(key)
    return markdown_export(team, charters.current_version(team) or abort(404))


@bp.get("/charter.json")
def current_json(key: str):
    """Return the current version as JSON."""
    team = team_or_404(key)
    return json_export(team, charters.current_version(team) or abort(404))


@bp.get("/charter/v/<int:number>.md")
def version_markdown(key: str, number: int):
    """Return one version as Markdown."""
    team = team_or_404(key)
    return markdown_export(team, version_or_404(team, number))


@bp.get("/charter/v/<int:number>.json")
def version_json(key: str, number: int):
    """Return one version as JSON."""
    team = team_or_404(key)
    return json_export(team, version_or_404(team, number))
