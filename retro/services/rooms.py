"""Rooms: create, join, connect, run commands. Every change is committed before it is returned.

A change to a room runs in one transaction that starts by incrementing the
room's `seq`. That first write takes the row lock (PostgreSQL) or the write
lock (SQLite), so concurrent commands for one room apply one after the other,
from any number of server processes, and each committed change has its own
sequence number.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from retro.extensions import db
from retro.models import Connection, Member, ProcessedAction, Room, Step, Team
from retro.models.base import digest, new_token, utcnow
from retro.prompts import BY_ID
from retro.rituals import (
    STEP_KINDS,
    Actor,
    AgreementDrafting,
    CheckInRound,
    CheckOut,
    PurposeAlignment,
    RitualError,
    RoomFlow,
)
from retro.rituals.base import clean_name, require_facilitator
from retro.services import charter

NAME_LIMIT = 64
TEAM_NAME_LIMIT = 80
MAX_STEPS = 12

Ritual = CheckInRound | CheckOut | PurposeAlignment | AgreementDrafting
CharterStep = PurposeAlignment | AgreementDrafting


@dataclass
class Outcome:
    """A committed change: the room's new public view, and the actor's private view."""

    room_id: int
    seq: int
    public: dict[str, Any]
    private: dict[str, Any] | None = None
    duplicate: bool = False


# -- creating things --------------------------------------------------------


def create_team(name: str) -> Team:
    """Create a team with a fresh secret key."""
    team = Team(name=clean_name(name, TEAM_NAME_LIMIT))
    db.session.add(team)
    db.session.commit()
    return team


def build_step(spec: Mapping[str, Any]) -> Ritual:
    """Return a new ritual from an agenda entry such as {"kind": "checkin", ...}."""
    kind = spec.get("kind")
    if kind == "checkin":
        prompt_id = spec.get("prompt_id") or None
        if prompt_id is not None and (not isinstance(prompt_id, str) or prompt_id not in BY_ID):
            raise RitualError("unknown_prompt")
        scales = spec.get("scales") or []
        # JSON may carry anything here; only a list of names can be checked against SCALES.
        if not isinstance(scales, list) or not all(isinstance(s, str) for s in scales):
            raise RitualError("unknown_scale")
        mode, prompt = spec.get("mode", "round"), spec.get("prompt") or ""
        if not isinstance(mode, str):
            raise RitualError("invalid_mode")
        if not isinstance(prompt, str):
            raise RitualError("invalid_value")
        if prompt_id and prompt:
            # A library prompt is translated from its id; a text beside it would be ignored.
            raise RitualError("invalid_field", field="prompt")
        return CheckInRound.create(prompt=prompt, prompt_id=prompt_id, mode=mode, scales=scales)
    if kind == "checkout":
        return CheckOut.create()
    if kind == "purpose":
        return PurposeAlignment.create(
            anonymous=spec.get("anonymous", False), votes=spec.get("votes", 3)
        )
    if kind == "agreements":
        return AgreementDrafting.create(anonymous=spec.get("anonymous", False))
    raise RitualError("unknown_step_kind")


def create_room(
    team: Team, facilitator_name: str, agenda: Sequence[Mapping[str, Any]], title: str = ""
) -> tuple[Room, Member, str]:
    """Create a room with its agenda; its creator joins as facilitator.

    Returns the room, the facilitator and the facilitator's secret token.
    """
    if not agenda:
        raise RitualError("empty_agenda")
    if len(agenda) > MAX_STEPS:
        raise RitualError("agenda_too_long", limit=MAX_STEPS)
    rituals = [build_step(spec) for spec in agenda]
    # Check the name before building rows: a half-built Room would linger in team.rooms.
    name = clean_name(facilitator_name, NAME_LIMIT)
    room = Room(team=team, title=(title or "").strip()[:120], timer={})
    for position, ritual in enumerate(rituals):
        room.steps.append(Step(position=position, kind=ritual.kind, state=ritual.to_state()))
    token = new_token(24)
    member = Member(room=room, display_name=name, token_hash=digest(token))
    db.session.add_all([room, member])
    db.session.flush()
    room.facilitator_id = member.id
    db.session.commit()
    return room, member, token


def join_room(room: Room, display_name: str, max_members: int) -> tuple[Member, str]:
    """Add a member to a room; returns the member and their secret token."""
    if room.status == "ended":
        raise RitualError("room_ended")
    if len(room.members) >= max_members:
        raise RitualError("room_full")
    token = new_token(24)
    name = clean_name(display_name, NAME_LIMIT)
    member = Member(room=room, display_name=name, token_hash=digest(token))
    db.session.add(member)
    db.session.commit()
    return member, token


def member_for_token(room_code: str, token: str) -> Member | None:
    """Return the member of room `room_code` whose secret is `token`, if any."""
    if not token or not room_code:
        return None
    member = db.session.scalar(select(Member).where(Member.token_hash == digest(token)))
    if member is None or member.room.code != room_code:
        return None
    return member


def room_by_code(code: str) -> Room | None:
    """Return the room with this share code."""
    return db.session.scalar(select(Room).where(Room.code == code))


def team_by_key(key: str) -> Team | None:
    """Return the team with this secret key."""
    return db.session.scalar(select(Team).where(Team.key == key))


# -- presence ---------------------------------------------------------------


def connect(member_id: int, sid: str, server_id: str, viewer: bool = False) -> Outcome:
    """Record an open socket for a member and let a running step include them.

    A viewer socket (the projector view) only follows the room: it makes nobody
    online and puts nobody in a talking-stick order.
    """

    def change(room: Room, flow: RoomFlow, rituals: list[Ritual]) -> None:
        db.session.add(
            Connection(
                sid=sid, room_id=room.id, member_id=member_id, server_id=server_id, viewer=viewer
            )
        )
        if flow.status == "running" and not viewer:
            current = rituals[flow.step_index]
            if current.started:
                current.join(member_id)

    room_id = db.session.get_one(Member, member_id).room_id
    return _change(room_id, member_id, change)


def disconnect(sid: str) -> Outcome | None:
    """Forget an open socket; returns the room's change, or None for an unknown socket."""
    conn = db.session.get(Connection, sid)
    if conn is None:
        return None
    room_id = conn.room_id

    def change(room: Room, flow: RoomFlow, rituals: list[Ritual]) -> None:
        db.session.execute(delete(Connection).where(Connection.sid == sid))

    return _change(room_id, None, change)


