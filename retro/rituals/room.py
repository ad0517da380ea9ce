"""The room's own state machine: lobby -> running -> ended, steps, timer, facilitation."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from retro.rituals.base import Actor, RitualError, require_facilitator

TIMER_MIN, TIMER_MAX = 10, 60 * 60


@dataclass
class Timer:
    """A per-step countdown stored as a deadline, so no process has to tick it."""

    ends_at: float | None = None
    duration: int = 0

    def view(self, now: float) -> dict[str, Any]:
        """Return the timer as clients need it, with the seconds left at `now`."""
        if self.ends_at is None:
            return {"running": False, "ends_at": None, "duration": self.duration, "remaining": 0}
        return {
            "running": True,
            "ends_at": self.ends_at,
            "duration": self.duration,
            "remaining": max(0, round(self.ends_at - now)),
        }


@dataclass
class RoomFlow:
    """Where a room is in its agenda, who facilitates, and the step timer."""

    status: str = "lobby"
    step_index: int = -1
    step_count: int = 0
    facilitator_id: int | None = None
    timer: Timer = field(default_factory=Timer)

    def start(self, actor: Actor) -> None:
        """Leave the lobby and open the first step."""
        require_facilitator(actor)
        self._require_open()
        if self.status != "lobby":
            raise RitualError("already_started")
        if self.step_count == 0:
            raise RitualError("empty_agenda")
        self.status = "running"
        self.step_index = 0
        self.timer = Timer()

    def next(self, actor: Actor) -> None:
        """Go to the next step of the agenda."""
        self._require_running(actor)
        if self.step_index + 1 >= self.step_count:
            raise RitualError("no_next_step")
        self.step_index += 1
        self.timer = Timer()

    def previous(self, actor: Actor) -> None:
        """Go back to the previous step; its state is kept."""
        self._require_running(actor)
        if self.step_index <= 0:
            raise RitualError("no_previous_step")
        self.step_index -= 1
        self.timer = Timer()

    def end(self, actor: Actor) -> None:
        """End the room; from now on it is read-only."""
        require_facilitator(actor)
        if self.status == "ended":
            raise RitualError("room_ended")
        self.status = "ended"
        self.timer = Timer()

    def handover(self, actor: Actor, to_member: int, members: Collection[int]) -> None:
        """Give facilitation to another member; the actor loses it at once."""
        require_facilitator(actor)
        self._require_open()
        if to_member not in members:
            raise RitualError("unknown_member")
        if to_member == actor.member_id:
            raise RitualError("already_facilitator")
        self.facilitator_id = to_member

    def claim(self, actor: Actor, away_for: float | None, grace: float) -> None:
        """Let a member take over once the facilitator has been away for `grace` seconds.

        `away_for` is how long the facilitator has had no open socket (None: here).
        The grace period keeps a refresh or a Wi-Fi blip from costing them the role.
        """
        self._require_open()
        if actor.is_facilitator:
            raise RitualError("already_facilitator")
        if away_for is None or away_for < grace:
            raise RitualError("facilitator_present")
        self.facilitator_id = actor.member_id

    def timer_start(self, actor: Actor, seconds: int, now: float) -> None:
        """Start (or restart) the step timer for `seconds`."""
        self._require_running(actor)
        seconds = _timer_seconds(seconds)
        self.timer = Timer(ends_at=now + seconds, duration=seconds)

    def timer_extend(self, actor: Actor, seconds: int, now: float) -> None:
        """Add `seconds` to the running timer (or restart an expired one)."""
        self._require_running(actor)
        seconds = _timer_seconds(seconds)
        ends_at = self.timer.ends_at
        if ends_at is None:
            raise RitualError("timer_not_running")
        if ends_at <= now:  # expired: a fresh countdown of `seconds`
            self.timer = Timer(ends_at=now + seconds, duration=seconds)
        else:
            self.timer = Timer(ends_at=ends_at + seconds, duration=self.timer.duration + seconds)

    def timer_stop(self, actor: Actor) -> None:
        """Stop the step timer."""
        self._require_running(actor)
        if self.timer.ends_at is None:
            raise RitualError("timer_not_running")
        self.timer = Timer()

    def require_step(self, position: int) -> None:
        """Refuse a step command unless the room is running and `position` is current."""
        if self.status == "ended":
            raise RitualError("room_ended")
        if self.status != "running":
            raise RitualError("not_running")
        if position != self.step_index:
            raise RitualError("wrong_step")

    def timer_state(self) -> dict[str, Any]:
        """Serialise the timer to JSON-ready data."""
        return {"ends_at": self.timer.ends_at, "duration": self.timer.duration}

    @staticmethod
    def timer_from_state(data: Mapping[str, Any] | None) -> Timer:
        """Rebuild a timer from `timer_state` output."""
        data = data or {}
        return Timer(ends_at=data.get("ends_at"), duration=int(data.get("duration", 0)))

    def _require_open(self) -> None:
        if self.status == "ended":
            raise RitualError("room_ended")

    def _require_running(self, actor: Actor) -> None:
        require_facilitator(actor)
        self._require_open()
        if self.status != "running":
            raise RitualError("not_running")


def _timer_seconds(seconds: Any) -> int:
    """Return a timer length in seconds within the allowed range."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise RitualError("invalid_value")
    if not TIMER_MIN <= seconds <= TIMER_MAX:
        raise RitualError("invalid_timer", low=TIMER_MIN, high=TIMER_MAX)
    return seconds
