"""Demo data made by really running the reference pipeline.

About 200 traces over the last week from varied questions: lookups, lists,
counts, dependencies, metrics and events; direct and rejected questions;
unknown systems (empty results, warnings) and policy violations (errors).
Empty results are replanned by the control loop: some replans find rows
(a wider time range), others do not and end with guidance.
Half-way, version 2 of three assets is published, so traces before and after
differ in behaviour; a few test-mode re-runs override back to version 1.
Then ~40 traces of an instrumented assistant with tokens, cost and sessions
(``reference.demo_assistant``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from inspector.contracts import ExecutionContext
from inspector.models import Trace
from inspector.pipeline.runner import pipeline_run
from kernel.tenancy import SHARED_TENANT
from reference.assets import reference_assets_install, reference_v2_install
from reference.demo_assistant import seed_assistant_traces
from regression.models import GoldenQuery, RegressionRun
from regression.services import golden_query_run, golden_query_set_baseline, regression_run_execute

QUESTIONS = [
    "What is checkout-api?",
    "Who owns pg-orders-prod?",
    "Describe billing-service",
    "Where is web-prod-01?",
    "Show the edge lb",
    "List all servers in prod",
    "Which databases are in staging?",
    "List all queues",
    "Which applications run in dev?",
    "How many databases in prod?",
    "Count of CIs by type",
    "What does checkout depend on?",
    "Dependencies of billing-service",
    "What is upstream of lb-edge-01?",
    "CPU of checkout-api last 24h",
    "Latency of checkout-api this week",
    "Memory of pg-orders-prod last 3 days",
    "Error rate of checkout last 2 days",
    "Is checkout-api slow?",
    "Performance of billing-service",
    "Incidents on pg-orders-prod this week",
    "Events on checkout-api last 7 days",
    "Alerts for mq-events-prod last 14 days",
    "Deploys history of billing",
    "Events on web-staging-03 today",
    "Incidents on fraud-service last 24h",
    "What is zz-unknown-host?",
    "CPU of ghost-server-99 last 24h",
    "Events on nothing-here-01 this week",
    "List all servers last 400 days",
    "Top 500 applications",
    "hello",
    "thanks!",
    "Delete all servers in staging",
    "What is the admin password for pg-orders-prod?",
    "banana bread recipe",
    "What is it?",
]
TOTAL = 200
SWITCH_AT = 110  # traces before this index run on version 1 of every asset


def seed_demo_traces(*, now: datetime | None = None, total: int = TOTAL) -> int:
    """Run the demo questions through the pipeline; returns how many traces were created."""
    now = now or timezone.now()
    reference_assets_install()
    created = 0
    for index in range(total):
        if index == SWITCH_AT:
            reference_v2_install(publish=True)
        trace_id = f"demo-{index:04d}"
        if Trace.objects.filter(trace_id=trace_id).exists():
            continue
        started_at = now - timedelta(days=7) + timedelta(days=7) * index / total
        question = QUESTIONS[(index * 7) % len(QUESTIONS)]
        pipeline_run(context=ExecutionContext(question=question, trace_id=trace_id, user_id="demo"),
                     started_at=started_at, metadata={"seeded": True})
        created += 1
    if total >= SWITCH_AT:
        reference_v2_install(publish=True)
        created += _test_mode_reruns(now)
        demo_golden_queries_install()
        created += seed_assistant_traces(now=now)
    return created


GOLDEN = [("checkout-events", "Events on checkout-api last 7 days"), ("orders-db-lookup", "Who owns pg-orders-prod?"),
          ("checkout-dependencies", "What does checkout depend on?")]


@dataclass(frozen=True)
class DemoData:
    """What the database holds of the demo, whichever run of ``seed_demo`` made it."""

    pipeline_runs: int
    test_mode_reruns: int
    golden_query_runs: int
    assistant_traces: int
    golden_queries: int

    @property
    def traces(self) -> int:
        return self.pipeline_runs + self.test_mode_reruns + self.golden_query_runs + self.assistant_traces


def demo_data_count() -> DemoData:
    """Count the demo's traces by kind, from the database (trace ids as the seeders name them)."""
    demo = Trace.objects.filter(tenant_id=SHARED_TENANT)
    golden = GoldenQuery.objects.filter(name__in=[name for name, _ in GOLDEN])
    return DemoData(
        pipeline_runs=demo.filter(trace_id__regex=r"^demo-[0-9]+$").count(),
        test_mode_reruns=demo.filter(trace_id__startswith="demo-rerun-").count(),
        # Each run of a golden query stores its candidate trace (a test-mode run with a generated id).
        golden_query_runs=RegressionRun.objects.filter(golden_query__in=golden, candidate_trace__isnull=False).count(),
        assistant_traces=demo.filter(trace_id__startswith="demo-assistant-").count(),  # reference.demo_assistant
        golden_queries=golden.count(),
    )


def demo_golden_queries_install() -> None:
    """Golden queries pinned to their newest demo trace, each run once against the current assets."""
    for name, question in GOLDEN:
        query, created = GoldenQuery.objects.get_or_create(name=name, defaults={"question": question})
        baseline = Trace.objects.filter(question=question, test_mode=False).order_by("-started_at").first()
        if not created or baseline is None:
            continue
        golden_query_set_baseline(golden_query=query, trace_id=baseline.trace_id, note="seeded by seed_demo")
        run = golden_query_run(golden_query=query, enqueue=False)
        regression_run_execute(run_id=run.pk)


def _test_mode_reruns(now: datetime) -> int:
    """Test-mode re-runs of late traces back on version 1 (parent = the baseline trace)."""
    created = 0
    reruns = [("Events on checkout-api last 7 days", {"query": "event_history@1"}),
              ("Is checkout-api slow?", {"prompt": "route_rules@1"}),
              ("List all servers in prod", {"screen": "answer_card@1"})]
    for number, (question, overrides) in enumerate(reruns):
        trace_id = f"demo-rerun-{number}"
        baseline = Trace.objects.filter(question=question, test_mode=False).order_by("-started_at").first()
        if baseline is None or Trace.objects.filter(trace_id=trace_id).exists():
            continue
        context = ExecutionContext(question=question, trace_id=trace_id, test_mode=True, user_id="demo",
                                   asset_overrides=overrides, baseline_trace_id=baseline.trace_id)
        pipeline_run(context=context, started_at=now - timedelta(minutes=5 - number), metadata={"seeded": True})
        created += 1
    return created
