"""Pulse trends: aggregates per room from revealed scales with at least 3 answers, as SVG."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import render_template_string
from markupsafe import escape

from retro.charts import ChartPoint, line_chart
from retro.extensions import db
from retro.models import Room, Step
from retro.trends import SERIES, team_trends, trend_chart

HOSTILE = '<script>alert("x")</script>'
MONDAY = datetime(2025, 3, 3, 9, 0)


def tally(counts: dict[str, list[int]], responders: int | None = None) -> dict:
    """Return a ScaleTally state with these histograms (responders: the first one's total)."""
    if responders is None:
        responders = sum(next(iter(counts.values())))
    return {
        "scales": list(counts),
        "responders": list(range(1, responders + 1)),
        "counts": counts,
    }


def checkin(counts: dict[str, list[int]], revealed: bool = True, **extra) -> tuple[str, dict]:
    """Return a check-in step's kind and state with these scale histograms."""
    return "checkin", {"revealed": revealed, "tally": tally(counts, **extra)}


def checkout(roti: list[int], revealed: bool = True) -> tuple[str, dict]:
    """Return a check-out step's kind and state with this ROTI histogram."""
    return "checkout", {"revealed": revealed, "roti": tally({"roti": roti})}


def agreements_check(counts: dict[str, list[int]], revealed: bool = True) -> tuple[str, dict]:
    """Return an agreements check step's kind and state: one histogram per agreement id."""
    return "agreements_check", {"revealed": revealed, "tally": tally(counts)}


@pytest.fixture
def make_ran_room(make_team):
    """Return a factory of started rooms of one team, with steps written straight to the DB."""
    team = make_team()

    def make(*steps: tuple[str, dict], title: str = "", days: int = 0, started: bool = True):
        created = MONDAY + timedelta(days=days)
        room = Room(
            team=team,
            title=title,
            status="ended" if started else "lobby",
            created_at=created,
            started_at=created if started else None,
        )
        room.steps = [
            Step(position=index, kind=kind, state=state)
            for index, (kind, state) in enumerate(steps)
        ]
        db.session.add(room)
        db.session.commit()
        return room

    make.team = team
    return make


def series_of(team) -> dict:
    """Return the team's trends as {key: [(room code, average, count)]}."""
    return {s.key: [(p.room_code, p.average, p.count) for p in s.points] for s in team_trends(team)}


def test_a_team_without_rooms_has_six_empty_series(make_team):
    trends = team_trends(make_team())
    assert [s.key for s in trends] == list(SERIES)
    assert [s.key for s in trends] == [
        "energy",
        "autonomy",
        "competence",
        "relatedness",
        "roti",
        "keeping",
    ]
    assert all(s.points == [] and s.latest is None for s in trends)
    assert [s.label for s in trends][-2:] == ["Return on time invested", "Agreement keeping"]


def test_a_revealed_check_in_with_three_answers_gives_a_point_per_scale(make_ran_room):
    room = make_ran_room(
        checkin({"energy": [0, 1, 0, 2, 0], "relatedness": [0, 0, 0, 0, 3]}), title="Retro"
    )
    trends = series_of(make_ran_room.team)
    assert trends["energy"] == [(room.code, 3.33, 3)]
    assert trends["relatedness"] == [(room.code, 5.0, 3)]
    assert trends["autonomy"] == trends["competence"] == []
    point = team_trends(make_ran_room.team)[0].points[0]
    assert (point.label, point.created_at) == ("Retro", MONDAY)


def test_scales_answered_by_fewer_than_three_people_give_no_point(make_ran_room):
    make_ran_room(checkin({"energy": [0, 0, 1, 1, 0]}), checkout([0, 0, 0, 0, 2]))
    trends = series_of(make_ran_room.team)
    assert trends["energy"] == []
    assert trends["roti"] == []


def test_unrevealed_scales_give_no_point(make_ran_room):
    make_ran_room(
        checkin({"energy": [0, 0, 3, 1, 0]}, revealed=False),
        checkout([0, 0, 0, 1, 4], revealed=False),
        agreements_check({"a1": [0, 0, 0, 3, 0]}, revealed=False),
    )
    assert all(points == [] for points in series_of(make_ran_room.team).values())


def test_a_room_that_never_started_gives_no_point(make_ran_room):
    make_ran_room(checkin({"energy": [0, 0, 3, 0, 0]}), started=False)
    assert series_of(make_ran_room.team)["energy"] == []


def test_several_steps_of_one_kind_in_a_room_pool_their_answers(make_ran_room):
    room = make_ran_room(
        checkin({"energy": [0, 0, 3, 0, 0]}),
        checkin({"energy": [0, 0, 0, 0, 3]}),
        checkout([0, 0, 0, 3, 0]),
        checkout([0, 0, 0, 1, 2]),
    )
    trends = series_of(make_ran_room.team)
    assert trends["energy"] == [(room.code, 4.0, 6)]
    assert trends["roti"] == [(room.code, 4.33, 6)]


def test_a_step_below_the_threshold_is_not_pooled_with_a_published_one(make_ran_room):
    # Pooled, the two answers of the second step could be read by subtracting the first.
    room = make_ran_room(checkin({"energy": [0, 0, 3, 0, 0]}), checkin({"energy": [2, 0, 0, 0, 0]}))
    assert series_of(make_ran_room.team)["energy"] == [(room.code, 3.0, 3)]


def test_points_follow_the_rooms_in_the_order_they_were_created(make_ran_room):
    later = make_ran_room(checkout([0, 0, 0, 0, 3]), days=7)
    earlier = make_ran_room(checkout([0, 0, 3, 0, 0]), days=0)
    make_ran_room(checkout([0, 0, 0, 0, 1]), days=3)  # too few answers: no point
    assert series_of(make_ran_room.team)["roti"] == [(earlier.code, 3.0, 3), (later.code, 5.0, 3)]


def test_agreement_keeping_is_the_mean_of_the_agreements_averages(make_ran_room):
    # a1 averages 5.0 (3 answers), a2 averages 2.0: each agreement weighs the same.
    room = make_ran_room(agreements_check({"a1": [0, 0, 0, 0, 3], "a2": [0, 3, 0, 0, 0]}))
    make_ran_room(agreements_check({"a1": [0, 0, 0, 1, 1]}), days=1)  # two answers: no point
    assert series_of(make_ran_room.team)["keeping"] == [(room.code, 3.5, 3)]


def test_agreement_keeping_rounds_to_two_decimals(make_ran_room):
    room = make_ran_room(agreements_check({"a1": [0, 0, 1, 1, 1], "a2": [0, 0, 2, 1, 0]}))
    # a1: 4.0, a2: 3.333…; mean 3.666… → 3.67
    assert series_of(make_ran_room.team)["keeping"] == [(room.code, 3.67, 3)]


def test_other_teams_rooms_do_not_count(make_ran_room, make_team):
    make_ran_room(checkout([0, 0, 0, 0, 3]))
    assert series_of(make_team("Other"))["roti"] == []


# -- the chart --------------------------------------------------------------------------


def test_the_chart_is_an_accessible_svg_with_a_line_dots_and_the_latest_value(app, make_ran_room):
    make_ran_room(checkout([0, 0, 3, 0, 0]), title="First")
    make_ran_room(checkout([0, 0, 0, 0, 3]), title="Second", days=7)
    roti = team_trends(make_ran_room.team)[4]
    with app.test_request_context():
        svg = str(trend_chart(roti))
    assert svg.startswith('<svg class="trend-chart" id="trend-roti" viewBox="0 0 300 150"')
    assert 'width="100%"' in svg
    assert 'role="img" aria-labelledby="trend-roti-title" aria-describedby="trend-roti-desc"' in svg
    assert (
        '<title id="trend-roti-title">Return on time invested per room, from 1 to 5</title>' in svg
    )
    assert "2 rooms. Latest: 5.00 in Second." in svg
    assert svg.count("<circle") == 2
    assert svg.count("<polyline") == 1
    assert ">5.00</text>" in svg
    # A gridline and a label for every value from 1 to 5.
    assert svg.count("<line ") == 5
    for value in range(1, 6):
        assert f">{value}</text>" in svg
    assert "<title>First: 3.00 (3 answers)</title>" in svg


def test_a_chart_of_one_point_shows_the_point_without_a_line(app):
    with app.test_request_context():
        svg = str(
            line_chart(
                "one",
                title="Energy",
                description="One room.",
                points=[ChartPoint(value=4.0, value_text="4.00", tick="3 Mar", title="Retro")],
                empty_text="Not enough answers yet.",
            )
        )
    assert svg.count("<circle") == 1
    assert "<polyline" not in svg
    assert ">4.00</text>" in svg


def test_a_chart_without_points_says_there_are_not_enough_answers(app, make_team):
    energy = team_trends(make_team())[0]
    with app.test_request_context():
        html = str(trend_chart(energy))
    assert "<svg" not in html
    assert "Not enough answers yet" in html


def test_values_outside_the_scale_stay_inside_the_chart():
    svg = str(
        line_chart(
            "c",
            title="t",
            description="d",
            points=[
                ChartPoint(value=9, value_text="9", tick="a", title="a"),
                ChartPoint(value=-1, value_text="-1", tick="b", title="b"),
            ],
            empty_text="",
        )
    )
    assert 'cy="12.0"' in svg  # the top gridline (5)
    assert 'cy="124.0"' in svg  # the bottom gridline (1)


def test_only_first_and_last_ticks_are_labelled_when_there_are_many_points():
    points = [
        ChartPoint(value=3, value_text="3", tick=f"day {n}", title=f"room {n}") for n in range(6)
    ]
    svg = str(line_chart("c", title="t", description="d", points=points, empty_text=""))
    assert ">day 0</text>" in svg and ">day 5</text>" in svg
    assert ">day 2</text>" not in svg
    assert svg.count("<circle") == 6


def test_a_hostile_room_title_is_escaped_in_the_chart_and_the_table(app, make_ran_room):
    make_ran_room(checkout([0, 0, 0, 3, 0]), title=HOSTILE)
    with app.test_request_context():
        svg = str(trend_chart(team_trends(make_ran_room.team)[4]))
        table = render_template_string(
            '{% from "_trends.html" import trends %}{{ trends(series) }}',
            series=team_trends(make_ran_room.team),
        )
    for html in (svg, table):
        assert HOSTILE not in html
        assert "<script" not in html
        assert escape(HOSTILE) in html


def test_the_trends_macro_gives_each_chart_a_table_of_its_points(app, make_ran_room):
    first = make_ran_room(checkout([0, 0, 3, 0, 0]), title="First")
    make_ran_room(checkout([0, 0, 0, 1, 3]), title="Second", days=7)
    with app.test_request_context():
        html = render_template_string(
            '{% from "_trends.html" import trends %}{{ trends(series) }}',
            series=team_trends(make_ran_room.team),
        )
    assert html.count('<svg class="trend-chart"') == 1
    assert html.count('class="trend-empty"') == 5
    assert "<caption>Return on time invested per room, from 1 to 5</caption>" in html
    assert f'<a href="/r/{first.code}/summary">First</a>' in html
    assert "<td>3.00</td>" in html and "<td>4.75</td>" in html
    assert "<td>3</td>" in html and "<td>4</td>" in html
    assert "Show as table" in html


def test_the_trends_macro_explains_trends_when_there_are_none(app, make_team):
    with app.test_request_context():
        html = render_template_string(
            '{% from "_trends.html" import trends %}{{ trends(series) }}',
            series=team_trends(make_team()),
        )
    assert "<svg" not in html
    assert "No trends yet." in html
