"""The built-in library of check-in prompts, in English with Dutch translations."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _

from retro.client_text import SCALE_LABELS


@dataclass(frozen=True)
class Prompt:
    """A check-in prompt with a stable id and the need it speaks to."""

    id: str
    theme: str
    text: LazyString


THEMES = {
    **{scale: SCALE_LABELS[scale] for scale in ("energy", "autonomy", "competence", "relatedness")},
    "safety": _("Safety"),
    "purpose": _("Meaning"),
    "light": _("Light"),
}

PROMPTS: tuple[Prompt, ...] = (
    Prompt(
        "energy-weather", "energy", _("If your energy today were the weather, what would it be?")
    ),
    Prompt(
        "energy-battery", "energy", _("How full is your battery, and what charged or drained it?")
    ),
    Prompt("energy-arrive", "energy", _("What do you need to leave behind to really arrive here?")),
    Prompt("energy-week", "energy", _("What gave you energy this week?")),
    Prompt("energy-drain", "energy", _("What cost you energy this week?")),
    Prompt(
        "autonomy-choice",
        "autonomy",
        _("Where did you feel free to choose your own way this week?"),
    ),
    Prompt(
        "autonomy-say", "autonomy", _("What would you like to have more say in about how we work?")
    ),
    Prompt(
        "autonomy-decide",
        "autonomy",
        _("Which decision did you make on your own lately, and how did it feel?"),
    ),
    Prompt(
        "autonomy-constraint",
        "autonomy",
        _("What rule or habit holds you back from doing your best work?"),
    ),
    Prompt(
        "autonomy-time",
        "autonomy",
        _("If you had a free afternoon for work, what would you spend it on?"),
    ),
    Prompt("competence-proud", "competence", _("What have you been proud of since we last met?")),
    Prompt(
        "competence-learned", "competence", _("What did you learn recently, at work or elsewhere?")
    ),
    Prompt(
        "competence-stretch",
        "competence",
        _("Where do you feel stretched right now, in a good or a bad way?"),
    ),
    Prompt("competence-help", "competence", _("What could you use help with from this team?")),
    Prompt(
        "competence-strength",
        "competence",
        _("Which of your strengths does the team not see enough?"),
    ),
    Prompt(
        "relatedness-thanks",
        "relatedness",
        _("Who in this team would you like to thank, and for what?"),
    ),
    Prompt(
        "relatedness-know",
        "relatedness",
        _("What is something about you that most of us do not know?"),
    ),
    Prompt(
        "relatedness-connected",
        "relatedness",
        _("When did you last feel really connected to this team?"),
    ),
    Prompt(
        "relatedness-miss",
        "relatedness",
        _("What do you miss about working together in one place?"),
    ),
    Prompt("relatedness-support", "relatedness", _("How can we support you this week?")),
    Prompt(
        "safety-honest",
        "safety",
        _("What is one thing you would say here if you knew nobody would judge it?"),
    ),
    Prompt("safety-mistake", "safety", _("What mistake taught you something recently?")),
    Prompt(
        "safety-worry", "safety", _("What is on your mind that might get in the way of being here?")
    ),
    Prompt("purpose-why", "purpose", _("Why does the work of this team matter to you?")),
    Prompt("purpose-impact", "purpose", _("Whose day did our work make better lately?")),
    Prompt("purpose-hope", "purpose", _("What do you hope we will have achieved in three months?")),
    Prompt("light-word", "light", _("Describe your week in one word.")),
    Prompt("light-song", "light", _("Which song fits your mood today?")),
    Prompt("light-highlow", "light", _("What has been your high and your low since we last met?")),
    Prompt("light-small", "light", _("What small thing made you smile lately?")),
    Prompt("light-superpower", "light", _("Which superpower would help you most this week?")),
    Prompt("light-snack", "light", _("What would you bring to share if we met in person today?")),
)

BY_ID = {p.id: p for p in PROMPTS}


def prompt_text(prompt_id: str | None, custom: str = "") -> str:
    """Return the prompt in the current language, or the custom text."""
    if prompt_id and prompt_id in BY_ID:
        return str(BY_ID[prompt_id].text)
    return custom
