"""The room's own flow: lobby, running and ended; steps; the step timer; facilitation."""

from __future__ import annotations

import pytest

from retro.rituals import Actor, RitualError, RoomFlow
from retro.rituals.room import TIMER_MAX, TIMER_MIN, Timer

FACILITATOR_ID = 1
MEMBERS = {1, 2, 3}
NOW = 1_000_000.0


def make_flow(step_count: int = 3, status: str = "lobby") -> RoomFlow:
    """Return a room flow of `step_count` steps facilitated by member 1, in `status`."""
    flow = RoomFlow(step_count=step_count, facilitator_id=FACILITATOR_ID)
    if status in ("running", "ended"):
        flow.start(actor_for(flow, FACILITATOR_ID))
    if status == "ended":
        flow.end(actor_for(flow, FACILITATOR_ID))
    return flow


def actor_for(flow: RoomFlow, member_id: int) -> Actor:
    """Return the actor as the service builds it: the role comes from the stored facilitator."""
    return Actor(member_id, is_facilitator=flow.facilitator_id == member_id)


def facilitator(flow: RoomFlow) -> Actor:
    """Return the current facilitator as an actor."""
    assert flow.facilitator_id is not None
    return actor_for(flow, flow.facilitator_id)


def make_timed_flow(seconds: int = 300) -> RoomFlow:
    """Return a running room whose step timer was started at NOW."""
    flow = make_flow(status="running")
    flow.timer_start(facilitator(flow), seconds, NOW)
    return flow


def snapshot(flow: RoomFlow) -> tuple:
    """Return everything a flow holds, to check that a refused command changed nothing."""
    return (flow.status, flow.step_index, flow.step_count, flow.facilitator_id, flow.timer_state())


def refusal(flow: RoomFlow, method: str, *args) -> RitualError:
    """Call a flow command, check it was refused and changed nothing, and return the error."""
    before = snapshot(flow)
    with pytest.raises(RitualError) as caught:
        getattr(flow, method)(*args)
    assert snapshot(flow) == before
    return caught.value


# -- start, next, previous, end ----------------------------------------------------------


def test_a_new_room_waits_in_the_lobby():
    flow = make_flow()
    assert flow.status == "lobby"
    assert flow.step_index == -1
    assert flow.timer.view(NOW) == {
        "running": False,
        "ends_at": None,
        "duration": 0,
        "remaining": 0,
    }


def test_starting_opens_the_first_step():
    flow = make_flow()
    flow.start(facilitator(flow))
    assert flow.status == "running"
    assert flow.step_index == 0


def test_only_the_facilitator_can_start_the_room():
    assert refusal(make_flow(), "start", Actor(2)).code == "not_facilitator"


def test_a_room_cannot_start_twice():
    flow = make_flow(status="running")
    assert refusal(flow, "start", facilitator(flow)).code == "already_started"


def test_an_ended_room_cannot_start_again():
    flow = make_flow(status="ended")
    assert refusal(flow, "start", facilitator(flow)).code == "room_ended"


def test_a_room_without_steps_cannot_start():
    flow = make_flow(step_count=0)
    assert refusal(flow, "start", facilitator(flow)).code == "empty_agenda"


def test_next_opens_the_following_step():
    flow = make_flow(status="running")
    flow.next(facilitator(flow))
    assert flow.step_index == 1


def test_there_is_no_step_after_the_last():
    flow = make_flow(step_count=2, status="running")
    flow.next(facilitator(flow))
    assert refusal(flow, "next", facilitator(flow)).code == "no_next_step"
    assert flow.step_index == 1


def test_previous_goes_back_one_step():
    flow = make_flow(status="running")
    flow.next(facilitator(flow))
    flow.next(facilitator(flow))
    flow.previous(facilitator(flow))
    assert flow.step_index == 1


def test_there_is_no_step_before_the_first():
    flow = make_flow(status="running")
    assert refusal(flow, "previous", facilitator(flow)).code == "no_previous_step"


@pytest.mark.parametrize("method", ["next", "previous"])
def test_only_the_facilitator_can_change_the_step(method):
    flow = make_flow(status="running")
    flow.next(facilitator(flow))
    assert refusal(flow, method, Actor(2)).code == "not_facilitator"


@pytest.mark.parametrize("method", ["next", "previous"])
def test_steps_cannot_change_in_the_lobby(method):
    flow = make_flow()
    assert refusal(flow, method, facilitator(flow)).code == "not_running"


@pytest.mark.parametrize("method", ["next", "previous"])
def test_steps_cannot_change_after_the_room_ended(method):
    flow = make_flow(status="ended")
    assert refusal(flow, method, facilitator(flow)).code == "room_ended"


@pytest.mark.parametrize("method", ["next", "previous"])
def test_changing_the_step_clears_the_timer(method):
    flow = make_flow(status="running")
    flow.next(facilitator(flow))
    flow.timer_start(facilitator(flow), 60, NOW)
    getattr(flow, method)(facilitator(flow))
    assert flow.timer == Timer()


