"""Which tenants a user belongs to. Superusers see every tenant without a membership."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TenantMembership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_memberships")
    tenant_id = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id", "tenant_id"]
        constraints = [models.UniqueConstraint(fields=["user", "tenant_id"], name="membership_unique_user_tenant")]

    def __str__(self) -> str:
        return f"{self.user} ∈ {self.tenant_id}"
