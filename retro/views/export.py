"""The Markdown export of a room's summary."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import format_datetime, gettext, ngettext

from retro.charter.export import not_applied_sentence
from retro.client_text import SCALE_LABELS
from retro.prompts import prompt_text
from retro.services import rooms

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
    versions = summary.get("published", [])
    published = [str(v.number) for v in versions]
    if published:
        lines += [
            ngettext(
                "This room published version %(versions)s of the team charter.",
                "This room published versions %(versions)s of the team charter.",
                len(published),
                versions=", ".join(published),
            ),
            "",
        ]
    skipped = [
        change
        for version in versions
        for change in version.summary or []
        if change.get("kind") == "not_applied"
    ]
    if skipped:
        lines += [f"- {not_applied_sentence(change, md_escape)}" for change in skipped] + [""]
    lines += _unpublished_lines(rooms.unpublished_changes(room))
    for number, step in enumerate(summary["steps"], start=1):
        lines += _step_lines(number, step, names)
    return "\n".join(lines).rstrip() + "\n"


def _unpublished_lines(unpublished: dict[str, Any] | None) -> list[str]:
    """Return the lines listing what the room ratified but did not publish to the charter."""
    if not unpublished:
        return []
    lines = [
        f"**{gettext('Ratified but not published')}**",
        "",
        gettext(
            "The room ratified these changes, but they are not in the team charter. "
            "The facilitator can still publish them from the room."
        ),
        "",
    ]
    if unpublished["purpose"] is not None:
        text = md_escape(unpublished["purpose"])
        lines.append("- " + gettext("New purpose: %(text)s", text=text))
    for op in unpublished["ops"]:
        text = md_escape(op.get("text") or "")
        base = op.get("base") or {}
        old = md_escape(base.get("text") or op.get("text") or "?")
        if op.get("op") == "add":
            lines.append("- " + gettext("New agreement: %(text)s", text=text))
        elif op.get("op") == "amend":
            lines.append("- " + gettext("Amend “%(old)s” to: %(text)s", old=old, text=text))
        else:
            lines.append("- " + gettext("Retire “%(old)s”", old=old))
    return [*lines, ""]


def _step_lines(number: int, step: dict[str, Any], names: dict[int, str]) -> list[str]:
    """Return the Markdown lines of one step."""
    if step["kind"] == "purpose":
        return [f"## {number}. {gettext('Purpose alignment')}", "", *_purpose_lines(step, names)]
    if step["kind"] == "agreements":
        heading = gettext("Working-agreement drafting")
        return [f"## {number}. {heading}", "", *_agreement_lines(step, names)]
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
        lines.append(
            ngettext(
                "Anonymous scales (%(num)s answer):",
                "Anonymous scales (%(num)s answers):",
                results["count"],
            )
        )
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


def _who(member_id: Any, names: dict[int, str]) -> str:
    """Return ' (name)' for a named author, or nothing in an anonymous step."""
    return "" if member_id is None else f" ({md_escape(names.get(int(member_id), '?'))})"


def _purpose_lines(step: dict[str, Any], names: dict[int, str]) -> list[str]:
    """Return the Markdown lines of a purpose alignment: cards, votes, statement, consent."""
    if not step.get("started"):
        return [gettext("This step was not reached."), ""]
    lines: list[str] = []
    cards = {card["id"]: card for card in step.get("cards", [])}
    votes = {r["group"]: r["votes"] for r in step.get("results", [])}
    if not cards:
        written = step.get("written", {})
        seen = written.get("exists") or written.get("bring")
        lines += [gettext("Cards were not revealed.") if seen else gettext("No cards."), ""]
    for group in step.get("groups", []):
        title = md_escape(group.get("title") or "") or "–"
        count = votes.get(group["id"])
        tally = "" if count is None else " · " + ngettext("%(num)s vote", "%(num)s votes", count)
        lines.append(f"- **{title}**{tally}")
        for card_id in group["cards"]:
            card = cards[card_id]
            column = gettext("Exists for") if card["column"] == "exists" else gettext("I bring")
            author = _who(card.get("author"), names)
            lines.append(f"  - {column}: {md_escape(card['text'])}{author}")
    if cards:
        lines.append("")
    if step.get("ratified"):
        lines += [f"**{gettext('Ratified purpose')}**", ""]
        lines += [f"> {md_escape(step['ratified'], True)}", ""]
    elif step.get("statement"):
        lines += [f"**{gettext('Draft statement (not ratified)')}**", ""]
        lines += [f"> {md_escape(step['statement'], True)}", ""]
    return lines + _round_lines(step.get("rounds", []), names)


def _agreement_lines(step: dict[str, Any], names: dict[int, str]) -> list[str]:
    """Return the Markdown lines of an agreement drafting: decisions and proposals."""
    if not step.get("started"):
        return [gettext("This step was not reached."), ""]
    decisions = {
        "open": gettext("not decided"),
        "kept": gettext("kept"),
        "amended": gettext("amended"),
        "retired": gettext("retired"),
    }
    statuses = {
        "open": gettext("open"),
        "voting": gettext("being voted on"),
        "accepted": gettext("accepted"),
        "objected": gettext("objected"),
        "withdrawn": gettext("withdrawn"),
        "superseded": gettext("superseded"),
    }
    texts = {a["id"]: a["text"] for a in step.get("agreements", [])}
    lines = [f"**{gettext('Agreements reviewed')}**", ""]
    for agreement in step.get("agreements", []):
        decision = decisions.get(agreement["decision"], agreement["decision"])
        lines.append(f"- {md_escape(agreement['text'])} · {decision}")
    if not step.get("agreements"):
        lines.append(gettext("The charter had no agreements yet."))
    lines += ["", f"**{gettext('Proposals')}**", ""]
    for proposal in step.get("proposals", []):
        old = md_escape(texts.get(proposal.get("target"), "?"))
        text = md_escape(proposal.get("text") or "")
        if proposal["kind"] == "add":
            what = gettext("New agreement: %(text)s", text=text)
        elif proposal["kind"] == "amend":
            what = gettext("Amend “%(old)s” to: %(text)s", old=old, text=text)
        else:
            what = gettext("Retire “%(old)s”", old=old)
        status = statuses.get(proposal["status"], proposal["status"])
        lines.append(f"- {what} · {status}{_who(proposal.get('author'), names)}")
    if not step.get("proposals"):
        lines.append(gettext("No proposals."))
    lines.append("")
    return lines


def _round_lines(rounds: list[dict[str, Any]], names: dict[int, str]) -> list[str]:
    """Return the Markdown lines of closed consent rounds."""
    if not rounds:
        return []
    lines = [f"**{gettext('Consent votes')}**", ""]
    for number, round_ in enumerate(rounds, start=1):
        outcome = gettext("Passed") if round_["passed"] else gettext("Not passed")
        detail = ngettext(
            "%(num)s vote, threshold %(threshold)s, scores 0–5: %(histogram)s",
            "%(num)s votes, threshold %(threshold)s, scores 0–5: %(histogram)s",
            round_["count"],
            threshold=round_["threshold"],
            histogram=" · ".join(str(n) for n in round_["histogram"]),
        )
        lines.append(f"{number}. {outcome}: {detail}")
        for objection in round_.get("objections", []):
            reason = md_escape(objection["reason"])
            who = _who(objection.get("member"), names)
            lines.append(f"   - {objection['score']}: {reason}{who}")
    lines.append("")
    return lines
