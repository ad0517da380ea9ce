"""Translatable messages for every domain error code sent to a client."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext

from retro.rituals import RitualError

_ = lazy_gettext

MESSAGES = {
    "agreement_decided": _("The room has already decided to change this agreement."),
    "already_facilitator": _("You already facilitate this room."),
    "already_heard": _("You have already had your turn."),
    "already_kept": _("This agreement is already marked as kept."),
    "already_passed": _("You have already passed."),
    "already_rated": _("You have already answered the scales."),
    "already_revealed": _("The answers are already revealed."),
    "already_started": _("The room has already started."),
    "anonymous_needs_three": _("An anonymous vote shows its result from %(count)s votes on."),
    "agenda_too_long": _("An agenda has at most %(limit)s steps."),
    "charter_conflict": _(
        "The charter changed while you were editing: version %(number)s is the current one now."
    ),
    "charter_changed": _(
        "The charter changed since the room saw it, so none of the ratified changes can be "
        "applied. Nothing was published."
    ),
    "date_out_of_range": _("Choose a date in the years %(low)s to %(high)s."),
    "draft_unchanged": _("The charter already says what the draft says: nothing to publish."),
    "duplicate_id": _("Two items of the charter have the same id. Reload the page and try again."),
    "card_vote_limit": _("You can put at most %(limit)s votes on one group."),
    "grouping_locked": _("Only the facilitator can move cards and title groups now."),
    "too_many_deeds": _("A retrospective holds at most %(limit)s deeds."),
    "deed_reviewed": _("A deeds review has already decided about this deed, so it stays as it is."),
    "drop_reason_required": _("Say why this deed is dropped."),
    "no_agreements": _("The charter has no agreements to check."),
    "unknown_deed": _("That deed is not on the list."),
    "empty_agenda": _("Add at least one step to the agenda."),
    "empty_draft": _("The room has not ratified anything to publish yet."),
    "empty_name": _("Please enter a name."),
    "empty_text": _("Please write something first."),
    "facilitator_present": _(
        "The facilitator is here or just left. Ask them to hand over, or try again in a minute."
    ),
    "incomplete_scales": _("Please answer every scale."),
    "invalid_date": _("Enter a date as YYYY-MM-DD, or leave it empty."),
    "invalid_cadence": _("Choose how often the anchor happens."),
    "invalid_field": _("The field “%(field)s” is missing or not valid."),
    "invalid_mode": _("Choose a mode: round or simultaneous."),
    "invalid_payload": _("This message is not valid."),
    "invalid_timer": _("A timer runs from %(low)s to %(high)s seconds."),
    "invalid_value": _("This value is not valid."),
    "no_cards": _("There are no cards to vote on."),
    "no_change": _("Nothing has changed."),
    "no_next_step": _("This is the last step."),
    "no_previous_step": _("This is the first step."),
    "no_scales": _("This step has no scales."),
    "no_vote_open": _("No consent vote is open."),
    "no_votes": _("Nobody has voted yet."),
    "no_votes_left": _("You have used all your %(limit)s votes."),
    "not_author": _("Only its author can change that."),
    "not_facilitator": _("Only the facilitator can do that."),
    "not_in_round": _("You are not in this round yet."),
    "not_round_mode": _("This step has no talking stick."),
    "not_in_this_step": _("That is not something you can do in this step."),
    "not_running": _("The room has not started yet."),
    "not_simultaneous_mode": _("In a round, answers are visible straight away."),
    "not_voted": _("You have no vote on that group to take back."),
    "not_your_turn": _("It is not your turn yet."),
    "one_line": _("Keep it to one line."),
    "proposal_closed": _("This proposal is already decided or withdrawn."),
    "rate_limited": _("Slow down a little, please."),
    "reason_required": _("A score under %(threshold)s needs a reason."),
    "round_complete": _("Everyone has been heard."),
    "room_ended": _("This room has ended."),
    "room_full": _("This room is full."),
    "scales_closed": _("The results are shown, so the scales are closed."),
    "server_error": _("Something went wrong on our side. Please try again."),
    "step_not_started": _("This step has not started yet."),
    "timer_not_running": _("The timer is not running."),
    "too_long": _("That is too long (at most %(limit)s characters)."),
    "too_many_agreements": _("A charter holds at most %(limit)s agreements."),
    "too_many_anchors": _("A charter holds at most %(limit)s connection anchors."),
    "too_many_cards": _("You can write at most %(limit)s cards."),
    "too_many_proposals": _("A step holds at most %(limit)s proposals."),
    "unauthorized": _("Join the room from its link first."),
    "unknown_agenda": _("Choose an agenda from the list."),
    "unknown_agreement": _("That agreement is not on the list."),
    "unknown_card": _("That card no longer exists."),
    "unknown_event": _("Unknown action."),
    "unknown_group": _("That group no longer exists."),
    "unknown_member": _("That person is not in this room."),
    "unknown_prompt": _("Choose a prompt from the list or write your own."),
    "unknown_proposal": _("That proposal does not exist."),
    "unknown_version": _("That version of the charter does not exist."),
    "unknown_scale": _("Unknown scale."),
    "unknown_step_kind": _("Unknown kind of step."),
    "viewer_only": _("The projector view only shows the room."),
    "vote_open": _("A consent vote is open. Close it first."),
    "wrong_phase": _("That is not possible at this stage of the step."),
    "wrong_step": _("That step is no longer the current one."),
}


def message_for(code: str, **params: Any) -> str:
    """Return the translated message for an error code, in the current locale."""
    template = MESSAGES.get(code, MESSAGES["invalid_payload"])
    return str(template) % params if params else str(template)


def error_payload(error: RitualError) -> dict[str, Any]:
    """Return the acknowledgement a client receives for a refused command."""
    return {
        "ok": False,
        "error": {"code": error.code, "message": message_for(error.code, **error.params)},
    }
