"""Rooms: create, join, connect, run commands. Every change is committed before it is returned.

A change to a room runs in one transaction that starts by incrementing the
room's `seq`. That first write takes the row lock (PostgreSQL) or the write
lock (SQLite), so concurrent commands for one room apply one after the other,
from any number of server processes, and each committed change has its own
sequence number.
"""

from __future__ import annotations

import inspect
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast, overload

from flask import current_app
from sqlalchemy import Boolean, Delete, bindparam, delete, insert, select, type_coerce, update
from sqlalchemy.engine import CursorResult, Row
from sqlalchemy.exc import IntegrityError

from retro.extensions import db
from retro.i18n import today_iso
from retro.models import Connection, Member, ProcessedAction, Room, Step, Team
from retro.models.base import digest, new_token, utcnow
from retro.prompts import BY_ID
from retro.rituals import (
    STEP_KINDS,
    Actor,
    AgreementDrafting,
    AgreementsCheck,
    CheckInRound,
    CheckOut,
    DeedsReview,
    PurposeAlignment,
    Retrospective,
    RitualError,
    RoomFlow,
)
from retro.rituals.base import clean_name, require_facilitator, visible_text
from retro.services import charter, deeds

NAME_LIMIT = 64
TEAM_NAME_LIMIT = 80
MAX_STEPS = 12

Ritual = (
    CheckInRound
    | CheckOut
    | PurposeAlignment
    | AgreementDrafting
    | Retrospective
    | DeedsReview
    | AgreementsCheck
)
CharterStep = PurposeAlignment | AgreementDrafting
# A room's members in joining order, as rows of (id, display_name, online).
Roster = Sequence[Any]


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
    if kind == "retro":
        return Retrospective.create(
            format=spec.get("format", "ssc"),
            columns=spec.get("columns"),
            anonymous=spec.get("anonymous", False),
            votes=spec.get("votes", 3),
        )
    if kind == "deeds_review":
        return DeedsReview.create()
    if kind == "agreements_check":
        return AgreementsCheck.create(threshold=spec.get("threshold", 3))
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
    # Invisible characters go, as in names; PostgreSQL refuses a NUL in text outright.
    room = Room(team=team, title=visible_text(title)[:120], timer={})
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
    if "\x00" in code:
        # No code holds a NUL, and PostgreSQL refuses to compare text holding one.
        return None
    return db.session.scalar(select(Room).where(Room.code == code))


def team_by_key(key: str) -> Team | None:
    """Return the team with this secret key."""
    if "\x00" in key:
        # No key holds a NUL, and PostgreSQL refuses to compare text holding one.
        return None
    return db.session.scalar(select(Team).where(Team.key == key))


# -- presence ---------------------------------------------------------------


def connect(member_id: int, sid: str, server_id: str, viewer: bool = False) -> Outcome:
    """Record an open socket for a member and let a running step include them.

    A viewer socket (the projector view) only follows the room: it makes nobody
    online and puts nobody in a talking-stick order.
    """

    def change(room: LiveRoom, flow: RoomFlow, rituals: Steps) -> None:
        _run(
            _ADD_CONNECTION,
            {
                "sid": sid,
                "room_id": room.id,
                "member_id": member_id,
                "server_id": server_id,
                "viewer": viewer,
            },
        )
        if flow.status == "running" and not viewer:
            current = rituals[flow.step_index]
            if current.started:
                current.join(member_id)

    return _change(None, member_id, change)


def disconnect(sid: str) -> Outcome | None:
    """Forget an open socket; returns the room's change, or None for an unknown socket."""
    conn = db.session.get(Connection, sid)
    if conn is None:
        return None
    room_id = conn.room_id

    def change(room: LiveRoom, flow: RoomFlow, rituals: Steps) -> None:
        # Another process's expiry (or this one's upkeep) may have dropped it meanwhile.
        if not _deleted(delete(Connection).where(Connection.sid == sid)):
            raise _Unchanged

    try:
        return _change(room_id, None, change)
    except _Unchanged:
        return None


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
    return forget_connections(stale, stale_before=cutoff)


def server_sids(server_id: str) -> list[str]:
    """Return the sockets recorded for one server process."""
    return list(db.session.scalars(select(Connection.sid).where(Connection.server_id == server_id)))


