"""Requesting, executing and reaping regression analyses.

Execution claims the row with a conditional UPDATE (pending → running), so a
task delivered twice does the work once; a reaper puts analyses stuck in
``running`` past the time limit back to ``pending`` (or ``failed`` after the
last attempt), so nothing stays running for ever.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from access.tenancy import EVERY_TENANT, TenantScope
from inspector.errors import InvalidInput
from inspector.models import Trace
from regression import selectors
from regression.engine import ScoringConfig, compare_pair
from regression.models import RegressionAnalysis, WorkStatus
from regression.statistics import compare_groups

logger = logging.getLogger(__name__)
MAX_GROUP = 200


def _check_ids(baseline: list[str], candidate: list[str], scope: TenantScope) -> str:
    """Validate both sides; returns the candidates' tenant (unknown and out-of-scope ids are one error)."""
    if not baseline or not candidate:
        raise InvalidInput("both sides need at least one trace id")
    if len(baseline) > MAX_GROUP or len(candidate) > MAX_GROUP:
        raise InvalidInput(f"at most {MAX_GROUP} traces a side")
    if set(baseline) & set(candidate):
        raise InvalidInput("a trace cannot be compared with itself (it is on both sides)")
    wanted = set(baseline) | set(candidate)
    found = dict(scope.filter(Trace.objects).filter(trace_id__in=wanted).values_list("trace_id", "tenant_id"))
    missing = sorted(wanted - set(found))
    if missing:
        raise InvalidInput(f"unknown trace id(s): {', '.join(missing[:10])}")
    return found[candidate[0]]


def analysis_request(*, baseline_trace_ids: list[str], candidate_trace_ids: list[str],
                     options: dict[str, Any] | None = None, user=None,
                     scope: TenantScope = EVERY_TENANT) -> RegressionAnalysis:
    """Validate, store a pending analysis and enqueue it after the transaction commits."""
    from regression.tasks import run_analysis

    baseline = list(dict.fromkeys(baseline_trace_ids))
    candidate = list(dict.fromkeys(candidate_trace_ids))
    tenant_id = _check_ids(baseline, candidate, scope)
    try:
        ScoringConfig.from_overrides(options or {})
    except ValueError as exc:
        raise InvalidInput(str(exc), field="options") from exc
    kind = RegressionAnalysis.Kind.PAIR if len(baseline) == len(candidate) == 1 else RegressionAnalysis.Kind.GROUP
    with transaction.atomic():
        analysis = RegressionAnalysis.objects.create(
            kind=kind, tenant_id=tenant_id, baseline_trace_ids=baseline, candidate_trace_ids=candidate, options=options or {},
            created_by=user if user is not None and user.is_authenticated else None,
        )
        transaction.on_commit(lambda: _enqueue(run_analysis, analysis.pk))
    return analysis


def _enqueue(task, *args, **options) -> bool:
    """Send ``task(*args)``; False if the broker is unreachable.

    A broker that is down must not lose the work nor fail the request: the row
    stays pending and the reaper enqueues it again later. Publishing gives up
    quickly (settings: CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_TASK_PUBLISH_RETRY_POLICY).
    """
    try:
        task.apply_async(args, **options)
    except Exception:  # noqa: BLE001
        if task.app.conf.task_always_eager:
            # In-process execution: the task itself failed (and recorded it on its row).
            logger.exception("%s%r failed", task.name, args)
            return True
        logger.exception("could not enqueue %s%r; it stays pending for the reaper", task.name, args)
        return False
    return True


def _claim(analysis_id) -> bool:
    return bool(RegressionAnalysis.objects.filter(pk=analysis_id, status=WorkStatus.PENDING).update(
        status=WorkStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1))


