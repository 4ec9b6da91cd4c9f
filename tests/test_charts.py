"""The day charts' geometry: plain Python, checked without a page."""

import datetime as dt

import pytest

from contests.moments.planning import day_bounds
from contests.staff.charts import (
    LEFT,
    PLOT_WIDTH,
    DayScale,
    Window,
    day_charts,
    hourly_chart,
    nice_axis,
)
from tests.clock import ROME, rome


def scale_of(day: dt.date) -> DayScale:
    return DayScale(*day_bounds(day, ROME), ROME)


def points(polyline: str) -> list[tuple[float, float]]:
    return [tuple(map(float, point.split(","))) for point in polyline.split()]


@pytest.mark.parametrize(
    ("value", "max_steps", "axis"),
    [(0, 5, (1, 1)), (45, 5, (50, 5)), (120, 5, (125, 5)), (3, 2, (4, 2)), (5, 2, (5, 1))],
)
def test_axes_end_on_round_numbers(value, max_steps, axis):
    assert nice_axis(value, max_steps) == axis


def test_a_day_has_its_true_number_of_hours():
    assert scale_of(dt.date(2020, 2, 10)).hours == 24
    assert scale_of(dt.date(2020, 3, 29)).hours == 23
    assert scale_of(dt.date(2020, 10, 25)).hours == 25
    # On the 25-hour day the hour from 02:00 comes twice on the wall clock.
    labels = [scale_of(dt.date(2020, 10, 25)).hour_label(hour) for hour in range(25)]
    assert labels[:5] == ["00:00", "01:00", "02:00", "02:00", "03:00"]


def test_the_ideal_line_is_straight_from_midnight_to_midnight():
    scale = scale_of(dt.date(2020, 2, 10))
    window = Window(scale.start, scale.end, 48)
    chart, _ = day_charts(scale, [window], [], rome(2020, 2, 10, 12))
    assert chart.ideal_now == 24.0
    (x0, y0), (x1, y1) = points(chart.ideal_points)
    assert (x0, x1) == (LEFT, LEFT + PLOT_WIDTH)
    assert y0 == chart.axes.bottom
    assert y1 == pytest.approx(chart.axes.bottom - (chart.axes.bottom - chart.axes.top) * 48 / 50)


def test_a_late_plan_starts_its_line_when_it_was_made():
    scale = scale_of(dt.date(2020, 2, 10))
    window = Window(rome(2020, 2, 10, 15), scale.end, 45)
    chart, _ = day_charts(scale, [window], [], rome(2020, 2, 10, 18))
    assert chart.ideal_now == 15.0  # a third of the way from 15:00 to midnight
    flat_until = points(chart.ideal_points)[1]
    assert flat_until == (scale.x(rome(2020, 2, 10, 15)), chart.axes.bottom)


def test_the_wins_climb_in_steps_and_stop_at_now():
    scale = scale_of(dt.date(2020, 2, 10))
    wins = [rome(2020, 2, 10, 1), rome(2020, 2, 10, 6), rome(2020, 2, 10, 6, 0, 30)]
    chart, hourly = day_charts(
        scale, [Window(scale.start, scale.end, 45)], wins, rome(2020, 2, 10, 8)
    )
    assert chart.wins == 3
    line = points(chart.actual_points)
    assert line[-1][0] == scale.x(rome(2020, 2, 10, 8))
    heights = sorted({y for _, y in line}, reverse=True)
    assert len(heights) == 3  # 0, then 1, then 3: both wins at 06:00 share a column
    assert [bar.value for bar in hourly.bars[:8]] == [0, 1, 0, 0, 0, 0, 2, 0]
    assert hourly.bars[6].title == "06:00–07:00: 2 wins"


def test_a_past_day_is_drawn_to_midnight_without_a_now_line():
    scale = scale_of(dt.date(2020, 2, 9))
    chart, _ = day_charts(scale, [Window(scale.start, scale.end, 2)], [], rome(2020, 2, 10, 8))
    assert chart.now_x is None
    assert points(chart.actual_points)[-1][0] == LEFT + PLOT_WIDTH
    assert chart.ideal_now == 2.0


def test_hourly_bars_fill_the_day_on_a_short_day():
    scale = scale_of(dt.date(2020, 3, 29))
    chart = hourly_chart(scale, [1] * 23, "play")
    assert len(chart.bars) == 23
    last = chart.bars[-1]
    assert last.x + last.width <= LEFT + PLOT_WIDTH
    assert last.x + last.width > LEFT + PLOT_WIDTH - 3
    assert chart.bars[0].title == "00:00–01:00: 1 play"
    assert chart.bars[2].title == "03:00–04:00: 1 play"  # 02:00 does not exist that night
