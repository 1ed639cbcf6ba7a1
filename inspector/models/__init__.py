from inspector.models.assets import Asset, AssetVersion
from inspector.models.rollups import RollupDay, TraceRollup, UsageRollup
from inspector.models.traces import StagePayload, StageRun, Trace, TraceAssetUsage

__all__ = ["Asset", "AssetVersion", "RollupDay", "StagePayload", "StageRun", "Trace", "TraceAssetUsage",
           "TraceRollup", "UsageRollup"]
