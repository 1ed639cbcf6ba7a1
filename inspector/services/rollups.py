"""Daily roll-ups of the asset bill of materials (see ``inspector.models.rollups``).

A UTC day is rolled once it closed ``OPS_ROLLUP_LAG_MINUTES`` ago: its usage
rows are summed per version, stage, tenant and duration bucket in one
transaction that replaces whatever the day had. A trace written later for a
day that may be rolled already, or a deleted trace, marks its day dirty;
a dirty day is read from the usage rows until the next roll-up pass.

Marks are written after the writer's commit and bump the day's generation;
a roll-up records the generation it read *before* summing the rows. So a
trace committed while a day was being rolled always leaves the day stale,
never silently missing (``RollupDay``).

Roll-ups hold production traffic only: test-mode traces (override tests,
stage tests, golden runs) are left out, so a report that excludes them (the
default) reads rolled days as they are, and one that includes them adds the
few test-mode traces of the rolled days from their usage rows
(``RollupWindow.rolled_filter``). A ``test_mode`` dimension in the roll-up
key would have doubled the unique key and every reader's grouping for a
sliver of the traffic; see docs/impact.md.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, FloatField, IntegerField, Max, Min, Q, Sum, Value, When
from django.db.models.functions import Cast, Floor, Ln
from django.utils import timezone

from inspector.models import RollupDay, Trace, TraceAssetUsage, TraceRollup, UsageRollup

logger = logging.getLogger(__name__)

EXACT_BELOW_MS = 100  # durations under this get a bucket each
BUCKET_RATIO = 1.05  # then buckets are 5 % wide: a percentile is within ~2.5 %


def duration_bucket(duration_ms: int) -> int:
    """The histogram bucket of a duration; the same rule as ``bucket_expression()``."""
    if duration_ms < EXACT_BELOW_MS:
        return max(int(duration_ms), 0)
    return EXACT_BELOW_MS + math.floor(math.log(duration_ms / EXACT_BELOW_MS) / math.log(BUCKET_RATIO))


def bucket_value(bucket: int) -> float:
    """The duration a bucket stands for: itself when exact, else the bucket's geometric middle."""
    if bucket < EXACT_BELOW_MS:
        return float(bucket)
    return EXACT_BELOW_MS * BUCKET_RATIO ** (bucket - EXACT_BELOW_MS + 0.5)


def bucket_expression(column: str = "duration_ms"):
    """``duration_bucket()`` in SQL (PostgreSQL, and SQLite with Django's math functions)."""
    scaled = Cast(F(column), FloatField()) / Value(float(EXACT_BELOW_MS))
    return Case(
        When(**{f"{column}__lt": EXACT_BELOW_MS}, then=F(column)),
        default=Value(EXACT_BELOW_MS) + Cast(Floor(Ln(scaled) / Value(math.log(BUCKET_RATIO))), IntegerField()),
        output_field=IntegerField(),
    )


def histogram_percentiles(histogram: dict[Any, int], fractions: Iterable[float],
                          value: Callable[[Any], float] = bucket_value) -> list[float | None]:
    """Percentiles of a histogram (key → count), interpolated like ``percentile_cont`` over ``value(key)``:
    by default the keys are duration buckets; ``value=float`` reads keys that are exact values."""
    ordered = sorted((key, n) for key, n in histogram.items() if n > 0)
    total = sum(n for _, n in ordered)
    if not total:
        return [None for _ in fractions]
    found = []
    for fraction in fractions:
        position = (total - 1) * fraction
        low, high = _value_at(ordered, math.floor(position), value), _value_at(ordered, math.ceil(position), value)
        found.append(low + (high - low) * (position - math.floor(position)))
    return found


def _value_at(ordered: list[tuple[Any, int]], rank: int, value: Callable[[Any], float]) -> float:
    seen = 0
    for key, n in ordered:
        seen += n
        if rank < seen:
            return value(key)
    return value(ordered[-1][0])


# -- marking days dirty ------------------------------------------------------

def rollup_horizon(now: datetime | None = None) -> date:
    """Days before this one may be rolled (they closed at least the lag ago)."""
    return ((now or timezone.now()) - timedelta(minutes=settings.OPS_ROLLUP_LAG_MINUTES)).astimezone(UTC).date()


def note_traces_written(started_ats: Iterable[datetime | None]) -> None:
    """Mark the days of just-committed traces dirty when they may be rolled already (late arrivals).

    Call after the commit. A trace of today or yesterday (within the lag)
    costs nothing: those days are not rolled yet.
    """
    horizon = rollup_horizon()
    days = {stamp.astimezone(UTC).date() for stamp in started_ats if stamp is not None}
    days_dirty(day for day in days if day < horizon)


def days_dirty(days: Iterable[date]) -> None:
    """Mark days dirty (after their rows changed); they are read live until rolled again."""
    now = timezone.now()
    for day in sorted(set(days)):
        bumped = RollupDay.objects.filter(day=day).update(dirty_generation=F("dirty_generation") + 1, dirtied_at=now)
        if not bumped:
            try:
                with transaction.atomic():
                    RollupDay.objects.create(day=day, dirty_generation=1, dirtied_at=now)
            except IntegrityError:  # created meanwhile by another writer or a roll-up: bump that row
                RollupDay.objects.filter(day=day).update(dirty_generation=F("dirty_generation") + 1, dirtied_at=now)


