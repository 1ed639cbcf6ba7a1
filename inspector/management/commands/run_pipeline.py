"""Run the pipeline for one question and print the stored trace."""

from __future__ import annotations

import json as jsonlib

from django.core.management.base import BaseCommand, CommandError

from inspector import selectors
from inspector.contracts import ExecutionContext
from inspector.pipeline.resolution import overrides_from_args
from inspector.pipeline.runner import pipeline_run
from inspector.serializers import TraceDetailSerializer
from kernel.errors import ServiceError
from kernel.tenancy import SHARED_TENANT


class Command(BaseCommand):
    help = 'Run the pipeline: run_pipeline "question" [--override type=name@version ...] [--json]'

    def add_arguments(self, parser) -> None:
        parser.add_argument("question")
        parser.add_argument("--override", action="append", default=[], help="type=name@version (test mode)")
        parser.add_argument("--tenant", default=SHARED_TENANT)
        parser.add_argument("--baseline", default="", help="baseline trace id (sets parent_trace_id)")
        parser.add_argument("--json", action="store_true", help="print the whole trace as JSON")

    def handle(self, *args, question: str, override: list[str], tenant: str, baseline: str, json: bool, **options):
        try:
            overrides = overrides_from_args(override)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        context = ExecutionContext(tenant_id=tenant, question=question, test_mode=bool(overrides or baseline),
                                   asset_overrides=overrides, baseline_trace_id=baseline)
        try:
            trace = pipeline_run(context=context, metadata={"origin": "run_pipeline command"})
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        detail = TraceDetailSerializer(selectors.trace_get(trace_id=trace.trace_id, tenant=trace.tenant_id)).data
        if json:
            self.stdout.write(_dumps(detail))
            return
        self.stdout.write(f"trace {trace.trace_id}  route={trace.route}  status={trace.status}  {trace.duration_ms} ms")
        for stage in detail["stages"]:
            diagnostics = stage["diagnostics"]
            notes = "; ".join(diagnostics["errors"] + diagnostics["warnings"])
            self.stdout.write(f"  {stage['stage'].upper():11} {stage['status']:8} {stage['duration_ms']:>5} ms  "
                              f"{', '.join(f'{t}={r}' for t, r in stage['applied_assets'].items())}  {notes}")
        answer = selectors.stage_run_with_payload(trace_id=trace.trace_id, stage="present",
                                                  tenant=trace.tenant_id).payload.output
        self.stdout.write(f"answer: {answer['result']['ui_model'].get('answer', '')}")


def _dumps(value) -> str:
    return jsonlib.dumps(value, indent=2, default=str)