def server_members(server_id: str) -> dict[int, set[int]]:
    """Return, per room, the members with a socket recorded for one server process."""
    rows = db.session.execute(
        select(Connection.room_id, Connection.member_id).where(Connection.server_id == server_id)
    ).all()
    members: dict[int, set[int]] = {}
    for row in rows:
        members.setdefault(row.room_id, set()).add(row.member_id)
    return members


def forget_connections(sids: Sequence[str], stale_before: datetime | None = None) -> list[Outcome]:
    """Drop recorded sockets that no longer exist; returns each affected room's change.

    With `stale_before`, only rows still without a heartbeat since then are dropped.
    Every process expires stale rows: the DELETE, under the room's lock, decides
    which one does, and a room whose rows are already gone gets no change (no seq).
    """
    if not sids:
        return []
    rows = db.session.execute(
        select(Connection.sid, Connection.room_id).where(Connection.sid.in_(sids))
    ).all()
    outcomes = []
    for room_id in sorted({row.room_id for row in rows}):
        gone = [row.sid for row in rows if row.room_id == room_id]

        def change(room: LiveRoom, flow: RoomFlow, rituals: Steps, gone=gone) -> None:
            statement = delete(Connection).where(Connection.sid.in_(gone))
            if stale_before is not None:
                statement = statement.where(Connection.seen_at < stale_before)
            if not _deleted(statement):
                raise _Unchanged

        try:
            outcomes.append(_change(room_id, None, change))
        except _Unchanged:
            continue
    return outcomes


def _deleted(statement: Delete) -> int:
    """Run a DELETE and return how many rows it removed."""
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount


def socket_member(sid: str) -> tuple[int, bool] | None:
    """Return (member id, viewer) of the open socket `sid` as recorded at connect, if any."""
    row = _run(_SOCKET_MEMBER, {"sid": sid}).first()
    return (row.member_id, row.viewer) if row is not None else None


def _roster(room_id: int) -> Roster:
    """Return the room's members in joining order: (id, display_name, online).

    A member is online with at least one participant socket. Plain rows from one
    query, not Member objects: building fifty ORM objects for every change of a full
    room was the largest single cost `make bench` profiled.
    """
    return _run(_ROSTER, {"room_id": room_id}).all()


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
    "cancel_consent": "cancel_consent",
    "lock_grouping": "lock_grouping",
    "skip_voting": "skip_voting",
    "highlight": "highlight",
    "extend_topic": "extend_topic",
    "start_deeds": "start_deeds",
    "add_deed": "add_deed",
    "edit_deed": "edit_deed",
    "delete_deed": "delete_deed",
    "ready": "ready",
    "decide_deed": "decide_deed",
    "pulse": "pulse",
}
COMMANDS = ROOM_COMMANDS | set(STEP_COMMANDS)


def execute(member_id: int, command: str, args: Mapping[str, Any], action_id: str) -> Outcome:
    """Apply one member's command to their room, once per action id."""
    if command not in COMMANDS:
        raise RitualError("unknown_event")

    def change(room: LiveRoom, flow: RoomFlow, rituals: Steps) -> None:
        # Recorded first, with the seq this change takes: an action applied before is
        # refused here by the unique constraint on (member, action id), before anything
        # else is read or changed (see the IntegrityError below).
        _run(
            _RECORD_ACTION,
            {"room_id": room.id, "member_id": member_id, "action_id": action_id, "seq": room.seq},
        )
        if flow.status == "ended" and command != "publish":
            # Read-only from here on, whoever asks and whatever the command; only the
            # charter draft the room ratified may still be published, so none is lost.
            raise RitualError("room_ended")
        actor = Actor(member_id, is_facilitator=room.facilitator_id == member_id)
        if command in ROOM_COMMANDS:
            _room_command(room, flow, rituals, actor, command, args)
        else:
            flow.require_step(args["step"])
            _step_command(room, rituals[flow.step_index], actor, command, args)

    try:
        return _change(None, member_id, change)
    except IntegrityError:
        # The action was applied before (a retry), or a retry of it raced this one and
        # won: either way the whole change was rolled back (on PostgreSQL the failed
        # INSERT aborted the transaction), and the action is answered as a duplicate
        # from a fresh transaction. Any other IntegrityError is a bug.
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
    room: LiveRoom,
    flow: RoomFlow,
    rituals: Steps,
    actor: Actor,
    command: str,
    args: Mapping[str, Any],
) -> None:
    """Apply a command that drives the room itself."""
    now = time.time()
    before = flow.step_index
    was_running = flow.status == "running"
    away = room.facilitator_away_since
    handlers: dict[str, Callable[[], None]] = {
        "start": lambda: flow.start(actor),
        "next": lambda: flow.next(actor),
        "previous": lambda: flow.previous(actor),
        "end": lambda: flow.end(actor),
        "timer_start": lambda: flow.timer_start(actor, args["seconds"], now),
        "timer_extend": lambda: flow.timer_extend(actor, args["seconds"], now),
        "timer_stop": lambda: flow.timer_stop(actor),
        "handover": lambda: flow.handover(
            actor, args["member"], {member.id for member in _roster(room.id)}
        ),
        "claim": lambda: flow.claim(
            actor, away_for=None if away is None else now - away, grace=claim_grace()
        ),
        "publish": lambda: _publish(room, flow, rituals, actor),
    }
    handlers[command]()
    if was_running and (flow.status != "running" or flow.step_index != before):
        _leave_step(rituals[before])
    if flow.status == "running" and flow.step_index != before:
        ritual = rituals[flow.step_index]
        _load(room, ritual, rituals)
        ritual.begin(_presence_order(room), random.SystemRandom())