# -- rolling days up ---------------------------------------------------------

@dataclass
class RollupCounts:
    days: int = 0
    usage_rows: int = 0
    rollup_rows: int = 0
    finished: bool = True
    rolled: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def days_to_roll(*, now: datetime | None = None) -> list[date]:
    """Closed days with traces that are not rolled, or dirtied since, oldest first."""
    horizon = rollup_horizon(now)
    first = Trace.objects.order_by("started_at").values_list("started_at", flat=True).first()
    states = {row.day: row for row in RollupDay.objects.filter(day__lt=horizon)}
    # A day marked dirty but never rolled has a row too: it is stale like any other.
    stale = {day for day, row in states.items() if not row.valid}
    if first is None:
        return sorted(stale)
    day, wanted = first.astimezone(UTC).date(), set(stale)
    while day < horizon:
        if day not in states:
            wanted.add(day)
        day += timedelta(days=1)
    return sorted(wanted)


def usage_rollup(*, max_seconds: float | None = None, now: datetime | None = None) -> RollupCounts:
    """Roll every closed, unrolled or dirty day up; stop starting days after ``max_seconds``."""
    counts = RollupCounts()
    deadline = time.monotonic() + max_seconds if max_seconds is not None else None
    for day in days_to_roll(now=now):
        if deadline is not None and time.monotonic() >= deadline:
            counts.finished = False
            break
        rows, written = day_rollup(day)
        counts.days += 1
        counts.usage_rows += rows
        counts.rollup_rows += written
        counts.rolled.append(day.isoformat())
    logger.info("usage roll-up: %s", {k: v for k, v in counts.as_dict().items() if k != "rolled"})
    return counts


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, clock.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def day_rollup(day: date) -> tuple[int, int]:
    """Replace one day's roll-up rows with fresh sums; returns ``(usage rows read, roll-up rows written)``."""
    # The generation is read before the rows: a change committed after this
    # read bumps it past what the roll-up records, leaving the day stale.
    generation = RollupDay.objects.filter(day=day).values_list("dirty_generation", flat=True).first() or 0
    start, end = day_bounds(day)
    # Usage rows are reached through the day's traces (trace started_at index,
    # then the usage rows' (trace, …) unique index): no index on usage time needed.
    # Production traffic only (see the module docstring): a report counts test-mode traces live when asked to.
    traces = Trace.objects.filter(started_at__gte=start, started_at__lt=end, test_mode=False)
    usage = (TraceAssetUsage.objects.filter(trace_id__in=traces.values("pk"), asset_version__isnull=False)
             .annotate(bucket=bucket_expression())
             .values("asset_version_id", "stage", "tenant_id", "bucket")
             .annotate(**usage_sums()).order_by())
    with transaction.atomic():
        UsageRollup.objects.filter(day=day).delete()
        TraceRollup.objects.filter(day=day).delete()
        rows = [UsageRollup(day=day, **row) for row in usage]
        UsageRollup.objects.bulk_create(rows, batch_size=2000)
        per_tenant = traces.values("tenant_id").annotate(n=Count("*")).order_by()
        TraceRollup.objects.bulk_create(TraceRollup(day=day, tenant_id=row["tenant_id"], traces=row["n"])
                                        for row in per_tenant)
        read = sum(row.traces for row in rows)
        RollupDay.objects.bulk_create(
            [RollupDay(day=day, rolled_generation=generation, rolled_at=timezone.now(), usage_rows=read)],
            update_conflicts=True, unique_fields=["day"], update_fields=["rolled_generation", "rolled_at", "usage_rows"])
    return read, len(rows)


def usage_sums() -> dict:
    """The sums a roll-up row keeps (also used to aggregate the live usage rows the same way)."""
    return {
        "traces": Count("*"),
        "errors": Count("asset_version_id", filter=Q(status="error")),
        "warnings": Count("asset_version_id", filter=Q(status="warning")),
        "replans": Count("asset_version_id", filter=Q(replanned=True)),
        "empties": Count("asset_version_id", filter=Q(result_empty=True)),
        "references_sum": Sum("references_count"), "rows_sum": Sum("rows_count"),
        "tokens_sum": Sum("tokens"), "cost_sum": Sum("cost"),
        "first_at": Min("started_at"), "last_at": Max("started_at"),
    }


# -- reading a window --------------------------------------------------------