def heartbeat(server_id: str) -> None:
    """Mark this process's open sockets as still alive."""
    db.session.execute(
        update(Connection).where(Connection.server_id == server_id).values(seen_at=utcnow())
    )
    db.session.commit()


def expire_connections(timeout_seconds: int) -> list[Outcome]:
    """Drop sockets whose process stopped sending heartbeats; returns the rooms' changes."""
    cutoff = utcnow() - timedelta(seconds=timeout_seconds)
    stale = db.session.scalars(select(Connection.sid).where(Connection.seen_at < cutoff)).all()
    return forget_connections(stale)


def server_sids(server_id: str) -> list[str]:
    """Return the sockets recorded for one server process."""
    return list(db.session.scalars(select(Connection.sid).where(Connection.server_id == server_id)))


def forget_connections(sids: Sequence[str]) -> list[Outcome]:
    """Drop recorded sockets that no longer exist; returns each affected room's change."""
    if not sids:
        return []
    rows = db.session.execute(
        select(Connection.sid, Connection.room_id).where(Connection.sid.in_(sids))
    ).all()
    outcomes = []
    for room_id in sorted({row.room_id for row in rows}):
        gone = [row.sid for row in rows if row.room_id == room_id]

        def change(room: Room, flow: RoomFlow, rituals: list[Ritual], gone=gone) -> None:
            db.session.execute(delete(Connection).where(Connection.sid.in_(gone)))

        outcomes.append(_change(room_id, None, change))
    return outcomes


def online_member_ids(room_id: int) -> set[int]:
    """Return the ids of members with at least one live participant socket."""
    return set(
        db.session.scalars(
            select(Connection.member_id).where(
                Connection.room_id == room_id, Connection.viewer.is_(False)
            )
        )
    )


def claim_grace() -> float:
    """Return how long the facilitator may be away (a refresh, a Wi-Fi blip) before a take-over."""
    return float(current_app.config["CLAIM_GRACE"])


# -- commands ---------------------------------------------------------------

