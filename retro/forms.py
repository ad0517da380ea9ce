"""WTForms for every HTML form (CSRF through Flask-WTF)."""

from __future__ import annotations

import copy
from datetime import date

from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from retro.agendas import CADENCE_LABELS, PRESETS, preset_choices
from retro.charter.content import (
    AGREEMENT_LIMIT,
    ANCHOR_NAME_LIMIT,
    CADENCES,
    LEADERSHIP_LIMIT,
    MAX_AGREEMENTS,
    MAX_ANCHORS,
    PURPOSE_LIMIT,
    REVIEW_YEARS,
    Agreement,
    Anchor,
    CharterContent,
    new_item_id,
    one_line,
)
from retro.client_text import SCALE_LABELS
from retro.prompts import PROMPTS, THEMES
from retro.rituals.base import visible_text
from retro.rituals.checkin import PROMPT_LIMIT, SCALES
from retro.rituals.purpose import MAX_VOTES, MIN_VOTES
from retro.rituals.retrospective import COLUMN_TITLE_LIMIT, MAX_COLUMNS, MIN_COLUMNS
from retro.rituals.review import THRESHOLD_MAX, THRESHOLD_MIN
from retro.services.rooms import MAX_STEPS, NAME_LIMIT, TEAM_NAME_LIMIT

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


# The kinds of step an agenda row may hold, in the order the form offers them.
STEP_LABELS = {
    "checkin": _("Check-in round"),
    "purpose": _("Purpose alignment"),
    "agreements": _("Working-agreement drafting"),
    "retro": _("Retrospective"),
    "deeds_review": _("Deeds review"),
    "agreements_check": _("Agreements check"),
    "checkout": _("Check-out"),
}


