"""Where the replan timeline draws: its time window, its ticks, and lanes in which no two events overlap.

Pure. Positions are SVG user units of a chart ``WIDTH`` wide, which the
browser scales to the page, so they do not depend on the window's size.
Each trigger type has a lane; events too close to share a row stack into
rows below one another (at most ``MAX_ROWS``), and the rest of a crowded
spot becomes one "+N" marker that lists them. Nothing is drawn on top of
anything else, so every event can be seen and clicked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

WIDTH = 1000
LEFT, RIGHT = 130, 24  # lane labels on the left; room for the largest circle on the right
TOP = 6
ROW = 26  # one stacking row: the largest circle (diameter 22) and a margin
LANE_GAP = 6
AXIS = 30  # tick labels under the lanes
RADIUS = {"low": 5, "medium": 7, "high": 9, "critical": 11}
GAP = 2  # the least space between two circles of one row
MAX_ROWS = 6
PILL = 40  # the width of a "+N" marker; markers of one lane are at least this far apart
MIN_PAD = timedelta(seconds=30)
MIN_SPAN = timedelta(seconds=1)
MOST_TICKS = 8
# Tick steps in seconds; each label fits in about a hundred units.
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
         86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400, 91 * 86400, 182 * 86400, 364 * 86400)


@dataclass(frozen=True)
class Point:
    key: int
    lane: str
    at: datetime
    radius: int


@dataclass(frozen=True)
class Placed:
    x: float
    y: float
    row: int


@dataclass(frozen=True)
class Cluster:
    """The events of a spot too crowded for ``MAX_ROWS`` rows, drawn as one "+N" marker."""

    lane: str
    x: float
    y: float
    keys: tuple[int, ...]
    first: datetime
    last: datetime
    # The whole spot: these and the lane's placed events around them (within a marker's width).
    spot_first: datetime
    spot_last: datetime


@dataclass(frozen=True)
class Lane:
    name: str
    top: float
    height: float
    rows: int


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Layout:
    placed: dict[int, Placed]
    clusters: list[Cluster]
    lanes: list[Lane]
    ticks: list[Tick]
    axis_y: float
    height: float


def axis_window(*, start: datetime | None, end: datetime | None, first: datetime, last: datetime,
                now: datetime) -> tuple[datetime, datetime]:
    """The range the axis spans for events from ``first`` to ``last`` under the filter's ``start``/``end``.

    A bound the filter gives is kept. An open start is the first event, an
    open end is now when a start is given (the default last 7 days) and the
    last event otherwise (a trace's replans); both padded so no event sits on
    the edge. The axis never ends after now unless an event does (a clock
    ahead of ours): a range "to" the end of today stops at now.
    """
    pad = max((last - first) * 0.05, MIN_PAD)
    lo = start if start is not None else first - pad
    if end is not None:
        hi = end
    elif start is not None:
        hi = now
    else:
        hi = last + pad
    lo, hi = min(lo, first), max(min(hi, max(now, last)), last)
    if hi - lo < MIN_SPAN:
        lo = hi - MIN_SPAN
    return lo, hi


def x_position(at: datetime, start: datetime, end: datetime) -> float:
    span = (end - start).total_seconds()
    return LEFT + (WIDTH - LEFT - RIGHT) * (at - start).total_seconds() / span


def spot_range(cluster: Cluster) -> tuple[datetime, datetime]:
    """A range where the crowded spot's events spread out: the spot, padded by a tenth (at least half a second)."""
    pad = max((cluster.spot_last - cluster.spot_first) / 10, timedelta(milliseconds=500))
    return cluster.spot_first - pad, cluster.spot_last + pad


def stack_rows(circles: Sequence[tuple[float, float]], *, max_rows: int = MAX_ROWS, gap: float = GAP) -> list[int | None]:
    """A row for each ``(x, radius)`` (given in order of x): the first row where it clears that row's last circle.

    First fit in order of x uses the fewest rows for circles of one size (it
    colours an interval graph). ``None``: no row of ``max_rows`` had room.
    """
    last_in_row: list[tuple[float, float]] = []
    rows: list[int | None] = []
    for x, radius in circles:
        row = next((i for i, (lx, lr) in enumerate(last_in_row) if x - lx >= lr + radius + gap), None)
        if row is None and len(last_in_row) < max_rows:
            row = len(last_in_row)
            last_in_row.append((x, radius))
        elif row is not None:
            last_in_row[row] = (x, radius)
        rows.append(row)
    return rows


def group_near(xs: Sequence[float], *, width: float = PILL) -> list[list[int]]:
    """Indexes of ``xs`` (ascending) grouped so each group starts at least ``width`` after the previous one."""
    groups: list[list[int]] = []
    for index, x in enumerate(xs):
        if groups and x - xs[groups[-1][0]] < width:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def axis_ticks(start: datetime, end: datetime, tz: tzinfo, *, most: int = MOST_TICKS) -> list[tuple[datetime, str]]:
    """Round times between ``start`` and ``end`` in ``tz``, at most ``most``, each with a short label.

    Labels carry the date on the first tick and wherever the day changes;
    steps below a minute show seconds, steps of days show no time.
    """
    span = (end - start).total_seconds()
    step = next((s for s in STEPS if span / s <= most), 0) or math.ceil(span / most / 86400) * 86400
    local = start.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if step < 86400:
        moment = midnight + timedelta(seconds=step * math.ceil((local - midnight).total_seconds() / step))
    else:
        first_day = midnight if local == midnight else midnight + timedelta(days=1)
        days = step // 86400
        # Counted from a fixed day (a Monday), so weekly ticks fall on Mondays and stay put as the window moves.
        moment = first_day + timedelta(days=-(first_day.toordinal() - 1) % days)
    ticks, last_day = [], None
    while moment <= end:
        if step >= 28 * 86400:
            label = f"{moment:%d %b %Y}"
        elif step >= 86400:
            label = f"{moment:%a %d %b}"
        else:
            time = f"{moment:%H:%M:%S}" if step < 60 else f"{moment:%H:%M}"
            label = time if moment.date() == last_day else f"{moment:%d %b} {time}"
        ticks.append((moment, label))
        last_day = moment.date()
        moment = (moment + timedelta(seconds=step)).astimezone(tz)
    return ticks


def timeline_layout(points: Sequence[Point], *, lanes: Sequence[str], start: datetime, end: datetime,
                    tz: tzinfo) -> Layout:
    """Lanes in the order of ``lanes`` (those with points), each point placed or gathered into a cluster."""
    placed: dict[int, Placed] = {}
    clusters: list[Cluster] = []
    drawn: list[Lane] = []
    top = float(TOP)
    for name in lanes:
        mine = sorted((p for p in points if p.lane == name), key=lambda p: (p.at, p.key))
        if not mine:
            continue
        xs = [x_position(p.at, start, end) for p in mine]
        rows = stack_rows([(x, p.radius) for x, p in zip(xs, mine)])
        used = max((row for row in rows if row is not None), default=0) + 1
        for point, x, row in zip(mine, xs, rows):
            if row is not None:
                placed[point.key] = Placed(x=x, y=top + row * ROW + ROW / 2, row=row)
        crowded = [i for i, row in enumerate(rows) if row is None]
        for group in group_near([xs[i] for i in crowded]):
            members = [mine[crowded[i]] for i in group]
            low, high = xs[crowded[group[0]]] - PILL, xs[crowded[group[-1]]] + PILL
            spot = [p.at for p, x in zip(mine, xs) if low <= x <= high]
            x = min(max(xs[crowded[group[0]]], LEFT + PILL / 2), WIDTH - PILL / 2)
            clusters.append(Cluster(lane=name, x=x, y=top + used * ROW + ROW / 2, keys=tuple(p.key for p in members),
                                    first=members[0].at, last=members[-1].at, spot_first=spot[0], spot_last=spot[-1]))
        height = (used + (1 if crowded else 0)) * ROW
        drawn.append(Lane(name=name, top=top, height=height, rows=used))
        top += height + LANE_GAP
    ticks = [Tick(x=x_position(moment, start, end), label=label) for moment, label in axis_ticks(start, end, tz)]
    return Layout(placed=placed, clusters=clusters, lanes=drawn, ticks=ticks, axis_y=top + 14, height=top + AXIS)
