"""Reacting to inspector signals."""

from __future__ import annotations


def create_golden_runs_on_publish(sender, version, **kwargs) -> None:
    """Publishing a version re-runs the golden queries whose baseline used that asset.

    The signal comes inside the publish transaction, so the runs (pending rows:
    the outbox) are stored with the publish or not at all; their task messages
    go out after commit, and a run the broker did not take stays pending for
    the reaper (docs/reliability.md).
    """
    from regression.services.golden import golden_runs_for_published_asset

    golden_runs_for_published_asset(asset_id=version.asset_id)
