"""Celery tasks: thin wrappers that take ids and call services.

The services claim their row with a conditional UPDATE, so a re-delivered
task (acks_late, worker lost) does nothing twice.
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from regression import services
from regression.services.analyses import analysis_fail


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def run_analysis(self, analysis_id: str) -> str:
    try:
        analysis = services.analysis_execute(analysis_id=analysis_id)
    except SoftTimeLimitExceeded:
        analysis_fail(analysis_id=analysis_id, message="timed out (soft time limit)")
        raise
    return analysis.status if analysis else "skipped: already claimed"


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def run_golden_query(self, run_id: int) -> str:
    run = services.regression_run_execute(run_id=run_id)
    return run.status if run else "skipped: already claimed"


@shared_task
def run_enabled_golden_queries() -> int:
    from regression.services.golden import golden_runs_scheduled

    return len(golden_runs_scheduled())


@shared_task
def reap_stuck_analyses() -> dict:
    """The reaper of every work item (the name is the beat entry's, kept for schedules already stored)."""
    return services.work_reap()


@shared_task
def runs_for_published_asset(asset_id: int) -> int:
    """Only for messages queued by earlier versions: publishing now stores its runs in its own transaction."""
    return len(services.golden_runs_for_published_asset(asset_id=asset_id))


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def run_override_test(self, test_id: int) -> str:
    from regression.services.override_tests import override_test_execute

    test = override_test_execute(test_id=test_id)
    return test.status if test else "skipped: already claimed"


# A suite runs items × repeats pipelines under one claim: longer than the default task limits
# allow. Finished items survive a killed attempt (the next one goes on from there).
SUITE_TIME_LIMIT_S = 3600


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3,
             time_limit=SUITE_TIME_LIMIT_S, soft_time_limit=SUITE_TIME_LIMIT_S - 60)
def run_suite(self, run_id: int) -> str:
    from regression.services.suites import suite_run_execute

    run = suite_run_execute(run_id=run_id)
    return run.status if run else "skipped: already claimed"


@shared_task
def run_scheduled_suite(suite_id: int) -> str:
    """A suite's own beat entry (``suite_schedule_sync``): request a run of it."""
    from regression.services.suites import suite_run_scheduled

    run = suite_run_scheduled(suite_id=suite_id)
    return f"suite run {run.pk}" if run else "skipped: suite gone, disabled or without a baseline"
