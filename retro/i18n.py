"""Languages: English and Dutch, chosen by a cookie set from the switch, else the browser."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale, get_timezone

from retro.client_text import COLUMN_LABELS, FLAG_LABELS, FORMAT_LABELS
from retro.extensions import babel

LANG_COOKIE = "retro_lang"


def select_locale() -> str:
    """Return the locale for this request: the user's choice, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def current_locale() -> str:
    """Return the language code in force, e.g. 'en' or 'nl'."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def today_iso() -> str:
    """Return today's date ("YYYY-MM-DD") where the team is (BABEL_DEFAULT_TIMEZONE).

    One "today" for every page and step: what is overdue or due for review.
    """
    return datetime.now(get_timezone()).date().isoformat()


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with our locale selector and expose the locale to templates."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["current_locale"] = current_locale
    app.jinja_env.globals["today_iso"] = today_iso
    # One name for each retrospective format, column and agreement flag (see client_text).
    app.jinja_env.globals["retro_labels"] = {
        "formats": FORMAT_LABELS,
        "columns": COLUMN_LABELS,
        "flags": FLAG_LABELS,
    }
    app.jinja_env.add_extension("jinja2.ext.i18n")
