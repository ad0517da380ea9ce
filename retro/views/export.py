"""The Markdown export of a room's summary."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import format_datetime, gettext

from retro.client_text import SCALE_LABELS
from retro.prompts import prompt_text

# Inline syntax anywhere, block syntax only where a line starts.
INLINE = re.compile(r"([\\`*_{}\[\]<>|~!])")
BLOCK_MARK = re.compile(r"^(\s*)([#>+-])", re.MULTILINE)
ORDERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)


def md_escape(text: str, quote: bool = False) -> str:
    """Escape Markdown in user text so that it renders as typed (and never as HTML).

    Each line break becomes a hard break; with `quote`, every line stays in the quote.
    """
    text = INLINE.sub(r"\\\1", text.replace("\r", "").replace("&", "&amp;"))
    text = BLOCK_MARK.sub(r"\1\\\2", text)
    text = ORDERED.sub(r"\1\\\2", text)
    return text.replace("\n", "  \n> " if quote else "  \n")


def summary_markdown(summary: dict[str, Any]) -> str:
    """Render a room summary (see `rooms.summary`) as Markdown."""
    room, names = summary["room"], summary["names"]
    title = room.title or gettext("Room of %(team)s", team=room.team.name)
    lines = [f"# {md_escape(title)}", ""]
    lines.append(gettext("Team: %(team)s", team=md_escape(room.team.name)))
    if room.started_at:
        lines.append("  \n" + gettext("Started: %(when)s", when=format_datetime(room.started_at)))
    if room.ended_at:
        lines.append("  \n" + gettext("Ended: %(when)s", when=format_datetime(room.ended_at)))
    people = ", ".join(md_escape(n) for n in names.values())
    lines += ["  \n" + gettext("Present: %(names)s", names=people), ""]
    for number, step in enumerate(summary["steps"], start=1):
        lines += _step_lines(number, step, names)
    return "\n".join(lines).rstrip() + "\n"


def _step_lines(number: int, step: dict[str, Any], names: dict[int, str]) -> list[str]:
    """Return the Markdown lines of one step."""
    if step["kind"] == "checkin":
        heading = gettext("Check-in round")
        question = prompt_text(step.get("prompt_id"), step.get("prompt", ""))
        lines = [f"## {number}. {heading}", "", f"> {md_escape(question, quote=True)}", ""]
    else:
        lines = [f"## {number}. {gettext('Check-out')}", ""]
    answers = step.get("answers") or {}
    if answers:
        for member_id, text in answers.items():
            name = names.get(int(member_id), "?")
            lines.append(f"- **{md_escape(name)}**: {md_escape(text)}")
        lines.append("")
    elif step.get("answered") and not step.get("revealed"):
        lines += [gettext("Answers were not revealed."), ""]
    elif not step.get("started"):
        lines += [gettext("This step was not reached."), ""]
    results = step.get("scale_results") if step.get("started") else None
    if results and results.get("ready"):
        lines.append(gettext("Anonymous scales (%(count)s answers):", count=results["count"]))
        lines.append("")
        lines.append(
            "| " + gettext("Scale") + " | 1 | 2 | 3 | 4 | 5 | " + gettext("Average") + " |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        for scale, data in results["scales"].items():
            dist = " | ".join(str(n) for n in data["distribution"])
            lines.append(f"| {SCALE_LABELS[scale]} | {dist} | {data['average']} |")
        lines.append("")
    elif results is not None and not results.get("revealed"):
        lines += [gettext("The scale results were not revealed."), ""]
    elif results is not None:
        lines += [gettext("Fewer than 3 people answered the scales, so no results are shown."), ""]
    return lines
