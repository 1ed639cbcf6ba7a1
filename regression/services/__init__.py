from regression.services.analyses import analysis_execute, analysis_request, analyses_reap
from regression.services.golden import (
    golden_query_run,
    golden_query_set_baseline,
    golden_runs_for_published_asset,
    regression_run_execute,
)

__all__ = [
    "analyses_reap",
    "analysis_execute",
    "analysis_request",
    "golden_query_run",
    "golden_query_set_baseline",
    "golden_runs_for_published_asset",
    "regression_run_execute",
]
