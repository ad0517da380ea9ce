"""The Markdown export of a room's summary."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import format_datetime, gettext, ngettext

from retro.charter.export import not_applied_sentence
from retro.client_text import COLUMN_LABELS, FLAG_LABELS, FORMAT_LABELS, SCALE_LABELS
from retro.prompts import prompt_text
from retro.services import rooms
from retro.trends import average_text
from retro.views.charter import isodate

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
    if step["kind"] == "retro":
        return [f"## {number}. {gettext('Retrospective')}", "", *_retro_lines(step, names)]
    if step["kind"] == "deeds_review":
        return [f"## {number}. {gettext('Deeds review')}", "", *_deeds_review_lines(step)]
    if step["kind"] == "agreements_check":
        heading = gettext("Agreements check")
        return [f"## {number}. {heading}", "", *_agreements_check_lines(step)]
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


def _deed_details(owner: str | None, due: str | None, agreement: str | None) -> str:
    """Return " · owner · due date · agreement" of a deed, its user text escaped.

    `owner` is a display name, or None for everyone.
    """
    who = md_escape(owner) if owner is not None else gettext("Everyone")
    parts = [gettext("Owner: %(name)s", name=who)]
    if due:
        parts.append(gettext("Due %(date)s", date=md_escape(due)))
    if agreement:
        parts.append(gettext("Agreement: “%(text)s”", text=md_escape(agreement)))
    return "".join(f" · {part}" for part in parts)


def _retro_lines(step: dict[str, Any], names: dict[int, str]) -> list[str]:
    """Return the Markdown lines of a retrospective: columns, topics with cards, deeds."""
    if not step.get("started"):
        return [gettext("This step was not reached."), ""]
    titles = {
        column["key"]: md_escape(column.get("title") or "")
        or str(COLUMN_LABELS.get(column["key"], column["key"]))
        for column in step.get("columns", [])
    }
    fmt = step.get("format", "")
    header = gettext("Format: %(format)s", format=str(FORMAT_LABELS.get(fmt, fmt)))
    if step.get("anonymous"):
        header += " · " + gettext("Anonymous")
    columns = gettext("Columns: %(columns)s", columns=" · ".join(titles.values()))
    lines = [header + "  ", columns, ""]
    if step.get("phase") == "write":
        lines += _unrevealed_lines(step, titles)
    elif not step.get("groups"):
        lines += [gettext("No cards."), ""]
    else:
        lines += _topic_lines(step, titles, names)
    if step.get("deeds") or step.get("phase") in ("discuss", "deeds"):
        lines += _retro_deed_lines(step, names)
    return lines


def _unrevealed_lines(step: dict[str, Any], titles: dict[str, str]) -> list[str]:
    """Return how many cards each column got, for a retrospective ended before the reveal."""
    written = step.get("written", {})
    if not sum(written.values()):
        return [gettext("No cards."), ""]
    lines = [gettext("Cards were not revealed."), ""]
    for key, title in titles.items():
        count = written.get(key, 0)
        lines.append(f"- {title}: " + ngettext("%(num)s card", "%(num)s cards", count))
    return [*lines, ""]


def _topic_lines(step: dict[str, Any], titles: dict[str, str], names: dict[int, str]) -> list[str]:
    """Return the groups of revealed cards: ranked topics once voting closed, then the rest."""
    cards = {card["id"]: card for card in step.get("cards", [])}
    groups = {group["id"]: group for group in step.get("groups", [])}
    topics = step.get("topics", [])
    votes = {topic["group"]: topic["votes"] for topic in topics}
    ordered = [groups[t["group"]] for t in topics if t["group"] in groups]
    ordered += [group for group in groups.values() if group["id"] not in votes]
    # The topic highlighted when the step ended was discussed too.
    discussed = set(step.get("discussed", [])) | {step.get("current_topic")}
    show_votes = bool(topics) and bool(step.get("voters"))
    lines = [f"**{gettext('Topics') if topics else gettext('Cards')}**", ""]
    if step.get("phase") == "vote":
        lines += [gettext("Voting was not closed, so no votes are shown."), ""]
    elif topics and not step.get("voters"):
        lines += [gettext("No votes were cast."), ""]
    anonymous = bool(step.get("anonymous"))
    for group in ordered:
        title = md_escape(group.get("title") or "") or "–"
        marks = ""
        if show_votes and group["id"] in votes:
            marks += " · " + ngettext("%(num)s vote", "%(num)s votes", votes[group["id"]])
        if group["id"] in discussed:
            marks += " · " + gettext("discussed")
        lines.append(f"- **{title}**{marks}")
        for card_id in group["cards"]:
            card = cards.get(card_id)
            if card is None:
                continue
            column = titles.get(card["column"], md_escape(card["column"]))
            author = "" if anonymous else _who(card.get("author"), names)
            lines.append(f"  - {column}: {md_escape(card['text'])}{author}")
    return [*lines, ""]


def _retro_deed_lines(step: dict[str, Any], names: dict[int, str]) -> list[str]:
    """Return the deeds a retrospective agreed on, with owner, due date and agreement."""
    agreements = {a["id"]: a["text"] for a in step.get("agreements", [])}
    lines = [f"**{gettext('Deeds')}**", ""]
    for deed in step.get("deeds", []):
        owner = deed.get("owner")
        name = None if owner is None else names.get(int(owner), "?")
        details = _deed_details(name, deed.get("due"), agreements.get(deed.get("agreement")))
        lines.append(f"- {md_escape(deed['text'])}{details}")
    if not step.get("deeds"):
        lines.append(gettext("No deeds."))
    return [*lines, ""]


def _deeds_review_lines(step: dict[str, Any]) -> list[str]:
    """Return the Markdown lines of a deeds review: each deed with what the room decided."""
    if not step.get("started"):
        return [gettext("This step was not reached."), ""]
    deeds = step.get("deeds", [])
    if not deeds:
        return [gettext("There were no open deeds to review."), ""]
    decisions = {
        "done": gettext("done"),
        "carry": gettext("carried over"),
        "drop": gettext("dropped"),
    }
    lines = [
        ngettext(
            "%(decided)s of %(num)s deed decided.",
            "%(decided)s of %(num)s deeds decided.",
            len(deeds),
            decided=step.get("decided", 0),
        ),
        "",
    ]
    for deed in deeds:
        decision = decisions.get(deed.get("decision") or "", gettext("not decided"))
        decision = f"**{decision}**"
        if deed.get("decision") == "drop" and deed.get("reason"):
            decision += " · " + gettext("Reason: %(reason)s", reason=md_escape(deed["reason"]))
        details = _deed_details(deed.get("owner"), deed.get("due"), deed.get("agreement_text"))
        if deed.get("room"):
            details += " · " + gettext("From “%(room)s”", room=md_escape(deed["room"]))
        elif deed.get("room_date"):
            details += " · " + gettext("From the room on %(date)s", date=isodate(deed["room_date"]))
        if deed.get("carried"):
            details += " · " + ngettext(
                "carried over %(num)s time before",
                "carried over %(num)s times before",
                deed["carried"],
            )
        lines.append(f"- {md_escape(deed['text'])} · {decision}{details}")
    return [*lines, ""]


def _cell(text: str) -> str:
    """Escape user text for one table cell, which cannot hold a line break."""
    return md_escape(" ".join(text.split()))


def _flag_labels(flags: list[str]) -> list[str]:
    """Return the labels of an agreement's flags."""
    labels = {key: str(label) for key, label in FLAG_LABELS.items()}
    return [labels.get(flag, md_escape(flag)) for flag in flags]


