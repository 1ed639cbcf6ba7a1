"""Bodies of the asset registry endpoints (``/asset-registry/assets``) as pydantic contracts.

Validated in ``inspector/api.py`` with ``model_validate`` like every other
request body; a ``ValidationError`` answers 400 ``{"dotted.path": [message]}``
(``inspector/api_errors.py``). A spec is checked against its asset type by the
service (``inspector/asset_specs.py``), which knows the type.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field

from inspector.contracts import ASSET_NAME_MAX, INT_COLUMN_MAX, AssetTypeName
from kernel.contracts import Contract
from kernel.tenancy import SHARED_TENANT

AssetName = Annotated[str, Field(min_length=1, max_length=ASSET_NAME_MAX, pattern=r"^[A-Za-z0-9_.\-]+$")]
Note = Annotated[str, Field(max_length=2000)]
PositiveVersion = Annotated[int, Field(ge=1, le=INT_COLUMN_MAX)]


class AssetCreate(Contract):
    """Body of ``POST /asset-registry/assets``."""

    tenant_id: str = Field(default=SHARED_TENANT, min_length=1, max_length=64)
    asset_type: AssetTypeName
    name: AssetName
    description: str = ""
    spec: dict[str, Any] | None = Field(default=None, description="When given, version 1 is created as a draft.")
    note: Note = ""


class AssetUpdate(Contract):
    """Body of ``PATCH /asset-registry/assets/{id}``: only the description is editable.

    Other keys are ignored rather than refused, so a client may send back the
    asset as it read it with a new description; the identity never changes.
    """

    model_config = ConfigDict(extra="ignore")

    description: str


class VersionCreate(Contract):
    """Body of ``POST /asset-registry/assets/{id}/versions``: the next draft."""

    spec: dict[str, Any]
    note: Note = ""


class VersionNumber(Contract):
    """Body of ``…/publish`` and ``…/rollback``: the version to publish or to copy."""

    version: PositiveVersion
    note: Note = ""
