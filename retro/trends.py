"""Pulse trends: a team's anonymous scales as averages per room, for the team page.

Only aggregates ever leave this module: each point is the average of a room's revealed
answers, and a room gets a point only when every step that contributes to it was answered
by at least `MIN_AGGREGATE` people, exactly as the room itself showed them. A step that
stayed below the threshold is left out instead of pooled with another one: pooling would
let anyone subtract the other step's published average and learn its few answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import format_date, format_decimal, gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from retro.charts import ChartPoint, line_chart
from retro.client_text import SCALE_LABELS
from retro.extensions import db
from retro.models import Room, Step, Team
from retro.rituals.base import MIN_AGGREGATE, SCALE_MAX, SCALE_MIN, ScaleTally
from retro.rituals.checkin import SCALES as CHECKIN_SCALES

KEEPING = "keeping"
SERIES = (*CHECKIN_SCALES, "roti", KEEPING)
SERIES_LABELS: Mapping[str, Any] = {**SCALE_LABELS, KEEPING: _l("Agreement keeping")}
# The step kinds that hold anonymous scales, and where their tally sits in the state.
TALLY_KEYS = {"checkin": "tally", "checkout": "roti", "agreements_check": "tally"}
BUCKETS = SCALE_MAX - SCALE_MIN + 1


@dataclass(frozen=True)
class Point:
    """One room's average on one series: `count` people answered."""

    room_code: str
    title: str
    created_at: datetime
    average: float
    count: int

    @property
    def label(self) -> str:
        """Return the room's title, or its date when it has none."""
        return self.title or gettext("Room on %(date)s", date=format_date(self.created_at))


@dataclass(frozen=True)
class Series:
    """One trend: a translated label and the rooms' points, oldest first."""

    key: str
    label: str
    points: list[Point] = field(default_factory=list)

    @property
    def latest(self) -> Point | None:
        """Return the newest point, if any."""
        return self.points[-1] if self.points else None


@dataclass
class _Pool:
    """What one room's revealed steps add up to on one series."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    responders: int = 0

    def add(self, tally: ScaleTally, scales: Iterable[str]) -> None:
        """Add the histograms of `scales` (histograms of one room add up)."""
        for scale in scales:
            histogram = self.counts.setdefault(scale, [0] * BUCKETS)
            for index, number in enumerate(tally.counts.get(scale, [])[:BUCKETS]):
                histogram[index] += number
        self.responders += len(tally.responders)


def team_trends(team: Team) -> list[Series]:
    """Return the team's six pulse series over its started rooms, oldest room first."""
    points: dict[str, list[Point]] = {key: [] for key in SERIES}
    for room, steps in _started_rooms_with_scales(team):
        for key, pool in _pools(steps).items():
            point = _point(room, key, pool)
            if point is not None:
                points[key].append(point)
    return [Series(key, str(SERIES_LABELS[key]), points[key]) for key in SERIES]


def points_by_room(series: Series) -> dict[str, Point]:
    """Return a series' points keyed by room code (the team page's room list shows ROTI)."""
    return {point.room_code: point for point in series.points}


def _started_rooms_with_scales(team: Team) -> list[tuple[Room, list[Step]]]:
    """Return the team's started rooms in creation order, each with its scale steps."""
    rows = db.session.execute(
        select(Room, Step)
        .join(Step, Step.room_id == Room.id)
        .where(
            Room.team_id == team.id,
            Room.started_at.is_not(None),
            Step.kind.in_(tuple(TALLY_KEYS)),
        )
        .order_by(Room.created_at, Room.id, Step.position)
    )
    rooms: dict[int, tuple[Room, list[Step]]] = {}
    for room, step in rows:
        rooms.setdefault(room.id, (room, []))[1].append(step)
    return list(rooms.values())


def _pools(steps: Iterable[Step]) -> dict[str, _Pool]:
    """Pool the revealed, sufficiently answered tallies of one room's steps per series."""
    pools: dict[str, _Pool] = {}
    for step in steps:
        state = step.state or {}
        if not state.get("revealed"):
            continue
        tally = ScaleTally.from_state(state.get(TALLY_KEYS[step.kind]) or {})
        # Below the threshold the room never showed these answers: neither do we.
        if len(tally.responders) < MIN_AGGREGATE or not tally.scales:
            continue
        if step.kind == "checkin":
            for scale in tally.scales:
                if scale in CHECKIN_SCALES:
                    pools.setdefault(scale, _Pool()).add(tally, [scale])
        elif step.kind == "checkout":
            if "roti" in tally.scales:
                pools.setdefault("roti", _Pool()).add(tally, ["roti"])
        else:
            pools.setdefault(KEEPING, _Pool()).add(tally, tally.scales)
    return pools


def _point(room: Room, key: str, pool: _Pool) -> Point | None:
    """Return the room's point on a series, or None if there is nothing to show."""
    averages = [mean for mean in map(_mean, pool.counts.values()) if mean is not None]
    if pool.responders < MIN_AGGREGATE or not averages:
        return None
    # Agreement keeping: each agreement weighs the same, however many there are.
    average = sum(averages) / len(averages)
    return Point(
        room_code=room.code,
        title=room.title,
        created_at=room.created_at,
        average=round(average, 2),
        count=pool.responders,
    )


def _mean(histogram: list[int]) -> float | None:
    """Return the mean of a 1-5 histogram, or None when it is empty."""
    total = sum(histogram)
    if not total:
        return None
    return sum((index + SCALE_MIN) * number for index, number in enumerate(histogram)) / total


# -- presentation ----------------------------------------------------------------------


def average_text(value: float) -> str:
    """Format an average with two decimals in the reader's language."""
    return format_decimal(value, format="0.00")


def trend_chart(series: Series) -> Markup:
    """Return the series as an accessible SVG line chart (or a note when it has no point)."""
    points = series.points
    description = _description(series)
    return line_chart(
        f"trend-{series.key}",
        title=gettext("%(series)s per room, from 1 to 5", series=series.label),
        description=description,
        points=[
            ChartPoint(
                value=point.average,
                value_text=average_text(point.average),
                tick=format_date(point.created_at, "d MMM"),
                title=ngettext(
                    "%(room)s: %(average)s (%(num)d answer)",
                    "%(room)s: %(average)s (%(num)d answers)",
                    point.count,
                    room=point.label,
                    average=average_text(point.average),
                ),
            )
            for point in points
        ],
        empty_text=gettext("Not enough answers yet: a room counts once 3 people answered."),
        low=SCALE_MIN,
        high=SCALE_MAX,
    )


def _description(series: Series) -> str:
    """Return one sentence that says what the chart shows, for screen readers."""
    latest = series.latest
    if latest is None:
        return gettext("Not enough answers yet: a room counts once 3 people answered.")
    return ngettext(
        "%(num)d room. Latest: %(average)s in %(room)s.",
        "%(num)d rooms. Latest: %(average)s in %(room)s.",
        len(series.points),
        average=average_text(latest.average),
        room=latest.label,
    )