class StepForm(Form):
    """One row of the agenda: a kind of step and its settings."""

    kind = SelectField(
        _("Step"),
        choices=choices(("", _("— none —")), *STEP_LABELS.items()),
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

    anonymous = BooleanField(
        _("Anonymous: cards, proposals and objections are shown without names"), default=False
    )
    votes = IntegerField(_("Votes per person"), default=3, validators=[Optional()])
    format = SelectField(
        _("Format"),
        choices=choices(
            ("ssc", _("Start, stop, continue")),
            ("msg", _("Mad, sad, glad")),
            ("4ls", _("4Ls: liked, learned, lacked, longed for")),
            ("connection", _("Connection: purpose, agreements, anchors, deeds, leadership")),
            (CUSTOM, _("My own columns…")),
        ),
        default="ssc",
    )
    columns = TextAreaField(_("Your columns, one per line (2 to 6)"))
    threshold = IntegerField(
        _("Flag agreements kept below (average, 1–5)"), default=3, validators=[Optional()]
    )

    def validate_threshold(self, field: IntegerField) -> None:
        """Check the flagging threshold, on agreements-check rows only."""
        if self.kind.data == "agreements_check" and field.data is not None:
            NumberRange(min=THRESHOLD_MIN, max=THRESHOLD_MAX)(self, field)

    def validate_columns(self, field: TextAreaField) -> None:
        """Require 2 to 6 short one-line column titles for a retrospective of one's own."""
        if self.kind.data != "retro" or self.format.data != CUSTOM:
            return
        titles = self.column_titles()
        low, high = MIN_COLUMNS, MAX_COLUMNS
        if not low <= len(titles) <= high:
            raise ValidationError(
                str(_("Write %(low)s to %(high)s columns, one per line.", low=low, high=high))
            )
        if len(set(titles)) != len(titles):
            raise ValidationError(str(_("Give every column a title of its own.")))
        if any(len(title) > COLUMN_TITLE_LIMIT for title in titles):
            raise ValidationError(
                str(_("A column title has at most %(limit)s characters.", limit=COLUMN_TITLE_LIMIT))
            )

    def column_titles(self) -> list[str]:
        """Return the custom column titles, one per non-blank line."""
        lines = (self.columns.data or "").splitlines()
        return [title for title in map(visible_text, lines) if title]

    def validate_votes(self, field: IntegerField) -> None:
        """Check the votes per person, on purpose-alignment rows only."""
        if self.kind.data in ("purpose", "retro") and field.data is not None:
            NumberRange(min=MIN_VOTES, max=MAX_VOTES)(self, field)

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
        if self.kind.data == "purpose":
            return {
                "kind": "purpose",
                "anonymous": bool(self.anonymous.data),
                "votes": self.votes.data or 3,
            }
        if self.kind.data == "agreements":
            return {"kind": "agreements", "anonymous": bool(self.anonymous.data)}
        if self.kind.data == "retro":
            custom = self.format.data == CUSTOM
            spec: dict[str, object] = {
                "kind": "retro",
                "format": self.format.data,
                "anonymous": bool(self.anonymous.data),
                "votes": self.votes.data or 3,
            }
            if custom:
                spec["columns"] = self.column_titles()
            return spec
        if self.kind.data == "deeds_review":
            return {"kind": "deeds_review"}
        if self.kind.data == "agreements_check":
            return {"kind": "agreements_check", "threshold": self.threshold.data or 3}
        return None


class StartRoomForm(FlaskForm):
    """Start a room: who facilitates, an optional title and the agenda."""

    facilitator_name = StringField(
        _("Your name (you will facilitate)"),
        filters=[visible_text],
        validators=[DataRequired(), Length(max=NAME_LIMIT)],
    )
    title = StringField(_("Title (optional)"), validators=[Optional(), Length(max=120)])
    preset = SelectField(
        _("Start from"),
        choices=lambda: [SelectChoice("", _("My own agenda, below")), *preset_choices()],
        default="",
    )
    steps = FieldList(FormField(StepForm), min_entries=AGENDA_ROWS, max_entries=MAX_STEPS)
    submit = SubmitField(_("Start the room"))

    def agenda(self) -> list[dict[str, object]]:
        """Return a ready-made agenda's steps, or else the chosen rows in order."""
        if self.preset.data in PRESETS:
            return copy.deepcopy(PRESETS[self.preset.data].steps)
        return [spec for row in self.steps for spec in [row.form.spec()] if spec]

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        """Validate; with a ready-made agenda chosen, the rows it replaces do not count."""
        valid = super().validate(extra_validators)
        if valid or self.preset.data not in PRESETS:
            return valid
        return not any(field.errors for name, field in self._fields.items() if name != "steps")

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


# -- the team charter -----------------------------------------------------------------

# Blank rows after the charter's own, so that new items need no JavaScript; with it, the
# page shows one and an "add another" button for the rest (forms.js).
AGREEMENT_BLANKS = 5
ANCHOR_BLANKS = 2
VERSION_NUMBER = Regexp(r"^\d{1,9}$")


def cadence_choices() -> list[SelectChoice]:
    """Return the cadences of a connection anchor as choices."""
    return choices(*((cadence, CADENCE_LABELS.get(cadence, cadence)) for cadence in CADENCES))


def one_line_text(value: str | None) -> str | None:
    """Return an agreement's text on one line: line breaks become spaces, as in a room."""
    return one_line(value) if isinstance(value, str) else value


class AgreementRowForm(Form):
    """One agreement in the charter form: its text, an optional review date, a retire box."""

    id = HiddenField(validators=[Length(max=32)])
    # A text area so that a long agreement wraps, but one line like a room's agreements.
    text = TextAreaField(
        _("Agreement"), filters=[one_line_text], validators=[Length(max=AGREEMENT_LIMIT)]
    )
    review_date = DateField(_("Review on (optional)"), validators=[Optional()])
    retire = BooleanField(_("Retire this agreement"))

    def validate_review_date(self, field: DateField) -> None:
        """Refuse a review date outside the years a charter accepts (a typing slip)."""
        low, high = REVIEW_YEARS
        if field.data is not None and not low <= field.data.year <= high:
            raise ValidationError(
                str(_("Choose a review date in the years %(low)s to %(high)s.", low=low, high=high))
            )

    def kept(self) -> bool:
        """Tell whether this row stays in the charter (written and not retired)."""
        return bool((self.text.data or "").strip()) and not self.retire.data

    def validate_text(self, field: TextAreaField) -> None:
        """Refuse to empty an existing agreement: retiring it says what happened."""
        if self.id.data and not self.retire.data and not (field.data or "").strip():
            raise ValidationError(str(_("Write the agreement, or tick “Retire” to remove it.")))


class AnchorRowForm(Form):
    """One connection anchor in the charter form: a name, a cadence and a room agenda."""

    id = HiddenField(validators=[Length(max=32)])
    name = StringField(
        _("Name"), filters=[visible_text], validators=[Length(max=ANCHOR_NAME_LIMIT)]
    )
    cadence = SelectField(_("Cadence"), choices=cadence_choices, default=CADENCES[0])
    agenda = SelectField(_("Room agenda"), choices=preset_choices, default="checkin")
    remove = BooleanField(_("Remove this anchor"))

    def kept(self) -> bool:
        """Tell whether this row stays in the charter (named and not removed)."""
        return bool(self.name.data) and not self.remove.data

    def validate_name(self, field: StringField) -> None:
        """Refuse to blank an existing anchor's name: removing it says what happened."""
        if self.id.data and not self.remove.data and not field.data:
            raise ValidationError(str(_("Name the anchor, or tick “Remove” to remove it.")))


class CharterForm(FlaskForm):
    """Edit the charter: every section at once, based on the version the form was loaded from."""

    base_version = HiddenField(validators=[InputRequired(), VERSION_NUMBER])
    author = StringField(
        _("Your name"),
        filters=[visible_text],
        validators=[DataRequired(), Length(max=NAME_LIMIT)],
    )
    purpose = TextAreaField(_("Purpose"), validators=[Length(max=PURPOSE_LIMIT)])
    agreements = FieldList(
        FormField(AgreementRowForm), max_entries=MAX_AGREEMENTS + AGREEMENT_BLANKS
    )
    anchors = FieldList(FormField(AnchorRowForm), max_entries=MAX_ANCHORS + ANCHOR_BLANKS)
    leadership = TextAreaField(_("Leadership"), validators=[Length(max=LEADERSHIP_LIMIT)])
    submit = SubmitField(_("Save a new version"))

    @classmethod
    def for_content(cls, content: CharterContent, base: int, author: str) -> CharterForm:
        """Return the form pre-filled with a version's content, plus blank rows."""
        form = cls(
            formdata=None,
            data={
                "base_version": str(base),
                "author": author,
                "purpose": content.purpose,
                "leadership": content.leadership,
            },
        )
        for agreement in content.agreements:
            review = date.fromisoformat(agreement.review_date) if agreement.review_date else None
            form.agreements.append_entry(
                {"id": agreement.id, "text": agreement.text, "review_date": review}
            )
        for anchor in content.anchors:
            form.anchors.append_entry(
                {
                    "id": anchor.id,
                    "name": anchor.name,
                    "cadence": anchor.cadence,
                    "agenda": anchor.agenda,
                }
            )
        for _row in range(AGREEMENT_BLANKS):
            form.agreements.append_entry()
        for _row in range(ANCHOR_BLANKS):
            form.anchors.append_entry()
        return form

    def base(self) -> int:
        """Return the number of the version this form was based on."""
        return int(self.base_version.data)

    def rebase(self, number: int) -> None:
        """Base the form on another version, so that saving it again is deliberate."""
        self.base_version.data = str(number)

    def content(self) -> CharterContent:
        """Return the charter this form describes; new rows get fresh ids, in form order."""
        seen: set[str] = set()

        def fresh(item_id: str | None) -> str:
            # A forged or repeated id would make two items one; give it a new one.
            item_id = item_id if item_id and item_id not in seen else new_item_id()
            seen.add(item_id)
            return item_id

        agreements = tuple(
            Agreement(
                id=fresh(row.form.id.data),
                text=row.form.text.data.strip(),
                review_date=row.form.review_date.data.isoformat()
                if row.form.review_date.data
                else None,
            )
            for row in self.agreements
            if row.form.kept()
        )
        anchors = tuple(
            Anchor(
                id=fresh(row.form.id.data),
                name=row.form.name.data,
                cadence=row.form.cadence.data,
                agenda=row.form.agenda.data,
            )
            for row in self.anchors
            if row.form.kept()
        )
        return CharterContent(
            purpose=(self.purpose.data or "").strip(),
            agreements=agreements,
            anchors=anchors,
            leadership=(self.leadership.data or "").strip(),
        )

    def validate_agreements(self, field: FieldList) -> None:
        """Refuse more agreements than a charter holds."""
        if sum(row.form.kept() for row in field) > MAX_AGREEMENTS:
            raise ValidationError(
                str(_("A charter has at most %(limit)s agreements.", limit=MAX_AGREEMENTS))
            )

    def validate_anchors(self, field: FieldList) -> None:
        """Refuse more connection anchors than a charter holds."""
        if sum(row.form.kept() for row in field) > MAX_ANCHORS:
            raise ValidationError(
                str(_("A charter has at most %(limit)s connection anchors.", limit=MAX_ANCHORS))
            )


class RestoreForm(FlaskForm):
    """Restore an old charter version as a new one."""

    base_version = HiddenField(validators=[InputRequired(), VERSION_NUMBER])
    author = StringField(
        _("Your name"),
        filters=[visible_text],
        validators=[DataRequired(), Length(max=NAME_LIMIT)],
    )
    submit = SubmitField(_("Restore this version"))

    def base(self) -> int:
        """Return the number of the current version when the form was loaded."""
        return int(self.base_version.data)

    def rebase(self, number: int) -> None:
        """Base the form on another current version."""
        self.base_version.data = str(number)


class StartAnchorForm(FlaskForm):
    """Start a room now from a connection anchor's agenda."""

    facilitator_name = StringField(
        _("Your name (you will facilitate)"),
        filters=[visible_text],
        validators=[DataRequired(), Length(max=NAME_LIMIT)],
    )
    submit = SubmitField(_("Start this anchor now"))