@dataclass(frozen=True)
class RollupWindow:
    """A report's time range split into rolled days (read from roll-ups) and live ranges (from usage rows).

    ``live`` holds ``(start, end, end_inclusive)``; ``None`` is an open end.
    Rolled days are ``first_day``..``last_day`` minus ``holes``. ``rolled_state``
    digests each rolled day's ``rolled_generation`` and ``rolled_at``: a day's
    rows change only when it is rolled again after a change, which moves its
    generation, so figures summed from this window's roll-up rows stay true while
    the digest is the same (generations, not clocks, as ``RollupDay`` explains;
    ``rolled_at`` only tells a restored or rebuilt database's days apart).
    """

    first_day: date | None
    last_day: date | None
    holes: tuple[date, ...]
    live: tuple[tuple[datetime | None, datetime | None, bool], ...]
    rolled_state: str = ""

    @property
    def rolled(self) -> bool:
        return self.first_day is not None

    def day_filter(self, prefix: str = "") -> Q:
        if not self.rolled:
            return Q(pk__in=[])
        query = Q(**{f"{prefix}day__gte": self.first_day, f"{prefix}day__lte": self.last_day})
        return query & ~Q(**{f"{prefix}day__in": self.holes}) if self.holes else query

    def rolled_filter(self, column: str = "started_at") -> Q:
        """Moments inside the rolled days (to find what the roll-up leaves out: test-mode traces)."""
        if not self.rolled:
            return Q(pk__in=[])
        query = Q(**{f"{column}__gte": day_bounds(self.first_day)[0], f"{column}__lt": day_bounds(self.last_day)[1]})
        for hole in self.holes:
            hole_start, hole_end = day_bounds(hole)
            query &= ~Q(**{f"{column}__gte": hole_start, f"{column}__lt": hole_end})
        return query

    def live_filter(self, column: str = "started_at") -> list[Q]:
        """One filter per live range (each an index range), to be aggregated separately."""
        filters = []
        for start, end, inclusive in self.live:
            query = Q()
            if start is not None:
                query &= Q(**{f"{column}__gte": start})
            if end is not None:
                query &= Q(**{f"{column}__lte" if inclusive else f"{column}__lt": end})
            filters.append(query)
        return filters


def rollup_window(start: datetime | None, end: datetime | None) -> RollupWindow:
    """Split ``[start, end]`` into whole valid rolled days and the live ranges around and between them."""
    if not settings.OPS_ROLLUP_ENABLED:
        return RollupWindow(None, None, (), ((start, end, True),))
    days = RollupDay.objects.filter(RollupDay.valid_q())
    if start is not None:
        days = days.filter(day__gte=_first_whole_day(start))
    if end is not None:
        days = days.filter(day__lt=end.astimezone(UTC).date())  # the day must close at or before `end`
    generations = sorted(days.values_list("day", "rolled_generation", "rolled_at"))
    valid = [day for day, _, _ in generations]
    if not valid:
        return RollupWindow(None, None, (), ((start, end, True),))
    first, last = valid[0], valid[-1]
    present = set(valid)
    holes, live, cursor = [], [], start
    day = first
    while day <= last:
        day_start, day_end = day_bounds(day)
        if day in present:
            if cursor is None or cursor < day_start:
                live.append((cursor, day_start, False))
            cursor = day_end
        else:
            holes.append(day)
        day += timedelta(days=1)
    if end is None or cursor <= end:
        live.append((cursor, end, True))
    state = hashlib.sha256(repr(generations).encode()).hexdigest()
    return RollupWindow(first, last, tuple(holes), tuple(live), rolled_state=state)


def _first_whole_day(start: datetime) -> date:
    day = start.astimezone(UTC).date()
    return day if datetime.combine(day, clock.min, tzinfo=UTC) >= start else day + timedelta(days=1)


# -- merging roll-up rows and live rows --------------------------------------

@dataclass
class Tally:
    """Usage figures summed from roll-up rows and live aggregates alike (one per stage)."""

    traces: int = 0
    errors: int = 0
    warnings: int = 0
    replans: int = 0
    empties: int = 0
    references_sum: int = 0
    rows_sum: int = 0
    tokens_sum: int = 0
    cost_sum: float = 0.0
    first_at: datetime | None = None
    last_at: datetime | None = None
    histogram: dict[int, int] = field(default_factory=dict)

    def add(self, row: dict) -> None:
        """Add one grouped row (roll-up sums or a live aggregate) of one duration bucket."""
        if not row["traces"]:
            return
        self.traces += row["traces"]
        for name in ("errors", "warnings", "replans", "empties", "references_sum", "rows_sum", "tokens_sum",
                     "cost_sum"):
            setattr(self, name, getattr(self, name) + (row[name] or 0))
        self.first_at = min(filter(None, (self.first_at, row["first_at"])), default=None)
        self.last_at = max(filter(None, (self.last_at, row["last_at"])), default=None)
        self.histogram[row["bucket"]] = self.histogram.get(row["bucket"], 0) + row["traces"]

    def percentiles(self) -> tuple[float | None, float | None]:
        median, p95 = histogram_percentiles(self.histogram, (0.5, 0.95))
        return median, p95


def rolled_sums() -> dict:
    """Aggregates over ``UsageRollup`` rows, named like ``usage_sums()``."""
    return {"traces": Sum("traces"), "errors": Sum("errors"), "warnings": Sum("warnings"),
            "replans": Sum("replans"), "empties": Sum("empties"), "references_sum": Sum("references_sum"),
            "rows_sum": Sum("rows_sum"), "tokens_sum": Sum("tokens_sum"), "cost_sum": Sum("cost_sum"),
            "first_at": Min("first_at"), "last_at": Max("last_at")}
