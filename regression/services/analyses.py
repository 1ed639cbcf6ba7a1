"""Requesting and executing regression analyses.

An analysis follows the work lifecycle of ``regression/services/work.py``:
stored pending and sent after commit (outbox), claimed with a conditional
UPDATE, kept alive by a heartbeat, and recovered by the reaper if its worker dies.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from access.tenancy import EVERY_TENANT, TenantScope
from inspector.models import Trace
from inspector.selectors import trace_pick
from kernel.errors import InvalidInput
from regression import selectors
from regression.contracts import MAX_GROUP
from regression.engine import ScoringConfig, compare_pair, scoring_options_check
from regression.models import ClaimedWork, RegressionAnalysis, WorkStatus
from regression.noise import noise_band
from regression.services.work import work_claim, work_send_on_commit
from regression.statistics import compare_groups

logger = logging.getLogger(__name__)


def _check_ids(baseline: list[str], candidate: list[str], scope: TenantScope) -> str:
    """Validate both sides; returns the tenant they are in (unknown and out-of-scope ids are one error).

    An analysis compares traces of one tenant (trace ids are unique per
    tenant): the first candidate's, picked as ``inspector.selectors.trace_pick``
    does; every other id must be a trace of that tenant.
    """
    if not baseline or not candidate:
        raise InvalidInput("both sides need at least one trace id")
    if len(baseline) > MAX_GROUP or len(candidate) > MAX_GROUP:
        raise InvalidInput(f"at most {MAX_GROUP} traces a side")
    if set(baseline) & set(candidate):
        raise InvalidInput("a trace cannot be compared with itself (it is on both sides)")
    wanted = set(baseline) | set(candidate)
    first = trace_pick(scope.filter(Trace.objects.only("tenant_id")), trace_id=candidate[0])
    tenant_id = first.tenant_id if first is not None else None
    found = set(Trace.objects.filter(tenant_id=tenant_id, trace_id__in=wanted).values_list("trace_id", flat=True))
    missing = sorted(wanted - found)
    if missing:
        raise InvalidInput(f"unknown trace id(s): {', '.join(missing[:10])}")
    return tenant_id


def analysis_request(*, baseline_trace_ids: list[str], candidate_trace_ids: list[str],
                     options: dict[str, Any] | None = None, user=None,
                     scope: TenantScope = EVERY_TENANT) -> RegressionAnalysis:
    """Validate, store a pending analysis and enqueue it after the transaction commits."""
    baseline = list(dict.fromkeys(baseline_trace_ids))
    candidate = list(dict.fromkeys(candidate_trace_ids))
    options = scoring_options_check(options)  # the API's check (400 {"options": [...]}) for direct callers
    tenant_id = _check_ids(baseline, candidate, scope)
    kind = RegressionAnalysis.Kind.PAIR if len(baseline) == len(candidate) == 1 else RegressionAnalysis.Kind.GROUP
    with transaction.atomic():
        analysis = RegressionAnalysis.objects.create(
            kind=kind, tenant_id=tenant_id, baseline_trace_ids=baseline, candidate_trace_ids=candidate, options=options,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        work_send_on_commit(item=analysis)
    return analysis


def pair_analysis_for_candidate(*, item: ClaimedWork, candidate: Trace, baseline_id: str, **fields: Any) -> int:
    """Store the pair analysis of a work item's new candidate trace and link both to the item, atomically.

    A golden run and an override test both end this way; a retry then finds
    the analysis on the item and does not store a second candidate.
    """
    with transaction.atomic():
        analysis = RegressionAnalysis.objects.create(
            kind=RegressionAnalysis.Kind.PAIR, tenant_id=candidate.tenant_id, baseline_trace_ids=[baseline_id],
            candidate_trace_ids=[candidate.trace_id], **fields)
        type(item).objects.filter(pk=item.pk).update(candidate_trace=candidate, analysis=analysis)
    return analysis.pk


def analysis_execute(*, analysis_id) -> RegressionAnalysis | None:
    """Run a pending analysis; returns None if another worker already took it."""
    claim = work_claim(model=RegressionAnalysis, pk=analysis_id)
    if claim is None:
        return None
    with claim.alive():
        analysis = RegressionAnalysis.objects.get(pk=analysis_id)
        try:
            result = _compute(analysis)
        except Exception as exc:
            claim.fail(f"{type(exc).__name__}: {exc}")
            raise
        claim.complete(**result)
    analysis.refresh_from_db()
    return analysis


def analysis_owned_execute(*, analysis_id) -> RegressionAnalysis | None:
    """Run the analysis a golden-query run or override test owns, inline, under the owner's claim.

    The reaper leaves owned analyses to their owner, so when an earlier attempt
    of the owner died, its analysis is taken back here from whatever state the
    dead worker left it in, and run again.
    """
    RegressionAnalysis.objects.filter(pk=analysis_id).exclude(status=WorkStatus.COMPLETED).update(
        status=WorkStatus.PENDING, started_at=None, heartbeat_at=None, finished_at=None, error_message="")
    return analysis_execute(analysis_id=analysis_id)


def analysis_fail(*, analysis_id, message: str) -> None:
    RegressionAnalysis.objects.filter(pk=analysis_id).exclude(status=WorkStatus.COMPLETED).update(
        status=WorkStatus.FAILED, finished_at=timezone.now(), error_message=message[:2000])


def _compute(analysis: RegressionAnalysis) -> dict[str, Any]:
    config = ScoringConfig.from_overrides(analysis.options or {})
    baseline_ids, candidate_ids = analysis.baseline_trace_ids, analysis.candidate_trace_ids
    tenant_id = analysis.tenant_id
    snapshots = selectors.trace_snapshots([baseline_ids[0], candidate_ids[0]], tenant_id=tenant_id)
    statistics: dict[str, Any] = {}
    noise = None
    inconclusive = False
    notes: list[str] = []
    if analysis.kind == RegressionAnalysis.Kind.GROUP:
        baseline_metrics = selectors.group_metrics(baseline_ids, tenant_id=tenant_id)
        groups = compare_groups(baseline_metrics, selectors.group_metrics(candidate_ids, tenant_id=tenant_id))
        statistics = {"table": groups.table(), "text": groups.text_table(), "insufficient": groups.insufficient,
                      "inconclusive": groups.inconclusive,
                      "regressions": [f"{r.stage} {r.metric}" for r in groups.regressions]}
        inconclusive = groups.inconclusive
        notes += list(groups.notes)
        noise = _noise(baseline_metrics) or None
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
    """Per stage and metric, the width of the baseline runs' noise band (``regression.noise``), for the pair scoring.

    The pair compares one candidate run with one baseline run, so the change
    it may show without any cause is as large as two baseline runs lie apart:
    the band's width. The group statistics ask the same band whether the
    candidate median lies inside it.
    """
    widths = {stage: {name: band.width for name, values in by_metric.items()
                      if (band := noise_band(values)) is not None}
              for stage, by_metric in metrics.items()}
    return {stage: by_metric for stage, by_metric in widths.items() if by_metric}
