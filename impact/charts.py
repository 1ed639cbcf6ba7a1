"""Server-side SVG charts for the impact screen (no JavaScript, no internet).

Shapes carry CSS classes; colours come from the admin's CSS variables in
ops_admin.css and impact/impact.css, so the charts follow light and dark
mode. All text is escaped.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from impact.figures import AXIS_NAMES, axis_score
from impact.risk import AXIS_FORMULAS

AXES = tuple(AXIS_FORMULAS)  # clockwise from the top


# --- quality radar ---------------------------------------------------------------

def missing_axes(series: dict[str, dict[str, float | None]]) -> list[tuple[str, list[str]]]:
    """Axes without a value, each with the series (version labels) that lack it, in axis order."""
    found = [(axis, [label for label, values in series.items() if values.get(axis) is None]) for axis in AXES]
    return [(AXIS_NAMES[axis], labels) for axis, labels in found if labels]


def radar_svg(base: dict, target: dict, *, base_label: str, target_label: str, size: int = 380) -> SafeString:
    """A radar of the six quality axes (0..100) for base and target.

    A missing value is drawn as missing, never as 0 or 100: the series has no
    vertex on that axis and no edge or fill to it (a gap), the axis line is
    dashed and its label reads "○ no data" for the target.
    """
    # Wide margins: the axis labels sit outside the rings.
    centre, radius = size / 2, size / 2 - 95

    def point(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / len(AXES)
        return centre + radius * value / 100 * math.cos(angle), centre + radius * value / 100 * math.sin(angle)

    parts = [f'<svg class="ops-radar" viewBox="0 0 {size} {size}" width="{size}" height="{size}" role="img" '
             f'aria-label="Quality radar: {escape(base_label)} and {escape(target_label)}">']
    for ring in (25, 50, 75, 100):
        ring_points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(len(AXES))))
        parts.append(f'<polygon class="ops-radar-grid" points="{ring_points}"/>')
    for index, axis in enumerate(AXES):
        x, y = point(index, 100)
        lx, ly = point(index, 122)
        gap = base.get(axis) is None or target.get(axis) is None
        parts.append(f'<line class="ops-radar-grid{" ops-radar-spoke-missing" if gap else ""}" x1="{centre}" '
                     f'y1="{centre}" x2="{x:.1f}" y2="{y:.1f}"/>')
        value = target.get(axis)
        shown = "○ no data" if value is None else axis_score(value)
        parts.append(f'<text class="ops-radar-label" x="{lx:.1f}" y="{ly - 6:.1f}" text-anchor="middle" '
                     f'data-axis="{axis}">{escape(AXIS_NAMES[axis].lower())}'
                     f'<tspan x="{lx:.1f}" dy="13" class="{"ops-radar-nodata" if value is None else ""}">'
                     f'{escape(shown)}</tspan></text>')
    for css, values, label in (("ops-radar-base", base, base_label), ("ops-radar-target", target, target_label)):
        parts.extend(_series(css, values, label, point, centre))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _series(css: str, values: dict, label: str, point, centre: float) -> list[str]:
    """One version's shape: a polygon when every axis has a value, else wedges and edges between neighbours."""
    present = {i: values[a] for i, a in enumerate(AXES) if values.get(a) is not None}
    if not present:
        return []
    points = {i: point(i, value) for i, value in present.items()}
    if len(present) == len(AXES):
        shape = " ".join(f"{x:.1f},{y:.1f}" for x, y in points.values())
        parts = [f'<polygon class="{css}" points="{shape}" data-series="{escape(label)}"/>']
    else:
        pairs = [(i, (i + 1) % len(AXES)) for i in range(len(AXES)) if i in points and (i + 1) % len(AXES) in points]
        wedges = "".join(f"M{centre:.1f},{centre:.1f}L{points[i][0]:.1f},{points[i][1]:.1f}"
                         f"L{points[j][0]:.1f},{points[j][1]:.1f}Z" for i, j in pairs)
        edges = "".join(f"M{points[i][0]:.1f},{points[i][1]:.1f}L{points[j][0]:.1f},{points[j][1]:.1f}"
                        for i, j in pairs)
        parts = []
        if wedges:
            parts.append(f'<path class="{css} ops-radar-wedge" d="{wedges}"/>')
            parts.append(f'<path class="{css} ops-radar-edge" d="{edges}" data-series="{escape(label)}"/>')
    for i, (x, y) in points.items():
        title = f"{label} {AXIS_NAMES[AXES[i]].lower()}: {axis_score(present[i])}"
        parts.append(f'<circle class="{css} ops-radar-point" cx="{x:.1f}" cy="{y:.1f}" r="3" '
                     f'data-axis="{AXES[i]}"><title>{escape(title)}</title></circle>')
    return parts


