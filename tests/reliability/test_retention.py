"""Retention: old traces go in batches with all their rows; new and referenced traces stay.

Runs on SQLite and PostgreSQL (the analysis id lists are JSON, looked up
differently on each).
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.utils import timezone

from controlloop.models import ReplanEvent, ReplanLedger
from inspector.models import StagePayload, StageRun, Trace, TraceAssetUsage
from inspector.services import retention, trace_ingest
from inspector.services.retention import traces_purge, traces_purge_expired
from regression.models import (
    Baseline,
    GoldenQuery,
    GoldenSuite,
    OverrideTest,
    RegressionAnalysis,
    RegressionRun,
    SuiteItem,
)
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db
NOW = timezone.now()
OLD = NOW - timedelta(days=200)
NEW = NOW - timedelta(days=10)
CUTOFF = NOW - timedelta(days=90)


def _trace(trace_id: str, *, started=OLD, parent: str = "", test_mode: bool = False, replans: bool = False) -> str:
    trace_ingest(payload=trace_body(trace_id=trace_id, question=f"Question of {trace_id}?",
                                    started_at=started.isoformat(), parent_trace_id=parent, test_mode=test_mode))
    if replans:
        request = ReplanEvent.objects.create(kind="request", trace_id=trace_id, trigger_type="error",
                                             created_at=started)
        ReplanEvent.objects.create(kind="decision", trace_id=trace_id, trigger_type="error", request=request,
                                   decision="auto_retry", approved=True, created_at=started)
        ReplanEvent.objects.create(kind="execution", trace_id=trace_id, trigger_type="error", request=request,
                                   outcome="succeeded", created_at=started)
        ReplanLedger.objects.create(trace_id=trace_id, replans_used=1)
    return trace_id


def _rows(trace_id: str) -> dict[str, int]:
    return {
        "traces": Trace.objects.filter(trace_id=trace_id).count(),
        "stage_runs": StageRun.objects.filter(trace__trace_id=trace_id).count(),
        "stage_payloads": StagePayload.objects.filter(stage_run__trace__trace_id=trace_id).count(),
        "asset_usages": TraceAssetUsage.objects.filter(trace__trace_id=trace_id).count(),
        "replan_events": ReplanEvent.objects.filter(trace_id=trace_id).count(),
        "replan_ledgers": ReplanLedger.objects.filter(trace_id=trace_id).count(),
    }


def _gone(trace_id: str) -> bool:
    return not any(_rows(trace_id).values())


def _whole(trace_id: str) -> bool:
    rows = _rows(trace_id)
    return rows["traces"] == 1 and rows["stage_runs"] == 5 and rows["stage_payloads"] == 5


def test_old_unprotected_traces_go_with_all_their_rows_and_new_ones_stay():
    old = [_trace("old-1", replans=True), _trace("old-2"), _trace("old-3", replans=True)]
    new = [_trace("new-1", started=NEW, replans=True), _trace("new-2", started=NEW)]
    expected = {name: sum(_rows(t)[name] for t in old) for name in _rows(old[0])}
    assert expected["replan_events"] == 6 and expected["asset_usages"] > 0

    counts = traces_purge(older_than=CUTOFF, batch_size=2)

    assert all(_gone(trace_id) for trace_id in old)
    assert all(_whole(trace_id) for trace_id in new)
    assert _rows("new-1")["replan_events"] == 3 and _rows("new-1")["replan_ledgers"] == 1
    assert {name: getattr(counts, name) for name in expected} == expected
    assert counts.kept == 0 and counts.batches == 2 and counts.finished


def _golden(trace_id: str, name: str = "golden") -> Baseline:
    query, _ = GoldenQuery.objects.get_or_create(name=name, defaults={"question": f"Question of {trace_id}?"})
    return Baseline.objects.create(golden_query=query, trace=Trace.objects.get(trace_id=trace_id))


def _protect(kind: str, trace_id: str) -> None:
    """Make ``trace_id`` (old) referenced in one way; everything else it needs is a new trace."""
    if kind == "current baseline":
        _golden(trace_id)
    elif kind == "superseded baseline":
        _golden(trace_id)
        _golden(_trace("newer-baseline", started=NEW))
    elif kind == "analysis baseline side":
        RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[trace_id],
                                          candidate_trace_ids=[_trace("cand", started=NEW)])
    elif kind == "analysis candidate side":
        RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[_trace("base", started=NEW)],
                                          candidate_trace_ids=[trace_id])
    elif kind == "analysis group member":
        RegressionAnalysis.objects.create(kind="group", baseline_trace_ids=["x-1", trace_id, "x-2"],
                                          candidate_trace_ids=["y-1", "y-2"], status="completed")
    elif kind == "run candidate":
        baseline = _golden(_trace("run-baseline", started=NEW))
        RegressionRun.objects.create(golden_query=baseline.golden_query, baseline=baseline,
                                     candidate_trace=Trace.objects.get(trace_id=trace_id))
    elif kind.startswith("override test"):
        fields = {"trace": _trace("ot-trace", started=NEW), "baseline_trace": _trace("ot-base", started=NEW),
                  "candidate_trace": _trace("ot-cand", started=NEW)}
        field = {"trace": "trace", "baseline": "baseline_trace", "candidate": "candidate_trace"}
        fields[field[kind.split()[-1]]] = trace_id
        OverrideTest.objects.create(overrides={"prompt": "route_rules@1"},
                                    **{name: Trace.objects.get(trace_id=value) for name, value in fields.items()})
    elif kind == "parent of a kept re-run":
        child = _trace("rerun", started=OLD, parent=trace_id, test_mode=True)
        RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[_trace("b", started=NEW)],
                                          candidate_trace_ids=[child])
    elif kind == "suite item baseline run":
        suite = GoldenSuite.objects.create(name="nightly")
        SuiteItem.objects.create(suite=suite, name="servers", question="Which servers?",
                                 baseline_trace_ids=["other-run", trace_id])
    elif kind == "suite stage item source":
        suite = GoldenSuite.objects.create(name="stages")
        SuiteItem.objects.create(suite=suite, name="execute", kind="stage", stage="execute", trace_id=trace_id)
    else:
        raise AssertionError(kind)


PROTECTED_KINDS = ["current baseline", "superseded baseline", "analysis baseline side", "analysis candidate side",
                   "analysis group member", "run candidate", "override test trace", "override test baseline",
                   "override test candidate", "parent of a kept re-run",
                   "suite item baseline run", "suite stage item source"]


@pytest.mark.parametrize("kind", PROTECTED_KINDS)
def test_referenced_traces_stay_whatever_their_age(kind):
    kept = _trace("kept", replans=True)
    _protect(kind, kept)
    plain = _trace("plain")

    counts = traces_purge(older_than=CUTOFF, batch_size=10)

    assert _whole(kept) and _rows(kept)["replan_events"] == 3
    assert _gone(plain)
    assert counts.kept >= 1 and counts.traces >= 1
    assert Trace.objects.filter(started_at__gte=CUTOFF).count() == Trace.objects.count() - counts.kept


def test_unrelated_analyses_do_not_protect_anything():
    RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=["old-10"], candidate_trace_ids=["zzz"])
    _trace("old-1")  # "old-1" is a prefix of "old-10": matching must be exact
    assert traces_purge(older_than=CUTOFF).traces == 1 and _gone("old-1")


def test_batches_are_respected_and_kept_traces_are_looked_at_once(monkeypatch):
    _protect("current baseline", _trace("kept-first", started=OLD - timedelta(days=1)))
    old = [_trace(f"old-{n}", started=OLD + timedelta(minutes=n)) for n in range(7)]
    sizes: list[int] = []
    delete_batch = retention._delete_batch

    def note_size(doomed, counts, dry_run):
        sizes.append(len(doomed))
        delete_batch(doomed, counts, dry_run=dry_run)

    monkeypatch.setattr(retention, "_delete_batch", note_size)
    counts = traces_purge(older_than=CUTOFF, batch_size=3)

    assert sizes == [2, 3, 2]  # 8 old traces, 3 a batch; the kept one took a place in the first batch only
    assert counts.batches == 3 and counts.traces == 7 and counts.kept == 1
    assert all(_gone(trace_id) for trace_id in old) and _whole("kept-first")


def test_each_batch_is_its_own_transaction(monkeypatch):
    old = [_trace(f"old-{n}", started=OLD + timedelta(minutes=n)) for n in range(4)]
    delete_batch = retention._delete_batch
    calls: list[int] = []

    def fail_in_the_second_batch(doomed, counts, dry_run):
        calls.append(1)
        delete_batch(doomed, counts, dry_run=dry_run)
        if len(calls) == 2:
            raise RuntimeError("worker lost mid-batch")

    monkeypatch.setattr(retention, "_delete_batch", fail_in_the_second_batch)
    with pytest.raises(RuntimeError):
        traces_purge(older_than=CUTOFF, batch_size=2)

    assert _gone(old[0]) and _gone(old[1])  # the first batch committed
    assert _whole(old[2]) and _whole(old[3])  # the second rolled back whole
    monkeypatch.undo()
    assert traces_purge(older_than=CUTOFF, batch_size=2).traces == 2  # and the next run finishes the job


@pytest.mark.django_db(transaction=True)
def test_a_missed_reference_is_still_stopped_by_the_database(monkeypatch):
    """Belt and braces: were a protection rule missing, the baseline's foreign key rolls the batch back."""
    _golden(_trace("pinned"))
    monkeypatch.setattr(retention, "traces_protected", lambda trace_ids: set())
    with pytest.raises(IntegrityError):
        traces_purge(older_than=CUTOFF)
    assert _whole("pinned")


