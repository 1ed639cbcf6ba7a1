"""Reacting to inspector signals, and keeping each suite's beat entry in step with the suite."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from regression.suite_models import GoldenSuite


def create_golden_runs_on_publish(sender, version, **kwargs) -> None:
    """Publishing a version re-runs the golden queries and suites whose baseline used that asset.

    The signal comes inside the publish transaction, so the runs (pending rows:
    the outbox) are stored with the publish or not at all; their task messages
    go out after commit, and a run the broker did not take stays pending for
    the reaper (docs/reliability.md).
    """
    from regression.services.golden import golden_runs_for_published_asset
    from regression.services.suites import suite_runs_for_published_asset

    golden_runs_for_published_asset(asset_id=version.asset_id)
    suite_runs_for_published_asset(asset_id=version.asset_id)


def sync_suite_schedule(sender, instance: GoldenSuite, **kwargs) -> None:
    """A saved suite's beat entry follows its ``schedule`` and ``enabled`` (admin, API and shell alike)."""
    from regression.services.suites import suite_schedule_sync

    suite_schedule_sync(suite=instance)


def remove_suite_schedule(sender, instance: GoldenSuite, **kwargs) -> None:
    from regression.services.suites import suite_schedule_remove

    suite_schedule_remove(suite=instance)


# Connected here rather than in RegressionConfig.ready, which imports this module: model signals
# need no other app's objects, and the suite's schedule must follow every save.
post_save.connect(sync_suite_schedule, sender=GoldenSuite, dispatch_uid="regression-suite-schedule-sync")
post_delete.connect(remove_suite_schedule, sender=GoldenSuite, dispatch_uid="regression-suite-schedule-remove")
