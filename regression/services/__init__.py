from regression.services.analyses import analysis_execute, analysis_request
from regression.services.golden import (
    golden_query_delete,
    golden_query_run,
    golden_query_set_baseline,
    golden_runs_for_published_asset,
    regression_run_execute,
)
from regression.services.work import work_reap

__all__ = [
    "analysis_execute",
    "analysis_request",
    "golden_query_delete",
    "golden_query_run",
    "golden_query_set_baseline",
    "golden_runs_for_published_asset",
    "regression_run_execute",
    "work_reap",
]
