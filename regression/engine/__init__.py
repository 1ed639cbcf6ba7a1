"""Pure stage comparison engine (SPEC §5): no ORM, no I/O; see docs/regression-scoring.md."""

from inspector.trace_comparison import AttemptSnapshot
from regression.engine.contracts import (
    Issue,
    PairResult,
    ReplanRecord,
    ScoringConfig,
    ScoringOptions,
    StageResult,
    StageSnapshot,
    TraceSnapshot,
    scoring_options_check,
)
from regression.engine.scoring import compare_pair, compare_stage

__all__ = [
    "AttemptSnapshot",
    "Issue",
    "PairResult",
    "ReplanRecord",
    "ScoringConfig",
    "ScoringOptions",
    "StageResult",
    "StageSnapshot",
    "TraceSnapshot",
    "compare_pair",
    "compare_stage",
    "scoring_options_check",
]
