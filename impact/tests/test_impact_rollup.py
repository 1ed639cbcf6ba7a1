"""The daily roll-up behind impact reports: same counts as the usage rows, bounded percentile error, never stale."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import F
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from impact.queries import _exact_percentile
from impact.report import asset_impact
from inspector.models import RollupDay, Trace, TraceAssetUsage, TraceRollup, UsageRollup
from inspector.services import asset_create, asset_version_create, trace_ingest
from inspector.services.retention import traces_purge
from inspector.services.rollups import (
    bucket_expression,
    bucket_value,
    days_to_roll,
    duration_bucket,
    histogram_percentiles,
    rollup_window,
    usage_rollup,
)
from testkit.factories import VALID_SPECS, trace_body

NOW = datetime.now(UTC)
DAY0 = (NOW - timedelta(days=6)).date()  # six closed days before today: DAY0 … DAY0 + 4 get traces


def _at(day_offset: int, hour: int = 12) -> datetime:
    return datetime(DAY0.year, DAY0.month, DAY0.day, hour, tzinfo=UTC) + timedelta(days=day_offset)


def _roll():
    """Roll up as at noon today: days DAY0 … DAY0 + 5 (the last one empty), whatever the time of the run."""
    return usage_rollup(now=_at(6))


def _trace(trace_id: str, version: int, started: datetime, *, duration: int, tenant: str = "default",
           status: str = "ok", usage: dict | None = None) -> None:
    body = trace_body(trace_id=trace_id, duration_ms=duration, tenant_id=tenant, started_at=started.isoformat(),
                      applied_assets={"query": f"ci_lookup@{version}"})
    for stage in body["stages"]:
        stage["input"]["applied_assets"] = {"query": f"ci_lookup@{version}"} if stage["stage"] == "execute" else {}
    execute = body["stages"][2]["output"]
    execute["duration_ms"] = max(duration // 7, 1)
    execute["diagnostics"].update(status=status, errors=["boom"] if status == "error" else [])
    if usage is not None:
        body["stages"][3]["output"]["result"]["usage"] = usage  # compose: the model call
    trace_ingest(payload=body)


@pytest.fixture
def asset(db):
    lookup = asset_create(tenant_id="default", asset_type="query", name="ci_lookup", spec=VALID_SPECS["query"])
    asset_version_create(asset=lookup, spec={**VALID_SPECS["query"], "row_limit": 5})
    rng = random.Random(7)
    for number in range(120):
        # Most traces report tokens and a cost (floats whose sums differ in the last bits by order); some none.
        usage = None if number % 7 == 0 else {"model": "gpt-4o", "input_tokens": rng.randrange(100, 5000),
                                              "output_tokens": rng.randrange(0, 800),
                                              "cost": round(rng.uniform(0.0001, 0.05), 6)}
        _trace(f"r-{number}", 1 + number % 2, _at(number % 5, hour=number % 24), duration=rng.randrange(5, 3000),
               tenant=("default", "acme")[number % 3 == 0], status="error" if number % 11 == 0 else "ok", usage=usage)
    return lookup


def _comparable(report: dict) -> dict:
    """The report without the figures the roll-up approximates (percentiles) or adds (its note)."""
    strip = {"duration_median_ms", "duration_p95_ms", "stage_durations"}
    metrics = {side: {k: v for k, v in m.items() if k not in strip} for side, m in report["metrics"].items()}
    runs = {side: {stage: d["runs"] for stage, d in m["stage_durations"].items()}
            for side, m in report["metrics"].items()}
    # Means and their tests are exact either way: the samples are the newest usage rows in both paths.
    exact_rows = [row for row in report.get("comparison", []) if row["metric"] in ("mean_cost", "mean_tokens")]
    return {"metrics": metrics, "runs": runs, "traffic": report["traffic"], "versions": report["versions"],
            "exact_rows": exact_rows}


def _close(approximate: float | None, exact: float | None) -> bool:
    return approximate is not None and exact is not None and abs(approximate - exact) <= 0.026 * exact + 1


@pytest.mark.django_db
def test_rolled_report_has_the_exact_counts_and_close_percentiles(asset):
    exact = asset_impact(asset=asset, base="1", target="2")
    assert exact["rollup"]["percentiles_approximate"] is False

    counts = _roll()

    assert counts.days == 6 and counts.usage_rows == 120 * 2  # a trace-level and an execute row each
    assert TraceRollup.objects.filter(day=DAY0).count() == 2  # two tenants
    rolled = asset_impact(asset=asset, base="1", target="2")
    assert rolled["rollup"] == {"rolled_days": 6, "through": (DAY0 + timedelta(days=5)).isoformat(),
                                "percentiles_approximate": True}
    assert _comparable(rolled) == _comparable(exact)
    for side in ("base", "target"):
        got, want = rolled["metrics"][side], exact["metrics"][side]
        assert got["mean_cost"] > 0 and got["mean_tokens"] > 0  # the roll-up's cost and token sums are read
        assert _close(got["duration_median_ms"], want["duration_median_ms"])
        assert _close(got["duration_p95_ms"], want["duration_p95_ms"])
        assert _close(got["stage_durations"]["execute"]["p95_ms"], want["stage_durations"]["execute"]["p95_ms"])


@pytest.mark.django_db
def test_partial_days_tenants_and_scope_read_live_rows_around_the_rolled_days(asset):
    _roll()
    start, end = _at(1, hour=6), _at(3, hour=18)  # day 1 and day 3 are partial, day 2 is whole
    window = rollup_window(start, end)
    assert (window.first_day, window.last_day) == (DAY0 + timedelta(days=2),) * 2
    assert [(s, e) for s, e, _ in window.live] == [(start, _at(2, hour=0)), (_at(3, hour=0), end)]
    rolled = asset_impact(asset=asset, start=start, end=end, tenant="acme")
    with_days_stale = RollupDay.objects.update(dirty_generation=F("dirty_generation") + 1)
    assert with_days_stale == 6
    exact = asset_impact(asset=asset, start=start, end=end, tenant="acme")
    assert exact["rollup"]["percentiles_approximate"] is False and rolled["rollup"]["rolled_days"] == 1
    assert _comparable(rolled) == _comparable(exact)
    assert rolled["traffic"]["all_traces"] == Trace.objects.filter(
        tenant_id="acme", started_at__gte=start, started_at__lte=end).count()


@pytest.mark.django_db
def test_a_late_trace_dirties_its_day_and_counts_at_once(asset):
    _roll()
    before = asset_impact(asset=asset, base="1", target="2")["metrics"]["target"]["traces"]
    _trace("late", 2, _at(1), duration=50)
    assert not RollupDay.objects.get(day=DAY0 + timedelta(days=1)).valid
    after = asset_impact(asset=asset, base="1", target="2")
    assert after["metrics"]["target"]["traces"] == before + 1
    assert after["rollup"]["rolled_days"] == 5  # the dirty day is read live
    assert days_to_roll(now=_at(6)) == [DAY0 + timedelta(days=1)]
    assert _roll().days == 1 and days_to_roll(now=_at(6)) == []
    assert asset_impact(asset=asset, base="1", target="2")["metrics"]["target"]["traces"] == before + 1


@pytest.mark.django_db
def test_today_is_never_rolled_and_recent_traces_cost_no_mark(asset):
    _trace("today", 1, NOW - timedelta(minutes=1), duration=10)
    assert not RollupDay.objects.filter(day=NOW.date()).exists()  # not a late arrival: no write at ingest
    _roll()
    assert not RollupDay.objects.filter(day=NOW.date()).exists()
    report = asset_impact(asset=asset, base="1", target="2")
    assert report["metrics"]["base"]["traces"] == 61  # 60 rolled + today's, read live


@pytest.mark.django_db
def test_purge_and_deletes_dirty_their_days(asset, django_capture_on_commit_callbacks):
    _roll()
    traces_purge(older_than=_at(1, hour=0))  # day 0 goes
    assert not RollupDay.objects.get(day=DAY0).valid
    report = asset_impact(asset=asset, base="1", target="2")
    assert report["traffic"]["all_traces"] == Trace.objects.count() == 96
    with django_capture_on_commit_callbacks(execute=True):
        Trace.objects.get(trace_id="r-1").delete()
    assert not RollupDay.objects.get(day=DAY0 + timedelta(days=1)).valid
    assert asset_impact(asset=asset, base="1", target="2")["traffic"]["all_traces"] == 95
    _roll()
    assert UsageRollup.objects.filter(day=DAY0).count() == 0
    assert asset_impact(asset=asset, base="1", target="2")["traffic"]["all_traces"] == 95


@pytest.mark.django_db
def test_rollup_task_runs_through_celery(asset, settings):
    from inspector.tasks import rollup_asset_usage

    settings.OPS_ROLLUP_MAX_SECONDS = 60
    result = rollup_asset_usage.delay().get()
    assert result["days"] >= 5 and result["finished"] is True  # DAY0 … yesterday (once it closed an hour ago)
    assert rollup_asset_usage.delay().get()["days"] == 0  # nothing left to roll


@pytest.mark.django_db
def test_disabled_rollup_reads_every_row(asset, settings):
    _roll()
    settings.OPS_ROLLUP_ENABLED = False
    assert asset_impact(asset=asset)["rollup"]["percentiles_approximate"] is False


@pytest.mark.django_db
def test_sql_buckets_match_the_python_rule(asset):
    durations = [0, 1, 99, 100, 104, 105, 106, 1000, 2999, 123456]
    trace = Trace.objects.first()
    TraceAssetUsage.objects.bulk_create(
        TraceAssetUsage(trace=trace, stage=f"s{i}", asset_type="query", asset_name="x", version=1, duration_ms=d)
        for i, d in enumerate(durations))
    rows = (TraceAssetUsage.objects.filter(asset_name="x").annotate(bucket=bucket_expression())
            .values_list("duration_ms", "bucket"))
    assert dict(rows) == {d: duration_bucket(d) for d in durations}


def test_bucket_values_lie_within_their_bucket():
    for duration in [*range(300), 1_000, 54_321, 10**7]:
        value = bucket_value(duration_bucket(duration))
        assert abs(value - duration) <= 0.025 * duration + 1e-9


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=300))
def test_histogram_percentiles_are_within_the_bucket_error(durations):
    histogram: dict[int, int] = {}
    for duration in durations:
        histogram[duration_bucket(duration)] = histogram.get(duration_bucket(duration), 0) + 1
    for fraction, approximate in zip((0.5, 0.95), histogram_percentiles(histogram, (0.5, 0.95)), strict=True):
        exact = _exact_percentile([float(d) for d in durations], fraction)
        # Interpolating between two values keeps each end within 2.5 %, so the result is too.
        assert abs(approximate - exact) <= 0.025 * exact + 1e-6


def test_empty_histogram_has_no_percentiles():
    assert histogram_percentiles({}, (0.5, 0.95)) == [None, None]


@pytest.mark.django_db
def test_window_without_rolled_days_is_one_live_range():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert rollup_window(start, None).live == ((start, None, True),)
    RollupDay.objects.create(day=date(2026, 1, 2), rolled_generation=0, rolled_at=NOW)
    window = rollup_window(start, None)
    assert window.rolled and window.live == ((start, datetime(2026, 1, 2, tzinfo=UTC), False),
                                             (datetime(2026, 1, 3, tzinfo=UTC), None, True))


@pytest.mark.django_db
def test_rollup_usage_command(asset):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("rollup_usage", stdout=out)
    assert "usage rows into" in out.getvalue() and RollupDay.objects.filter(RollupDay.valid_q()).count() >= 5
    with pytest.raises(CommandError):
        call_command("rollup_usage", "--max-seconds", "0")


def test_the_beat_schedule_has_the_rollup_job(settings):
    from inspector.tasks import rollup_asset_usage

    entry = settings.CELERY_BEAT_SCHEDULE["rollup-asset-usage"]
    assert entry["task"] == rollup_asset_usage.name == "inspector.tasks.rollup_asset_usage"
    assert 0 < entry["options"]["expires"] <= 600


def _rollup_reads(report) -> tuple[dict, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        result = report()
    return result, sum('FROM "inspector_usagerollup"' in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db
def test_summed_rollup_rows_are_read_once_until_a_day_is_rolled_again(asset):
    _roll()
    report = lambda: asset_impact(asset=asset, base="1", target="2")
    first, reads = _rollup_reads(report)
    assert reads == 2  # one sum a version
    again, reads = _rollup_reads(report)
    assert reads == 0 and again["metrics"] == first["metrics"]

    _trace("late", 2, _at(1), duration=50)  # dirties day 1: read live, the other days' sums are new keys
    _rollup_reads(report)
    _roll()  # day 1 rolled again: a new generation, so nothing summed before it counts
    rolled_again, reads = _rollup_reads(report)
    assert reads == 2
    assert rolled_again["metrics"]["target"]["traces"] == first["metrics"]["target"]["traces"] + 1


@pytest.mark.django_db
def test_a_rebuilt_database_with_the_same_generations_is_not_taken_for_the_old_one(asset):
    _roll()
    state = rollup_window(None, None).rolled_state
    RollupDay.objects.update(rolled_at=F("rolled_at") + timedelta(seconds=1))  # same days and generations
    assert rollup_window(None, None).rolled_state != state
