"""Test-mode re-runs of a trace with asset overrides (the override screen's "run")."""

from __future__ import annotations

from django.db import transaction

from access.tenancy import EVERY_TENANT, TenantScope
from inspector.contracts import ExecutionContext
from inspector.models import Trace
from inspector.pipeline.resolution import validate_overrides
from kernel.errors import InvalidInput
from regression.models import OverrideTest
from regression.services.candidates import CandidateAsk, candidate_work_execute
from regression.services.work import work_send_on_commit

REASON_REQUIRED = "Say why you run this test: the reason goes to the admin log with the overrides."


def override_test_start(*, trace: Trace, overrides: dict[str, str], reason: str, baseline_trace_id: str = "",
                        user=None, scope: TenantScope = EVERY_TENANT,
                        drafts: TenantScope = EVERY_TENANT) -> OverrideTest:
    """Validate everything, store a pending test and enqueue it after commit. Nothing runs on bad input.

    The reason is required: it goes to the admin log with the overrides, and a
    test run nobody can explain later is noise in the trace's history.
    """
    if not overrides:
        raise InvalidInput("add at least one override", field="overrides")
    if not trace.question.strip():
        raise InvalidInput("this trace has no question to re-run", field="trace")
    if not reason.strip():
        raise InvalidInput(REASON_REQUIRED, field="reason")
    validate_overrides(ExecutionContext(tenant_id=trace.tenant_id, question=trace.question, test_mode=True,
                                        asset_overrides=overrides), drafts=drafts)
    baseline_id = baseline_trace_id.strip() or trace.trace_id
    # The baseline is an id within the trace's tenant (trace ids are unique per tenant).
    baseline = scope.filter(Trace.objects).filter(trace_id=baseline_id, tenant_id=trace.tenant_id).first()
    if baseline is None:
        raise InvalidInput(f"baseline trace {baseline_id!r} not found", field="baseline_trace_id")
    with transaction.atomic():
        test = OverrideTest.objects.create(trace=trace, baseline_trace=baseline, overrides=overrides,
                                           reason=reason.strip()[:2000], created_by=user)
        work_send_on_commit(item=test)
    return test


def override_test_execute(*, test_id: int) -> OverrideTest | None:
    """Re-run the question with the overrides, then analyse the new trace against the baseline.

    Returns None if another worker already took the test. A retry after a lost
    worker analyses the candidate trace the earlier attempt stored, if any.
    """
    return candidate_work_execute(model=OverrideTest, pk=test_id, related=("trace", "baseline_trace"),
                                  ask=_override_ask)


def _override_ask(test: OverrideTest) -> CandidateAsk:
    return CandidateAsk(
        context=ExecutionContext(tenant_id=test.trace.tenant_id, question=test.trace.question,
                                 test_mode=True, asset_overrides=test.overrides,
                                 baseline_trace_id=test.baseline_trace.trace_id,
                                 user_id=str(test.created_by_id or "")),
        metadata={"override_test": test.pk, "reason": test.reason},
        analysis_fields={"created_by_id": test.created_by_id},
    )
