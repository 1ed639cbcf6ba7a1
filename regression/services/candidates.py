"""How a golden-query run and an override test execute: a real candidate trace, then the analysis they own.

Both claim their row, re-ask a question in test mode (unless an earlier
attempt already stored the candidate and its analysis), pair the candidate
with the baseline and run that analysis inline under their claim. What
differs, the question's context and the trace's metadata, is the item's
``CandidateAsk``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from regression.models import ClaimedWork
from regression.services.analyses import analysis_owned_execute, pair_analysis_for_candidate
from regression.services.work import work_claim

Item = TypeVar("Item", bound=ClaimedWork)


@dataclass(frozen=True)
class CandidateAsk:
    """How an item re-asks its question.

    ``context.baseline_trace_id`` is also the pair analysis's baseline;
    ``metadata`` goes on the candidate trace; ``analysis_fields`` on the analysis.
    """

    context: ExecutionContext
    metadata: dict[str, Any]
    analysis_fields: dict[str, Any] = field(default_factory=dict)


def candidate_work_execute(*, model: type[Item], pk: Any, related: tuple[str, ...],
                           ask: Callable[[Item], CandidateAsk]) -> Item | None:
    """Claim the row, store its candidate trace and pair analysis once, run the analysis; complete or fail.

    Returns None if another worker already took the row. A retry after a lost
    worker analyses the candidate the earlier attempt stored, if any, rather
    than storing a second one.
    """
    claim = work_claim(model=model, pk=pk)
    if claim is None:
        return None
    with claim.alive():
        item = model.objects.select_related(*related).get(pk=pk)
        try:
            analysis_id = item.analysis_id
            if analysis_id is None:
                request = ask(item)
                candidate = pipeline_run(context=request.context, metadata=request.metadata)
                analysis_id = pair_analysis_for_candidate(item=item, candidate=candidate,
                                                          baseline_id=request.context.baseline_trace_id,
                                                          **request.analysis_fields)
            analysis_owned_execute(analysis_id=analysis_id)
        except Exception as exc:
            claim.fail(f"{type(exc).__name__}: {exc}")
            raise
        claim.complete()
    item.refresh_from_db()
    return item
