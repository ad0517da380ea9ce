"""Error pages: HTML for people, JSON under /api/ for programs."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import lazy_gettext as _
from werkzeug.exceptions import HTTPException

bp = Blueprint("errors", __name__)

TEXTS = {
    400: _("Something in that request was not right. Please go back and try again."),
    404: _("This page does not exist. Check the link, or ask whoever sent it."),
    405: _("This page cannot be used that way."),
    413: _("That was too much at once. Please send something shorter."),
    429: _("Slow down a little, please: too many requests. Try again in a minute."),
    500: _("Something went wrong on our side. Please try again in a moment."),
}
GENERIC = _("Something went wrong. Please go back and try again.")


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Show a friendly page (or JSON for the API) for any HTTP error."""
    code = error.code or 500
    message = str(TEXTS.get(code, GENERIC))
    if request.path.startswith("/api/"):
        return jsonify(
            error={"code": (error.name or "error").lower().replace(" ", "_"), "message": message}
        ), code
    return render_template("error.html", code=code, message=message), code
