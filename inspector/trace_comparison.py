"""Stage-by-stage comparison of two stored traces (pure: no ORM).

``StageSnapshot`` is what every comparison knows of one stage run: this
module's unscored rows (the trace diff page and ``GET …/diff``) and the
regression engine's scored ``compare_stage`` both take it. Stages are aligned
by name (final attempt of each). Per stage: presence, status change, duration
delta, counts delta, message changes and the structural output diff of
``inspector.structural_diff``. A snapshot also keeps every attempt of its stage
(``AttemptSnapshot``) and the trace's replans (``ReplanRecord``, from
``metadata["replans"]``), so a candidate that newly needs a retry is visible
and scored even though its final attempts look alike, and what the stage's
model call used (``result.usage``: model, tokens, cost; ``inspector.usage``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from inspector.contracts import STAGE_ORDER
from inspector.structural_diff import stage_output_diff
from inspector.usage import StageUsage, usage_of
from kernel.contracts import Contract

# Keys under a stage output's ``result`` whose lists or mappings hold what the
# stage found (execute's rows, compose's blocks, present's final blocks). The
# regression engine's ``ScoringConfig.result_keys`` defaults to these.
DEFAULT_RESULT_KEYS: tuple[str, ...] = ("tool_results", "rows", "blocks", "final_blocks", "metrics", "edges",
                                        "items", "results")


def result_size(result: Any, keys: tuple[str, ...] | list[str] = DEFAULT_RESULT_KEYS) -> int | None:
    """How many things the stage found under ``keys`` of ``result``; None when no such key holds a list or mapping.

    Nested result keys count instead of their container, so execute's
    ``tool_results: [{"rows": []}]`` (a query that ran and found nothing) is 0,
    not 1.
    """
    if not isinstance(result, dict):
        return None
    sizes = [_container_size(value, keys) for key, value in result.items()
             if key in keys and isinstance(value, list | dict)]
    return sum(sizes) if sizes else None


def _container_size(value: list | dict, keys: tuple[str, ...] | list[str]) -> int:
    items = value if isinstance(value, list) else list(value.values())
    wanted = frozenset(keys)
    total = 0
    for item in items:
        # Most items are plain rows: a C-level key check spares a Python call per row (5,000-row
        # outputs made this walk half of an analysis' time).
        if not isinstance(item, dict) or wanted.isdisjoint(item):
            total += 1
            continue
        nested = result_size(item, keys)
        total += 1 if nested is None else nested
    return total


class ReplanRecord(Contract):
    """One control-loop decision as the trace keeps it (``metadata["replans"]``, written by the runner)."""

    trigger: str = ""
    stage: str = ""
    decision: str = ""
    approved: bool = False
    veto: str = ""
    reason: str = ""
    attempt: int = Field(default=0, ge=0)  # the decision's replan number ("replan 1 of 2")
    event_id: int = Field(default=0, ge=0)

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any] | None) -> list[ReplanRecord]:
        """The replans of a trace's metadata; entries of older traces may lack fields (defaults apply)."""
        entries = (metadata or {}).get("replans") or []
        known = set(cls.model_fields)
        return [cls.model_validate({k: v for k, v in entry.items() if k in known and v is not None})
                for entry in entries if isinstance(entry, dict)]


class AttemptSnapshot(Contract):
    """One attempt of a stage: enough to say whether it came back empty, failed or was slow."""

    attempt: int = Field(default=1, ge=1)
    status: Literal["ok", "warning", "error"] = "ok"
    duration_ms: int = Field(default=0, ge=0)
    empty_flags: dict[str, bool] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    # ``result_size`` of the attempt's result with the default keys; None when it has none of them.
    result_size: int | None = None

    @property
    def empty(self) -> bool:
        return bool(self.empty_flags.get("result_empty")) or self.result_size == 0


class StageSnapshot(Contract):
    """One stage run as comparisons see it; ``output`` is the full StageOutput dict."""

    stage: str = Field(min_length=1)
    status: Literal["ok", "warning", "error"] = "ok"
    warnings: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    empty_flags: dict[str, bool] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    references_count: int = Field(default=0, ge=0)
    duration_ms: int = Field(default=0, ge=0)
    output: dict[str, Any] = Field(default_factory=dict)
    # Every attempt in execution order, the final one last; empty when only the final one is known.
    attempts: list[AttemptSnapshot] = Field(default_factory=list)
    # What the (final attempt's) model call used, from ``result.usage``. ``cost`` is 0 when unknown:
    # a stage that reported tokens without a cost is priced at ingest (StageRun.cost), which an
    # output alone cannot know.
    model: str = ""
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cost: float = Field(default=0.0, ge=0, allow_inf_nan=False)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost_known(self) -> bool:
        """False when tokens were used but nothing says what they cost (unpriced, or priced only at ingest)."""
        return self.cost > 0 or self.tokens == 0

    def all_attempts(self) -> list[AttemptSnapshot]:
        """The attempts, or the final one alone when the snapshot was built without them."""
        return self.attempts or [AttemptSnapshot(
            status=self.status, duration_ms=self.duration_ms, empty_flags=self.empty_flags, counts=self.counts,
            result_size=result_size(self.output.get("result")))]

    @classmethod
    def from_output(cls, output: dict[str, Any]) -> StageSnapshot:
        """Build a snapshot from a StageOutput dict (``{stage, result, diagnostics, references, duration_ms}``).

        Model, tokens and cost come from ``result.usage``; the cost only as the stage gave it (else 0).
        """
        diagnostics = output.get("diagnostics") or {}
        result = output.get("result")
        usage = usage_of(result) if isinstance(result, dict) else None
        return cls(
            stage=str(output.get("stage", "")),
            status=diagnostics.get("status") or "ok",
            warnings=diagnostics.get("warnings") or [],
            errors=diagnostics.get("errors") or [],
            empty_flags=diagnostics.get("empty_flags") or {},
            counts=diagnostics.get("counts") or {},
            references_count=len(output.get("references") or []),
            duration_ms=output.get("duration_ms") or 0,
            output=output,
            **(_usage_fields(usage) if usage else {}),
        )


