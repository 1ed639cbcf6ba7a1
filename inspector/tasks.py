"""Celery tasks of the inspector app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from inspector.services.retention import traces_purge_expired


@shared_task
def purge_old_traces() -> dict:
    """The beat job ``purge-old-traces`` (OPS_RETENTION_DAYS; 0 disables)."""
    return traces_purge_expired()


@shared_task
def rollup_asset_usage() -> dict:
    """The beat job ``rollup-asset-usage``: roll closed days up for impact reports."""
    from django.conf import settings

    from inspector.services.rollups import usage_rollup

    return usage_rollup(max_seconds=settings.OPS_ROLLUP_MAX_SECONDS).as_dict()