ROOM_COMMANDS = {
    "start",
    "next",
    "previous",
    "end",
    "timer_start",
    "timer_extend",
    "timer_stop",
    "handover",
    "claim",
    "publish",
}
# A step command calls the ritual method of that name (with the payload's fields), if the
# current step's kind has one; "pass" is a keyword in Python.
STEP_COMMANDS = {
    "answer": "answer",
    "pass": "pass_",
    "pass_turn": "pass_turn",
    "reveal": "reveal",
    "rate": "rate",
    "add_card": "add_card",
    "edit_card": "edit_card",
    "delete_card": "delete_card",
    "group_card": "group_card",
    "title_group": "title_group",
    "open_voting": "open_voting",
    "vote": "vote",
    "unvote": "unvote",
    "close_voting": "close_voting",
    "draft_statement": "draft_statement",
    "call_consent": "call_consent",
    "consent": "consent",
    "close_consent": "close_consent",
    "propose": "propose",
    "amend_proposal": "amend_proposal",
    "withdraw": "withdraw",
    "keep": "keep",
}
COMMANDS = ROOM_COMMANDS | set(STEP_COMMANDS)


def execute(member_id: int, command: str, args: Mapping[str, Any], action_id: str) -> Outcome:
    """Apply one member's command to their room, once per action id."""
    if command not in COMMANDS:
        raise RitualError("unknown_event")
    room_id = db.session.get_one(Member, member_id).room_id

    def change(room: Room, flow: RoomFlow, rituals: list[Ritual]) -> None:
        applied = _applied_seq(member_id, action_id)
        if applied is not None:
            raise _Duplicate(applied)
        if flow.status == "ended":
            # Read-only from here on, whoever asks and whatever the command.
            raise RitualError("room_ended")
        actor = Actor(member_id, is_facilitator=room.facilitator_id == member_id)
        if command in ROOM_COMMANDS:
            _room_command(room, flow, rituals, actor, command, args)
        else:
            flow.require_step(args["step"])
            _step_command(rituals[flow.step_index], actor, command, args)
        db.session.add(
            ProcessedAction(room_id=room.id, member_id=member_id, action_id=action_id, seq=room.seq)
        )

    try:
        return _change(room_id, member_id, change)
    except _Duplicate as done:
        return _duplicate(member_id, done.seq)
    except IntegrityError:
        # Two retries of one action raced and the first one won; anything else is a bug.
        applied = _applied_seq(member_id, action_id)
        if applied is None:
            raise
        return _duplicate(member_id, applied)


def _applied_seq(member_id: int, action_id: str) -> int | None:
    """Return the seq at which this member's action was applied, if it was."""
    return db.session.scalar(
        select(ProcessedAction.seq).where(
            ProcessedAction.member_id == member_id, ProcessedAction.action_id == action_id
        )
    )


def _duplicate(member_id: int, applied_seq: int) -> Outcome:
    """Answer a retried action: the seq it was applied at, and the member's current view."""
    outcome = snapshot(member_id, duplicate=True)
    outcome.seq = applied_seq
    return outcome


def _room_command(
    room: Room,
    flow: RoomFlow,
    rituals: list[Ritual],
    actor: Actor,
    command: str,
    args: Mapping[str, Any],
) -> None:
    """Apply a command that drives the room itself."""
    now = time.time()
    before = flow.step_index
    away = room.facilitator_away_since
    handlers: dict[str, Callable[[], None]] = {
        "start": lambda: flow.start(actor),
        "next": lambda: flow.next(actor),
        "previous": lambda: flow.previous(actor),
        "end": lambda: flow.end(actor),
        "timer_start": lambda: flow.timer_start(actor, args["seconds"], now),
        "timer_extend": lambda: flow.timer_extend(actor, args["seconds"], now),
        "timer_stop": lambda: flow.timer_stop(actor),
        "handover": lambda: flow.handover(actor, args["member"], {m.id for m in room.members}),
        "claim": lambda: flow.claim(
            actor, away_for=None if away is None else now - away, grace=claim_grace()
        ),
        "publish": lambda: _publish(room, flow, rituals, actor),
    }
    handlers[command]()
    if flow.status == "running" and flow.step_index != before:
        ritual = rituals[flow.step_index]
        if isinstance(ritual, CharterStep) and not ritual.loaded:
            # The step works on the charter as it is when the step first opens.
            ritual.load_charter(
                charter.current_purpose(room.team), charter.current_agreements(room.team)
            )
        ritual.begin(_presence_order(room), random.SystemRandom())


