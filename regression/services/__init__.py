from regression.services.analyses import analysis_execute, analysis_request
from regression.services.golden import (
    golden_queries_run,
    golden_query_delete,
    golden_query_run,
    golden_query_set_baseline,
    golden_runs_for_published_asset,
    regression_run_execute,
)
from regression.services.suites import (
    suite_check,
    suite_delete,
    suite_item_check,
    suite_record_baseline,
    suite_run_execute,
    suite_run_report,
    suite_run_request,
    suite_runs_for_published_asset,
    suite_schedule_sync,
)
from regression.services.work import work_reap

__all__ = [
    "analysis_execute",
    "analysis_request",
    "golden_queries_run",
    "golden_query_delete",
    "golden_query_run",
    "golden_query_set_baseline",
    "golden_runs_for_published_asset",
    "regression_run_execute",
    "suite_check",
    "suite_delete",
    "suite_item_check",
    "suite_record_baseline",
    "suite_run_execute",
    "suite_run_report",
    "suite_run_request",
    "suite_runs_for_published_asset",
    "suite_schedule_sync",
    "work_reap",
]