def test_dry_run_counts_and_deletes_nothing():
    _trace("old-1", replans=True)
    _trace("old-2")
    _protect("current baseline", _trace("kept"))
    before = {trace_id: _rows(trace_id) for trace_id in ("old-1", "old-2", "kept")}

    counts = traces_purge(older_than=CUTOFF, dry_run=True)

    assert counts.traces == 2 and counts.stage_runs == 10 and counts.replan_events == 3 and counts.kept == 1
    assert {trace_id: _rows(trace_id) for trace_id in before} == before


def test_a_time_budget_stops_between_batches():
    _trace("old-1")
    counts = traces_purge(older_than=CUTOFF, max_seconds=0)
    assert not counts.finished and counts.batches == 0 and _whole("old-1")


def test_the_beat_job_uses_the_settings_and_zero_disables_it(settings):
    from inspector.tasks import purge_old_traces

    _trace("old-1")
    _trace("recent", started=NOW - timedelta(days=20))
    settings.OPS_RETENTION_DAYS = 0
    assert purge_old_traces() == {"disabled": True}
    assert _whole("old-1")

    settings.OPS_RETENTION_DAYS = 30
    settings.OPS_RETENTION_BATCH = 1
    result = purge_old_traces.delay().get(timeout=10)  # eager here; a worker in production
    assert result["traces"] == 1 and result["batches"] == 1 and result["finished"]
    assert _gone("old-1") and _whole("recent")
    assert traces_purge_expired(now=NOW + timedelta(days=15))["traces"] == 1 and _gone("recent")


def test_the_beat_schedule_has_the_retention_job(settings):
    from inspector.tasks import purge_old_traces

    entry = settings.CELERY_BEAT_SCHEDULE["purge-old-traces"]
    assert entry["task"] == purge_old_traces.name == "inspector.tasks.purge_old_traces"
    assert entry["options"]["expires"] > 0


def test_purge_traces_command(settings):
    _trace("old-1")
    _trace("recent", started=NOW - timedelta(days=40))
    out = StringIO()
    call_command("purge_traces", "--older-than-days", "30", "--dry-run", stdout=out)
    assert out.getvalue().startswith("would delete 2 trace(s)") and _whole("old-1")

    out = StringIO()
    call_command("purge_traces", "--older-than-days", "90", "--batch-size", "1", stdout=out)
    assert out.getvalue().startswith("deleted 1 trace(s)") and "in 1 batch(es)" in out.getvalue()
    assert _gone("old-1") and _whole("recent")

    with pytest.raises(CommandError, match="at least 1"):
        call_command("purge_traces", "--older-than-days", "0")
    settings.OPS_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="disabled"):
        call_command("purge_traces")