def _publish(room: Room, flow: RoomFlow, rituals: Sequence[Ritual], actor: Actor) -> None:
    """Publish the room's charter draft as a new version, ratified by who is present."""
    require_facilitator(actor)
    if flow.status != "running":
        raise RitualError("not_running")
    purpose, ops = charter_draft(rituals)
    online = online_member_ids(room.id)
    names = {m.id: m.display_name for m in room.members}
    charter.publish_draft(
        room.team,
        room.id,
        purpose,
        ops,
        ratified_by=[names[m.id] for m in room.members if m.id in online],
        author=names.get(actor.member_id, ""),
    )


def charter_draft(rituals: Sequence[Ritual]) -> tuple[str | None, list[dict[str, Any]]]:
    """Return what the room's steps have ratified: a purpose statement and agreement changes."""
    purpose = None
    ops: list[dict[str, Any]] = []
    for ritual in rituals:
        if isinstance(ritual, PurposeAlignment) and ritual.ratified:
            purpose = ritual.ratified
        elif isinstance(ritual, AgreementDrafting):
            ops += ritual.draft_ops()
    return purpose, ops


def _step_command(ritual: Ritual, actor: Actor, command: str, args: Mapping[str, Any]) -> None:
    """Apply a command to the current ritual step, if its kind knows the command."""
    method = getattr(ritual, STEP_COMMANDS[command], None)
    if method is None:
        raise RitualError("not_in_this_step")
    method(actor, **{name: value for name, value in args.items() if name != "step"})


def _presence_order(room: Room) -> list[int]:
    """Return the online members in join order (the ritual shuffles if it needs to)."""
    online = online_member_ids(room.id)
    return [m.id for m in room.members if m.id in online]


class _Duplicate(Exception):
    """The action id was applied before."""

    def __init__(self, seq: int) -> None:
        super().__init__(seq)
        self.seq = seq


# -- the one place a room changes ---------------------------------------------


def _change(
    room_id: int,
    member_id: int | None,
    mutate: Callable[[Room, RoomFlow, list[Ritual]], None],
) -> Outcome:
    """Lock the room, apply `mutate`, persist and commit; roll back on any error."""
    try:
        db.session.execute(update(Room).where(Room.id == room_id).values(seq=Room.seq + 1))
        room = db.session.get_one(Room, room_id, populate_existing=True)
        flow = load_flow(room)
        rituals = load_rituals(room)
        mutate(room, flow, rituals)
        online = online_member_ids(room.id)
        save(room, flow, rituals, online)
        public = public_view(room, flow, rituals, online)
        private = private_view(room, rituals, member_id) if member_id is not None else None
        # Read before the commit: afterwards the expired attribute would be reloaded
        # and could already show a later change by another transaction.
        seq = room.seq
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return Outcome(room_id=room_id, seq=seq, public=public, private=private)


def load_flow(room: Room) -> RoomFlow:
    """Return the room's flow state machine."""
    return RoomFlow(
        status=room.status,
        step_index=room.step_index,
        step_count=len(room.steps),
        facilitator_id=room.facilitator_id,
        timer=RoomFlow.timer_from_state(room.timer),
    )


def load_rituals(room: Room) -> list[Ritual]:
    """Return the room's steps as ritual state machines."""
    return [STEP_KINDS[step.kind].from_state(step.state) for step in room.steps]


def save(room: Room, flow: RoomFlow, rituals: Iterable[Ritual], online: set[int]) -> None:
    """Write the state machines back to the room's rows."""
    if flow.status == "running" and room.started_at is None:
        room.started_at = utcnow()
    if flow.status == "ended" and room.ended_at is None:
        room.ended_at = utcnow()
    room.status = flow.status
    room.step_index = flow.step_index
    handed_over = room.facilitator_id != flow.facilitator_id
    room.facilitator_id = flow.facilitator_id
    room.timer = flow.timer_state()
    # Since when the (new) facilitator has been away decides when others may take over.
    if flow.status == "ended" or flow.facilitator_id in online:
        room.facilitator_away_since = None
    elif room.facilitator_away_since is None or handed_over:
        room.facilitator_away_since = time.time()
    for step, ritual in zip(room.steps, rituals, strict=True):
        state = ritual.to_state()
        if state != step.state:
            step.state = state


