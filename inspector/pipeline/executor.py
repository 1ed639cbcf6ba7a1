"""The StageExecutor: runs one stage and always returns a ``StageOutput``.

It resolves the handler, times it, builds ``StageDiagnostics`` from what the
handler reported, and turns any exception into error diagnostics naming the
exception type — a broken handler yields an error stage, never a 500.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from inspector.contracts import ExecutionContext, StageDiagnostics, StageInput, StageOutput
from inspector.pipeline.base import AssetLookup, HandlerError, HandlerResult, ResolvedAsset, StageHandler, StageRequest
from kernel.errors import ServiceError

logger = logging.getLogger(__name__)


@dataclass
class StageExecution:
    """A stage's output plus what it applied and how the time was spent."""

    output: StageOutput
    stage_input: StageInput
    applied: dict[str, ResolvedAsset] = field(default_factory=dict)
    handler_ms: float = 0.0
    total_ms: float = 0.0
    attempt: int = 1


@lru_cache(maxsize=32)
def _load_handler(dotted_path: str) -> StageHandler:
    return import_string(dotted_path)


def handler_for(stage: str) -> StageHandler:
    try:
        return _load_handler(settings.OPS_STAGE_HANDLERS[stage])
    except KeyError as exc:
        raise HandlerError(f"no handler configured for stage {stage!r} (OPS_STAGE_HANDLERS)") from exc


class StageExecutor:
    """Runs single stages for one execution context."""

    def __init__(self, context: ExecutionContext, assets: AssetLookup) -> None:
        self.context = context
        self.assets = assets

    def run(self, stage_input: StageInput) -> StageExecution:
        started = time.perf_counter()
        request = StageRequest(stage_input=stage_input, context=self.context, assets=self.assets)
        handler_ms = 0.0
        try:
            handler = handler_for(str(stage_input.stage))
            handler_started = time.perf_counter()
            try:
                answer = handler(request)
            finally:
                handler_ms = (time.perf_counter() - handler_started) * 1000
            output = self._to_output(stage_input, answer, handler_ms)
        except ServiceError:
            # Configuration problems (no published asset, bad override) are the
            # caller's to report as 4xx, not a stage failure to store.
            raise
        except Exception as exc:
            if not isinstance(exc, HandlerError):
                logger.exception("stage %s handler raised", stage_input.stage)
            output = self._error_output(stage_input, exc, handler_ms)
        applied_refs = {asset_type: asset.ref for asset_type, asset in request.applied.items()}
        recorded_input = stage_input.model_copy(
            update={"applied_assets": {**stage_input.applied_assets, **applied_refs}}
        )
        total_ms = (time.perf_counter() - started) * 1000
        return StageExecution(
            output=output,
            stage_input=recorded_input,
            applied=dict(request.applied),
            handler_ms=handler_ms,
            total_ms=total_ms,
        )

    @staticmethod
    def _to_output(stage_input: StageInput, answer: HandlerResult | StageOutput, handler_ms: float) -> StageOutput:
        duration = max(0, round(handler_ms))
        if isinstance(answer, StageOutput):
            # Remote handlers report their own duration; keep the larger, as
            # ours includes the network.
            return answer.model_copy(update={"duration_ms": max(answer.duration_ms, duration)})
        status = "error" if answer.errors else "warning" if answer.warnings else "ok"
        diagnostics = StageDiagnostics(
            status=status,
            warnings=answer.warnings,
            errors=answer.errors,
            empty_flags=answer.empty_flags,
            counts=answer.counts,
        )
        return StageOutput(
            stage=stage_input.stage,
            result=answer.result,
            diagnostics=diagnostics,
            references=answer.references,
            duration_ms=duration,
        )

    @staticmethod
    def _error_output(stage_input: StageInput, exc: Exception, handler_ms: float) -> StageOutput:
        message = str(exc) if isinstance(exc, HandlerError) else f"{type(exc).__name__}: {exc}"
        return StageOutput(
            stage=stage_input.stage,
            result={},
            diagnostics=StageDiagnostics(
                status="error",
                errors=[message],
                empty_flags={"result_empty": True},
                counts={},
            ),
            duration_ms=max(0, round(handler_ms)),
        )