def _usage_fields(usage: StageUsage) -> dict[str, Any]:
    return {"model": usage.model, "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
            "cost": usage.cost or 0.0}


def _delta(baseline: int | None, candidate: int | None) -> dict[str, Any]:
    if baseline is None or candidate is None:
        return {"baseline": baseline, "candidate": candidate, "delta": None, "percent": None}
    percent = None if baseline == 0 else round((candidate - baseline) / baseline * 100, 1)
    return {"baseline": baseline, "candidate": candidate, "delta": candidate - baseline, "percent": percent}


def stage_row(baseline: StageSnapshot | None, candidate: StageSnapshot | None) -> dict[str, Any]:
    """The unscored comparison of one stage present on at least one side."""
    stage = (baseline or candidate).stage  # type: ignore[union-attr]
    presence = "both" if baseline and candidate else "baseline_only" if baseline else "candidate_only"
    row: dict[str, Any] = {
        "stage": stage,
        "presence": presence,
        "status": {"baseline": baseline.status if baseline else None, "candidate": candidate.status if candidate else None},
        "duration_ms": _delta(baseline.duration_ms if baseline else None, candidate.duration_ms if candidate else None),
    }
    keys = sorted(set(baseline.counts if baseline else {}) | set(candidate.counts if candidate else {}))
    row["counts"] = {
        key: _delta((baseline.counts.get(key, 0) if baseline else None), (candidate.counts.get(key, 0) if candidate else None))
        for key in keys
    }
    if baseline and candidate:
        row["new_errors"] = [e for e in candidate.errors if e not in baseline.errors]
        row["resolved_errors"] = [e for e in baseline.errors if e not in candidate.errors]
        row["new_warnings"] = [w for w in candidate.warnings if w not in baseline.warnings]
        row["output_diff"] = stage_output_diff(baseline.output, candidate.output)
        row["status"]["changed"] = baseline.status != candidate.status
    return row


def compare_traces(baseline: dict[str, StageSnapshot], candidate: dict[str, StageSnapshot]) -> list[dict[str, Any]]:
    """One row per stage present on either side, in pipeline order."""
    names = [name for name in STAGE_ORDER if name in baseline or name in candidate]
    return [stage_row(baseline.get(name), candidate.get(name)) for name in names]


def attempt_rows(stage: str, attempts: list[AttemptSnapshot], replans: list[ReplanRecord]) -> list[dict[str, Any]]:
    """Every attempt of ``stage`` with the replans decided after it (trigger, decision, veto).

    The i-th replan the trace records for the stage follows its i-th attempt;
    a refused one after the last attempt stays with that attempt.
    """
    rows = [{"attempt": a.attempt, "status": a.status, "duration_ms": a.duration_ms, "empty": a.empty, "replans": []}
            for a in attempts]
    for index, replan in enumerate(r for r in replans if r.stage == stage):
        if rows:
            rows[min(index, len(rows) - 1)]["replans"].append(_replan_row(replan))
    return rows


def _replan_row(replan: ReplanRecord) -> dict[str, Any]:
    row = {"trigger": replan.trigger, "decision": replan.decision, "approved": replan.approved,
           "reason": replan.reason}
    if replan.veto:
        row["veto"] = replan.veto
    return row


def with_attempts(rows: list[dict[str, Any]], baseline: dict[str, list[AttemptSnapshot]],
                  candidate: dict[str, list[AttemptSnapshot]], baseline_replans: list[ReplanRecord],
                  candidate_replans: list[ReplanRecord]) -> list[dict[str, Any]]:
    """``compare_traces`` rows with ``attempts: {baseline: [...], candidate: [...]}`` (a side absent when it did not run)."""
    for row in rows:
        stage, sides = row["stage"], {}
        if stage in baseline:
            sides["baseline"] = attempt_rows(stage, baseline[stage], baseline_replans)
        if stage in candidate:
            sides["candidate"] = attempt_rows(stage, candidate[stage], candidate_replans)
        row["attempts"] = sides
        row["attempts_changed"] = len(sides.get("baseline", [])) != len(sides.get("candidate", []))
    return rows
