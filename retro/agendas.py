"""Named room agendas: what a connection anchor runs when it is started."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _
from wtforms import SelectChoice


@dataclass(frozen=True)
class Preset:
    """A named agenda: the steps a room gets when it is started from it."""

    key: str
    label: Any
    steps: list[dict[str, Any]] = field(default_factory=list)


# How often a connection anchor recurs (the keys are retro.charter.content.CADENCES).
CADENCE_LABELS = {
    "weekly": _("Weekly"),
    "biweekly": _("Every two weeks"),
    "monthly": _("Monthly"),
    "quarterly": _("Quarterly"),
    "adhoc": _("When needed"),
}

CHECKIN = {"kind": "checkin", "prompt_id": "energy-weather", "mode": "round", "scales": []}
CHECKOUT = {"kind": "checkout"}
PURPOSE = {"kind": "purpose", "anonymous": False, "votes": 3}
AGREEMENTS = {"kind": "agreements", "anonymous": False}
PULSE_CHECKIN = {
    "kind": "checkin",
    "prompt_id": "energy-weather",
    "mode": "round",
    "scales": ["energy", "autonomy", "competence", "relatedness"],
}
DEEDS_REVIEW = {"kind": "deeds_review"}
RETRO = {"kind": "retro", "format": "ssc", "anonymous": False, "votes": 3}
CONNECTION_RETRO = {"kind": "retro", "format": "connection", "anonymous": False, "votes": 3}
AGREEMENTS_CHECK = {"kind": "agreements_check", "threshold": 3}

PRESETS: dict[str, Preset] = {
    preset.key: preset
    for preset in (
        Preset("checkin", _("Check-in and check-out"), [CHECKIN, CHECKOUT]),
        Preset("charter", _("Charter session"), [CHECKIN, PURPOSE, AGREEMENTS, CHECKOUT]),
        Preset("purpose", _("Purpose alignment"), [CHECKIN, PURPOSE, CHECKOUT]),
        Preset("agreements", _("Working agreements"), [CHECKIN, AGREEMENTS, CHECKOUT]),
        Preset(
            "retro",
            _("Retrospective"),
            [PULSE_CHECKIN, DEEDS_REVIEW, RETRO, CHECKOUT],
        ),
        Preset(
            "health",
            _("Team health check"),
            [PULSE_CHECKIN, DEEDS_REVIEW, AGREEMENTS_CHECK, CONNECTION_RETRO, AGREEMENTS, CHECKOUT],
        ),
    )
}


def preset_choices() -> list[SelectChoice]:
    """Return the presets as WTForms choices."""
    return [SelectChoice(p.key, p.label) for p in PRESETS.values()]  # type: ignore[arg-type]
