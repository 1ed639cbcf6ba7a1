from inspector.services.assets import (
    asset_create,
    asset_delete,
    asset_update,
    asset_version_create,
    asset_version_publish,
    asset_version_rollback,
)
from inspector.services.traces import trace_ingest

__all__ = [
    "asset_create",
    "asset_delete",
    "asset_update",
    "asset_version_create",
    "asset_version_publish",
    "asset_version_rollback",
    "trace_ingest",
]