# --- version timeline ------------------------------------------------------------

# Tick steps, in seconds up to a day and in months above (calendar months keep ticks on the 1st).
_SECOND_STEPS = (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600,
                 86400, 2 * 86400, 7 * 86400, 14 * 86400)
_MONTH_STEPS = (1, 3, 6, 12, 24, 60)


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    moment = datetime.fromisoformat(iso)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def time_ticks(start: datetime, end: datetime, *, max_ticks: int = 8) -> list[tuple[datetime, str]]:
    """Round moments between ``start`` and ``end`` (UTC) with their labels, at most ``max_ticks``.

    Seconds to fortnights are aligned to the step from midnight (or the
    epoch), longer spans tick on the first of every 1, 3, 6 … months.
    """
    span = (end - start).total_seconds()
    if span <= 0:
        return [(start, start.strftime("%d %b %H:%M"))]
    step = next((s for s in _SECOND_STEPS if span / s <= max_ticks), None)
    if step is not None:
        epoch = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday: weekly ticks fall on Mondays
        first = epoch + timedelta(seconds=math.ceil((start - epoch).total_seconds() / step) * step)
        moments = []
        while first <= end:
            moments.append(first)
            first += timedelta(seconds=step)
        fmt = "%H:%M:%S" if step < 60 else "%H:%M" if step < 86400 and span < 86400 else \
            "%d %b %H:%M" if step < 86400 else "%d %b"
        return [(m, m.strftime(fmt)) for m in moments]
    months = next((m for m in _MONTH_STEPS if span / (m * 30.44 * 86400) <= max_ticks), _MONTH_STEPS[-1])
    index = start.year * 12 + start.month - 1
    index += (-index) % months  # months since year 0, up to a multiple of the step: Jan/Apr/Jul/Oct for 3
    moments = []
    while True:
        moment = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
        if moment > end:
            break
        if moment >= start:
            moments.append(moment)
        index += months
    return [(m, m.strftime("%b %Y")) for m in moments]


def _domain(versions: list[dict]) -> tuple[datetime, datetime]:
    """The time axis: every version's creation, publication and use, padded 3 % and at least a minute wide."""
    moments = [m for row in versions for key in ("created", "published", "first_used", "last_used")
               if (m := _parse(row.get(key)))]
    start, end = min(moments), max(moments)
    if (end - start).total_seconds() < 60:
        middle = start + (end - start) / 2
        start, end = middle - timedelta(seconds=30), middle + timedelta(seconds=30)
    pad = (end - start) * 0.03
    return start - pad, end + pad