# -- views --------------------------------------------------------------------


def public_view(
    room: Room, flow: RoomFlow, rituals: Sequence[Ritual], online: set[int]
) -> dict[str, Any]:
    """Return the room as every member may see it."""
    online = online_member_ids(room.id)
    current = rituals[flow.step_index] if 0 <= flow.step_index < len(rituals) else None
    now = time.time()
    return {
        "seq": room.seq,
        "server_time": now,
        "room": {
            "code": room.code,
            "title": room.title,
            "team": room.team.name,
            "status": flow.status,
            "step_index": flow.step_index,
            "facilitator_id": flow.facilitator_id,
            # From when any member may take over facilitation (None while the facilitator is here).
            "claimable_at": (
                room.facilitator_away_since + claim_grace()
                if room.facilitator_away_since is not None
                else None
            ),
        },
        "members": [
            {"id": m.id, "name": m.display_name, "online": m.id in online} for m in room.members
        ],
        "agenda": [_agenda_entry(r) for r in rituals],
        "step": current.public_view() if current is not None else None,
        "timer": flow.timer.view(now),
        "charter": _charter_view(room, rituals),
    }


def _charter_view(room: Room, rituals: Sequence[Ritual]) -> dict[str, Any] | None:
    """Return the room's charter draft and whether it is published, for rooms that draft one."""
    if not any(isinstance(r, CharterStep) for r in rituals):
        return None
    purpose, ops = charter_draft(rituals)
    published = charter.room_publication(room.id)
    dirty = bool(purpose is not None or ops) and (
        published is None or published.draft_key != charter.draft_key(purpose, ops)
    )
    return {
        "draft": {"purpose": purpose, "ops": ops},
        "published": (
            {"number": published.number, "created_at": _iso(published.created_at)}
            if published is not None
            else None
        ),
        "dirty": dirty,
        "can_publish": dirty and room.status == "running",
    }


def _iso(moment: datetime) -> str:
    """Return a stored UTC time as ISO 8601 with a Z, to the second."""
    return moment.replace(microsecond=0).isoformat() + "Z"


def _agenda_entry(ritual: Ritual) -> dict[str, Any]:
    """Return the short description of a step shown in the agenda."""
    entry: dict[str, Any] = {"kind": ritual.kind}
    if isinstance(ritual, CheckInRound):
        entry.update(mode=ritual.mode, prompt=ritual.prompt, prompt_id=ritual.prompt_id)
    elif isinstance(ritual, CharterStep):
        entry.update(anonymous=ritual.anonymous)
    return entry


def private_view(room: Room, rituals: Sequence[Ritual], member_id: int) -> dict[str, Any]:
    """Return what only this member may see: who they are and their own answers."""
    return {
        "member_id": member_id,
        "is_facilitator": room.facilitator_id == member_id,
        "steps": [r.private_view(member_id) for r in rituals],
    }


def snapshot(member_id: int, duplicate: bool = False) -> Outcome:
    """Return the full current state for one member, without changing anything."""
    member = db.session.get_one(Member, member_id)
    room = db.session.get_one(Room, member.room_id, populate_existing=True)
    flow, rituals = load_flow(room), load_rituals(room)
    outcome = Outcome(
        room_id=room.id,
        seq=room.seq,
        public=public_view(room, flow, rituals, online_member_ids(room.id)),
        private=private_view(room, rituals, member_id),
        duplicate=duplicate,
    )
    db.session.rollback()
    return outcome


def summary(room: Room) -> dict[str, Any]:
    """Return everything the read-only summary shows: each step's public result."""
    flow, rituals = load_flow(room), load_rituals(room)
    names = {m.id: m.display_name for m in room.members}
    return {
        "room": room,
        "names": names,
        "steps": [r.public_view() for r in rituals],
        "facilitator": names.get(flow.facilitator_id or -1),
        "published": charter.room_publications(room.id),
    }
