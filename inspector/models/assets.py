"""Versioned pipeline assets (SPEC §3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from inspector.contracts import ASSET_TYPES
from kernel.tenancy import SHARED_TENANT


class AssetType(models.TextChoices):
    PROMPT = "prompt"
    POLICY = "policy"
    MAPPING = "mapping"
    QUERY = "query"
    SOURCE = "source"
    SCHEMA = "schema"
    RESOLVER = "resolver"
    SCREEN = "screen"
    PRICE_TABLE = "price_table"


assert tuple(AssetType.values) == ASSET_TYPES  # one source of truth for the type list


class Asset(models.Model):
    """A named asset of one type within a tenant; its content lives in versions."""

    tenant_id = models.CharField(max_length=64, default=SHARED_TENANT, db_index=True)
    asset_type = models.CharField(max_length=16, choices=AssetType.choices)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["asset_type", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "asset_type", "name"], name="asset_unique_name_per_type"),
        ]
        indexes = [models.Index(fields=["asset_type", "name"], name="asset_type_name_idx")]

    def __str__(self) -> str:
        return f"{self.asset_type}:{self.name}"

    @property
    def published_version(self) -> AssetVersion | None:
        return self.versions.filter(status=AssetVersion.Status.PUBLISHED).first()


class AssetVersion(models.Model):
    """An immutable numbered version of an asset's spec.

    Only ``status`` and its timestamps change after creation, and only through
    the services in ``inspector.services.assets``.
    """

    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"
        ARCHIVED = "archived"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    spec = models.JSONField(default=dict)
    note = models.TextField(blank=True, default="")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    copied_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asset_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "version"], name="assetversion_unique_number"),
            models.UniqueConstraint(
                fields=["asset"], condition=Q(status="published"), name="assetversion_one_published"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="assetversion_number_positive"),
        ]
        permissions = [
            ("publish_assetversion", "Can publish or roll back asset versions"),
        ]

    def __str__(self) -> str:
        return f"{self.asset.asset_type}:{self.asset.name}@{self.version}"

    @property
    def ref(self) -> str:
        return f"{self.asset.name}@{self.version}"
