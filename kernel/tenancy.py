"""The shared tenant: its assets are resolved by runs of every tenant, and it is the tenant of a request that names none."""

from __future__ import annotations

SHARED_TENANT = "default"
