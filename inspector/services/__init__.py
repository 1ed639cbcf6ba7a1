from inspector.services.assets import (
    asset_create,
    asset_delete,
    asset_delete_refusal,
    asset_update,
    asset_version_create,
    asset_version_delete_refusal,
    asset_version_publish,
    asset_version_publish_selected,
    asset_version_rollback,
    asset_versions_delete,
)
from inspector.services.traces import (
    BatchIngest,
    BatchItem,
    trace_ingest,
    trace_ingest_batch,
)

__all__ = [
    "BatchIngest",
    "BatchItem",
    "asset_create",
    "asset_delete",
    "asset_delete_refusal",
    "asset_update",
    "asset_version_create",
    "asset_version_delete_refusal",
    "asset_version_publish",
    "asset_version_publish_selected",
    "asset_version_rollback",
    "asset_versions_delete",
    "trace_ingest",
    "trace_ingest_batch",
]
