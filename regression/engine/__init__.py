"""Pure stage comparison engine (SPEC §5): no ORM, no I/O; see docs/regression-scoring.md."""

from regression.engine.contracts import (
    Issue,
    PairResult,
    ScoringConfig,
    ScoringOptions,
    StageResult,
    StageSnapshot,
    TraceSnapshot,
    scoring_options_check,
)
from regression.engine.scoring import compare_pair, compare_stage

__all__ = [
    "Issue",
    "PairResult",
    "ScoringConfig",
    "ScoringOptions",
    "StageResult",
    "StageSnapshot",
    "TraceSnapshot",
    "compare_pair",
    "compare_stage",
    "scoring_options_check",
]