def _load(room: LiveRoom, ritual: Ritual, rituals: Sequence[Ritual]) -> None:
    """Give a step what it works on, as it is when the step first opens (once).

    The charter's purpose and agreements, the team's open deeds, and for agreement
    drafting which agreements the team's last agreements check flagged.
    """
    if isinstance(ritual, CheckInRound | CheckOut) or ritual.loaded:
        return
    if isinstance(ritual, DeedsReview):
        ritual.load_deeds(deeds.review_items(room.model()), today=today_iso())
        return
    team = room.team()
    purpose, agreements = charter.current_purpose(team), charter.current_agreements(team)
    if isinstance(ritual, AgreementsCheck):
        ritual.load_charter(purpose, agreements, today=today_iso())
    elif isinstance(ritual, AgreementDrafting):
        ritual.load_charter(purpose, agreements, flags=agreement_flags(room, rituals, agreements))
    else:
        ritual.load_charter(purpose, agreements)


def agreement_flags(
    room: LiveRoom, rituals: Sequence[Ritual], agreements: Sequence[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Return the agreements to look at again: {id: ["low" and/or "review_due"]}.

    "low" comes from the latest conclusive agreements check (revealed, with enough
    answers), this room's own before the team's earlier rooms'; "review_due" from each
    agreement's review date, as of today.
    """
    checks = [r for r in rituals if isinstance(r, AgreementsCheck) and r.conclusive]
    latest = checks[-1] if checks else _last_team_check(room)
    flags: dict[str, list[str]] = {}
    if latest is not None:
        for agreement_id, reasons in latest.flags().items():
            if "low" in reasons:
                flags[agreement_id] = ["low"]
    today = today_iso()
    for agreement in agreements:
        due = agreement.get("review_date")
        if due and due <= today:
            flags.setdefault(agreement["id"], []).append("review_due")
    return flags


def _last_team_check(room: LiveRoom) -> AgreementsCheck | None:
    """Return the latest conclusive agreements check of the team's earlier rooms, if any."""
    rows = db.session.execute(
        select(Step.state)
        .join(Room, Room.id == Step.room_id)
        .where(Room.team_id == room.team_id, Room.id < room.id, Step.kind == "agreements_check")
        .order_by(Room.created_at.desc(), Room.id.desc(), Step.position.desc())
    )
    for row in rows:
        check = AgreementsCheck.from_state(row.state)
        if check.conclusive:
            return check
    return None


def _leave_step(ritual: Ritual) -> None:
    """Cancel a consent vote still open in a step the room leaves (next, previous, end).

    No round is recorded and the scores go, so an anonymous vote's scores are never
    kept next to their members once the room moves on.
    """
    if isinstance(ritual, CharterStep):
        ritual.suspend()


def _publish(room: LiveRoom, flow: RoomFlow, rituals: Sequence[Ritual], actor: Actor) -> None:
    """Publish the room's charter draft as a new version, also after the room ended."""
    require_facilitator(actor)
    if flow.status not in ("running", "ended"):
        raise RitualError("not_running")
    draft = charter_draft(rituals)
    names = {member.id: member.display_name for member in _roster(room.id)}
    charter.publish_draft(
        room.team(),
        room.id,
        draft["purpose"],
        draft["ops"],
        ratified_by=_ratifiers(room, rituals),
        author=names.get(actor.member_id, ""),
        purpose_base=draft["purpose_base"],
    )


def charter_draft(rituals: Sequence[Ritual]) -> dict[str, Any]:
    """Return what the room's steps have ratified, for the charter's next version.

    {"purpose": the ratified statement or None, "purpose_base": the charter's purpose
    when that step opened (None if unknown), "ops": the accepted agreement changes, each
    amend and retire with the "base" the room saw}. Equal drafts are equal dicts.
    """
    chosen = _ratified_purpose(rituals)
    ops: list[dict[str, Any]] = []
    for ritual in rituals:
        if isinstance(ritual, AgreementDrafting):
            ops += ritual.draft_ops()
    return {
        "purpose": chosen.ratified if chosen is not None else None,
        "purpose_base": chosen.current_purpose if chosen is not None and chosen.loaded else None,
        "ops": ops,
    }


def _ratified_purpose(rituals: Sequence[Ritual]) -> PurposeAlignment | None:
    """Return the last purpose step that ratified a statement: its statement is the draft's."""
    chosen = None
    for ritual in rituals:
        if isinstance(ritual, PurposeAlignment) and ritual.ratified:
            chosen = ritual
    return chosen


def _ratifiers(room: LiveRoom, rituals: Sequence[Ritual]) -> list[str]:
    """Return who took part in the passing consent votes behind the draft, in member order."""
    behind: list[CharterStep] = [r for r in rituals if isinstance(r, AgreementDrafting)]
    chosen = _ratified_purpose(rituals)
    if chosen is not None:
        behind.append(chosen)
    voters: set[int] = set()
    for ritual in behind:
        voters.update(ritual.ratifiers())
    return [member.display_name for member in _roster(room.id) if member.id in voters]


def unpublished_changes(room: Room) -> dict[str, Any] | None:
    """Return what the room ratified but has not published to the charter, or None.

    {"purpose": str | None, "ops": [...]}, for the summary and its Markdown export.
    """
    rituals = load_rituals(room)
    if not any(isinstance(r, CharterStep) for r in rituals):
        return None
    draft = charter_draft(rituals)
    purpose, ops = charter.unpublished_draft(room.id, draft["purpose"], draft["ops"])
    if purpose is None and not ops:
        return None
    return {"purpose": purpose, "ops": ops}


def _step_command(
    room: LiveRoom, ritual: Ritual, actor: Actor, command: str, args: Mapping[str, Any]
) -> None:
    """Apply a command to the current ritual step, if its kind knows the command.

    A payload field the step's method does not take is refused (one event may carry a
    setting that only some kinds of step have). A method that declares the keyword-only
    parameter `now` gets the clock, `members` the ids of the room's members and `rng` a
    source of randomness: what a payload may not tell.
    """
    method = getattr(ritual, STEP_COMMANDS[command], None)
    if method is None:
        raise RitualError("not_in_this_step")
    takes, context = _parameters(type(ritual), STEP_COMMANDS[command])
    kwargs = {name: value for name, value in args.items() if name != "step"}
    for name in kwargs:
        if name not in takes:
            raise RitualError("invalid_field", field=name)
    if "now" in context:
        kwargs["now"] = time.time()
    if "rng" in context:
        kwargs["rng"] = random.SystemRandom()
    if "members" in context:
        kwargs["members"] = {member.id for member in _roster(room.id)}
    method(actor, **kwargs)


_CONTEXT = ("now", "members", "rng")
_parameter_cache: dict[tuple[type, str], tuple[frozenset[str], frozenset[str]]] = {}


def _parameters(kind: type, name: str) -> tuple[frozenset[str], frozenset[str]]:
    """Return the payload fields a ritual's method takes, and which context it declares."""
    key = (kind, name)
    if key not in _parameter_cache:
        parameters = list(inspect.signature(getattr(kind, name)).parameters.values())[1:]
        context = frozenset(
            p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.name in _CONTEXT
        )
        takes = frozenset(p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD)
        _parameter_cache[key] = (takes - {"actor"}, context)
    return _parameter_cache[key]


def _presence_order(room: LiveRoom) -> list[int]:
    """Return the online members in join order (the ritual shuffles if it needs to)."""
    return [member.id for member in _roster(room.id) if member.online]


class _Unchanged(Exception):
    """There was nothing left to change: the change is rolled back, seq included."""


# -- the one place a room changes ---------------------------------------------

# A change reads and writes plain rows with these statements, built once (SQLAlchemy
# caches their SQL) and run on the session's connection, inside its transaction. The
# ORM would build an object per row and track it: for a change of a room of fifty that
# was most of the server's work in `make bench`. The ORM still does what few changes
# do (the charter, the team's deeds), on the same transaction.
_ROOM_COLUMNS = (
    Room.id,
    Room.team_id,
    Room.code,
    Room.title,
    Room.status,
    Room.step_index,
    Room.facilitator_id,
    Room.facilitator_away_since,
    Room.seq,
    Room.timer,
    Room.started_at,
    Room.ended_at,
    select(Team.name).where(Team.id == Room.team_id).scalar_subquery().label("team_name"),
)
# The room of a change: by its id, or as the room of a member.
_WHERE = {
    "room_id": Room.id == bindparam("room_id"),
    "member_id": Room.id
    == select(Member.room_id).where(Member.id == bindparam("member_id")).scalar_subquery(),
}
# The change's first write (see the module's docstring), which can also return the row.
_BUMP = {key: update(Room).where(where).values(seq=Room.seq + 1) for key, where in _WHERE.items()}
_BUMP_RETURNING = {key: bump.returning(*_ROOM_COLUMNS) for key, bump in _BUMP.items()}
_READ_ROOM = {key: select(*_ROOM_COLUMNS).where(where) for key, where in _WHERE.items()}
_STEPS = (
    select(Step.id, Step.position, Step.kind, Step.state)
    .where(Step.room_id == bindparam("room_id"))
    .order_by(Step.position)
)
_SAVE_STEP = (
    update(Step)
    .where(Step.id == bindparam("step_id"))
    .values(state=bindparam("new_state", type_=Step.state.type))
)
_ROSTER = (
    select(
        Member.id,
        Member.display_name,
        type_coerce(
            Member.id.in_(
                select(Connection.member_id).where(
                    Connection.room_id == bindparam("room_id"), Connection.viewer.is_(False)
                )
            ),
            Boolean,
        ).label("online"),
    )
    .where(Member.room_id == bindparam("room_id"))
    .order_by(Member.id)
)
_RECORD_ACTION = insert(ProcessedAction)
_ADD_CONNECTION = insert(Connection)
_SOCKET_MEMBER = select(Connection.member_id, Connection.viewer).where(
    Connection.sid == bindparam("sid")
)


def _run(statement: Any, params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
    """Run a Core statement on the session's connection, in its transaction."""
    return db.session.connection().execute(statement, params)


class Steps(Sequence[Ritual]):
    """A room's steps as rituals, each rebuilt from its stored state when first used.

    A command changes one step or two (the current one; the one left and the one
    entered); `save` writes back only the steps used before it runs, and of those only
    the ones whose state changed. A view may use the others afterwards.
    """

    def __init__(self, rows: Sequence[Row[Any]]) -> None:
        self._rows = rows
        self._rituals: list[Ritual | None] = [None] * len(rows)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Ritual: ...

    @overload
    def __getitem__(self, index: slice) -> list[Ritual]: ...

    def __getitem__(self, index: int | slice) -> Ritual | list[Ritual]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        ritual = self._rituals[index]
        if ritual is None:
            row = self._rows[index]
            ritual = self._rituals[index] = STEP_KINDS[row.kind].from_state(row.state)
        return ritual

    def __iter__(self) -> Iterator[Ritual]:
        return (self[index] for index in range(len(self._rows)))

    def used(self) -> Iterator[tuple[Row[Any], Ritual]]:
        """Yield (stored row, ritual) of each step used so far."""
        for row, ritual in zip(self._rows, self._rituals, strict=True):
            if ritual is not None:
                yield row, ritual


@dataclass(eq=False)
class LiveRoom:
    """A room as one change or snapshot reads it: its row's values, and its steps.

    Plain values, not an ORM object (see `_ROOM_COLUMNS`); `model()` and `team()` return
    the ORM objects for what needs them (the charter, the team's deeds).
    """

    id: int
    team_id: int
    code: str
    title: str
    status: str
    step_index: int
    facilitator_id: int | None
    facilitator_away_since: float | None
    seq: int
    timer: dict[str, Any]
    started_at: datetime | None
    ended_at: datetime | None
    team_name: str
    steps: Steps = field(repr=False)

    @classmethod
    def read(cls, values: Row[Any]) -> LiveRoom:
        """Return the room with these values, reading its steps."""
        steps = Steps(_run(_STEPS, {"room_id": values.id}).all())
        return cls(**values._asdict(), steps=steps)

    def model(self) -> Room:
        """Return the room's ORM object, as stored in this transaction so far."""
        return db.session.get_one(Room, self.id, populate_existing=True)

    def team(self) -> Team:
        """Return the room's team."""
        return db.session.get_one(Team, self.team_id)


def _lock(room_id: int | None, member_id: int | None) -> Row[Any]:
    """Add one to the room's seq, as the change's first write, and return the room's row.

    The room is `room_id`, or else the room of `member_id`. SQLite before 3.35 has no
    RETURNING: the row is read after the write, which holds the lock already.
    """
    key = "room_id" if room_id is not None else "member_id"
    params = {key: room_id if room_id is not None else member_id}
    if db.session.get_bind().dialect.update_returning:
        return _run(_BUMP_RETURNING[key], params).one()
    _run(_BUMP[key], params)
    return _run(_READ_ROOM[key], params).one()


def _change(
    room_id: int | None,
    member_id: int | None,
    mutate: Callable[[LiveRoom, RoomFlow, Steps], None],
) -> Outcome:
    """Lock the room, apply `mutate`, persist and commit; roll back on any error.

    The room is `room_id`, or else the room of `member_id`, whose private view the
    outcome carries.
    """
    try:
        room = LiveRoom.read(_lock(room_id, member_id))
        flow = load_flow(room)
        mutate(room, flow, room.steps)
        roster = _roster(room.id)
        save(room, flow, room.steps, roster)
        public = public_view(room, flow, room.steps, roster)
        private = private_view(room, room.steps, member_id) if member_id is not None else None
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    # The moment the change became durable (`server_time` is taken before the commit):
    # `make bench` measures fan-out latency from here to the last member receiving it.
    public["committed_at"] = time.time()
    return Outcome(room_id=room.id, seq=room.seq, public=public, private=private)


def load_flow(room: Room | LiveRoom) -> RoomFlow:
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


def save(room: LiveRoom, flow: RoomFlow, steps: Steps, roster: Roster) -> None:
    """Write the change back: the room's values that changed, and the steps that changed."""
    values: dict[str, Any] = {}
    if flow.status == "running" and room.started_at is None:
        values["started_at"] = utcnow()
    if flow.status == "ended" and room.ended_at is None:
        values["ended_at"] = utcnow()
    # Since when the (new) facilitator has been away decides when others may take over.
    away = room.facilitator_away_since
    if flow.status == "ended" or any(m.online for m in roster if m.id == flow.facilitator_id):
        away = None
    elif away is None or room.facilitator_id != flow.facilitator_id:
        away = time.time()
    latest = {
        "status": flow.status,
        "step_index": flow.step_index,
        "facilitator_id": flow.facilitator_id,
        "timer": flow.timer_state(),
        "facilitator_away_since": away,
    }
    values.update((name, value) for name, value in latest.items() if getattr(room, name) != value)
    if values:
        _run(update(Room).where(Room.id == room.id).values(**values))
        for name, value in values.items():
            setattr(room, name, value)
    names: dict[int, str] | None = None
    for row, ritual in steps.used():
        state = ritual.to_state()
        if state == row.state:
            continue
        changed_deeds = state.get("deeds") != (row.state or {}).get("deeds")
        if isinstance(ritual, Retrospective | DeedsReview) and changed_deeds:
            # The team's deeds follow the room's steps in the same transaction (both steps
            # keep them, and a review its decisions, under "deeds"; a card or a vote does
            # not touch them).
            names = names if names is not None else {m.id: m.display_name for m in roster}
            deeds.sync(room.model(), row.position, ritual, row.state, names)
        _run(_SAVE_STEP, {"step_id": row.id, "new_state": state})


# -- views --------------------------------------------------------------------


def public_view(
    room: LiveRoom, flow: RoomFlow, rituals: Sequence[Ritual], roster: Roster
) -> dict[str, Any]:
    """Return the room as every member may see it."""
    current = rituals[flow.step_index] if 0 <= flow.step_index < len(rituals) else None
    now = time.time()
    return {
        "seq": room.seq,
        "server_time": now,
        "room": {
            "code": room.code,
            "title": room.title,
            "team": room.team_name,
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
            {"id": member_id, "name": name, "online": online} for member_id, name, online in roster
        ],
        "agenda": [_agenda_entry(r) for r in rituals],
        "step": current.public_view() if current is not None else None,
        "timer": flow.timer.view(now),
        "charter": _charter_view(room, rituals),
    }


def _charter_view(room: LiveRoom, rituals: Sequence[Ritual]) -> dict[str, Any] | None:
    """Return the room's charter draft and whether it is published, for rooms that draft one.

    `conflicts` are the ratified changes publishing now would not apply (the charter
    changed there since the room saw it; "not_applied" entries of `check_draft`), and
    `blocked` the error code publishing now would raise, or None.
    """
    if not any(isinstance(r, CharterStep) for r in rituals):
        return None
    draft = charter_draft(rituals)
    purpose, ops = draft["purpose"], draft["ops"]
    published = charter.room_publication(room.id)
    dirty = bool(purpose is not None or ops) and (
        published is None or published.draft_key != charter.draft_key(purpose, ops)
    )
    conflicts: list[dict[str, Any]] = []
    blocked = None
    if dirty:
        try:
            check = charter.check_publication(
                room.team(), room.id, purpose, ops, draft["purpose_base"]
            )
        except RitualError as refused:
            blocked = refused.code
        else:
            conflicts, blocked = check.not_applied, check.blocked
    return {
        "draft": draft,
        "published": (
            {"number": published.number, "created_at": _iso(published.created_at)}
            if published is not None
            else None
        ),
        "dirty": dirty,
        "conflicts": conflicts,
        "blocked": blocked,
        "can_publish": dirty and blocked is None and room.status in ("running", "ended"),
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
    elif isinstance(ritual, Retrospective):
        entry.update(anonymous=ritual.anonymous, format=ritual.format)
    return entry


def private_view(room: LiveRoom, rituals: Sequence[Ritual], member_id: int) -> dict[str, Any]:
    """Return what only this member may see: who they are and their own answers."""
    return {
        "member_id": member_id,
        "is_facilitator": room.facilitator_id == member_id,
        "steps": [r.private_view(member_id) for r in rituals],
    }


def snapshot(member_id: int, duplicate: bool = False) -> Outcome:
    """Return the full current state for one member, without changing anything.

    Its reads see one committed state: a change committed while they run is wholly
    in the next snapshot, never half in this one.
    """
    _read_one_state()
    try:
        room = LiveRoom.read(_run(_READ_ROOM["member_id"], {"member_id": member_id}).one())
        flow = load_flow(room)
        roster = _roster(room.id)
        return Outcome(
            room_id=room.id,
            seq=room.seq,
            public=public_view(room, flow, room.steps, roster),
            private=private_view(room, room.steps, member_id),
            duplicate=duplicate,
        )
    finally:
        db.session.rollback()


def _read_one_state() -> None:
    """Start a transaction whose reads all see the same committed state of the database.

    A view takes several statements to read, without the room's lock. PostgreSQL's
    default READ COMMITTED (which `_change` needs, to see the latest room once it holds
    the lock) gives each statement its own snapshot; REPEATABLE READ keeps the first one
    until the transaction ends, and a transaction that only reads never fails to
    serialize. pysqlite begins a transaction only before a write, so each SELECT would
    see the latest commit; an explicit BEGIN keeps one WAL snapshot from the first read.
    """
    # A fresh transaction: nothing read before may be reused (expired on rollback).
    db.session.rollback()
    if db.session.get_bind().dialect.name == "sqlite":
        connection = db.session.connection()
        if not getattr(connection.connection.dbapi_connection, "in_transaction", False):
            connection.exec_driver_sql("BEGIN")
    else:
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


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