def timeline_svg(versions: list[dict], *, base: int | None = None, target: int | None = None,
                 start: str | None = None, end: str | None = None, width: int = 960) -> SafeString:
    """The version history on a time axis, newest version on top.

    Each version is a lane: a hollow diamond where it was created, a dot where
    it was published, and a bar from the first to the last trace that applied
    it in the report's range, labelled with the trace count. ``start`` and
    ``end`` (the report's range, ISO 8601) shade the part of the axis the
    counts cover.
    """
    if not versions:
        return mark_safe("")
    low, high = _domain(versions)
    label_width, right, lane, axis_height = 190, 90, 28, 34
    plot = width - label_width - right
    height = len(versions) * lane + axis_height
    seconds = (high - low).total_seconds()

    def x_of(moment: datetime) -> float:
        return label_width + plot * (moment - low).total_seconds() / seconds

    parts = [f'<svg class="ops-version-timeline" viewBox="0 0 {width} {height}" width="100%" '
             f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="Version history on a time axis">']
    for index in range(len(versions)):  # bands first: ticks and the range show through every lane
        parts.append(f'<rect class="ops-tl-band{" ops-tl-band-odd" if index % 2 == 0 else ""}" x="0" '
                     f'y="{index * lane}" width="{width}" height="{lane}"/>')
    range_start, range_end = _parse(start), _parse(end)
    if range_start or range_end:
        left = x_of(max(range_start or low, low))
        right_x = x_of(min(range_end or high, high))
        if right_x > left:
            parts.append(f'<rect class="ops-tl-range" x="{left:.1f}" y="0" width="{right_x - left:.1f}" '
                         f'height="{len(versions) * lane}"><title>the report\'s range</title></rect>')
    for moment, text in time_ticks(low, high):
        x = x_of(moment)
        parts.append(f'<line class="ops-tl-tick" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{len(versions) * lane + 4}"/>')
        parts.append(f'<text class="ops-tl-axis" x="{x:.1f}" y="{len(versions) * lane + 16}" '
                     f'text-anchor="middle">{escape(text)}</text>')
    parts.append(f'<text class="ops-tl-axis ops-tl-caption" x="{label_width + plot}" y="{height - 3}" '
                 f'text-anchor="end">UTC · {escape(low.strftime("%Y-%m-%d %H:%M"))} – '
                 f'{escape(high.strftime("%Y-%m-%d %H:%M"))}</text>')
    for index, row in enumerate(versions):
        parts.extend(_lane(row, index * lane, lane, x_of, base=base, target=target, label_width=label_width))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _lane(row: dict[str, Any], top: float, lane: int, x_of, *, base: int | None, target: int | None,
          label_width: int) -> list[str]:
    middle = top + lane / 2
    version, status = row["version"], row["status"]
    role = " · ".join(r for r, v in (("base", base), ("target", target)) if v == version)
    label = f"v{version} ({status})" + (f" · {role}" if role else "")
    parts = [f'<g class="ops-tl-lane ops-tl-status-{escape(status)}" data-version="{version}">',
             f'<text class="ops-tl-label{" ops-tl-compared" if role else ""}" x="4" y="{middle + 4:.1f}">'
             f'{escape(label)}</text>']
    created = _parse(row["created"])
    first, last = _parse(row.get("first_used")), _parse(row.get("last_used"))
    if first and last:
        x1, x2 = x_of(first), x_of(last)
        traces = row["traces"]
        title = (f"v{version}: {traces:,} trace{'s' if traces != 1 else ''} from {first:%Y-%m-%d %H:%M} "
                 f"to {last:%Y-%m-%d %H:%M} UTC")
        parts.append(f'<rect class="ops-tl-traffic" x="{x1 - 1.5:.1f}" y="{middle - 5:.1f}" '
                     f'width="{max(3.0, x2 - x1 + 3):.1f}" height="10" rx="2"><title>{escape(title)}</title></rect>')
        parts.append(f'<text class="ops-tl-count" x="{max(x2, x1 + 1.5) + 6:.1f}" y="{middle + 4:.1f}">'
                     f'{traces:,} trace{"s" if traces != 1 else ""}</text>')
    else:
        parts.append(f'<text class="ops-tl-count ops-tl-unused" x="{x_of(created) + 10:.1f}" y="{middle + 4:.1f}">'
                     'no traces in range</text>')
    cx = x_of(created)
    parts.append(f'<path class="ops-tl-created" d="M{cx:.1f},{middle - 6:.1f}l6,6l-6,6l-6,-6z">'
                 f'<title>{escape(f"v{version} created {created:%Y-%m-%d %H:%M} UTC")}</title></path>')
    if published := _parse(row.get("published")):
        parts.append(f'<circle class="ops-tl-published" cx="{x_of(published):.1f}" cy="{middle:.1f}" r="4.5">'
                     f'<title>{escape(f"v{version} published {published:%Y-%m-%d %H:%M} UTC")}</title></circle>')
    parts.append("</g>")
    return parts
