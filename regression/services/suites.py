"""Golden suites: validation, baselines, runs (items × repeats, GROUP analyses, assertions, pass^k) and triggers.

A suite run is one work item of ``regression/services/work.py`` (claimed,
heartbeat, reaped). Under its claim it goes through the items in order; for
each it stores ``repeats`` candidate traces in test mode (a question through
the pipeline, a stage re-run from the item's stored trace), compares them as
a group with the item's baseline traces in an analysis it owns and runs
inline, and checks the item's assertions on every candidate. A retry after a
lost worker keeps the items already finished (``progress``) and goes on.

Verdicts: an item is the worse of its analysis's verdict and FAIL when any
repeat fails an assertion; ``pass_all`` (pass^k) holds when all k repeats
passed and the item is not FAIL; the suite is its worst item, its score the
highest item score. A baseline recording (trigger ``baseline``) runs the same
way with the published assets and stores each item's traces as its baseline;
it has no analyses, and its verdict says only whether the assertions held.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inspector.contracts import STAGE_ORDER, AppliedAsset, ExecutionContext, StageRunIn, TraceIn
from inspector.models import StageRun, Trace, TraceAssetUsage
from inspector.pipeline.resolution import validate_overrides
from inspector.pipeline.runner import pipeline_run
from inspector.pipeline.stage_rerun import stage_rerun
from inspector.services.traces import trace_ingest
from kernel.errors import Conflict, InvalidInput
from regression.assertions import assertions_dump, assertions_evaluate, assertions_parse
from regression.engine import ScoringConfig
from regression.models import RegressionAnalysis, WorkStatus
from regression.services.analyses import analysis_owned_execute
from regression.services.work import Claim, work_claim, work_send_on_commit
from regression.suite_models import MAX_REPEATS, GoldenSuite, SuiteItem, SuiteItemResult, SuiteRun

RANK = {"": -1, "PASS": 0, "WARN": 1, "FAIL": 2}
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


# --- Validation ----------------------------------------------------------------------------------

def suite_check(*, suite: GoldenSuite) -> None:
    """Raise ``InvalidInput`` for a suite that cannot be saved: repeats, scoring options, schedule."""
    if not 1 <= suite.repeats <= MAX_REPEATS:
        raise InvalidInput(f"repeats must be between 1 and {MAX_REPEATS}", field="repeats")
    try:
        ScoringConfig.from_overrides(suite.options)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="options") from exc
    suite_schedule_parse(suite.schedule)


def suite_schedule_parse(schedule: str) -> dict[str, str]:
    """A cron line "m h dom mon dow" as django_celery_beat CrontabSchedule fields; {} for an empty line."""
    from celery.schedules import crontab

    parts = schedule.split()
    if not parts:
        return {}
    if len(parts) != len(CRON_FIELDS):
        raise InvalidInput(f'schedule must be 5 cron fields "minute hour day-of-month month day-of-week", '
                           f"got {len(parts)}", field="schedule")
    fields = dict(zip(CRON_FIELDS, parts))
    try:
        crontab(**fields)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"schedule {schedule!r} is not a valid cron line: {exc}", field="schedule") from exc
    return fields


def suite_item_check(*, item: SuiteItem) -> None:
    """Raise ``InvalidInput`` for an item that cannot run; stores its assertions in their normal form."""
    if item.kind == SuiteItem.Kind.QUESTION:
        if not item.question.strip():
            raise InvalidInput("a question item needs a question", field="question")
        if item.stage or item.trace_id:
            raise InvalidInput("a question item has no stage or trace_id", field="stage")
    elif item.kind == SuiteItem.Kind.STAGE:
        if item.stage not in STAGE_ORDER:
            raise InvalidInput(f"unknown stage {item.stage!r}; expected one of {', '.join(STAGE_ORDER)}",
                               field="stage")
        if not item.trace_id:
            raise InvalidInput("a stage item needs the trace_id of the stored trace whose stage is re-run",
                               field="trace_id")
        source = Trace.objects.filter(tenant_id=item.suite.tenant_id, trace_id=item.trace_id)
        if not StageRun.objects.filter(trace__in=source, stage=item.stage).exists():
            raise InvalidInput(f"trace {item.trace_id!r} of tenant {item.suite.tenant_id!r} has no stage "
                               f"{item.stage!r}", field="trace_id")
    else:
        raise InvalidInput(f"unknown kind {item.kind!r}; expected question or stage", field="kind")
    item.assertions = assertions_dump(assertions_parse(item.assertions))


# --- Schedule (django_celery_beat) --------------------------------------------------------------

def suite_task_name(suite: GoldenSuite) -> str:
    return f"golden-suite-{suite.pk}"


def suite_schedule_sync(*, suite: GoldenSuite) -> None:
    """Make the suite's beat entry match it: none without a schedule, disabled with the suite."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    fields = suite_schedule_parse(suite.schedule)
    if not fields:
        PeriodicTask.objects.filter(name=suite_task_name(suite)).delete()
        return
    crontab, _ = CrontabSchedule.objects.get_or_create(timezone="UTC", **fields)
    PeriodicTask.objects.update_or_create(
        name=suite_task_name(suite),
        defaults={"task": "regression.tasks.run_scheduled_suite", "crontab": crontab, "interval": None,
                  "args": f"[{suite.pk}]", "enabled": suite.enabled,
                  "description": f"Scheduled run of golden suite {suite.name!r} ({suite.tenant_id})"},
    )


