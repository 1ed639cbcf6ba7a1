"""Server-side SVG charts for the impact screen (no JavaScript, no internet).

Shapes carry CSS classes; colours come from the admin's CSS variables in
ops_admin.css, so the charts follow light and dark mode. All text is escaped.
"""

from __future__ import annotations

import math
from html import escape

from django.utils.safestring import SafeString, mark_safe

AXES = ("reliability", "completeness", "evidence", "speed", "stability", "regression_health")


def radar_svg(base: dict, target: dict, *, base_label: str, target_label: str, size: int = 380) -> SafeString:
    """A radar of the six quality axes (0..100) for base and target; missing axes count as 0 and say n/a."""
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
        parts.append(f'<line class="ops-radar-grid" x1="{centre}" y1="{centre}" x2="{x:.1f}" y2="{y:.1f}"/>')
        value = target.get(axis)
        label = f"{axis.replace('_', ' ')} {'n/a' if value is None else f'{value:g}'}"
        parts.append(f'<text class="ops-radar-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle">{escape(label)}</text>')
    for css, values in (("ops-radar-base", base), ("ops-radar-target", target)):
        shape = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, values.get(a) or 0) for i, a in enumerate(AXES)))
        parts.append(f'<polygon class="{css}" points="{shape}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def usage_bars_svg(versions: list[dict], *, width: int = 520) -> SafeString:
    """Traces per version as horizontal bars, newest version first."""
    if not versions:
        return mark_safe("")
    top = max(row["traces"] for row in versions) or 1
    bar_height, gap, label_width = 18, 6, 150
    height = len(versions) * (bar_height + gap)
    parts = [f'<svg class="ops-bars" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="Traces per version">']
    for index, row in enumerate(versions):
        y = index * (bar_height + gap)
        length = (width - label_width - 60) * row["traces"] / top
        label = f"v{row['version']} ({row['status']})"
        parts.append(f'<text class="ops-bar-label" x="0" y="{y + 13}">{escape(label)}</text>')
        parts.append(f'<rect class="ops-bar ops-bar-{escape(row["status"])}" x="{label_width}" y="{y}" '
                     f'width="{length:.1f}" height="{bar_height}"><title>{row["traces"]} traces</title></rect>')
        parts.append(f'<text class="ops-bar-label" x="{label_width + length + 6:.1f}" y="{y + 13}">{row["traces"]}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
