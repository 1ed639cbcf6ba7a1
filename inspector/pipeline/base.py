"""What a stage handler receives and returns.

A handler is any callable ``handler(request: StageRequest) -> HandlerResult | StageOutput``
named by dotted path in ``settings.OPS_STAGE_HANDLERS``. It may raise: the
executor turns any exception into error diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from inspector.contracts import ExecutionContext, Reference, StageInput, StageOutput


@dataclass(frozen=True)
class ResolvedAsset:
    """One asset version a stage applies: identity plus its validated spec."""

    asset_type: str
    name: str
    version: int
    status: str
    spec: dict[str, Any]
    version_id: int | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class AssetLookup(Protocol):
    def get(self, asset_type: str, name: str | None = None) -> ResolvedAsset: ...


@dataclass
class StageRequest:
    stage_input: StageInput
    context: ExecutionContext
    assets: AssetLookup
    # Filled by handlers through ``use``: what the stage really applied.
    applied: dict[str, ResolvedAsset] = field(default_factory=dict)

    def use(self, asset_type: str, name: str | None = None) -> ResolvedAsset:
        """Resolve an asset and record it as applied by this stage."""
        resolved = self.assets.get(asset_type, name)
        self.applied[asset_type] = resolved
        return resolved


@dataclass
class HandlerResult:
    """A handler's answer; the executor adds duration and diagnostics status."""

    result: dict[str, Any] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    empty_flags: dict[str, bool] = field(default_factory=dict)


class StageHandler(Protocol):
    def __call__(self, request: StageRequest) -> HandlerResult | StageOutput: ...


class HandlerError(Exception):
    """A handler's own, expected failure; its message goes to the diagnostics as is."""
