"""Golden queries: baselines, runs (a real candidate trace + its analysis), and their triggers."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import ProtectedError

from access.tenancy import EVERY_TENANT, TenantScope
from inspector.contracts import ExecutionContext
from inspector.models import Trace, TraceAssetUsage
from inspector.pipeline.resolution import validate_overrides
from kernel.errors import Conflict, InvalidInput
from regression.models import Baseline, GoldenQuery, RegressionRun
from regression.services.candidates import CandidateAsk, candidate_work_execute
from regression.services.work import work_send_on_commit


def golden_query_set_baseline(*, golden_query: GoldenQuery, trace_id: str, note: str = "", user=None,
                              scope: TenantScope = EVERY_TENANT) -> Baseline:
    """Append a baseline (the newest wins): a trace of the golden query's tenant that answers its question."""
    trace = (scope.filter(Trace.objects).filter(trace_id=trace_id, tenant_id=golden_query.tenant_id)
             .only("trace_id", "question", "tenant_id").first())
    if trace is None:
        raise InvalidInput(f"unknown trace {trace_id!r}", field="trace_id")
    if trace.question.strip() != golden_query.question.strip():
        raise InvalidInput("the trace answers a different question than the golden query", field="trace_id")
    return Baseline.objects.create(golden_query=golden_query, trace=trace, note=note,
                                   created_by=user if user is not None and user.is_authenticated else None)


def golden_query_delete(*, golden_query: GoldenQuery) -> None:
    """Delete a golden query with its baselines; refused (409) once it has runs.

    Runs are the query's regression history and pin its baselines: a query
    with runs is disabled (``enabled=false``), not deleted.
    """
    if golden_query.runs.exists():
        raise _kept_for_its_runs(golden_query)
    try:
        with transaction.atomic():
            golden_query.delete()
    except ProtectedError as exc:  # a run was created since the check
        raise _kept_for_its_runs(golden_query) from exc


def _kept_for_its_runs(golden_query: GoldenQuery) -> Conflict:
    runs = golden_query.runs.count()
    return Conflict(f"golden query {golden_query.name!r} has {runs} run{'' if runs == 1 else 's'} (its regression "
                    "history) and cannot be deleted; disable it instead (PATCH enabled=false)")


def golden_query_run(*, golden_query: GoldenQuery, trigger: str = RegressionRun.Trigger.MANUAL,
                     overrides: dict[str, str] | None = None, enqueue: bool = True) -> RegressionRun:
    """Create a pending run against the current baseline and enqueue it after commit.

    ``enqueue=False``: the caller runs it in-process at once (``regression_run_execute``).
    """
    baseline = golden_query.current_baseline
    if baseline is None:
        raise InvalidInput(f"golden query {golden_query.name!r} has no baseline yet")
    overrides = overrides or {}
    if overrides:
        validate_overrides(ExecutionContext(tenant_id=golden_query.tenant_id, question=golden_query.question,
                                            test_mode=True, asset_overrides=overrides))
    with transaction.atomic():
        run = RegressionRun.objects.create(golden_query=golden_query, baseline=baseline, trigger=trigger,
                                           overrides=overrides)
        if enqueue:
            work_send_on_commit(item=run)
    return run


def golden_queries_run(*, golden_queries: Iterable[GoldenQuery]) -> list[RegressionRun]:
    """A manual run of each golden query (the admin's action), all or none.

    A query without a baseline refuses the lot before anything is stored; the
    runs are enqueued when the one transaction that stores them commits.
    """
    queries = list(golden_queries)
    if not queries:
        raise InvalidInput("no golden query selected")
    missing = [query.name for query in queries if query.current_baseline is None]
    if missing:
        raise InvalidInput(f"no baseline yet for {', '.join(sorted(missing))}: set one first; nothing was started")
    with transaction.atomic():
        return [golden_query_run(golden_query=query) for query in queries]


def regression_run_execute(*, run_id: int) -> RegressionRun | None:
    """Re-ask the question (a stored candidate trace), then analyse it against the baseline.

    Returns None if another worker already took the run. A retry after a lost
    worker analyses the candidate trace the earlier attempt stored, if any,
    rather than storing a second one.
    """
    return candidate_work_execute(model=RegressionRun, pk=run_id, related=("golden_query", "baseline__trace"),
                                  ask=_golden_ask)


def _golden_ask(run: RegressionRun) -> CandidateAsk:
    query = run.golden_query
    return CandidateAsk(
        context=ExecutionContext(tenant_id=query.tenant_id, question=query.question, user_id="regression",
                                 test_mode=True, asset_overrides=run.overrides,
                                 baseline_trace_id=run.baseline.trace.trace_id),
        metadata={"regression_run": run.pk, "golden_query": query.name, "trigger": run.trigger},
        analysis_fields={"options": query.options},
    )


def golden_runs_for_published_asset(*, asset_id: int) -> list[RegressionRun]:
    """Enqueue a run of every enabled golden query whose current baseline used that asset."""
    runs = []
    for query in GoldenQuery.objects.filter(enabled=True):
        baseline = query.current_baseline
        if baseline and TraceAssetUsage.objects.filter(trace_id=baseline.trace_id,
                                                       asset_version__asset_id=asset_id).exists():
            runs.append(golden_query_run(golden_query=query, trigger=RegressionRun.Trigger.ASSET_PUBLISH))
    return runs


def golden_runs_scheduled() -> list[RegressionRun]:
    """Enqueue a run of every enabled golden query that has a baseline (the nightly beat job)."""
    return [golden_query_run(golden_query=query, trigger=RegressionRun.Trigger.SCHEDULE)
            for query in GoldenQuery.objects.filter(enabled=True) if query.current_baseline]