def test_ending_makes_the_room_read_only():
    flow = make_timed_flow()
    flow.end(facilitator(flow))
    assert flow.status == "ended"
    assert flow.timer == Timer()


def test_a_room_may_end_straight_from_the_lobby():
    flow = make_flow()
    flow.end(facilitator(flow))
    assert flow.status == "ended"


def test_only_the_facilitator_can_end_the_room():
    assert refusal(make_flow(status="running"), "end", Actor(2)).code == "not_facilitator"


def test_a_room_cannot_end_twice():
    flow = make_flow(status="ended")
    assert refusal(flow, "end", facilitator(flow)).code == "room_ended"


# -- step commands ---------------------------------------------------------------------


def test_a_command_for_the_current_step_is_allowed():
    flow = make_flow(status="running")
    flow.next(facilitator(flow))
    assert flow.require_step(1) is None


def test_a_command_for_another_step_is_refused():
    flow = make_flow(status="running")
    assert refusal(flow, "require_step", 1).code == "wrong_step"


def test_a_step_command_in_the_lobby_is_refused():
    assert refusal(make_flow(), "require_step", -1).code == "not_running"


def test_a_step_command_after_the_end_is_refused():
    assert refusal(make_flow(status="ended"), "require_step", 0).code == "room_ended"


# -- timer -------------------------------------------------------------------------------


def test_the_timer_counts_down_from_its_start():
    flow = make_timed_flow(300)
    assert flow.timer.view(NOW + 30) == {
        "running": True,
        "ends_at": NOW + 300,
        "duration": 300,
        "remaining": 270,
    }


def test_the_remaining_time_never_goes_below_zero():
    flow = make_timed_flow(60)
    assert flow.timer.view(NOW + 500)["remaining"] == 0


def test_starting_the_timer_again_restarts_it():
    flow = make_timed_flow(300)
    flow.timer_start(facilitator(flow), 60, NOW + 100)
    assert flow.timer == Timer(ends_at=NOW + 160, duration=60)


def test_extending_a_running_timer_adds_to_its_deadline():
    flow = make_timed_flow(300)
    flow.timer_extend(facilitator(flow), 60, NOW + 100)
    assert flow.timer == Timer(ends_at=NOW + 360, duration=360)
    assert flow.timer.view(NOW + 100)["remaining"] == 260


def test_extending_an_expired_timer_counts_from_now():
    flow = make_timed_flow(60)
    flow.timer_extend(facilitator(flow), 120, NOW + 500)
    assert flow.timer.ends_at == NOW + 620
    assert flow.timer.view(NOW + 500)["remaining"] == 120


def test_extending_an_expired_timer_restarts_it_for_just_the_added_seconds():
    flow = make_timed_flow(60)
    flow.timer_extend(facilitator(flow), 120, NOW + 500)
    assert flow.timer == Timer(ends_at=NOW + 620, duration=120)
    assert flow.timer.view(NOW + 500)["duration"] == 120


def test_extending_a_timer_at_the_moment_it_runs_out_restarts_it():
    flow = make_timed_flow(60)
    flow.timer_extend(facilitator(flow), 30, NOW + 60)
    assert flow.timer == Timer(ends_at=NOW + 90, duration=30)


def test_stopping_the_timer_clears_it():
    flow = make_timed_flow()
    flow.timer_stop(facilitator(flow))
    assert flow.timer.view(NOW)["running"] is False
    assert flow.timer_state() == {"ends_at": None, "duration": 0}


def test_an_expired_timer_can_still_be_stopped():
    flow = make_timed_flow(60)
    flow.timer_stop(facilitator(flow))
    assert flow.timer == Timer()


def test_a_timer_that_is_not_running_cannot_be_extended():
    flow = make_flow(status="running")
    assert refusal(flow, "timer_extend", facilitator(flow), 60, NOW).code == "timer_not_running"


def test_a_timer_that_is_not_running_cannot_be_stopped():
    flow = make_flow(status="running")
    assert refusal(flow, "timer_stop", facilitator(flow)).code == "timer_not_running"


@pytest.mark.parametrize("seconds", [TIMER_MIN - 1, TIMER_MAX + 1, 0, -60])
@pytest.mark.parametrize("method", ["timer_start", "timer_extend"])
def test_a_timer_length_outside_the_limits_is_refused(method, seconds):
    flow = make_timed_flow()
    error = refusal(flow, method, facilitator(flow), seconds, NOW)
    assert error.code == "invalid_timer"
    assert error.params == {"low": TIMER_MIN, "high": TIMER_MAX}


@pytest.mark.parametrize("seconds", [TIMER_MIN, TIMER_MAX])
def test_a_timer_length_at_the_limits_is_accepted(seconds):
    flow = make_flow(status="running")
    flow.timer_start(facilitator(flow), seconds, NOW)
    assert flow.timer.duration == seconds


