"""WTForms for every HTML form (CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from retro.client_text import SCALE_LABELS
from retro.prompts import PROMPTS, THEMES
from retro.rituals.checkin import PROMPT_LIMIT, SCALES
from retro.services.rooms import MAX_STEPS, NAME_LIMIT, TEAM_NAME_LIMIT, visible_text

CUSTOM = "custom"
AGENDA_ROWS = 6


class TeamForm(FlaskForm):
    """Create a team."""

    name = StringField(
        _("Team name"),
        filters=[visible_text],
        validators=[DataRequired(), Length(max=TEAM_NAME_LIMIT)],
    )
    submit = SubmitField(_("Create team"))


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes instead of a multi-select."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def choices(*pairs: tuple[str, object]) -> list[SelectChoice]:
    """Return (value, label) pairs as WTForms choices (plain tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[arg-type]


def prompt_choices() -> list[SelectChoice]:
    """Return the prompt library as choices, grouped by theme, then 'write your own'."""
    pairs: list[tuple[str, object]] = []
    for theme, label in THEMES.items():
        pairs += [(p.id, f"{label}: {p.text}") for p in PROMPTS if p.theme == theme]
    return choices(*pairs, (CUSTOM, _("Write my own prompt…")))


class StepForm(Form):
    """One row of the agenda: a kind of step and its settings."""

    kind = SelectField(
        _("Step"),
        choices=choices(
            ("", _("— none —")),
            ("checkin", _("Check-in round")),
            ("checkout", _("Check-out")),
        ),
        default="",
    )
    prompt_id = SelectField(_("Prompt"), choices=prompt_choices, default=PROMPTS[0].id)
    # No Optional() here: it would stop the chain before validate_custom_prompt runs.
    custom_prompt = TextAreaField(_("Your own prompt"), validators=[Length(max=PROMPT_LIMIT)])
    mode = RadioField(
        _("Mode"),
        choices=choices(
            ("round", _("Round: a talking stick in a random order")),
            ("simultaneous", _("Simultaneous: everyone writes, hidden until revealed")),
        ),
        default="round",
    )
    scales = MultiCheckboxField(
        _("Anonymous 1–5 scales"),
        choices=choices(*((scale, SCALE_LABELS[scale]) for scale in SCALES)),
        default=[],
    )

    def validate_custom_prompt(self, field: StringField) -> None:
        """Require a text when the facilitator chose to write their own prompt."""
        if (
            self.kind.data == "checkin"
            and self.prompt_id.data == CUSTOM
            and not (field.data or "").strip()
        ):
            raise ValidationError(str(_("Write your prompt, or pick one from the library.")))

    def spec(self) -> dict[str, object] | None:
        """Return this row as an agenda entry, or None when the row is unused."""
        if self.kind.data == "checkin":
            custom = self.prompt_id.data == CUSTOM
            return {
                "kind": "checkin",
                "prompt_id": None if custom else self.prompt_id.data,
                "prompt": (self.custom_prompt.data or "").strip() if custom else "",
                "mode": self.mode.data,
                "scales": list(self.scales.data or []),
            }
        if self.kind.data == "checkout":
            return {"kind": "checkout"}
        return None


class StartRoomForm(FlaskForm):
    """Start a room: who facilitates, an optional title and the agenda."""

    facilitator_name = StringField(
        _("Your name (you will facilitate)"),
        filters=[visible_text],
        validators=[DataRequired(), Length(max=NAME_LIMIT)],
    )
    title = StringField(_("Title (optional)"), validators=[Optional(), Length(max=120)])
    steps = FieldList(FormField(StepForm), min_entries=AGENDA_ROWS, max_entries=MAX_STEPS)
    submit = SubmitField(_("Start the room"))

    def agenda(self) -> list[dict[str, object]]:
        """Return the chosen steps in order, skipping unused rows."""
        return [spec for row in self.steps for spec in [row.form.spec()] if spec]

    def validate_steps(self, field: FieldList) -> None:
        """Require at least one step."""
        if not self.agenda():
            # A plain str: the template shows the list's own errors with `is string`.
            raise ValidationError(str(_("Add at least one step to the agenda.")))

    def with_default_agenda(self) -> StartRoomForm:
        """Pre-fill a check-in round followed by a check-out."""
        self.steps[0].form.kind.data = "checkin"
        self.steps[1].form.kind.data = "checkout"
        return self


class JoinForm(FlaskForm):
    """Join a room with a display name."""

    display_name = StringField(
        _("Your name"), filters=[visible_text], validators=[DataRequired(), Length(max=NAME_LIMIT)]
    )
    submit = SubmitField(_("Join the room"))
