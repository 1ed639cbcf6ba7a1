from inspector.models.assets import Asset, AssetVersion
from inspector.models.traces import StagePayload, StageRun, Trace, TraceAssetUsage

__all__ = ["Asset", "AssetVersion", "StagePayload", "StageRun", "Trace", "TraceAssetUsage"]
