"""Reacting to inspector signals."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def enqueue_golden_runs_on_publish(sender, version, **kwargs) -> None:
    """Publishing a version re-runs the golden queries whose baseline used that asset."""
    from regression.tasks import runs_for_published_asset

    try:
        runs_for_published_asset.delay(version.asset_id)
    except Exception:  # noqa: BLE001 — publishing must not fail because the broker is down
        logger.exception("could not enqueue golden runs for asset %s", version.asset_id)
