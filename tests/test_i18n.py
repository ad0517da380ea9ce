"""Every user-visible string is translatable, and Dutch is complete."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from retro.client_text import client_catalog

ROOT = Path(__file__).resolve().parent.parent
DUTCH = ROOT / "retro" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"


def source_messages() -> set[str]:
    """Return every msgid that pybabel extracts from the code and the templates."""
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
    found = extract_from_dir(
        str(ROOT),
        method_map=[("retro/**.py", "python"), ("templates/**.html", "jinja2")],
        keywords=keywords,
    )
    return {message if isinstance(message, str) else message[0] for *_, message, _c, _x in found}


def dutch_catalog():
    """Return the Dutch catalogue as Babel reads it."""
    with DUTCH.open("rb") as handle:
        return read_po(handle)


def test_every_translatable_string_has_a_dutch_translation():
    catalog = dutch_catalog()
    missing = sorted(
        msgid
        for msgid in source_messages()
        if msgid not in catalog or not catalog[msgid].string or catalog[msgid].fuzzy
    )
    assert missing == []


def test_dutch_translations_keep_every_placeholder():
    placeholder = re.compile(r"%\((\w+)\)s")

    def names(text) -> set[str]:
        texts = text if isinstance(text, tuple | list) else (text,)
        return {name for t in texts if t for name in placeholder.findall(t)}

    wrong = [
        message.id
        for message in dutch_catalog()
        if message.id and names(message.id) != names(message.string)
    ]
    assert wrong == []


def test_the_room_script_gets_its_texts_in_dutch(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("nl"):
        catalog = client_catalog()
    assert catalog["start"] != "Start the room"
    assert catalog["scale_energy"] == "Energie"


def test_a_dutch_browser_gets_dutch_pages(client):
    page = client.get("/", headers={"Accept-Language": "nl-BE,nl;q=0.9"}).get_data(as_text=True)
    assert 'lang="nl"' in page
    assert "Maak een team" in page