def suite_schedule_remove(*, suite: GoldenSuite) -> None:
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(name=suite_task_name(suite)).delete()


# --- Requests ------------------------------------------------------------------------------------

def suite_record_baseline(*, suite: GoldenSuite, user=None, enqueue: bool = True) -> SuiteRun:
    """Record every item's baseline: ``repeats`` runs each with the published assets, as a pending run."""
    return _request(suite, SuiteRun.Trigger.BASELINE, {}, user, enqueue)


def suite_run_request(*, suite: GoldenSuite, trigger: str = SuiteRun.Trigger.MANUAL,
                      overrides: dict[str, str] | None = None, user=None, enqueue: bool = True) -> SuiteRun:
    """A pending run of every item against its baseline, sent after commit (``enqueue=False``: run it in-process).

    Every item needs a recorded baseline (``suite_record_baseline``).
    """
    if trigger == SuiteRun.Trigger.BASELINE:
        return suite_record_baseline(suite=suite, user=user, enqueue=enqueue)
    missing = [item.name for item in suite.items.all() if not item.baseline_trace_ids]
    if missing:
        raise InvalidInput(f"suite {suite.name!r}: item(s) without a baseline: {', '.join(missing[:10])}; "
                           "record the baseline first")
    return _request(suite, trigger, overrides or {}, user, enqueue)


def _request(suite: GoldenSuite, trigger: str, overrides: dict[str, str], user, enqueue: bool) -> SuiteRun:
    if not suite.items.exists():
        raise InvalidInput(f"suite {suite.name!r} has no items")
    if overrides:
        validate_overrides(ExecutionContext(tenant_id=suite.tenant_id, test_mode=True, asset_overrides=overrides))
    with transaction.atomic():
        run = SuiteRun.objects.create(suite=suite, trigger=trigger, overrides=overrides,
                                      created_by=user if user is not None and user.is_authenticated else None)
        if enqueue:
            work_send_on_commit(item=run)
    return run


def suite_delete(*, suite: GoldenSuite) -> None:
    """Delete a suite with its items and beat entry; refused (409) once it has runs (disable it instead)."""
    if suite.runs.exists():
        runs = suite.runs.count()
        raise Conflict(f"suite {suite.name!r} has {runs} run{'' if runs == 1 else 's'} (its regression history) "
                       "and cannot be deleted; disable it instead (enabled=false)")
    with transaction.atomic():
        suite_schedule_remove(suite=suite)
        suite.delete()


# --- Execution -----------------------------------------------------------------------------------

def suite_run_execute(*, run_id: int) -> SuiteRun | None:
    """Claim the run and go through its items; None if another worker already took it."""
    claim = work_claim(model=SuiteRun, pk=run_id)
    if claim is None:
        return None
    with claim.alive():
        run = SuiteRun.objects.select_related("suite").get(pk=run_id)
        try:
            for item in run.suite.items.order_by("position", "id"):
                _item_execute(run, item, claim)
            results = list(run.results.all())
            verdict = max((result.verdict for result in results), key=RANK.__getitem__, default="")
            scores = [result.score for result in results if result.score is not None]
            claim.complete(verdict=verdict, score=max(scores) if scores else None)
        except Exception as exc:
            claim.fail(f"{type(exc).__name__}: {exc}")
            raise
    run.refresh_from_db()
    return run