def _agreements_check_lines(step: dict[str, Any]) -> list[str]:
    """Return the Markdown lines of an agreements check: answers, results when public, flags."""
    if not step.get("started"):
        return [gettext("This step was not reached."), ""]
    agreements = step.get("agreements", [])
    if not agreements:
        return [gettext("The charter had no agreements yet."), ""]
    threshold = gettext(
        "An average below %(threshold)s out of 5 flags an agreement.",
        threshold=step.get("threshold"),
    )
    answered = step.get("answered", 0)
    count = ngettext("%(num)s person answered.", "%(num)s people answered.", answered)
    lines = [f"{threshold} {count}", ""]
    # Only the public results: they exist once revealed with enough answers.
    results = step.get("results") or {}
    if results.get("ready"):
        lines.append(
            ngettext(
                "How well we keep our agreements (%(num)s answer):",
                "How well we keep our agreements (%(num)s answers):",
                results["count"],
            )
        )
        lines += ["", "| " + gettext("Agreement") + " | 1 | 2 | 3 | 4 | 5 | "]
        lines[-1] += gettext("Average") + " | " + gettext("Flags") + " |"
        lines.append("|---|---|---|---|---|---|---|---|")
        for agreement in agreements:
            data = results.get("scales", {}).get(agreement["id"])
            dist = ["–"] * 5 if data is None else [str(n) for n in data["distribution"]]
            average = (
                "–" if data is None or data["average"] is None else average_text(data["average"])
            )
            flags = ", ".join(_flag_labels(agreement.get("flags", []))) or "–"
            cells = [_cell(agreement["text"]), *dist, average, flags]
            lines.append("| " + " | ".join(cells) + " |")
        return [*lines, ""]
    for agreement in agreements:
        flags = "".join(f" · **{label}**" for label in _flag_labels(agreement.get("flags", [])))
        lines.append(f"- {md_escape(agreement['text'])}{flags}")
    if not results.get("revealed"):
        hidden = gettext("The results were not revealed.")
    else:
        hidden = gettext("Fewer than 3 people answered, so no results are shown.")
    return [*lines, "", hidden, ""]
