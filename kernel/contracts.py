"""The base of every pydantic contract in the product (SPEC §2: no field is ever null)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class Contract(BaseModel):
    """Base for all contracts: nulls become defaults, unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls_with_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned = dict(data)
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key in cleaned and cleaned[key] is None and not field.is_required():
                del cleaned[key]
        return cleaned