@pytest.mark.parametrize("seconds", [True, 60.0, "60", None], ids=repr)
@pytest.mark.parametrize("method", ["timer_start", "timer_extend"])
def test_a_timer_length_that_is_not_a_whole_number_is_refused(method, seconds):
    flow = make_timed_flow()
    assert refusal(flow, method, facilitator(flow), seconds, NOW).code == "invalid_value"


@pytest.mark.parametrize(
    ("method", "args"),
    [("timer_start", (60, NOW)), ("timer_extend", (60, NOW)), ("timer_stop", ())],
)
def test_only_the_facilitator_can_use_the_timer(method, args):
    flow = make_timed_flow()
    assert refusal(flow, method, Actor(2), *args).code == "not_facilitator"


def test_the_timer_cannot_run_in_the_lobby():
    flow = make_flow()
    assert refusal(flow, "timer_start", facilitator(flow), 60, NOW).code == "not_running"


def test_the_timer_cannot_run_after_the_end():
    flow = make_flow(status="ended")
    assert refusal(flow, "timer_start", facilitator(flow), 60, NOW).code == "room_ended"


def test_the_timer_survives_being_stored():
    flow = make_timed_flow(90)
    assert RoomFlow.timer_from_state(flow.timer_state()) == Timer(ends_at=NOW + 90, duration=90)


def test_a_missing_timer_state_is_a_stopped_timer():
    assert RoomFlow.timer_from_state(None) == Timer()
    assert RoomFlow.timer_from_state({}) == Timer()


# -- facilitation --------------------------------------------------------------------------


def test_handing_over_gives_the_new_facilitator_the_rights_at_once():
    flow = make_flow(status="running")
    flow.handover(facilitator(flow), 2, MEMBERS)
    assert flow.facilitator_id == 2
    flow.next(actor_for(flow, 2))
    assert flow.step_index == 1


def test_handing_over_takes_the_rights_from_the_old_facilitator():
    flow = make_flow(status="running")
    flow.handover(facilitator(flow), 2, MEMBERS)
    old = actor_for(flow, FACILITATOR_ID)
    assert old.is_facilitator is False
    assert refusal(flow, "next", old).code == "not_facilitator"


def test_only_the_facilitator_can_hand_over():
    flow = make_flow(status="running")
    assert refusal(flow, "handover", Actor(2), 3, MEMBERS).code == "not_facilitator"


def test_facilitation_cannot_go_to_someone_outside_the_room():
    flow = make_flow(status="running")
    assert refusal(flow, "handover", facilitator(flow), 42, MEMBERS).code == "unknown_member"


def test_the_facilitator_cannot_hand_over_to_themselves():
    flow = make_flow(status="running")
    code = refusal(flow, "handover", facilitator(flow), FACILITATOR_ID, MEMBERS).code
    assert code == "already_facilitator"


def test_facilitation_cannot_change_hands_after_the_end():
    flow = make_flow(status="ended")
    assert refusal(flow, "handover", facilitator(flow), 2, MEMBERS).code == "room_ended"


def test_facilitation_may_be_handed_over_in_the_lobby():
    flow = make_flow()
    flow.handover(facilitator(flow), 3, MEMBERS)
    assert flow.facilitator_id == 3


def test_a_member_may_claim_facilitation_once_the_facilitator_was_away_for_the_grace_period():
    flow = make_flow(status="running")
    flow.claim(actor_for(flow, 3), away_for=60.0, grace=60.0)
    assert flow.facilitator_id == 3
    assert actor_for(flow, FACILITATOR_ID).is_facilitator is False


def test_a_member_cannot_claim_while_the_facilitator_is_online():
    flow = make_flow(status="running")
    error = refusal(flow, "claim", actor_for(flow, 3), None, 60.0)
    assert error.code == "facilitator_present"


def test_a_member_cannot_claim_during_the_facilitators_refresh_or_wifi_blip():
    flow = make_flow(status="running")
    error = refusal(flow, "claim", actor_for(flow, 3), 5.0, 60.0)
    assert error.code == "facilitator_present"


def test_the_facilitator_cannot_claim_what_they_already_have():
    flow = make_flow(status="running")
    assert refusal(flow, "claim", facilitator(flow), 90.0, 60.0).code == "already_facilitator"


def test_facilitation_cannot_be_claimed_after_the_end():
    flow = make_flow(status="ended")
    assert refusal(flow, "claim", actor_for(flow, 3), 90.0, 60.0).code == "room_ended"


def test_a_room_without_a_facilitator_can_be_claimed():
    flow = RoomFlow(step_count=1, facilitator_id=None)
    flow.claim(Actor(2), away_for=0.0, grace=0.0)
    assert flow.facilitator_id == 2
