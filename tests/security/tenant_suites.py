"""A tenant's golden-suite world for the tenant-isolation attacks: a suite, its items, a finished run.

The tenant's traces ``<tenant>-trace-1`` and ``<tenant>-trace-2`` must be
stored first: the stage item re-runs trace-1's execute stage, trace-2 is the
item's recorded baseline and the run's candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

from regression.models import WorkStatus
from regression.services import analysis_request, suite_item_check
from regression.suite_models import GoldenSuite, SuiteItem, SuiteItemResult, SuiteRun


@dataclass
class SuiteWorld:
    suite: GoldenSuite
    question_item: SuiteItem
    stage_item: SuiteItem
    run: SuiteRun
    result: SuiteItemResult


def suite_world(tenant: str) -> SuiteWorld:
    suite = GoldenSuite.objects.create(name=f"{tenant}-suite", tenant_id=tenant, repeats=1,
                                       description=f"{tenant} suite")
    items = []
    for position, fields in enumerate(({"name": f"{tenant}-ask", "question": f"{tenant} question"},
                                       {"name": f"{tenant}-stage", "kind": "stage", "stage": "execute",
                                        "trace_id": f"{tenant}-trace-1"})):
        item = SuiteItem(suite=suite, position=position, baseline_trace_ids=[f"{tenant}-trace-2"], **fields)
        suite_item_check(item=item)  # the stage item's trace is the tenant's own
        item.save()
        items.append(item)
    run = SuiteRun.objects.create(suite=suite, status=WorkStatus.COMPLETED, verdict="PASS", score=0,
                                  progress=len(items))
    analysis = analysis_request(baseline_trace_ids=[f"{tenant}-trace-2"], candidate_trace_ids=[f"{tenant}-trace-1"])
    result = SuiteItemResult.objects.create(run=run, item=items[1], candidate_trace_ids=[f"{tenant}-trace-1"],
                                            analysis=analysis, verdict="PASS", score=0, passes=1, repeats=1,
                                            pass_all=True)
    return SuiteWorld(suite=suite, question_item=items[0], stage_item=items[1], run=run, result=result)
