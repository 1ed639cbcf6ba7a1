"""The impact screen's SVG: a radar that draws a missing value as missing, and a version timeline on a time axis."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from impact.charts import AXES, missing_axes, radar_svg, time_ticks, timeline_svg

FULL = {"reliability": 95.0, "completeness": 90.0, "evidence": 60.0, "speed": 100.0, "stability": 80.0,
        "regression_health": 70.0}
NO_HEALTH = {**FULL, "regression_health": None}


def test_complete_series_is_one_polygon_with_a_vertex_per_axis():
    svg = radar_svg(FULL, FULL, base_label="v1", target_label="v2")
    assert svg.count('<polygon class="ops-radar-base"') == 1 and svg.count('<polygon class="ops-radar-target"') == 1
    assert len(re.findall(r'class="ops-radar-target ops-radar-point"', svg)) == len(AXES)
    assert "no data" not in svg and "ops-radar-spoke-missing" not in svg


def test_missing_value_is_neither_0_nor_100_but_a_gap():
    svg = str(radar_svg(NO_HEALTH, FULL, base_label="v1", target_label="v2"))
    base_vertices = re.findall(r'class="ops-radar-base ops-radar-point"[^>]*data-axis="(\w+)"', svg)
    assert "regression_health" not in base_vertices and len(base_vertices) == 5
    assert '<polygon class="ops-radar-base"' not in svg  # a polygon would close through the missing axis
    edges = re.search(r'<path class="ops-radar-base ops-radar-edge" d="([^"]+)"', svg).group(1)
    wedges = re.search(r'<path class="ops-radar-base ops-radar-wedge" d="([^"]+)"', svg).group(1)
    assert edges.count("M") == 4  # of the ring's 6 edges, the 2 that touch the missing axis are left out
    # Regression health is the sixth axis (at 210°): at 100 it would be (107.7, 142.5), at 0 the centre.
    assert "107.7,142.5" not in edges + wedges and "190.0,190.0" not in edges
    assert "ops-radar-spoke-missing" in svg


def test_missing_target_value_is_labelled_no_data():
    svg = str(radar_svg(FULL, NO_HEALTH, base_label="v1", target_label="v2"))
    label = re.search(r'data-axis="regression_health">(.*?)</text>', svg).group(1)
    assert "○ no data" in label and "ops-radar-nodata" in label
    assert re.search(r'data-axis="speed">speed<tspan[^>]*>100</tspan>', svg)


def test_series_without_any_value_draws_nothing():
    svg = str(radar_svg(dict.fromkeys(AXES), FULL, base_label="v1", target_label="v2"))
    assert "ops-radar-base" not in svg


def test_missing_axes_name_the_versions_that_lack_them():
    assert missing_axes({"v1": NO_HEALTH, "v2": FULL}) == [("Regression health", ["v1"])]
    assert missing_axes({"v1": NO_HEALTH, "v2": {**NO_HEALTH, "speed": None}}) == [
        ("Speed", ["v2"]), ("Regression health", ["v1", "v2"])]
    assert missing_axes({"v1": FULL, "v2": FULL}) == []


def test_labels_are_escaped():
    svg = str(radar_svg(FULL, FULL, base_label="<b>", target_label="v2"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg


# --- time axis -------------------------------------------------------------------

def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def test_ticks_over_days_and_weeks_fall_on_midnights_and_mondays():
    assert [label for _, label in time_ticks(at(1, 10), at(20, 18))] == ["03 Mar", "10 Mar", "17 Mar"]  # Mondays
    assert [label for _, label in time_ticks(at(1, 10), at(6, 18))] == ["02 Mar", "03 Mar", "04 Mar", "05 Mar",
                                                                         "06 Mar"]


def test_ticks_within_a_day_are_hours_and_within_a_minute_seconds():
    hours = time_ticks(at(1, 9), at(1, 17))
    assert [label for _, label in hours][:2] == ["09:00", "10:00"]
    seconds = time_ticks(at(1, 9), at(1, 9) + timedelta(seconds=50))
    assert [label for _, label in seconds][:2] == ["09:00:00", "09:00:15"]


def test_ticks_over_years_fall_on_the_first_of_a_month():
    ticks = time_ticks(datetime(2023, 2, 10, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))
    assert [label for _, label in ticks] == ["Jul 2023", "Jan 2024", "Jul 2024", "Jan 2025"]  # every 6 months
    assert all(moment.day == 1 and moment.hour == 0 for moment, _ in ticks)


# --- version timeline ------------------------------------------------------------

def version(number: int, *, created: datetime, published: datetime | None = None, traces: int = 0,
            first: datetime | None = None, last: datetime | None = None, status: str = "draft") -> dict:
    return {"version": number, "status": status, "note": "", "author": "", "created": created.isoformat(),
            "published": published.isoformat() if published else None, "traces": traces,
            "first_used": first.isoformat() if first else None, "last_used": last.isoformat() if last else None}


def _x(svg: str, version_number: int, shape: str) -> float:
    lane = re.search(rf'<g class="[^"]*" data-version="{version_number}">(.*?)</g>', svg).group(1)
    match = re.search(rf'<{shape}[^>]* (?:x|cx|d)="M?([\d.]+)', lane)
    return float(match.group(1))


def test_versions_are_placed_at_their_times():
    history = [version(2, created=at(10), published=at(12), traces=40, first=at(12), last=at(20), status="published"),
               version(1, created=at(1), published=at(1), traces=55, first=at(2), last=at(11), status="archived")]
    svg = str(timeline_svg(history, base=1, target=2))
    assert _x(svg, 1, "path") < _x(svg, 2, "path")  # created
    assert _x(svg, 1, 'rect class="ops-tl-traffic"') < _x(svg, 2, 'rect class="ops-tl-traffic"')
    assert _x(svg, 2, "circle") > _x(svg, 2, "path")  # published after it was created
    assert "40 traces" in svg and "55 traces" in svg
    assert "v2 (published) · target" in svg and "v1 (archived) · base" in svg
    assert svg.index('data-version="2"') < svg.index('data-version="1"')  # newest on top
    assert "UTC · 2025-02-28" in svg


def test_unused_and_unpublished_versions_say_so():
    svg = str(timeline_svg([version(1, created=at(1))]))
    assert "no traces in range" in svg and "ops-tl-traffic" not in svg and "<circle" not in svg


def test_the_report_range_is_shaded():
    history = [version(1, created=at(1), traces=3, first=at(2), last=at(9))]
    assert "ops-tl-range" not in str(timeline_svg(history))
    assert "ops-tl-range" in str(timeline_svg(history, start=at(5).isoformat(), end=None))


def test_no_version_no_chart():
    assert timeline_svg([]) == ""
