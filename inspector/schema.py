"""The OpenAPI schema generator's view inspector."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers
from rest_framework.fields import empty


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, with exact ``required`` lists in answers and the FilterSet parameters of list views.

    List views whose selector applies ``filterset_class`` set ``filter_backends = []``,
    which would leave their query parameters out of the schema: out of the docs
    and of the schemathesis run.
    """

    def get_filter_backends(self) -> list[Any]:
        backends = super().get_filter_backends()
        if not backends and self._is_list_view() and getattr(self.view, "filterset_class", None):
            return [DjangoFilterBackend]
        return backends

    def _map_basic_serializer(self, serializer, direction):
        """In an answer, every key the serializer always writes is required (drf-spectacular lists only some).

        drf-spectacular requires the read-only and the required fields; a model
        field with a default is neither, yet always answered. Fields that may
        be left out (``required=False`` on a declared field, the ``Optional…``
        fields of inspector/serializers.py) stay optional.
        """
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "response":
            return schema
        serializer = force_instance(serializer)
        answered = {name for name, field in serializer.fields.items() if _always_answered(serializer, name, field)}
        required = (set(schema.get("required", [])) | answered) & set(schema.get("properties", {}))
        if required:
            schema["required"] = sorted(required)
        return schema


def _always_answered(serializer: serializers.Serializer, name: str, field: serializers.Field) -> bool:
    if field.write_only or getattr(field, "left_out_when_none", False):
        return False
    if name not in serializer._declared_fields:
        # Built from a model field: the instance always has the attribute.
        return isinstance(serializer, serializers.ModelSerializer)
    return field.required or field.default is not empty