def _item_execute(run: SuiteRun, item: SuiteItem, claim: Claim) -> None:
    result = SuiteItemResult.objects.filter(run=run, item=item).first()
    if result is not None and result.verdict:
        return  # finished by an earlier attempt of this run
    suite = run.suite
    assertions = assertions_parse(item.assertions)
    if result is None:
        candidates = [_candidate_trace(run, item, repeat) for repeat in range(suite.repeats)]
        with transaction.atomic():
            analysis = None
            if run.trigger != SuiteRun.Trigger.BASELINE:
                single = len(item.baseline_trace_ids) == len(candidates) == 1
                # Owned by the result from the start, so the reaper leaves it to this run.
                analysis = RegressionAnalysis.objects.create(
                    kind=RegressionAnalysis.Kind.PAIR if single else RegressionAnalysis.Kind.GROUP,
                    tenant_id=suite.tenant_id, baseline_trace_ids=list(item.baseline_trace_ids),
                    candidate_trace_ids=candidates, options=suite.options)
            result = SuiteItemResult.objects.create(run=run, item=item, candidate_trace_ids=candidates,
                                                    analysis=analysis, repeats=len(candidates))
    analysis = analysis_owned_execute(analysis_id=result.analysis_id) if result.analysis_id else None
    outputs = _stage_outputs(result.candidate_trace_ids, suite.tenant_id)
    per_repeat = []
    for trace_id in result.candidate_trace_ids:
        checks = assertions_evaluate(assertions, outputs.get(trace_id, {}))
        per_repeat.append({"trace_id": trace_id, "passed": all(check["passed"] for check in checks),
                           "assertions": checks})
    passes = sum(1 for repeat in per_repeat if repeat["passed"])
    verdict = analysis.verdict if analysis is not None else "PASS"
    if passes < len(per_repeat):
        verdict = "FAIL"
    with transaction.atomic():
        SuiteItemResult.objects.filter(pk=result.pk).update(
            verdict=verdict, score=analysis.score if analysis is not None else None, assertion_results=per_repeat,
            passes=passes, repeats=len(per_repeat), pass_all=passes == len(per_repeat) and verdict != "FAIL")
        if run.trigger == SuiteRun.Trigger.BASELINE:
            SuiteItem.objects.filter(pk=item.pk).update(baseline_trace_ids=result.candidate_trace_ids)
        claim.rows().update(progress=F("progress") + 1)


def _candidate_trace(run: SuiteRun, item: SuiteItem, repeat: int) -> str:
    """Run the item once in test mode (with the run's overrides) and store the trace; returns its id."""
    suite = run.suite
    metadata = {"suite": suite.name, "suite_run": run.pk, "suite_item": item.name, "repeat": repeat + 1,
                "trigger": run.trigger}
    if item.kind == SuiteItem.Kind.STAGE:
        return _stage_rerun_trace(run, item, metadata)
    baseline = item.baseline_trace_ids[0] if item.baseline_trace_ids and run.trigger != SuiteRun.Trigger.BASELINE else ""
    trace = pipeline_run(
        context=ExecutionContext(tenant_id=suite.tenant_id, question=item.question, user_id="regression",
                                 test_mode=True, asset_overrides=run.overrides, baseline_trace_id=baseline),
        metadata=metadata)
    return trace.trace_id


