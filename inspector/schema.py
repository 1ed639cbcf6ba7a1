"""The OpenAPI schema generator's view inspector."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, documenting the FilterSet parameters of list views whose selector applies it.

    Those views set ``filter_backends = []`` (the selector applies
    ``filterset_class`` itself), which would leave their query parameters out
    of the schema: out of the docs and of the schemathesis run.
    """

    def get_filter_backends(self) -> list[Any]:
        backends = super().get_filter_backends()
        if not backends and self._is_list_view() and getattr(self.view, "filterset_class", None):
            return [DjangoFilterBackend]
        return backends