def analysis_execute(*, analysis_id) -> RegressionAnalysis | None:
    """Run a pending analysis; returns None if another worker already took it."""
    if not _claim(analysis_id):
        return None
    analysis = RegressionAnalysis.objects.get(pk=analysis_id)
    try:
        result = _compute(analysis)
    except Exception as exc:  # noqa: BLE001 — stored on the row, then re-raised for the task log
        RegressionAnalysis.objects.filter(pk=analysis_id).update(
            status=WorkStatus.FAILED, finished_at=timezone.now(), error_message=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    RegressionAnalysis.objects.filter(pk=analysis_id, status=WorkStatus.RUNNING).update(
        status=WorkStatus.COMPLETED, finished_at=timezone.now(), error_message="", **result)
    analysis.refresh_from_db()
    return analysis


def analysis_fail(*, analysis_id, message: str) -> None:
    RegressionAnalysis.objects.filter(pk=analysis_id).exclude(status=WorkStatus.COMPLETED).update(
        status=WorkStatus.FAILED, finished_at=timezone.now(), error_message=message[:2000])


def _compute(analysis: RegressionAnalysis) -> dict[str, Any]:
    config = ScoringConfig.from_overrides(analysis.options or {})
    baseline_ids, candidate_ids = analysis.baseline_trace_ids, analysis.candidate_trace_ids
    snapshots = selectors.trace_snapshots([baseline_ids[0], candidate_ids[0]])
    statistics: dict[str, Any] = {}
    noise = None
    inconclusive = False
    notes: list[str] = []
    if analysis.kind == RegressionAnalysis.Kind.GROUP:
        groups = compare_groups(selectors.group_metrics(baseline_ids), selectors.group_metrics(candidate_ids))
        statistics = {"table": groups.table(), "text": groups.text_table(), "insufficient": groups.insufficient,
                      "inconclusive": groups.inconclusive,
                      "regressions": [f"{r.stage} {r.metric}" for r in groups.regressions]}
        inconclusive = groups.inconclusive
        notes += list(groups.notes)
        noise = _noise(selectors.group_metrics(baseline_ids)) if len(baseline_ids) >= 2 else None
        if noise:
            notes.append("deltas within the baseline runs' own spread are not penalised (noise floor)")
    pair = compare_pair(snapshots[baseline_ids[0]], snapshots[candidate_ids[0]], config, noise=noise,
                        statistics_inconclusive=inconclusive)
    score, verdict = pair.score, pair.verdict
    if statistics.get("regressions"):
        # A statistically significant regression is at least a WARN, whatever the single pair said.
        score = max(score, config.warn_at)
        verdict = "FAIL" if verdict == "FAIL" else "WARN"
        notes.append("statistically significant regression(s): " + ", ".join(statistics["regressions"]))
    return {
        "score": score, "verdict": verdict,
        "stage_results": [stage.model_dump(mode="json") for stage in pair.stages],
        "critical_issues": [issue.model_dump(mode="json") for issue in pair.critical_issues],
        "statistics": statistics, "notes": notes + list(pair.notes),
    }


def _noise(metrics: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Per stage and metric, the spread (max − min) of the baseline runs."""
    return {stage: {name: max(values) - min(values) for name, values in by_metric.items() if values}
            for stage, by_metric in metrics.items()}


def analyses_reap(*, now=None) -> dict[str, int]:
    """Recover work a dead worker or an unreachable broker left behind (the beat job ``reap-stuck-analyses``).

    * analyses still ``running`` past the task time limit go back to
      ``pending`` and are enqueued again, or end ``failed`` after
      ``OPS_ANALYSIS_MAX_ATTEMPTS``;
    * golden-query runs and override tests still ``running`` past the time
      limit end ``failed`` ("worker lost"): re-running them would store a
      second candidate trace, so they are not retried automatically;
    * analyses, golden-query runs and override tests still ``pending`` after
      ``OPS_PENDING_REQUEUE_AFTER_S`` are enqueued again (their first message
      never reached a worker). Claims make a duplicate message harmless, and
      these messages expire before the next one is sent.

    Stops enqueueing at the first failure (broker down); the next run retries.
    """
    from regression.models import OverrideTest, RegressionRun
    from regression.tasks import run_analysis, run_golden_query, run_override_test

    now = now or timezone.now()
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    stuck = RegressionAnalysis.objects.filter(status=WorkStatus.RUNNING, started_at__lt=now - limit)
    failed = stuck.filter(attempts__gte=settings.OPS_ANALYSIS_MAX_ATTEMPTS).update(
        status=WorkStatus.FAILED, finished_at=now,
        error_message="worker lost: still running past the time limit after the last attempt")
    requeued_ids = list(stuck.filter(attempts__lt=settings.OPS_ANALYSIS_MAX_ATTEMPTS).values_list("pk", flat=True))
    RegressionAnalysis.objects.filter(pk__in=requeued_ids, status=WorkStatus.RUNNING).update(
        status=WorkStatus.PENDING, started_at=None)
    lost = {"status": WorkStatus.FAILED, "finished_at": now,
            "error_message": "worker lost: still running past the task time limit"}
    runs_lost = RegressionRun.objects.filter(status=WorkStatus.RUNNING, started_at__lt=now - limit).update(**lost)
    tests_lost = OverrideTest.objects.filter(status=WorkStatus.RUNNING, started_at__lt=now - limit).update(**lost)
    pending_since = now - timedelta(seconds=settings.OPS_PENDING_REQUEUE_AFTER_S)
    forgotten = list(RegressionAnalysis.objects.filter(status=WorkStatus.PENDING, created_at__lt=pending_since)
                     .exclude(pk__in=requeued_ids).values_list("pk", flat=True))
    runs = list(RegressionRun.objects.filter(status=WorkStatus.PENDING, created_at__lt=pending_since)
                .values_list("pk", flat=True))
    tests = list(OverrideTest.objects.filter(status=WorkStatus.PENDING, created_at__lt=pending_since)
                 .values_list("pk", flat=True))
    jobs = ([(run_analysis, str(pk)) for pk in [*requeued_ids, *forgotten]]
            + [(run_golden_query, pk) for pk in runs] + [(run_override_test, pk) for pk in tests])
    sent = 0
    for task, arg in jobs:
        if not _enqueue(task, arg, expires=settings.OPS_PENDING_REQUEUE_AFTER_S):
            break
        sent += 1
    return {"failed": failed, "requeued": len(requeued_ids), "pending_requeued": len(forgotten),
            "runs_requeued": len(runs), "override_tests_requeued": len(tests), "not_enqueued": len(jobs) - sent,
            "runs_failed": runs_lost, "override_tests_failed": tests_lost}
