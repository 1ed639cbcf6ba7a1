"""Timeline layout: the axis window, its ticks, and lanes where no two events overlap. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controlloop.timeline_layout import (
    MAX_ROWS,
    PILL,
    RADIUS,
    ROW,
    Point,
    axis_ticks,
    axis_window,
    group_near,
    spot_range,
    stack_rows,
    timeline_layout,
)

NOW = datetime(2026, 11, 28, 0, 43, tzinfo=UTC)


# --- stacking ----------------------------------------------------------------

def test_circles_that_would_touch_go_to_the_next_row():
    assert stack_rows([(100, 7), (110, 7), (112, 7)]) == [0, 1, 2]


def test_a_circle_takes_the_first_row_with_room():
    # The third clears the first row's circle, though the second row opened meanwhile.
    assert stack_rows([(100, 7), (105, 7), (116, 7)]) == [0, 1, 0]


def test_circles_far_enough_apart_share_a_row():
    assert stack_rows([(100, 11), (124, 11), (148, 11)]) == [0, 0, 0]


def test_past_the_last_row_a_circle_has_no_row():
    rows = stack_rows([(100, 7)] * (MAX_ROWS + 2))
    assert rows == [*range(MAX_ROWS), None, None]


def test_near_positions_group_from_each_group_start():
    assert group_near([0, 10, PILL - 1, PILL, PILL + 5, 3 * PILL]) == [[0, 1, 2], [3, 4], [5]]


def issue_events(start: datetime) -> list[Point]:
    """63 decisions at 40 moments, as in issue 19: runs whose two or three decisions are milliseconds apart."""
    points, key = [], 0
    for moment in range(40):
        at = start + timedelta(hours=4 * moment)
        for step in range(3 if moment < 23 else 1):
            key += 1
            points.append(Point(key=key, lane="empty_result", at=at + timedelta(milliseconds=16 * step),
                                radius=RADIUS["medium"]))
    return points[:63]


def test_63_decisions_at_40_moments_are_all_placed_without_overlap():
    start = NOW - timedelta(days=7)
    points = issue_events(start)

    layout = timeline_layout(points, lanes=["empty_result"], start=start, end=NOW, tz=UTC)

    assert len(points) == 63 and len(layout.placed) == 63 and layout.clusters == []
    placed = list(layout.placed.values())
    for i, a in enumerate(placed):
        for b in placed[i + 1:]:
            apart = ((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5
            assert apart >= 2 * RADIUS["medium"], (a, b)
    assert layout.lanes[0].rows == 3


def test_a_spot_too_crowded_for_every_row_becomes_one_marker_listing_the_rest():
    at = NOW - timedelta(hours=1)
    points = [Point(key=k, lane="error", at=at + timedelta(milliseconds=k), radius=5) for k in range(MAX_ROWS + 4)]

    layout = timeline_layout(points, lanes=["error"], start=NOW - timedelta(days=1), end=NOW, tz=UTC)

    assert sorted(layout.placed) == list(range(MAX_ROWS))
    [cluster] = layout.clusters
    assert cluster.keys == tuple(range(MAX_ROWS, MAX_ROWS + 4))
    assert cluster.first == points[MAX_ROWS].at and cluster.last == points[-1].at
    # The marker has a row of its own under the lane's rows.
    assert cluster.y > max(p.y for p in layout.placed.values())
    assert layout.lanes[0].height == (MAX_ROWS + 1) * ROW


def test_zooming_to_a_crowded_spot_takes_in_the_whole_spot_and_no_more():
    at = NOW - timedelta(hours=1)
    points = [Point(key=k, lane="error", at=at + timedelta(milliseconds=100 * k), radius=5) for k in range(MAX_ROWS + 2)]
    start = NOW - timedelta(days=1)
    [cluster] = timeline_layout(points, lanes=["error"], start=start, end=NOW, tz=UTC).clusters

    spot_from, spot_to = spot_range(cluster)

    # The placed events of the spot too, not only the two in the marker.
    assert (cluster.spot_first, cluster.spot_last) == (points[0].at, points[-1].at)
    assert spot_from == points[0].at - timedelta(milliseconds=500)
    assert spot_to == points[-1].at + timedelta(milliseconds=500)
    zoomed = timeline_layout(points, lanes=["error"], start=spot_from, end=spot_to, tz=UTC)
    assert len(zoomed.placed) == len(points) and zoomed.clusters == []


def test_lanes_follow_the_given_order_and_skip_empty_ones():
    points = [Point(key=1, lane="timeout", at=NOW, radius=5), Point(key=2, lane="error", at=NOW, radius=5)]

    layout = timeline_layout(points, lanes=["error", "empty_result", "timeout"], start=NOW - timedelta(hours=1),
                             end=NOW, tz=UTC)

    assert [lane.name for lane in layout.lanes] == ["error", "timeout"]
    assert layout.placed[2].y < layout.placed[1].y


# --- the window --------------------------------------------------------------

def test_the_last_7_days_end_now_not_hours_later():
    start = NOW - timedelta(days=7)
    assert axis_window(start=start, end=None, first=start + timedelta(hours=3), last=NOW - timedelta(minutes=50),
                       now=NOW) == (start, NOW)


def test_a_range_to_the_end_of_today_stops_at_now():
    end_of_day = datetime(2026, 11, 28, 23, 59, 59, tzinfo=UTC)
    _, end = axis_window(start=NOW - timedelta(days=1), end=end_of_day, first=NOW - timedelta(hours=2),
                         last=NOW - timedelta(hours=1), now=NOW)
    assert end == NOW


def test_a_trace_alone_spans_its_decisions_padded_and_never_past_now():
    first, last = NOW - timedelta(hours=3), NOW - timedelta(hours=1)
    start, end = axis_window(start=None, end=None, first=first, last=last, now=NOW)
    assert start == first - timedelta(minutes=6) and end == last + timedelta(minutes=6)

    start, end = axis_window(start=None, end=None, first=NOW - timedelta(seconds=5), last=NOW - timedelta(seconds=1),
                             now=NOW)
    assert end == NOW and start == NOW - timedelta(seconds=35)


def test_an_event_after_now_still_shows():
    ahead = NOW + timedelta(minutes=2)  # a clock ahead of ours
    _, end = axis_window(start=NOW - timedelta(days=7), end=None, first=NOW - timedelta(days=1), last=ahead, now=NOW)
    assert end == ahead


# --- ticks -------------------------------------------------------------------

def test_a_week_is_ticked_by_day():
    ticks = axis_ticks(NOW - timedelta(days=7), NOW, UTC)
    assert [label for _, label in ticks] == ["Sun 22 Nov", "Mon 23 Nov", "Tue 24 Nov", "Wed 25 Nov", "Thu 26 Nov",
                                             "Fri 27 Nov", "Sat 28 Nov"]
    assert all(moment.hour == 0 and moment.minute == 0 for moment, _ in ticks)


def test_hour_ticks_carry_the_date_where_the_day_changes():
    labels = [label for _, label in axis_ticks(datetime(2026, 11, 27, 20, 10, tzinfo=UTC),
                                               datetime(2026, 11, 28, 3, 0, tzinfo=UTC), UTC)]
    assert labels == ["27 Nov 21:00", "22:00", "23:00", "28 Nov 00:00", "01:00", "02:00", "03:00"]


def test_a_minute_is_ticked_in_seconds():
    labels = [label for _, label in axis_ticks(datetime(2026, 11, 27, 4, 3, 51, tzinfo=UTC),
                                               datetime(2026, 11, 27, 4, 4, 51, tzinfo=UTC), UTC)]
    assert labels == ["27 Nov 04:04:00", "04:04:10", "04:04:20", "04:04:30", "04:04:40", "04:04:50"]