def _stage_rerun_trace(run: SuiteRun, item: SuiteItem, metadata: dict[str, Any]) -> str:
    """Re-run the item's stage from its stored trace and store that one stage as a test-mode trace.

    The single-stage re-run stores nothing; a suite needs traces to compare
    as groups, so the execution is stored here, a child of the source trace.
    """
    rerun = stage_rerun(stage=item.stage, asset_overrides=run.overrides, trace_id=item.trace_id,
                       trace_tenant=run.suite.tenant_id, user_id="regression")
    source = Trace.objects.only("question", "route").get(tenant_id=run.suite.tenant_id, trace_id=item.trace_id)
    execution = rerun.execution
    started_at = timezone.now()
    trace, _ = trace_ingest(payload=TraceIn(
        trace_id=str(uuid.uuid4()), parent_trace_id=item.trace_id, tenant_id=run.suite.tenant_id,
        question=source.question, route=source.route, started_at=started_at,
        duration_ms=max(0, round(execution.total_ms or execution.output.duration_ms)), test_mode=True,
        applied_assets={asset_type: AppliedAsset(name=asset.name, version=asset.version, status=asset.status)
                        for asset_type, asset in execution.applied.items()},
        stages=[StageRunIn(stage=item.stage, attempt=1, started_at=started_at, input=execution.stage_input,
                           output=execution.output)],
        metadata={**metadata, "source": "suite_stage_rerun", "rerun_of": {"trace_id": item.trace_id,
                                                                          "stage": item.stage},
                  "user_id": "regression", "asset_overrides": run.overrides},
    ))
    return trace.trace_id


def _stage_outputs(trace_ids: list[str], tenant_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    """``{trace_id: {stage: output}}``, the final attempt of each stage (what assertions look at)."""
    outputs: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    runs = (StageRun.objects.filter(trace__tenant_id=tenant_id, trace__trace_id__in=trace_ids)
            .select_related("payload", "trace").only("stage", "attempt", "trace__trace_id", "payload__output_data")
            .order_by("stage", "-attempt"))
    for stage_run in runs:
        outputs[stage_run.trace.trace_id].setdefault(stage_run.stage, stage_run.payload.output)
    return outputs


# --- Triggers ------------------------------------------------------------------------------------

def suite_runs_for_published_asset(*, asset_id: int) -> list[SuiteRun]:
    """Enqueue a run of every enabled suite whose items' baseline traces used that asset."""
    runs = []
    for suite in GoldenSuite.objects.filter(enabled=True).prefetch_related("items"):
        items = list(suite.items.all())
        if not items or any(not item.baseline_trace_ids for item in items):
            continue
        baseline_ids = {trace_id for item in items for trace_id in item.baseline_trace_ids}
        if TraceAssetUsage.objects.filter(trace__tenant_id=suite.tenant_id, trace__trace_id__in=baseline_ids,
                                          asset_version__asset_id=asset_id).exists():
            runs.append(suite_run_request(suite=suite, trigger=SuiteRun.Trigger.ASSET_PUBLISH))
    return runs


def suite_run_scheduled(*, suite_id: int) -> SuiteRun | None:
    """The beat entry's run of one suite; None when the suite is gone, disabled or has no baseline yet."""
    suite = GoldenSuite.objects.filter(pk=suite_id, enabled=True).first()
    if suite is None or not suite.items.exists() or suite.items.filter(baseline_trace_ids=[]).exists():
        return None
    return suite_run_request(suite=suite, trigger=SuiteRun.Trigger.SCHEDULE)


@dataclass(frozen=True)
class ItemReport:
    """One line of a suite run's report (the gate's table and JUnit testcase)."""

    name: str
    verdict: str
    score: int | None
    passes: int
    repeats: int
    pass_all: bool
    problems: list[str]


def suite_run_report(run: SuiteRun) -> list[ItemReport]:
    """Per item: verdict, score, pass^k and what went wrong (failed assertions, the analysis's issues)."""
    reports = []
    results = {result.item_id: result for result in run.results.select_related("analysis")}
    for item in run.suite.items.order_by("position", "id"):
        result = results.get(item.pk)
        if result is None or not result.verdict:
            reports.append(ItemReport(item.name, "FAIL", None, 0, run.suite.repeats, False,
                                      [run.error_message or "not run"]))
            continue
        problems = []
        for repeat, outcome in enumerate(result.assertion_results, start=1):
            problems += [f"repeat {repeat}: {check['message']}" for check in outcome["assertions"] if not check["passed"]]
        if result.analysis is not None:
            problems += [issue["message"] for issue in (result.analysis.critical_issues or [])[:3]]
            if result.analysis.status == WorkStatus.FAILED:
                problems.append(f"analysis failed: {result.analysis.error_message}")
        reports.append(ItemReport(item.name, result.verdict, result.score, result.passes, result.repeats,
                                  result.pass_all, problems))
    return reports
