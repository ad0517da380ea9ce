"""Small, accessible line charts as inline SVG, drawn on the server (no script, no CDN).

Every text that goes into a chart passes through `Markup.format`, which escapes it:
room titles are typed by users. Colours come from CSS classes (see static/css/team.css),
with `currentColor` as the fallback, so a chart follows the page's colours and the
forced colours of a high-contrast mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

# The drawing's own coordinates; the SVG scales to the width of its container.
WIDTH, HEIGHT = 300, 150
LEFT, RIGHT, TOP, BOTTOM = 26, 40, 12, 26
# With more points than this, only the first and the last get a label under the axis.
ALL_TICKS_UP_TO = 4


@dataclass(frozen=True)
class ChartPoint:
    """One point: its value, how to print it, a short axis label and a full description."""

    value: float
    value_text: str
    tick: str
    title: str


def line_chart(
    chart_id: str,
    *,
    title: str,
    description: str,
    points: Sequence[ChartPoint],
    empty_text: str,
    low: int = 1,
    high: int = 5,
) -> Markup:
    """Return an SVG line chart of `points` on a `low`..`high` scale, or a note if empty.

    The SVG is one image to assistive technology (role="img"), named by its <title> and
    described by its <desc>; the page gives the numbers as a table next to it.
    """
    if not points:
        return Markup('<p class="trend-empty">{}</p>').format(empty_text)
    parts = [
        Markup(
            '<svg class="trend-chart" id="{id}" viewBox="0 0 {w} {h}" width="100%"'
            ' role="img" aria-labelledby="{id}-title" aria-describedby="{id}-desc"'
            ' focusable="false" xmlns="http://www.w3.org/2000/svg">'
            '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        ).format(id=chart_id, w=WIDTH, h=HEIGHT, title=title, desc=description),
        _grid(low, high),
        _line(points, low, high),
        _ticks(points),
        Markup("</svg>"),
    ]
    return Markup("").join(parts)


def _x(index: int, count: int) -> float:
    """Return the horizontal position of the point at `index` of `count`."""
    if count == 1:
        return (LEFT + WIDTH - RIGHT) / 2
    return LEFT + index * (WIDTH - LEFT - RIGHT) / (count - 1)


def _y(value: float, low: int, high: int) -> float:
    """Return the vertical position of `value` (clamped to the scale)."""
    value = min(max(value, low), high)
    return TOP + (high - value) * (HEIGHT - TOP - BOTTOM) / (high - low)


def _grid(low: int, high: int) -> Markup:
    """Return a gridline and a label for every whole value of the scale."""
    lines = Markup("").join(
        Markup(
            '<line x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}"/>'
            '<text class="trend-axis" x="{tx}" y="{y:.1f}" dy="0.35em"'
            ' text-anchor="end" fill="currentColor">{value}</text>'
        ).format(x1=LEFT, x2=WIDTH - RIGHT + 8, y=_y(value, low, high), tx=LEFT - 8, value=value)
        for value in range(low, high + 1)
    )
    return Markup(
        '<g class="chart-grid" stroke="currentColor" stroke-opacity="0.2" aria-hidden="true">{}</g>'
    ).format(lines)


def _line(points: Sequence[ChartPoint], low: int, high: int) -> Markup:
    """Return the line through the points, the dots, and the latest value's label."""
    count = len(points)
    coords = [(_x(i, count), _y(p.value, low, high)) for i, p in enumerate(points)]
    parts = []
    if count > 1:
        parts.append(
            Markup(
                '<polyline class="trend-line" points="{}" fill="none" stroke="currentColor"'
                ' stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>'
            ).format(" ".join(f"{x:.1f},{y:.1f}" for x, y in coords))
        )
    for (x, y), point in zip(coords, points, strict=True):
        parts.append(
            Markup(
                '<circle class="trend-dot" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="currentColor">'
                "<title>{title}</title></circle>"
            ).format(x=x, y=y, title=point.title)
        )
    x, y = coords[-1]
    parts.append(
        Markup(
            '<text class="trend-latest" x="{x:.1f}" y="{y:.1f}" dx="8" dy="0.35em"'
            ' fill="currentColor">{value}</text>'
        ).format(x=x, y=y, value=points[-1].value_text)
    )
    return Markup("").join(parts)


def _ticks(points: Sequence[ChartPoint]) -> Markup:
    """Return the labels under the axis: every point's, or the first's and the last's."""
    count = len(points)
    shown = range(count) if count <= ALL_TICKS_UP_TO else (0, count - 1)
    labels = []
    for index in shown:
        anchor = "middle"
        if count > 1 and index == 0:
            anchor = "start"
        elif count > 1 and index == count - 1:
            anchor = "end"
        labels.append(
            Markup(
                '<text class="trend-tick" x="{x:.1f}" y="{y}" text-anchor="{anchor}"'
                ' fill="currentColor">{tick}</text>'
            ).format(x=_x(index, count), y=HEIGHT - 6, anchor=anchor, tick=points[index].tick)
        )
    return Markup('<g aria-hidden="true">{}</g>').format(Markup("").join(labels))
