"""Exports of a charter version: a JSON document and a Markdown document built from it.

`to_json` is the one place that turns a stored version into plain data; `to_markdown`
writes that data as a headed document. Labels go through Flask-Babel (they read as
English outside a request); the JSON keys are stable and documented in docs/charter.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext
from markdown_it import MarkdownIt

from retro.agendas import CADENCE_LABELS, PRESETS
from retro.charter.content import CharterContent

# User headings sit below the document's own "##" sections, as on the charter page.
HEADING_SHIFT = 2


_md = MarkdownIt("commonmark", {"html": False})
# Container markers before an ATX heading's hashes: quotes, list bullets, indentation.
_ATX = re.compile(r"^((?:[ \t]*>)*[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*)(#{1,6})(?=[ \t]|$)")
_CONTAINER = re.compile(r"^((?:[ \t]*>)*[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*)")


def to_json(version: Any, deeds: Iterable[Any] = ()) -> dict[str, Any]:
    """Return a stored version as the documented export: team, version, charter, deeds."""
    room = getattr(version, "room", None)
    team = version.charter.team
    return {
        "team": {"name": team.name},
        "version": {
            "number": version.number,
            "author": version.author,
            "created_at": _iso(version.created_at),
            "source": version.source,
            "room": (
                {"title": room.title, "created_at": _iso(room.created_at)}
                if room is not None
                else None
            ),
            "restored_from": version.restored_from,
            "ratified_by": list(version.ratified_by or []),
            "summary": list(version.summary or []),
        },
        "charter": CharterContent.from_dict(version.content).to_dict(),
        "deeds": [_deed(deed) for deed in deeds],
    }


def _iso(moment: datetime | None) -> str | None:
    """Return a stored UTC time as ISO 8601 with its offset."""
    if moment is None:
        return None
    return moment.replace(microsecond=0).isoformat() + ("Z" if moment.tzinfo is None else "")


def _deed(deed: Any) -> Any:
    """Return a deed as plain data."""
    return deed.to_dict() if hasattr(deed, "to_dict") else deed


def to_markdown(version_dict: Mapping[str, Any]) -> str:
    """Return an exported version (`to_json`'s dict) as a Markdown document.

    User text is Markdown already and is written as it is, except that its headings are
    demoted below the document's own section headings.
    """
    meta = version_dict.get("version") or {}
    team = (version_dict.get("team") or {}).get("name", "")
    content = CharterContent.from_dict(version_dict.get("charter"))
    heading = gettext("Team charter: %(team)s", team=_one_line(team))
    lines = [f"# {heading}", ""]
    lines += _meta_lines(meta)

    lines += ["", f"## {gettext('Purpose')}", ""]
    lines.append(demote_headings(content.purpose) if content.purpose else _none(gettext("None")))

    lines += ["", f"## {gettext('Working agreements')}", ""]
    for number, agreement in enumerate(content.agreements, start=1):
        text = _inline_item(agreement.text)
        if agreement.review_date:
            review = gettext("review on %(date)s", date=agreement.review_date)
            text += f" _({review})_"
        lines.append(f"{number}. {text}")
    if not content.agreements:
        lines.append(_none(gettext("None")))

    lines += ["", f"## {gettext('Connection anchors')}", ""]
    for anchor in content.anchors:
        cadence = str(CADENCE_LABELS.get(anchor.cadence, anchor.cadence))
        preset = PRESETS.get(anchor.agenda)
        agenda = str(preset.label) if preset is not None else anchor.agenda
        label = gettext("agenda")
        lines.append(f"- **{_one_line(anchor.name)}**: {cadence}; {label}: {agenda}")
    if not content.anchors:
        lines.append(_none(gettext("None")))

    lines += ["", f"## {gettext('Deeds')}", ""]
    deeds = version_dict.get("deeds") or []
    for deed in deeds:
        if not isinstance(deed, Mapping):
            lines.append(f"- {_one_line(str(deed))}")
            continue
        details = [
            gettext("owner: %(name)s", name=_one_line(deed.get("owner") or gettext("everyone")))
        ]
        if deed.get("due"):
            details.append(gettext("due %(date)s", date=deed["due"]))
        lines.append(f"- {_one_line(deed.get('text', ''))} ({'; '.join(details)})")
    if not deeds:
        lines.append(_none(gettext("No open deeds. Deeds come from retrospectives.")))

    lines += ["", f"## {gettext('Leadership')}", ""]
    lines.append(
        demote_headings(content.leadership) if content.leadership else _none(gettext("None"))
    )
    return "\n".join(lines).rstrip() + "\n"


def _meta_lines(meta: Mapping[str, Any]) -> list[str]:
    """Return the version's number, author, time, source and ratifiers as list items."""
    source = meta.get("source")
    if source == "restore":
        origin = gettext("restored from version %(number)s", number=meta.get("restored_from"))
    elif source == "room":
        room = meta.get("room") or {}
        title = room.get("title") or gettext("a room")
        origin = gettext("room “%(title)s”", title=_one_line(title))
    else:
        origin = gettext("manual edit")
    lines = [
        f"- {gettext('Version')}: {meta.get('number')}",
        f"- {gettext('By')}: {_one_line(str(meta.get('author') or ''))}",
        f"- {gettext('Saved')}: {meta.get('created_at') or ''}",
        f"- {gettext('Source')}: {origin}",
    ]
    if meta.get("ratified_by"):
        names = ", ".join(_one_line(str(name)) for name in meta["ratified_by"])
        lines.append(f"- {gettext('Ratified by')}: {names}")
    for change in meta.get("summary") or []:
        if isinstance(change, Mapping) and change.get("kind") == "not_applied":
            lines.append(f"- {not_applied_sentence(change, _one_line)}")
    return lines


def not_applied_sentence(change: Mapping[str, Any], quote: Callable[[str], str]) -> str:
    """Return a "not_applied" summary entry as a sentence; `quote` prepares the user text.

    The entry is a change a room ratified that was not published because the charter
    changed there meanwhile (see `retro.charter.content.check_draft`).
    """
    text = quote(str(change.get("text") or ""))
    old = quote(str(change.get("old") or ""))
    removed = change.get("reason") == "removed"
    kind = change.get("change")
    if kind == "purpose":
        return gettext(
            "Not applied: the ratified purpose “%(text)s”, because the purpose was changed "
            "meanwhile.",
            text=text,
        )
    if kind == "retire":
        if removed:
            return gettext(
                "Not applied: retiring “%(text)s”, because that agreement was removed meanwhile.",
                text=text,
            )
        return gettext(
            "Not applied: retiring “%(text)s”, because that agreement was changed meanwhile.",
            text=text,
        )
    if not old:
        return gettext(
            "Not applied: amending an agreement to “%(text)s”, because it was removed meanwhile.",
            text=text,
        )
    if removed:
        return gettext(
            "Not applied: amending “%(old)s” to “%(text)s”, because that agreement was removed "
            "meanwhile.",
            old=old,
            text=text,
        )
    return gettext(
        "Not applied: amending “%(old)s” to “%(text)s”, because that agreement was changed "
        "meanwhile.",
        old=old,
        text=text,
    )


# Markers that would make an item's text a heading, quote, list, rule or code block.
_BLOCK_START = re.compile(
    r"^(#{1,6}(?=[ \t]|$)|>|[-*+](?=[ \t])|[-*_](?=(?:[ \t]*[-*_]){2,}[ \t]*$)|[`~](?=[`~]{2}))"
    r"|^(\d{1,9})(?=[.)][ \t])"
)


def _inline_item(text: str) -> str:
    """Return one-line Markdown that stays inline when it becomes a list item."""
    # A backslash escapes punctuation only: "12. x" becomes "12\. x".
    return _BLOCK_START.sub(
        lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\",
        _one_line(text),
        count=1,
    )


def _none(text: str) -> str:
    """Return a placeholder line for an empty section."""
    return f"_{text}_"


def _one_line(text: str) -> str:
    """Return text on one line, so a list item or heading stays one."""
    return " ".join(text.split())


def demote_headings(text: str, shift: int = HEADING_SHIFT) -> str:
    """Return Markdown with every heading `shift` levels lower (at most level 6).

    Headings are found by parsing, so a "#" in a code block is left alone; underlined
    (setext) headings become "#" headings, since underlining has only two levels.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    headings = [
        token
        for token in _md.parse("\n".join(lines))
        if token.type == "heading_open" and token.map is not None
    ]
    # From the last heading up, so removing an underline keeps earlier line numbers.
    for token in reversed(headings):
        assert token.map is not None  # noqa: S101 - filtered above
        start, end = token.map
        level = min(int(token.tag[1]) + shift, 6)
        if token.markup.startswith("#"):
            lines[start] = _ATX.sub(rf"\g<1>{'#' * level}", lines[start], count=1)
            continue
        # Setext: text lines start..end-2, then the underline at end-1.
        underline = lines[end - 1]
        prefix = underline[: len(underline) - len(underline.lstrip(" \t>"))]
        first = _CONTAINER.match(lines[start])
        lead = first.group(1) if first else ""
        words = [lines[start][len(lead) :].strip()]
        words += [line[len(prefix) :].strip() for line in lines[start + 1 : end - 1]]
        lines[start:end] = [f"{lead}{'#' * level} {' '.join(words)}"]
    return "\n".join(lines)
